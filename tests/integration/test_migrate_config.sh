#!/bin/bash
# The migrate: section of opsdeck.yaml sets lint's defaults; flags override it.
set -euo pipefail
: "${OPSDECK:?}"
T=$(mktemp -d /tmp/opsdeck-mcfg.XXXXXX)
trap 'rm -rf "$T"' EXIT
passes=0 fails=0
check() { local what=$1; shift; if "$@"; then passes=$((passes+1)); echo "ok - $what"; else fails=$((fails+1)); echo "not ok - $what"; fi; }

cat > "$T/m.sql" <<'SQL'
CREATE TABLE notes (id bigint PRIMARY KEY, body varchar(200));
DROP TABLE old_notes;
SQL
cat > "$T/opsdeck.yaml" <<'YAML'
apps:
  web-app:
    processes:
      web: {command: ["/bin/true"]}
migrate:
  exclude: [drop-table]
  policy: additive-only
  fail_on: warning
  pg_version: 15
YAML

out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint --format gcc "$T/m.sql") && rc=0 || rc=$?
check "the config's exclude drops drop-table" bash -c "! grep -q '\[drop-table\]' <<<'$out'"
check "the config's additive-only policy applies" grep -q "additive-only" <<<"$out"
check "fail_on warning makes it exit 1" test "$rc" = 1
out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint --format gcc --policy none --exclude drop-table,prefer-text,additive-only "$T/m.sql") && rc=0 || rc=$?
check "flags override the config" bash -c "! grep -q 'additive-only' <<<'$out'"
(cd "$T" && "$OPSDECK" migrate lint --format gcc m.sql > "$T/cwd.txt") || true
check "./opsdeck.yaml is read when present" bash -c "! grep -q '\[drop-table\]' '$T/cwd.txt'"

sed -i 's/policy: additive-only/policy: additive/' "$T/opsdeck.yaml"
out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint "$T/m.sql" 2>&1) && rc=0 || rc=$?
check "a bad value is a config error (exit 2)" test "$rc" = 2
check "naming the place and the choices" grep -q "opsdeck.yaml:7:11: migrate.policy: unknown value 'additive': use additive-only or none" <<<"$out"
sed -i 's/policy: additive/policy: none/; s/exclude: \[drop-table\]/exclude: [drop-tabel]/' "$T/opsdeck.yaml"
out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint "$T/m.sql" 2>&1) && rc=0 || rc=$?
check "an unknown rule id in exclude is refused (exit 2)" test "$rc" = 2
want="$T/opsdeck.yaml:6:13: migrate.exclude: unknown rule 'drop-tabel' (did you mean 'drop-table'?): \`opsdeck migrate rules\` lists them"
check "and named at its place, as config check does" grep -qxF "$want" <<<"$out"
out=$("$OPSDECK" config check -c "$T/opsdeck.yaml" 2>&1) && rc=0 || rc=$?
check "config check refuses an unknown rule id in exclude (exit 2)" test "$rc" = 2
check "naming it at its place" grep -qxF "$want" <<<"$out"
check "and counting it" grep -qxF "$T/opsdeck.yaml: 1 error" <<<"$out"
sed -i 's/exclude: \[drop-tabel\]/exclude: "drop-table, nosuch"/' "$T/opsdeck.yaml"
out=$("$OPSDECK" config check -c "$T/opsdeck.yaml" 2>&1) && rc=0 || rc=$?
want="$T/opsdeck.yaml:6:12: migrate.exclude: unknown rule 'nosuch': \`opsdeck migrate rules\` lists them"
check "a name without a near rule, in a string (exit 2)" \
    bash -c "[ $rc = 2 ] && grep -qxF \"\$1\" <<<\"\$2\"" _ "$want" "$out"
sed -i 's/exclude: "drop-table, nosuch"/exclude: [drop-table]/' "$T/opsdeck.yaml"
out=$("$OPSDECK" config check -c "$T/opsdeck.yaml" 2>&1) && rc=0 || rc=$?
check "config check accepts the migrate section" test "$rc" = 0

