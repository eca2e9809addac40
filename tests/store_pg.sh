#!/bin/sh
# store_pg.sh - the store's unit tests again, against PostgreSQL: a
# throwaway server (tests/lib/pg.sh) and DGEN_TEST_PG_URL, which makes
# store_test.h open every test database as a schema of that server. One
# TAP line per test program; a failing program's "not ok" lines follow as
# diagnostics and its whole output is in tests/<program>.pg.log.
. "$top_srcdir/tests/lib/pg.sh"

PROGRAMS="test_db test_migrate test_saved_pipelines test_jobs test_queue test_records
test_neardup test_saved_models"

if ! pg_start 2>"${TMPDIR:-/tmp}/dgen-store-pg.$$"; then
	echo "1..0 # SKIP no PostgreSQL server to start: $(head -1 "${TMPDIR:-/tmp}/dgen-store-pg.$$")"
	rm -f "${TMPDIR:-/tmp}/dgen-store-pg.$$"
	exit 0
fi
rm -f "${TMPDIR:-/tmp}/dgen-store-pg.$$"

n=0
set -- $PROGRAMS
echo "1..$#"
for p in $PROGRAMS; do
	n=$((n + 1))
	log="$top_builddir/tests/$p.pg.log"
	if "$top_builddir/tests/$p" >"$log" 2>&1 && ! grep -q '^not ok' "$log"; then
		echo "ok $n - $p on PostgreSQL ($(grep -c '^ok' "$log") checks)"
	else
		echo "not ok $n - $p on PostgreSQL (see tests/$p.pg.log)"
		grep -E '^(not ok|Bail out|#)' "$log" | head -20 | sed 's/^/# /'
	fi
done
