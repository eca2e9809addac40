# src/core: buffers, JSON at the edge, errors, logging, configuration,
# clock and ids. Everything else in libdgen builds on these.
libdgen_a_SOURCES += \
	src/core/arena.c \
	src/core/buf.c \
	src/core/clock.c \
	src/core/config.c \
	src/core/err.c \
	src/core/file.c \
	src/core/export_line.c \
	src/core/ids.c \
	src/core/json.c \
	src/core/json_parse.c \
	src/core/log.c \
	src/core/util.c \
	src/core/utf8.c
noinst_HEADERS += \
	include/dgen/arena.h \
	include/dgen/buf.h \
	include/dgen/clock.h \
	include/dgen/config.h \
	include/dgen/err.h \
	include/dgen/file.h \
	include/dgen/export_line.h \
	include/dgen/ids.h \
	include/dgen/json.h \
	include/dgen/log.h \
	include/dgen/util.h \
	include/dgen/utf8.h

CORE_TESTS = tests/test_arena tests/test_buf tests/test_clock tests/test_config \
	tests/test_err tests/test_file tests/test_ids tests/test_json \
	tests/test_json_strict tests/test_log tests/test_util tests/test_utf8
check_PROGRAMS += $(CORE_TESTS)
TESTS += $(CORE_TESTS)
tests_test_arena_LDADD = $(TEST_LIBS)
tests_test_buf_LDADD = $(TEST_LIBS)
tests_test_clock_LDADD = $(TEST_LIBS)
tests_test_config_LDADD = $(TEST_LIBS)
tests_test_err_LDADD = $(TEST_LIBS)
tests_test_ids_LDADD = $(TEST_LIBS)
tests_test_json_LDADD = $(TEST_LIBS)
tests_test_json_strict_LDADD = $(TEST_LIBS)
tests_test_log_LDADD = $(TEST_LIBS)
tests_test_util_LDADD = $(TEST_LIBS)
tests_test_utf8_LDADD = $(TEST_LIBS)
tests_test_file_LDADD = $(TEST_LIBS)

# Shell tests check that what dgen writes parses strictly.
check_PROGRAMS += tests/fixtures/json_strict
tests_fixtures_json_strict_LDADD = $(TEST_LIBS)
# The TAP and port helpers of the shell test suites.
EXTRA_DIST += tests/lib/tap.sh tests/lib/port.sh
