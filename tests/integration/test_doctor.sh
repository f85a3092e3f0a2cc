#!/bin/bash
# `opsdeck doctor` as a user reads it: with no daemon the daemon's lines warn and it
# exits 0; a bad config fails naming file:line; a state dir that cannot exist fails;
# with the daemon up, the daemon, the router and each app have their line, an app
# whose machine cannot start fails naming it and what to run; a clock behind the
# newest evidence fails; --json gives {check, status, detail, fix} for each line.
. "$(dirname "$0")/../lib/daemon.sh"
PUB=27090
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }
# line STATUS NAME: the output line of that check, as people read it
line() { grep -qE "^$1 +$2 " "$T/out"; }
# has STATUS NAME TEXT: that line says TEXT; fix STATUS NAME TEXT: its fix does
has() { grep -E "^$1 +$2 " "$T/out" | grep -qF -- "$3"; }
jqf() { jq -e "$1" "$T/doctor.json" >/dev/null; }
fix() { grep -A1 -E "^$1 +$2 " "$T/out" | sed -n 2p | grep -q -- "^ *fix: .*$3"; }

write_config() { # [EXTRA_APP...]: web-app behind the router, and what is given
	cat > "$CONFIG" <<YAML
ports: {from: 27000, to: 27049}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
  restart: {backoff_min: 100ms, backoff_max: 200ms, crashloop_limit: 2, crashloop_window: 30s}
apps:
  web-app:
    processes:
      web:
        command: ["$DEMO_APP"]
        port: auto
        public: 127.0.0.1:$PUB
$*
YAML
}
write_config

# No daemon, no state dir yet: nothing fails, the daemon's lines say how to start it.
outerr "$OPSDECK" -c "$CONFIG" --state "$STATE" doctor
check "with no daemon it exits 0 (rc $rc)" test "$rc" = 0
check "the config is ok" line ok config
check "the daemon warns that it is not running" line warn daemon
check "with the fix: opsdeck up" fix warn daemon 'start it: `opsdeck up -c'
check "the store warns it does not exist yet" line warn store
check "HAProxy's version is named" has ok haproxy "version $(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p')"
check "libpq's version is named" has '(ok|warn)' postgresql "libpq $(pg_config --version 2>/dev/null | awk '{print $2}')"
check "nothing was created in the state dir" test ! -e "$STATE"
check "nothing on stderr" test ! -s "$T/err"

# A bad config: the first problem with its place, exit 1, no crash.
cat > "$T/bad.yaml" <<YAML
ports: {from: 27000, to: 27049}
apps:
  web-app:
    processes:
      web:
        command: ["$DEMO_APP"]
        count: lots
YAML
outerr "$OPSDECK" -c "$T/bad.yaml" --state "$STATE" doctor
check "a bad config exits 1 (rc $rc)" test "$rc" = 1
check "config fails naming file:line" has fail config "$T/bad.yaml:7:"
check "with the fix: opsdeck config check" fix fail config 'opsdeck config check -c'
check "the other checks still run" line warn daemon

# A state dir under a regular file cannot exist, even for root.
: > "$T/afile"
outerr "$OPSDECK" -c "$CONFIG" --state "$T/afile/state" doctor
check "an impossible state dir exits 1 (rc $rc)" test "$rc" = 1
check "state-dir fails naming the path" has fail state-dir "'$T/afile/state'"
check "with a fix" fix fail state-dir '--state DIR'

# HAProxy missing: a failure when an app has a public: address, a warning with driver none.
sed "s|^ports:.*|&\nrouter: {haproxy: $T/no-haproxy}|" "$CONFIG" > "$T/nohap.yaml"
outerr "$OPSDECK" -c "$T/nohap.yaml" --state "$STATE" doctor
check "a missing HAProxy that the router needs exits 1 (rc $rc)" test "$rc" = 1
check "haproxy fails naming the binary" has fail haproxy "cannot run '$T/no-haproxy'"
check "with the fix: install it or name it" fix fail haproxy 'apt-get install haproxy'
sed "s|^ports:.*|&\nrouter: {driver: none, haproxy: $T/no-haproxy}|" "$CONFIG" > "$T/nohap.yaml"
outerr "$OPSDECK" -c "$T/nohap.yaml" --state "$STATE" doctor
check "with router driver none it only warns (rc $rc)" bash -c "[ $rc = 0 ] && grep -Eq '^warn +haproxy .*driver: none' '$T/out'"

