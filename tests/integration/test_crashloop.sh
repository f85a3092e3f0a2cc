#!/bin/bash
# An app that exits 1 at start (release v72 in the log) ends failed after the crash-loop
# limit, with its exit code visible; backoff spaces the restarts; `machine start` retries.
. "$(dirname "$0")/../lib/daemon.sh"

cat > "$CONFIG" <<YAML
ports: {from: 24200, to: 24299}
apps:
  hotdash-staging:
    processes:
      web:
        command: ["$DEMO_APP", "--exit-at-start", "1"]
        port: auto
        restart: {backoff_min: 100ms, backoff_max: 400ms, crashloop_limit: 3, crashloop_window: 30s}
YAML

start_daemon
failed() { [ "$(machines_q '.machines[0].state')" = failed ]; }
check "the machine ends failed" wait_for 15 failed
check "its exit code 1 is in status --json" \
    test "$(status_q '.apps[0].machines[0].exit_code')" = 1
check "it was restarted exactly crashloop_limit times" \
    test "$(status_q '.apps[0].machines[0].restart_count')" = 3
check "no process runs for it" test -z "$(fleet_pids)"
id=$(machines_q '.machines[0].id')
# Backoff: the restarts are 100, 200, 400 ms apart: at least 0.6 s in all.
span=$(sqlite3 "$STATE/opsdeck.db" "SELECT max(at) - min(at) FROM machine_events
    WHERE machine_id='$id' AND state='starting'")
check "backoff spaced the restarts (span ${span}ms >= 600ms)" test "$span" -ge 600
check "a crash-loop event says what to do" test "$(sqlite3 "$STATE/opsdeck.db" \
    "SELECT count(*) FROM events WHERE kind='crash-loop' AND detail LIKE '%opsdeck machine start $id%'")" = 1
check "the last log lines carry the app's error" bash -c \
    "'$OPSDECK' --state '$STATE' logs hotdash-staging | grep -q 'not exported'"
sleep 0.5
check "no restart happens after failed" \
    test "$(status_q '.apps[0].machines[0].restart_count')" = 3
check "machine start tries again" od machine start "$id"
restarted() { [ "$(status_q '.apps[0].machines[0].restart_count')" -gt 3 ]; }
check "and it restarts" wait_for 5 restarted
check "and fails again" wait_for 15 failed
stop_daemon
