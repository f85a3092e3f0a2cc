#!/bin/bash
# Actors, roles and four eyes, as the account issue checks them: an agent's token
# deploys to staging; its production deploy waits for approval; the same actor can
# not approve a request of its own; another approver can, and it runs exactly once,
# as the requester; an expired request never runs; a wrong role gets 403 with a clear
# message; a revoked or unknown token gets 401. All of it is in the evidence.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=26300
. "$(dirname "$0")/../lib/deploy.sh"
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }
config() { # config EXPIRE
	cat > "$CONFIG" <<YAML
ports: {from: 26300, to: 26399}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
approvals:
  expire: $1
  require:
    - {action: deploy.rollback, stage: production}
    - {action: secrets.deploy, stage: production}
apps:
  shop-staging:
    stage: staging
    deploy: {smoke: 300ms, watch: 300ms, timeout: 10s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
  shop:
    deploy: {smoke: 300ms, watch: 300ms, timeout: 10s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
YAML
}
config 1h
make_artifact v2 build-2
start_daemon
as() { local tok=$1; shift; OPSDECK_TOKEN=$tok "$OPSDECK" --state "$STATE" "$@"; }
releases_of() { od releases "$1" --json | jq '.releases | length'; }
deploy_ended() { [ "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM deploy_locks")" = 0 ]; }

outerr od actor add bot --role agent
check "actor add prints a token once" grep -Eq '^odt_[0-9a-f]{64}$' "$T/out"
BOT=$(cat "$T/out")
ALICE=$(od actor add alice --role approver)
CAROL=$(od actor add carol --role approver)
VIC=$(od actor add vic --role viewer)
check "the store keeps no token" bash -c "! sqlite3 '$STATE/opsdeck.db' .dump | grep -qF '$BOT'"
outerr od actor add bot --role admin
check "a live actor cannot be added twice" bash -c "[ $rc != 0 ] && grep -q 'revoke it first' '$T/err'"
outerr od actor add Bad_Name --role agent
check "a bad actor name is a usage error" test "$rc" = 2
outerr od actor add dave --role superuser
check "an unknown role is refused, naming the roles" bash -c "[ $rc = 2 ] && grep -q 'viewer, agent, operator, approver or admin' '$T/err'"

# An agent deploys to staging at once.
check "the agent deploys to staging" as "$BOT" deploy shop-staging --artifact "$T/good"
check "as itself" test "$(od release shop-staging v1 --json | jq -r .actor)" = bot
wait_for 20 deploy_ended || fail "the staging deploy did not end"

# Its production deploy waits.
outerr as "$BOT" deploy shop --artifact "$T/good"
check "the agent's production deploy waits for approval (exit 4)" test "$rc" = 4
check "and says who must do what" grep -q 'waits for approval #1.*opsdeck approve 1' "$T/err"
check "nothing was deployed" test "$(releases_of shop)" = 0
check "the request is listed, pending, with its digest" \
    test "$(od approvals --json | jq -r '.approvals[0] | "\(.id) \(.state) \(.action) \(.requester) \(.digest | length)"')" = "1 pending deploy.create bot 64"
outerr as "$VIC" deploy shop --artifact "$T/good"
check "a viewer gets 403 with a clear message" \
    bash -c "[ $rc = 1 ] && grep -q \"viewer 'vic' may not deploy.create (needs role agent)\" '$T/err'"
code=$(curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$STATE/opsdeck.sock" \
    -H "Authorization: Bearer $VIC" -X POST -d '{"artifact": "'"$(printf '%064d' 0)"'"}' http://x/v1/apps/shop/deploys)
check "the API answers it 403" test "$code" = 403
outerr as "$BOT" approve 1
check "the agent cannot approve (its role)" bash -c "[ $rc = 1 ] && grep -q 'needs role approver' '$T/err'"
check "and it still waits" test "$(od approvals --json | jq -r '.approvals[0].state')" = pending

outerr as "$ALICE" approve 1 --comment "checked the build"
check "another approver grants it, and it runs" bash -c "[ $rc = 0 ] && grep -q '#1 approved: deploy.create on .shop. runs as bot, release v1' '$T/out'"
wait_for 20 deploy_ended || fail "the approved deploy did not end"
check "exactly one release came of it, made by the requester" \
    test "$(od releases shop --json | jq -r '[.releases[] | .actor] | join(",")')" = bot
outerr as "$CAROL" approve 1
check "approving again does not run it again" bash -c "[ $rc = 1 ] && grep -q 'has run already' '$T/err'"
check "still one release" test "$(releases_of shop)" = 1
check "the request shows who decided and that it ran" \
    test "$(od approvals --all --json | jq -r '.approvals[0] | "\(.state) \(.decided_by) \(.comment)"')" = "ran alice checked the build"

# Four eyes: an approver's own request (the policy gates production rollbacks).
make_artifact v2 build-2
as "$ALICE" deploy shop --artifact "$T/v2" >/dev/null 2>&1 || fail "alice could not deploy v2"
wait_for 20 deploy_ended || fail "v2's deploy did not end"
outerr as "$ALICE" rollback shop v1
check "the policy makes a production rollback wait, even for an approver" test "$rc" = 4
outerr as "$ALICE" approve 2
check "its requester cannot approve it" bash -c "[ $rc = 1 ] && grep -q \"'alice' requested #2 and may not approve it\" '$T/err'"
check "it still waits" test "$(od approvals --json | jq -r '.approvals[0].state')" = pending
outerr as "$CAROL" deny 2 --comment "not now"
check "another approver denies it" bash -c "[ $rc = 0 ] && grep -q '#2 denied' '$T/out'"
check "v2 is still live" test "$(od release shop v2 --json | jq -r .status)" = live
outerr as "$CAROL" approve 2
check "a denied request cannot be approved after" bash -c "[ $rc = 1 ] && grep -q 'was denied' '$T/err'"

# Promotion: staging's live artifact to production, by digest, through approval.
outerr as "$BOT" promote shop --from staging --to production
check "the agent's promotion to production waits for approval" bash -c "[ $rc = 4 ] && grep -q 'deploy.promote' '$T/err'"
pid=$(od approvals --json | jq -r '.approvals[-1].id')
outerr as "$CAROL" approve "$pid"
check "approved, it deploys to shop" bash -c "[ $rc = 0 ] && grep -q 'runs as bot, release v3' '$T/out'"
wait_for 20 deploy_ended || fail "the promotion did not end"
check "shop v3 is live with staging's very artifact (no rebuild)" \
    test "$(od release shop v3 --json | jq -r '"\(.status) \(.artifact)"')" = "live $(od release shop-staging v1 --json | jq -r .artifact)"
check "its evidence names where it came from" \
    test "$(od evidence --json --limit 0 | jq -r '[.entries[] | select(.action == "deploy.promote" and .outcome == "ok")][0].args.from')" = "shop-staging v1"
outerr od promote shop --from staging --to qa
check "a stage with no app is refused, naming what it looked for" bash -c "[ $rc = 1 ] && grep -q \"no app of 'shop' on stage 'qa'\" '$T/err'"
od machine stop "$(od machines --json | jq -r '[.machines[] | select(.app == "shop-staging")][0].id')" >/dev/null
outerr od promote shop --from staging --to production
check "an unhealthy source is not promoted" bash -c "[ $rc = 1 ] && grep -q 'is not healthy' '$T/err'"

# An approval covers the secrets the deploy will take: one staged after voids it.
outerr as "$BOT" deploy shop --artifact "$T/good"
check "a request that will freeze the staged secrets" test "$rc" = 4
sid=$(od approvals --json | jq -r '.approvals[-1].id')
check "a secret is staged after it" od secrets set shop "EXTRA=late-$RANDOM"
outerr as "$ALICE" approve "$sid"
check "approving it then does not deploy the new secret" \
    bash -c "[ $rc = 1 ] && grep -q 'was for other arguments' '$T/err'"
check "no release came of it" test "$(releases_of shop)" = 3

# Expiry: a request older than approvals.expire never runs.
config 1s
reload_daemon
outerr as "$BOT" deploy shop --artifact "$T/good"
check "a new request waits" test "$rc" = 4
id=$(od approvals --json | jq -r '.approvals[-1].id')
expired() { [ "$(od approvals --all --json | jq -r --arg id "$id" '.approvals[] | select(.id == ($id | tonumber)) | .state')" = expired ]; }
check "it expires" wait_for 10 expired
outerr as "$ALICE" approve "$id"
check "an expired request cannot be approved" bash -c "[ $rc = 1 ] && grep -q 'has expired' '$T/err'"
check "and never ran: still three releases of shop" test "$(releases_of shop)" = 3

# Tokens: revoked and unknown ones are refused; a revoked requester's request dies.
config 1h
reload_daemon
outerr as "$BOT" deploy shop --artifact "$T/good"
check "the agent asks once more" test "$rc" = 4
rid=$(od approvals --json | jq -r '.approvals[-1].id')
check "an admin revokes the agent" od actor revoke bot
outerr as "$ALICE" approve "$rid"
check "its request, approved after, does not run" \
    bash -c "[ $rc = 1 ] && grep -q \"actor 'bot' was revoked\" '$T/err'"
check "and is marked failed" \
    test "$(od approvals --all --json | jq -r --arg id "$rid" '.approvals[] | select(.id == ($id | tonumber)) | .state')" = failed
check "still three releases of shop" test "$(releases_of shop)" = 3
outerr od actor add opsdeck --role admin
check "the name opsdeck's own evidence uses cannot be taken" \
    bash -c "[ $rc = 2 ] && grep -q 'taken by opsdeck' '$T/err'"
outerr as "$BOT" status
check "a revoked token gets 401, saying so" bash -c "[ $rc = 1 ] && grep -q 'was revoked' '$T/err'"
outerr as "odt_$(printf '%064d' 7)" status
check "an unknown token is refused" bash -c "[ $rc = 1 ] && grep -q 'unknown' '$T/err'"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$STATE/opsdeck.sock" \
    -H "Authorization: Basic Zm9vOmJhcg==" http://x/v1/status)
check "a non-bearer Authorization gets 401" test "$code" = 401
outerr as "$ALICE" actor add eve --role admin
check "an approver cannot add actors" bash -c "[ $rc = 1 ] && grep -q 'needs role admin' '$T/err'"

# The policy holds secrets.deploy on production too.
outerr od secrets deploy shop
check "secrets deploy on production waits for approval" test "$rc" = 4
xid=$(od approvals --json | jq -r '.approvals[-1].id')
outerr as "$ALICE" approve "$xid"
check "approved, it makes the release that takes the staged secret" \
    bash -c "[ $rc = 0 ] && grep -q 'secrets.deploy on .shop.' '$T/out'"
check "four releases of shop now" test "$(releases_of shop)" = 4

# The evidence tells the story, signed.
od evidence --json --limit 0 > "$T/ev.json"
q() { jq -r "$1" "$T/ev.json"; }
check "the pending request is in evidence, as the agent's" \
    test "$(q '[.entries[] | select(.action == "deploy.create" and .outcome == "pending")][0] | "\(.actor) \(.approval)"')" = "bot 1"
check "the grant is in evidence, as alice's" \
    test "$(q '[.entries[] | select(.action == "approval.grant" and .outcome == "ok")][0].actor')" = alice
check "the run under approval 1 is the agent's, once" \
    test "$(q '[.entries[] | select(.action == "deploy.create" and .approval == 1 and .outcome == "ok")] | length')" = 1
check "the denials are in evidence" \
    test "$(q '[.entries[] | select(.outcome == "denied")] | length')" -ge 3
check "no token is in evidence" bash -c "! grep -qF '$BOT' '$T/ev.json' && ! grep -qF '$ALICE' '$T/ev.json'"
od evidence export -o "$T/ex.jsonl"
check "and it all verifies" "$OPSDECK" evidence verify "$T/ex.jsonl" --pubkey "$(od evidence key | cut -d' ' -f1)"
stop_daemon
finish
