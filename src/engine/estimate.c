/*
 * estimate.c - what a run will at most use (see estimate.h).
 */
#include "config.h"

#include <string.h>

#include "dgen/block.h"
#include "dgen/estimate.h"
#include "dgen/json.h"

/* The parameter called name of t, or NULL. */
static const struct dgen_block_param *param(const struct dgen_block_type *t, const char *name)
{
	for (size_t i = 0; i < t->n_params; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return &t->params[i];
	return NULL;
}

/* A block's max_tokens: its config, else its parameter's default, else
 * the generators' default. */
static int64_t block_max_tokens(const struct dgen_block_type *t, struct json_object *config)
{
	const struct dgen_block_param *pm = param(t, "max_tokens");
	struct json_object *v = NULL;
	int64_t n = 2048;

	if (json_object_object_get_ex(config, "max_tokens", &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (pm && pm->default_json) {
		v = json_tokener_parse(pm->default_json);
		if (json_object_is_type(v, json_type_int))
			n = json_object_get_int64(v);
		json_object_put(v);
	}
	return n;
}

/* Bytes of the block's prompt templates (its "prompt" parameters). */
static size_t prompt_bytes(const struct dgen_block_type *t, struct json_object *config)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_params; i++) {
		struct json_object *v = NULL;

		if (t->params[i].format && strcmp(t->params[i].format, "prompt") == 0 &&
		    json_object_object_get_ex(config, t->params[i].name, &v) &&
		    json_object_is_type(v, json_type_string))
			n += (size_t)json_object_get_string_len(v);
	}
	return n;
}

/* The cost of one call of the block's model (named by its config; null
 * or "" = the default), at in and out tokens. */
static void block_cost(const struct dgen_model_list *llm, int64_t owner,
		       struct json_object *config, int64_t in, int64_t out, struct dgen_cost *c)
{
	struct json_object *v = NULL;
	const char *name = NULL;
	struct dgen_price price;

	if (json_object_object_get_ex(config, "model", &v) && json_object_is_type(v, json_type_string))
		name = json_object_get_string(v);
	model_price(llm ? model_list_find(llm, owner, name) : NULL, &price);
	cost_of_call(&price, in, out, 0, c);
}

void estimate_run(const struct dgen_pipeline *p, const struct dgen_seeds *seeds,
		  const struct dgen_model_list *llm, int64_t owner, struct dgen_estimate *out)
{
	size_t seed_bytes = 0;

	memset(out, 0, sizeof *out);
	out->per_seed = pipeline_is_multiplier(p);
	out->executions = out->per_seed ? (int64_t)seeds->n : (int64_t)seeds->total_units;
	if (seeds->n > 0 && seeds->v[0].metadata)
		seed_bytes = strlen(dgen_json_compact(seeds->v[0].metadata));
	for (size_t i = 0; i < pipeline_n_blocks(p); i++) {
		const struct dgen_block_type *t = pipeline_block_type(p, i);
		struct json_object *config = pipeline_block_config(p, i);
		struct dgen_cost c;
		int64_t in, max;

		if (!param(t, "model"))
			continue;
		in = (int64_t)((prompt_bytes(t, config) + seed_bytes + 3) / 4);
		max = block_max_tokens(t, config);
		out->llm_calls++;
		out->max_tokens += in + max;
		block_cost(llm, owner, config, in, max, &c);
		cost_add(&out->cost, &c);
	}
	/* one execution's worth so far */
	out->llm_calls *= out->executions;
	out->max_tokens *= out->executions;
	out->cost.amount *= (double)out->executions;
}

struct json_object *estimate_to_json(const struct dgen_estimate *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "executions", json_object_new_int64(e->executions));
	json_object_object_add(o, "llm_calls", json_object_new_int64(e->llm_calls));
	json_object_object_add(o, "max_tokens", json_object_new_int64(e->max_tokens));
	json_object_object_add(o, "cost", cost_to_json(&e->cost));
	return o;
}
