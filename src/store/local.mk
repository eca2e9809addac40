# src/store: sources and tests (see Makefile.am).
# The sqlite store: connection and statement table (db), schema (migrate),
# pipelines, jobs, the queue protocol and records. All SQL of dgen is here.
noinst_HEADERS += include/dgen/accounts.h include/dgen/caller.h include/dgen/db.h include/dgen/migrate.h \
	include/dgen/saved_pipelines.h include/dgen/jobs.h include/dgen/queue.h \
	include/dgen/records.h include/dgen/copy.h
noinst_HEADERS += src/store/stmt.h src/store/stmt_sql.h src/store/backend.h
# libpq's headers, for db_pg.c (configure links -lpq into every program).
AM_CFLAGS += $(PQ_CFLAGS)
libdgen_a_SOURCES += src/store/db_sqlite.c src/store/db_pg.c src/store/stmt_pg.c
libdgen_a_SOURCES += src/store/accounts.c src/store/db.c src/store/stmt.c src/store/migrate.c src/store/open.c \
	src/store/saved_pipelines.c src/store/jobs.c src/store/queue.c src/store/records.c \
	src/store/copy.c
EXTRA_DIST += tests/store_test.h
check_PROGRAMS += tests/test_db
TESTS += tests/test_db
tests_test_db_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test_migrate tests/test_saved_pipelines
TESTS += tests/test_migrate tests/test_saved_pipelines
tests_test_migrate_LDADD = $(TEST_LIBS)
tests_test_saved_pipelines_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test_jobs
TESTS += tests/test_jobs
tests_test_jobs_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test_queue
TESTS += tests/test_queue
tests_test_queue_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test_records
TESTS += tests/test_records
tests_test_records_LDADD = $(TEST_LIBS)

# NearDuplicate's job-wide index (MinHash signatures and LSH band keys).
noinst_HEADERS += include/dgen/neardup.h
libdgen_a_SOURCES += src/store/neardup.c
check_PROGRAMS += tests/test_neardup
TESTS += tests/test_neardup
tests_test_neardup_LDADD = $(TEST_LIBS)

# Named LLM and embedding models, keys sealed under the key file.
noinst_HEADERS += include/dgen/saved_models.h
libdgen_a_SOURCES += src/store/saved_models.c
check_PROGRAMS += tests/test_saved_models
TESTS += tests/test_saved_models
tests_test_saved_models_LDADD = $(TEST_LIBS)

# The store tests again against a throwaway PostgreSQL server (skipped
# when none is installed).
TESTS += tests/store_pg.sh tests/store_pg_version.sh
EXTRA_DIST += tests/store_pg.sh tests/store_pg_version.sh tests/lib/pg.sh
# The store-backed shell suites again on PostgreSQL: `make check-pg`
# (contrib/dgenctl test runs it after make check). Each suite runs with
# its own checks in the test harness, in a database of its own on a
# throwaway server (tests/lib/store.sh); a suite that is sqlite's by
# nature skips with its reason. The many-hosts test needs root and a
# PostgreSQL server too, so it runs here and not in make check.
PG_SUITES = tests/runner_basic.sh tests/runner_signals.sh tests/runner_limits.sh \
	tests/runner_crash.sh tests/runner_storage.sh tests/runner_fairshare.sh \
	tests/runner_memory.sh tests/runner_ratelimit.sh tests/runner_outage.sh \
	tests/blocks_e2e.sh tests/api_cgi.sh tests/api_nginx.sh tests/api_apache.sh \
	tests/api_paging.sh tests/api_storm.sh tests/api_upload_memory.sh \
	tests/api_access.sh tests/api_models.sh tests/api_cost.sh tests/multihost.sh \
	tests/test_cli.sh tests/harden_stack.sh
EXTRA_DIST += tests/multihost.sh tests/lib/store.sh tests/runner_outage.sh
check-pg:
	DGEN_TEST_STORE=pg DGEN_TEST_PG_SUITES=1 $(MAKE) $(AM_MAKEFLAGS) check \
		TESTS="$(PG_SUITES)" TEST_SUITE_LOG=test-suite-pg.log
.PHONY: check-pg
CLEANFILES += tests/*.pg.log test-suite-pg.log
