#!/bin/bash
# migrate rollback-sql against lemmy's real history: for every __up.sql the generator
# calls fully reversible (and that reverses something), on a copy of the database as
# it was just before that file: apply up, apply the generated down, and compare
# `pg_dump --schema-only` with the schema before. Also apply lemmy's hand-written
# __down.sql on another copy and count the generated downs that match it in effect.
# The figures are compared with tests/migrate/rollback-summary.txt
# (OPSDECK_UPDATE_SUMMARY=1 rewrites it).
#
# Every reversible file is checked (no sampling): about 100 s here with fsync off.
# The history is walked on PostgreSQL 15 until a file does not apply there: lemmy's
# 2025-08-01-000016_smoosh-tables-together uses PostgreSQL 16 syntax (a subquery in
# FROM without an alias), so the files after it are not reached; the summary says
# how far it got.
set -u
: "${OPSDECK:?path to the opsdeck binary}" "${OPSDECK_SRC:?repo root}"
. "$OPSDECK_SRC/tests/lib/pg.sh"

LEMMY="$OPSDECK_SRC/../shared/corpora/migrations/lemmy"
SUMMARY="$OPSDECK_SRC/tests/migrate/rollback-summary.txt"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

if [ ! -d "$LEMMY" ]; then
	echo "not ok - no lemmy corpus at $LEMMY (the shared corpora are checked out beside the repository as ../shared/corpora)"
	exit 1
fi
pg_start || exit 1
W=$(mktemp -d /tmp/opsdeck-rb.XXXXXX)
trap 'rm -rf "$W"; pg_stop' EXIT

psqlf() {	# DB FILE: run a file in one transaction, quietly
	"$PG_BIN/psql" -X -q -1 -v ON_ERROR_STOP=1 -h "$PGDIR" -U postgres -d "$1" \
	    -f "$2" >/dev/null 2>>"$W/psql.log"
}
dump() {	# DB OUT
	"$PG_BIN/pg_dump" -h "$PGDIR" -U postgres --schema-only --no-owner \
	    --no-privileges "$1" | grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict' >"$2"
}
PGDB=postgres pg_psql -c 'CREATE DATABASE lemmy' || exit 1

files=0 reversible=0 checked=0 same=0 down_failed=0 up_failed=0
hand=0 hand_match=0 hand_failed=0
: >"$W/mismatch"
for up in "$LEMMY"/*__up.sql; do
	files=$((files + 1))
	name=$(basename "$up")
	if "$OPSDECK" migrate rollback-sql "$up" --json >"$W/rb.json" 2>/dev/null &&
	    jq -e '[.statements[] | select(.status == "reversed")] | length > 0' \
	    "$W/rb.json" >/dev/null; then
		reversible=$((reversible + 1))
		jq -r .sql "$W/rb.json" >"$W/down.sql"
		dump lemmy "$W/before"
		PGDB=postgres pg_psql -c 'CREATE DATABASE scratch TEMPLATE lemmy'
		if psqlf scratch "$up"; then
			checked=$((checked + 1))
			if psqlf scratch "$W/down.sql"; then
				dump scratch "$W/after"
				if cmp -s "$W/before" "$W/after"; then
					same=$((same + 1))
				else
					echo "$name: schema differs after up + generated down" >>"$W/mismatch"
					diff "$W/before" "$W/after" | head -5 >>"$W/mismatch"
				fi
			else
				down_failed=$((down_failed + 1))
				echo "$name: generated down failed" >>"$W/mismatch"
			fi
			handdown="${up%__up.sql}__down.sql"
			if [ -f "$handdown" ]; then
				hand=$((hand + 1))
				PGDB=postgres pg_psql -c 'CREATE DATABASE scratch2 TEMPLATE lemmy'
				if psqlf scratch2 "$up" && psqlf scratch2 "$handdown"; then
					dump scratch2 "$W/hand"
					if [ -f "$W/after" ] && cmp -s "$W/after" "$W/hand"; then
						hand_match=$((hand_match + 1))
					else
						echo "$name: differs from lemmy's __down.sql" >>"$W/mismatch"
					fi
				else
					hand_failed=$((hand_failed + 1))
				fi
				PGDB=postgres pg_psql -c 'DROP DATABASE scratch2'
			fi
			rm -f "$W/after"
		fi
		PGDB=postgres pg_psql -c 'DROP DATABASE scratch'
	fi
	if ! psqlf lemmy "$up"; then
		up_failed=$((up_failed + 1))
		echo "history stops: $name does not apply on PostgreSQL 15" >>"$W/mismatch"
		break
	fi
done

cat >"$W/summary" <<SUM
# migrate rollback-sql on lemmy's history (tests/integration/test_migrate_rollback.sh)
lemmy up files: $(ls "$LEMMY"/*__up.sql | wc -l)
walked in history order on PostgreSQL 15: $files
generator claims fully reversible (and reverses something): $reversible
checked (up applied on the history before it): $checked
schema identical after up + generated down: $same
generated down failed to run: $down_failed
with a hand-written __down.sql: $hand
generated down matches lemmy's __down.sql in effect: $hand_match
lemmy's own up + __down.sql failed: $hand_failed
history files that did not apply: $up_failed
SUM
cat "$W/summary"
if [ -s "$W/mismatch" ]; then
	echo "--- details"
	cat "$W/mismatch"
fi
if [ "${OPSDECK_UPDATE_SUMMARY:-0}" = 1 ]; then
	cp "$W/summary" "$SUMMARY"
	echo "wrote $SUMMARY"
fi
fail=0
if ! diff -u "$SUMMARY" "$W/summary"; then
	echo "FAIL: figures differ from $SUMMARY (OPSDECK_UPDATE_SUMMARY=1 to accept)"
	fail=1
fi
if [ "$checked" -eq 0 ] || [ "$same" -ne "$checked" ]; then
	echo "FAIL: $((checked - same)) of $checked generated downs do not restore the schema"
	fail=1
fi
[ $fail = 0 ] && echo PASS
exit $fail
