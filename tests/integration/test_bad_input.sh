#!/bin/bash
# Bad input gets a clear error naming the place and the fix, and loses nothing.
. "$(dirname "$0")/../lib/daemon.sh"

cat > "$CONFIG" <<YAML
ports: {from: 24400, to: 24499}
apps:
  hotdash-staging:
    processes:
      web: {command: ["$DEMO_APP"], port: auto}
YAML

expect() { # expect "what" CODE PATTERN command...
	local what=$1 code=$2 pat=$3 out rc; shift 3
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" = "$code" ] && grep -qE -- "$pat" <<<"$out"; then
		pass "$what"
	else
		fail "$what (exit $rc, wanted $code; output: $out)"
	fi
}

expect "no command is a usage error" 2 "usage: opsdeck" "$OPSDECK"
expect "an unknown command is a usage error" 2 "unknown command 'frobnicate'" "$OPSDECK" frobnicate
expect "status without a daemon exits 3" 3 "not running on state dir" od status
expect "machines without a daemon exits 3" 3 "opsdeck up" od machines
expect "--json where unsupported is a usage error" 2 "not supported" od up --json
expect "help for an unknown command" 2 "no command 'nope'" od help nope
expect "help lists the commands" 0 "machine restart" od help
expect "version" 0 "^opsdeck [0-9]" od version
expect "--version" 0 "^opsdeck [0-9]" od --version
expect "--help" 0 "machine restart" od --help
expect "--help after a command is that command's help" 0 "usage: opsdeck deploy APP --artifact" od deploy --help
expect "and -h too, without a daemon" 0 "usage: opsdeck status" od status -h
expect "even after other arguments" 0 "usage: opsdeck migrate lint" od migrate lint x.sql -h
expect "but not as an option's value (--message -h)" 3 "not running on state dir" od deploy web-app --artifact /tmp --message -h
expect "a group's --help lists its commands" 0 "usage: opsdeck migrate verify" od migrate --help
expect "a group without its subcommand names them" 2 "opsdeck machine: needs a subcommand: use one of: start stop restart" od machine
expect "an unknown subcommand is named" 2 "unknown subcommand 'reboot'" od machine reboot x
expect "an unknown option is named, before any daemon check" 2 "opsdeck status: unknown option '--bogus'" od status --bogus
expect "getopt errors name the command" 2 "opsdeck logs: unrecognized option '--bogus'" od logs x --bogus
expect "an app name that could inject into a request is refused" 2 "'a b' is not a valid app name" od machines 'a b'
expect "an explicit -c that does not exist is an error" 2 "-c '/nonexistent.yaml'" od -c /nonexistent.yaml status

# A config with errors: the daemon never starts, nothing is created.
printf 'apps:\n  web-app:\n    processes:\n      web:\n        command: ["/nonexistent/app"]\n        count: two\n' > "$T/bad.yaml"
expect "a bad config stops up with exit 2" 2 "bad.yaml:6:16: apps.web-app.processes.web.count" \
    "$OPSDECK" up -c "$T/bad.yaml" --state "$T/never"
check "and no state dir was created" test ! -e "$T/never"
expect "the missing binary is named too" 2 "command\[0\]: '/nonexistent/app' not found" \
    "$OPSDECK" up -c "$T/bad.yaml" --state "$T/never"

# An unwritable state dir.
mkdir -p "$T/ro"; chmod 0500 "$T/ro"
if [ "$(id -u)" = 0 ]; then
	# root writes anywhere; a path under a regular file is unwritable for anyone.
	touch "$T/file"
	expect "a state dir that cannot be created" 1 "cannot create directory.*--state" \
	    "$OPSDECK" up -c "$CONFIG" --state "$T/file/state"
else
	expect "an unwritable state dir" 1 "not writable" "$OPSDECK" up -c "$CONFIG" --state "$T/ro/state"
fi

# A foreign database, a corrupt one and one from a newer opsdeck are refused untouched.
mkdir -p "$T/foreign" "$T/corrupt" "$T/newer"
sqlite3 "$T/foreign/opsdeck.db" "CREATE TABLE customers (id int); INSERT INTO customers VALUES (1);"
expect "a foreign SQLite file is refused" 1 "did not create.*move it away" \
    "$OPSDECK" up -c "$CONFIG" --state "$T/foreign"
check "and left as it was" test "$(sqlite3 "$T/foreign/opsdeck.db" 'SELECT count(*) FROM customers')" = 1
head -c 8192 /dev/urandom > "$T/corrupt/opsdeck.db"
sum=$(sha256sum < "$T/corrupt/opsdeck.db")
expect "a corrupt file is refused" 1 "corrupt or not a database|is not an opsdeck store" \
    "$OPSDECK" up -c "$CONFIG" --state "$T/corrupt"
check "and left as it was" test "$(sha256sum < "$T/corrupt/opsdeck.db")" = "$sum"
sqlite3 "$T/newer/opsdeck.db" "PRAGMA application_id = $((0x6f707364)); PRAGMA user_version = 999;"
expect "a store from a newer opsdeck is refused" 1 "schema version 999, newer" \
    "$OPSDECK" up -c "$CONFIG" --state "$T/newer"
check "no process was started by any refused daemon" test -z "$(fleet_pids)"
