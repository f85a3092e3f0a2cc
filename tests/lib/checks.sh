# Sourced by the PostgreSQL tests: ok and bad print a line each and bad counts in
# fails; check DESCRIPTION COMMAND... passes when the command succeeds.
fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
