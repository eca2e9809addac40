# suites_pg.sh - runs shell suites a second time on PostgreSQL (sourced by
# tests/runner_pg.sh and tests/api_pg.sh).
#
# pg_suites SUITE...: one throwaway server (tests/lib/pg.sh), then each
# suite with DGEN_TEST_STORE=pg, which gives it a database of its own
# there (tests/lib/store.sh). One TAP line per suite; a failing suite's
# "not ok" lines follow as diagnostics, its whole output is in
# tests/SUITE.pg.log. A suite that is sqlite's by nature skips with its
# reason. They take minutes, so only DGEN_TEST_PG_SUITES=1 runs them
# (contrib/dgenctl test sets it); make check alone skips.

pg_suites() {
	local n=0 s log why
	if [ "${DGEN_TEST_PG_SUITES:-}" != 1 ]; then
		echo "1..0 # SKIP set DGEN_TEST_PG_SUITES=1 to run the suites on PostgreSQL (contrib/dgenctl test does)"
		exit 0
	fi
	. "$top_srcdir/tests/lib/pg.sh"
	if ! pg_start 2>"$top_builddir/tests/pg-start.$$"; then
		echo "1..0 # SKIP no PostgreSQL server to start: $(head -1 "$top_builddir/tests/pg-start.$$")"
		rm -f "$top_builddir/tests/pg-start.$$"
		exit 0
	fi
	rm -f "$top_builddir/tests/pg-start.$$"
	echo "1..$#"
	for s in "$@"; do
		n=$((n + 1))
		log="$top_builddir/tests/$s.pg.log"
		if DGEN_TEST_STORE=pg "$top_srcdir/tests/$s.sh" >"$log" 2>&1 &&
		   ! grep -q '^not ok' "$log" && grep -q '^1\.\.' "$log"; then
			why=$(sed -n 's/^1\.\.0 # SKIP //p' "$log")
			if [ -n "$why" ]; then
				echo "ok $n - $s on PostgreSQL # SKIP $why"
			else
				echo "ok $n - $s on PostgreSQL ($(grep -c '^ok' "$log") checks)"
			fi
		else
			echo "not ok $n - $s on PostgreSQL (see tests/$s.pg.log)"
			grep -E '^(not ok|Bail out)' "$log" | head -20 | sed 's/^/# /'
		fi
	done
}
