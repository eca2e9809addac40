#!/bin/sh
# api_pg.sh - the API suites again, on PostgreSQL (tests/lib/suites_pg.sh).
. "$top_srcdir/tests/lib/suites_pg.sh"
pg_suites api_cgi api_nginx api_apache api_paging api_storm api_upload_memory api_access \
	api_models api_cost
