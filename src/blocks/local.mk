# src/blocks: the builtin block types (one file each) and their tests (see
# Makefile.am). The text measures they score with live in src/text. By
# group: what the blocks share; the first eight (generators, splitter,
# validators, metrics); those of DataGenFlow 1.3 (SPEC.md §10); dgen's own;
# the table of all of them.
libdgen_a_SOURCES += src/blocks/blockutil.c src/blocks/blockctx.c \
	src/blocks/text_generator.c src/blocks/structured_generator.c \
	src/blocks/markdown_multiplier.c src/blocks/validator.c src/blocks/json_validator.c \
	src/blocks/diversity_score.c src/blocks/coherence_score.c src/blocks/rouge_score.c \
	src/blocks/field_mapper.c src/blocks/structure_sampler.c src/blocks/semantic_infiller.c \
	src/blocks/duplicate_remover.c src/blocks/ragas_metrics.c \
	src/blocks/llm_judge.c src/blocks/sampler.c src/blocks/near_duplicate.c \
	src/blocks/builtin.c
noinst_HEADERS += include/dgen/blocks.h include/dgen/blockutil.h include/dgen/blockctx.h \
	tests/blocks_test.h

BLOCKS_TESTS = tests/test_blocks_metrics tests/test_blocks_validators \
	tests/test_blocks_markdown tests/test_generators tests/test_blocks_dgf
check_PROGRAMS += $(BLOCKS_TESTS)
TESTS += $(BLOCKS_TESTS)
