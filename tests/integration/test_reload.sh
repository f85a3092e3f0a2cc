#!/bin/bash
# SIGHUP applies the difference: new apps start, removed apps stop, changed apps are
# marked as needing a deploy and keep running as they were. A broken config is refused.
. "$(dirname "$0")/../lib/daemon.sh"

write_config() { # write_config STAGING_VERSION WITH_CHATWOOT WITH_EXTRA
	{
		echo "ports: {from: 24500, to: 24599}"
		echo "apps:"
		echo "  hotdash-staging:"
		echo "    env: {DEMO_VERSION: $1}"
		echo "    processes:"
		echo "      web: {command: [\"$DEMO_APP\"], port: auto}"
		if [ "$2" = yes ]; then
			echo "  hotdash-chatwoot:"
			echo "    processes:"
			echo "      worker: {command: [\"$DEMO_APP\", \"--worker\"]}"
		fi
		if [ "$3" = yes ]; then
			echo "  extra:"
			echo "    processes:"
			echo "      web: {command: [\"$DEMO_APP\"], port: auto}"
		fi
	} > "$CONFIG"
}

write_config v71 yes no
start_daemon
check "started" wait_for 10 all_started
staging_pid=$(machines_q '.machines[] | select(.app=="hotdash-staging") | .pid')
worker=$(machines_q '.machines[] | select(.app=="hotdash-chatwoot") | .id')

write_config v72 no yes
kill -HUP "$DAEMON_PID"
extra_up() { [ "$(machines_q '[.machines[] | select(.app=="extra" and .state=="started")] | length')" = 1 ]; }
check "a new app is started" wait_for 10 extra_up
gone() { [ "$(machines_q '[.machines[] | select(.app=="hotdash-chatwoot")] | length')" = 0 ]; }
check "a removed app's machines are gone" wait_for 10 gone
check "and its process too" wait_for 5 test -z "$(machine_pids "$worker")"
check "a changed app is marked as needing a deploy" \
    test "$(status_q '.apps[] | select(.name=="hotdash-staging") | .needs_deploy')" = true
check "and keeps running as deployed" \
    test "$(machines_q '.machines[] | select(.app=="hotdash-staging") | .pid')" = "$staging_pid"

# A second reload, with the app still changed and a removed app back: the changed app
# keeps running what was deployed, even when it restarts; the re-added app starts.
write_config v73 yes yes
kill -HUP "$DAEMON_PID"
back() { [ "$(machines_q '[.machines[] | select(.app=="hotdash-chatwoot" and .state=="started")] | length')" = 1 ]; }
check "a re-added app starts again" wait_for 10 back
kill -9 "$staging_pid"
restarted() { [ "$(machines_q '.machines[] | select(.app=="hotdash-staging") | "\(.state) \(.restart_count)"')" = "started 1" ]; }
check "the changed app's machine restarts" wait_for 10 restarted
port=$(machines_q '.machines[] | select(.app=="hotdash-staging") | .port')
ver() { [ "$(curl -fsS "http://127.0.0.1:$port/version" | jq -r .version)" = v71 ]; }
check "and still runs the deployed config (v71), not an undeployed one" wait_for 5 ver

echo "apps: [" > "$CONFIG"
reload_daemon
check "a broken config is refused and the daemon runs on" od status >/dev/null
check "the refusal names the file and place" grep -q "opsdeck.yaml:" "$T/daemon.log"
check "the reload was recorded as evidence" test "$(sqlite3 "$STATE/opsdeck.db" \
    "SELECT count(*) FROM evidence WHERE action='daemon.reload' AND result='ok'")" = 2
stop_daemon
