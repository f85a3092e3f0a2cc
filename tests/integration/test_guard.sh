#!/bin/bash
# opsdeck guard imports: a CI guard, offline, that names each denied import by
# file:line:col in Python, JavaScript/TypeScript, Go and C sources, as text or as
# GitHub Actions annotations (the column is the imported name's); exit 1 when any is found, 0 when none, 2 for usage.
set -u
: "${OPSDECK:?path to the opsdeck binary}"
T=$(mktemp -d /tmp/opsdeck-guard.XXXXXX)
trap 'rm -rf "$T"' EXIT
passes=0 fails=0
check() { local what=$1; shift; if "$@"; then passes=$((passes+1)); echo "ok - $what"; else fails=$((fails+1)); echo "not ok - $what"; fi; }
outerr() { "$@" >"$T/out" 2>"$T/err" && rc=0 || rc=$?; }

mkdir -p "$T/src/sub" "$T/src/node_modules/x" "$T/src/.git"
cat > "$T/src/agent.py" <<'PY'
import os, requests as r
from fly.api import machines
# import fly   (a comment: not an import)
PY
cat > "$T/src/sub/app.ts" <<'TS'
import express from 'express';
import { spawn } from "fly-sdk";
const m = require('fly-sdk/machines');
const y = myrequire('fly-sdk');
TS
cat > "$T/src/main.go" <<'GO'
package main

import (
	"os"
	fly "github.com/superfly/fly-go"
)
GO
printf '#include <stdio.h>\n#include "fly/api.h"\n' > "$T/src/x.c"
echo "import 'fly-sdk';" > "$T/src/node_modules/x/i.js"
echo "import fly" > "$T/src/.git/h.py"
echo "fly-sdk is used here" > "$T/src/README.md"

outerr "$OPSDECK" guard imports --deny 'fly*' --deny 'github.com/superfly/*' "$T/src"
check "denied imports: exit 1" test "$rc" = 1
check "Python: 'from fly.api' at 2:6" grep -qx "$T/src/agent.py:2:6: import 'fly.api' is denied (--deny fly\*): remove it, or drop the pattern if it is allowed now" "$T/out"
check "TypeScript: from \"fly-sdk\" at 2:24" grep -q "^$T/src/sub/app.ts:2:24: import 'fly-sdk' is denied" "$T/out"
check "TypeScript: require('fly-sdk/machines') at 3:20" grep -q "^$T/src/sub/app.ts:3:20: import 'fly-sdk/machines'" "$T/out"
check "Go: an aliased path in an import block at 5:7" grep -q "^$T/src/main.go:5:7: import 'github.com/superfly/fly-go' is denied (--deny github.com/superfly/\*)" "$T/out"
check "C: #include \"fly/api.h\" by its first component" grep -q "^$T/src/x.c:2:11: import 'fly/api.h'" "$T/out"
check "exactly those five (no comment, myrequire, README, node_modules or dot dir)" test "$(wc -l <"$T/out")" = 5
check "and a count on stderr" grep -q "5 denied imports" "$T/err"

outerr "$OPSDECK" guard imports --deny 'fly*,github.com/superfly/*' --format github "$T/src/sub/app.ts"
check "--format github prints annotations" grep -q "^::error file=$T/src/sub/app.ts,line=2,col=24,title=denied import::import 'fly-sdk' is denied" "$T/out"
check "a comma list is two patterns" test "$(wc -l <"$T/out")" = 2

outerr "$OPSDECK" guard imports --deny leftpad "$T/src"
check "nothing denied: exit 0, nothing printed" bash -c "[ $rc = 0 ] && [ ! -s '$T/out' ]"
outerr "$OPSDECK" guard imports --deny fly "$T/nowhere"
check "a missing path: exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q \"'$T/nowhere'\" '$T/err'"
outerr "$OPSDECK" guard imports "$T/src"
check "no --deny: usage error (exit 2)" bash -c "[ $rc = 2 ] && grep -q 'at least one --deny' '$T/err'"
outerr "$OPSDECK" guard imports --deny fly
check "no path: usage error (exit 2)" test "$rc" = 2
outerr "$OPSDECK" guard imports --deny fly --format xml "$T/src"
check "an unknown format: exit 2 naming it" bash -c "[ $rc = 2 ] && grep -q \"'xml'\" '$T/err'"
head -c 200000 /dev/urandom > "$T/src/bin.py"
outerr "$OPSDECK" guard imports --deny 'zzzz*' "$T/src"
check "binary junk in a .py file: no crash (exit 0)" test "$rc" = 0
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
