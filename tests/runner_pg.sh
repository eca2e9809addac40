#!/bin/sh
# runner_pg.sh - the runner suites again, on PostgreSQL (tests/lib/suites_pg.sh).
. "$top_srcdir/tests/lib/suites_pg.sh"
pg_suites runner_basic runner_signals runner_limits runner_crash runner_storage \
	runner_fairshare runner_memory runner_ratelimit runner_outage blocks_e2e
