#!/bin/bash
# The evidence ledger as a user checks it: actions through the CLI and the API leave
# entries naming who, via what and with what outcome; a deploy leaves a receipt; an
# export verifies offline against the control plane's key, and flipping one byte,
# deleting a line or swapping two lines each fails, naming the entry. No secret value
# is in the evidence. The chain goes on across a daemon restart.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=26200
. "$(dirname "$0")/../lib/deploy.sh"
DEPLOY_SMOKE=300ms DEPLOY_WATCH=300ms write_app_config
SECRET=hunter2-$RANDOM-sekrit
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }
me=$(id -un)

start_daemon
check "a secret is staged" od secrets set web-app "DB_PASSWORD=$SECRET"
check "a release goes live" od deploy web-app --artifact "$T/good"
receipt() { od evidence --json --limit 0 | jq -e '[.entries[] | select(.action == "deploy.receipt")] | length >= 1' >/dev/null; }
check "its receipt is in the ledger" wait_for 20 receipt
m=$(machines_q '[.machines[] | select(.state == "started")][0].id')
check "a machine restart through the CLI" od machine restart "$m"
# The same action from another client on the socket: recorded as via api.
wait_for 20 all_started || fail "the machine did not start again"
check "a machine restart through the API" curl -sf -o /dev/null \
    --unix-socket "$STATE/opsdeck.sock" -X POST -d '{}' \
    "http://x/v1/machines/$m/restart"

od evidence --json --limit 0 > "$T/ev.json"
q() { jq -r "$1" "$T/ev.json"; }
check "every step of the deploy is there: requested, then ok" \
    test "$(q '[.entries[] | select(.action == "deploy.create") | .outcome] | join(",")')" = "requested,ok"
check "the deploy's entries name the actor and via cli" \
    test "$(q '[.entries[] | select(.action == "deploy.create") | "\(.actor)/\(.via)"] | unique | join(",")')" = "$me/cli"
check "the deploy's arguments are recorded (the artifact's digest)" \
    test "$(q '[.entries[] | select(.action == "deploy.create")][0].args.artifact')" = "$(release_q v1 .artifact)"
check "the receipt names the release, its artifact and secrets version" \
    test "$(q '[.entries[] | select(.action == "deploy.receipt")][0] | "\(.target) \(.args.status) \(.args.artifact) \(.args.secrets_version)"')" = \
    "web-app v1 live $(release_q v1 .artifact) $(release_q v1 .secrets_version)"
check "the receipt carries the health gate's evidence" \
    test "$(q '[.entries[] | select(.action == "deploy.receipt")][0].args.health.health.status')" = ok
check "the restart through the API is recorded as via api" \
    test "$(q '[.entries[] | select(.action == "machine.restart") | .via] | unique | join(",")')" = "api,cli"
check "an outcome entry has a duration" \
    test "$(q '[.entries[] | select(.outcome == "ok")] | all(.duration_ms >= 0)')" = true
check "secrets set records the name" \
    test "$(q '[.entries[] | select(.action == "secrets.set")][0].args.set[0]')" = DB_PASSWORD
outerr od evidence --actor nobody-else --json
check "--actor filters" test "$(jq '.entries | length' "$T/out")" = 0
outerr od evidence --since yesterday-ish
check "a bad --since is a usage error naming the value" \
    bash -c "[ $rc = 2 ] && grep -q \"since 'yesterday-ish'\" '$T/err'"

od evidence key > "$T/key"
check "the key is 64 hex digits and a fingerprint" grep -Eq '^[0-9a-f]{64} ed25519:[0-9a-f]{16}$' "$T/key"
check "the key file in the state dir is private" test "$(stat -c %a "$STATE/evidence.key")" = 600
check "export writes a file" od evidence export -o "$T/ex.jsonl"
n=$(($(wc -l < "$T/ex.jsonl") - 1))
outerr "$OPSDECK" evidence verify "$T/ex.jsonl" --pubkey "$T/key"
check "the export verifies offline against the control plane's key" \
    bash -c "[ $rc = 0 ] && grep -q ': ok: $n entries' '$T/out'"
check "no secret value appears in the export" bash -c "! grep -qF '$SECRET' '$T/ex.jsonl'"
check "nor anywhere in the store's evidence" \
    bash -c "! sqlite3 '$STATE/opsdeck.db' 'SELECT * FROM evidence' | grep -qF '$SECRET'"

# Tampering: each of these fails and names the entry.
verify_fails() { # FILE EXPECTED_SEQ PATTERN
	outerr "$OPSDECK" evidence verify "$1" --pubkey "$T/key" --json
	[ "$rc" = 1 ] && [ "$(jq -r .problem.seq "$T/out")" = "$2" ] &&
	    jq -r .problem.message "$T/out" | grep -q "$3"
}
# A byte of the entry on line 5 (seq 4): one character of its "at" time changed.
awk 'NR == 5 {sub(/"at":"2/, "\"at\":\"3")} {print}' "$T/ex.jsonl" > "$T/flip"
check "changing one byte fails, naming entry 4" verify_fails "$T/flip" 4 "entry seq 4 was altered"
sed '6d' "$T/ex.jsonl" > "$T/del"
check "deleting a line fails, naming entry 5 as removed" verify_fails "$T/del" 5 "entry seq 5 was removed"
sed '$d' "$T/ex.jsonl" > "$T/dellast"
check "deleting the last line fails too" verify_fails "$T/dellast" "$n" "entry seq $n was removed"
awk 'NR == 3 {a = $0; next} NR == 4 {print; print a; next} {print}' "$T/ex.jsonl" > "$T/swap"
check "swapping two lines fails, naming entry 2 as out of order" verify_fails "$T/swap" 2 "out of order"
outerr "$OPSDECK" evidence verify "$T/flip"
check "the plain message names FILE:LINE and the entry" \
    bash -c "[ $rc = 1 ] && grep -q 'flip:5: entry seq 4 was altered' '$T/err'"

# The chain goes on across a restart, with the same key.
stop_daemon
start_daemon
wait_for 20 all_started || fail "the fleet did not start again"
check "an action after the restart" od machine restart "$m"
check "export again" od evidence export -o "$T/ex2.jsonl"
outerr "$OPSDECK" evidence verify "$T/ex2.jsonl" --pubkey "$T/key"
check "the longer export verifies with the same key" bash -c "[ $rc = 0 ]"
check "and begins with the same entries" \
    bash -c "[ \"\$(sed -n 2p '$T/ex.jsonl')\" = \"\$(sed -n 2p '$T/ex2.jsonl')\" ]"
stop_daemon
finish
