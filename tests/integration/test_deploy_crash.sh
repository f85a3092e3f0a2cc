#!/bin/bash
# Crash safety: the daemon is killed (a test hook, like kill -9) right after each step
# of a deploy is recorded, and started again. Each time the app ends on exactly one
# live release (the old one, unless the new one had completed cutover), no machine
# runs twice or is orphaned, and the release's timeline says what happened.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=25400
# the crash points are steps, not times: short waits between them
DEPLOY_SMOKE=300ms DEPLOY_WATCH=500ms HEALTH_GRACE=300ms
. "$(dirname "$0")/../lib/deploy.sh"

write_app_config 'release_command: ["/bin/true"]'
# A worker too: immediate, so a crash can come after its old machine was retired.
cat >> "$CONFIG" <<YAML
      worker:
        command: ["\${OPSDECK_RELEASE_DIR}/start.sh", "--worker"]
YAML
start_daemon
od deploy web-app --artifact "$T/good" >/dev/null || die "the first deploy failed"
watch_end

live_count() { sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM releases WHERE status = 'live'"; }
settled() {
	local want=$1 n ids id
	[ "$(status_q '.apps[0].release')" = "$want" ] || return 1
	ids=$(machines_q '.machines[] | select(.state=="started") | .id')
	[ -n "$ids" ] || return 1
	# Every machine the store knows is the live release's, and started.
	[ "$(machines_q "[.machines[] | select(.release!=\"$want\" or .state!=\"started\")] | length")" = 0 ] || return 1
	for id in $ids; do
		n=$(machine_pids "$id" | wc -l)
		[ "$n" = 1 ] || return 1
	done
	# No process of this state dir that is not one of them.
	[ "$(fleet_pids | wc -l)" = "$(wc -w <<<"$ids")" ]
}

v=1
prev_live=1
for step in prepare release_command start health smoke cutover watch stop_old; do
	stop_daemon
	OPSDECK_TEST_HOOKS=1 OPSDECK_TEST_CRASH_AFTER=$step start_daemon
	v=$((v + 1))
	od deploy web-app --artifact "$T/good" >/dev/null 2>&1 || true
	rc=0; wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	check "the daemon died right after step '$step' (exit $rc)" test "$rc" = 137
	start_daemon
	# Before cutover completed the old release stays; after it, the new one.
	case $step in watch|stop_old) want=v$v ;; *) want=v$prev_live ;; esac

	check "after a crash at '$step' exactly one release is live" test "$(live_count)" = 1
	check "and it is $want" wait_for 20 settled "$want"
	check "v$v's timeline says it was recovered" \
	    test "$(release_q "v$v" '[.timeline[].step] | index("recovered") != null')" = true
	check "no deploy lock is left" test "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM deploy_locks")" = 0
	check "and no step of it is left running" \
	    test "$(release_q "v$v" '[.timeline[] | select(.status == "running")] | length')" = 0
	case $step in watch|stop_old) prev_live=$v ;; esac
done
out=$(od deploy web-app --artifact "$T/good") && rc=0 || rc=$?
check "a deploy after all that goes live" test "$rc" = 0
stop_daemon
