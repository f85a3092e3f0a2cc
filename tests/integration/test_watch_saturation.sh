#!/bin/bash
# More checks in flight than the prober starts at once: 800 HTTP checks against an
# app whose answer takes 8 s, each with a 5 s timeout at a 5 s interval. Starting
# them all would hold 800 connections open; the watch holds at most 256 in flight,
# the others wait their turn, first come first served, so every check still runs;
# it counts them (runs_waited) and says so once in its log.
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"

APP_PORT=28451
N=800
CAP=256

{
	echo "checks:"
	for i in $(seq 1 "$N"); do
		echo "  s$i: {http: \"http://127.0.0.1:$APP_PORT/api/orders\", interval: 5s, timeout: 5s}"
	done
} > "$CONFIG"

demo_app "$APP_PORT" --orders-ms 8000

start_daemon
waited() { [ "$(od checks --json | jq -r '.runs_waited')" -gt 0 ]; }
check "runs wait once $CAP probes are in flight" wait_for 60 waited

# The cap holds on every look, while slots keep coming due.
most=0
for _ in $(seq 20); do
	n=$(od checks --json | jq -r '.probes_running')
	[ "$n" -gt "$most" ] && most=$n
	sleep 0.1
done
check "at most $CAP probes in flight (most seen: $most)" [ "$most" -le "$CAP" ]
check "the cap was reached (most seen: $most)" [ "$most" -ge $((CAP - 50)) ]
# Each probe holds its place for its 5 s timeout: by the fourth round of places every
# check has had one, none starved by the checks due before it.
never_ran() { od checks --json | jq '[.checks[] | select(.runs == 0)] | length'; }
all_ran() { [ "$(never_ran)" = 0 ]; }
check "every check runs in its turn" wait_for 60 all_ran
check "the wait said once in the log" \
    [ "$(grep -c 'probes in flight, the most opsdeck starts at once' "$T/daemon.log")" = 1 ]
check "the daemon stops cleanly with probes in flight" stop_daemon
