#!/bin/bash
# `opsdeck logstat` on generated access logs: counts exact, p50/p95/p99 within 1 % of
# the order statistics found by sorting, every format, gzip and stdin, malformed lines
# counted and listed with their numbers, -f across appends and a rotation, bad input.
# shellcheck source=../lib/daemon.sh
. "$(dirname "$0")/../lib/daemon.sh"

LOG="$T/access.log"
jqe() { jq -e "$@" >/dev/null; }
# 20 000 combined lines: three templated shapes, normalized ids, 3 % 5xx, 6 % 404;
# times in seconds with 6 decimals, log-normal. Lines 100, 5000 and 19999 are broken.
awk 'BEGIN { srand(3);
	for (i = 1; i <= 20000; i++) {
		if (i == 100) { print "this is not a log line"; continue }
		if (i == 5000) { print "127.0.0.1 - - [05/Dec/2026:10:00:00 +0000] \"GET /x HTTP/1.1\" 2x0 5"; continue }
		if (i == 19999) { print "127.0.0.1 - - [05/Dec/2026:10:00:00 +0000] \"GET /x HTTP/1.1"; continue }
		k = i % 4;
		if (k == 0) path = "/api/tiles/" int(rand() * 1000) "?z=" i % 7;
		else if (k == 1) path = "/api/tiles/" int(rand() * 1000) "/meta";
		else if (k == 2) path = "/users/" int(rand() * 50000) "/orders";
		else path = "/health";
		r = rand(); st = r < 0.03 ? 503 : (r < 0.09 ? 404 : 200);
		t = exp(log(0.05) + (rand() + rand() + rand() - 1.5) * 2.2);
		printf "10.1.%d.%d - - [05/Dec/2026:10:%02d:%02d +0000] \"GET %s HTTP/1.1\" %d %d \"-\" \"test/1.0\" %.6f\n",
		    i % 250, i % 199, int(i / 60) % 60, i % 60, path, st, 100 + i % 900, t
	} }' > "$LOG"

# The truth, by sorting: route, hits, 2xx, 4xx, 5xx, p50, p95, p99, max (µs).
awk '$9 ~ /^[0-9][0-9][0-9]$/ && NF == 13 {
	split($7, a, "?"); p = a[1];
	if (p ~ /^\/api\/tiles\/[0-9]+$/) r = "/api/tiles/:id";
	else if (p ~ /^\/api\/tiles\/[0-9]+\/meta$/) r = "/api/tiles/:id/meta";
	else if (p ~ /^\/users\/[0-9]+\/orders$/) r = "/users/:id/orders";
	else r = p;
	printf "%s %d %d\n", r, $9, int($13 * 1000000 + 0.5) }' "$LOG" |
    sort -k1,1 -k3,3n > "$T/truth.raw"
awk '{ n[$1]++; v[$1, n[$1]] = $3; c[$1, int($2 / 100)]++ }
	END { for (r in n) {
		m = n[r]; q50 = int(m * 0.50); if (q50 < m * 0.50) q50++;
		q95 = int(m * 0.95); if (q95 < m * 0.95) q95++;
		q99 = int(m * 0.99); if (q99 < m * 0.99) q99++;
		printf "%s %d %d %d %d %d %d %d %d\n", r, m, c[r, 2], c[r, 4], c[r, 5],
		    v[r, q50], v[r, q95], v[r, q99], v[r, m] } }' "$T/truth.raw" |
    sort > "$T/truth"

od logstat --json --verbose --route-template /api/tiles/:id \
    --route-template /api/tiles/:id/meta "$LOG" > "$T/out.json"
check "20 000 lines read: 19 997 parsed, 3 malformed" \
    test "$(jq -r '"\(.lines) \(.parsed) \(.malformed) \(.without_time)"' "$T/out.json")" = "20000 19997 3 0"
check "the malformed lines are listed with their numbers" \
    test "$(jq -r '[.malformed_lines[].line] | join(",")' "$T/out.json")" = "100,5000,19999"
check "a malformed line says what it lacks" \
    jqe '.malformed_lines[1].error | test("status")' "$T/out.json"
jq -r '.routes[] | "\(.route) \(.hits) \(.status["2xx"]) \(.status["4xx"]) \(.status["5xx"]) \(.p50_ms) \(.p95_ms) \(.p99_ms) \(.max_ms)"' \
    "$T/out.json" | sort > "$T/got"
