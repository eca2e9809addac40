# src/llm: the LLM client (retries, backoff, limits, cancellation) and one
# adapter per provider wire format. Tests talk to tests/mock-llm/mock-llm.
libdgen_a_SOURCES += \
	src/llm/client.c \
	src/llm/openai.c \
	src/llm/gemini.c \
	src/llm/ollama.c \
	src/llm/anthropic.c \
	src/llm/embed.c
noinst_HEADERS += include/dgen/llm.h src/llm/provider.h include/dgen/embed.h

check_PROGRAMS += tests/test_llm
TESTS += tests/test_llm
tests_test_llm_LDADD = $(TEST_LIBS)

# Provider replies are untrusted: every adapter is fuzzed.
check_PROGRAMS += tests/fuzz/fuzz_llm_reply
FUZZ_TESTS += tests/fuzz/fuzz_llm_reply
tests_fuzz_fuzz_llm_reply_SOURCES = tests/fuzz/fuzz_llm_reply.c tests/fuzz/driver.c
tests_fuzz_fuzz_llm_reply_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_llm_reply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
