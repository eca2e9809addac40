# src/text: text algorithms with no notion of blocks or pipelines: the
# Porter stemmer and the measures the metric blocks score with (ROUGE,
# similarity ratio, word and sentence counts). They build on core only.
libdgen_a_SOURCES += src/text/porter.c src/text/textmetrics.c src/text/minhash.c \
	src/text/ragas_score.c
noinst_HEADERS += include/dgen/porter.h include/dgen/textmetrics.h include/dgen/minhash.h \
	include/dgen/ragas_score.h

TEXT_TESTS = tests/test_porter tests/test_textmetrics
check_PROGRAMS += $(TEXT_TESTS)
TESTS += $(TEXT_TESTS)
EXTRA_DIST += tests/data/porter/vocabulary.txt
