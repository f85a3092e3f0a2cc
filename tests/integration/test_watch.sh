#!/bin/bash
# Watch, end to end with real servers: a demo app that goes down and comes back, a
# webhook receiver (build/hookd) that is down for a while, and the daemon's test
# clock (OPSDECK_TEST_CLOCK=1) for heartbeats, reminders and retry backoff.
# One incident and exactly one notice after the threshold; recovery resolves and
# notifies; a child check is held while its parent is down and its resolve still goes
# out; maintenance silences; a queued notice reaches a receiver that was down; a
# heartbeat that stops goes late, then down, at the right times.
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"

APP_PORT=28411
HOOK_PORT=28412
HOOKS="$T/hooks.log"
HOOKD="$OPSDECK_BUILD/hookd"
APP_PID=
HOOK_PID=

cat > "$CONFIG" <<EOF
checks:
  api:
    http: http://127.0.0.1:$APP_PORT/health
    interval: 200ms
    timeout: 150ms
    failures: 3
    successes: 2
    conditions: ["[STATUS] == 200", "[BODY] == pat(*ok*)"]
  tiles:
    http: http://127.0.0.1:$APP_PORT/api/tiles/1
    interval: 200ms
    timeout: 150ms
    failures: 4
    severity: warning
    depends_on: api
  port:
    tcp: 127.0.0.1:$APP_PORT
    interval: 1s
    timeout: 500ms
heartbeats:
  backup: {period: 1h, grace: 10m}
