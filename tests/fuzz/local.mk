# tests/fuzz: libFuzzer targets. Each area adds its own targets in its
# local.mk like this (fuzz_NAME replays tests/fuzz/corpus/NAME/ in a normal
# `make check`; under --enable-fuzzing it is a libFuzzer binary instead):
#
#   check_PROGRAMS += tests/fuzz/fuzz_NAME
#   FUZZ_TESTS += tests/fuzz/fuzz_NAME
#   tests_fuzz_fuzz_NAME_SOURCES = tests/fuzz/fuzz_NAME.c tests/fuzz/driver.c
#   tests_fuzz_fuzz_NAME_LDADD = $(TEST_LIBS)
#   tests_fuzz_fuzz_NAME_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
FUZZ_TESTS =
if FUZZING
FUZZ_LINKFLAGS = -fsanitize=fuzzer
else
FUZZ_LINKFLAGS =
TESTS += $(FUZZ_TESTS)
endif
EXTRA_DIST += tests/fuzz/corpus tests/tap.h

# The configs and states of the blocks of SPEC.md §10, and embeddings replies.
check_PROGRAMS += tests/fuzz/fuzz_block_configs
FUZZ_TESTS += tests/fuzz/fuzz_block_configs
tests_fuzz_fuzz_block_configs_SOURCES = tests/fuzz/fuzz_block_configs.c tests/fuzz/driver.c
tests_fuzz_fuzz_block_configs_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_block_configs_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
