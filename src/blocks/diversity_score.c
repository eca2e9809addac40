/*
 * diversity_score.c - DiversityScore: how different generated texts are.
 *
 * On a list of two or more texts: the mean, over every pair (i < j), of
 * 1 - difflib.SequenceMatcher(None, text_i, text_j).ratio(), computed on
 * Unicode code points exactly as Python does (textmetrics.h). On a single
 * text: distinct words / words. Missing, null or empty: 0. List items that
 * are not strings are compared by their compact JSON text.
 */
#include <stdlib.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"
#include "dgen/textmetrics.h"
#include "dgen/util.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "diversity_score", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM_FIELD("field_name", "assistant",
			      "Field to score: a list of texts (pairwise dissimilarity) or one text "
			      "(share of distinct words)"),
};

/* Mean pairwise dissimilarity of the items; each text is turned into
 * code points once, not once per pair. A single item falls back to the
 * share of distinct words, as for a plain text. */
static double list_diversity(struct json_object *arr)
{
	size_t n = json_object_array_length(arr), pairs = 0;
	uint32_t **cp;
	size_t *len;
	double sum = 0.0;

	if (n == 0)
		return 0.0;
	if (n == 1) {
		char *owned;
		size_t l;
		const char *s = blockutil_text(json_object_array_get_idx(arr, 0), &l, &owned);
		double r = textmetrics_word_diversity(s, l);

		free(owned);
		return r;
	}
	cp = dgen_xcalloc(n, sizeof(*cp));
	len = dgen_xcalloc(n, sizeof(*len));
	for (size_t i = 0; i < n; i++) {
		char *owned;
		size_t l;
		const char *s = blockutil_text(json_object_array_get_idx(arr, i), &l, &owned);

		cp[i] = textmetrics_codepoints(s, l, &len[i]);
		free(owned);
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			sum += 1.0 - textmetrics_seq_ratio(cp[i], len[i], cp[j], len[j]);
			pairs++;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(cp[i]);
	free(cp);
	free(len);
	return sum / (double)pairs;
}

static int diversity_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			     struct json_object *input, struct json_object **output,
			     struct dgen_err *err)
{
	const char *field = blockutil_cfg_str(config, "field_name");
	struct json_object *v;
	double score = 0.0;

	(void)state;
	(void)ctx;
	(void)err;
	v = blockutil_field(input, field ? field : "assistant");
	if (v && json_object_is_type(v, json_type_array)) {
		score = list_diversity(v);
	} else if (v) {
		char *owned;
		size_t l;
		const char *s = blockutil_text(v, &l, &owned);

		score = textmetrics_word_diversity(s, l);
		free(owned);
	}
	return blockutil_output(output, "diversity_score", dgen_json_new_double(score), NULL);
}

const struct dgen_block_type diversity_score_block = {
	BLOCKUTIL_TYPE("DiversityScore", "Diversity Score", "metrics",
		       "Scores diversity in [0,1]: for a list of texts the mean pairwise "
		       "dissimilarity (1 - similarity ratio), for one text the share of "
		       "distinct words"),
	.execute = diversity_execute,
};
