#!/bin/bash
# migrate lint over the shared corpus of real migrations (documenso, lemmy): no
# crash, and the summary (findings per rule, parse errors with file:line:col) equals
# the committed tests/migrate/corpus-summary.txt. Also the CLI contract: exit codes,
# formats, the generated rules doc.
#
# Regenerate the summary after a deliberate rule change (and review the diff):
#   OPSDECK=build/opsdeck OPSDECK_SRC=. OPSDECK_REGEN=1 bash tests/integration/test_migrate_corpus.sh
set -u

: "${OPSDECK:?set OPSDECK to the opsdeck binary}"
: "${OPSDECK_SRC:?set OPSDECK_SRC to the repository root}"
OPSDECK=$(cd "$(dirname "$OPSDECK")" && pwd)/$(basename "$OPSDECK")
SRC=$(cd "$OPSDECK_SRC" && pwd)
SUMMARY=$SRC/tests/migrate/corpus-summary.txt
CASES=$SRC/tests/migrate/cases
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; failures=$((failures + 1)); }

expect() { # expect "what" CODE PATTERN command...
	local what=$1 code=$2 pat=$3 out rc; shift 3
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" = "$code" ] && grep -qE -- "$pat" <<<"$out"; then
		pass "$what"
	else
		fail "$what (exit $rc, wanted $code; output: $(head -c 600 <<<"$out"))"
	fi
}

# --- the corpus ---------------------------------------------------------------
CORPUS_PARENT=$SRC/../shared/corpora
if [ ! -d "$CORPUS_PARENT/migrations" ]; then
	echo "not ok - corpus missing: $CORPUS_PARENT/migrations (the shared corpora" \
	    "are checked out beside the repository as ../shared/corpora)"
	exit 1
fi

summarize() {
	local tty rc
	cd "$CORPUS_PARENT" || return 1
	"$OPSDECK" migrate lint --format gcc migrations > "$TMP/gcc.txt"
	rc=$?
	[ "$rc" -le 1 ] || { echo "migrate lint exited $rc" >&2; return 1; }
	tty=$("$OPSDECK" migrate lint migrations | tail -n 1)
	echo "# opsdeck migrate lint over ../shared/corpora/migrations"
	echo "# regenerate: see tests/integration/test_migrate_corpus.sh"
	echo "total: $tty"
	echo "files with findings: $(cut -d: -f1 "$TMP/gcc.txt" | sort -u | wc -l)"
	echo "## findings per rule"
	sed -E 's/.*\[([a-z0-9-]+)\]$/\1/' "$TMP/gcc.txt" | sort | uniq -c |
	    awk '{ printf "%-32s %d\n", $2, $1 }'
	echo "## parse errors"
	grep -F "[parse-error]" "$TMP/gcc.txt" | cut -d: -f1-3,5- |
	    sort -t: -k1,1 -k2,2n -k3,3n
}

if ! summarize > "$TMP/summary.txt"; then
	fail "migrate lint crashed or failed on the corpus"
elif [ -n "${OPSDECK_REGEN:-}" ]; then
	cp "$TMP/summary.txt" "$SUMMARY"
	pass "regenerated $SUMMARY"
elif diff -u "$SUMMARY" "$TMP/summary.txt"; then
	pass "corpus summary matches tests/migrate/corpus-summary.txt"
else
	fail "corpus summary differs from tests/migrate/corpus-summary.txt (diff above)"
fi

