/*
 * validator.c - ValidatorBlock: length and forbidden-word checks.
 *
 * Checks `text` when it is non-empty, else `assistant`: valid when its
 * length in Unicode code points is within [min_length, max_length] and it
 * contains none of forbidden_words (ASCII case-insensitive substring
 * match; empty words are ignored). Both fields are passed through, a
 * missing or null one as "".
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"
#include "dgen/textmetrics.h"
#include "dgen/util.h"

static const char *const inputs[] = { "text", "assistant", NULL };
static const char *const outputs[] = { "text", "valid", "assistant", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM("min_length", DGEN_PARAM_INTEGER, "0",
			"Fewest characters the text may have"),
	BLOCKUTIL_PARAM("max_length", DGEN_PARAM_INTEGER, "100000",
			"Most characters the text may have"),
	BLOCKUTIL_PARAM("forbidden_words", DGEN_PARAM_STRING_LIST, "[]",
			"The text is invalid if it contains any of these (case-insensitive)"),
};

static int validator_init(struct json_object *config, void **state, struct dgen_err *err)
{
	long long mn, mx;

	*state = NULL;
	if (blockutil_cfg_count(config, "min_length", 0, &mn, err) != 0 ||
	    blockutil_cfg_count(config, "max_length", 100000, &mx, err) != 0)
		return -1;
	if (mx < mn)
		return blockutil_config_error(err, "max_length",
					      "max_length (%lld) is below min_length (%lld)", mx,
					      mn);
	return 0;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Case-insensitive (ASCII) substring search. */
static bool contains_ci(const char *hay, size_t hl, const char *needle, size_t nl)
{
	if (nl == 0 || nl > hl)
		return false;
	for (size_t i = 0; i + nl <= hl; i++) {
		size_t k = 0;

		while (k < nl && ascii_lower(hay[i + k]) == ascii_lower(needle[k]))
			k++;
		if (k == nl)
			return true;
	}
	return false;
}

/* The value to pass through: a fresh copy (the state is shared and
 * read-only), "" when missing or null. */
static struct json_object *pass(struct json_object *v)
{
	return v ? dgen_json_copy(v) : json_object_new_string("");
}

/* Length is counted in code points, as a person counts characters; the
 * forbidden words are only looked for once the length passed. */
static int validator_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			     struct json_object *input, struct json_object **output,
			     struct dgen_err *err)
{
	struct json_object *text = blockutil_field(input, "text");
	struct json_object *assistant = blockutil_field(input, "assistant");
	struct json_object *words = NULL;
	long long mn = blockutil_cfg_int(config, "min_length", 0);
	long long mx = blockutil_cfg_int(config, "max_length", 100000);
	char *owned;
	size_t len, chars;
	const char *s;
	bool valid;

	(void)state;
	(void)ctx;
	(void)err;
	s = blockutil_text(text, &len, &owned);
	if (len == 0) {
		free(owned);
		s = blockutil_text(assistant, &len, &owned);
	}
	chars = textmetrics_length(s, len);
	valid = (long long)chars >= mn && (long long)chars <= mx;
	if (valid && json_object_object_get_ex(config, "forbidden_words", &words) &&
	    json_object_is_type(words, json_type_array)) {
		for (size_t i = 0; valid && i < json_object_array_length(words); i++) {
			struct json_object *w = json_object_array_get_idx(words, i);

			if (json_object_is_type(w, json_type_string) &&
			    contains_ci(s, len, json_object_get_string(w),
					(size_t)json_object_get_string_len(w)))
				valid = false;
		}
	}
	free(owned);
	return blockutil_output(output, "text", pass(text), "valid", json_object_new_boolean(valid),
				"assistant", pass(assistant), NULL);
}

const struct dgen_block_type validator_block = {
	BLOCKUTIL_TYPE("ValidatorBlock", "Validator", "validators",
		       "Checks the length of `text` (or `assistant` when `text` is empty) "
		       "and that it contains no forbidden word; sets `valid`"),
	.init = validator_init,
	.execute = validator_execute,
};
