# src/blocks: the builtin block types (one file each) and their tests (see
# Makefile.am). The text measures they score with live in src/text.
libdgen_a_SOURCES += \
	src/blocks/blockutil.c \
	src/blocks/text_generator.c \
	src/blocks/structured_generator.c \
	src/blocks/markdown_multiplier.c \
	src/blocks/validator.c \
	src/blocks/json_validator.c \
	src/blocks/diversity_score.c \
	src/blocks/coherence_score.c \
	src/blocks/rouge_score.c \
	src/blocks/builtin.c
noinst_HEADERS += \
	include/dgen/blocks.h \
	include/dgen/blockutil.h

BLOCKS_TESTS = tests/test_blocks_metrics \
	tests/test_blocks_validators tests/test_blocks_markdown tests/test_generators
check_PROGRAMS += $(BLOCKS_TESTS)
TESTS += $(BLOCKS_TESTS)
noinst_HEADERS += tests/blocks_test.h
# The blocks of DataGenFlow 1.3 and dgen's own (SPEC.md §10), and what they
# share (blockctx: json-or-template values, JSON replies, embeddings).
libdgen_a_SOURCES += \
	src/blocks/blockctx.c \
	src/blocks/field_mapper.c \
	src/blocks/structure_sampler.c \
	src/blocks/semantic_infiller.c \
	src/blocks/duplicate_remover.c \
	src/blocks/ragas_metrics.c \
	src/blocks/llm_judge.c \
	src/blocks/sampler.c \
	src/blocks/near_duplicate.c
noinst_HEADERS += include/dgen/blockctx.h
check_PROGRAMS += tests/test_blocks_dgf
TESTS += tests/test_blocks_dgf
