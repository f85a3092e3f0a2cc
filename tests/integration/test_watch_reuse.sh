#!/bin/bash
# Checks keep their connections: 20 HTTP checks at 1 s against a demo app, and one
# against a closed port (a socket opened and closed on every run). Every connection
# the daemon held to the app is still the same connection (same local port) after
# every check has run five more times, and every check is up. A machine the daemon
# starts later does not hold any of those sockets (they are close-on-exec).
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"

APP_PORT=28471
CLOSED_PORT=28470
N=20

{
	cat <<EOF
ports: {from: 28472, to: 28479}
apps:
  shop:
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
checks:
  closed: {tcp: "127.0.0.1:$CLOSED_PORT", interval: 1s, timeout: 900ms}
EOF
	for i in $(seq 1 "$N"); do
		echo "  r$i: {http: \"http://127.0.0.1:$APP_PORT/health\", interval: 1s, timeout: 900ms, conditions: [\"[STATUS] == 200\"]}"
	done
} > "$CONFIG"

demo_app "$APP_PORT"

start_daemon
# The fewest runs of the r* checks, and how many of them are up.
least_runs() { od checks --json | jq '[.checks[] | select(.name | startswith("r")) | .runs] | min'; }
ups() { od checks --json | jq '[.checks[] | select(.name | startswith("r")) | select(.status == "up")] | length'; }
closed_runs() { od checks --json | jq '.checks[] | select(.name == "closed") | .runs'; }
# The daemon's connections to the app: "LOCALPORT INODE", one a line.
conns() {
	ss -Htnpe state established "( dport = :$APP_PORT )" |
	    grep "pid=$DAEMON_PID," |
	    sed -E 's/.*127\.0\.0\.1:([0-9]+) +127\.0\.0\.1:'"$APP_PORT"'.* ino:([0-9]+).*/\1 \2/' |
	    sort
}
ran_at_least() { [ "$(least_runs)" -ge "$1" ]; }

check "every check has run three times" wait_for 30 ran_at_least 3
before=$(conns)
r0=$(least_runs)
c0=$(closed_runs)
check "the daemon holds connections to the app ($(wc -l <<<"$before"))" test -n "$before"
check "every check runs five more times" wait_for 30 ran_at_least $((r0 + 5))
after=$(conns)
check "the closed port's check ran on too" [ "$(closed_runs)" -gt "$c0" ]
gone=$(comm -23 <(cut -d' ' -f1 <<<"$before") <(cut -d' ' -f1 <<<"$after"))
check "no connection to the app was closed and made again (gone: ${gone:-none})" test -z "$gone"
check "all $N checks are up" [ "$(ups)" = "$N" ]
check "the closed port's check is down" \
    [ "$(od checks --json | jq -r '.checks[] | select(.name == "closed") | .status')" = down ]

id=$(od machines --json | jq -r '.machines[0].id')
old=$(machine_pids "$id")
od machine restart "$id" > /dev/null
restarted() { local p; p=$(machine_pids "$id"); [ -n "$p" ] && [ "$p" != "$old" ]; }
check "the machine restarts" wait_for 30 restarted
pid=$(machine_pids "$id")
held=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null |
    sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort)
leaked=$(comm -12 <(cut -d' ' -f2 <<<"$(conns)" | sort) <(echo "$held"))
check "the new machine holds none of the probes' sockets (leaked: ${leaked:-none})" \
    test -z "$leaked"
check "the daemon stops cleanly" stop_daemon
