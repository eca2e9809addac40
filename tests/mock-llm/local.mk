# tests/mock-llm: the mock LLM server (OpenAI, Gemini, Ollama and Anthropic
# wire formats, failure modes on demand) that the tests and benchmarks talk
# to. Built with `make` so any test can start it; `mock-llm --help` tells how.
noinst_PROGRAMS += tests/mock-llm/mock-llm
tests_mock_llm_mock_llm_SOURCES = tests/mock-llm/mock_llm.c
tests_mock_llm_mock_llm_LDADD = $(JSONC_LIBS) $(LIBS)
noinst_HEADERS += tests/mock-llm/mock.h

# The LLM client benchmark (contrib/bench-llm runs it against the mock).
noinst_PROGRAMS += contrib/bench/bench_llm
contrib_bench_bench_llm_SOURCES = contrib/bench/bench_llm.c
contrib_bench_bench_llm_LDADD = $(DGEN_LIBS)
EXTRA_DIST += contrib/bench-llm

# libcurl alone: the floor under the runner's CPU per record (bench-runner).
noinst_PROGRAMS += contrib/bench/bench_curl
contrib_bench_bench_curl_SOURCES = contrib/bench/bench_curl.c
contrib_bench_bench_curl_LDADD = $(CURL_LIBS)

# NearDuplicate's store index under load (contrib/bench-neardup runs it).
noinst_PROGRAMS += contrib/bench/bench_neardup
contrib_bench_bench_neardup_SOURCES = contrib/bench/bench_neardup.c
contrib_bench_bench_neardup_LDADD = $(DGEN_LIBS)
EXTRA_DIST += contrib/bench-neardup
