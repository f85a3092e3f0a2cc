#!/bin/bash
# The example fleet's shape under the real daemon: machines start, a killed app comes
# back with restart_count + 1, operator actions work, SIGTERM leaves nothing behind.
. "$(dirname "$0")/../lib/daemon.sh"

cat > "$CONFIG" <<YAML
ports: {from: 24100, to: 24199}
defaults:
  restart: {backoff_min: 100ms, backoff_max: 1s, crashloop_limit: 5, crashloop_window: 30s}
  stop_timeout: 3s
apps:
  hotdash-staging:
    stage: staging
    env: {DEMO_NAME: hotdash-staging, DEMO_VERSION: v71}
    processes:
      web:
        command: ["$DEMO_APP"]
        port: auto
  hotdash-chatwoot:
    env: {DEMO_NAME: hotdash-chatwoot}
    processes:
      web:
        command: ["$DEMO_APP", "--health-json"]
        port: auto
      worker:
        command: ["$DEMO_APP", "--worker"]
YAML

start_daemon
check "all three machines reach started" wait_for 10 all_started
check "status lists both apps" \
    test "$(status_q '[.apps[].name] | sort | join(",")')" = "hotdash-chatwoot,hotdash-staging"
check "the staging app is in stage staging" \
    test "$(status_q '.apps[] | select(.name=="hotdash-staging") | .stage')" = staging

web=$(machines_q '.machines[] | select(.app=="hotdash-chatwoot" and .process=="web") | .id')
port=$(machines_q ".machines[] | select(.id==\"$web\") | .port")
pid=$(machines_q ".machines[] | select(.id==\"$web\") | .pid")
check "chatwoot web answers its health JSON on its port" \
    test "$(curl -fsS "http://127.0.0.1:$port/health")" = '{"queue_services":"ok","data_services":"ok"}'
check "the worker has no port" \
    test "$(machines_q '.machines[] | select(.process=="worker") | .port')" = null
check "people's table has a row per machine" \
    test "$(od machines | tail -n +2 | wc -l)" = 3
check "status table names the app" bash -c "$(declare -f od); OPSDECK=$OPSDECK STATE=$STATE; od status | grep -q '^hotdash-staging  *staging  *-  *1/1 started'"

# kill -9 of an app process: back with restart_count + 1 and a new pid.
kill -9 "$pid"
restarted() {
	[ "$(machines_q ".machines[] | select(.id==\"$web\") | \"\(.state) \(.restart_count)\"")" = "started 1" ]
}
check "a killed machine restarts with restart_count 1" wait_for 10 restarted
newpid=$(machines_q ".machines[] | select(.id==\"$web\") | .pid")
check "it has a new pid" test "$newpid" != "$pid"
check "its exit is recorded as signal 9" \
    test "$(machines_q ".machines[] | select(.id==\"$web\") | .signal")" = 9
check "it answers on the same port" wait_for 5 curl -fsS -o /dev/null "http://127.0.0.1:$port/health"

# Operator actions through the CLI.
check "machine stop" od machine stop "$web"
stopped() { [ "$(machines_q ".machines[] | select(.id==\"$web\") | .state")" = stopped ]; }
check "the machine is stopped" wait_for 5 stopped
check "no process is left for it" test -z "$(machine_pids "$web")"
check "machine start" od machine start "$web"
check "it is started again" wait_for 5 all_started
check "machine restart" od machine restart "$web"
check "it is started after restart" wait_for 5 all_started
out=$(od machine start nosuchmachine 2>&1) && rc=0 || rc=$?
check "an unknown machine id is an error (exit 1)" test "$rc" = 1
check "that error names the id" grep -q "no machine 'nosuchmachine'" <<<"$out"
out=$(od status nosuchapp 2>&1) && rc=0 || rc=$?
check "an unknown app is an error naming it" grep -q "no app 'nosuchapp'" <<<"$out"

# Logs: captured per machine, merged per app.
check "logs show the demo app's startup line" wait_for 5 bash -c \
    "'$OPSDECK' --state '$STATE' logs hotdash-chatwoot | grep -q 'listening on 127.0.0.1:$port'"
check "logs show the worker's output" wait_for 5 bash -c \
    "'$OPSDECK' --state '$STATE' logs hotdash-chatwoot --machine \
    \$('$OPSDECK' --state '$STATE' machines --json | jq -r '.machines[]|select(.process==\"worker\")|.id') | grep -q 'worker: processed job'"
check "logs -n 1 prints one line" test "$(od logs hotdash-staging -n 1 | wc -l)" = 1

# Evidence: every operator action went through the gate.
check "evidence recorded the actions" test "$(sqlite3 "$STATE/opsdeck.db" \
    "SELECT count(*) FROM evidence WHERE result='ok'")" -ge 3

# SIGTERM: every machine stopped, nothing left, exit 0.
pgids=$(for p in $(fleet_pids); do ps -o pgid= -p "$p"; done | sort -u)
stop_daemon && rc=0 || rc=$?
check "the daemon exits 0 on SIGTERM" test "$rc" = 0
check "no fleet process is left" test -z "$(fleet_pids)"
left=0
for g in $pgids; do kill -0 -- "-$g" 2>/dev/null && left=1; done
check "no process group of the fleet is left" test "$left" = 0
check "machines are recorded as stopped" test "$(sqlite3 "$STATE/opsdeck.db" \
    "SELECT group_concat(DISTINCT state) FROM machines")" = stopped
