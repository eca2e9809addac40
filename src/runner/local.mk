# src/runner: dgen-runner, the queue daemon.
libdgen_a_SOURCES += src/runner/runner.c src/runner/evloop.c src/runner/startwait.c
noinst_HEADERS += include/dgen/runner.h src/runner/evloop.h src/runner/startwait.h
sbin_PROGRAMS += dgen-runner
dgen_runner_SOURCES = src/runner/main.c
dgen_runner_LDADD = $(DGEN_LIBS)

# Runner tests: a real runner, a real sqlite file, the mock LLM over HTTP.
check_PROGRAMS += tests/runner/qtool
tests_runner_qtool_LDADD = $(TEST_LIBS)
RUNNER_TESTS = tests/runner_basic.sh tests/runner_signals.sh tests/runner_limits.sh \
	tests/runner_crash.sh tests/runner_storage.sh tests/runner_fairshare.sh \
	tests/runner_memory.sh tests/runner_ratelimit.sh
TESTS += $(RUNNER_TESTS)
EXTRA_DIST += $(RUNNER_TESTS) tests/runner/lib.sh tests/fixtures/plugin_abort.c

# The crash test at 1 024 units in flight, on its own (not in parallel
# with the other suites): `make check-wide`, run by contrib/dgenctl test.
EXTRA_DIST += tests/runner_crash_wide.sh
check-wide:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/runner_crash_wide.sh \
		TEST_SUITE_LOG=test-suite-wide.log
.PHONY: check-wide
CLEANFILES += test-suite-wide.log

# The blame test's block that kills its runner (a directory of its own, so
# no other test loads it).
RUNNER_PLUGINS = tests/plugins-abort/abort_block.so
EXTRA_tests_runner_qtool_DEPENDENCIES = $(RUNNER_PLUGINS)
tests/plugins-abort/abort_block.so: $(srcdir)/tests/fixtures/plugin_abort.c $(ENGINE_PLUGIN_DEPS)
	@$(MKDIR_P) tests/plugins-abort
	$(AM_V_CC)$(ENGINE_PLUGIN_CC) -o $@ $(srcdir)/tests/fixtures/plugin_abort.c
CLEANFILES += $(RUNNER_PLUGINS)
EXTRA_DIST += contrib/bench-runner contrib/soak-storage
# The blocks of SPEC.md §10 end to end: templates via dgen run and the API,
# NearDuplicate across a job in the runner.
TESTS += tests/blocks_e2e.sh
EXTRA_DIST += tests/blocks_e2e.sh
