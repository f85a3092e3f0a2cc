#!/bin/bash
# Stopping: an app that ignores SIGTERM is killed after stop_timeout, its grandchildren
# (same process group) go with it, and the daemon can log JSON lines.
. "$(dirname "$0")/../lib/daemon.sh"

cat > "$CONFIG" <<YAML
ports: {from: 24800, to: 24899}
apps:
  stubborn:
    processes:
      web:
        command: ["$DEMO_APP", "--ignore-sigterm"]
        port: auto
        stop_timeout: 1s
  family:
    processes:
      worker:
        command: ["/bin/sh", "-c", "sleep 300 & sleep 300 & exec '$DEMO_APP' --worker"]
YAML

start_daemon --log-format json
check "started" wait_for 10 all_started
check "every daemon log line is a JSON object" bash -c \
    "grep -v '^opsdeck \|^control socket\|^  \|^try:' '$T/daemon.log' | jq -e -s 'length > 0 and all(.[]; has(\"ts\") and has(\"level\") and has(\"msg\"))' >/dev/null"
stubborn=$(machines_q '.machines[] | select(.app=="stubborn") | .id')
family=$(machines_q '.machines[] | select(.app=="family") | .id')
check "the family's shell started two sleeps beside the app" \
    test "$(machine_pids "$family" | wc -l)" -ge 3

t0=$(date +%s%N)
od machine stop "$stubborn" >/dev/null
stopped() { [ "$(machines_q ".machines[] | select(.id==\"$stubborn\") | .state")" = stopped ]; }
check "a machine that ignores SIGTERM is stopped" wait_for 5 stopped
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
# not before its stop_timeout; long before the 300 s it would take on its own
check "by SIGKILL after its 1s stop_timeout (${ms}ms)" test "$ms" -ge 1000 -a "$ms" -lt 30000
check "its exit is recorded as signal 9" \
    test "$(machines_q ".machines[] | select(.id==\"$stubborn\") | .signal")" = 9
check "the escalation is in the daemon log" grep -q "sending SIGKILL" "$T/daemon.log"

od machine stop "$family" >/dev/null
fam_stopped() { [ -z "$(machine_pids "$family")" ]; }
check "stopping a machine stops its whole process group" wait_for 5 fam_stopped
stop_daemon
