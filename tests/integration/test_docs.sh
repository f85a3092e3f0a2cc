#!/bin/bash
# The man page documents every command of the command table, and renders.
set -euo pipefail
: "${OPSDECK:?}" "${OPSDECK_SRC:?}"
page="$OPSDECK_SRC/docs/opsdeck.1"
fails=0 passes=0
names=$("$OPSDECK" help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' | sed 's/ *$//')
[ -n "$names" ] || { echo "not ok - no commands listed by opsdeck help"; exit 1; }
while IFS= read -r name; do
	if grep -q "^\.SS opsdeck $name\b" "$page"; then
		passes=$((passes + 1))
	else
		echo "not ok - '$name' is in the command table but not in docs/opsdeck.1"
		fails=$((fails + 1))
	fi
done <<<"$names"
# Every top-level key the config knows is in docs/opsdeck.yaml.5 (the list comes from
# the error for an unknown key).
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'zz_unknown: 1\n' > "$tmp/c.yaml"
keys=$({ "$OPSDECK" config check -c "$tmp/c.yaml" 2>&1 || true; } | sed -n 's/.*(known keys: \(.*\))$/\1/p' | tr -d ',')
[ -n "$keys" ] || { echo "not ok - config check names no known keys"; fails=$((fails + 1)); }
for key in $keys; do
	if grep -q "^\.BR $key \"" "$OPSDECK_SRC/docs/opsdeck.yaml.5"; then
		passes=$((passes + 1))
	else
		echo "not ok - top-level key '$key' is not in docs/opsdeck.yaml.5"
		fails=$((fails + 1))
	fi
done
if man -l "$OPSDECK_SRC/docs/opsdeck.yaml.5" >/dev/null 2>&1 &&
    man -l "$page" >/dev/null 2>&1; then
	passes=$((passes + 1))
else
	echo "not ok - a man page does not render"; fails=$((fails + 1))
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
