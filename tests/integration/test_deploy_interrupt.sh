#!/bin/bash
# A deploy interrupted by the operator: a reload is refused while it runs (it would
# change the machines under it), and SIGTERM stops the daemon promptly in any step,
# the release command included; the next start recovers the deploy.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=25700
. "$(dirname "$0")/../lib/deploy.sh"

write_app_config 'release_command: ["/bin/sleep", "30"]'
start_daemon
od deploy web-app --artifact "$T/good" --detach >/dev/null
in_release_command() { pgrep -f '^/bin/sleep 30' >/dev/null; }
wait_for 10 in_release_command || fail "the release command did not start"
kill -HUP "$DAEMON_PID"
put_off() { [ "$(grep -c "a deploy of 'web-app' is running: reloading '.*' once it has ended" "$T/daemon.log")" -ge "$1" ]; }
check "a reload during a deploy is put off" wait_for 10 put_off 1
t0=$(date +%s%N)
stop_daemon && rc=0 || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM during release_command exits 0 (exit $rc)" test "$rc" = 0
# the command sleeps 30 s: the daemon did not wait for it
check "without waiting for the command (${ms} ms)" test "$ms" -lt 25000
check "the release command is not left running" bash -c "! pgrep -f '^/bin/sleep 30' >/dev/null"

write_app_config
start_daemon
check "the next start recovers the interrupted deploy" \
    test "$(release_q v1 .status)" = failed
check "and says so in its timeline" \
    test "$(release_q v1 '[.timeline[].step] | index("recovered") != null')" = true

# SIGTERM between the steps of a rolling deploy with count 2.
cat > "$CONFIG" <<YAML
ports: {from: 25700, to: 25799}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    deploy: {smoke: 2s, watch: 1s, timeout: 10s}
    processes:
      web:
        command: ["\${OPSDECK_RELEASE_DIR}/start.sh"]
        port: auto
        count: 2
        strategy: rolling
YAML
reload_daemon
od deploy web-app --artifact "$T/good" --detach >/dev/null
first_started() { [ "$(release_q v2 '[.timeline[].step] | index("start") != null')" = true ]; }
wait_for 15 first_started || fail "the rolling deploy did not start a machine"
stop_daemon && rc=0 || rc=$?
v2_status=$(sqlite3 "$STATE/opsdeck.db" "SELECT status FROM releases WHERE version = 2")
check "SIGTERM during a rolling deploy exits 0 (exit $rc)" test "$rc" = 0
check "without waiting for the deploy to end (v2 $v2_status)" test "$v2_status" != live
check "leaving no process" test -z "$(fleet_pids)"

# Ctrl-C on `opsdeck deploy` stops the following, not the deploy: it says so.
start_daemon
# A background job starts with SIGINT ignored: give it the default, as a terminal would.
env --default-signal=INT "$OPSDECK" --state "$STATE" deploy web-app \
    --artifact "$T/good" > "$T/ctrlc.out" 2> "$T/ctrlc.err" &
cpid=$!
following() { grep -q "v3: deploying" "$T/ctrlc.out"; }
wait_for 10 following
kill -INT "$cpid"
wait "$cpid" && rc=0 || rc=$?
check "Ctrl-C on deploy ends it by SIGINT, as a shell expects (exit $rc)" test "$rc" = 130
check "saying the deploy goes on in the daemon" grep -q "the deploy of web-app v3 goes on in the daemon" "$T/ctrlc.err"
goes_live() { [ "$(release_q v3 .status)" = live ]; }
check "which makes it live" wait_for 15 goes_live
# v3 is in its watch window: a reload now waits for the deploy's end, then runs.
cat >> "$CONFIG" <<YAML
  side-app:
    processes:
      worker: {command: ["$DEMO_APP", "--worker"]}
YAML
kill -HUP "$DAEMON_PID"
has_side() { od status --json | jq -e '.apps[] | select(.name == "side-app")' >/dev/null; }
no_side() { ! has_side; }
check "a reload in the watch window is put off" wait_for 10 put_off 2
check "and waits" no_side
check "and runs once the deploy has ended" wait_for 15 has_side
stop_daemon
