#!/bin/bash
# HAProxy in front of an app: clients use one public address while releases come and
# go. Clients count every answer through each deploy: a release that crashes at start
# costs 0 requests; a healthy cutover costs 0 and drains the old servers; a release
# that exits inside the watch window costs 0 (the warm previous release takes its
# requests); one answering 5xx on 30 % of requests, or slowly, is flipped back by
# rollback_on. HAProxy killed is restarted with its routing.
. "$(dirname "$0")/../lib/daemon.sh"
PUB=26180
make_art() { # make_art NAME FLAGS...
	local dir="$T/$1"; shift
	mkdir -p "$dir"
	printf '#!/bin/sh\nexec "%s" --orders-ms 5 --app-version "$(cat VERSION)" %s "$@"\n' \
	    "$DEMO_APP" "$*" > "$dir/start.sh"
	chmod +x "$dir/start.sh"
	basename "$dir" > "$dir/VERSION"
}
make_art good
make_art good2
make_art crash --exit-at-start 1
make_art crashlive --crash-after 4
make_art err30 --error-rate 0.3
make_art slow --orders-ms 1500
cat > "$CONFIG" <<YAML
ports: {from: 26100, to: 26179}
router: {drain_timeout: 10s}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    routes: ["/api/orders", "/api/tiles/:id"]
    deploy: {smoke: 1s, watch: 6s, timeout: 10s}
    rollback_on: {error_rate: 5%, p95: 1s, window: 5s, min_requests: 10}
    processes:
      web:
        command: ["\${OPSDECK_RELEASE_DIR}/start.sh"]
        port: auto
        public: 127.0.0.1:$PUB
YAML