# Opt-in rules: off by default, on when the config (or --include) names them.
out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint --format gcc "$T/m.sql") || true
check "require-table-schema is off unless included" bash -c "! grep -q 'require-table-schema' <<<'$out'"
echo "  include: [require-table-schema]" >> "$T/opsdeck.yaml"
out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint --format gcc "$T/m.sql") || true
check "migrate.include turns it on" grep -q "table 'notes' is not schema-qualified \[require-table-schema\]" <<<"$out"
out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint --format gcc --exclude require-table-schema "$T/m.sql") || true
check "and --exclude wins over it" bash -c "! grep -q 'require-table-schema' <<<'$out'"
sed -i 's/include: \[require-table-schema\]/include: [require-table-shema]/' "$T/opsdeck.yaml"
out=$("$OPSDECK" -c "$T/opsdeck.yaml" migrate lint "$T/m.sql" 2>&1) && rc=0 || rc=$?
want="$T/opsdeck.yaml:10:13: migrate.include: unknown rule 'require-table-shema' (did you mean 'require-table-schema'?): \`opsdeck migrate rules\` lists them"
check "an unknown rule in include is refused (exit 2), naming where" \
    bash -c "[ $rc = 2 ] && grep -qxF \"\$1\" <<<\"\$2\"" _ "$want" "$out"
out=$("$OPSDECK" config check -c "$T/opsdeck.yaml" 2>&1) && rc=0 || rc=$?
check "config check refuses it the same way" \
    bash -c "[ $rc = 2 ] && grep -qxF \"\$1\" <<<\"\$2\"" _ "$want" "$out"
# include names opt-in rules only: a default rule there is a mistake.
sed -i 's/include: \[require-table-shema\]/include: [drop-column]/' "$T/opsdeck.yaml"
out=$("$OPSDECK" config check -c "$T/opsdeck.yaml" 2>&1) && rc=0 || rc=$?
check "a default rule in include is refused by config check" \
    bash -c "[ $rc = 2 ] && grep -qF \"opsdeck.yaml:10:13: migrate.include: 'drop-column' runs by default\" <<<\"\$1\"" _ "$out"
out=$("$OPSDECK" migrate lint --include drop-column "$T/m.sql" 2>&1) && rc=0 || rc=$?
check "and by --include" bash -c "[ $rc = 2 ] && grep -q \"'drop-column' runs by default: --include names opt-in rules only\" <<<\"\$1\"" _ "$out"
# A migrate-only project (the migration pipeline in CI, no apps to run).
cat > "$T/mo.yaml" <<'YAML'
migrate:
  exclude: [drop-table]
  fail_on: error
YAML
out=$("$OPSDECK" config check -c "$T/mo.yaml" 2>&1) && rc=0 || rc=$?
check "a config with migrate: and no apps: passes config check ($rc)" \
    bash -c "[ $rc = 0 ] && grep -qF 'mo.yaml: ok (0 apps' <<<\"\$1\"" _ "$out"
out=$("$OPSDECK" -c "$T/mo.yaml" migrate lint --format gcc "$T/m.sql") && rc=0 || rc=$?
check "migrate lint takes its section (drop-table excluded)" \
    bash -c "! grep -q drop-table <<<\"\$1\"" _ "$out"
out=$("$OPSDECK" up -c "$T/mo.yaml" --state "$T/state" 2>&1) && rc=0 || rc=$?
check "up says there is nothing to run, and exits 0 ($rc)" \
    bash -c "[ $rc = 0 ] && grep -q 'has no apps: nothing to run' <<<\"\$1\"" _ "$out"
check "and starts no daemon" test ! -S "$T/state/opsdeck.sock"
echo "version: 1" > "$T/none.yaml"
out=$("$OPSDECK" config check -c "$T/none.yaml" 2>&1) && rc=0 || rc=$?
check "a config with neither apps: nor migrate: is refused (exit 2), saying both" \
    bash -c "[ $rc = 2 ] && grep -qF \"none.yaml:1:1: apps: missing required key 'apps': add 'apps:', a mapping of app name to app (or only 'migrate:'\" <<<\"\$1\"" _ "$out"
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
