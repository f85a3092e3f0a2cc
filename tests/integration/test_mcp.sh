#!/bin/bash
# MCP: the official TypeScript SDK client (tests/e2e/mcp.mjs) over stdio and over
# Streamable HTTP as an agent: initialize, tools, status, a staging deploy that runs,
# a production deploy that waits for approval, a rollback that cannot be (isError).
# Then each call's evidence (via mcp, the agent's name), the approval binding the
# agent as it binds people, and the bad input a client may send: malformed JSON-RPC,
# batches, unknown methods, wrong types, oversized messages, missing or bad tokens,
# another site's Origin.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=26900
. "$(dirname "$0")/../lib/deploy.sh"
ADDR=127.0.0.1:26990
cat > "$CONFIG" <<YAML
ports: {from: 26900, to: 26989}
api: {listen: $ADDR}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    stage: staging
    deploy: {smoke: 300ms, watch: 300ms, timeout: 20s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
  web-two:
    stage: staging
    deploy: {smoke: 300ms, watch: 300ms, timeout: 20s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
  shop:
    stage: production
    deploy: {smoke: 300ms, watch: 300ms, timeout: 20s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
YAML
start_daemon
BOT=$(od actor add bot --role agent)
CAROL=$(od actor add carol --role approver)
VIC=$(od actor add vic --role viewer)
E2E="$(dirname "$0")/../e2e"
[ -d "$E2E/node_modules/@modelcontextprotocol/sdk" ] ||
    die "@modelcontextprotocol/sdk is not installed: run scripts/install-deps"

outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }
outerr od artifact import "$T/good"
check "artifact import prints the digest" grep -Eq '^[0-9a-f]{64}$' "$T/out"
DIGEST=$(cat "$T/out")
check "importing it again gives the same one" test "$(od artifact import "$T/good")" = "$DIGEST"
outerr od artifact import "$T/nowhere"
check "a missing artifact is a usage error naming it" bash -c "[ $rc = 2 ] && grep -q \"'$T/nowhere'\" '$T/err'"

ADDR=$ADDR OPSDECK=$OPSDECK STATE=$STATE AGENT_TOKEN=$BOT ARTIFACT=$DIGEST \
    STAGING_APP=web-app STAGING_APP2=web-two PROD_APP=shop node "$E2E/mcp.mjs" >"$T/mcp.out" 2>&1 && rc=0 || rc=$?
cat "$T/mcp.out"
check "the SDK client's checks pass on both transports" test "$rc" = 0

deploy_ended() { [ "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM deploy_locks")" = 0 ]; }
wait_for 30 deploy_ended || fail "the staging deploys did not end"
od evidence --json --limit 1000 > "$T/ev.json"
n_calls() { jq "[.entries[] | select(.action == \"mcp.call\" and .target == \"$1\" and .via == \"mcp\" and .actor == \"bot\" and .outcome == \"$2\")] | length" "$T/ev.json"; }
check "each status call is evidence, via mcp, as the agent (2)" test "$(n_calls status ok)" = 2
check "each deploy call too (4: two ran, two wait)" test "$(n_calls deploy ok)" = 4
check "each failed rollback call, as failed (4)" test "$(n_calls rollback failed)" = 4
check "the deploys themselves are deploy.create via mcp by bot" \
    test "$(jq '[.entries[] | select(.action == "deploy.create" and .via == "mcp" and .actor == "bot" and .outcome == "ok")] | length' "$T/ev.json")" = 2
check "the production ones are pending requests" \
    test "$(jq '[.entries[] | select(.action == "deploy.create" and .via == "mcp" and .target == "shop" and .outcome == "pending")] | length' "$T/ev.json")" = 2
rel_by_bot() { od releases "$1" --json | jq -r --arg d "$DIGEST" '[.releases[] | select(.actor == "bot" and .artifact == $d)] | length'; }
check "the staging releases are the agent's, with the artifact" \
    test "$(rel_by_bot web-app) $(rel_by_bot web-two)" = "1 1"
check "nothing was deployed to production" test "$(od releases shop --json | jq '.releases | length')" = 0

# Approvals bind the agent as they bind people.
id=$(sed -n 's/^# approval http //p' "$T/mcp.out")
mcp() { # mcp TOKEN JSON [curl args]: POST /mcp on TCP; body in $T/body, status echoed
	local tok=$1 body=$2; shift 2
	curl -s -o "$T/body" -w '%{http_code}' --max-time 10 ${tok:+-H "Authorization: Bearer $tok"} \
	    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	    "$@" --data-binary "$body" "http://$ADDR/mcp"
}
call() { printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"; }
check "the agent's request is there to approve" test -n "$id"
check "the agent cannot approve it over MCP either (no such tool, and not its role)" \
    test "$(mcp "$BOT" "$(call 1 approve "{\"id\": $id}")")" = 200
check "  (unknown tool: -32602)" jq -e '.error.code == -32602' "$T/body"
outerr env OPSDECK_TOKEN="$CAROL" "$OPSDECK" --state "$STATE" approve "$id"
check "another approver grants it, and it runs as bot" grep -q "runs as bot, release v1" "$T/out"
wait_for 30 deploy_ended || fail "the approved deploy did not end"
check "one production release, the agent's" test "$(od releases shop --json | jq -r '[.releases[].actor] | join(",")')" = bot
code=$(mcp "$VIC" "$(call 2 deploy "{\"app\": \"web-app\", \"artifact\": \"$DIGEST\"}")")
check "a viewer's deploy over MCP is isError with the role it needs" \
    bash -c "[ $code = 200 ] && jq -e '.result.isError == true and (.result.content[0].text | test(\"needs role agent\"))' '$T/body' >/dev/null"

# Secrets: staged by name, their values never evidence.
OLGA=$(od actor add olga --role operator)
code=$(mcp "$OLGA" "$(call 3 secrets_set '{"app": "web-app", "values": {"API_KEY": "sekrit-mcp-42"}}')")
check "an operator stages a secret over MCP" jq -e '.result.isError == false and .result.structuredContent.secrets[0].name == "API_KEY"' "$T/body"
check "its value is in no evidence" bash -c "! sqlite3 '$STATE/opsdeck.db' 'SELECT * FROM evidence' | grep -q sekrit-mcp-42"
check "its name is" bash -c "sqlite3 '$STATE/opsdeck.db' \"SELECT args FROM evidence WHERE action = 'mcp.call' AND target = 'secrets_set'\" | grep -q API_KEY"

# Bad input: clear JSON-RPC errors, never a crash.
rpc_error() { # rpc_error STATUS CODE: the last answer
	[ "$code" = "$1" ] && jq -e --argjson c "$2" '.jsonrpc == "2.0" and .error.code == $c and (.error.message | length > 10)' "$T/body" >/dev/null
}
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {')
check "malformed JSON: 400, parse error -32700" rpc_error 400 -32700
code=$(mcp "$BOT" '[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]')
check "a batch array: 400, refused (-32600) as 2025-06-18 requires" rpc_error 400 -32600
check "  saying why" grep -q "batch" "$T/body"
code=$(mcp "$BOT" '{"jsonrpc": "1.0", "id": 1, "method": "ping"}')
check "not JSON-RPC 2.0: -32600" rpc_error 400 -32600
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "id": 1, "method": "resources/list"}')
check "an unknown method: -32601" rpc_error 200 -32601
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": []}')
check "params not an object: -32602" rpc_error 200 -32602
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "id": null, "method": "ping"}')
check "a null id: -32600" rpc_error 400 -32600
code=$(mcp "$BOT" "$(call 4 deploy '{"app": 7, "artifact": "x"}')")
check "a wrong type: isError naming the field" jq -e '.result.isError and .result.structuredContent.error.field == "app"' "$T/body"
code=$(mcp "$BOT" "$(call 5 status '{"verbose": true}')")
check "an unknown argument: isError naming it" jq -e '.result.isError and .result.structuredContent.error.field == "verbose"' "$T/body"
code=$(mcp "$BOT" "$(call 6 deploy '{"app": "web-app"}')")
check "a missing argument: isError naming it" jq -e '.result.isError and .result.structuredContent.error.field == "artifact"' "$T/body"
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "method": "notifications/initialized"}')
check "a notification: 202, no body" bash -c "[ $code = 202 ] && [ ! -s '$T/body' ]"
head -c 1100000 /dev/zero | tr '\0' ' ' > "$T/big"
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $BOT" -H 'Content-Type: application/json' --data-binary @"$T/big" "http://$ADDR/mcp")
check "a message over 1 MiB: 413" test "$code" = 413
code=$(mcp "" '{"jsonrpc": "2.0", "id": 1, "method": "ping"}')
check "no token on TCP: 401" test "$code" = 401
code=$(mcp "odt_$(printf '%064d' 0)" '{"jsonrpc": "2.0", "id": 1, "method": "ping"}')
check "an unknown token: 401" test "$code" = 401
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "id": 1, "method": "ping"}' -H 'Origin: http://evil.example')
check "another site's Origin: 403" test "$code" = 403
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "id": 1, "method": "ping"}' -H 'Origin: http://localhost:5173')
check "a loopback Origin is served" test "$code" = 200
code=$(mcp "$BOT" '{"jsonrpc": "2.0", "id": 1, "method": "ping"}' -H 'MCP-Protocol-Version: 2024-01-01')
check "an unsupported MCP-Protocol-Version: 400" rpc_error 400 -32600
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOT" "http://$ADDR/mcp")
check "GET /mcp (no server stream): 405" test "$code" = 405
for v in 2025-03-26 2025-06-18 2025-11-25 1999-01-01; do
	mcp "$BOT" "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"initialize\", \"params\": {\"protocolVersion\": \"$v\", \"capabilities\": {}, \"clientInfo\": {\"name\": \"t\", \"version\": \"1\"}}}" >/dev/null
	want=$v; [ "$v" = 1999-01-01 ] && want=2025-11-25
	check "initialize with $v answers $want" jq -e --arg w "$want" '.result.protocolVersion == $w' "$T/body"
done
# stdio: one answer line per request, none for a notification, errors as JSON-RPC.
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"ping"}' '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    'not json' '{"jsonrpc":"2.0","id":2,"method":"ping"}' |
    OPSDECK_TOKEN=$BOT "$OPSDECK" --state "$STATE" mcp >"$T/stdio.out" 2>"$T/stdio.err"
check "stdio answers each request on its own line (3 of 4: no answer to a notification)" test "$(wc -l <"$T/stdio.out")" = 3
check "  the bad line as a parse error" bash -c "sed -n 2p '$T/stdio.out' | jq -e '.error.code == -32700' >/dev/null"
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"ping"}' |
    OPSDECK_TOKEN=odt_bad "$OPSDECK" --state "$STATE" mcp >"$T/stdio.out" 2>&1
check "stdio with a bad token: a JSON-RPC error saying so" jq -e '.id == 1 and (.error.message | test("token"))' "$T/stdio.out"
check "the daemon is still up" kill -0 "$DAEMON_PID"