# Clients: the tests' load generator, 8 keep-alive connections at 300 requests a
# second through the public address; it counts every answer and error in a file.
# Like curl and browsers, it sends a GET once more on a new connection when its
# reused keep-alive connection closed before any byte of the answer (RFC 9112,
# 9.3.1); those are counted apart and printed, not hidden.
LOADGEN="$OPSDECK_BUILD/loadgen"
clients_start() {
	rm -f "$T/load.json"
	"$LOADGEN" --url "http://127.0.0.1:$PUB/api/orders" --out "$T/load.json" \
	    --conns 8 --rate 300 &
	LPID=$!
}
answers() { jq -r .requests "$T/load.json" 2>/dev/null || echo 0; }
clients_stop() {
	kill -TERM "$LPID"; wait "$LPID" || fail "the load generator failed"
	TOTAL=$(jq -r .requests "$T/load.json")
	BAD=$(jq -r .failed "$T/load.json")
	# a GET whose reused connection closed before any answer is sent once more on a
	# new one, as curl and browsers do; say how many
	echo "# $TOTAL requests, $BAD failed, $(jq -r .retried "$T/load.json") retried on a new connection"
	[ "$BAD" = 0 ] || jq -c . "$T/load.json"
}
at_least() { [ "$(answers)" -ge "$1" ]; }
no_lock() { [ "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM deploy_locks")" = 0 ]; }
rel() { od release web-app "$1" --json | jq -r "$2"; }

start_daemon
check "status shows the router" \
    test "$(status_q '.router.driver + " " + (.router.backends[0].public)')" = "haproxy 127.0.0.1:$PUB"
check "v1 goes live" od deploy web-app --artifact "$T/good"
check "HAProxy serves it on the public address" \
    test "$(curl -fsS "http://127.0.0.1:$PUB/version" | jq -r .version)" = good
wait_for 30 no_lock || fail "v1's watch did not end"

# 1. crashes at start: never gets traffic.
clients_start
wait_for 30 at_least 50 || fail "clients got no answers"
out=$(od deploy web-app --artifact "$T/crash" 2>&1) && rc=0 || rc=$?
check "a release that crashes at start fails (exit 1)" test "$rc" = 1
n=$(answers); wait_for 30 at_least $((n + 50)) || fail "no answers after"
clients_stop
check "crash at start: 0 of $TOTAL requests failed" test "$BAD" = 0

# 2. a healthy cutover: 0 failed, old servers drained, then stopped.
clients_start
wait_for 30 at_least 50 || fail "clients got no answers"
check "v3 goes live" od deploy web-app --artifact "$T/good2"
wait_for 30 no_lock || fail "v3's watch did not end"
clients_stop
check "healthy cutover: 0 of $TOTAL requests failed" test "$BAD" = 0
check "the old servers drained before they stopped" \
    test "$(rel v3 '.timeline[] | select(.step=="stop_old") | .detail')" = "drained: no request in flight"
check "the public address serves v3" \
    test "$(curl -fsS "http://127.0.0.1:$PUB/version" | jq -r .version)" = good2

# 3. a live release exits inside the watch window: the warm servers take over.
clients_start
wait_for 30 at_least 50 || fail "clients got no answers"
od deploy web-app --artifact "$T/crashlive" >/dev/null 2>&1 || true
rolled4() { [ "$(rel v4 .status)" = rolled_back ]; }
check "v4, which exits 4 s after start, is rolled back" wait_for 30 rolled4
n=$(answers); wait_for 30 at_least $((n + 50)) || fail "no answers after"
clients_stop
check "exit in the watch window: 0 of $TOTAL requests failed" test "$BAD" = 0
wait_for 30 no_lock || fail "v4's deploy did not end"

# 4. 5xx on 30 % after cutover: flipped back by rollback_on.error_rate.
clients_start
wait_for 60 at_least 2000 || fail "clients got too few answers"
od deploy web-app --artifact "$T/err30" >/dev/null 2>&1 || true
rolled5() { [ "$(rel v5 .status)" = rolled_back ]; }
check "v5 (30 % 5xx) is rolled back" wait_for 30 rolled5
n=$(answers); wait_for 60 at_least $((n + 2000)) || fail "no answers after"
clients_stop
check "5xx release: $BAD of $TOTAL requests failed, at most 1 %" \
    test $((BAD * 100)) -le "$TOTAL"
check "the timeline names the rule and what was measured" \
    grep -q "5xx rate .* is above rollback_on.error_rate 5.0%" <<<"$(rel v5 '.timeline[] | select(.step=="detected") | .detail')"
check "detection and recovery are in the timeline" \
    test "$(rel v5 '[.timeline[].step] | map(select(.=="detected" or .=="recovered")) | join(",")')" = "detected,recovered"
wait_for 30 no_lock || fail "v5's deploy did not end"

# 5. p95 rises to 1.5 s: flipped back by rollback_on.p95.
clients_start
wait_for 30 at_least 50 || fail "clients got no answers"
od deploy web-app --artifact "$T/slow" >/dev/null 2>&1 || true
rolled6() { [ "$(rel v6 .status)" = rolled_back ]; }
check "v6 (p95 1.5 s) is rolled back" wait_for 30 rolled6
check "on its p95" \
    grep -q "p95 latency .* is above rollback_on.p95 1000ms" <<<"$(rel v6 '.timeline[] | select(.step=="detected") | .detail')"
clients_stop
wait_for 30 no_lock || fail "v6's deploy did not end"

# 5b. a canary: 50 % of the traffic for a watch window, then the full cutover.
clients_start
wait_for 30 at_least 50 || fail "clients got no answers"
check "v7 starts as a 50 % canary" od deploy web-app --artifact "$T/good" --canary 50 --detach
in_canary() { [ "$(rel v7 '.timeline[-1] | .step + " " + .status')" = "canary running" ]; }
check "its canary step runs" wait_for 30 in_canary
: > "$T/versions"
for _ in $(seq 40); do curl -fsS "http://127.0.0.1:$PUB/version" | jq -r .version >> "$T/versions"; done
check "during the canary both releases answer" \
    test "$(sort -u "$T/versions" | tr '\n' ' ')" = "good good2 "
live7() { [ "$(rel v7 .status)" = live ]; }
check "after the canary window v7 is cut over" wait_for 30 live7
wait_for 30 no_lock || fail "v7's deploy did not end"
clients_stop
check "canary: 0 of $TOTAL requests failed" test "$BAD" = 0
check "the timeline has the canary before the cutover" \
    test "$(rel v7 '[.timeline[].step] | join(",")')" = "prepare,start,health,smoke,canary,cutover,watch,stop_old"

# 6. HAProxy killed: restarted, with the live release behind it.
pid=$(status_q .router.pid)
kill -KILL "$pid"
restarted() { p=$(status_q .router.pid); [ "$p" != null ] && [ "$p" != "$pid" ] &&
    curl -fsS "http://127.0.0.1:$PUB/version" >/dev/null; }
check "HAProxy killed is restarted by opsdeck" wait_for 20 restarted
check "and serves the live release (v7) again" \
    test "$(curl -fsS "http://127.0.0.1:$PUB/version" | jq -r .version)" = good
check "its restarts are counted" test "$(status_q .router.restarts)" -ge 1

# /metrics and top.
check "/metrics counts requests per release and route" \
    grep -q '^opsdeck_http_requests_total{app="web-app",release="v3",route="/api/orders",class="2xx"} [0-9]' \
    <<<"$(curl -s --unix-socket "$STATE/opsdeck.sock" http://x/metrics)"
check "/metrics has the latency histogram" \
    grep -q '^opsdeck_http_request_duration_seconds_bucket{app="web-app",release="v3",route="/api/orders",le="+Inf"}' \
    <<<"$(curl -s --unix-socket "$STATE/opsdeck.sock" http://x/metrics)"
check "top --json has the route of v5's errors" \
    test "$(od top web-app --json --window 3600 | jq '[.routes[] | select(.release==5 and .route=="/api/orders")][0].status["5xx"] > 0')" = true

stop_daemon
check "HAProxy stops with opsdeck" test -z "$(pgrep -f "$STATE/router/haproxy.cfg")"
finish
