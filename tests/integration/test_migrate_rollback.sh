#!/bin/bash
# migrate rollback-sql against lemmy's real history: for every __up.sql the generator
# calls fully reversible (and that reverses something), on a copy of the database as
# it was just before that file: apply up, apply the generated down, and compare
# `pg_dump --schema-only` with the schema before. Also apply lemmy's hand-written
# __down.sql on another copy and count the generated downs that match it in effect.
# The figures are compared with tests/migrate/rollback-summary.txt
# (OPSDECK_UPDATE_SUMMARY=1 rewrites it).
#
# Every reversible file is checked (no sampling), the checks side by side with the
# walk: about 40 s here with fsync off on 2 CPUs.
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

# check_file I UP DOWN: on rb_I and hand_I (copies of the history just before UP, made by
# the walk), apply UP and the generated DOWN and compare schemas; then UP and lemmy's
# own __down.sql. Runs beside the walk; writes its counts to $W/res/I.
check_file() {
	local i=$1 up=$2 down=$3 name d="$W/j$1"
	local checked=0 same=0 down_failed=0 hand=0 hand_match=0 hand_failed=0
	name=$(basename "$up")
	mkdir -p "$d"
	: >"$d/mismatch"
	dump "rb_$i" "$d/before"
	if psqlf "rb_$i" "$up"; then
		checked=1
		if psqlf "rb_$i" "$down"; then
			dump "rb_$i" "$d/after"
			if cmp -s "$d/before" "$d/after"; then
				same=1
			else
				echo "$name: schema differs after up + generated down" >>"$d/mismatch"
				diff "$d/before" "$d/after" | head -5 >>"$d/mismatch"
			fi
		else
			down_failed=1
			echo "$name: generated down failed" >>"$d/mismatch"
		fi
		handdown="${up%__up.sql}__down.sql"
		if [ -f "$handdown" ]; then
			hand=1
			if psqlf "hand_$i" "$up" && psqlf "hand_$i" "$handdown"; then
				dump "hand_$i" "$d/hand"
				if [ -f "$d/after" ] && cmp -s "$d/after" "$d/hand"; then
					hand_match=1
				else
					echo "$name: differs from lemmy's __down.sql" >>"$d/mismatch"
				fi
			else
				hand_failed=1
			fi
		fi
	fi
	PGDB=postgres pg_psql -c "DROP DATABASE rb_$i" -c "DROP DATABASE hand_$i"
	echo "$checked $same $down_failed $hand $hand_match $hand_failed" >"$W/res/$i"
}

# The walk is in history order (each file on the history before it); the checks of
# each file run beside it, as many at once as there are CPUs.
files=0 reversible=0 up_failed=0
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$W/res"
: >"$W/mismatch"
for up in "$LEMMY"/*__up.sql; do
	files=$((files + 1))
	name=$(basename "$up")
	if "$OPSDECK" migrate rollback-sql "$up" --json >"$W/rb.json" 2>/dev/null &&
	    jq -e '[.statements[] | select(.status == "reversed")] | length > 0' \
	    "$W/rb.json" >/dev/null; then
		reversible=$((reversible + 1))
		jq -r .sql "$W/rb.json" >"$W/down-$files.sql"
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
		PGDB=postgres pg_psql -c "CREATE DATABASE rb_$files TEMPLATE lemmy" \
		    -c "CREATE DATABASE hand_$files TEMPLATE lemmy"
		check_file "$files" "$up" "$W/down-$files.sql" &
	fi
	if ! psqlf lemmy "$up"; then
		up_failed=$((up_failed + 1))
		echo "history stops: $name does not apply on PostgreSQL 15" >"$W/stop"
		break
	fi
done
wait
checked=0 same=0 down_failed=0 hand=0 hand_match=0 hand_failed=0
for i in $(seq 1 "$files"); do
	[ -f "$W/res/$i" ] || continue
	read -r c s df h hm hf <"$W/res/$i"
	checked=$((checked + c)) same=$((same + s)) down_failed=$((down_failed + df))
	hand=$((hand + h)) hand_match=$((hand_match + hm)) hand_failed=$((hand_failed + hf))
	cat "$W/j$i/mismatch" >>"$W/mismatch"
done
[ -f "$W/stop" ] && cat "$W/stop" >>"$W/mismatch"
if [ "$(ls "$W/res" | wc -l)" != "$reversible" ]; then
	echo "FAIL: $(ls "$W/res" | wc -l) of $reversible checks reported"
	exit 1
fi

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
