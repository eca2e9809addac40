/*
 * builtin.c - the list of builtin block types, in the order users see
 * them in `dgen blocks` and GET /api/blocks.
 */
#include "dgen/blocks.h"
#include "dgen/registry.h"
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
	&field_mapper_block,
	&structure_sampler_block,
	&semantic_infiller_block,
	&duplicate_remover_block,
	&ragas_metrics_block,
	&llm_judge_block,
	&sampler_block,
	&near_duplicate_block,
};

const struct dgen_block_type *const *blocks_builtin(size_t *n)
{
	*n = DGEN_ARRAY_LEN(builtin);
	return builtin;
}

struct dgen_registry *blocks_registry(void)
{
	size_t n;
	const struct dgen_block_type *const *types = blocks_builtin(&n);

	return registry_new(types, n);
}