channels:
  hook: {webhook: http://127.0.0.1:$HOOK_PORT/hook}
notify:
  remind: 30m
  routes:
    - {severity: [critical, warning], channels: [hook]}
EOF

app_up() {
	"$DEMO_APP" --port "$APP_PORT" > "$T/app.log" 2>&1 &
	APP_PID=$!
}
app_down() {
	kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; APP_PID=
}
hook_up() {
	"$HOOKD" --port "$HOOK_PORT" --out "$HOOKS" &
	HOOK_PID=$!
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$HOOK_PORT/ready"
}
hook_down() {
	kill "$HOOK_PID"; wait "$HOOK_PID" 2>/dev/null || true; HOOK_PID=
}
cleanup_watch() {
	if [ "$FAILURES" -gt 0 ] && [ -S "$STATE/opsdeck.sock" ]; then
		echo "--- outbox ---"
		curl -s --unix-socket "$STATE/opsdeck.sock" http://x/v1/notifications |
		    jq -c '.notifications[] | [.id, .incident, .event, .state, .attempts, .last_error]'
		echo "--- received ---"
		jq -Rn -c '[inputs | fromjson? | [.event, .incident.id, .incident.name]]' "$HOOKS"
	fi
	[ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
	[ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null
	return 0
}
# Every way out (die too) stops the app and the receiver first.
eval "lib_$(declare -f finish)"
finish() { cleanup_watch; lib_finish; }

check_q() { od checks --json | jq -r ".checks[] | select(.name == \"$1\") | $2"; }
inc_q() { od incidents --all --json | jq -r "$1"; }
# notices NAME EVENT: how many the receiver got for that check's incidents
notices() {
	[ -f "$HOOKS" ] || { echo 0; return; }
	jq -Rn "[inputs | fromjson? | select(.incident.name == \"$1\" and .event == \"$2\")] | length" "$HOOKS"
}
is() { [ "$(eval "$1")" = "$2" ]; }	# is "COMMAND LINE" VALUE
advance() { # advance MS: the test clock
	curl -s --unix-socket "$STATE/opsdeck.sock" -X POST -d "{\"advance_ms\": $1}" \
	    http://x/v1/test/clock > /dev/null
}

hook_up
app_up
OPSDECK_TEST_CLOCK=1 start_daemon
check "api passes against the running app" \
    wait_for 20 is "check_q api .status" up
check "the tcp check connects" wait_for 20 is "check_q port .status" up

# The app goes away: one incident, one notice, only after three failures in a row.
app_down
opened_at_fails=
for _ in $(seq 200); do
	inc=$(check_q api .incident)
	if [ "$inc" != null ]; then opened_at_fails=$(check_q api .failures_in_row); break; fi
	sleep 0.05
done
check "the app's going down opens an incident" test "$inc" != null
check "not before three failures in a row (seen at $opened_at_fails)" \
    test "${opened_at_fails:-0}" -ge 3
check "the receiver gets exactly one 'opened' notice for it" \
    wait_for 20 is "notices api opened" 1
check "the child check is down too, its incident held" \
    wait_for 20 is "inc_q '[.incidents[] | select(.name == \"tiles\" and .held)] | length'" 1
sleep 1	# more failing runs: still one incident, one notice, none for the child
check "still one open incident for api after more failures" \
    test "$(inc_q '[.incidents[] | select(.name == "api" and .state == "open")] | length')" = 1
got="$(notices api opened) $(notices tiles opened)"
check "still one notice; none for the held child ($got)" test "$got" = "1 0"
why=$(inc_q '.incidents[] | select(.name == "api") | .timeline[0].detail')
check "the incident's timeline says why ($why)" grep -q "Couldn't connect" <<<"$why"
check "check run says FAILED and exits 1 while it is down" \
    bash -c "! '$OPSDECK' check run api -c '$CONFIG' > '$T/run.out'; grep -q 'FAILED' '$T/run.out'"

# A reminder after remind: (30m on the test clock), then ack stops them.
advance 1860000
check "a reminder goes out while it is open" wait_for 20 is "notices api reminder" 1
api_inc=$(check_q api .incident)
check "ack $api_inc" od ack "$api_inc"
check "acknowledged, by whom" \
    test "$(inc_q ".incidents[] | select(.id == $api_inc) | \"\(.state) \(.acked_by != null)\"")" = "acknowledged true"
advance 1860000
sleep 1.5
check "no reminder after the ack" test "$(notices api reminder)" = 1
if od ack "$api_inc" 2> "$T/ack.err"; then rc=0; else rc=$?; fi
check "a second ack is refused, saying why" \
    bash -c "[ $rc -ne 0 ] && grep -q 'is acknowledged' '$T/ack.err'"

# Back up: resolved, one notice each; the held child's resolve still goes out.
app_up
check "two passing runs resolve it" \
    wait_for 20 is "inc_q '.incidents[] | select(.id == $api_inc) | .state'" resolved
check "one 'resolved' notice for api" wait_for 20 is "notices api resolved" 1
check "the held child's resolve still goes out" wait_for 20 is "notices tiles resolved" 1
check "check run prints each condition and exits 0" \
    bash -c "'$OPSDECK' check run api -c '$CONFIG' > '$T/run.out' && grep -q 'ok    \[STATUS\] (200) == 200' '$T/run.out'"

# Maintenance silences: an outage inside it sends nothing and shows as maintenance.
before=$(notices api opened)
check "maintenance add" od maintenance add --check api --duration 2h --reason "db upgrade"
app_down
check "the outage opens an incident marked maintenance" \
    wait_for 20 is "inc_q '[.incidents[] | select(.name == \"api\" and .state == \"open\" and .maintenance)] | length'" 1
sleep 1
check "no notice during maintenance" test "$(notices api opened)" = "$before"
mid=$(od maintenance list --json | jq '.maintenance[0].id')
check "maintenance end" od maintenance end "$mid"
check "once it ends, the still-open incident is notified" \
    wait_for 20 is "notices api opened" $((before + 1))
app_up
check "and resolved" wait_for 20 is "notices api resolved" 2

# A receiver that is down: the notice waits in the outbox and arrives later.
hook_down
app_down
check "with the receiver down, the notice is queued and retried" \
    wait_for 30 is "curl -s --unix-socket $STATE/opsdeck.sock http://x/v1/notifications | jq '[.notifications[] | select(.state == \"pending\" and .attempts > 0)] | length > 0'" true
hook_up
advance 600000	# past the backoff
check "the receiver gets the queued notice when it is back" \
    wait_for 20 is "notices api opened" $((before + 2))
app_up
check "then the resolve, in order" wait_for 20 is "notices api resolved" 3
check "every notice was delivered" \
    wait_for 20 is "curl -s --unix-socket $STATE/opsdeck.sock http://x/v1/notifications | jq '[.notifications[] | select(.state != \"sent\")] | length'" 0

# Heartbeats: late after the period, down after the grace, on the test clock.
check "a heartbeat starts new" test "$(od heartbeats --json | jq -r '.heartbeats[0].status')" = new
check "heartbeat ping" od heartbeat ping backup --message "nightly dump 2.1 GB"
hb() { od heartbeats --json | jq -r '.heartbeats[0].status'; }
advance $((59 * 60000))
check "up 59 minutes after the ping" is hb up
advance $((2 * 60000))
check "late at 61 minutes" is hb late
advance $((8 * 60000))
check "still late at 69 minutes (grace 10m)" is hb late
advance $((2 * 60000))
check "down at 71 minutes, with an incident" \
    test "$(hb) $(inc_q '[.incidents[] | select(.source == "heartbeat" and .state == "open")] | length')" = "down 1"
check "its notice goes out" wait_for 20 is "notices backup opened" 1
curl -s --unix-socket "$STATE/opsdeck.sock" -X POST http://x/ping/backup/start > /dev/null
advance 42000
curl -s --unix-socket "$STATE/opsdeck.sock" -X POST -d "done ok" http://x/ping/backup/0 > /dev/null
# 42 s of test clock and the real time between the two pings
check "a /start then /0 ping: up, with the run time, and the body as message" \
    test "$(od heartbeats --json | jq -r '.heartbeats[0] | "\(.status) \(.last_run_ms >= 42000 and .last_run_ms < 52000) \(.message)"')" = "up true done ok"
check "the heartbeat's incident resolves and notifies" wait_for 20 is "notices backup resolved" 1
curl -s --unix-socket "$STATE/opsdeck.sock" -X POST http://x/ping/backup/3 > /dev/null
check "a non-zero exit code is down at once" is hb down

# Bad input: clear messages, no crash.
if od check run nosuch -c "$CONFIG" 2> "$T/e1"; then rc=0; else rc=$?; fi
check "check run of an unknown check: exit 2, names it" \
    bash -c "[ $rc = 2 ] && grep -q \"no check 'nosuch'\" '$T/e1'"
if od ack 99999 2> "$T/e2"; then rc=0; else rc=$?; fi
check "ack of an unknown incident: not found" \
    bash -c "[ $rc -ne 0 ] && grep -q 'no incident #99999' '$T/e2'"
if od ack abc 2> "$T/e3"; then rc=0; else rc=$?; fi
check "ack abc: a usage error" bash -c "[ $rc = 2 ] && grep -q 'not an incident id' '$T/e3'"
if od heartbeat ping nosuch 2> "$T/e4"; then rc=0; else rc=$?; fi
check "ping of an unknown heartbeat: names it" grep -q "no heartbeat 'nosuch'" "$T/e4"
check "a ping URL with a bad suffix is a 404 saying the forms" \
    bash -c "curl -s --unix-socket '$STATE/opsdeck.sock' -X POST http://x/ping/backup/999 | grep -q '/ping/NAME/EXITCODE'"
check "every ping and ack is in the evidence" \
    test "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM evidence WHERE action IN ('heartbeat.ping', 'incident.ack') AND result = 'ok'")" -ge 5
# A bad watch config: every error at its place, with the column inside the value.
cat > "$T/bad.yaml" <<'EOF'
checks:
  api:
    http: http://127.0.0.1:1/health
    conditions:
      - "[STATUS] == 200"
      - "[BODY].data == pat(*ok"
      - "[RESPONSE_TIME] < 5xx"
heartbeats:
  backup:
    schedule: "0 25 * * *"
    tz: Europe/Atlantis
maintenance:
  nightly: {schedule: "0 3 * * 8", duration: 1h}
EOF
if od config check -c "$T/bad.yaml" 2> "$T/e5"; then rc=0; else rc=$?; fi
check "config check of a bad watch config: exit 2, 5 errors" \
    bash -c "[ $rc = 2 ] && grep -q 'bad.yaml: 5 errors' '$T/e5'"
check "a malformed condition: file:line:col and the column in it" \
    grep -q "bad.yaml:6:9: checks.api.conditions\[1\]: condition .*: column 23: expected ')' to close pat(" "$T/e5"
check "a bad duration in a condition says what to write" \
    grep -q "bad.yaml:7:9: .*'5xx' is not a duration" "$T/e5"
check "a bad cron names the field" grep -q "bad.yaml:10:15: heartbeats.backup.schedule: .*hour out of 0-23" "$T/e5"
check "an unknown zone is named" grep -q "bad.yaml:11:9: heartbeats.backup.tz: time zone 'Europe/Atlantis'" "$T/e5"
check "a bad maintenance schedule is named" grep -q "bad.yaml:13:23: maintenance.nightly.schedule: .*day of week" "$T/e5"
check "the daemon still runs after a bad config check" od checks --json
stop_daemon
check "the store has each check's minutes after the stop" \
    test "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(DISTINCT name) FROM check_minutes")" = 3
check "a row per check and minute, not per run" \
    test "$(sqlite3 "$STATE/opsdeck.db" "SELECT sum(runs) > 3 * count(*) FROM check_minutes")" = 1
finish
