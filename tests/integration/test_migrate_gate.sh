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

# Four eyes on migrations: with `approvals: require: [{action: migrate.apply}]` every
# apply waits for another approver, runs once as its requester, and runs exactly the
# files (by content) that were approved. The URL's password is never shown.
cat >"$CONFIG" <<EOF2
approvals:
  require:
    - {action: migrate.apply}
apps:
  web-app:
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
EOF2
start_daemon
as() { local tok=$1; shift; OPSDECK_TOKEN=$tok "$OPSDECK" --state "$STATE" "$@"; }
BOT=$(od actor add bot --role agent)
OLGA=$(od actor add olga --role operator)
CAROL=$(od actor add carol --role approver)
Q="$T/q" && mkdir -p "$Q"
printf 'CREATE TABLE five (id int);\n' >"$Q/005_five.sql"
pw="postgresql://postgres:sekrit-88@/postgres?host=$PGDIR"
outerr as "$BOT" migrate apply "$Q" --db "$pw"
check "an agent's apply waits for approval (exit 4)" test "$rc" = 4
check "saying who must do what" grep -q "migrate.apply on '$Q on postgresql://postgres@/postgres.*' waits for approval #1.*opsdeck approve 1" "$T/err"
check "nothing was applied" test "$(applied 005_five.sql)" = 0
od approvals --json >"$T/ap.json"
check "the request is listed, by the policy, with the files' digest" \
    jq -e --arg sha "$(sha256sum "$Q/005_five.sql" | cut -c1-64)" '.approvals[0] | .action == "migrate.apply" and .requester == "bot" and .why == "policy" and .request.body.path != null' "$T/ap.json"
check "the listing has no password" bash -c "! grep -q sekrit-88 '$T/ap.json'"
check "nor has the evidence" bash -c "! sqlite3 '$STATE/opsdeck.db' 'SELECT * FROM evidence' | grep -q sekrit-88"
check "the evidence binds the file's content" \
    test "$(ev "json_extract(args, '\$.named.\"005_five.sql\"')" "AND result = 'pending' ORDER BY id DESC LIMIT 1")" = "$(sha256sum "$Q/005_five.sql" | cut -c1-64)"
outerr as "$OLGA" migrate apply "$Q" --db "$PGURL"
check "the policy holds an operator's apply too (exit 4)" test "$rc" = 4
outerr as "$OLGA" deny 2
check "an operator cannot decide (its role)" bash -c "[ $rc = 1 ] && grep -q 'needs role approver' '$T/err'"
outerr as "$CAROL" deny 2 --comment "bot's comes first"
check "an approver denies olga's" test "$rc" = 0

outerr as "$CAROL" approve 1
check "another approver grants the agent's, and it runs" \
    bash -c "[ $rc = 0 ] && grep -q '#1 approved: migrate.apply on .* runs as bot, apply job' '$T/out'"
five_applied() { [ "$(applied 005_five.sql)" = 1 ]; }
check "the file is applied" wait_for 20 five_applied
check "by the requester" test "$(pg_psql -At -c "SELECT applied_by FROM opsdeck_migrations WHERE file = '005_five.sql'")" = bot
apply_ended() { [ "$(ev result "AND actor = 'bot' ORDER BY id DESC LIMIT 1")" = ok ]; }
check "its evidence ends ok, under the approval" wait_for 20 apply_ended
check "naming approval #1" test "$(ev approval_id "AND actor = 'bot' ORDER BY id DESC LIMIT 1")" = 1
outerr as "$CAROL" approve 1
check "approving again runs nothing again" bash -c "[ $rc = 1 ] && grep -q 'has run already' '$T/err'"
check "the password is gone from the store once it ran" \
    bash -c "! sqlite3 '$STATE/opsdeck.db' 'SELECT * FROM approvals' | grep -q sekrit-88"

# What runs is what was approved: a file edited after the request voids it.
printf 'CREATE TABLE six (id int);\n' >"$Q/006_six.sql"
outerr as "$BOT" migrate apply "$Q" --db "$PGURL"
id=$(od approvals --json | jq -r '.approvals[-1].id')
printf 'DROP TABLE five;\n' >"$Q/006_six.sql"
outerr as "$CAROL" approve "$id"
check "a file edited after the request: the grant does not run it (exit 1)" \
    bash -c "[ $rc = 1 ] && grep -q 'was for other arguments' '$T/err'"
five_there() { pg_psql -At -c 'SELECT 1 FROM five' >/dev/null 2>&1; }
nothing_ran() { [ "$(applied 006_six.sql)" = 0 ] && five_there; }
check "nothing of it ran" nothing_ran
check "and the request says it failed" test "$(od approvals --all --json | jq -r --argjson id "$id" '.approvals[] | select(.id == $id) | .state')" = failed

# A file that changes while the apply runs is refused by the daemon before it runs:
# the first file waits on a lock this test holds while the second is edited.
pg_psql -At -c "SELECT pg_advisory_lock(4242), pg_sleep(600)" >/dev/null 2>&1 &
holder=$!
holding() { [ "$(pg_psql -At -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted")" -ge 1 ]; }
check "the test holds the lock" wait_for 10 holding
printf 'SELECT pg_advisory_lock(4242);\nSELECT pg_advisory_unlock(4242);\n' >"$Q/006_six.sql"
printf 'CREATE TABLE seven (id int);\n' >"$Q/007_seven.sql"
as "$OLGA" migrate apply "$Q" --db "$PGURL" >/dev/null 2>&1 || true
id=$(od approvals --json | jq -r '.approvals[-1].id')
as "$CAROL" approve "$id" >"$T/out" 2>"$T/err" || true
waiting() { [ "$(pg_psql -At -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_advisory_lock(4242)%' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")" -ge 1 ]; }
check "the approved apply runs its first file, which waits on the lock" wait_for 10 waiting
printf 'CREATE TABLE eight (id int);\n' >"$Q/007_seven.sql"
pg_psql -At -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted" >/dev/null
wait "$holder" 2>/dev/null || true
seven_refused() { [ "$(ev result "AND actor = 'olga' ORDER BY id DESC LIMIT 1")" = failed ]; }
check "the edited second file is refused: the apply fails" wait_for 20 seven_refused
ev detail "AND actor = 'olga' ORDER BY id DESC LIMIT 1" >"$T/detail"
check "naming it and why" grep -q "007_seven.sql.*changed since the apply was asked for and approved" "$T/detail"
first_only() { [ "$(applied 006_six.sql)" = 1 ] && [ "$(applied 007_seven.sql)" = 0 ] &&
    [ "$(pg_psql -At -c "SELECT to_regclass('eight') IS NULL")" = t ]; }
check "the first file ran, the edited one did not" first_only
stop_daemon || true