# --- parallel lint: the serial output, byte for byte ---------------------------
# Every format, the exit code and stderr too, whatever the number of workers (the
# default is one per CPU); also when a file cannot be read half-way through.
lint_jobs() { # lint_jobs OUT JOBS-ARGS... -- LINT-ARGS...: OUT.out, .err, .rc
	local out=$1 rc; shift
	local jobs=()
	while [ "$1" != "--" ]; do jobs+=("$1"); shift; done
	shift
	(cd "$CORPUS_PARENT" && "$OPSDECK" migrate lint "${jobs[@]}" "$@") \
	    > "$out.out" 2> "$out.err" && rc=0 || rc=$?
	echo "$rc" > "$out.rc"
}
same_as_serial() { # same_as_serial WHAT LINT-ARGS...
	local what=$1 j bad=; shift
	lint_jobs "$TMP/j1" --jobs 1 -- "$@"
	for j in "--jobs 2" "--jobs 4" "-j 3" ""; do
		# shellcheck disable=SC2086 # $j is the option and its value
		lint_jobs "$TMP/jn" $j -- "$@"
		cmp -s "$TMP/j1.out" "$TMP/jn.out" &&
		    cmp -s "$TMP/j1.err" "$TMP/jn.err" &&
		    cmp -s "$TMP/j1.rc" "$TMP/jn.rc" || bad="$bad '${j:-default}'"
	done
	if [ -z "$bad" ] && [ -s "$TMP/j1.out" ]; then
		pass "$what: --jobs 2, 4, -j 3 and the default print what --jobs 1 does"
	else
		fail "$what: differs from --jobs 1 with$bad (or printed nothing)"
	fi
}
for format in tty gcc json sarif github; do
	same_as_serial "the corpus in $format" --format "$format" migrations
done
same_as_serial "an unreadable file among others" --format gcc \
    migrations/lemmy /proc/self/mem migrations/documenso
if [ "$(cat "$TMP/j1.rc")" = 2 ] && grep -q "cannot read '/proc/self/mem'" \
    "$TMP/j1.err" && grep -q "^migrations/lemmy/" "$TMP/j1.out" &&
    ! grep -q documenso "$TMP/j1.out"; then
	pass "an unreadable file stops the run there (exit 2), what came before printed"
else
	fail "unreadable file: exit $(cat "$TMP/j1.rc"), $(head -c 300 "$TMP/j1.err")"
fi

# --- the CLI contract ------------------------------------------------------------
cd "$TMP" || exit 1
expect "a missing file is a usage error" 2 \
    "^opsdeck migrate lint: 'x.sql': No such file or directory$" \
    "$OPSDECK" migrate lint x.sql
expect "no file is a usage error" 2 "usage: opsdeck migrate lint" \
    "$OPSDECK" migrate lint
expect "an unknown rule in --exclude" 2 "unknown rule 'nope'" \
    "$OPSDECK" migrate lint --exclude nope "$CASES/drop-column.sql"
for bad in 0 x -1 1x ""; do
	expect "--jobs '$bad' is a usage error naming the option" 2 \
	    "^opsdeck migrate lint: --jobs '$bad': expected a number of workers" \
	    "$OPSDECK" migrate lint --jobs "$bad" "$CASES/drop-column.sql"
done
expect "-j 0 is the same usage error" 2 "^opsdeck migrate lint: --jobs '0'" \
    "$OPSDECK" migrate lint -j 0 "$CASES/drop-column.sql"
expect "an unknown format" 2 "unknown format 'xml'" \
    "$OPSDECK" migrate lint --format xml "$CASES/drop-column.sql"
expect "a clean file exits 0" 0 "1 file, 3 statements: 0 errors" \
    "$OPSDECK" migrate lint "$CASES/drop-column-ok.sql"
expect "an error exits 1 and names rule, place, lock and fix" 1 \
    "3:1  error   drop-column: dropping column 'legacy_flag' of 'users'" \
    "$OPSDECK" migrate lint "$CASES/drop-column.sql"
expect "tty names the lock and what it blocks" 1 \
    "locks ACCESS EXCLUSIVE on 'users' \(blocks all reads and writes\)" \
    "$OPSDECK" migrate lint "$CASES/drop-column.sql"
expect "a warning passes the default --fail-on error" 0 "1 warning" \
    "$OPSDECK" migrate lint "$CASES/drop-not-null.sql"
expect "--fail-on warning fails on a warning" 1 "1 warning" \
    "$OPSDECK" migrate lint --fail-on warning "$CASES/drop-not-null.sql"
expect "--exclude silences a rule" 0 "0 errors" \
    "$OPSDECK" migrate lint --exclude drop-column "$CASES/drop-column.sql"
