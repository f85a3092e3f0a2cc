#!/bin/bash
# An agent's scripted day, as the seed's DevOps agent lived it, through the CLI and
# MCP on the test clock: the manager imports the directions (v5.2 to v7.0), the
# agent starts a task, pings its heartbeat, checks status and deploys over MCP,
# finishes after 3 hours, blocks a task on the manager, fails to move someone
# else's task, then goes silent while doing one: its heartbeat goes stale, an
# incident opens and its notice goes to the manager's channel only. The report
# written from the ledgers must match tests/data/report/agent-day.md (times, the
# key and digests aside), and its JSON the counts.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=27100
. "$(dirname "$0")/../lib/deploy.sh"
SRC=${OPSDECK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
cat > "$CONFIG" <<YAML
ports: {from: 27100, to: 27189}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    stage: staging
    deploy: {smoke: 300ms, watch: 300ms, timeout: 20s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
heartbeats:
  devops-agent: {actor: devops, doing_stale: 15m, app: web-app, channels: [manager]}
channels:
  manager: {command: ["/bin/sh", "-c", "cat >> '$T/manager.jsonl'; echo >> '$T/manager.jsonl'"]}
  oncall: {command: ["/bin/sh", "-c", "cat >> '$T/oncall.jsonl'; echo >> '$T/oncall.jsonl'"]}
notify:
  routes:
    - {channels: [oncall]}
agents: {doing_stale: 15m, channels: [manager]}
YAML
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }
advance() { # advance MS: the test clock
	curl -s --unix-socket "$STATE/opsdeck.sock" -X POST -d "{\"advance_ms\": $1}" \
	    http://x/v1/test/clock > /dev/null
}
mcp() { # mcp TOKEN JSON: POST /mcp on the socket; the answer in $T/body
	curl -s -o "$T/body" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $1" \
	    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	    --data-binary "$2" --unix-socket "$STATE/opsdeck.sock" http://x/mcp
}
call() { printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"; }

# The config names channels that must exist.
sed 's/channels: \[manager\]/channels: [pager]/' "$CONFIG" > "$T/bad.yaml"
outerr "$OPSDECK" config check -c "$T/bad.yaml"
check "a heartbeat's unknown channel is a config error at its line" \
    bash -c "[ $rc = 2 ] && grep -q \"bad.yaml:11:.*no channel named 'pager'\" '$T/err'"

OPSDECK_TEST_CLOCK=1 start_daemon
DEVOPS=$(od actor add devops --role agent)
as() { OPSDECK_TOKEN=$DEVOPS "$OPSDECK" --state "$STATE" "$@"; }
DIGEST=$(od artifact import "$T/good")

# The manager (the local admin) imports the directions and a task of the data agent.
outerr od task import "$SRC/examples/directions/devops.md"
check "the seed's directions import: 15 tasks" grep -q '15 tasks added, 0 updated, 0 unchanged' "$T/out"
od task add DATA-006 --title "Performance indexes migration" --owner data --direction v6.0 --estimate 2h >/dev/null

# 09:00 the agent starts DEVOPS-014 and says so on its heartbeat.
outerr as task start DEVOPS-014
check "the agent starts its task" grep -q 'DEVOPS-014 .*\[doing\]' "$T/out"
outerr as heartbeat ping devops-agent --status doing --task DEVOPS-014 --message "CI guards"
check "and pings its heartbeat, doing it" test "$rc" = 0
check "the heartbeat shows the task" \
    test "$(od heartbeats --json | jq -r '.heartbeats[] | select(.name == "devops-agent") | "\(.report) \(.task) \(.actor)"')" = "doing DEVOPS-014 devops"

# It checks the fleet and deploys to staging through MCP.
check "status over MCP" test "$(mcp "$DEVOPS" "$(call 1 status '{}')")" = 200
mcp "$DEVOPS" "$(call 2 deploy "{\"app\": \"web-app\", \"artifact\": \"$DIGEST\"}")" >/dev/null
check "deploy over MCP is accepted" jq -e '.result.isError == false' "$T/body"
# the deploy's end is its receipt in the ledger (the lock goes a turn before)
receipt() { [ "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM evidence WHERE action = 'deploy.receipt'")" = 1 ]; }
wait_for 30 receipt || fail "the deploy did not end"
mcp "$DEVOPS" "$(call 3 tasks '{"owner": "devops", "direction": "v7.0"}')" >/dev/null
check "the tasks tool lists v7.0's two tasks, one doing" \
    jq -e '.result.structuredContent.progress.directions[0] | .total == 2 and .doing == 1' "$T/body"

# Three hours later, without a ping between, it is done; it starts DEVOPS-006 and
# blocks it on the manager.
advance $((3 * 3600 * 1000))
stale() { [ "$(od incidents --json | jq '[.incidents[] | select(.source == "heartbeat" and .name == "devops-agent")] | length')" = 1 ]; }
check "three hours silent while doing: its heartbeat is stale, an incident opens" wait_for 10 stale
mcp "$DEVOPS" "$(call 4 task_done '{"id": "DEVOPS-014"}')" >/dev/null
check "task_done over MCP answers the task, done" \
    jq -e '.result.structuredContent | .status == "done" and .done_at != null' "$T/body"
outerr as task start DEVOPS-006
outerr as task block DEVOPS-006 --on manager --reason "the indexes need the manager's approval to apply"
check "it blocks DEVOPS-006 on the manager" grep -q 'blocked.*on manager' "$T/out"
outerr as task block DEVOPS-007 --on DATA-099 --reason "waits for the data agent"
check "blocking on a task that does not exist is refused, naming it" \
    bash -c "[ $rc = 2 ] && grep -q \"no task 'DATA-099' to wait for\" '$T/err'"
outerr as task done DATA-006
check "an agent cannot move another owner's task" \
    bash -c "[ $rc = 1 ] && grep -q 'DATA-006 is owned by data: an agent moves only its own tasks' '$T/err'"
outerr as task done DEVOPS-014
check "a done task does not move again" bash -c "[ $rc = 1 ] && grep -q 'DEVOPS-014 is done' '$T/err'"

# It starts DEVOPS-015, pings, and goes silent: stale after 15 minutes.
outerr as task start DEVOPS-015
as heartbeat ping devops-agent --status doing --task DEVOPS-015 >/dev/null
check "a ping resolves it" wait_for 10 bash -c "[ \"\$('$OPSDECK' --state '$STATE' incidents --json | jq '.incidents | length')\" = 0 ]"
advance $((16 * 60 * 1000))
check "16 minutes without a ping while doing: an incident opens" wait_for 10 stale
check "its title names the agent and its task" \
    test "$(od incidents --json | jq -r '.incidents[] | select(.name == "devops-agent") | .title' | grep -c 'stale: agent devops doing DEVOPS-015')" = 1
sent() { [ -s "$T/$1.jsonl" ] && grep -q '"devops-agent"' "$T/$1.jsonl"; }
check "its notice reaches the manager's channel" wait_for 20 sent manager
check "and only that one (the notify routes do not apply)" bash -c "! grep -qs devops-agent '$T/oncall.jsonl'"
DATA=$(od actor add data --role agent)
outerr env OPSDECK_TOKEN="$DATA" "$OPSDECK" --state "$STATE" heartbeat ping devops-agent
check "another agent cannot ping devops's heartbeat alive" \
    bash -c "[ $rc = 1 ] && grep -q \"heartbeat 'devops-agent' is agent devops's\" '$T/err'"

# The report, from the ledgers.
outerr od report --actor devops --format md
check "report exits 0" test "$rc" = 0
sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' -e 's/[0-9]{2}:[0-9]{2}:[0-9]{2}Z/HH:MM:SSZ/g' \
    -e 's/ed25519:[0-9a-f]{16}/KEY/g' "$T/out" > "$T/report.md"
if diff -u "$SRC/tests/data/report/agent-day.md" "$T/report.md" > "$T/report.diff"; then
	pass "the report matches the expected markdown"
else
	cat "$T/report.diff"; fail "the report matches the expected markdown"
fi
od report --actor devops --format json > "$T/report.json"
check "the JSON counts each MCP tool the agent called" \
    jq -e '.by_tool == {"status": 1, "deploy": 1, "tasks": 1, "task_done": 1}' "$T/report.json"
check "and each action by outcome (task.done: 1 ok, 2 failed)" \
    jq -e '.by_action["task.done"] == {"total": 3, "ok": 1, "failed": 2}' "$T/report.json"
check "every evidence line has a seq that is in the ledger" \
    bash -c "for s in \$(jq '.actions[].seq' '$T/report.json'); do [ \"\$(sqlite3 '$STATE/opsdeck.db' \"SELECT actor FROM evidence WHERE id = \$s\")\" = devops ] || exit 1; done"
# since the request of DEVOPS-006's start: what came before is left out
since=$(od evidence --actor devops --json | jq -r '[.entries[] | select(.action == "task.start" and .target == "DEVOPS-006")][0].at')
od report --actor devops --since "$since" --format json > "$T/recent.json"
check "--since leaves out what came before" \
    jq -e '([.moves[].task] | index("DEVOPS-014") == null) and .moves[0].task == "DEVOPS-006" and ([.actions[].action] | index("mcp.call") == null)' "$T/recent.json"
mcp "$DEVOPS" "$(call 5 report '{}')" >/dev/null
check "the report tool answers the agent's own report, its text the markdown" \
    jq -e '.result.structuredContent.actor == "devops" and (.result.content[0].text | startswith("# Report: devops"))' "$T/body"
outerr od report --actor 'bad name'
check "a bad actor name is a usage error" test "$rc" = 2
outerr od report
check "report needs --actor" test "$rc" = 2

# Every agent has a heartbeat of its own: data, added today, gets agent-data.
hb_of() { od heartbeats --json | jq -r ".heartbeats[] | select(.name == \"$1\") | $2"; }
check "the agent added today has its own heartbeat, agent-data" test "$(hb_of agent-data .actor)" = data
check "devops, whose heartbeat the config names, gets no second one" test -z "$(hb_of agent-devops .name)"
outerr env OPSDECK_TOKEN="$DATA" "$OPSDECK" --state "$STATE" heartbeat ping agent-data --status doing --task DATA-006
check "data pings it, doing DATA-006" test "$(hb_of agent-data '"\(.report) \(.task)"')" = "doing DATA-006"
advance $((16 * 60 * 1000))
data_stale() { [ "$(od incidents --json | jq '[.incidents[] | select(.name == "agent-data" and (.title | test("stale: agent data doing DATA-006")))] | length')" = 1 ]; }
check "silent 16 minutes while doing: its incident opens" wait_for 10 data_stale
data_sent() { grep -qs '"agent-data"' "$T/manager.jsonl"; }
check "to the channel of agents: (the manager's), not by the routes" \
    bash -c "$(declare -f wait_for data_sent); T='$T'; wait_for 20 data_sent && ! grep -qs agent-data '$T/oncall.jsonl'"
od actor revoke data >/dev/null
check "a revoked agent's heartbeat goes" test -z "$(hb_of agent-data .name)"

# Progress per direction, estimate against actual.
od task list --json > "$T/tasks.json"
check "v7.0 is 1/2 done (50 %) of 5h estimated, its time spent from the history" \
    jq -e '.progress.directions[] | select(.direction == "v7.0") | .done == 1 and .total == 2 and .percent == 50 and .estimate_ms == 18000000 and .actual_ms > 0' "$T/tasks.json"
check "v6.0 shows DEVOPS-006 blocked on manager" \
    jq -e '.progress.directions[] | select(.direction == "v6.0") | .blocked == 1 and .blocked_on[0].on == "manager"' "$T/tasks.json"
check "the owner row of data holds its one task" \
    jq -e '.progress.owners[] | select(.owner == "data") | .total == 1 and .todo == 1' "$T/tasks.json"

# Importing again changes nothing; an edited estimate is an update, status kept.
sed 's/DEVOPS-015 GA4 custom dimension hd_action_key \[1h\]/DEVOPS-015 GA4 custom dimension hd_action_key [2h]/' \
    "$SRC/examples/directions/devops.md" > "$T/devops.md"
outerr od task import "$T/devops.md"
check "a second import updates the one changed task" grep -q '0 tasks added, 1 updated, 14 unchanged' "$T/out"
check "and keeps its status" test "$(od task show DEVOPS-015 --json | jq -r '"\(.status) \(.estimate)"')" = "doing 2h0m"
printf '# Direction v8.0\nOwner: devops\n\n- [ ] DEVOPS-16 A task\n- [?] DEVOPS-17 Bad box\n' > "$T/bad.md"
outerr od task import "$T/bad.md"
check "a bad direction file exits 2 naming file:line:col" \
    bash -c "[ $rc = 2 ] && grep -q \"bad.md:5:3: a task starts with\" '$T/err'"
check "and imports nothing" bash -c "! od task show DEVOPS-16 >/dev/null 2>&1"

stop_daemon || fail "the daemon did not stop cleanly"
finish
