#!/bin/bash
# One daemon per state dir, and a daemon killed with -9 leaves nothing doubled: the next
# one finds the machines the first left and each runs exactly once.
. "$(dirname "$0")/../lib/daemon.sh"

cat > "$CONFIG" <<YAML
ports: {from: 24300, to: 24399}
defaults:
  stop_timeout: 2s
apps:
  hotdash-staging:
    processes:
      web: {command: ["$DEMO_APP"], port: auto, count: 2}
  hotdash-chatwoot:
    processes:
      web: {command: ["$DEMO_APP", "--health-json"], port: auto}
      worker: {command: ["$DEMO_APP", "--worker"]}
YAML

start_daemon
check "all machines started" wait_for 10 all_started
first=$DAEMON_PID

out=$("$OPSDECK" up -c "$CONFIG" --state "$STATE" 2>&1) && rc=0 || rc=$?
check "a second daemon on the same state dir is refused (exit 1)" test "$rc" = 1
check "the refusal names the running pid" grep -q "already running.*(pid $first)" <<<"$out"

ids=$(machines_q '.machines[].id')
declare -A port_before
for id in $ids; do port_before[$id]=$(machines_q ".machines[] | select(.id==\"$id\") | .port"); done

kill -9 "$first"; wait "$first" 2>/dev/null || true
DAEMON_PID=
check "the machines outlive a kill -9 of the daemon" test -n "$(fleet_pids)"
out=$(od status 2>&1) && rc=0 || rc=$?
check "status says the daemon is not running (exit 3)" test "$rc" = 3
check "and how to start it" grep -q "start it with \`opsdeck up" <<<"$out"

start_daemon
check "all machines started again" wait_for 15 all_started
for id in $ids; do
	pids=$(machine_pids "$id" | wc -l)
	check "machine $id runs exactly once ($pids processes)" test "$pids" = 1
	want=${port_before[$id]}
	got=$(machines_q ".machines[] | select(.id==\"$id\") | .port")
	check "machine $id keeps its port ($want)" test "$got" = "$want"
	if [ "$want" != null ]; then
		pid=$(machines_q ".machines[] | select(.id==\"$id\") | .pid")
		owner=$(curl -fsS "http://127.0.0.1:$want/version" | jq -r .pid)
		check "port $want is answered by the recorded pid $pid" test "$owner" = "$pid"
	fi
done
check "the same machine ids as before" test "$(machines_q '[.machines[].id]|sort|join(",")')" = "$(tr ' ' '\n' <<<"$ids" | sort | paste -sd,)"
check "the orphans were recorded as events" test "$(sqlite3 "$STATE/opsdeck.db" \
    "SELECT count(*) FROM events WHERE kind='orphan'")" -ge 1
stop_daemon
check "nothing left after the second daemon stops" test -z "$(fleet_pids)"