check "the same four routes as the truth" \
    test "$(cut -d' ' -f1 "$T/got" | tr '\n' ' ')" = "$(cut -d' ' -f1 "$T/truth" | tr '\n' ' ')"
check "hits and status classes exact per route" \
    test "$(cut -d' ' -f1-5 "$T/got")" = "$(cut -d' ' -f1-5 "$T/truth")"
worst=$(join "$T/got" "$T/truth" | awk '{
	for (k = 0; k < 3; k++) { got = $(6 + k) * 1000; want = $(14 + k);
		e = (got - want) / want; if (e < 0) e = -e; if (e > w) w = e }
	if (int($9 * 1000 + 0.5) != $17) w = 1
	} END { printf "%.5f", w + 0 }')
echo "# worst relative error of p50/p95/p99 against sorting: $worst"
check "p50/p95/p99 within 1 % of the sorted order statistics, max exact" \
    awk -v w="$worst" 'BEGIN { exit !(w <= 0.01) }'
check "error_rate is the 5xx share" \
    jqe '[.routes[] | (.error_rate - .status["5xx"] / .hits) | fabs < 1e-9] | all' "$T/out.json"

gzip -c "$LOG" > "$T/access.log.gz"
od logstat --json --route-template /api/tiles/:id --route-template /api/tiles/:id/meta \
    "$T/access.log.gz" > "$T/gz.json"
od logstat --json --route-template /api/tiles/:id --route-template /api/tiles/:id/meta \
    < "$LOG" > "$T/stdin.json"
check "a gzip file gives the same routes" \
    test "$(jq -c .routes "$T/gz.json")" = "$(jq -c .routes "$T/out.json")"
check "stdin gives the same routes" \
    test "$(jq -c .routes "$T/stdin.json")" = "$(jq -c .routes "$T/out.json")"
od logstat --json "$LOG" "$T/access.log.gz" > "$T/two.json"
check "two files add up" \
    test "$(jq -r '"\(.parsed) \(.files | length) \(.files[0].format)"' "$T/two.json")" = "39994 2 combined"
check "without templates, ids are grouped as :id" \
    jqe '[.routes[].route] | index("/api/tiles/:id/meta") != null' "$T/two.json"

od logstat --json --slow 500 --top 3 "$LOG" > "$T/slow.json"
want_slow=$(awk '$3 >= 500000' "$T/truth.raw" | wc -l)
check "--slow counts the requests at or above it ($want_slow)" \
    test "$(jq '[.routes[].slow] | add' "$T/slow.json")" = "$want_slow"
want_top=$(sort -k3,3n "$T/truth.raw" | tail -1 | awk '{ printf "%.3f", $3 / 1000 }')
check "the slowest request is the slowest line ($want_top ms), --top 3 keeps 3" \
    test "$(jq -r '"\(.slowest | length) \(.slowest[0].ms * 1000 | round / 1000)"' "$T/slow.json" |
    awk '{ printf "%s %.3f", $1, $2 }')" = "3 $want_top"
check "the most frequent error is a 404 or 503 with its count" \
    jqe '.errors[0] | (.status == 404 or .status == 503) and .count > 100' "$T/slow.json"
od logstat "$LOG" > "$T/out.txt"
check "the table names the routes and quantiles" \
    grep -q 'ROUTE.*HITS.*P95MS' "$T/out.txt"

# The other formats, each with known values.
cat > "$T/json.log" <<'EOF'
{"time":"2026-12-05T10:00:00Z","method":"GET","path":"/api/x/1","status":200,"duration_ms":12.5}
{"time":"2026-12-05T10:00:01Z","request":"POST /api/x/2?a=b HTTP/1.1","status":"502","request_time":0.25}
{"time":"2026-12-05T10:00:02Z","uri":"/api/x/3","status_code":200,"latency_us":1000}
{"nothing": true}
EOF
od logstat --json --format json "$T/json.log" > "$T/j.json"
check "json lines: three parsed, one malformed, times in ms, s and µs read" \
    test "$(jq -r '"\(.parsed) \(.malformed) \(.routes[0].route) \(.routes[0].max_ms) \(.routes[0].status["5xx"])"' "$T/j.json")" = "3 1 /api/x/:id 250 1"
