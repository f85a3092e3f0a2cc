#!/bin/bash
# opsdeck guard evidence and guard heartbeat, the CI guards over evidence exports,
# as a CI job runs them: offline, on real exports of a real daemon (an agent's
# heartbeat pings through its token). A PR body whose Evidence section names good
# exports passes; a tampered export, a wrong key, entries outside the window, an
# actor with no entries, a missing file and a body without the section each fail,
# naming the file and line (and the body's column). The heartbeat guard passes on a
# fresh ping, fails on a stale one, on none and on a tampered export. --format github
# prints annotations. Exit 0 good, 1 a finding, 2 usage.
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }
iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

cat > "$CONFIG" <<EOF
heartbeats:
  nightly: {period: 15m}
  weekly: {period: 168h}
EOF
START=$(iso '-1 minute')
start_daemon
BOT=$(od actor add bot --role agent 2>/dev/null)
mkdir -p "$T/pr/evidence"
check "an export before any ping" od evidence export -o "$T/nopings.jsonl"
check "the agent pings its heartbeat" env OPSDECK_TOKEN="$BOT" "$OPSDECK" --state "$STATE" heartbeat ping nightly >/dev/null
check "and reports done" env OPSDECK_TOKEN="$BOT" "$OPSDECK" --state "$STATE" heartbeat ping nightly --status done >/dev/null
check "the ledger exports" od evidence export -o "$T/pr/evidence/bot.jsonl"
# a run that starts and one that fails: no sign of life for guard heartbeat
env OPSDECK_TOKEN="$BOT" "$OPSDECK" --state "$STATE" heartbeat ping weekly --start >/dev/null
env OPSDECK_TOKEN="$BOT" "$OPSDECK" --state "$STATE" heartbeat ping weekly --fail >/dev/null
od evidence export -o "$T/failed.jsonl"
od evidence key > "$T/key"
stop_daemon
END=$(iso '+1 minute')
EX="$T/pr/evidence/bot.jsonl"
n=$(($(wc -l < "$EX") - 1))
# The last ping with outcome ok, and the first ping entry of all.
ping_line=$(grep -n '"action":"heartbeat.ping"' "$EX" | grep '"outcome":"ok"' | tail -1 | cut -d: -f1)
first_ping=$(grep -n '"action":"heartbeat.ping"' "$EX" | head -1 | cut -d: -f1)
first_seq=$(sed -n "${first_ping}p" "$EX" | jq -r .seq)

body() { # body FILE: a PR body whose Evidence section lists the rest of the lines
	local f=$1; shift
	{ printf '# Ship the nightly job\r\n\r\nWhat it does.\r\n\r\n## Evidence\r\n\r\n'
	  printf '%s\r\n' "$@"; printf '\r\n## Notes\r\n- not-evidence.jsonl\r\n'; } > "$f"
}
G() { outerr "$OPSDECK" guard evidence --pubkey "$T/key" "$@"; }

# ---- guard evidence --------------------------------------------------------------
body "$T/pr/body.md" "Actor: bot" "Window: $START .. $END" "" "- evidence/bot.jsonl (the pings)"
G --pr-body "$T/pr/body.md"
check "a good PR body (CRLF, as GitHub sends it): exit 0" test "$rc" = 0
check "it says what the export holds (4 by bot: requested and ok, twice)" grep -q "^$EX: ok: $n entries, seq 1\.\.$n, 4 by 'bot', all in " "$T/out"
outerr "$OPSDECK" guard evidence --pr-body "$T/pr/body.md" --pubkey "$(cut -d' ' -f1 "$T/key")"
check "--pubkey takes the hex key itself too" test "$rc" = 0

sed "${first_ping}s/heartbeat:nightly/heartbeat:nightlz/" "$EX" > "$T/pr/evidence/tampered.jsonl"
body "$T/pr/tampered.md" "Actor: bot" "Window: $START .. $END" "- evidence/bot.jsonl" "- evidence/tampered.jsonl"
G --pr-body "$T/pr/tampered.md"
check "a tampered export (one byte of a target): exit 1" test "$rc" = 1
check "naming its file and line, and what to do" grep -q "^$T/pr/evidence/tampered.jsonl:$first_ping: entry seq $first_seq was altered: its contents do not match its hash: take a fresh export" "$T/out"
check "the good one beside it still passes" grep -q "^$EX: ok:" "$T/out"
check "and a count on stderr" grep -q "1 problem$" "$T/err"

outerr "$OPSDECK" guard evidence --pr-body "$T/pr/body.md" --pubkey "$(printf '1%.0s' $(seq 64))"
check "a wrong key: exit 1, naming the header line" \
    bash -c "[ $rc = 1 ] && grep -q '^$EX:1: signed by key ed25519:[0-9a-f]*, not by the key given' '$T/out'"

