#!/bin/bash
# Strategies: a worker is replaced immediately (old stopped before the new starts),
# a group of two with a port rolls one machine at a time, and a rolling deploy that
# fails on its second machine restores the one it had already replaced, even while
# that one is still stopping.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=25600
. "$(dirname "$0")/../lib/deploy.sh"
make_artifact worker-ok good-build --worker --work-interval 0.2
make_artifact bad2 bad-build --exit-at-start 1

cat > "$CONFIG" <<YAML
ports: {from: 25600, to: 25699}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    deploy: {smoke: 500ms, watch: 1s, timeout: 10s}
    processes:
      web:
        command: ["\${OPSDECK_RELEASE_DIR}/start.sh"]
        port: auto
        count: 2
        strategy: rolling
        stop_timeout: 2s
      worker:
        command: ["\${OPSDECK_RELEASE_DIR}/start.sh", "--worker"]
YAML
start_daemon
check "v1 goes live" od deploy web-app --artifact "$T/good"
watch_end
v1_three() { [ "$(machines_q '[.machines[] | select(.release=="v1" and .state=="started")] | length')" = 3 ]; }
check "with two web machines and a worker" wait_for 10 v1_three

# v2: the worker is immediate; web rolls. Record every machine transition's order.
old_worker=$(machines_q '.machines[] | select(.release=="v1" and .process=="worker") | .id')
check "v2 goes live" od deploy web-app --artifact "$T/good"
watch_end
ev() { # ev RELEASE PROCESS INDEX STATE: the time of that transition
	sqlite3 "$STATE/opsdeck.db" "SELECT min(e.at) FROM machine_events e JOIN machines m ON m.id = e.machine_id
	    JOIN releases r ON r.id = m.release_id WHERE r.version = $1 AND m.process = '$2' AND m.idx = $3 AND e.state = '$4'"
}
ev_gone() { # the old machine's stop (it is deleted once gone: its events stay)
	sqlite3 "$STATE/opsdeck.db" "SELECT min(e.at) FROM machine_events e WHERE e.machine_id = '$1' AND e.state IN ('stopping', 'stopped')"
}
check "the worker of v1 is stopped before v2's starts (immediate)" \
    test "$(ev_gone "$old_worker")" -le "$(ev 2 worker 0 starting)"
check "web[1] of v2 starts only after web[0] of v2 passed its gate (rolling)" \
    test "$(ev 2 web 1 starting)" -gt "$(( $(ev 2 web 0 starting) + 500 ))"
check "v2 runs two web machines and a worker" \
    test "$(machines_q '[.machines[] | select(.release=="v2" and .state=="started")] | length')" = 3

# v3 fails: a rolling deploy that fails restores the machines it had replaced.
make_artifact flaky flaky-build
cat > "$T/flaky/start.sh" <<SH
#!/bin/sh
# The second web machine of this release crashes at start.
if [ "\$OPSDECK_PROCESS" = web ] && [ -e "\$OPSDECK_STATE_DIR/../flaky-once" ]; then exec "$DEMO_APP" --exit-at-start 1; fi
[ "\$OPSDECK_PROCESS" = web ] && touch "\$OPSDECK_STATE_DIR/../flaky-once"
exec "$DEMO_APP" --app-version flaky "\$@"
SH
out=$(od deploy web-app --artifact "$T/flaky" 2>&1) && rc=0 || rc=$?
check "a rolling deploy whose second machine crashes fails" test "$rc" = 1
check "v2 is still live" test "$(status_q '.apps[0].release')" = v2
restored() { [ "$(machines_q '[.machines[] | select(.release=="v2" and .state=="started")] | length')" = 3 ]; }
check "with all three of its machines running again" wait_for 10 restored
none_of() { [ -z "$(machines_q ".machines[] | select(.release==\"$1\") | .id")" ]; }
check "and none of v3's left" wait_for 5 none_of v3

# v4's machines take 2 s to stop (they ignore SIGTERM). When v5 fails, the v4
# machines it retired are still stopping: they are taken back, not started twice.
make_artifact stubborn stubborn-build --ignore-sigterm
check "v4 (slow to stop) goes live" od deploy web-app --artifact "$T/stubborn"
watch_end
rm -f "$STATE/../flaky-once"
out=$(od deploy web-app --artifact "$T/flaky" 2>&1) && rc=0 || rc=$?
check "v5 fails on its second web machine" test "$rc" = 1
check "the daemon is still running" od status
check "v4 is still live" test "$(status_q '.apps[0].release')" = v4
restored4() { [ "$(machines_q '[.machines[] | select(.release=="v4" and .state=="started")] | length')" = 3 ]; }
check "with its three machines running again once their stops end" wait_for 10 restored4
check "and none of v5's left" wait_for 5 none_of v5
stop_daemon
