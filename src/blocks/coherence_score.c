/*
 * coherence_score.c - CoherenceScore: a rough readability signal.
 *
 * coherence_score = min(1, W / S / 20): W whitespace-separated words of
 * the whole text, S the number of '.'-separated pieces that are not just
 * whitespace (textmetrics_coherence). So 20 or more words per sentence
 * scores 1. Missing, empty, or no sentence: 0. A non-string value is
 * scored on its compact JSON text.
 */
#include <stdlib.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"
#include "dgen/textmetrics.h"
#include "dgen/util.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "coherence_score", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM_FIELD("field_name", "assistant",
			      "Field holding the text to score"),
};

static int coherence_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			     struct json_object *input, struct json_object **output,
			     struct dgen_err *err)
{
	char *owned;
	size_t len;
	const char *text = blockutil_input_text(config, "field_name", "assistant", input, &len,
						&owned);
	double score = textmetrics_coherence(text, len);

	(void)state;
	(void)ctx;
	(void)err;
	free(owned);
	return blockutil_output(output, "coherence_score", dgen_json_new_double(score), NULL);
}

const struct dgen_block_type coherence_score_block = {
	BLOCKUTIL_TYPE("CoherenceScore", "Coherence Score", "metrics",
		       "Scores text in [0,1] by average sentence length: words per "
		       "'.'-separated sentence divided by 20, capped at 1"),
	.execute = coherence_execute,
};
