/*
 * plugin_bad.c - plugins the registry must refuse, one per build flag:
 *   -DBAD_ABI    a type with a future ABI version
 *   -DSHADOW     a type that reuses a builtin's id (JSONValidatorBlock)
 *   -DNO_SYMBOL  no dgen_block_plugin at all
 * Built by src/engine/local.mk into tests/plugins/ for test_registry.
 */
#include <stddef.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/registry.h"

static const char *const bad_outputs[] = { "x", NULL };

static int bad_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		       struct json_object *input, struct json_object **output,
		       struct dgen_err *err)
{
	(void)state; (void)config; (void)ctx; (void)input; (void)err;
	*output = json_object_new_object();
	return 0;
}

static const struct dgen_block_type bad_types[] = {
	{
		.abi = DGEN_BLOCK_ABI,
		.type = "BadPluginFirst",
		.outputs = bad_outputs,
		.execute = bad_execute,
	},
	{
#ifdef BAD_ABI
		.abi = DGEN_BLOCK_ABI + 1,
		.type = "BadPluginSecond",
#else
		.abi = DGEN_BLOCK_ABI,
		.type = "JSONValidatorBlock",
#endif
		.outputs = bad_outputs,
		.execute = bad_execute,
	},
};

#ifdef NO_SYMBOL
const struct dgen_block_type *not_the_plugin_symbol(size_t *n);
const struct dgen_block_type *not_the_plugin_symbol(size_t *n)
#else
const struct dgen_block_type *dgen_block_plugin(size_t *n)
#endif
{
	*n = 2;
	return bad_types;
}
