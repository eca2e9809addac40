/*
 * blocks.h - the builtin block types, one file each under src/blocks/.
 *
 * Ownership: every type is a static constant; nothing here is allocated
 * or freed. The registry (registry.h) takes the list from blocks_builtin().
 */
#ifndef DGEN_BLOCKS_H
#define DGEN_BLOCKS_H

#include <stddef.h>

#include "dgen/block.h"

extern const struct dgen_block_type text_generator_block;       /* text_generator.c */
extern const struct dgen_block_type structured_generator_block; /* structured_generator.c */
extern const struct dgen_block_type markdown_multiplier_block;  /* markdown_multiplier.c */
extern const struct dgen_block_type validator_block;            /* validator.c */
extern const struct dgen_block_type json_validator_block;       /* json_validator.c */
extern const struct dgen_block_type diversity_score_block;      /* diversity_score.c */
extern const struct dgen_block_type coherence_score_block;      /* coherence_score.c */
extern const struct dgen_block_type rouge_score_block;          /* rouge_score.c */
extern const struct dgen_block_type field_mapper_block;         /* field_mapper.c */
extern const struct dgen_block_type structure_sampler_block;    /* structure_sampler.c */
extern const struct dgen_block_type semantic_infiller_block;    /* semantic_infiller.c */
extern const struct dgen_block_type duplicate_remover_block;    /* duplicate_remover.c */
extern const struct dgen_block_type ragas_metrics_block;        /* ragas_metrics.c */
extern const struct dgen_block_type llm_judge_block;            /* llm_judge.c */
extern const struct dgen_block_type sampler_block;              /* sampler.c */
extern const struct dgen_block_type near_duplicate_block;       /* near_duplicate.c */

/* The builtin types in the order `dgen blocks` and GET /api/blocks list
 * them; *n receives the count. (builtin.c) */
const struct dgen_block_type *const *blocks_builtin(size_t *n);

struct dgen_registry;
/* A new registry holding the builtin types (release with registry_free). */
struct dgen_registry *blocks_registry(void);

#endif
