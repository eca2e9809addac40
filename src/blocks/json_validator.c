/*
 * json_validator.c - JSONValidatorBlock: is a field valid JSON, with the
 * keys we need?
 *
 * The field (field_name) is taken as is when it already holds JSON
 * (object, array, number, boolean); a string is first freed of one
 * surrounding code fence (```json ... ``` or ``` ... ```) and parsed
 * strictly with the default size and depth limits. The result is invalid
 * when the field is missing or null, the text is not JSON, or a
 * required_fields key is absent from the top-level object. Invalid gives
 * {valid: false, parsed_json: null}, or a block error when strict.
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"
#include "dgen/util.h"

static const char *const inputs[] = { "*", NULL };
/* parsed_json first: when this block ends a pipeline, the record's output
 * is the checked JSON, not the flag (SPEC.md §2: the last block's first
 * output). */
static const char *const outputs[] = { "parsed_json", "valid", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM_FIELD("field_name", "assistant",
			      "Field holding the JSON text (or value) to check"),
	BLOCKUTIL_PARAM("required_fields", DGEN_PARAM_STRING_LIST, "[]",
			"Keys the parsed JSON object must have"),
	BLOCKUTIL_PARAM("strict", DGEN_PARAM_BOOLEAN, "false",
			"Fail the run instead of setting valid to false"),
};

/* Parses the field into *parsed (a new reference). On failure returns -1
 * with a message in err saying why. */
static int parse_field(struct json_object *v, const char *field, struct json_object **parsed,
		       struct dgen_err *err)
{
	const char *text, *body;
	size_t len, blen;
	struct dgen_err e = DGEN_ERR_INIT;

	*parsed = NULL;
	if (!v)
		return dgen_err_set(err, DGEN_EBLOCK, "field '%s' is missing", field);
	if (!json_object_is_type(v, json_type_string)) {
		*parsed = dgen_json_copy(v);
		return 0;
	}
	text = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	body = blockutil_strip_fence(text, len, &blen);
	if (dgen_json_parse(body, blen, &dgen_json_default_limits, parsed, &e) != 0) {
		dgen_err_set(err, DGEN_EBLOCK, "field '%s' is not valid JSON: %s", field, e.msg);
		dgen_err_clear(&e);
		return -1;
	}
	return 0;
}

static int check_required(struct json_object *parsed, struct json_object *required,
			  struct dgen_err *err)
{
	size_t n = required ? json_object_array_length(required) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *key = json_object_get_string(json_object_array_get_idx(required, i));

		if (!json_object_is_type(parsed, json_type_object))
			return dgen_err_set(err, DGEN_EBLOCK,
					    "parsed JSON is not an object, so it lacks required "
					    "field '%s'", key);
		if (!json_object_object_get_ex(parsed, key, NULL))
			return dgen_err_set(err, DGEN_EBLOCK,
					    "parsed JSON lacks required field '%s'", key);
	}
	return 0;
}

/* Invalid input is an answer (valid: false), not a failure, unless the
 * pipeline asked for strict: then the reason becomes the block error. */
static int json_validator_execute(void *state, struct json_object *config,
				  struct dgen_block_ctx *ctx, struct json_object *input,
				  struct json_object **output, struct dgen_err *err)
{
	const char *field = blockutil_cfg_str(config, "field_name");
	bool strict = blockutil_cfg_bool(config, "strict", false);
	struct json_object *required = NULL, *parsed = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	bool valid;

	(void)state;
	(void)ctx;
	if (!field)
		field = "assistant";
	if (!json_object_object_get_ex(config, "required_fields", &required) ||
	    !json_object_is_type(required, json_type_array))
		required = NULL;
	valid = parse_field(blockutil_field(input, field), field, &parsed, &e) == 0 &&
		check_required(parsed, required, &e) == 0;
	if (!valid) {
		json_object_put(parsed);
		parsed = NULL;
		if (strict) {
			dgen_err_move(err, &e);
			return -1;
		}
		dgen_err_clear(&e);
	}
	return blockutil_output(output, "valid", json_object_new_boolean(valid), "parsed_json",
				parsed, NULL);
}

const struct dgen_block_type json_validator_block = {
	BLOCKUTIL_TYPE("JSONValidatorBlock", "JSON Validator", "validators",
		       "Parses a field as JSON (one surrounding code fence allowed) and "
		       "checks required keys; sets `valid` and `parsed_json`"),
	.execute = json_validator_execute,
};
