#!/bin/bash
# migrate dryrun as a user on a busy database sees it: the file's own SET cannot
# turn the safety timeouts off, Ctrl-C leaves no lock and no copy behind, kinds are
# named as lint names them, and what a rollback does not undo (sequences) is said.
# A real PostgreSQL 15 from tests/lib/pg.sh (its own temp dir and unix socket).
set -u
: "${OPSDECK:?path to the opsdeck binary}" "${OPSDECK_SRC:?repo root}"
. "$OPSDECK_SRC/tests/lib/pg.sh"
. "$OPSDECK_SRC/tests/lib/checks.sh"

pg_start || exit 1
W=$(mktemp -d /tmp/opsdeck-mdr.XXXXXX)
chmod 755 "$W"
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	rm -rf "$W"
	pg_stop
}
trap cleanup EXIT
jq() { command jq "$@" >/dev/null; }
run() {		# runs opsdeck (10 s at most), stdout in $W/out, stderr in $W/err, sets rc
	timeout 10 "$OPSDECK" "$@" >"$W/out" 2>"$W/err"
	rc=$?
}
ms() { date +%s%3N; }
# waits up to 10 s for SQL (on database postgres) to print t
wait_for() {
	local i
	for i in $(seq 100); do
		[ "$(pg_psql -At -c "$1")" = t ] && return 0
		sleep 0.1
	done
	return 1
}
locks_on() {	# relation locks of other backends on table $1 of dd
	PGDB=dd pg_psql -At -c "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
	    WHERE d.datname = 'dd' AND l.relation = '$1'::regclass
	    AND l.pid <> pg_backend_pid()"
}

# the dry runs use database dd, so that a copy of it can be made while the checks
# here stay connected to postgres
pg_psql -c "CREATE DATABASE dd" || exit 1
PGDB=dd pg_psql -c "CREATE TABLE t3 (x int); CREATE TABLE t4 (x int);
	CREATE TABLE t6 (x int); CREATE TABLE s1 (id int GENERATED ALWAYS AS IDENTITY, v int);
	INSERT INTO s1 (v) VALUES (0);" || exit 1
DB=$(pg_url dd)

# --- the file's SET cannot turn the safety timeouts off ---------------------------
"$PG_BIN/psql" -X -q -h "$PGDIR" -U postgres -d dd \
    -c "BEGIN; LOCK TABLE t3; SELECT pg_sleep(30); COMMIT;" >/dev/null 2>&1 &
holder=$!
wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = 'dd' AND query LIKE '%LOCK TABLE t3%' AND state = 'active')" ||
	bad "the lock holder did not start"
printf 'SET lock_timeout = 0;\nSET statement_timeout = 0;\nALTER TABLE t3 ADD COLUMN y int;\n' >"$W/lk2.sql"
t0=$(ms)
run migrate dryrun "$W/lk2.sql" --db "$DB" --lock-timeout 500ms
t=$(($(ms) - t0))
# the holder sleeps 30 s: failing well before is the dry run's own lock_timeout
check "lock_timeout = 0 in the file: still fails before the holder ends (took ${t} ms)" [ "$t" -lt 20000 ]
check "lock_timeout = 0 in the file: exit 1" [ "$rc" = 1 ]
check "lock_timeout = 0 in the file: the error names the lock timeout" grep -q "lock timeout" "$W/out"
check "the report says the file's lock_timeout was overridden" grep -q \
    "the file's lock_timeout 0 (none) is overridden: the dry run keeps --lock-timeout 500ms" "$W/out"
check "the report says the file's statement_timeout was overridden" grep -q \
    "the file's statement_timeout 0 (none) is overridden" "$W/out"
run migrate dryrun "$W/lk2.sql" --db "$DB" --lock-timeout 500ms --json
check "--json: the override on the SET statement" bash -c \
    "[ $rc = 1 ] && command jq -e '.timeouts_overridden and (.statements[0].timeout_override | test(\"lock_timeout\"))' '$W/out' >/dev/null"
# a stricter timeout in the file is the file's to keep
printf "SET lock_timeout = '100ms';\nALTER TABLE t3 ADD COLUMN y int;\n" >"$W/lk3.sql"
run migrate dryrun "$W/lk3.sql" --db "$DB" --lock-timeout 5s --json
check "a stricter lock_timeout in the file is kept" jq -e \
    '.statements[0].timeout_override == null and .statements[1].status == "error" and .statements[1].duration_ms < 2000' "$W/out"
kill "$holder" 2>/dev/null
pg_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dd' AND pid <> pg_backend_pid()" >/dev/null
wait "$holder" 2>/dev/null
holder=

# --- Ctrl-C: the statement is cancelled, nothing is left behind -----------------
# with job control, the background dry run gets SIGINT as from a terminal (a
# non-interactive shell would start it with SIGINT ignored)
set -m
printf 'ALTER TABLE t4 ADD COLUMN y int;\nSELECT pg_sleep(30);\n' >"$W/int.sql"
"$OPSDECK" migrate dryrun "$W/int.sql" --db "$DB" >"$W/out" 2>"$W/err" &
pid=$!
wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = 'dd' AND query = 'SELECT pg_sleep(30)' AND state = 'active')" ||
	bad "the dry run did not reach pg_sleep"
[ "$(locks_on t4)" -gt 0 ] || bad "while it runs, the dry run holds no lock on t4"
kill -INT "$pid"
t0=$(ms)
wait "$pid"
rc=$?
wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = 'dd' AND query = 'SELECT pg_sleep(30)' AND state = 'active')"
n=$(locks_on t4)
t=$(($(ms) - t0))
check "SIGINT: exit 130 ($rc) and no backend holds a lock on t4 before pg_sleep(30) ends (${t} ms, $n locks)" \
    [ "$rc" = 130 -a "$n" = 0 -a "$t" -lt 20000 ]
