/*
 * estimate.h - what a run will at most use, before it starts (POST
 * /api/seeds/validate, SPEC.md §9 "Cost").
 *
 * The blocks that call an LLM are those whose parameter table has a
 * `model` parameter. Each counts one call per execution, of at most its
 * max_tokens (its config, else its parameter's default) of output, and
 * of a prompt estimated at a quarter of the bytes of its prompt templates
 * plus the first seed's metadata (a token is about 4 bytes of text). The
 * cost prices those tokens with the model each block names (cached input
 * is not assumed); it is unknown when a model has no price, is not found,
 * or two currencies meet, and none when no block calls an LLM.
 *
 * Executions are seeds x repetitions; a multiplier pipeline's chunks are
 * not known before the split, so there each seed counts once
 * (per_seed true): scale by the chunks of a document.
 *
 * Ownership: plain values; estimate_to_json returns one new reference.
 */
#ifndef DGEN_ESTIMATE_H
#define DGEN_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/cost.h"
#include "dgen/model.h"
#include "dgen/pipeline.h"
#include "dgen/seeds.h"

struct dgen_estimate {
	int64_t executions;
	int64_t llm_calls;
	int64_t max_tokens;     /* prompt estimate + max_tokens, every call */
	struct dgen_cost cost;  /* the price of max_tokens */
	bool per_seed;          /* a multiplier pipeline: executions are seeds */
};

/* The estimate of running p over seeds with the LLM models llm (NULL or
 * empty: the configured endpoint, which has no price) as owner sees
 * them (model_list_find). */
void estimate_run(const struct dgen_pipeline *p, const struct dgen_seeds *seeds,
		  const struct dgen_model_list *llm, int64_t owner, struct dgen_estimate *out);

/* {"executions","llm_calls","max_tokens","cost"}; cost {"amount",
 * "currency"} or null. */
struct json_object *estimate_to_json(const struct dgen_estimate *e);

#endif
