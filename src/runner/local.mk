# src/runner: dgen-runner, the queue daemon.
libdgen_a_SOURCES += src/runner/runner.c
noinst_HEADERS += include/dgen/runner.h
sbin_PROGRAMS += dgen-runner
dgen_runner_SOURCES = src/runner/main.c
dgen_runner_LDADD = $(DGEN_LIBS)

# Runner tests: a real runner, a real sqlite file, the mock LLM over HTTP.
check_PROGRAMS += tests/runner/qtool
tests_runner_qtool_LDADD = $(TEST_LIBS)
RUNNER_TESTS = tests/runner_basic.sh tests/runner_signals.sh tests/runner_limits.sh \
	tests/runner_crash.sh
TESTS += $(RUNNER_TESTS)
EXTRA_DIST += $(RUNNER_TESTS) tests/runner/lib.sh
EXTRA_DIST += contrib/bench-runner
# The blocks of SPEC.md §10 end to end: templates via dgen run and the API,
# NearDuplicate across a job in the runner.
TESTS += tests/blocks_e2e.sh
EXTRA_DIST += tests/blocks_e2e.sh
