#!/bin/bash
# The control API on loopback TCP (api.listen): every request needs a bearer token
# (401 without, or with a bad one); the CLI reaches it with OPSDECK_ADDR and
# OPSDECK_TOKEN and acts as that actor, via cli; a port already held stops `up`
# with a clear error and nothing left running; a bad api.listen is a FILE:LINE error.
# GET /v1/apps, kept rendered until the fleet changes, follows a stop, a start and a
# deploy at once.
. "$(dirname "$0")/../lib/daemon.sh"
ADDR=127.0.0.1:26490
cat > "$CONFIG" <<YAML
ports: {from: 26400, to: 26449}
api: {listen: $ADDR}
apps:
  web-app:
    deploy: {smoke: 300ms, watch: 300ms, timeout: 10s}
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
YAML
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }
start_daemon
wait_for 10 all_started || fail "the machine did not start"
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
check "no token: 401" test "$(code "http://$ADDR/v1/apps")" = 401
check "saying what to send, in the one error shape" \
    test "$(jq -r '.error | "\(.code) \(.message | test("needs a bearer token")) \(.field)"' "$T/body")" = "unauthorized true null"
check "a bad token: 401" test "$(code -H 'Authorization: Bearer odt_nope' "http://$ADDR/v1/apps")" = 401
OPS=$(od actor add ops --role operator)
VIEW=$(od actor add look --role viewer)
check "with a token: the apps" test "$(code -H "Authorization: Bearer $VIEW" "http://$ADDR/v1/apps")" = 200
check "the app, its machines and their health" \
    test "$(jq -r '.apps[0] | "\(.name) \(.machines[0].state)"' "$T/body")" = "web-app started"
auth=(-H "Authorization: Bearer $VIEW")
check "an unknown route: 404 not_found" test "$(code "${auth[@]}" "http://$ADDR/v1/nope")/$(jq -r .error.code "$T/body")" = 404/not_found
check "a wrong method: 405" test "$(code "${auth[@]}" -X DELETE "http://$ADDR/v1/apps")/$(jq -r .error.code "$T/body")" = 405/method_not_allowed
check "a bad query argument names its field" \
    test "$(code "${auth[@]}" "http://$ADDR/v1/evidence?since_ms=soon")/$(jq -r .error.field "$T/body")" = 400/since_ms
head -c 1100000 /dev/zero | tr '\0' x > "$T/big"
check "an oversized body: 413 too_large" \
    test "$(code "${auth[@]}" -X POST --data-binary @"$T/big" "http://$ADDR/v1/actors")/$(jq -r .error.code "$T/body")" = 413/too_large
check "malformed JSON: 400 with a clear message" \
    test "$(code "${auth[@]}" -X POST -d '{"name": ' "http://$ADDR/v1/actors")/$(jq -r '.error.message | test("not a JSON object")' "$T/body")" = 400/true
check "a path that climbs out: 404, nothing served" \
    test "$(code "${auth[@]}" --path-as-is "http://$ADDR/v1/../../etc/passwd")" = 404
m=$(machines_q '.machines[0].id')
outerr env OPSDECK_ADDR=$ADDR OPSDECK_TOKEN=$VIEW "$OPSDECK" --state /nonexistent machine restart "$m"
check "a viewer over TCP is refused (403)" bash -c "[ $rc = 1 ] && grep -q \"viewer 'look' may not machine.restart\" '$T/err'"
outerr env OPSDECK_ADDR=$ADDR OPSDECK_TOKEN=$OPS "$OPSDECK" --state /nonexistent machine restart "$m"
check "an operator's CLI over TCP restarts it" test "$rc" = 0
check "recorded as that actor, via cli" \
    test "$(od evidence --json | jq -r '[.entries[] | select(.action == "machine.restart" and .outcome == "ok")][0] | "\(.actor) \(.via)"')" = "ops cli"
wait_for 20 all_started || fail "the machine did not start again"
check "the same token from another client restarts it too" \
    test "$(code -H "Authorization: Bearer $OPS" -X POST -d '{}' "http://$ADDR/v1/machines/$m/restart")" = 200
