# Sourceable helper: a throwaway PostgreSQL 15 on a unix socket in a temp dir.
#
#   . "$OPSDECK_SRC/tests/lib/pg.sh"
#   pg_start            # exports PGURL, PGDIR, PGSOCK; a trap stops and removes it
#   pg_psql -c 'select 1'
#
# initdb refuses to run as root, so as root the server runs as the `postgres` system
# user (created by the Debian package; created here when missing) and the temp dir is
# owned by it. Connections use the unix socket only (listen_addresses='').

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg__as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_stop() {
	[ -n "${PGDIR:-}" ] || return 0
	if [ -f "$PGDIR/data/postmaster.pid" ]; then
		pg__as "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop \
		    >/dev/null 2>&1 || true
	fi
	rm -rf "$PGDIR"
	PGDIR=
}

pg_start() {
	if [ ! -x "$PG_BIN/initdb" ]; then
		echo "pg.sh: no initdb in $PG_BIN: install postgresql-15" >&2
		return 1
	fi
	if [ "$(id -u)" = 0 ] && ! getent passwd postgres >/dev/null; then
		useradd --system --home-dir /var/lib/postgresql --shell /bin/sh \
		    postgres || return 1
	fi
	PGDIR=$(mktemp -d /tmp/opsdeck-pg.XXXXXX) || return 1
	chmod 755 "$PGDIR"
	[ "$(id -u)" = 0 ] && chown postgres: "$PGDIR"
	export PGDIR
	export PGSOCK="$PGDIR"
	trap pg_stop EXIT
	if ! pg__as "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres -A trust \
	    --no-sync -E UTF8 --locale=C >"$PGDIR/initdb.log" 2>&1; then
		cat "$PGDIR/initdb.log" >&2
		return 1
	fi
	if ! pg__as "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" \
	    -o "-k $PGDIR -c listen_addresses='' -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
	    -w start >/dev/null; then
		cat "$PGDIR/server.log" >&2
		return 1
	fi
	export PGURL="postgresql:///postgres?host=$PGDIR&user=postgres"
}

# psql against the test server (database from $PGDATABASE_TEST or postgres).
pg_psql() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -U postgres \
	    -d "${PGDB:-postgres}" "$@"
}

# A URL for another database or user on the test server.
pg_url() {
	local db=${1:-postgres} user=${2:-postgres}
	printf 'postgresql:///%s?host=%s&user=%s\n' "$db" "$PGDIR" "$user"
}

# Makes USER log in with a password (scram-sha-256) over the socket; others stay trusted.
pg_require_password() {
	local user=$1 hba="$PGDIR/data/pg_hba.conf"
	pg__as sh -c "{ echo 'local all $user scram-sha-256'; cat '$hba'; } >'$hba.new' && mv '$hba.new' '$hba'" &&
	    pg__as "$PG_BIN/pg_ctl" -D "$PGDIR/data" reload >/dev/null
}
