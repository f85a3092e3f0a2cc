# Shared by the benchmarks: a private state dir and a config of N demo-app machines.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OPSDECK=${OPSDECK:-$ROOT/build/opsdeck}
DEMO_APP=${DEMO_APP:-$ROOT/build/examples/demo-app/demo-app}
[ -x "$OPSDECK" ] && [ -x "$DEMO_APP" ] || { echo "build first: make build" >&2; exit 2; }
B=$(mktemp -d /tmp/opsdeck-bench.XXXXXX)
DPID=
cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT

# fleet_config FILE NAPPS PER_APP [EXTRA_ARGS...]: NAPPS apps with PER_APP web machines.
fleet_config() {
	local file=$1 napps=$2 per=$3 i args=""; shift 3
	for a in "$@"; do args="$args, \"$a\""; done
	{
		echo "ports: {from: 30000, to: 30999}"
		echo "defaults:"
		echo "  restart: {backoff_min: 500ms, backoff_max: 30s, crashloop_limit: 64, crashloop_window: 10s}"
		echo "apps:"
		for i in $(seq 1 "$napps"); do
			echo "  app-$i:"
			echo "    processes:"
			echo "      web: {command: [\"$DEMO_APP\"$args], port: auto, count: $per}"
		done
	} > "$file"
}

start() { # start CONFIG
	"$OPSDECK" up -c "$1" --state "$B/state" > "$B/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		"$OPSDECK" --state "$B/state" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "daemon did not start" >&2; cat "$B/daemon.log" >&2; exit 1
}

stop() { kill -TERM "$DPID"; wait "$DPID" || true; DPID=; rm -rf "$B/state"; }

started_count() {
	"$OPSDECK" --state "$B/state" machines --json | jq '[.machines[] | select(.state=="started")] | length'
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