check "recorded as the same actor, via api (where a request came from is its own)" \
    test "$(od evidence --json | jq -r '[.entries[] | select(.action == "machine.restart" and .outcome == "ok")] | map("\(.actor) \(.via)") | join(",")')" = "ops cli,ops api"
outerr env OPSDECK_ADDR=$ADDR "$OPSDECK" status
check "the CLI over TCP without a token says what is missing" bash -c "[ $rc = 1 ] && grep -q 'needs a bearer token' '$T/err'"
outerr env OPSDECK_ADDR=127.0.0.1:1 "$OPSDECK" status
check "nothing listening on OPSDECK_ADDR: exit 3, naming it" bash -c "[ $rc = 3 ] && grep -q '127.0.0.1:1 (OPSDECK_ADDR)' '$T/err'"

# GET /v1/apps is kept rendered until the fleet changes: it must follow every change.
apps_machines() { curl -s -H "Authorization: Bearer $VIEW" "http://$ADDR/v1/apps" |
	jq -c '[.apps[].machines[]] | sort_by(.id)'; }
machines_now() { od machines --json | jq -c '.machines | sort_by(.id)'; }
same_as_machines() { [ "$(apps_machines)" = "$(machines_now)" ]; }
# Two reads can straddle a transition: each comparison waits for them to agree (a
# kept answer that went stale would never agree); the check after a stop reads once.
wait_for 10 all_started || fail "the machine did not start again after its restart"
m=$(od machines --json | jq -r '.machines[0].id')
check "/v1/apps shows what /v1/machines shows" wait_for 10 same_as_machines
od machine stop "$m" >/dev/null
curl -s -H "Authorization: Bearer $VIEW" "http://$ADDR/v1/apps" > "$T/apps.json"
check "after a stop, at once: the machine stopped in /v1/apps" jq -e \
    '.apps[0].machines[0].state == "stopped" and .apps[0].machines_started == 0' "$T/apps.json"
check "and the same as /v1/machines" wait_for 10 same_as_machines
od machine start "$m" >/dev/null
wait_for 10 all_started || fail "the machine did not start again"
check "after a start: the same again (pid, state, updated_at)" wait_for 10 same_as_machines
mkdir -p "$T/art" && echo one > "$T/art/VERSION"
od deploy web-app --artifact "$T/art" >/dev/null
curl -s -H "Authorization: Bearer $VIEW" "http://$ADDR/v1/apps" > "$T/apps.json"
check "after a deploy: its release is live in /v1/apps" jq -e '.apps[0].release == "v1"' "$T/apps.json"
wait_for 20 bash -c "[ \"\$(sqlite3 '$STATE/opsdeck.db' 'SELECT count(*) FROM deploy_locks')\" = 0 ]" ||
    fail "the deploy did not end"
check "and its machines are the ones /v1/machines shows" wait_for 10 same_as_machines

# A second daemon on another state dir but the same port stops at once.
outerr "$OPSDECK" up -c "$CONFIG" --state "$T/other"
check "a port already in use: up fails, naming it" bash -c "[ $rc = 1 ] && grep -q 'cannot listen on $ADDR (api.listen)' '$T/err'"
check "and left no socket behind" test ! -e "$T/other/opsdeck.sock"
check "the first daemon still answers" od status
printf 'api: {listen: "db.example:80"}\napps: {a: {processes: {w: {command: ["/bin/sh"]}}}}\n' > "$T/bad.yaml"
outerr "$OPSDECK" config check -c "$T/bad.yaml"
check "a name in api.listen is a FILE:LINE:COL error" bash -c "[ $rc = 2 ] && grep -q 'bad.yaml:1:15: api.listen:' '$T/err'"
printf 'api: {listen: "0.0.0.0:7480"}\napps: {a: {processes: {w: {command: ["/bin/sh"]}}}}\n' > "$T/bad.yaml"
outerr "$OPSDECK" config check -c "$T/bad.yaml"
check "a non-loopback api.listen is refused (no TLS: tokens would travel in clear)" \
    bash -c "[ $rc = 2 ] && grep -q 'not a loopback address' '$T/err'"
stop_daemon
finish
