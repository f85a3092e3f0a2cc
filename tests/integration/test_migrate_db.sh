#!/bin/bash
# migrate dryrun/apply/status/verify against a real PostgreSQL 15 started here
# (tests/lib/pg.sh: initdb in a temp dir, unix socket only).
set -u
: "${OPSDECK:?path to the opsdeck binary}" "${OPSDECK_SRC:?repo root}"
. "$OPSDECK_SRC/tests/lib/pg.sh"
. "$OPSDECK_SRC/tests/lib/checks.sh"

pg_start || exit 1
W=$(mktemp -d /tmp/opsdeck-mdb.XXXXXX)
chmod 755 "$W"
# --offline records each apply in this state dir's store, not the user's
export OPSDECK_STATE_DIR="$W/state"
trap 'rm -rf "$W"; pg_stop' EXIT
schema() { "$PG_BIN/pg_dump" -h "$PGDIR" -U postgres --schema-only "${1:-postgres}" |
	grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict'; }
jq() { command jq "$@" >/dev/null; }
run() {		# runs opsdeck, keeps stdout in $W/out, stderr in $W/err, sets rc
	"$OPSDECK" "$@" >"$W/out" 2>"$W/err"
	rc=$?
}

pg_psql -c "CREATE TABLE account (id bigint PRIMARY KEY, email text, score int);
	INSERT INTO account SELECT g, 'u' || g || '@x', g FROM generate_series(1, 300000) g;" ||
	exit 1

# --- dryrun: real locks, rewrites, nothing left behind --------------------------
cat >"$W/locks.sql" <<'SQL'
SET lock_timeout = '1s';
ALTER TABLE account ADD COLUMN nick text;
CREATE INDEX account_email_idx ON account (email);
ALTER TABLE account ALTER COLUMN score TYPE bigint;
CREATE TABLE audit (id int);
SQL
schema >"$W/before"
run migrate dryrun "$W/locks.sql" --db "$PGURL" --json
check "dryrun exits 0" [ "$rc" = 0 ]
j="$W/out"
check "ADD COLUMN takes ACCESS EXCLUSIVE on account" jq -e \
    '.statements[1].locks | any(.relation == "account" and .mode == "ACCESS EXCLUSIVE")' "$j"
check "CREATE INDEX takes SHARE on account" jq -e \
    '.statements[2].locks | any(.relation == "account" and .mode == "SHARE")' "$j"
check "ALTER COLUMN TYPE rewrites account" jq -e \
    '.statements[3].rewrites | any(.relation == "account" and .kind == "table")' "$j"
check "ADD COLUMN without default does not rewrite" jq -e \
    '.statements[1].rewrites | length == 0' "$j"
check "no lock reported on the new table" jq -e \
    '.statements[4].locks | length == 0' "$j"
check "durations reported" jq -e '[.statements[].duration_ms] | all(. >= 0)' "$j"
check "rolled back" jq -e '.rolled_back == true and .mode == "transaction"' "$j"
schema >"$W/after"
check "dryrun leaves the schema as it was" cmp -s "$W/before" "$W/after"
run migrate dryrun "$W/locks.sql" --db "$PGURL"
check "tty output names lock and line" grep -q "2:1 .*ALTER TABLE" "$W/out"
check "tty output names ACCESS EXCLUSIVE" grep -q "lock ACCESS EXCLUSIVE on account" "$W/out"

# CONCURRENTLY: reported, then run on a dropped TEMPLATE copy
cat >"$W/conc.sql" <<'SQL'
ALTER TABLE account ADD COLUMN flag boolean;
CREATE INDEX CONCURRENTLY account_score_idx ON account (score);
SQL
run migrate dryrun "$W/conc.sql" --db "$PGURL" --json
check "CONCURRENTLY reported as not run" jq -e \
    '.statements[1].status == "not-run" and (.statements[1].kind | test("CONCURRENTLY"))' "$W/out"
run migrate dryrun "$W/conc.sql" --db "$PGURL" --json --allow-nontransactional
check "--allow-nontransactional exits 0" [ "$rc" = 0 ]
check "runs on a copy" jq -e '.mode == "copy" and (.copy | startswith("opsdeck_dryrun_"))' "$W/out"
check "CONCURRENTLY takes SHARE UPDATE EXCLUSIVE (sampled)" jq -e \
    '.statements[1].status == "ok" and (.statements[1].locks | any(.mode == "SHARE UPDATE EXCLUSIVE"))' "$W/out"
n=$(pg_psql -At -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'opsdeck_dryrun_%'")
check "the copy was dropped" [ "$n" = 0 ]
schema >"$W/after"
check "the source database is unchanged" cmp -s "$W/before" "$W/after"

# a failing statement: exit 1, the error with its line, the rest not run
printf 'ALTER TABLE account ADD COLUMN z int;\nALTER TABLE nosuch ADD COLUMN y int;\nSELECT 1;\n' >"$W/fail.sql"
run migrate dryrun "$W/fail.sql" --db "$PGURL" --json
check "failing statement exits 1" [ "$rc" = 1 ]
check "error reported on line 2, line 3 not run" jq -e \
    '.statements[1].status == "error" and (.statements[1].error | test("nosuch")) and .statements[2].status == "not-run"' "$W/out"

# lock_timeout: another session holds the table
"$PG_BIN/psql" -X -q -h "$PGDIR" -U postgres -d postgres \
    -c "BEGIN; LOCK TABLE account IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;" \
    >/dev/null 2>&1 &
holder=$!
holding() { [ "$(pg_psql -At -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'account' AND l.mode = 'AccessExclusiveLock' AND l.granted")" -ge 1 ]; }
for _ in $(seq 100); do holding && break; sleep 0.1; done
run migrate dryrun "$W/locks.sql" --db "$PGURL" --lock-timeout 200ms
check "lock timeout reported with a hint" grep -q "lock timeout\|conflicting lock" "$W/out"
check "lock timeout exits 1" [ "$rc" = 1 ]
wait "$holder"

# --- apply: ledger, skip, changed, lint block + override, never half-recorded ---
M="$W/m"
mkdir "$M"
printf 'CREATE TABLE item (id bigint PRIMARY KEY, owner_id bigint, title text);\n' >"$M/001_item.sql"
printf 'SET lock_timeout = '"'"'2s'"'"';\nCREATE INDEX CONCURRENTLY item_owner_idx ON item (owner_id);\n' >"$M/002_item_owner.sql"
printf 'ALTER TABLE item DROP COLUMN title;\n' >"$M/003_drop_title.sql"
printf 'DROP TABLE item;\n' >"$M/001_item__down.sql"
run migrate status "$M" --db "$PGURL" --json
check "status before apply: all pending" jq -e '[.files[].status] == ["pending","pending","pending"]' "$W/out"
run migrate apply --offline "$M" --db "$PGURL" --actor alice
check "apply stops at a lint error" [ "$rc" = 1 ]
check "the lint error is named" grep -q "drop-column" "$W/out"
check "down files are not applied" bash -c "! grep -q __down '$W/out'"
rows=$(pg_psql -At -c "SELECT string_agg(file || ':' || applied_by, ',' ORDER BY file) FROM opsdeck_migrations")
check "ledger has the two clean files" [ "$rows" = "001_item.sql:alice,002_item_owner.sql:alice" ]
run migrate apply --offline "$M" --db "$PGURL" --override "title moved to item_text, ticket 42" --actor bob
check "apply with --override exits 0" [ "$rc" = 0 ]
check "applied files skipped" grep -q "^skipped  001_item.sql" "$W/out"
reason=$(pg_psql -At -c "SELECT override_reason || '/' || applied_by FROM opsdeck_migrations WHERE file = '003_drop_title.sql'")
check "override reason recorded" [ "$reason" = "title moved to item_text, ticket 42/bob" ]
sha=$(pg_psql -At -c "SELECT sha256 FROM opsdeck_migrations WHERE file = '001_item.sql'")
check "sha256 recorded" [ "$sha" = "$(sha256sum "$M/001_item.sql" | cut -d' ' -f1)" ]
dur=$(pg_psql -At -c "SELECT count(*) FROM opsdeck_migrations WHERE duration_ms >= 0 AND applied_at <= now()")
check "duration and time recorded" [ "$dur" = 3 ]

# a file that fails halfway is not recorded and leaves nothing
printf 'CREATE TABLE half (id int);\nINSERT INTO nosuch VALUES (1);\n' >"$M/004_half.sql"
run migrate apply --offline "$M" --db "$PGURL"
check "halfway failure exits 1" [ "$rc" = 1 ]
check "halfway failure names file and line" grep -q "004_half.sql:2:1" "$W/out"
n=$(pg_psql -At -c "SELECT count(*) FROM opsdeck_migrations WHERE file = '004_half.sql'")
check "halfway file not recorded" [ "$n" = 0 ]
n=$(pg_psql -At -c "SELECT to_regclass('half') IS NULL")
check "halfway file's first statement rolled back" [ "$n" = t ]
# a file that cannot run in one transaction and fails after a committed CONCURRENTLY
printf 'CREATE INDEX CONCURRENTLY item_id2_idx ON item (id);\nALTER TABLE nosuch ADD COLUMN x int;\n' >"$M/004_half.sql"
run migrate apply --offline "$M" --db "$PGURL"
n=$(pg_psql -At -c "SELECT count(*) FROM opsdeck_migrations WHERE file = '004_half.sql'")
check "nontransactional halfway file not recorded" [ "$n" = 0 ]
check "says what was committed" grep -q "NOT recorded" "$W/out"
rm "$M/004_half.sql"

# status: applied, pending, changed
printf 'ALTER TABLE item ADD COLUMN note text;\n' >"$M/005_note.sql"
printf -- '-- edited after the fact\n' >>"$M/001_item.sql"
run migrate status "$M" --db "$PGURL" --json
check "status lists applied/pending/changed" jq -e \
    '[.files[] | .file + "=" + .status] == ["001_item.sql=changed","002_item_owner.sql=applied","003_drop_title.sql=applied","005_note.sql=pending"]' "$W/out"
check "status exits 1 with a changed file" [ "$rc" = 1 ]
run migrate status "$M" --db "$PGURL"
check "status tty" grep -q "^pending  005_note.sql" "$W/out"
run migrate apply --offline "$M" --db "$PGURL"
check "changed file refused" grep -q "changed since it was applied" "$W/out"
check "changed file refusal exits 1" [ "$rc" = 1 ]
n=$(pg_psql -At -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'item'::regclass AND attname = 'note'")
check "nothing after the changed file ran" [ "$n" = 0 ]

# --- apply: the config's lint settings, a clean session per file, override, empty
# files, server notices (each on its own database) ---------------------------------
for d in ap_cfg ap_set ap_ovr ap_empty ap_notice; do
	pg_psql -c "CREATE DATABASE $d" || exit 1
done
C="$W/cfg"
mkdir -p "$C/m"
cat >"$C/opsdeck.yaml" <<'YAML'
apps:
  web-app:
    processes:
      web: {command: ["/bin/true"]}
migrate:
  exclude: [foreign-key-not-valid]
  policy: additive-only
YAML
PGDB=ap_cfg pg_psql -c "CREATE TABLE parent (id int PRIMARY KEY);
	CREATE TABLE child (id int, parent_id int, note int)"
printf 'ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id);\n' >"$C/m/001_fk.sql"
printf 'UPDATE child SET note = 1 WHERE id = 1;\n' >"$C/m/002_update.sql"
(cd "$C" && "$OPSDECK" migrate lint m --format gcc >"$W/lint.out" 2>&1)
check "lint with ./opsdeck.yaml: the excluded rule is not reported" bash -c \
    "! grep -q foreign-key-not-valid '$W/lint.out' && grep -q 'error: UPDATE is not additive' '$W/lint.out'"
(cd "$C" && "$OPSDECK" migrate apply --offline m --db "$(pg_url ap_cfg)" >"$W/out" 2>"$W/err")
rc=$?
check "apply with ./opsdeck.yaml: what lint excludes does not block" grep -q "^applied  001_fk.sql" "$W/out"
check "apply with ./opsdeck.yaml: the policy lint applies blocks" bash -c \
    "grep -q '^blocked  002_update.sql' '$W/out' && grep -q '002_update.sql:1:1: additive-only' '$W/out'"
check "apply blocked by the policy exits 1" [ "$rc" = 1 ]
n=$(PGDB=ap_cfg pg_psql -At -c "SELECT count(*) FROM child WHERE note = 1")
rows=$(PGDB=ap_cfg pg_psql -At -c "SELECT string_agg(file, ',' ORDER BY file) FROM opsdeck_migrations")
check "the UPDATE did not run, the FK file is recorded" [ "$n/$rows" = "0/001_fk.sql" ]
PGDB=ap_cfg pg_psql -c "DROP TABLE opsdeck_migrations; ALTER TABLE child DROP CONSTRAINT IF EXISTS child_parent_fk"
run -c "$C/opsdeck.yaml" migrate apply --offline "$C/m/001_fk.sql" --db "$(pg_url ap_cfg)"
check "apply -c FILE follows its migrate: section" [ "$rc" = 0 ]
OPSDECK_CONFIG="$C/opsdeck.yaml" run migrate apply --offline "$C/m/002_update.sql" --db "$(pg_url ap_cfg)"
check "apply with \$OPSDECK_CONFIG follows its policy" bash -c "[ $rc = 1 ] && grep -q additive-only '$W/out'"
sed -i 's/policy: additive-only/policy: bogus/' "$C/opsdeck.yaml"
run -c "$C/opsdeck.yaml" migrate apply --offline "$C/m" --db "$(pg_url ap_cfg)"
check "a config with errors stops apply (exit 2) naming the place" bash -c \
    "[ $rc = 2 ] && grep -q 'migrate.policy' '$W/err'"

# a SET in one file does not reach the next; SET ROLE neither
S="$W/set"
mkdir "$S"
PGDB=ap_set pg_psql -c "CREATE SCHEMA app; CREATE ROLE ap_owner; GRANT USAGE, CREATE ON SCHEMA app TO ap_owner"
printf 'SET search_path = app;\nSET ROLE ap_owner;\nCREATE TABLE a_one (id int);\n' >"$S/001_set.sql"
printf 'CREATE TABLE t_two (id int);\n' >"$S/002_plain.sql"
run migrate apply --offline "$S" --db "$(pg_url ap_set)"
check "apply of a file with SET exits 0" [ "$rc" = 0 ]
where=$(PGDB=ap_set pg_psql -At -c "SELECT n.nspname || '/' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE relname = 't_two'")
check "the next file runs with the default search_path and role" [ "$where" = "public/postgres" ]
where=$(PGDB=ap_set pg_psql -At -c "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE relname = 'a_one'")
check "the SET applies within its own file" [ "$where" = app ]

# --override is recorded only on the files whose lint errors it overrode
O="$W/ovr"
mkdir "$O"
printf 'CREATE TABLE clean (id int);\n' >"$O/001_clean.sql"
printf 'CREATE TABLE dirty2 (id int);\nDROP TABLE clean;\n' >"$O/003_dirty.sql"
run migrate apply --offline "$O" --db "$(pg_url ap_ovr)" --override "ticket 7"
check "apply with --override exits 0" [ "$rc" = 0 ]
rows=$(PGDB=ap_ovr pg_psql -At -c "SELECT string_agg(file || '=' || coalesce(override_reason, '-'), ',' ORDER BY file) FROM opsdeck_migrations")
check "the reason is recorded only on files with lint errors" \
    [ "$rows" = "001_clean.sql=-,003_dirty.sql=ticket 7" ]
check "the lint-clean file's output does not claim an override" bash -c \
    "grep -q '^applied  001_clean.sql ([0-9]* ms)\$' '$W/out' && grep -q '^applied  003_dirty.sql.*overridden: ticket 7' '$W/out'"

# empty and comment-only files (Prisma writes "-- This is an empty migration.")
E="$W/empty"
mkdir "$E"
: >"$E/001_nothing.sql"
printf -- '-- This is an empty migration.\n' >"$E/002_prisma_empty.sql"
printf 'CREATE TABLE after_empty (id int);\n' >"$E/003_after.sql"
run migrate apply --offline "$E" --db "$(pg_url ap_empty)"
check "empty and comment-only files do not block the directory" [ "$rc" = 0 ]
rows=$(PGDB=ap_empty pg_psql -At -c "SELECT string_agg(file, ',' ORDER BY file) FROM opsdeck_migrations")
check "empty files are recorded as applied" [ "$rows" = "001_nothing.sql,002_prisma_empty.sql,003_after.sql" ]
check "the output says the file held no statement" grep -q "no SQL statement: recorded as applied" "$W/out"
run migrate status "$E" --db "$(pg_url ap_empty)" --json
check "status shows the empty files applied" jq -e '[.files[].status] == ["applied","applied","applied"]' "$W/out"

# server NOTICE/WARNING: on their own line, named with the file; in --json per file
N="$W/notice"
mkdir "$N"
printf 'CREATE TABLE IF NOT EXISTS opsdeck_migrations (x int);\n' >"$N/001_exists.sql"
printf 'DO $$BEGIN RAISE WARNING %s; END$$;\n' "'careful now'" >"$N/002_warn.sql"
run migrate apply --offline "$N" --db "$(pg_url ap_notice)" --override "notices"
check "apply with notices exits 0" [ "$rc" = 0 ]
check "no raw NOTICE on stderr" bash -c "! grep -q 'NOTICE\|WARNING' '$W/err'"
check "a NOTICE on its own line, with the file" grep -q \
    '^  notice (001_exists.sql): relation "opsdeck_migrations" already exists, skipping$' "$W/out"
check "a WARNING on its own line, with the file" grep -q \
    '^  warning (002_warn.sql): careful now$' "$W/out"
printf 'DO $$BEGIN RAISE NOTICE %s; END$$;\n' "'hello json'" >"$N/003_json.sql"
run migrate apply --offline "$N" --db "$(pg_url ap_notice)" --override "notices" --json
check "--json: notices in the file's entry, stderr quiet" bash -c \
    "command jq -e '.files[2].notices == [{\"severity\":\"notice\",\"message\":\"hello json\"}]' '$W/out' >/dev/null && ! [ -s '$W/err' ]"

# --- verify -------------------------------------------------------------------
cat >"$W/v.sql" <<'SQL'
CREATE TABLE shelf (id bigint PRIMARY KEY, item_id bigint, label text,
	CONSTRAINT shelf_label_len CHECK (length(label) < 100));
ALTER TABLE shelf ADD COLUMN pos int;
ALTER TABLE shelf ADD CONSTRAINT shelf_item_fk FOREIGN KEY (item_id) REFERENCES item (id) NOT VALID;
ALTER TABLE shelf VALIDATE CONSTRAINT shelf_item_fk;
CREATE INDEX shelf_item_idx ON shelf (item_id);
CREATE VIEW shelf_v AS SELECT * FROM shelf;
SQL
run migrate verify "$W/v.sql" --db "$PGURL" --json
check "verify before apply exits 1" [ "$rc" = 1 ]
check "verify finds the table missing" jq -e '.checks | any(.kind == "relation" and .object == "\"shelf\"" and .status == "missing")' "$W/out"
"$OPSDECK" migrate apply --offline "$W/v.sql" --db "$PGURL" --override "test" >/dev/null 2>&1
run migrate verify "$W/v.sql" --db "$PGURL" --json
check "verify after apply exits 0" [ "$rc" = 0 ]
check "verify checks tables, columns, indexes, constraints" jq -e \
    '[.checks[].kind] | (index("relation") and index("column") and index("index") and index("constraint")) != null' "$W/out"
check "verify shows EXPLAIN using the new index" jq -e \
    '.checks[] | select(.kind == "index") | (.plan | test("shelf_item_idx")) and .uses_index' "$W/out"
pg_psql -c "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'shelf_item_idx'::regclass"
run migrate verify "$W/v.sql" --db "$PGURL"
check "verify reports an invalid index" grep -q "^invalid .*shelf_item_idx" "$W/out"
check "invalid index exits 1" [ "$rc" = 1 ]

# unnamed indexes and constraints are found by table, type and columns; triggers by
# table and name. A later DROP in the file (trigger, column) takes them off the list.
cat >"$W/vu.sql" <<'SQL'
CREATE TABLE bin (id bigint PRIMARY KEY, item_id bigint REFERENCES item (id),
	qty int CHECK (qty >= 0), code text, lo bigint, hi bigint);
ALTER TABLE bin ADD CHECK (lo < hi), ADD FOREIGN KEY (lo) REFERENCES item (id);
ALTER TABLE bin ADD UNIQUE (code);
CREATE INDEX ON bin (item_id, qty);
CREATE UNIQUE INDEX ON bin (lower(code));
CREATE FUNCTION bin_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER bin_touch BEFORE UPDATE ON bin FOR EACH ROW EXECUTE FUNCTION bin_touch();
CREATE TRIGGER bin_quiet BEFORE UPDATE ON bin FOR EACH ROW EXECUTE FUNCTION bin_touch();
ALTER TABLE bin DISABLE TRIGGER bin_quiet;
CREATE TRIGGER bin_tmp BEFORE UPDATE ON bin FOR EACH ROW EXECUTE FUNCTION bin_touch();
DROP TRIGGER bin_tmp ON bin;
ALTER TABLE bin ADD COLUMN tmp int UNIQUE;
CREATE INDEX ON bin (tmp, qty);
ALTER TABLE bin DROP COLUMN tmp;
SQL
"$OPSDECK" migrate apply --offline "$W/vu.sql" --db "$PGURL" --override "test" >/dev/null 2>&1
run migrate verify "$W/vu.sql" --db "$PGURL" --json
check "verify of unnamed objects after apply exits 0" [ "$rc" = 0 ]
check "unnamed index found by its columns" jq -e \
    '.checks | any(.kind == "index" and .columns == ["item_id","qty"] and .index == "bin_item_id_qty_idx" and .status == "ok")' "$W/out"
check "unnamed unique expression index found" jq -e \
    '.checks | any(.kind == "index" and .unique and .columns == [null] and .index == "bin_lower_idx" and .status == "ok")' "$W/out"
check "unnamed FOREIGN KEYs found, table and column ones" jq -e \
    '[.checks[] | select(.constraint_type == "FOREIGN KEY" and .status == "ok") | .constraint] == ["bin_item_id_fkey","bin_lo_fkey"]' "$W/out"
check "unnamed CHECKs found by the columns they name" jq -e \
    '[.checks[] | select(.constraint_type == "CHECK" and .status == "ok") | .constraint] == ["bin_qty_check","bin_check"]' "$W/out"
check "unnamed UNIQUE and PRIMARY KEY found" jq -e \
    '[.checks[] | select(.constraint_type == "UNIQUE" or .constraint_type == "PRIMARY KEY") | .constraint] == ["bin_pkey","bin_code_key"]' "$W/out"
check "triggers checked, the one the file disables too" jq -e \
    '[.checks[] | select(.kind == "trigger") | "\(.name)=\(.enabled)=\(.status)"] == ["bin_touch=true=ok","bin_quiet=false=ok"]' "$W/out"
check "what the file drops again is not expected" jq -e \
    '.checks | all((.name // "") != "bin_tmp" and (.name // "") != "tmp" and ((.columns // []) | index("tmp")) == null)' "$W/out"
run migrate verify "$W/vu.sql" --db "$PGURL"
check "tty output names an unnamed index by its columns" grep -q \
    '^ok  *.*vu.sql:5: index (item_id, qty) of "bin": bin_item_id_qty_idx$' "$W/out"
pg_psql -c "DROP INDEX bin_item_id_qty_idx;
	ALTER TABLE bin DROP CONSTRAINT bin_lo_fkey, ADD FOREIGN KEY (lo) REFERENCES item (id) NOT VALID;
	ALTER TABLE bin DROP CONSTRAINT bin_check, ADD CHECK (lo < hi) NOT VALID;
	ALTER TABLE bin DISABLE TRIGGER bin_touch;"
run migrate verify "$W/vu.sql" --db "$PGURL"
check "broken unnamed objects: exit 1" [ "$rc" = 1 ]
check "dropped unnamed index reported missing" grep -q \
    '^missing .*vu.sql:5: index (item_id, qty) of "bin"$' "$W/out"
check "NOT VALID unnamed FOREIGN KEY reported" grep -q \
    '^not-validated .*vu.sql:3: constraint FOREIGN KEY (lo) of "bin": bin_lo_fkey$' "$W/out"
check "NOT VALID unnamed CHECK reported" grep -q \
    '^not-validated .*vu.sql:3: constraint CHECK (hi, lo) of "bin": bin_check$' "$W/out"
check "NOT VALID says how to validate" grep -q \
    'run ALTER TABLE "bin" VALIDATE CONSTRAINT bin_check$' "$W/out"
check "disabled trigger reported" grep -q \
    '^disabled .*vu.sql:8: trigger bin_touch of "bin"$' "$W/out"
check "disabled trigger says how to enable it" grep -q \
    'run ALTER TABLE "bin" ENABLE TRIGGER bin_touch$' "$W/out"
check "exactly the four broken objects are problems" grep -q '^4 problems$' "$W/out"

# DROP TABLE takes with it what belongs to the table, named index included
printf 'CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\nDROP TABLE t;\n' >"$W/vd.sql"
"$OPSDECK" migrate apply --offline "$W/vd.sql" --db "$PGURL" --override "test" >/dev/null 2>&1
run migrate verify "$W/vd.sql" --db "$PGURL" --json
check "verify after CREATE INDEX and DROP TABLE exits 0" [ "$rc" = 0 ]
check "a named index of a dropped table is not expected" jq -e \
    '.checks | all(.object != "\"t_a\"")' "$W/out"
# the same for what else goes with the object: DROP COLUMN, MATERIALIZED VIEW,
# SCHEMA … CASCADE, TYPE, FUNCTION
cat >"$W/vd2.sql" <<'SQL'
CREATE TABLE t2 (a int, b int);
CREATE INDEX t2_b ON t2 (b);
ALTER TABLE t2 ADD CONSTRAINT t2_b_pos CHECK (b > 0);
ALTER TABLE t2 DROP COLUMN b;
CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one;
CREATE INDEX mv_one ON mv (one);
DROP MATERIALIZED VIEW mv;
CREATE SCHEMA gone;
CREATE TABLE gone.u (b int CONSTRAINT u_b_pos CHECK (b > 0));
CREATE INDEX u_b ON gone.u (b);
CREATE TYPE gone.mood AS ENUM ('up');
DROP SCHEMA gone CASCADE;
CREATE TYPE mood2 AS ENUM ('x');
DROP TYPE mood2;
CREATE FUNCTION f2() RETURNS int LANGUAGE sql AS 'SELECT 1';
DROP FUNCTION f2();
SQL
"$OPSDECK" migrate apply --offline "$W/vd2.sql" --db "$PGURL" --override "test" >/dev/null 2>&1
run migrate verify "$W/vd2.sql" --db "$PGURL" --json
check "verify after drops of what the file made exits 0" [ "$rc" = 0 ]
check "DROP COLUMN takes its named index and constraint" jq -e \
    '.checks | all(.object != "\"t2_b\"" and (.name // "") != "t2_b_pos")' "$W/out"
check "DROP MATERIALIZED VIEW takes its index" jq -e \
    '.checks | all(.object != "\"mv_one\"")' "$W/out"
check "DROP SCHEMA CASCADE takes all in it" jq -e \
    '.checks | all(.object | startswith("\"gone\"") | not) and all(.object != "gone")' "$W/out"
check "DROP TYPE and DROP FUNCTION take theirs" jq -e \
    '.checks | all(.object != "\"mood2\"" and .object != "f2")' "$W/out"
check "what stays is still checked" jq -e \
    '.checks | any(.kind == "column" and .object == "\"t2\"" and .name == "a" and .status == "ok")' "$W/out"

# RENAME TO carries what belongs to the table (and a renamed index) to the new name
cat >"$W/vr.sql" <<'SQL'
CREATE TABLE r1 (a int CONSTRAINT r1_a_pos CHECK (a > 0), b int);
CREATE INDEX r1_a ON r1 (a);
CREATE INDEX ON r1 (b);
ALTER TABLE r1 RENAME TO r2;
CREATE INDEX r1_ab ON r2 (a, b);
ALTER INDEX r1_ab RENAME TO r2_ab;
SQL
"$OPSDECK" migrate apply --offline "$W/vr.sql" --db "$PGURL" --override "test" >/dev/null 2>&1
run migrate verify "$W/vr.sql" --db "$PGURL" --json
check "verify after RENAME TO exits 0" [ "$rc" = 0 ]
check "the renamed table is checked under its new name" jq -e \
    '.checks | any(.kind == "relation" and .object == "\"r2\"" and .status == "ok") and all(.object != "\"r1\"")' "$W/out"
check "a named index is checked on the renamed table" jq -e \
    '.checks | any(.kind == "index" and .object == "\"r1_a\"" and .table == "\"r2\"" and .status == "ok")' "$W/out"
check "an unnamed index is found on the renamed table" jq -e \
    '.checks | any(.kind == "index" and .object == "\"r2\"" and .columns == ["b"] and .index == "r1_b_idx" and .status == "ok")' "$W/out"
check "a column and a named constraint follow the table" jq -e \
    '.checks | any(.kind == "constraint" and .object == "\"r2\"" and .name == "r1_a_pos" and .status == "ok") and any(.kind == "column" and .object == "\"r2\"" and .name == "b")' "$W/out"
check "a renamed index is checked under its new name" jq -e \
    '.checks | any(.kind == "index" and .object == "\"r2_ab\"" and .status == "ok") and all(.object != "\"r1_ab\"")' "$W/out"
pg_psql -c "DROP INDEX r1_b_idx, r1_a"
run migrate verify "$W/vr.sql" --db "$PGURL"
check "indexes gone from the renamed table reported missing" bash -c \
    "grep -q '^missing .*vr.sql:2: index \"r1_a\" on \"r2\"\$' '$W/out' && grep -q '^missing .*vr.sql:3: index (b) of \"r2\"\$' '$W/out'"

# column names with quotes, commas, braces and a backslash reach the lookups intact
cat >"$W/vw.sql" <<'SQL'
CREATE TABLE odd ("we,ird""{col}\" int, n int);
CREATE INDEX ON odd ("we,ird""{col}\", n);
ALTER TABLE odd ADD CHECK ("we,ird""{col}\" > n);
SQL
"$OPSDECK" migrate apply --offline "$W/vw.sql" --db "$PGURL" --override "test" >/dev/null 2>&1
run migrate verify "$W/vw.sql" --db "$PGURL" --json
check "verify of an odd column name exits 0" [ "$rc" = 0 ]
check "unnamed index on an odd column name found" jq -e \
    '.checks | any(.kind == "index" and .columns == ["we,ird\"{col}\\", "n"] and .index != null and .status == "ok")' "$W/out"
check "unnamed CHECK on an odd column name found" jq -e \
    '.checks | any(.constraint_type == "CHECK" and .columns == ["n", "we,ird\"{col}\\"] and .constraint == "odd_check" and .status == "ok")' "$W/out"
pg_psql -c 'ALTER TABLE odd DROP CONSTRAINT odd_check'
run migrate verify "$W/vw.sql" --db "$PGURL" --json
check "a dropped CHECK on an odd column name is missing" jq -e \
    '.checks | any(.constraint_type == "CHECK" and .status == "missing")' "$W/out"

# a named index is compared with the file (table, key columns in order, uniqueness);
# a function the file qualifies is looked for in that schema
cat >"$W/vx.sql" <<'SQL'
CREATE SCHEMA s;
CREATE TABLE some_table (a int, b int);
CREATE UNIQUE INDEX ix_u ON some_table (a);
CREATE UNIQUE INDEX ix_e ON some_table (lower(b::text));
CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
SQL
"$OPSDECK" migrate apply --offline "$W/vx.sql" --db "$PGURL" --override "test" >/dev/null 2>&1
run migrate verify "$W/vx.sql" --db "$PGURL" --json
check "verify of a named unique index and a qualified function exits 0, naming s.f" bash -c \
    "[ $rc = 0 ] && command jq -e '.checks | any(.kind == \"function\" and .object == \"s.f\" and .status == \"ok\")' '$W/out' >/dev/null"
pg_psql -c "DROP INDEX ix_u; CREATE INDEX ix_u ON some_table (b);
	DROP INDEX ix_e; CREATE INDEX ix_e ON some_table (lower(a::text));
	DROP FUNCTION s.f(); CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'"
run migrate verify "$W/vx.sql" --db "$PGURL"
check "a changed named index and a moved function: exit 1" [ "$rc" = 1 ]
check "a named index on other columns, not unique, is reported different" bash -c \
    "grep -q '^different .*vx.sql:3: index \"ix_u\" on \"some_table\"\$' '$W/out' &&
     grep -q 'on (b), the file says (a); not unique, the file says UNIQUE' '$W/out'"
check "an expression index is compared by table and uniqueness only" bash -c \
    "grep -q '^different .*vx.sql:4: index \"ix_e\"' '$W/out' && ! grep -q 'the file says (' <(grep -A1 'vx.sql:4:' '$W/out')"
check "a function gone from its schema is missing, named with the schema" grep -q \
    '^missing .*vx.sql:5: function s.f$' "$W/out"
check "exactly the three are problems" grep -q '^3 problems$' "$W/out"

# --- bad input and connection errors --------------------------------------------
run migrate apply --offline "$M" --db "postgresql://%zz"
check "bad URL: usage error, exit 2" [ "$rc" = 2 ]
check "bad URL: says so" grep -q "invalid database URL" "$W/err"
run migrate status "$M" --db "host=x password=sekrit bogus=1"
check "bad conninfo: usage error, exit 2" [ "$rc" = 2 ]
check "bad conninfo: shows it without the password, with libpq's reason" grep -q \
    "invalid database URL 'host=x password=\*\*\* bogus=1': invalid connection option \"bogus\"" "$W/err"
check "bad conninfo: the password is not printed" bash -c "! grep -q sekrit '$W/err'"
run migrate status "$M" --db "postgresql:///postgres?host=$W/nosock"
check "unreachable: exit 1" [ "$rc" = 1 ]
check "unreachable: clear message" grep -q "unreachable server.*start the server" "$W/err"
pg_psql -c "CREATE ROLE app LOGIN PASSWORD 'right'; CREATE ROLE reader LOGIN;"
pg_require_password app
run migrate status "$M" --db "postgresql://app:wrong@/postgres?host=$PGDIR"
check "wrong password: clear message" grep -q "wrong credentials" "$W/err"
check "wrong password: the password is not printed" bash -c "! grep -q wrong@ '$W/err'"
run migrate apply --offline "$W/v.sql" --db "postgresql:///postgres?host=$PGDIR&user=nosuchrole"
check "unknown role: clear message" grep -q "wrong credentials.*role" "$W/err"
mkdir "$W/p" && printf 'CREATE TABLE p (id int);\n' >"$W/p/001.sql"
run migrate apply --offline "$W/p" --db "postgresql:///postgres?host=$PGDIR&user=reader"
check "missing permission: exit 1" [ "$rc" = 1 ]
check "missing permission: clear message" grep -qh "permission denied.*GRANT" "$W/err" "$W/out"
run migrate dryrun "$W/v.sql" --db "postgresql:///nosuchdb?host=$PGDIR&user=postgres"
check "missing database: clear message" grep -q "no such database" "$W/err"
: >"$W/empty.sql"
run migrate dryrun "$W/empty.sql" --db "$PGURL"
check "empty file: exit 1 with a message" grep -q "no SQL statements" "$W/err"
printf 'SELECT 1;\nCREATE TABLE t (id int,);\n' >"$W/syntax.sql"
run migrate dryrun "$W/syntax.sql" --db "$PGURL"
check "syntax error: position" grep -q "syntax.sql:2:24: syntax error" "$W/err"
check "syntax error: exit 1" [ "$rc" = 1 ]
run migrate dryrun "$W/v.sql"
check "missing --db: usage exit 2" [ "$rc" = 2 ]

# --- rollback-sql ---------------------------------------------------------------
cat >"$W/rb.sql" <<'SQL'
CREATE TABLE "Order" (id int PRIMARY KEY);
ALTER TABLE item ADD COLUMN "select" int, ADD CONSTRAINT item_sel_uq UNIQUE ("select");
ALTER TABLE item RENAME COLUMN owner_id TO user_id;
UPDATE item SET user_id = 0;
SQL
run migrate rollback-sql "$W/rb.sql" --json
check "rollback-sql exits 1 when something is irreversible" [ "$rc" = 1 ]
check "irreversible UPDATE listed with its reason" jq -e \
    '.statements[3].status == "irreversible" and (.statements[3].reason | test("data"))' "$W/out"
check "down SQL in reverse order with quoting" jq -e \
    '.sql | test("RENAME COLUMN user_id TO owner_id;[\\s\\S]*DROP CONSTRAINT item_sel_uq, DROP COLUMN \"select\";[\\s\\S]*DROP TABLE \"Order\";")' "$W/out"
command jq -r .sql "$W/out" >"$W/down.sql"
sed -i '/^UPDATE/d' "$W/rb.sql"
pg_psql -f "$W/rb.sql" && pg_psql -f "$W/down.sql"
n=$(pg_psql -At -c "SELECT to_regclass('\"Order\"') IS NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'item'::regclass AND attname = 'owner_id')")
check "the generated down runs and undoes the up" [ "$n" = t ]

# IF NOT EXISTS column, unnamed constraints, primary key on an existing column
cat >"$W/rb6.sql" <<'SQL'
ALTER TABLE item ADD COLUMN IF NOT EXISTS user_id bigint;
ALTER TABLE item ADD UNIQUE (user_id);
ALTER TABLE item ADD FOREIGN KEY (user_id) REFERENCES item (id);
SQL
run migrate rollback-sql "$W/rb6.sql" --json
check "ADD COLUMN IF NOT EXISTS: not claimed reversible (exit 1)" bash -c \
    "[ $rc = 1 ] && command jq -e '.reversible == false and .conditional == 1' '$W/out' >/dev/null"
check "ADD COLUMN IF NOT EXISTS: conditional, with a warning" jq -e \
    '.statements[0].status == "conditional" and (.statements[0].reason | test("even if it existed before"))' "$W/out"
check "unnamed UNIQUE and FOREIGN KEY: irreversible, asking for a name" jq -e \
    '[.statements[1,2] | .status == "irreversible" and (.reason | test("name the constraint"))] == [true, true]' "$W/out"
check "no guessed constraint name is dropped" jq -e '.sql | test("DROP CONSTRAINT") | not' "$W/out"
run migrate rollback-sql "$W/rb6.sql"
check "the script warns about the pre-existing column" grep -q \
    '^-- WARNING: .*only if missing' "$W/out"
# the column existed with data: the down must not be claimed safe
printf 'ALTER TABLE item ADD COLUMN IF NOT EXISTS user_id bigint;\n' >"$W/rb6b.sql"
run migrate rollback-sql "$W/rb6b.sql"
check "a file of only ADD COLUMN IF NOT EXISTS exits 1" [ "$rc" = 1 ]
check "and says why on stderr" grep -q "IF NOT EXISTS" "$W/err"
# two unnamed UNIQUE on the same column: PostgreSQL names them _key and _key1
printf 'ALTER TABLE item ADD UNIQUE (id);\nALTER TABLE item ADD UNIQUE (id);\n' >"$W/rb6c.sql"
run migrate rollback-sql "$W/rb6c.sql" --json
check "two unnamed UNIQUE: both irreversible, no identical DROPs" jq -e \
    '.irreversible == 2 and ([.statements[].down] == [null, null])' "$W/out"
# unnamed constraints of a table the file creates go with its DROP
printf 'CREATE TABLE fresh (id int, email text);\nALTER TABLE fresh ADD UNIQUE (email);\nALTER TABLE fresh ADD PRIMARY KEY (id);\n' >"$W/rb6d.sql"
run migrate rollback-sql "$W/rb6d.sql" --json
check "unnamed constraints on a new table: subsumed, exit 0" bash -c \
    "[ $rc = 0 ] && command jq -e '[.statements[1,2].status] == [\"subsumed\",\"subsumed\"]' '$W/out' >/dev/null"
# ADD PRIMARY KEY on an existing nullable column: the down drops the key but the
# column stays NOT NULL; the output says so
pg_psql -c "CREATE TABLE pk_later (id int, v text)"
printf 'ALTER TABLE pk_later ADD PRIMARY KEY (id);\n' >"$W/rb6e.sql"
run migrate rollback-sql "$W/rb6e.sql" --json
check "ADD PRIMARY KEY: reversed with a NOT NULL note" jq -e \
    '.statements[0].status == "reversed" and (.statements[0].reason | test("stay NOT NULL")) and (.sql | test("DROP CONSTRAINT pk_later_pkey"))' "$W/out"

echo "$fails failure(s)"
[ "$fails" = 0 ]
