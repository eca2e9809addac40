/*
 * api_blocks.c - GET /api/blocks: every block type the worker knows, generated
 * from the block structs (the UI builds its forms from this alone).
 */
#include "config.h"

#include "dgen/api.h"
#include "dgen/log.h"

/* The names of the stored models the caller may use (their own and the
 * global ones) become the enum of the model properties; a
 * store that cannot be read leaves the properties free (logged). */
int api_blocks_list(struct api_ctx *c)
{
	struct json_object *blocks = registry_blocks_json(api_registry(c));
	struct dgen_model_list llm, emb;

	if (api_models_load(c, &llm, &emb) == 0)
		api_models_enum(blocks, dgen_caller_owner(c->who), &llm, &emb);
	else
		dgen_warn("block list without model names: %s", c->err.msg);
	dgen_err_clear(&c->err);
	model_list_free(&llm);
	model_list_free(&emb);
	return api_ok(c, 200, blocks);
}
