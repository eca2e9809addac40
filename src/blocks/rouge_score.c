/*
 * rouge_score.c - RougeScore: ROUGE F-measure of a generated text against
 * a reference, with the tokenizer and stemmer of Google's rouge_score
 * package (use_stemmer=True), so numbers match what Python users see.
 * rouge1/rouge2 count clipped unigram/bigram overlap; rougeL uses the
 * longest common subsequence of tokens (textmetrics_rouge).
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"
#include "dgen/textmetrics.h"
#include "dgen/util.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "rouge_score", NULL };
static const char *const rouge_types[] = { "rouge1", "rouge2", "rougeL", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM_FIELD("generated_field", "assistant",
			      "Field holding the generated text"),
	BLOCKUTIL_PARAM_FIELD("reference_field", "reference",
			      "Field holding the reference text"),
	BLOCKUTIL_PARAM_ENUM("rouge_type", "\"rouge1\"", rouge_types,
			     "rouge1 (words), rouge2 (word pairs) or rougeL (longest common "
			     "subsequence)"),
};

static int rouge_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			 struct json_object *input, struct json_object **output,
			 struct dgen_err *err)
{
	const char *rt = blockutil_cfg_str(config, "rouge_type");
	enum textmetrics_rouge type = TEXTMETRICS_ROUGE1;
	struct textmetrics_prf prf;
	char *gown, *rown;
	size_t gl, rl;
	const char *g, *r;

	(void)state;
	(void)ctx;
	(void)err;
	if (rt && strcmp(rt, "rouge2") == 0)
		type = TEXTMETRICS_ROUGE2;
	else if (rt && strcmp(rt, "rougeL") == 0)
		type = TEXTMETRICS_ROUGEL;
	g = blockutil_input_text(config, "generated_field", "assistant", input, &gl, &gown);
	r = blockutil_input_text(config, "reference_field", "reference", input, &rl, &rown);
	textmetrics_rouge(g, gl, r, rl, type, &prf);
	free(gown);
	free(rown);
	return blockutil_output(output, "rouge_score", dgen_json_new_double(prf.fmeasure), NULL);
}

const struct dgen_block_type rouge_score_block = {
	BLOCKUTIL_TYPE("RougeScore", "ROUGE Score", "metrics",
		       "ROUGE F-measure of a generated text against a reference text "
		       "(lowercased, punctuation removed, Porter-stemmed words)"),
	.execute = rouge_execute,
};
