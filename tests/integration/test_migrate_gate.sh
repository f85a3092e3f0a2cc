#!/bin/bash
# migrate apply goes through the daemon's action gate like deploy: recorded as evidence
# with its actor, run by the daemon; with no daemon it says so (exit 3) unless
# --offline, which still records to the state dir's store. A real PostgreSQL 15.
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/daemon.sh"

pg_start || die "no PostgreSQL"
trap 'pg_stop; finish' EXIT
die() { echo "not ok - $*"; FAILURES=$((FAILURES + 1)); pg_stop; finish; }

cat >"$CONFIG" <<EOF
apps:
  web-app:
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
EOF
me=$(id -un)
M="$T/m" && mkdir -p "$M"
printf 'CREATE TABLE one (id int);\n' >"$M/001_one.sql"
ev() { sqlite3 "$STATE/opsdeck.db" "SELECT $1 FROM evidence WHERE action = 'migrate.apply' $2"; }
applied() { pg_psql -At -c "SELECT count(*) FROM opsdeck_migrations WHERE file = '$1'" 2>/dev/null || echo 0; }
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }

# No daemon.
outerr od migrate apply "$M" --db "$PGURL"
check "with no daemon, apply exits 3" test "$rc" = 3
check "saying the daemon is not running" grep -q "not running on state dir" "$T/err"
check "and how to apply without it" grep -q -- "--offline" "$T/err"
check "and nothing was applied" test "$(applied 001_one.sql)" = 0

outerr od migrate apply "$M" --db "$PGURL" --offline
check "--offline applies it (exit 0)" test "$rc" = 0
check "printing the file's progress" grep -q "^applied  001_one.sql" "$T/out"
check "the file is in the database's ledger" test "$(applied 001_one.sql)" = 1
check "and the apply is in the store's evidence, with its actor" \
    test "$(ev "actor || ' ' || result" "ORDER BY id")" = "$me requested
$me ok"
check "naming what was applied where" grep -q "^$M on postgresql:///postgres" <<<"$(ev target '')"

# Through the daemon.
start_daemon
printf 'CREATE TABLE two (id int);\n' >"$M/002_two.sql"
outerr od migrate apply "$M" --db "$PGURL"
check "through the daemon, apply exits 0" test "$rc" = 0
check "its progress is printed as the daemon goes" \
    bash -c "grep -q '^skipped  001_one.sql' '$T/out' && grep -q '^applied  002_two.sql' '$T/out'"
check "the file is applied, by the gate's actor" \
    test "$(pg_psql -At -c "SELECT applied_by FROM opsdeck_migrations WHERE file = '002_two.sql'")" = "$me"
check "the daemon's evidence says it is done, with what it did" \
    test "$(ev "result || ' ' || coalesce(detail, '')" "ORDER BY id DESC LIMIT 1")" = "ok 1 applied, 1 skipped"

outerr od migrate apply "$M" --db "$PGURL" --offline
check "--offline while a daemon runs is a usage error (exit 2)" test "$rc" = 2
check "saying to drop --offline" grep -q "drop --offline" "$T/err"
outerr od migrate apply "$M" --db "$PGURL" --actor mallory
check "--actor without --offline is a usage error (exit 2)" test "$rc" = 2

# A password is never evidence.
n=$(ev "count(*)" "")
pw="postgresql://postgres:sekrit-77@/postgres?host=$PGDIR"
outerr od migrate apply "$M" --db "$pw"
check "a URL with a password works (exit 0)" test "$rc" = 0
check "and the password is in no evidence" bash -c "! sqlite3 '$STATE/opsdeck.db' 'SELECT * FROM evidence' | grep -q sekrit-77"
check "each apply is two entries (requested, ok)" test "$(ev "count(*)" "")" = $((n + 2))

# Failures are evidence too.
printf 'CREATE TABLE three (id int);\nINSERT INTO nosuch VALUES (1);\n' >"$M/003_bad.sql"
outerr od migrate apply "$M" --db "$PGURL" --json
check "a failing file: exit 1" test "$rc" = 1
check "--json gives the report" jq -e '.ok == false and .files[-1].status == "failed"' "$T/out"
check "the evidence says it failed, naming the file" grep -q '^failed 003_bad.sql: .*nosuch' \
    <<<"$(ev "result || ' ' || detail" 'ORDER BY id DESC LIMIT 1')"
rm "$M/003_bad.sql"
outerr od migrate apply "$M" --db "postgresql://%zz"
check "a bad URL through the daemon is still a usage error (exit 2)" test "$rc" = 2
check "naming it" grep -q "invalid database URL" "$T/err"
check "and recorded as failed" test "$(ev result "ORDER BY id DESC LIMIT 1")" = failed
outerr od migrate apply "$T/nowhere" --db "$PGURL"
check "a path that is not there is refused (exit 1) naming it" grep -q "'$T/nowhere': No such file" "$T/err"
check "before the daemon is asked" test "$rc" = 1 -a "$(ev 'count(*)' "AND target LIKE '%nowhere%'")" = 0

# The daemon does not stop a migration halfway: SIGTERM waits for it to end.
printf 'CREATE TABLE four (id int);\nSELECT pg_sleep(1.5);\n' >"$M/004_slow.sql"
od migrate apply "$M" --db "$PGURL" >"$T/slow.out" 2>&1 &
client=$!
sleeping() { [ "$(pg_psql -At -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(1.5)%' AND state = 'active'")" -ge 1 ]; }
check "the slow file is running in the daemon" wait_for 10 sleeping
kill -TERM "$DAEMON_PID"
# its machines stop at once; a second SIGTERM then still finds the daemon waiting
machines_gone() { grep -q "all machines stopped; exiting" "$T/daemon.log"; }
check "the machines stop while the file runs" wait_for 10 machines_gone
check "and the daemon is still there" kill -0 "$DAEMON_PID"
stop_daemon && rc=0 || rc=$?
check "a second SIGTERM: the daemon still exits 0 after it ($rc)" test "$rc" = 0
check "saying it waits for the apply" grep -q "again: still stopping (a migrate apply is running)" "$T/daemon.log"
wait "$client" || true
check "the file was applied, not cut off" test "$(applied 004_slow.sql)" = 1
check "and its evidence is complete" test "$(ev result "ORDER BY id DESC LIMIT 1")" = ok
