#!/bin/bash
# An app's own health checks are checks too: each process group with a health check
# shows in `opsdeck checks` as APP/PROCESS (kind health) and goes through the same
# incidents and notices. The demo app's /health answers 503 from 8 s after its
# start: one incident, exactly one notice; the machine restarted (healthy again for
# 8 s): resolved, one resolve notice; then it fails again (a second incident); the
# machine stopped by the operator: not judged, and the incident resolves.
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"

HOOK_PORT=28461
HOOKS="$T/hooks.log"
HOOKD="$OPSDECK_BUILD/hookd"
HOOK_PID=

config() { # config EXTRA_ARG...
	local args="" a
	for a in "$@"; do args="$args, \"$a\""; done
	cat > "$CONFIG" <<EOF
ports: {from: 28462, to: 28469}
apps:
  shop:
    processes:
      web:
        command: ["$DEMO_APP"$args]
        port: auto
        health: {path: /health, interval: 200ms, timeout: 500ms, grace: 0s, failures: 2}
channels:
  hook: {webhook: http://127.0.0.1:$HOOK_PORT/hook}
EOF
}

"$HOOKD" --port "$HOOK_PORT" --out "$HOOKS" &
HOOK_PID=$!
eval "lib_$(declare -f finish)"
finish() { [ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null; lib_finish; }
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$HOOK_PORT/ready" ||
    die "the webhook receiver did not start"

check_q() { od checks --json | jq -r ".checks[] | select(.name == \"shop/web\") | $1"; }
inc_q() { od incidents --all --json | jq -r "$1"; }
notices() { # notices EVENT: how many the receiver got for shop/web
	[ -f "$HOOKS" ] || { echo 0; return; }
	jq -Rn "[inputs | fromjson? | select(.incident.name == \"shop/web\" and .event == \"$1\")] | length" "$HOOKS"
}
is() { [ "$(eval "$1")" = "$2" ]; }	# is "COMMAND LINE" VALUE

config --fail-health-after 8
start_daemon
check "the health check is listed as a check of kind health" \
    is "check_q .kind" health
check "passing while the app's /health does" wait_for 30 is "check_q .status" up
check "a failing /health opens an incident" wait_for 30 is "check_q .status" down
check "the receiver gets exactly one 'opened' notice" wait_for 20 is "notices opened" 1
detail=$(check_q .detail)
check "the check says which machine fails and why ($detail)" \
    grep -q "answered 503" <<<"$detail"
check "the incident is critical" \
    is "inc_q '.incidents[] | select(.name == \"shop/web\") | .severity'" critical
sleep 1	# more failing runs: still one incident, one notice
check "still one incident and one notice after more failing runs" \
    is "echo \$(inc_q '[.incidents[] | select(.name == \"shop/web\")] | length') \$(notices opened)" "1 1"

id=$(od machines --json | jq -r '.machines[0].id')
od machine restart "$id" > /dev/null
check "the machine restarted and healthy: the incident resolves" \
    wait_for 30 is "inc_q '.incidents[] | select(.name == \"shop/web\") | .state'" resolved
check "the receiver gets one 'resolved' notice" wait_for 20 is "notices resolved" 1
check "failing again: a second incident, a second notice" \
    wait_for 30 is "notices opened" 2

od machine stop "$id" > /dev/null
check "stopped by the operator: not judged" \
    wait_for 20 bash -c "'$OPSDECK' --state '$STATE' checks --json | jq -r '.checks[0].detail' | grep -q 'not judged'"
check "and its incident resolves" wait_for 20 is "notices resolved" 2
check "the daemon stops cleanly" stop_daemon
