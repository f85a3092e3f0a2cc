#!/bin/bash
# Housekeeping: with retain.releases 2, four real deploys leave the artifacts of v1
# and v2 to collect, never the live v4's or the rollback target v3's. `gc --dry-run`
# lists them and deletes nothing; `gc` deletes them (and an old retired machine's
# log, not a live one's), through the gate with evidence, and status reports it.
# No daemon: exit 3 unless --offline. A bad retain value is a FILE:LINE error.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=25900
. "$(dirname "$0")/../lib/deploy.sh"

cat > "$CONFIG" <<YAML
ports: {from: 25900, to: 25999}
retain: {releases: 2, logs: 1d}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    deploy: {smoke: 500ms, watch: 500ms, timeout: 10s}
    processes:
      web:
        command: ["\${OPSDECK_RELEASE_DIR}/start.sh"]
        port: auto
YAML
me=$(id -un)
ev() { sqlite3 "$STATE/opsdeck.db" "SELECT $1 FROM evidence WHERE action = 'gc.run' $2"; }
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }

start_daemon
started_gc() { [ "$(ev "count(*)" "AND actor = 'opsdeck' AND result = 'ok'")" -ge 1 ]; }
check "the daemon runs gc at start, as opsdeck, through the gate" wait_for 10 started_gc

# Four releases, each its own artifact; a deploy ends (its lock with it) after the
# watch and the old machines' stop.
deploy_ended() { [ "$(release_q "v$1" '[.timeline[] | select(.step == "stop_old" and .status != "running")] | length')" = 1 ]; }
for v in 1 2 3 4; do
	make_artifact "a$v" "build-$v"
	check "v$v goes live" od deploy web-app --artifact "$T/a$v"
	check "and its deploy ends" wait_for 20 deploy_ended "$v"
	eval "d$v=\$(release_q v$v .artifact)"
	[ "$v" = 1 ] && m1=$(machines_q '.machines[] | select(.release == "v1") | .id')
