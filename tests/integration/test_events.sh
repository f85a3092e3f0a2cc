#!/bin/bash
# The live feed, GET /v1/events (server-sent events): a subscriber sees a deploy's
# steps, machine transitions, an incident opening and the actions in evidence as they
# happen, without polling; on TCP it needs a token like any request; the daemon stops
# cleanly with subscribers still connected.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=26500
. "$(dirname "$0")/../lib/deploy.sh"
ADDR=127.0.0.1:26590
cat > "$CONFIG" <<YAML
ports: {from: 26500, to: 26549}
api: {listen: $ADDR}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    deploy: {smoke: 300ms, watch: 300ms, timeout: 10s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
checks:
  gone:
    tcp: 127.0.0.1:1
    interval: 200ms
    timeout: 150ms
    failures: 2
YAML
start_daemon
PIDS=()
subscribe() { # subscribe FILE [CURL_ARGS...]: a subscriber writing to FILE
	local f=$1; shift
	curl -sN "$@" > "$f" 2>/dev/null &
	PIDS+=($!)
}
has() { grep -q "$2" "$1"; }
subscribe "$T/ev" --unix-socket "$STATE/opsdeck.sock" http://x/v1/events
check "a subscriber is greeted" wait_for 10 has "$T/ev" '^event: hello'
check "a deploy" od deploy web-app --artifact "$T/good"
check "its steps arrive as they happen, up to live" wait_for 10 has "$T/ev" '"step":"cutover","status":"ok"'
check "machine transitions arrive" wait_for 10 has "$T/ev" '"app":"web-app","state":"started"'
check "the incident of a failing check arrives" wait_for 10 has "$T/ev" '"name":"gone".*"kind":"opened"'
check "the deploy's evidence arrives" wait_for 10 has "$T/ev" '"action":"deploy.create".*"outcome":"ok"'
check "events are well-formed (event: then data: JSON)" bash -c "
    awk '/^data: /{sub(/^data: /, \"\"); print}' '$T/ev' | jq -e . >/dev/null"

code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 "http://$ADDR/v1/events")
check "on TCP without a token: 401, no stream" test "$code" = 401
deploy_ended() { [ "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM deploy_locks")" = 0 ]; }
wait_for 20 deploy_ended || fail "the deploy did not end"
TOKEN=$(od actor add watcher --role viewer 2>/dev/null)
subscribe "$T/ev2" -H "Authorization: Bearer $TOKEN" "http://$ADDR/v1/events"
check "on TCP with a viewer's token: greeted" wait_for 10 has "$T/ev2" '^event: hello'
m=$(machines_q '[.machines[] | select(.state == "started")][0].id')
od machine restart "$m" >/dev/null
check "both subscribers see the restart" wait_for 10 bash -c \
    "grep -q '\"machine\":\"$m\",\"app\":\"web-app\",\"state\":\"stopping\"' '$T/ev' &&
     grep -q '\"machine\":\"$m\",\"app\":\"web-app\",\"state\":\"stopping\"' '$T/ev2'"
check "and the new subscriber got no backlog (no deploy steps from before it)" \
    bash -c "! grep '\"step\":' '$T/ev2' >&2"
check "the daemon stops with both still connected" stop_daemon
ended() { ! kill -0 "${PIDS[0]}" 2>/dev/null && ! kill -0 "${PIDS[1]}" 2>/dev/null; }
check "and their streams end" wait_for 10 ended
kill "${PIDS[@]}" 2>/dev/null || true
finish
