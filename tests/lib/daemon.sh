# Sourced by integration tests: a private state dir, the real daemon, and checks that
# nothing is left running afterwards. Needs OPSDECK and OPSDECK_BUILD (set by ctest).
set -euo pipefail

: "${OPSDECK:?run through ctest, or set OPSDECK to the opsdeck binary}"
: "${OPSDECK_BUILD:?set OPSDECK_BUILD to the build directory}"
DEMO_APP="$OPSDECK_BUILD/examples/demo-app/demo-app"
T=$(mktemp -d /tmp/opsdeck-test.XXXXXX)
STATE="$T/state"
CONFIG="$T/opsdeck.yaml"
DAEMON_PID=
FAILURES=0
PASSES=0

od() { "$OPSDECK" --state "$STATE" "$@"; }

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILURES=$((FAILURES + 1)); echo "not ok - $*"; }
check() { # check "what" command...
	local what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
die() { echo "not ok - $*"; FAILURES=$((FAILURES + 1)); finish; }

# Pids whose environment holds NAME=VALUE exactly (threads excluded).
env_pids() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' < "$p/environ"; } 2>/dev/null |
		    grep -qxF "$1" && echo "${p#/proc/}"
	done
	return 0
}
# The fleet's processes (this state dir) and one machine's.
fleet_pids() { env_pids "OPSDECK_STATE_DIR=$STATE"; }
machine_pids() { env_pids "OPSDECK_MACHINE_ID=$1"; }

start_daemon() {
	"$OPSDECK" up -c "$CONFIG" --state "$STATE" "$@" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	wait_for 10 od status >/dev/null 2>&1 || {
		cat "$T/daemon.log"; die "daemon did not answer within 10s"; }
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	return $rc
}

# wait_for SECONDS command...: retries every 100 ms.
wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
	while ! "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
		sleep 0.1
	done
}

# reload_daemon: SIGHUP, then wait for the reload's evidence (it is put off while a
# deploy runs, so this waits for that too).
reloads_done() {
	sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM evidence WHERE action = 'daemon.reload' AND result IN ('ok', 'failed', 'denied')"
}
reload_daemon() {
	local before
	before=$(reloads_done)
	kill -HUP "$DAEMON_PID"
	wait_for "${1:-30}" bash -c "[ \"\$(sqlite3 '$STATE/opsdeck.db' \"SELECT count(*) FROM evidence WHERE action = 'daemon.reload' AND result IN ('ok', 'failed', 'denied')\")\" -gt $before ]" ||
	    fail "the daemon did not record the reload"
}

# jq over `opsdeck status --json`.
status_q() { od status --json | jq -r "$1"; }
machines_q() { od machines --json | jq -r "$1"; }

all_started() {
	[ "$(machines_q '[.machines[] | select(.state != "started")] | length')" = 0 ]
}

# demo_app PORT [ARG...]: a demo app of the test's own (not the fleet's) on PORT,
# answering before this returns; finish stops it.
SIDE_PIDS=()
demo_app() {
	local port=$1; shift
	"$DEMO_APP" --port "$port" "$@" >> "$T/app.log" 2>&1 &
	SIDE_PIDS+=($!)
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$port/health" ||
	    die "the demo app on port $port did not answer"
}

finish() {
	trap - EXIT
	[ ${#SIDE_PIDS[@]} -eq 0 ] || kill "${SIDE_PIDS[@]}" 2>/dev/null || true
	if [ -n "$DAEMON_PID" ]; then
		# A test that stopped early: let the daemon stop its fleet first.
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	local left
	left=$(fleet_pids)
	if [ -n "$left" ]; then
		fail "processes left behind: $left"
		kill -KILL $left 2>/dev/null || true
	fi
	if [ "$FAILURES" -gt 0 ]; then
		echo "--- daemon log ---"; tail -50 "$T/daemon.log" 2>/dev/null || true
	fi
	rm -rf "$T"
	echo "$PASSES passed, $FAILURES failed"
	[ "$FAILURES" -eq 0 ]
	exit
}
trap finish EXIT
