#!/bin/bash
# migrate lint on input that is not clean SQL: a statement without a keyword, a
# scanner error (unterminated quote, dollar quote or comment, "123abc"), binary bytes,
# a README saved as .sql. Each is a parse-error finding at FILE:LINE:COL in one short
# printable line; the other statements and the other files are still linted; the exit
# status is 1 (findings), never 2 (usage); --json stays valid.
set -u
: "${OPSDECK:?set OPSDECK to the opsdeck binary}"
T=$(mktemp -d /tmp/opsdeck-mbad.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
passes=0 fails=0
check() { # check WHAT command...
	local what=$1; shift
	if "$@"; then passes=$((passes + 1)); echo "ok - $what"
	else fails=$((fails + 1)); echo "not ok - $what"; fi
}
# lint ARGS...: output (stdout and stderr) in $out, exit status in $rc
lint() { out=$("$OPSDECK" migrate lint "$@" 2>&1) && rc=0 || rc=$?; }
has() { grep -qF -- "$1" <<<"$out" || { echo "  missing: $1"; echo "$out" | head -40 | sed 's/^/  | /'; false; }; }
hasnt() { ! grep -qF -- "$1" <<<"$out" || { echo "  unexpected: $1"; false; }; }
# only tab, newline and printable ASCII: no raw bytes reach the terminal
printable() { ! LC_ALL=C grep -qP '[^\x09\x0a\x20-\x7e]' <<<"$out"; }

# --- a statement without a keyword does not swallow the next one ----------------
printf 'SELECT 1;\nSELEC 1;\nDROP TABLE x;\nDROP TABLE y;\n' > typo.sql
lint --format gcc typo.sql
check "a typo'd statement is a parse error at its place" has \
    'typo.sql:2:1: error: syntax error at or near "SELEC" [parse-error]'
check "the statement after it is linted" has "typo.sql:3:1: error: dropping table 'x' [drop-table]"
check "and the one after that" has "typo.sql:4:1: error: dropping table 'y' [drop-table]"
lint typo.sql
check "every statement is counted" has "1 file, 4 statements:"
printf 'FOO;\nDROP TABLE x;\n' > foo.sql
lint --format gcc foo.sql
check "FOO; is a parse error and the next statement is linted" bash -c \
    'grep -qF "foo.sql:1:1: error: syntax error at or near \"FOO\"" <<<"$1" &&
    grep -qF "foo.sql:2:1: error: dropping table" <<<"$1"' _ "$out"

# --- a scanner error in one file of a directory ----------------------------------
mkdir mdir
printf 'DROP TABLE a;\n' > mdir/001.sql
printf "DROP TABLE a0;\nSELECT 'x;\nDROP TABLE b;\n" > mdir/002.sql
printf 'DROP TABLE c;\n' > mdir/003.sql
lint --format gcc mdir
check "an unterminated quote exits 1, not 2 (exit $rc)" test "$rc" = 1
check "no 'cannot split' failure" hasnt "cannot split"
check "it is a parse error at the quote, the excerpt escaped" has \
    "mdir/002.sql:2:8: error: unterminated quoted string at or near \"'x;\\nDROP TABLE b;\\n\" [parse-error]"
check "the statement before it is linted" has "mdir/002.sql:1:1: error: dropping table 'a0'"
check "what the quote takes in is not split" hasnt "dropping table 'b'"
check "the next file is linted" has "mdir/003.sql:1:1: error: dropping table 'c' [drop-table]"
check "the file before it is linted" has "mdir/001.sql:1:1: error: dropping table 'a' [drop-table]"
lint mdir
check "tty: the fix says nothing after it was checked" bash -c \
    'tr -s " \n" "  " <<<"$1" | grep -qF "nothing after it was checked"' _ "$out"
check "tty: 3 files, 4 statements" has "3 files, 4 statements:"
"$OPSDECK" migrate lint --json mdir > lint.json 2> lint.err; rc=$?
check "--json exits 1" test "$rc" = 1
check "--json is valid and has all three files" jq -e '(.files | length) == 3 and
    .summary.parse_errors == 1 and .summary.statements == 4 and
    (.files[1].findings | map(select(.rule == "parse-error"))[0] |
     .line == 2 and .col == 8 and (.fix | test("nothing after it was checked")))
    and (.files[2].findings | map(.rule) | index("drop-table")) != null' lint.json \
    > /dev/null
check "--json: nothing on stderr" test ! -s lint.err
"$OPSDECK" migrate lint --format sarif mdir > lint.sarif
check "sarif is valid json with the parse error" jq -e \
    '[.runs[0].results[] | select(.ruleId == "parse-error")] | length == 1' lint.sarif \
    > /dev/null

# --- recoverable scanner errors, dollar quotes, comments -------------------------
printf 'SELECT 123abc;\nDROP TABLE x;\n' > junk.sql
printf 'DROP TABLE d;\nDO $$ BEGIN PERFORM 1;\nDROP TABLE e;\n' > dollar.sql
printf 'DROP TABLE f; /* never closed\nDROP TABLE g;\n' > comment.sql
lint --format gcc junk.sql dollar.sql comment.sql
check "the three files exit 1 (exit $rc)" test "$rc" = 1
check "123abc is a parse error at its place" has \
    'junk.sql:1:8: error: trailing junk after numeric literal at or near "123a" [parse-error]'
check "and the file goes on after it" has "junk.sql:2:1: error: dropping table 'x'"
check "an unterminated dollar quote" has 'dollar.sql:2:4: error: unterminated dollar-quoted string'
check "keeps the statement before it" has "dollar.sql:1:1: error: dropping table 'd'"
check "an unterminated comment" has 'comment.sql:1:15: error: unterminated /* comment'
check "keeps the statement before it" has "comment.sql:1:1: error: dropping table 'f'"
check "nothing inside them is linted" bash -c \
    '! grep -qE "dropping table .(e|g)." <<<"$1"' _ "$out"

# a long unterminated string: the message is one short line
{ printf "SELECT '"; head -c 20000 /dev/zero | tr '\0' 'x'; printf '\n'; } > long.sql
lint --format gcc long.sql
check "a long excerpt is cut (exit $rc)" bash -c \
    '[ "$2" = 1 ] && [ $(wc -l <<<"$1") = 1 ] && [ ${#1} -lt 140 ] &&
    grep -qF "xxx...\" [parse-error]" <<<"$1"' _ "$out" "$rc"

# --- binary bytes and a README saved as .sql --------------------------------------
printf '\xff\xfe\x01\x02 \x1b[31mred\x1b[0m \x80\x81\xc3;\nDROP TABLE x;\n\x9b\x7f\xc0\xaf' > binary.sql
printf 'DROP TABLE z;\n' > other.sql
for fmt in tty gcc github; do
	lint --format "$fmt" binary.sql other.sql
	check "binary ($fmt): exit 1 (exit $rc)" test "$rc" = 1
	check "binary ($fmt): no raw bytes on the terminal" printable
	check "binary ($fmt): the other file is linted" has "dropping table 'z'"
done
lint --format gcc binary.sql
check "binary: bytes that are not UTF-8 escaped" has \
    'binary.sql:1:1: error: syntax error at or near "\xff\xfe" [parse-error]'
check "binary: a lone 0x9b (CSI to an 8-bit terminal) escaped" has \
    'binary.sql:3:1: error: syntax error at or near "\x9b" [parse-error]'
check "binary: the statement after it is linted" has "binary.sql:2:1: error: dropping table 'x'"
printf 'DROP TABLE x;\n\x01\x02 \x1b[31m;\n' > control.sql
lint --format gcc control.sql
check "control characters escaped" has \
    'control.sql:2:1: error: syntax error at or near "\x01" [parse-error]'
"$OPSDECK" migrate lint --json binary.sql > bin.json 2>/dev/null
check "binary: --json is valid" jq -e '.summary.parse_errors == 2' bin.json > /dev/null
cat > readme.sql <<'EOF'
# opsdeck

A small deploy tool. Run `opsdeck up`, then:

    opsdeck deploy web --artifact ./build

It's "simple"; see docs/ for /* more */ and the $HOME/.config files.
EOF
lint --format gcc readme.sql other.sql
check "a README saved as .sql: findings, exit 1 (exit $rc)" test "$rc" = 1
check "a README: its apostrophe is an unterminated quote" has \
    'readme.sql:7:3: error: unterminated quoted string at or near "'"'s \"simple\"; see docs...\" [parse-error]"
check "a README: the other file is linted" has "other.sql:1:1: error: dropping table 'z'"
check "a README: printable" printable

# A URL libpq cannot parse: its message quotes the URL, never the password.
echo "SELECT 1;" > "$T/one.sql"
for url in 'postgresql://u:s3cret@[::1]x/db' 'postgresql://u:s3cret@[::1/db' \
    "host=/tmp password='s3cret dbname=x"; do
	out=$("$OPSDECK" migrate dryrun "$T/one.sql" --db "$url" 2>&1) && rc=0 || rc=$?
	check "an unparsable --db is a usage error (exit $rc): $url" test "$rc" = 2
	check "whose message hides the password" bash -c "! grep -q s3cret <<<\"\$1\"" _ "$out"
done

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