G --pr-body "$T/pr/body.md" --since "$(iso '+1 hour')" --until "$(iso '+2 hours')"
check "entries before the window (--since overrides the body): exit 1" test "$rc" = 1
check "naming the first entry outside it by line" grep -q "^$EX:2: entry seq 1 at .* is before the window's start .* ($n entries before it)" "$T/out"
body "$T/pr/old.md" "Actor: bot" "Window: 2020-01-01T00:00:00Z .. 2020-01-02" "- evidence/bot.jsonl"
G --pr-body "$T/pr/old.md"
check "entries after the body's window: exit 1 at line 2" \
    bash -c "[ $rc = 1 ] && grep -q \"^$EX:2: entry seq 1 at .* is after the window's end 2020-01-02T00:00:00.000Z\" '$T/out'"

G --pr-body "$T/pr/body.md" --actor nobody
check "an actor with no entries (--actor overrides the body): exit 1" \
    bash -c "[ $rc = 1 ] && grep -q \"^$EX:1: none of its $n entries is by actor 'nobody' (they are by .*bot\" '$T/out'"

body "$T/pr/missing.md" "Actor: bot" "Window: $START .. $END" "- evidence/bot.jsonl" "- \`evidence/gone.jsonl\`"
G --pr-body "$T/pr/missing.md"
check "a missing file: exit 1 naming the body's line and column" \
    bash -c "[ $rc = 1 ] && grep -q \"^$T/pr/missing.md:10:4: evidence file: cannot open '$T/pr/evidence/gone.jsonl'\" '$T/out'"

printf '# A PR\n\nNo evidence here.\n' > "$T/pr/none.md"
G --pr-body "$T/pr/none.md"
check "a body without an Evidence section: exit 1, saying how to write one" \
    bash -c "[ $rc = 1 ] && grep -q \"^$T/pr/none.md:1:1: the PR body has no Evidence section: add a heading '## Evidence' and under it 'Actor: NAME', 'Window: START .. END' and a list item '- FILE'\" '$T/out'"
body "$T/pr/nofiles.md" "Actor: bot" "Window: $START .. $END"
G --pr-body "$T/pr/nofiles.md"
check "an Evidence section with no files: exit 1 at its heading" \
    bash -c "[ $rc = 1 ] && grep -q \"^$T/pr/nofiles.md:5:1: the Evidence section lists no evidence files\" '$T/out'"
body "$T/pr/badwin.md" "Actor: bot" "Window: $START .. yesterday" "- evidence/bot.jsonl"
G --pr-body "$T/pr/badwin.md"
check "a bad Window line: exit 1 at the column of the bad time" \
    bash -c "[ $rc = 1 ] && grep -q \"^$T/pr/badwin.md:8:$((8 + ${#START} + 5)): window end 'yesterday' is not a time\" '$T/out'"

(cd "$T/pr" && "$OPSDECK" guard evidence --pr-body tampered.md --pubkey "$T/key" --format github > "$T/gh" 2>/dev/null) || true
check "--format github: an annotation naming the file as the body wrote it" \
    grep -q "^::error file=evidence/tampered.jsonl,line=$first_ping,title=evidence altered::entry seq $first_seq was altered" "$T/gh"
(cd "$T/pr" && "$OPSDECK" guard evidence --pr-body missing.md --pubkey "$T/key" --format github > "$T/gh" 2>/dev/null) || true
check "--format github: a body line with its column" \
    grep -q "^::error file=missing.md,line=10,col=4,title=evidence file missing::" "$T/gh"

outerr "$OPSDECK" guard evidence --pr-body "$T/pr/body.md"
check "no --pubkey: usage (exit 2)" bash -c "[ $rc = 2 ] && grep -q 'give --pr-body FILE and --pubkey KEY' '$T/err'"
outerr "$OPSDECK" guard evidence --pr-body "$T/pr/body.md" --pubkey "$T/nokey"
check "a --pubkey that is no key: exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q \"pubkey '$T/nokey' is neither 64 hex digits\" '$T/err'"
G --pr-body "$T/pr/nobody.md"
check "a missing PR body: exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q \"'$T/pr/nobody.md'\" '$T/err'"
G --pr-body "$T/pr/body.md" --since tomorrow-ish
check "a bad --since: exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q \"since 'tomorrow-ish' is not a time\" '$T/err'"

# Paths a PR body may not name, and markdown that must not hide an item.
ln -s bot.jsonl "$T/pr/evidence/link.jsonl"
for item in "- $EX" "- ../key" "- evidence/link.jsonl"; do
	body "$T/pr/paths.md" "Actor: bot" "Window: $START .. $END" "$item"
	G --pr-body "$T/pr/paths.md"
	check "'$item' is refused (exit 1, naming why)" \
	    bash -c "[ $rc = 1 ] && grep -Eq 'is absolute|climbs out|not a regular file' '$T/out'"
done
body "$T/pr/old.md" "Actor: bot" "Window: 1969-12-31 .. $END" "- evidence/bot.jsonl"
G --pr-body "$T/pr/old.md"
check "a window before 1970 is refused, not taken for none" \
    bash -c "[ $rc = 1 ] && grep -q 'before 1970' '$T/out'"
