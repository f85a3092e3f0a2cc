#!/bin/bash
# The layout shows the architecture: dependencies run one way,
#   cmd/ -> api/ -> mcp/ -> runtime/ -> deploy/ -> router/ -> stats/, migrate/, monitor/ ->
#   ledger/, config/ -> store/ -> core/
# Each directory may include only the ones below it in the table (its own
# headers aside). deploy/ reads runtime's machine records (runtime/supervisor.h)
# but calls nothing of runtime/ by name: it goes through struct deploy_runtime, and
# the API and MCP reach the daemon only through struct daemon_ops (runtime/ops.h). router/
# reads the same machine records and is handed the list through struct router_env.
set -u
: "${OPSDECK_SRC:?repo root}"
cd "$OPSDECK_SRC/src" || exit 1
passes=0 fails=0
check() { local what=$1; shift; if "$@"; then passes=$((passes+1)); echo "ok - $what"; else fails=$((fails+1)); echo "not ok - $what"; fi; }

# directory: what it may include
declare -A may=(
	[core]=""
	[store]="core"
	[config]="core"
	[ledger]="core store"
	[migrate]="core config"
	[monitor]="core config store ledger"
	[stats]="core config"
	[router]="core config stats runtime/supervisor.h"
	[deploy]="core config store runtime/supervisor.h router stats"
	[runtime]="core config store ledger deploy migrate monitor router stats"
	[mcp]="core ledger runtime/ops.h"
	[guard]="core ledger/evidence.h"
	[api]="core ledger runtime mcp"
	[client]="core store"
	[cmd]="core config store ledger deploy migrate monitor stats runtime api mcp guard client router/version.h"
)
bad_includes() { # DIR: the includes of DIR/ that its row does not allow
	local dir=$1 f inc top ok
	for f in "$dir"/*.[ch]; do
		while read -r inc; do
			top=${inc%%/*}
			[ "$top" = "$dir" ] && continue
			ok=no
			for a in ${may[$dir]}; do
				[ "$a" = "$top" ] || [ "$a" = "$inc" ] && ok=yes
			done
			[ $ok = yes ] || echo "$f includes $inc"
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
}
for dir in "${!may[@]}"; do
	[ -d "$dir" ] || continue
	out=$(bad_includes "$dir")
	check "$dir/ includes only what is below it${out:+: $out}" test -z "$out"
done
unknown=$(for d in */; do d=${d%/}; [ -n "${may[$d]+x}" ] || echo "$d"; done)
check "every directory has a row in the table${unknown:+ (not: $unknown)}" test -z "$unknown"

calls=$(grep -nE '\b(supervisor|daemon)_[a-z_]+\(' deploy/*.c || true)
check "deploy/ calls no runtime function by name${calls:+: $calls}" test -z "$calls"
calls=$(grep -nE '\b(supervisor|daemon|deploy)_[a-z_]+\(' router/*.c || true)
check "router/ calls no runtime or deploy function by name${calls:+: $calls}" test -z "$calls"
# daemon_run, the daemon's entry point, is what api_daemon_run starts
calls=$(grep -nE '\bdaemon_[a-z_]+\(' api/*.c | grep -v 'daemon_run(' || true)
check "api/ calls the daemon only through daemon_ops${calls:+: $calls}" test -z "$calls"
calls=$(grep -nE '\bdaemon_[a-z_]+\(' mcp/*.c || true)
check "mcp/ calls the daemon only through daemon_ops${calls:+: $calls}" test -z "$calls"
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