printf '%s\n' \
    '127.0.0.1:52424 [04/Dec/2026:23:01:58.749] fe be/srv1 0/0/0/3/7 200 209 - - ---- 1/1/0/0/0 0/0 "GET /a/1 HTTP/1.1"' \
    'Dec  4 23:01:58 host haproxy[1]: 127.0.0.1:52425 [04/Dec/2026:23:01:58.750] fe be/srv1 0/0/0/90/95 503 209 - - ---- 1/1/0/0/0 0/0 "GET /a/2 HTTP/1.1"' \
    > "$T/hap.log"
od logstat --json "$T/hap.log" > "$T/h.json"
check "haproxy lines detected, Ta as the time" \
    test "$(jq -r '"\(.files[0].format) \(.routes[0].hits) \(.routes[0].max_ms) \(.routes[0].status["5xx"])"' "$T/h.json")" = "haproxy 2 95 1"
printf '%s\n' '::1 - - [05/Dec/2026:10:00:00 +0000] "GET /c HTTP/1.0" 200 5 1500' \
    '::1 - - [05/Dec/2026:10:00:00 +0000] "GET /c HTTP/1.0" 304 -' > "$T/common.log"
od logstat --json "$T/common.log" > "$T/c.json"
check "common lines, an integer time read as µs (Apache %D), a line without one counted" \
    test "$(jq -r '"\(.files[0].format) \(.routes[0].hits) \(.routes[0].max_ms) \(.without_time)"' "$T/c.json")" = "common 2 1.5 1"

# Bad input: clear, never fatal for lines, fatal for arguments.
head -c 200000 /dev/urandom > "$T/binary.log"
if od logstat --json "$T/binary.log" > "$T/b.json" 2> "$T/b.err"; then rc=0; else rc=$?; fi
check "binary input: exit 0, every line counted malformed" \
    test "$rc $(jq -r '"\(.parsed) \(.malformed > 0)"' "$T/b.json")" = "0 0 true"
check "a line longer than 64 KiB is one malformed line, the next line still read" \
    bash -c "{ head -c 100000 /dev/zero | tr '\\0' a; echo; head -1 '$LOG'; } |
	'$OPSDECK' logstat --json --verbose | jq -e '.malformed == 1 and .parsed == 1 and
	(.malformed_lines[0].error | test(\"64 KiB\"))' >/dev/null"
if od logstat "$T/missing.log" "$LOG" > "$T/m.out" 2> "$T/m.err"; then rc=0; else rc=$?; fi
check "a missing file: exit 1 naming it, no report" \
    test "$rc $(grep -c 'missing.log' "$T/m.err") $(wc -c < "$T/m.out")" = "1 1 0"
if od logstat --format apache "$LOG" 2> "$T/f.err"; then rc=0; else rc=$?; fi
check "an unknown format: exit 2 naming the formats" \
    test "$rc $(grep -c 'combined, common, json, haproxy' "$T/f.err")" = "2 1"
if od logstat --route-template /api//x "$LOG" 2> "$T/r.err"; then rc=0; else rc=$?; fi
check "a bad template: exit 2 naming the column" \
    test "$rc $(grep -c 'column 6' "$T/r.err")" = "2 1"

# -f: lines appended, then the file rotated and written again; Ctrl-C prints the end.
FLOG="$T/follow.log"
head -1000 "$LOG" > "$FLOG"
"$OPSDECK" logstat -f --json --interval 1 "$FLOG" > "$T/follow.out" 2>&1 &
FPID=$!
wait_parsed() { # wait_parsed N: until a report counts N parsed lines (20 s at most)
	for _ in $(seq 200); do
		[ "$(jq -s 'last | .parsed' "$T/follow.out" 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
check "-f reports the file's lines" wait_parsed 999
sed -n 1001,3000p "$LOG" >> "$FLOG"
check "-f reports appended lines" wait_parsed 2999
mv "$FLOG" "$FLOG.1"
sed -n 3001,3500p "$LOG" > "$FLOG"
check "-f follows the rotated file from its start" wait_parsed 3499
kill -INT "$FPID"
if wait "$FPID"; then rc=0; else rc=$?; fi
check "Ctrl-C ends -f with a last report" \
    test "$rc $(jq -s 'last | "\(.parsed) \(.files | length)"' -r "$T/follow.out")" = "0 3499 2"
finish