done
m4=$(machines_q '.machines[] | select(.release == "v4") | .id')
none_of() { [ -z "$(machines_q ".machines[] | select(.release==\"$1\") | .id")" ]; }
check "no machine of v1 or v2 is left" wait_for 20 bash -c "$(declare -f od machines_q none_of); OPSDECK=$OPSDECK STATE=$STATE; none_of v1 && none_of v2"
check "four distinct artifacts" test "$(printf '%s\n' "$d1" "$d2" "$d3" "$d4" | sort -u | wc -l)" = 4
check "v1's machine left its log" test -f "$STATE/logs/web-app/$m1.log"
# Logs are judged by when they were last written: make two of them old.
touch -d '2 days ago' "$STATE/logs/web-app/$m1.log"* "$STATE/logs/web-app/$m4.log"

outerr od gc --dry-run
check "gc --dry-run exits 0" test "$rc" = 0
check "it lists v1's artifact" grep -q "^artifact  ${d1:0:12} .*web-app v1: older than the 2 kept" "$T/out"
check "and v2's" grep -q "^artifact  ${d2:0:12} " "$T/out"
check "not the rollback target v3's" bash -c "! grep -q '${d3:0:12}' '$T/out'"
check "not the live v4's" bash -c "! grep -q '${d4:0:12}' '$T/out'"
check "it lists the old log of v1's retired machine" grep -q "^log  *web-app/$m1.log " "$T/out"
check "not the live machine's, however old" bash -c "! grep -q '$m4' '$T/out'"
check "and says what it would do" grep -q "^would remove 2 artifacts and 1 log (.*), kept 2 artifacts$" "$T/out"
check "the dry run deleted nothing" test -d "$STATE/artifacts/$d1" -a -d "$STATE/artifacts/$d2" -a -f "$STATE/logs/web-app/$m1.log"
check "--json lists the same" test "$(od gc --dry-run --json | jq -r '[.removed[] | .digest // .machine] | sort | join(" ")')" = \
    "$(printf '%s\n' "$d1" "$d2" "$m1" | sort | tr '\n' ' ' | sed 's/ $//')"
check "a dry run is evidence too, named so" test "$(ev "count(*)" "AND actor = '$me' AND target LIKE '%(dry run)' AND result = 'ok'")" = 2

outerr od gc --offline
check "--offline while a daemon runs is a usage error (exit 2)" test "$rc" = 2
check "saying to drop --offline" grep -q "drop --offline" "$T/err"

outerr od gc
check "gc exits 0" test "$rc" = 0
check "saying what it removed" grep -q "^removed 2 artifacts and 1 log (.*), kept 2 artifacts$" "$T/out"
check "v1's and v2's artifacts are gone" test ! -e "$STATE/artifacts/$d1" -a ! -e "$STATE/artifacts/$d2"
check "v3's and v4's are kept" test -d "$STATE/artifacts/$d3" -a -d "$STATE/artifacts/$d4"
check "the retired machine's log is gone, rotated files too" bash -c "! ls '$STATE/logs/web-app/$m1.log'* 2>/dev/null"
check "the live machine's log is kept" test -f "$STATE/logs/web-app/$m4.log"
check "the run is evidence, by its actor, with what it removed" \
    grep -q "^requested | ok: removed 2 artifacts and 1 log (.*), kept 2 artifacts$" \
    <<<"$(ev "group_concat(result || coalesce(': ' || detail, ''), ' | ')" "AND actor = '$me' AND target = '$STATE' ORDER BY id")"
check "status --json reports it" test "$(status_q '.housekeeping.last_gc | "\(.actor) \(.artifacts_kept) \(.artifacts_removed) \(.logs_removed) \(.bytes_freed > 0)"')" = "$me 2 2 1 true"
check "and so does status" grep -q "^housekeeping: last gc .* by $me: 2 artifacts kept, 2 removed, 1 log removed, .* freed; next " <<<"$(od status)"
check "v4 still serves" served_version build-4
outerr od rollback web-app v1
check "a rollback to v1 fails: its artifact is gone" test "$rc" != 0
check "saying how to deploy it again" grep -q "is not in the state dir: deploy with --artifact" "$T/err"
check "v4 is still live" test "$(status_q '.apps[0].release')" = v4
outerr od gc
check "a second gc has nothing to remove" grep -q "^nothing to remove; kept 2 artifacts$" "$T/out"
check "the daemon stops, exit 0" stop_daemon

# No daemon.
outerr od gc
check "with no daemon, gc exits 3" test "$rc" = 3
check "saying how to run it without" grep -q -- "--offline" "$T/err"
# An artifact no release uses, stored long ago (an import whose deploy never came).
orphan=$(printf 'f%.0s' $(seq 64))
mkdir -p "$STATE/artifacts/$orphan" && echo x > "$STATE/artifacts/$orphan/f"
touch -d '2 hours ago' "$STATE/artifacts/$orphan"
outerr od -c "$CONFIG" gc --offline --dry-run
check "--offline --dry-run lists the unused artifact" grep -q "^artifact  ${orphan:0:12} .*no release uses it" "$T/out"
outerr od -c "$CONFIG" gc --offline --json
check "--offline removes it (exit 0)" test "$rc" = 0 -a ! -e "$STATE/artifacts/$orphan"
check "reporting it in JSON" test "$(jq -r '.removed[0].digest' "$T/out")" = "$orphan"
check "recorded in the store's evidence" test "$(ev "result || ' ' || actor" "ORDER BY id DESC LIMIT 1")" = "ok $me"
check "the kept artifacts stay" test -d "$STATE/artifacts/$d3" -a -d "$STATE/artifacts/$d4"

# Bad retain values are errors at their place.
cat > "$T/bad.yaml" <<YAML
retain:
  releases: many
  logs: 2 weeks
apps:
  web-app:
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
YAML
outerr "$OPSDECK" config check -c "$T/bad.yaml"
check "config check of a bad retain exits 2" test "$rc" = 2
check "naming the count's place" grep -qF "$T/bad.yaml:2:13: retain.releases: expected an integer 0..1000, got 'many'" "$T/err"
check "and the retention's" grep -qF "$T/bad.yaml:3:9: retain.logs: expected a duration like '14d', '36h' or '90m', got '2 weeks'" "$T/err"
outerr od -c "$T/bad.yaml" gc --offline
check "gc --offline refuses it too (exit 2)" test "$rc" = 2
check "removing nothing" test -d "$STATE/artifacts/$d3"
