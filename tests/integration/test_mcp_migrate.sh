#!/bin/bash
# The migration tools over MCP, against a real PostgreSQL 15: migrate_lint names a
# blocking index at its line; migrate_status and migrate_dryrun run in the
# background and migrate_result reads them (a dry run leaves nothing behind); a
# database URL's password never reaches the evidence or an answer; bad arguments
# are isError results that name the argument. And the logs tool reads a machine's
# log, the approval tool one request.
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/daemon.sh"

pg_start || die "no PostgreSQL"
trap 'pg_stop; finish' EXIT
die() { echo "not ok - $*"; FAILURES=$((FAILURES + 1)); pg_stop; finish; }

cat >"$CONFIG" <<EOF
apps:
  jobs:
    processes:
      worker: {command: ["/bin/sh", "-c", "echo worker up; exec sleep 600"]}
EOF
M="$T/m" && mkdir -p "$M"
printf 'CREATE TABLE one (id int);\n' >"$M/001_one.sql"
printf -- '-- an index built in the open\nCREATE INDEX one_id ON one (id);\n' >"$M/002_one_id.sql"
mcp() { # mcp JSON: POST /mcp on the socket as bot; the answer in $T/body
	curl -s -o "$T/body" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $BOT" \
	    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	    --data-binary "$1" --unix-socket "$STATE/opsdeck.sock" http://x/mcp >/dev/null
}
call() { printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"; }
sc() { jq -e ".result.structuredContent | $1" "$T/body" >/dev/null; }
# result ID: polls migrate_result until the read is done (its answer in $T/body)
result() {
	local deadline=$((SECONDS + 30))
	while :; do
		mcp "$(call 9 migrate_result "{\"id\": $1}")"
		sc '.state == "done"' && return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

start_daemon
BOT=$(od actor add bot --role agent)

mcp "$(call 1 migrate_lint "{\"path\": \"$M\"}")"
check "migrate_lint starts in the background" sc '.state == "running" and .kind == "lint"'
id=$(jq -r '.result.structuredContent.id' "$T/body")
check "migrate_result reads it once done" result "$id"
check "  it finds the blocking index at its line (result 1: at fail_on)" \
    sc '.result == 1 and ([.report.files[] | select(.path | endswith("002_one_id.sql")) | .findings[] | select(.rule == "create-index-concurrently" and .line == 2)] | length == 1)'
mcp "$(call 2 migrate_lint '{"path": "m/001.sql"}')"
check "a relative path is isError naming it" \
    jq -e '.result.isError == true and (.result.content[0].text | test("must be absolute"))' "$T/body"
mcp "$(call 2 migrate_lint '{"path": "/etc/passwd"}')"
check "a file that is not .sql is not read" \
    jq -e '.result.isError == true and (.result.content[0].text | test("not a .sql file"))' "$T/body"
VIC=$(od actor add vic --role viewer)
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $VIC" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' --data-binary "$(call 2 migrate_lint "{\"path\": \"$M\"}")" \
    --unix-socket "$STATE/opsdeck.sock" http://x/mcp)
check "a viewer may not run them (needs role agent)" \
    jq -e '.result.isError == true and (.result.content[0].text | test("needs role agent"))' "$T/body"

mcp "$(call 3 migrate_status "{\"path\": \"$M\", \"db\": \"$PGURL\"}")"
check "migrate_status starts in the background" sc '.state == "running" and .kind == "status"'
id=$(jq -r '.result.structuredContent.id' "$T/body")
check "migrate_result reads it once done" result "$id"
check "  both files pending" sc '.result == 0 and ([.report.files[] | select(.status == "pending")] | length == 2)'

mcp "$(call 4 migrate_dryrun "{\"path\": \"$M/001_one.sql\", \"db\": \"$PGURL\"}")"
id=$(jq -r '.result.structuredContent.id' "$T/body")
check "migrate_dryrun runs and is read the same way" result "$id"
check "  its report names the statement" sc '.result == 0 and (.report.statements | length == 1)'
check "  and the dry run left no table" test "$(pg_psql -At -c "SELECT to_regclass('public.one') IS NULL")" = t

PW_URL="postgresql://bot:sek?rit-pw-9@127.0.0.1:1/x"	# libpq: the password holds '?'
# One read at a time: a dry run that sleeps in PostgreSQL holds the slot.
printf 'SELECT pg_sleep(60);\n' >"$T/slow.sql"
mcp "$(call 5 migrate_dryrun "{\"path\": \"$T/slow.sql\", \"db\": \"$PGURL\"}")"
id=$(jq -r '.result.structuredContent.id' "$T/body")
sleeping() { [ "$(pg_psql -At -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'")" = 1 ]; }
wait_for 20 sleeping || fail "the slow dry run did not start"
mcp "$(call 5 migrate_status "{\"path\": \"$M\", \"db\": \"$PGURL\"}")"
check "one read at a time: a second while one runs is refused, naming it" \
    jq -e ".result.isError == true and (.result.content[0].text | test(\"migrate dryrun $id is running\"))" "$T/body"
pg_psql -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'" >/dev/null
check "cancelled in PostgreSQL, it ends and is read back" result "$id"
mcp "$(call 5 migrate_status "{\"path\": \"$M\", \"db\": \"$PW_URL\"}")"
id=$(jq -r '.result.structuredContent.id' "$T/body")
check "a status against a database that is not there ends failed" result "$id"
check "  with an error, not the password" sc '.result == -1 and (.error.message | test("rit-pw") | not) and (.target | test("rit-pw") | not)'
check "the password is in no evidence" bash -c "! sqlite3 '$STATE/opsdeck.db' 'SELECT * FROM evidence' | grep -q rit-pw-9"
check "nor in the daemon's log" bash -c "! grep -q rit-pw-9 '$T/daemon.log'"
check "the call is, with the database's host" \
    test "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM evidence WHERE action = 'mcp.call' AND target = 'migrate_status' AND args LIKE '%postgresql://127.0.0.1:1%'")" -ge 1
mcp "$(call 6 migrate_result '{"id": 999}')"
check "an unknown result is isError" jq -e '.result.isError == true and (.result.content[0].text | test("no migrate lint, dryrun or status 999"))' "$T/body"
mcp "$(call 7 migrate_dryrun "{\"path\": \"$M/001_one.sql\"}")"
check "a missing db is isError naming it" jq -e '.result.isError == true and .result.structuredContent.error.field == "db"' "$T/body"

logged() { mcp "$(call 8 logs '{"app": "jobs", "lines": 10}')"; sc '.text | test("worker up")'; }
check "the logs tool reads the machine's log" wait_for 10 logged
mcp "$(call 10 logs '{"app": "nope"}')"
check "  an unknown app is isError" jq -e '.result.isError == true' "$T/body"
mcp "$(call 11 approval '{"id": 1}')"
check "the approval tool: no request 1 is isError" jq -e '.result.isError == true' "$T/body"

stop_daemon || fail "the daemon did not stop cleanly"