expect "--policy additive-only" 1 "\[additive-only\]" \
    "$OPSDECK" migrate lint --format gcc --policy additive-only \
    "$CASES/drop-column.sql"
expect "--assume-in-transaction" 1 "\[concurrently-in-transaction\]" \
    "$OPSDECK" migrate lint --format gcc --assume-in-transaction \
    "$CASES/concurrently-in-transaction-ok.sql"
expect "--pg-version 10" 1 "before PostgreSQL 11" \
    "$OPSDECK" migrate lint --format gcc --pg-version 10 \
    "$CASES/volatile-default-pg10.sql"
expect "gcc format" 1 \
    "drop-column.sql:3:1: error: dropping column 'legacy_flag' of 'users' \[drop-column\]" \
    "$OPSDECK" migrate lint --format gcc "$CASES/drop-column.sql"
expect "github format" 1 \
    "^::error file=.*drop-column.sql,line=3,col=1,title=drop-column::dropping column" \
    "$OPSDECK" migrate lint --format github "$CASES/drop-column.sql"
expect "a parse error keeps linting the rest" 1 \
    "5:8: error: syntax error at or near \"TABEL\" \[parse-error\]" \
    "$OPSDECK" migrate lint --format gcc "$CASES/parse-error.sql"
expect "an empty file is a warning" 0 "empty-file" \
    "$OPSDECK" migrate lint --format gcc "$CASES/empty-file.sql"
printf 'hello, this is not SQL\n' > notsql.sql
expect "a non-SQL file is a parse error" 1 "notsql.sql:1:1: error: syntax error" \
    "$OPSDECK" migrate lint --format gcc notsql.sql
expect "a plain syntax error does not blame newer PostgreSQL syntax" 1 \
    "fix: fix the syntax error$" "$OPSDECK" migrate lint notsql.sql
expect "newer PostgreSQL syntax is named as such" 1 \
    "PostgreSQL 16 syntax, which opsdeck's PostgreSQL 15 grammar cannot read" \
    "$OPSDECK" migrate lint "$CASES/parse-error-newer.sql"
mkdir nosql && touch nosql/README
expect "a directory without *.sql files is a usage error" 2 \
    "^opsdeck migrate lint: no \*\.sql files under 'nosql'$" \
    "$OPSDECK" migrate lint nosql
expect "--json and --markdown together are a usage error" 2 \
    "give one" "$OPSDECK" migrate rules --json --markdown

# tty: LINE:COL and severity padded into columns, lines kept under 100 columns
if "$OPSDECK" migrate lint "$CASES/parse-error-newer.sql" "$CASES/drop-column.sql" \
    "$CASES/lock-timeout.sql" > tty.txt; [ $? -le 1 ] &&
    ! grep -v '^/' tty.txt | awk 'length($0) > 99 { bad = 1 } END { exit !bad }' &&
    grep -qE '^  4:22  error   parse-error: ' tty.txt &&
    grep -qE '^  1:1  warning lock-timeout: ' tty.txt; then
	pass "tty columns line up and lines stay under 100 columns"
else
	fail "tty layout: $(head -c 1500 tty.txt)"
fi

# rollback-sql without a database: words, not parse-tree names; what is reversible
cat > rb.sql <<'SQL'
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
ALTER TABLE orders DISABLE TRIGGER ALL;
ALTER TABLE orders ENABLE TRIGGER audit;
SQL
expect "VALIDATE CONSTRAINT and trigger switches are reversible" 0 \
    "^-- line 1 \(ALTER TABLE\): VALIDATE CONSTRAINT orders_user_fk: nothing to undo" \
    "$OPSDECK" migrate rollback-sql rb.sql
expect "DISABLE TRIGGER ALL is undone by ENABLE TRIGGER ALL" 0 \
    "^ALTER TABLE orders ENABLE TRIGGER ALL;$" "$OPSDECK" migrate rollback-sql rb.sql
