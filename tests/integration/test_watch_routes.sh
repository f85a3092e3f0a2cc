#!/bin/bash
# Log-derived rules: route checks judge the router's request metrics (from HAProxy's
# request log) through the same pipeline as probes. A release answering 5xx on 30 %
# of its requests breaks "[ERROR_RATE] < 2%" of its route: one incident, one notice
# to the webhook receiver; its p95 rule holds; with no traffic (fewer requests than
# min_requests in the window) the route is not judged, and the incident resolves.
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"

PUB=28421
HOOK_PORT=28422
HOOKS="$T/hooks.log"
HOOKD="$OPSDECK_BUILD/hookd"
LOADGEN="$OPSDECK_BUILD/loadgen"
HOOK_PID=
LPID=

cat > "$CONFIG" <<YAML
ports: {from: 28430, to: 28449}
apps:
  web-app:
    routes: ["/api/orders", "/api/tiles/:id"]
    processes:
      web:
        command: ["$DEMO_APP", "--error-rate", "0.3"]
        port: auto
        public: 127.0.0.1:$PUB
        health: {path: /health, interval: 200ms, timeout: 500ms}
checks:
  orders-errors:
    app: web-app
    route: /api/orders
    window: 3s
    min_requests: 20
    interval: 500ms
    failures: 2
    severity: warning
    conditions: ["[ERROR_RATE] < 2%"]
  all-p95:
    app: web-app
    route: "*"
    window: 3s
    interval: 500ms
    conditions: ["[P95] < 5s"]
channels:
  hook: {webhook: http://127.0.0.1:$HOOK_PORT/hook}
YAML

eval "lib_$(declare -f finish)"
finish() {
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	[ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null
	lib_finish
}

check "a config with route checks is valid" od config check -c "$CONFIG"
"$HOOKD" --port "$HOOK_PORT" --out "$HOOKS" &
HOOK_PID=$!
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$HOOK_PORT/ready" || die "hookd did not start"
start_daemon
serving() { curl -s -o /dev/null "http://127.0.0.1:$PUB/health"; }
wait_for 30 serving || die "the app is not served on its public address"

cstate() { od checks --json | jq -r ".checks[] | select(.name == \"$1\") | .status"; }
cdetail() { od checks --json | jq -r ".checks[] | select(.name == \"$1\") | .detail"; }
notices() { # notices NAME EVENT: how many the receiver got
	[ -f "$HOOKS" ] || { echo 0; return; }
	jq -Rn "[inputs | fromjson? | select(.incident.name == \"$1\" and .event == \"$2\")] | length" "$HOOKS"
}
is() { [ "$(eval "$1")" = "$2" ]; }

check "route checks are listed as kind route, the app's health check as health" \
    test "$(od checks --json | jq -r '[.checks[] | "\(.name)=\(.kind)"] | join(",")')" = \
    "orders-errors=route,all-p95=route,web-app/web=health"
not_judged() { cdetail orders-errors | grep -q 'fewer than min_requests 20: not judged'; }
check "without traffic a route is not judged" wait_for 10 not_judged

"$LOADGEN" --url "http://127.0.0.1:$PUB/api/orders" --out "$T/load.json" --conns 4 --rate 100 &
LPID=$!
check "30 % 5xx on /api/orders opens an incident" wait_for 30 is "cstate orders-errors" down
check "its detail shows the measured rate: $(cdetail orders-errors)" \
    bash -c "grep -q '^\[ERROR_RATE\] ([0-9.]*) < 2%' <<< '$(cdetail orders-errors)'"
check "the incident is a warning, from source check" \
    test "$(od incidents --json | jq -r '.incidents[] | select(.name == "orders-errors") | "\(.severity) \(.state)"')" = "warning open"
check "exactly one notice reaches the webhook" wait_for 20 is "notices orders-errors opened" 1
check "the p95 rule on all routes holds" is "cstate all-p95" up
kill "$LPID"; wait "$LPID" 2>/dev/null; LPID=
check "with the traffic gone the incident resolves" wait_for 30 is "cstate orders-errors" up
check "and the resolve is notified" wait_for 20 is "notices orders-errors resolved" 1
check "still one opened notice" is "notices orders-errors opened" 1

# Bad input: a route the app does not have, no app; then (once the config is whole)
# the wrong placeholders and a bad percentage.
cat > "$T/bad.yaml" <<YAML
apps:
  web-app:
    routes: ["/api/orders"]
    processes:
      web: {command: ["$DEMO_APP"], port: auto, public: 127.0.0.1:$PUB}
checks:
  a: {app: web-app, route: /api/nope, conditions: ["[P95] < 5s"]}
  b: {route: "*", conditions: ["[P95] < 5s"]}
YAML
if od config check -c "$T/bad.yaml" 2> "$T/e1"; then rc=0; else rc=$?; fi
check "a bad route check config: exit 2" test "$rc" = 2
check "a route not among the app's routes is named at its place" \
    grep -q "bad.yaml:7:28: checks.a.route: '/api/nope' is not a route of app web-app" "$T/e1"
check "a route check without app says so" grep -q "bad.yaml:8:6: checks.b: a route check needs app:" "$T/e1"
sed -i '7,8d' "$T/bad.yaml"
cat >> "$T/bad.yaml" <<'YAML'
  c: {app: web-app, route: "*", conditions: ["[STATUS] == 200"]}
  d: {http: "http://127.0.0.1:1/", conditions: ["[P95] < 5s"]}
  e: {app: web-app, route: "*", conditions: ["[ERROR_RATE] < 2x"]}
YAML
if od config check -c "$T/bad.yaml" 2> "$T/e1"; then rc=0; else rc=$?; fi
check "wrong placeholders: exit 2" test "$rc" = 2
check "a probe placeholder in a route check is refused" \
    grep -q "bad.yaml:7:46: checks.c.conditions\[0\]: .*a route check judges request metrics" "$T/e1"
check "a route placeholder in an http check is refused" \
    grep -q "bad.yaml:8:49: checks.d.conditions\[0\]: .*are for route checks" "$T/e1"
check "a bad percentage says how to write one" grep -q "column 16: '2x' is not a percentage" "$T/e1"
if od check run orders-errors -c "$CONFIG" 2> "$T/e2"; then rc=0; else rc=$?; fi
check "check run of a route check explains itself (exit 2)" \
    bash -c "[ $rc = 2 ] && grep -q 'is a route check' '$T/e2'"
finish
