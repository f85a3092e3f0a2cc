#!/bin/bash
# api.local_users: the CLI on the unix socket acts as the actor its OS user maps to,
# with that actor's role (the gate refuses what the role may not do, and evidence
# names the actor); a mapped actor that is revoked gets 401, never the owner's
# admin; a bearer token still names its own actor; an OS user that does not exist
# stops the daemon at start, naming it.
. "$(dirname "$0")/../lib/daemon.sh"
ME=$(id -un)
config() { # config [LOCAL_USERS_MAPPING]
	cat > "$CONFIG" <<YAML
ports: {from: 26800, to: 26849}
${1:+api: {local_users: $1\}}
apps:
  web-app:
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
YAML
}
config
start_daemon
ADMIN=$(od actor add boss --role admin 2>/dev/null)
od actor add vic --role viewer >/dev/null 2>&1
od evidence --json > "$T/ev0.json"
check "without a mapping, the owner is admin under its login name" jq -e \
    --arg me "$ME" '.entries[-1].actor == $me and .entries[-1].role == "admin"' "$T/ev0.json"
stop_daemon

config "{$ME: vic}"
start_daemon
check "mapped to the viewer vic, the CLI reads" od status
m=$(od machines --json | jq -r '.machines[0].id')
od machine restart "$m" > "$T/out" 2> "$T/err" && rc=0 || rc=$?
check "but may not restart a machine (exit 1)" test "$rc" = 1
check "the refusal names the actor and its role" grep -q "viewer 'vic' may not machine.restart" "$T/err"
od evidence --json --limit 5 > "$T/ev.json"
check "evidence names vic, via cli" jq -e \
    '[.entries[] | select(.action == "machine.restart" and .actor == "vic" and .via == "cli" and .outcome == "denied")] | length == 1' "$T/ev.json"
check "a bearer token still names its own actor" bash -c \
    "OPSDECK_TOKEN=$ADMIN $OPSDECK --state $STATE machine restart $m >/dev/null"
OPSDECK_TOKEN=$ADMIN od actor revoke vic >/dev/null
od status > "$T/out" 2> "$T/err" && rc=0 || rc=$?
check "once vic is revoked, the mapped user is refused" test "$rc" != 0
check "with a message naming the mapping" grep -q "actor 'vic' was revoked" "$T/err"
stop_daemon

config "{no-such-user-xyz: vic}"
"$OPSDECK" up -c "$CONFIG" --state "$STATE" > "$T/up.out" 2>&1 && rc=0 || rc=$?
check "an OS user that does not exist stops the daemon at start" test "$rc" != 0
check "naming it" grep -q "there is no OS user 'no-such-user-xyz'" "$T/up.out"
finish