printf '## Evidence\nActor: bot\nWindow: %s .. %s\n- evidence/bot.jsonl\r- evidence/tampered.jsonl\n' \
    "$START" "$END" > "$T/pr/cr.md"
G --pr-body "$T/pr/cr.md"
check "a lone CR ends a line, as GitHub shows it: the second item is checked" \
    bash -c "[ $rc = 1 ] && grep -q 'tampered.jsonl:$first_ping: entry seq' '$T/out'"
printf '## Evidence\nActor: bot\nWindow: %s .. %s\n- evidence/bot.jsonl\n````\n```\n- evidence/tampered.jsonl\n' \
    "$START" "$END" > "$T/pr/fence.md"
G --pr-body "$T/pr/fence.md"
check "a section that ends inside an open fence is a problem at the fence" \
    bash -c "[ $rc = 1 ] && grep -q 'fence.md:5:1: .*ends inside the code fence' '$T/out'"
printf '## Evidence\nActor: bot\nWindow: %s .. %s\n<!-->\n- evidence/tampered.jsonl\n' \
    "$START" "$END" > "$T/pr/comment.md"
G --pr-body "$T/pr/comment.md"
check "'<!-->' is a whole comment: what follows is read" \
    bash -c "[ $rc = 1 ] && grep -q 'tampered.jsonl:$first_ping: entry seq' '$T/out'"

# ---- guard heartbeat -------------------------------------------------------------
H() { outerr "$OPSDECK" guard heartbeat --pubkey "$T/key" --max-age 15m "$@"; }
H --file "$EX" --name nightly
check "a fresh ping: exit 0, with its age" \
    bash -c "[ $rc = 0 ] && grep -q \"^$EX:$ping_line: heartbeat 'nightly' ok: last pinged at .* by 'bot' (seq [0-9]*), .* before .* (max age 15m\" '$T/out'"
H --file "$EX" --actor bot
check "--actor picks the agent's pings" test "$rc" = 0
H --file "$EX" --name nightly --at "$(iso '+1 hour')"
check "stale with --at an hour later: exit 1 at the ping's line" \
    bash -c "[ $rc = 1 ] && grep -q \"^$EX:$ping_line: heartbeat 'nightly' last pinged at .* older than the max age 15m\" '$T/out'"
H --file "$EX" --name weekly
check "a heartbeat that never pinged: exit 1" \
    bash -c "[ $rc = 1 ] && grep -q \"^$EX:1: no heartbeat.ping of heartbeat 'weekly' of a success with outcome ok\" '$T/out'"
H --file "$T/failed.jsonl" --name weekly
check "a start and a failure are no sign of life: exit 1" \
    bash -c "[ $rc = 1 ] && grep -q \"no heartbeat.ping of heartbeat 'weekly' of a success with outcome ok\" '$T/out'"
H --file "$T/nopings.jsonl"
check "an export with no pings: exit 1" \
    bash -c "[ $rc = 1 ] && grep -q \"^$T/nopings.jsonl:1: no heartbeat.ping of a success with outcome ok\" '$T/out'"
H --file "$T/pr/evidence/tampered.jsonl"
check "a tampered export: exit 1 naming file and line" \
    bash -c "[ $rc = 1 ] && grep -q \"^$T/pr/evidence/tampered.jsonl:$first_ping: entry seq $first_seq was altered\" '$T/out'"
outerr "$OPSDECK" guard heartbeat --file "$EX" --max-age 15m
check "no --pubkey: passes, with a warning that the file's key is trusted" \
    bash -c "[ $rc = 0 ] && grep -q \"^$EX:1: warning: no --pubkey: trusting the key the export names\" '$T/out'"
H --file "$EX" --at "$(iso '+1 hour')" --format github
check "--format github: a stale ping as an annotation" \
    grep -q "^::error file=$EX,line=$ping_line,title=heartbeat stale::heartbeat 'nightly' last pinged" "$T/out"
outerr "$OPSDECK" guard heartbeat --file "$EX" --max-age 15m --format github
check "--format github: the trust warning as a warning annotation" grep -q "^::warning file=$EX,line=1,title=key not pinned::" "$T/out"
H --file "$EX" --name nightly --actor bot
check "--name and --actor: usage (exit 2)" bash -c "[ $rc = 2 ] && grep -q 'not both' '$T/err'"
outerr "$OPSDECK" guard heartbeat --file "$EX" --max-age soon
check "a bad --max-age: exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q \"max-age 'soon' is not a duration\" '$T/err'"
H --file "$T/none.jsonl"
check "a missing export: exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q \"'$T/none.jsonl'\" '$T/err'"
head -c 100000 /dev/urandom > "$T/junk"
H --file "$T/junk"
check "binary junk as an export: exit 1, no crash" test "$rc" = 1
