#!/bin/bash
# Captured output: per-machine files, rotated by size, keeping logs.keep old files;
# lines are stamped and tagged; `logs` merges and follows them.
. "$(dirname "$0")/../lib/daemon.sh"

cat > "$CONFIG" <<YAML
ports: {from: 24700, to: 24799}
logs: {max_size: 2KiB, keep: 2}
apps:
  chatty:
    processes:
      worker:
        command: ["$DEMO_APP", "--worker", "--work-interval", "0.005"]
YAML

start_daemon
id=$(machines_q '.machines[0].id')
log="$STATE/logs/chatty/$id.log"
rotated() { [ -f "$log.2" ]; }
check "the log rotates into .1 and .2" wait_for 10 rotated
# two more rotations: the oldest file is dropped, not kept as .3
first2=$(head -n 1 "$log.2")
rotated_again() { [ "$(head -n 1 "$log.2" 2>/dev/null)" != "$first2" ]; }
wait_for 10 rotated_again
first2=$(head -n 1 "$log.2")
wait_for 10 rotated_again
check "no more than logs.keep old files are kept" test ! -e "$log.3"
size=$(stat -c %s "$log.1")
check "a rotated file stays within max_size ($size bytes)" test "$size" -le 2048
check "lines are stamped and tagged" \
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z out\| worker: processed job [0-9]+$' "$log.1"
check "no line is cut in two by rotation" \
    bash -c "! grep -vhE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (out|err|opsdeck)\| ' '$log' '$log.1' '$log.2'"
# Follow: new lines appear while `logs -f` runs, across a rotation.
"$OPSDECK" --state "$STATE" logs chatty -n 0 -f > "$T/follow.txt" 2>&1 &
fpid=$!
# follow until the file has rotated twice since, and at least 10 lines came
first1=$(head -n 1 "$log.1")
followed() { [ "$(grep -c 'worker: processed job' "$T/follow.txt")" -ge 10 ]; }
rotated1() { [ "$(head -n 1 "$log.1" 2>/dev/null)" != "$first1" ]; }
wait_for 10 rotated1; first1=$(head -n 1 "$log.1"); wait_for 10 rotated1
wait_for 10 followed
kill "$fpid"; wait "$fpid" 2>/dev/null || true
n=$(grep -c 'worker: processed job' "$T/follow.txt" || true)
# every job number once, in order: nothing lost or doubled at a rotation
gaps=$(grep -o 'processed job [0-9]*' "$T/follow.txt" | awk '{ if (NR > 1 && $3 != p + 1) g++; p = $3 } END { print g + 0 }')
check "logs -f printed new lines across rotations ($n lines, $gaps gaps)" test "$n" -ge 10 -a "$gaps" = 0
check "each followed line is labelled with its machine" \
    grep -q "^worker\[$id\] " "$T/follow.txt"
stop_daemon
out=$(od logs chatty -n 3 2>"$T/err.txt") && rc=0 || rc=$?
check "logs still work when the daemon is stopped" test "$rc" = 0
check "they print the last lines" test "$(wc -l <<<"$out")" = 3
check "and say where they are read from" grep -q "daemon is not running; reading the logs it left" "$T/err.txt"

# Just rotated: the current file has one line, so the last lines come from .1 too.
last=$(tail -n 1 "$log")
mv "$log" "$log.1"
printf '%s\n' "$last" > "$log"
out=$(od logs chatty -n 3 2>/dev/null)
check "a just-rotated log still gives the last 3 lines" test "$(wc -l <<<"$out")" = 3
check "the newest of them last" test "$(tail -n 1 <<<"$out")" = "worker[$id] $last"
