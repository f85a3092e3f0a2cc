#!/bin/bash
# The email channel, end to end through libcurl's SMTP to the tests' mail receiver
# (build/smtpd): a check that goes down while the mail server is down queues its
# notice; once the server is up the notice arrives, from the channel's from: to each
# of its to: addresses, with the incident in the subject and the event as JSON in
# the body; the resolve follows. The daemon's test clock skips the retry backoff.
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"

APP_PORT=28471
SMTP_PORT=28472
MAILS="$T/mails.log"
SMTPD="$OPSDECK_BUILD/smtpd"
APP_PID=
SMTP_PID=

cat > "$CONFIG" <<EOF
checks:
  api:
    http: http://127.0.0.1:$APP_PORT/health
    interval: 200ms
    timeout: 150ms
    failures: 2
channels:
  mail:
    email: smtp://127.0.0.1:$SMTP_PORT
    from: opsdeck@example.test
    to: [ops@example.test, oncall@example.test]
EOF

app_up() { "$DEMO_APP" --port "$APP_PORT" > "$T/app.log" 2>&1 & APP_PID=$!; }
app_down() { kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; APP_PID=; }
smtp_up() {
	"$SMTPD" --port "$SMTP_PORT" --out "$MAILS" &
	SMTP_PID=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT" 2>/dev/null
}
eval "lib_$(declare -f finish)"
finish() {
	[ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
	[ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null
	lib_finish
}
advance() { # advance MS: the test clock
	curl -s --unix-socket "$STATE/opsdeck.sock" -X POST -d "{\"advance_ms\": $1}" \
	    http://x/v1/test/clock > /dev/null
}
outbox() { curl -s --unix-socket "$STATE/opsdeck.sock" http://x/v1/notifications | jq -r "$1"; }
mails() { # mails EVENT: messages whose JSON body is that event
	[ -f "$MAILS" ] || { echo 0; return; }
	jq -s "[.[] | select(.data | test(\"\\\"event\\\": ?\\\"$1\\\"\"))] | length" "$MAILS"
}
is() { [ "$(eval "$1")" = "$2" ]; }	# is "COMMAND LINE" VALUE

app_up
OPSDECK_TEST_CLOCK=1 start_daemon
check "the check passes" wait_for 20 bash -c \
    "'$OPSDECK' --state '$STATE' checks --json | jq -e '.checks[0].status == \"up\"' > /dev/null"

# Down while the mail server is down: queued and retried, not lost.
app_down
check "with no mail server, the notice waits in the outbox, retried" \
    wait_for 30 is "outbox '[.notifications[] | select(.state == \"pending\" and .attempts > 0)] | length > 0'" true
err=$(outbox '.notifications[0].last_error')
check "the outbox says why ($err)" test -n "$err" -a "$err" != null

smtp_up
advance 600000	# past the backoff
check "the mail server gets the notice once it is up" wait_for 20 is "mails opened" 1
first() { jq -s -r ".[0] | $1" "$MAILS"; }	# of the first message
check "from the channel's from:" is "first .from" opsdeck@example.test
check "to each of its to: addresses" \
    is "first '.to | join(\",\")'" "ops@example.test,oncall@example.test"
check "the subject names the check" bash -c "grep -q '^Subject: .*api' <<<\"\$(jq -s -r '.[0].data' '$MAILS')\""
data() { jq -s -r '.[0].data' "$MAILS"; }
check "the To: header names both" bash -c "grep -q '^To: ops@example.test, oncall@example.test' <<<\"\$(jq -s -r '.[0].data' '$MAILS')\""
check "with the headers RFC 5322 requires (Date, From) and a Message-ID" \
    is "data | grep -cE '^(Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2} [0-9:]{8} \+0000|From: opsdeck@example.test|Message-ID: <opsdeck\.[0-9]+\.[0-9]+@example.test>)'" 3
check "no line longer than SMTP allows (998)" is "data | awk 'length > 998' | wc -l" 0
check "the body carries the incident as JSON" \
    bash -c "grep -q '\"incident\": {' <<<\"\$(jq -s -r '.[0].data' '$MAILS')\""

app_up
check "the recovery is mailed too" wait_for 20 is "mails resolved" 1
check "every notice was delivered" \
    wait_for 20 is "outbox '[.notifications[] | select(.state != \"sent\")] | length'" 0
check "the daemon stops cleanly" stop_daemon