check "SIGINT: the report says the statement was cancelled and rolled back" grep -q \
    "interrupted by SIGINT: the statement was cancelled and the transaction rolled back" "$W/out"
# a backend left running would keep the copy below from being made
pg_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dd' AND pid <> pg_backend_pid()" >/dev/null
wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = 'dd')"

printf 'ALTER TABLE t4 ADD COLUMN y int;\nCREATE INDEX CONCURRENTLY t4_x ON t4 (x);\nSELECT pg_sleep(30);\n' >"$W/intc.sql"
"$OPSDECK" migrate dryrun "$W/intc.sql" --db "$DB" --allow-nontransactional >"$W/out" 2>"$W/err" &
pid=$!
wait_for "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname LIKE 'opsdeck_dryrun_%' AND query = 'SELECT pg_sleep(30)' AND state = 'active')" ||
	bad "the copy-mode dry run did not reach pg_sleep"
kill -INT "$pid"
t0=$(ms)
wait "$pid"
rc=$?
n=$(pg_psql -At -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'opsdeck_dryrun_%'")
t=$(($(ms) - t0))
check "SIGINT in copy mode: exit 130 ($rc) and no opsdeck_dryrun_* database remains ($n, ${t} ms)" \
    [ "$rc" = 130 -a "$n" = 0 -a "$t" -lt 20000 ]
check "SIGINT in copy mode: the report says the copy was dropped" grep -q \
    "interrupted by SIGINT: the temporary copy was dropped" "$W/out"
set +m

# --- kinds are named as lint names them ------------------------------------------
printf 'CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one;\nCREATE TABLE t5 AS SELECT 1 AS one;\nSELECT 1;\nINSERT INTO t6 VALUES (1);\n' >"$W/kinds.sql"
run migrate dryrun "$W/kinds.sql" --db "$DB" --json
check "kinds: CREATE MATERIALIZED VIEW, CREATE TABLE AS, SELECT, INSERT" jq -e \
    '[.statements[].kind] == ["CREATE MATERIALIZED VIEW", "CREATE TABLE AS", "SELECT", "INSERT"]' "$W/out"
run migrate dryrun "$W/kinds.sql" --db "$DB"
check "tty: CREATE MATERIALIZED VIEW named" grep -q "^   1:1   CREATE MATERIALIZED VIEW" "$W/out"

# --- what a rollback does not undo: sequences -------------------------------------
before=$(PGDB=dd pg_psql -At -c "SELECT last_value FROM s1_id_seq")
printf 'INSERT INTO s1 (v) VALUES (1), (2);\n' >"$W/seq.sql"
run migrate dryrun "$W/seq.sql" --db "$DB"
after=$(PGDB=dd pg_psql -At -c "SELECT last_value FROM s1_id_seq")
[ "$after" -gt "$before" ] || bad "the INSERT did not advance the sequence"
check "the report says sequences are not rolled back, naming it" grep -q \
    "sequences are not rolled back.*s1_id_seq $before -> $after" "$W/out"
check "and does not claim the database was not changed, full stop" bash -c \
    "! grep -q '^rolled back: the database was not changed\$' '$W/out'"
run migrate dryrun "$W/seq.sql" --db "$DB" --json
check "--json: sequences_advanced" jq -e \
    '.sequences_advanced | any(.sequence == "s1_id_seq")' "$W/out"
printf 'ALTER TABLE t6 ADD COLUMN z int;\n' >"$W/noseq.sql"
run migrate dryrun "$W/noseq.sql" --db "$DB" --json
cp "$W/out" "$W/noseq.json"
run migrate dryrun "$W/noseq.sql" --db "$DB"
check "no sequence advanced: none listed, the plain line" bash -c \
    "command jq -e '.sequences_advanced == []' '$W/noseq.json' >/dev/null && grep -q '^rolled back: the database was not changed\$' '$W/out'"

# --- statements that cannot run in a transaction: exit 0, said clearly --------------
printf 'ALTER TABLE t6 ADD COLUMN z int;\nCREATE INDEX CONCURRENTLY t6_x ON t6 (x);\nVACUUM t6;\n' >"$W/conc.sql"
run migrate dryrun "$W/conc.sql" --db "$DB"
check "not-run statements: exit 0 ($rc) and a warning with the count and how to run them" bash -c \
    "[ $rc = 0 ] && grep -q '^warning: 2 statements were not run: .*--allow-nontransactional' '$W/out'"
run migrate dryrun "$W/conc.sql" --db "$DB" --json
check "--json: not_run counts them" jq -e '.not_run == 2 and .ok' "$W/out"

# --- copy mode does not claim everything is held to the end -----------------------
run migrate dryrun "$W/conc.sql" --db "$DB" --allow-nontransactional
check "copy mode: exit 0 ($rc), no 'held until the end of the transaction'" bash -c \
    "[ $rc = 0 ] && ! grep -q 'all are held until the end of the transaction' '$W/out'"
check "copy mode: says non-transactional statements hold locks while they run" grep -q \
    "cannot run in a transaction holds its locks while it runs" "$W/out"

# --- a dropped table is named, not numbered ----------------------------------------
printf 'DROP TABLE t6;\n' >"$W/drop.sql"
run migrate dryrun "$W/drop.sql" --db "$DB"
check "DROP TABLE: the lock names t6" grep -q "lock ACCESS EXCLUSIVE on t6 " "$W/out"
check "DROP TABLE: no bare OID" bash -c "! grep -Eq 'lock .* on [0-9]+ ' '$W/out'"

echo "$fails failure(s)"
[ "$fails" = 0 ]