# The daemon up, the app healthy.
start_daemon
healthy() { [ "$(status_q '[.apps[].machines[] | select(.state == "started" and .health == "passing")] | length')" = 1 ]; }
check "the app's machine starts and passes its health check" wait_for 15 healthy
outerr "$OPSDECK" -c "$CONFIG" --state "$STATE" doctor
check "with a healthy fleet it exits 0 (rc $rc)" test "$rc" = 0
check "the daemon is ok, with its pid and version" has ok daemon "pid $DAEMON_PID, opsdeck $("$OPSDECK" version | cut -d' ' -f2)"
check "the router is up: haproxy with its pid" has ok router "up, pid $(status_q .router.pid)"
check "the app is ok: started, health passing" has ok "app web-app" "1/1 started, health passing"
check "the store is ok" line ok store
check "the state dir is writable" line ok state-dir
check "the daemon's clock agrees with ours" has '(ok|warn)' clock "the daemon's clock agrees"
check "no temp file left in the state dir" bash -c "! ls -A '$STATE' | grep -q write-test"

od doctor --json -c "$CONFIG" > "$T/doctor.json" || fail "doctor --json failed"
check "--json is an array of {check, status, detail, fix}" jqf '
    type == "array" and length >= 9 and
    all(.[]; (.check | type == "string") and (.status | IN("ok", "warn", "fail")) and
        (.detail | type == "string") and has("fix"))'
check "--json: fix is null exactly when ok" jqf \
    'all(.[]; (.status == "ok") == (.fix == null))'
check "--json: the daemon ok, web-app ok" jqf \
    '([.[] | select(.check == "daemon")][0].status == "ok") and
     ([.[] | select(.check == "app" and .app == "web-app")][0].status == "ok")'
check "--json: the checks of the checklist are all there" jqf \
    '[.[].check] | unique == ["app","clock","config","daemon","haproxy","postgresql","router","state-dir","store"]'
stop_daemon || fail "the daemon did not stop cleanly"

# An app whose machine cannot start: it fails, naming the app and what to run.
write_config "  broken-app:
    processes:
      web:
        command: [\"$DEMO_APP\", \"--exit-at-start\", \"1\"]
        port: auto"
start_daemon
broken_failed() { [ "$(status_q '.apps[] | select(.name == "broken-app") | .machines[0].state')" = failed ]; }
check "the broken app's machine ends failed" wait_for 15 broken_failed
check "and web-app passes again" wait_for 15 healthy
outerr "$OPSDECK" -c "$CONFIG" --state "$STATE" doctor
check "a broken app exits 1 (rc $rc)" test "$rc" = 1
check "its line fails naming it: none running" has fail "app broken-app" "none of 1 machine running"
check "with the fix: opsdeck logs and machines" fix fail "app broken-app" '`opsdeck logs broken-app` and `opsdeck machines broken-app`'
check "web-app is still ok" line ok "app web-app"
stop_daemon || fail "the daemon did not stop cleanly"

# A clock that went back: the newest evidence entry is dated a day ahead of now.
sqlite3 "$STATE/opsdeck.db" "UPDATE evidence SET at = at + 86400000 WHERE id = (SELECT max(id) FROM evidence)"
seq=$(sqlite3 "$STATE/opsdeck.db" "SELECT max(id) FROM evidence")
outerr "$OPSDECK" -c "$CONFIG" --state "$STATE" doctor
check "a clock behind the evidence exits 1 (rc $rc)" test "$rc" = 1
check "clock fails naming the entry" has fail clock "before the newest evidence entry (seq $seq "

outerr "$OPSDECK" doctor extra
check "an extra argument is a usage error (rc $rc)" test "$rc" = 2
finish
