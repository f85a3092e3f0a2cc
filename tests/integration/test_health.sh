#!/bin/bash
# Health checks from the config: a healthy app shows passing, one that answers 503
# shows failing (after its grace period), a worker without a port has none.
. "$(dirname "$0")/../lib/daemon.sh"

cat > "$CONFIG" <<YAML
ports: {from: 24600, to: 24699}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1500ms, failures: 2}
apps:
  good:
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
      worker: {command: ["$DEMO_APP", "--worker"]}
  sick:
    processes:
      web: {command: ["$DEMO_APP", "--fail-health"], port: auto}
YAML

t0=$(date +%s%N)
start_daemon
health_of() { machines_q ".machines[] | select(.app==\"$1\" and .process==\"$2\") | .health"; }
is() { [ "$(health_of "$1" "$2")" = "$3" ]; }
check "a healthy web machine is passing" wait_for 5 is good web passing
check "a machine answering 503 turns failing" wait_for 5 is sick web failing
t1=$(date +%s%N)
check "not before its grace period ended" test $(( (t1 - t0) / 1000000 )) -ge 1500
check "a worker has no health check" is good worker unknown
id=$(machines_q '.machines[] | select(.app=="sick") | .id')
check "the failing answer is recorded" test "$(sqlite3 "$STATE/opsdeck.db" \
    "SELECT count(*) FROM machine_events WHERE machine_id='$id' AND detail LIKE 'health failing: GET /health answered 503'")" = 1
check "a failing health check does not restart the machine" \
    test "$(machines_q '.machines[] | select(.app=="sick") | .restart_count')" = 0
stop_daemon
