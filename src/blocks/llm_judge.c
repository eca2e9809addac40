/*
 * llm_judge.c - LLMJudge: an LLM grades a field of the state against a
 * rubric, with structured output.
 *
 * rubric: {"criteria": "text" or ["text", ...], "scale": N (2..100),
 *          "levels": {"1": "what a 1 means", ...}?}
 * The model is asked for {"reasoning": string, "score": integer 1..N}
 * (JSON schema mode), shown the text to judge and, when reference_field
 * names a non-empty field, a reference answer. Outputs judge_score (the
 * integer), judge_reasoning and judge_passed = score >= pass_score (null
 * pass_score: the upper half of the scale, ceil((N + 1) / 2)).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockctx.h"
#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/buf.h"
#include "dgen/json.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "judge_score", "judge_reasoning", "judge_passed", NULL };

static const struct dgen_block_param params[] = {
	{ .name = "rubric", .type = DGEN_PARAM_SCHEMA, .required = true, .format = "json",
	  .description = "{\"criteria\": text or list, \"scale\": N, \"levels\": {\"1\": ..., ...}?}" },
	BLOCKUTIL_PARAM_FIELD("field", "assistant",
			      "Field holding the text to judge"),
	BLOCKUTIL_PARAM_FIELD("reference_field", "",
			      "Field holding a reference answer (optional)"),
	{ .name = "pass_score", .type = DGEN_PARAM_NUMBER, .default_json = "null", .nullable = true,
	  .description = "Least score that passes; null = the upper half of the scale" },
	BLOCKUTIL_PARAM_MODEL("model",
			      "Model name; null uses the default model"),
	BLOCKUTIL_PARAM("temperature", DGEN_PARAM_NUMBER, "0",
			"Sampling temperature (0 to 2)"),
	BLOCKUTIL_PARAM("max_tokens", DGEN_PARAM_INTEGER, "1024",
			"Most tokens the reply may have"),
};

#define SCALE_MAX 100

static long rubric_scale(struct json_object *rubric)
{
	struct json_object *s = NULL;

	if (!json_object_object_get_ex(rubric, "scale", &s) || !json_object_is_type(s, json_type_int))
		return 0;
	return (long)json_object_get_int64(s);
}

/* The rubric must say what to judge and on what scale. */
static int judge_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct json_object *r = NULL, *c = NULL, *pass = NULL;
	long scale;

	*state = NULL;
	if (blockutil_check_sampling(config, err) != 0)
		return -1;
	if (!json_object_object_get_ex(config, "rubric", &r) || !json_object_is_type(r, json_type_object))
		return blockutil_config_error(err, "rubric", "rubric is required: an object with "
					      "criteria and scale");
	if (!json_object_object_get_ex(r, "criteria", &c) ||
	    !((json_object_is_type(c, json_type_string) && json_object_get_string_len(c) > 0) ||
	      (json_object_is_type(c, json_type_array) && json_object_array_length(c) > 0)))
		return blockutil_config_error(err, "rubric.criteria", "rubric.criteria must be a "
					      "non-empty text or list of texts");
	scale = rubric_scale(r);
	if (scale < 2 || scale > SCALE_MAX)
		return blockutil_config_error(err, "rubric.scale", "rubric.scale must be an integer "
					      "from 2 to %d (the best score)", SCALE_MAX);
	if (json_object_object_get_ex(config, "pass_score", &pass) && pass &&
	    (json_object_get_double(pass) < 1 || json_object_get_double(pass) > (double)scale))
		return blockutil_config_error(err, "pass_score", "pass_score must lie within the "
					      "scale, 1 to %ld", scale);
	return 0;
}

static void put_criteria(struct dgen_buf *b, struct json_object *c)
{
	if (json_object_is_type(c, json_type_string)) {
		dgen_buf_printf(b, "- %s\n", json_object_get_string(c));
		return;
	}
	for (size_t i = 0; i < json_object_array_length(c); i++) {
		size_t len;
		char *owned;
		const char *t = blockutil_text(json_object_array_get_idx(c, i), &len, &owned);

		dgen_buf_printf(b, "- %s\n", t);
		free(owned);
	}
}

static struct json_object *reply_schema(long scale)
{
	struct json_object *s = json_object_new_object(), *p = json_object_new_object();
	struct json_object *sc = json_object_new_object(), *rs = json_object_new_object();
	struct json_object *req = json_object_new_array();

