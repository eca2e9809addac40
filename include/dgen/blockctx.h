/*
 * blockctx.h - what the blocks beyond the first eight share: values that
 * are JSON or a template rendering to JSON, LLM replies that must be JSON
 * objects, embeddings through the context's model lookup, and a seeded
 * random generator that gives the same draws for the same unit.
 *
 * Ownership: blockctx_value(), blockctx_reply_object() and
 * blockctx_ask_object() hand the caller one new reference. blockctx_embed()
 * hands the caller a malloc'd array of n * dim doubles.
 */
#ifndef DGEN_BLOCKCTX_H
#define DGEN_BLOCKCTX_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/err.h"

/* A json-or-template config value (SPEC.md §10): a string is rendered as a
 * template over the state and the result parsed as strict JSON (a result
 * that is not JSON stays a string when keep_text, else is a block error
 * naming key); anything else is copied. */
int blockctx_value(struct json_object *v, const char *key, bool keep_text,
		   struct json_object *input, const struct dgen_block_ctx *ctx,
		   struct json_object **out, struct dgen_err *err);

/* At init: a string config value under key must compile as a template
 * (a config error naming key and the line otherwise). */
int blockctx_check_template(struct json_object *config, const char *key, struct dgen_err *err);

/* A JSON object out of an LLM reply: the whole text, else a fenced block,
 * else the first balanced {...} span; NULL when there is none. */
struct json_object *blockctx_reply_object(const char *text);

/* One LLM call (model from config key "model", this temperature and
 * max_tokens) asking for JSON shaped by schema; the reply must hold a
 * JSON object (blockctx_reply_object), else a block error "the model's
 * reply is not JSON" quoting its start. Usage is counted. */
int blockctx_ask_object(struct dgen_block_ctx *ctx, struct json_object *config,
			const char *system, const char *user, double temperature, int max_tokens,
			struct json_object *schema, struct json_object **out, struct dgen_err *err);

/* Embeds texts[0..n) with the model named by config key
 * "embedding_model" (null = default); usage is counted. */
int blockctx_embed(struct dgen_block_ctx *ctx, struct json_object *config,
		   const char *const *texts, size_t n, double **vectors, size_t *dim,
		   struct dgen_err *err);

/* A small reproducible generator (splitmix64). */
struct blockctx_rng {
	uint64_t s;
};
void blockctx_rng_seed(struct blockctx_rng *r, uint64_t seed, const char *salt);
uint64_t blockctx_rng_next(struct blockctx_rng *r);
double blockctx_rng_unit(struct blockctx_rng *r); /* [0, 1) */
double blockctx_rng_normal(struct blockctx_rng *r); /* mean 0, sd 1 */
/* The state's JSON as a stable number (seeding per unit). */
uint64_t blockctx_hash_json(struct json_object *v);

#endif
