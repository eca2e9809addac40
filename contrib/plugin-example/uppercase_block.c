/*
 * uppercase_block.c - an example plugin block for dgen.
 *
 * "Uppercase" reads one field of the accumulated state (config
 * `field_name`, default "text") and outputs it upper-cased (ASCII letters)
 * as `uppercased`. It shows everything a plugin needs: the block type
 * struct with its parameter table, and the one exported function the
 * registry looks for (see include/dgen/registry.h).
 *
 * Build (from the source tree; json-c's flags from pkg-config):
 *
 *   cc -shared -fPIC -Iinclude $(pkg-config --cflags json-c) \
 *      -o uppercase_block.so contrib/plugin-example/uppercase_block.c
 *
 * then drop uppercase_block.so into the directory named by DGEN_BLOCKS_DIR
 * and check with `dgen blocks`. A plugin may call libc and json-c; it must
 * not rely on dgen's own functions (the binaries do not export them), so
 * it fills struct dgen_err by hand.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/registry.h"

static const char *const uppercase_inputs[] = { "*", NULL };
static const char *const uppercase_outputs[] = { "uppercased", NULL };

static const struct dgen_block_param uppercase_params[] = {
	{
		.name = "field_name",
		.type = DGEN_PARAM_STRING,
		.default_json = "\"text\"",
		.field_ref = true,
		.description = "The state field to upper-case",
	},
};

static int fail(struct dgen_err *err, const char *field, const char *what)
{
	err->code = DGEN_EBLOCK;
	snprintf(err->msg, sizeof err->msg, "field '%s' %s", field, what);
	return -1;
}

/* Borrows input and config; hands back one new object. Thread safe: it
 * keeps no state and only reads its arguments. */
static int uppercase_execute(void *state, struct json_object *config,
			     struct dgen_block_ctx *ctx, struct json_object *input,
			     struct json_object **output, struct dgen_err *err)
{
	struct json_object *fv = NULL, *v = NULL;
	const char *field = "text";
	char *up;
	size_t len;

	(void)state;
	(void)ctx;
	if (json_object_object_get_ex(config, "field_name", &fv) && fv)
		field = json_object_get_string(fv);
	if (!json_object_object_get_ex(input, field, &v) ||
	    !json_object_is_type(v, json_type_string))
		return fail(err, field, "is missing or not a string");
	len = (size_t)json_object_get_string_len(v);
	if (!(up = malloc(len + 1)))
		return fail(err, field, "could not be copied (out of memory)");
	memcpy(up, json_object_get_string(v), len + 1);
	for (size_t i = 0; i < len; i++)
		up[i] = (char)toupper((unsigned char)up[i]);
	*output = json_object_new_object();
	json_object_object_add(*output, "uppercased", json_object_new_string_len(up, (int)len));
	free(up);
	return 0;
}

static const struct dgen_block_type uppercase_types[] = {
	{
		.abi = DGEN_BLOCK_ABI,
		.type = "Uppercase",
		.name = "Uppercase",
		.description = "Upper-cases a text field of the state (example plugin)",
		.category = "transformers",
		.inputs = uppercase_inputs,
		.outputs = uppercase_outputs,
		.params = uppercase_params,
		.n_params = sizeof uppercase_params / sizeof uppercase_params[0],
		.is_multiplier = false,
		.execute = uppercase_execute,
	},
};

const struct dgen_block_type *dgen_block_plugin(size_t *n)
{
	*n = sizeof uppercase_types / sizeof uppercase_types[0];
	return uppercase_types;
}