	json_object_object_add(rs, "type", json_object_new_string("string"));
	json_object_object_add(sc, "type", json_object_new_string("integer"));
	json_object_object_add(sc, "minimum", json_object_new_int(1));
	json_object_object_add(sc, "maximum", json_object_new_int64(scale));
	json_object_object_add(p, "reasoning", rs);
	json_object_object_add(p, "score", sc);
	json_object_array_add(req, json_object_new_string("reasoning"));
	json_object_array_add(req, json_object_new_string("score"));
	json_object_object_add(s, "title", json_object_new_string("judgement"));
	json_object_object_add(s, "type", json_object_new_string("object"));
	json_object_object_add(s, "properties", p);
	json_object_object_add(s, "required", req);
	json_object_object_add(s, "additionalProperties", json_object_new_boolean(0));
	return s;
}

static int judge_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			 struct json_object *input, struct json_object **output,
			 struct dgen_err *err)
{
	struct json_object *r = NULL, *c = NULL, *levels = NULL, *reply = NULL, *sv = NULL, *rv = NULL;
	struct json_object *schema, *pass = NULL;
	struct dgen_buf p = DGEN_BUF_INIT;
	const char *field = blockutil_cfg_str(config, "field");
	const char *ref = blockutil_cfg_str(config, "reference_field");
	char *town = NULL, *rown = NULL;
	size_t tl = 0, rl = 0;
	const char *text, *reftext = NULL;
	long scale;
	double score, pass_score;
	int rc = -1;

	(void)state;
	json_object_object_get_ex(config, "rubric", &r);
	json_object_object_get_ex(r, "criteria", &c);
	scale = rubric_scale(r);
	if (!field || !blockutil_field(input, field)) {
		dgen_err_set(err, DGEN_EBLOCK, "the field to judge, '%s', is missing", field ? field : "");
		dgen_err_detail_str(err, "field", field ? field : "");
		return -1;
	}
	text = blockutil_text(blockutil_field(input, field), &tl, &town);
	if (ref && *ref && blockutil_field(input, ref))
		reftext = blockutil_text(blockutil_field(input, ref), &rl, &rown);
	dgen_buf_printf(&p, "Judge the text below against these criteria:\n");
	put_criteria(&p, c);
	dgen_buf_printf(&p, "\nScore it from 1 (worst) to %ld (best).\n", scale);
	if (json_object_object_get_ex(r, "levels", &levels) &&
	    json_object_is_type(levels, json_type_object)) {
		json_object_object_foreach(levels, k, v)
			dgen_buf_printf(&p, "%s: %s\n", k, json_object_get_string(v));
	}
	if (reftext && rl)
		dgen_buf_printf(&p, "\nReference answer:\n%.*s\n", (int)rl, reftext);
	dgen_buf_printf(&p, "\nText to judge:\n%.*s\n\nAnswer as JSON: {\"reasoning\": \"...\", "
			"\"score\": <integer>}.", (int)tl, text);
	schema = reply_schema(scale);
	rc = blockctx_ask_object(ctx, config, "You are a strict, fair evaluator.", dgen_buf_str(&p),
				 blockutil_cfg_num(config, "temperature", 0),
				 (int)blockutil_cfg_int(config, "max_tokens", 1024), schema, &reply, err);
	json_object_put(schema);
	if (rc)
		goto out;
	rc = -1;
	if (!json_object_object_get_ex(reply, "score", &sv) ||
	    !(json_object_is_type(sv, json_type_int) || json_object_is_type(sv, json_type_double)) ||
	    (score = json_object_get_double(sv)) < 1 || score > (double)scale || score != floor(score)) {
		dgen_err_set(err, DGEN_EBLOCK, "the model's reply has no score from 1 to %ld", scale);
		dgen_err_detail_str(err, "field", "score");
		dgen_err_detail(err, "reply", dgen_json_copy(reply));
		goto out;
	}
	json_object_object_get_ex(reply, "reasoning", &rv);
	if (json_object_object_get_ex(config, "pass_score", &pass) && pass)
		pass_score = json_object_get_double(pass);
	else
		pass_score = ceil((double)(scale + 1) / 2.0);
	rc = blockutil_output(output, "judge_score", json_object_new_int64((int64_t)score),
			      "judge_reasoning",
			      json_object_new_string(rv && json_object_is_type(rv, json_type_string)
						     ? json_object_get_string(rv) : ""),
			      "judge_passed", json_object_new_boolean(score >= pass_score), NULL);
out:
	json_object_put(reply);
	dgen_buf_free(&p);
	free(town);
	free(rown);
	return rc;
}

const struct dgen_block_type llm_judge_block = {
	BLOCKUTIL_TYPE("LLMJudge", "LLM Judge", "metrics",
		       "An LLM scores a field against a rubric (criteria, scale 1..N), with an "
		       "optional reference: judge_score, judge_reasoning, judge_passed"),
	.init = judge_init,
	.execute = judge_execute,
};
