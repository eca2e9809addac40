# pg.sh - a throwaway PostgreSQL cluster for one test run, sourced by the
# suites that run the store against PostgreSQL.
#
# pg_start creates a cluster in a fresh temporary directory (initdb, trust
# authentication, no TCP: a unix socket in that directory only, fsync off:
# nothing here must outlive the run), starts it, creates database "dgen"
# and exports DGEN_TEST_PG_URL. pg_stop stops it and removes the directory;
# pg_start arranges for it to run on exit (unless PG_TRAP=no: the caller
# stops it from its own exit trap). PostgreSQL refuses to run as
# root, so under root the server runs as "nobody", which owns the directory.
# Returns 1 (after saying why on stderr) when no PostgreSQL is installed.

PG_DIR=
PG_BIN=
PG_AS=

# The directory of initdb, pg_ctl and createdb (links resolved): PATH first, then Debian's layout
# (newest first).
pg_find_bin() {
	local d
	d=$(command -v initdb 2>/dev/null) && d=$(readlink -f "$d") &&
		[ -x "$(dirname "$d")/pg_ctl" ] && [ -x "$(dirname "$d")/createdb" ] &&
		{ dirname "$d"; return 0; }
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -rn); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	return 1
}

# pg_server_start / pg_server_stop [MODE]: the server of the cluster on
# and off again (a suite's outage), its data kept.
pg_server_start() {
	$PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		-o "-k $PG_DIR -c listen_addresses= -c fsync=off -c full_page_writes=off -c max_connections=200" \
		start >/dev/null 2>&1
}

pg_server_stop() {
	$PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w stop >/dev/null 2>&1
}

pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		$PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$PG_DIR"
	PG_DIR=
}

pg_start() {
	PG_BIN=$(pg_find_bin) || { echo "pg.sh: no initdb/pg_ctl found (Debian: postgresql)" >&2; return 1; }
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dgen-pg-XXXXXX") || return 1
	[ "${PG_TRAP:-}" = no ] || trap pg_stop EXIT
	PG_AS=
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$PG_DIR" || return 1
		PG_AS="runuser -u nobody --"
	fi
	if ! $PG_AS "$PG_BIN/initdb" -D "$PG_DIR/data" -U dgen --auth=trust --no-sync \
		-E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
		echo "pg.sh: initdb failed:" >&2
		cat "$PG_DIR/initdb.log" >&2
		return 1
	fi
	if ! pg_server_start; then
		echo "pg.sh: the server did not start:" >&2
		cat "$PG_DIR/server.log" >&2
		return 1
	fi
	if ! $PG_AS "$PG_BIN/createdb" -h "$PG_DIR" -U dgen dgen >"$PG_DIR/createdb.log" 2>&1; then
		cat "$PG_DIR/createdb.log" >&2
		echo "pg.sh: createdb failed" >&2
		return 1
	fi
	DGEN_TEST_PG_URL="postgresql:///dgen?host=$PG_DIR&user=dgen"
	export DGEN_TEST_PG_URL
}