expect "ENABLE TRIGGER is undone by DISABLE TRIGGER" 0 \
    "^ALTER TABLE orders DISABLE TRIGGER audit;$" "$OPSDECK" migrate rollback-sql rb.sql
cat > rb2.sql <<'SQL'
ALTER TABLE people ALTER COLUMN age TYPE bigint;
DROP INDEX people_age_idx;
DROP EXTENSION pg_trgm;
SQL
"$OPSDECK" migrate rollback-sql rb2.sql > rb2.out 2>&1
if grep -q "ALTER TABLE: ALTER COLUMN age TYPE: type change" rb2.out &&
    grep -q "drops an index:" rb2.out && grep -q "drops an extension:" rb2.out &&
    ! grep -qE "AlterColumnType|Stmt|AT_|drops a [aeiou]" rb2.out; then
	pass "rollback-sql reasons in SQL words, with a/an"
else
	fail "rollback-sql reasons: $(cat rb2.out)"
fi
expect "--policy additive-only names the subcommand in SQL words" 1 \
    "ALTER TABLE … DROP COLUMN legacy is not additive" \
    "$OPSDECK" migrate lint --format gcc --policy additive-only "$CASES/additive-only.sql"

"$OPSDECK" migrate lint --format json "$CASES/drop-column.sql" > lint.json
if jq -e '.files[0].path and .files[0].statements[2].locks[0].mode ==
    "ACCESS EXCLUSIVE" and .files[0].statements[2].locks[0].relation == "users"
    and .files[0].statements[2].locks[0].blocks and
    .files[0].findings[0].rule == "drop-column" and .files[0].findings[0].fix
    and .files[0].findings[0].line == 3 and .summary.errors == 1' lint.json \
    > /dev/null; then
	pass "json has the documented shape"
else
	fail "json shape: $(cat lint.json)"
fi
"$OPSDECK" migrate lint --format sarif "$CASES/drop-column.sql" > lint.sarif
if jq -e '.version == "2.1.0" and (.runs[0].tool.driver.rules | length) > 30
    and .runs[0].results[0].ruleId == "drop-column" and
    .runs[0].results[0].locations[0].physicalLocation.region.startLine == 3' \
    lint.sarif > /dev/null; then
	pass "sarif 2.1.0 with rules metadata"
else
	fail "sarif: $(head -c 600 lint.sarif)"
fi
"$OPSDECK" migrate rules --json > rules.json
if jq -e 'length > 40 and all(.[]; .id and .severity and .summary and .fix)' \
    rules.json > /dev/null; then
	pass "migrate rules --json lists the catalogue"
else
	fail "migrate rules --json: $(head -c 600 rules.json)"
fi
if "$OPSDECK" migrate rules --markdown | diff -u "$SRC/docs/migrate-rules.md" -; then
	pass "docs/migrate-rules.md is the output of migrate rules --markdown"
else
	fail "docs/migrate-rules.md is stale: build/opsdeck migrate rules --markdown > docs/migrate-rules.md"
fi

# rollback-sql on every file of the corpus (under ASan too: test_migrate_rollback,
# which checks the downs on PostgreSQL, runs in the plain suite only): each one
# answers reversible (0) or not (1), and the generated SQL always parses.
CORPUS_DIR=$SRC/../shared/corpora/migrations
bad=""
reversible=0 total=0
while IFS= read -r f; do
	"$OPSDECK" migrate rollback-sql "$f" >rb.out 2>rb.err && rc=0 || rc=$?
	total=$((total + 1))
	[ "$rc" = 0 ] && reversible=$((reversible + 1))
	if [ "$rc" -gt 1 ] || grep -q "bug in opsdeck" rb.err; then
		bad="$bad $(basename "$f") (exit $rc: $(head -c 200 rb.err))"
	fi
done < <(find "$CORPUS_DIR" -name '*.sql' -type f | sort)
if [ -z "$bad" ] && [ "$total" -gt 800 ]; then
	pass "rollback-sql answers every corpus file ($total, $reversible reversible)"
else
	fail "rollback-sql on the corpus ($total files):$bad"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
