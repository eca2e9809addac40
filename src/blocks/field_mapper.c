/*
 * field_mapper.c - FieldMapper (DataGenFlow 1.3): new fields from template
 * expressions. `mappings` is an object of field -> expression, or a
 * template string that renders to such an object. Each expression is
 * rendered over the state; a result that parses as JSON is stored parsed
 * (numbers, lists, objects), anything else as the rendered string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockctx.h"
#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "*", NULL };

static const struct dgen_block_param params[] = {
	{ .name = "mappings", .type = DGEN_PARAM_SCHEMA, .required = true, .format = "json",
	  .description = "Object of new field -> template expression (e.g. {\"question\": "
	  "\"{{ generated.question }}\"}), or a template that renders to such an object" },
};

/* Every expression must compile before any seed runs. */
static int fm_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct json_object *m = NULL;

	*state = NULL;
	if (!json_object_object_get_ex(config, "mappings", &m) ||
	    !(json_object_is_type(m, json_type_object) || json_object_is_type(m, json_type_string)))
		return blockutil_config_error(err, "mappings",
					      "mappings is required: an object of field -> template");
	if (json_object_is_type(m, json_type_string))
		return blockctx_check_template(config, "mappings", err);
	json_object_object_foreach(m, k, v) {
		char key[160];

		snprintf(key, sizeof key, "mappings.%s", k);
		if (!json_object_is_type(v, json_type_string))
			return blockutil_config_error(err, key, "%s must be a template string", key);
		if (blockctx_check_template(m, k, err) != 0) {
			dgen_err_detail_str(err, "field", key);
			return -1;
		}
	}
	return 0;
}

static int fm_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		      struct json_object *input, struct json_object **output,
		      struct dgen_err *err)
{
	struct json_object *m = NULL, *map = NULL, *out = json_object_new_object();
	int rc = -1;

	(void)state;
	json_object_object_get_ex(config, "mappings", &m);
	if (blockctx_value(m, "mappings", false, input, ctx, &map, err) != 0)
		goto out;
	if (!json_object_is_type(map, json_type_object)) {
		dgen_err_set(err, DGEN_EBLOCK, "mappings did not render to an object");
		dgen_err_detail_str(err, "field", "mappings");
		goto out;
	}
	json_object_object_foreach(map, k, expr) {
		struct json_object *v = NULL;
		char key[160];

		snprintf(key, sizeof key, "mappings.%s", k);
		if (!json_object_is_type(expr, json_type_string)) {
			json_object_object_add(out, k, dgen_json_copy(expr));
			continue;
		}
		if (blockctx_value(expr, key, true, input, ctx, &v, err) != 0)
			goto out;
		json_object_object_add(out, k, v);
	}
	*output = out;
	out = NULL;
	rc = 0;
out:
	json_object_put(map);
	json_object_put(out);
	return rc;
}

const struct dgen_block_type field_mapper_block = {
	BLOCKUTIL_TYPE("FieldMapper", "Field Mapper", "utilities",
		       "Sets new fields from template expressions; a result that is JSON is "
		       "stored parsed"),
	.init = fm_init,
	.execute = fm_execute,
};
