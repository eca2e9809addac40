# tests/fuzz: libFuzzer targets, one per parser of untrusted input: the
# request and multipart parsers and the JSON body path (api), metrics, fences
# and the Markdown splitter (blocks), YAML pipeline templates (engine),
# provider replies of every LLM adapter (llm), templates (template) and
# the configs of the blocks of SPEC.md §10 with embeddings replies.
#
# fuzz_NAME.c holds LLVMFuzzerTestOneInput. In a normal `make check`
# driver.c gives it a main() that replays tests/fuzz/corpus/NAME/; under
# --enable-fuzzing it is a libFuzzer binary instead. A new target adds its
# name to FUZZ_TESTS and its two lines below.
FUZZ_TESTS = tests/fuzz/fuzz_request tests/fuzz/fuzz_multipart \
	tests/fuzz/fuzz_jsonbody tests/fuzz/fuzz_blocks tests/fuzz/fuzz_yaml \
	tests/fuzz/fuzz_llm_reply tests/fuzz/fuzz_template tests/fuzz/fuzz_block_configs
check_PROGRAMS += $(FUZZ_TESTS)
if FUZZING
FUZZ_LINKFLAGS = -fsanitize=fuzzer
else
FUZZ_LINKFLAGS =
TESTS += $(FUZZ_TESTS)
endif
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c tests/fuzz/driver.c
tests_fuzz_fuzz_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_multipart_SOURCES = tests/fuzz/fuzz_multipart.c tests/fuzz/driver.c
tests_fuzz_fuzz_multipart_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_jsonbody_SOURCES = tests/fuzz/fuzz_jsonbody.c tests/fuzz/driver.c
tests_fuzz_fuzz_jsonbody_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_blocks_SOURCES = tests/fuzz/fuzz_blocks.c tests/fuzz/driver.c
tests_fuzz_fuzz_blocks_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_yaml_SOURCES = tests/fuzz/fuzz_yaml.c tests/fuzz/driver.c
tests_fuzz_fuzz_yaml_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_llm_reply_SOURCES = tests/fuzz/fuzz_llm_reply.c tests/fuzz/driver.c
tests_fuzz_fuzz_llm_reply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_template_SOURCES = tests/fuzz/fuzz_template.c tests/fuzz/driver.c
tests_fuzz_fuzz_template_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_block_configs_SOURCES = tests/fuzz/fuzz_block_configs.c tests/fuzz/driver.c
tests_fuzz_fuzz_block_configs_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
EXTRA_DIST += tests/fuzz/corpus tests/tap.h
