# src/llm: the LLM client (retries, backoff, limits, cancellation) and one
# adapter per provider wire format. Tests talk to tests/mock-llm/mock-llm.
libdgen_a_SOURCES += src/llm/client.c src/llm/budget.c src/llm/embed.c src/llm/modelcfg.c \
	src/llm/netguard.c src/llm/openai.c src/llm/gemini.c src/llm/ollama.c src/llm/anthropic.c
noinst_HEADERS += include/dgen/llm.h include/dgen/budget.h src/llm/provider.h include/dgen/embed.h \
	include/dgen/modelcfg.h include/dgen/netguard.h

check_PROGRAMS += tests/test_llm tests/test_budget
TESTS += tests/test_llm tests/test_budget
