/*
 * structured_generator.c - StructuredGenerator: JSON that follows a schema.
 *
 * json_schema is either a JSON object or a string template that renders
 * (per seed, against the state) to a JSON object. The provider is asked
 * for JSON constrained by that schema (the client picks strict schema
 * mode or plain JSON mode per provider). The prompt is user_prompt
 * rendered as a template, else the state's `user_prompt` text, else
 * "Generate data according to schema". The reply is parsed as JSON, or
 * as the inside of a surrounding code fence, or of the first fenced block
 * in it (```json preferred); anything that is not a JSON object becomes
 * {"raw_response": text}. Output: {"generated": object}.
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/buf.h"
#include "dgen/json.h"
#include "dgen/util.h"

static const char *const inputs[] = { NULL };
static const char *const outputs[] = { "generated", NULL };

#define DEFAULT_PROMPT "Generate data according to schema"

static const struct dgen_block_param params[] = {
	{ .name = "json_schema", .type = DGEN_PARAM_SCHEMA, .required = true, .format = "json",
	  .description = "JSON Schema of the object to generate: an object, or a template "
			 "that renders to one" },
	BLOCKUTIL_PARAMS_SAMPLING,
	BLOCKUTIL_PARAM_PROMPT("user_prompt", "Prompt template; empty uses the state's "
			       "`user_prompt`, else \"" DEFAULT_PROMPT "\""),
};

struct sg {
	struct dgen_template *schema_tpl; /* json_schema given as a string */
	struct dgen_template *prompt;     /* NULL: state user_prompt / default */
};

static void sg_free(void *p)
{
	struct sg *s = p;

	if (!s)
		return;
	template_free(s->schema_tpl);
	template_free(s->prompt);
	free(s);
}

/* Compiles the schema (when it is a template) and the prompt once, so a
 * syntax error is a config error before any seed runs. */
static int sg_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct json_object *schema = NULL;
	const char *prompt = blockutil_cfg_str(config, "user_prompt");
	struct sg *s;

	*state = NULL;
	if (blockutil_check_sampling(config, err) != 0)
		return -1;
	if (!json_object_object_get_ex(config, "json_schema", &schema) ||
	    !(json_object_is_type(schema, json_type_object) ||
	      json_object_is_type(schema, json_type_string)))
		return blockutil_config_error(err, "json_schema",
					      "json_schema is required: a JSON Schema object or a "
					      "template that renders to one");
	s = dgen_xcalloc(1, sizeof(*s));
	if (json_object_is_type(schema, json_type_string) &&
	    blockutil_compile(json_object_get_string(schema), "json_schema", &s->schema_tpl, err) != 0)
		goto fail;
	if (prompt && *prompt && blockutil_compile(prompt, "user_prompt", &s->prompt, err) != 0)
		goto fail;
	*state = s;
	return 0;
fail:
	sg_free(s);
	return -1;
}

/* The schema for this seed: a private copy of the configured object (the
 * config is shared between threads), or the rendered template parsed. */
static int schema_for(const struct sg *s, struct json_object *config, struct json_object *input,
		      const struct dgen_block_ctx *ctx, struct json_object **out,
		      struct dgen_err *err)
{
	struct dgen_buf b = DGEN_BUF_INIT;
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *schema = NULL;
	int rc = -1;

	*out = NULL;
	if (!s->schema_tpl) {
		json_object_object_get_ex(config, "json_schema", &schema);
		*out = dgen_json_copy(schema);
		return 0;
	}
	if (blockutil_prompt(s->schema_tpl, "json_schema", NULL, input, ctx, &b, err) != 0)
		goto out;
	if (dgen_json_parse(dgen_buf_str(&b), b.len, &dgen_json_default_limits, &schema, &e) != 0) {
		dgen_err_set(err, DGEN_EBLOCK, "json_schema did not render to valid JSON: %s", e.msg);
		goto out;
	}
	if (!json_object_is_type(schema, json_type_object)) {
		json_object_put(schema);
		dgen_err_set(err, DGEN_EBLOCK, "json_schema did not render to a JSON object");
		goto out;
	}
	*out = schema;
	rc = 0;
out:
	dgen_err_clear(&e);
	dgen_buf_free(&b);
	return rc;
}

/* Schema and prompt are rendered per seed; the reply is read leniently
 * (blockutil_json_reply): a reply that is no object is kept as
 * raw_response rather than failing the seed. */
static int sg_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		      struct json_object *input, struct json_object **output,
		      struct dgen_err *err)
{
	const struct sg *s = state;
	struct dgen_buf prompt = DGEN_BUF_INIT;
	struct json_object *schema = NULL;
	struct dgen_llm_message msg;
	char *reply = NULL;
	int rc = -1;

	if (!s)
		return dgen_err_set(err, DGEN_EINTERNAL, "StructuredGenerator was not initialised");
	if (schema_for(s, config, input, ctx, &schema, err) != 0)
		goto out;
	if (blockutil_prompt(s->prompt, "user_prompt", "user_prompt", input, ctx, &prompt, err) != 0)
		goto out;
	if (prompt.len == 0)
		dgen_buf_puts(&prompt, DEFAULT_PROMPT);
	msg.role = "user";
	msg.content = dgen_buf_str(&prompt);
	rc = blockutil_ask(ctx, config, &msg, 1, DGEN_LLM_JSON_SCHEMA, schema, &reply, err);
	if (rc == 0)
		blockutil_output(output, "generated", blockutil_json_reply(reply), NULL);
out:
	free(reply);
	json_object_put(schema);
	dgen_buf_free(&prompt);
	return rc;
}

const struct dgen_block_type structured_generator_block = {
	BLOCKUTIL_TYPE("StructuredGenerator", "Structured Generator", "generators",
		       "Asks the LLM for a JSON object that follows a JSON Schema and "
		       "returns it as `generated`"),
	.init = sg_init,
	.execute = sg_execute,
	.free = sg_free,
};
