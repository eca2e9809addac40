/*
 * builtin.c - the list of builtin block types, in the order users see
 * them in `dgen blocks` and GET /api/blocks.
 */
#include "dgen/blocks.h"
#include "dgen/util.h"

static const struct dgen_block_type *const builtin[] = {
	&text_generator_block,
	&structured_generator_block,
	&markdown_multiplier_block,
	&validator_block,
	&json_validator_block,
	&diversity_score_block,
	&coherence_score_block,
	&rouge_score_block,
};

const struct dgen_block_type *const *blocks_builtin(size_t *n)
{
	*n = DGEN_ARRAY_LEN(builtin);
	return builtin;
}
