# store.sh - the store a shell suite runs against (sourced after tap.sh).
#
# store_init DIR sets DATABASE_PATH=DIR/dgen.db. With DGEN_TEST_STORE=pg
# the suite runs on PostgreSQL instead: a database of its own on the
# server of DGEN_TEST_PG_URL (tests/lib/pg.sh's URL; one is started when
# none is given), named after the suite's pid and dropped at store_stop,
# exported as DATABASE_URL (which wins over DATABASE_PATH; DATABASE_PATH's
# directory still holds the key file). sql QUERY runs one query against
# the store with the sqlite3 shell's output (columns joined by '|'); on
# PostgreSQL a few sqlite spellings the suites use are provided
# (json_extract of text, group_concat, "pragma integrity_check").
# store_sqlite_only REASON skips the whole suite on PostgreSQL;
# store_skip_pg DESCRIPTION REASON one check (true when it was skipped).

STORE_DB=
STORE_OWN_SERVER=

store_is_pg() { [ "${DGEN_TEST_STORE:-sqlite}" = pg ]; }

store_sqlite_only() {
	store_is_pg || return 0
	echo "1..0 # SKIP sqlite only: $*"
	exit 0
}

# psql against the URL $1, quiet, rows only, '|' between columns.
store_psql() {
	local url=$1
	shift
	"${PG_BIN:+$PG_BIN/}psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$url" "$@"
}

# The helpers sql() needs, in schema dgen_test (only sql() puts it on its
# search path; the store never sees it).
store_pg_compat() {
	store_psql "$1" <<'SQL'
CREATE SCHEMA dgen_test;
CREATE FUNCTION dgen_test.json_extract(doc text, path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
SELECT doc::jsonb #>> string_to_array(ltrim(regexp_replace(substr(path, 2),
	'\[([0-9]+)\]', '.\1', 'g'), '.'), '.') $$;
CREATE FUNCTION dgen_test.gc_step(acc text, v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || ',' || v END $$;
CREATE FUNCTION dgen_test.gc_step(acc text, v bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT dgen_test.gc_step(acc, v::text) $$;
CREATE AGGREGATE dgen_test.group_concat(text) (SFUNC = dgen_test.gc_step, STYPE = text);
CREATE AGGREGATE dgen_test.group_concat(bigint) (SFUNC = dgen_test.gc_step, STYPE = text);
SQL
}

store_init() {
	DATABASE_PATH="$1/dgen.db"
	export DATABASE_PATH
	if ! store_is_pg; then
		unset DATABASE_URL # it would win over DATABASE_PATH
		return 0
	fi
	. "$top_srcdir/tests/lib/pg.sh"
	if [ -z "${DGEN_TEST_PG_URL:-}" ]; then
		PG_TRAP=no
		pg_start >&2 || { echo "Bail out! no PostgreSQL server to run on"; exit 1; }
		STORE_OWN_SERVER=1
	else
		PG_BIN=$(pg_find_bin) || true
	fi
	STORE_DB="s$$"
	store_psql "$DGEN_TEST_PG_URL" -c "CREATE DATABASE $STORE_DB" >&2 || exit 1
	DATABASE_URL=$(printf '%s' "$DGEN_TEST_PG_URL" | sed "s|:///[^?]*|:///$STORE_DB|")
	export DATABASE_URL
	store_pg_compat "$DATABASE_URL" >&2 || exit 1
}

# store_skip_pg DESCRIPTION REASON: on PostgreSQL, reports the check
# (sqlite's by nature) skipped with the reason and is true; on sqlite it is
# false and the caller runs the check:
#   store_skip_pg "the file is 0640" "no file" || check "the file is 0640" ...
store_skip_pg() {
	store_is_pg || return 1
	ok "$1 # SKIP sqlite only: $2"
}

# Drops the suite's database (or stops the server it started).
store_stop() {
	store_is_pg || return 0
	if [ -n "$STORE_OWN_SERVER" ]; then
		pg_stop
	elif [ -n "$STORE_DB" ]; then
		store_psql "$DGEN_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $STORE_DB WITH (FORCE)" \
			>/dev/null 2>&1 || :
	fi
	STORE_DB=
}

# store_target PATH: what a test tool opens for PATH: the suite's URL on
# PostgreSQL when PATH is $DATABASE_PATH, else PATH.
store_target() {
	if store_is_pg && [ "$1" = "$DATABASE_PATH" ]; then
		printf '%s\n' "$DATABASE_URL"
	else
		printf '%s\n' "$1"
	fi
}

# store_dump TABLE...: the rows of the tables, in a stable order (a
# fingerprint of the data: "nothing changed").
store_dump() {
	local t
	if ! store_is_pg; then
		sqlite3 "$DATABASE_PATH" ".dump $*"
		return
	fi
	for t in "$@"; do
		echo "-- $t"
		store_psql "$DATABASE_URL" -c "SELECT x::text FROM $t x ORDER BY 1"
	done
}

# store_shell: the store's own client reading SQL from stdin (sqlite3 or
# psql), for a session that holds a lock.
store_shell() {
	if store_is_pg; then
		store_psql "$DATABASE_URL"
	else
		sqlite3 "$DATABASE_PATH"
	fi
}

sql() {
	if ! store_is_pg; then
		sqlite3 -cmd '.timeout 5000' "$DATABASE_PATH" "$1"
		return
	fi
	case $1 in
	"pragma integrity_check") echo ok ;; # the server checks its own pages
	*) store_psql "$DATABASE_URL" -c "SET search_path = dgen_test, public" -c "$1" ;;
	esac
}
