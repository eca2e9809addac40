# src/core: buffers, JSON at the edge, errors, logging, configuration,
# clock and ids. Everything else in libdgen builds on these. One line per
# group: memory and text, JSON, errors and settings, time, names and the
# shared command-line options.
libdgen_a_SOURCES += src/core/arena.c src/core/buf.c src/core/util.c src/core/utf8.c \
	src/core/json.c src/core/json_parse.c src/core/export_line.c \
	src/core/err.c src/core/log.c src/core/config.c src/core/file.c \
	src/core/clock.c src/core/ids.c src/core/cmdline.c \
	src/core/model.c src/core/secret.c src/core/cost.c
noinst_HEADERS += include/dgen/arena.h include/dgen/buf.h include/dgen/util.h \
	include/dgen/utf8.h include/dgen/json.h include/dgen/export_line.h \
	include/dgen/err.h include/dgen/log.h include/dgen/config.h include/dgen/file.h \
	include/dgen/clock.h include/dgen/ids.h include/dgen/cmdline.h \
	include/dgen/model.h include/dgen/secret.h include/dgen/cost.h

CORE_TESTS = tests/test_arena tests/test_buf tests/test_clock tests/test_config \
	tests/test_err tests/test_file tests/test_ids tests/test_json \
	tests/test_json_strict tests/test_log tests/test_util tests/test_utf8 tests/test_cost
check_PROGRAMS += $(CORE_TESTS)
TESTS += $(CORE_TESTS)

# Shell tests check that what dgen writes parses strictly.
check_PROGRAMS += tests/fixtures/json_strict
# The TAP and port helpers of the shell test suites.
EXTRA_DIST += tests/lib/tap.sh tests/lib/port.sh
