/*
 * test_blocks_metrics.c - DiversityScore, CoherenceScore and RougeScore as
 * a pipeline runs them (state in, output object out), and the builtin
 * list with its config tables.
 */
#include <stdlib.h>

#include "blocks_test.h"

static void test_table(void)
{
	size_t n;
	const struct dgen_block_type *const *b = blocks_builtin(&n);
	size_t bad = 0;

	ok(n >= 6, "at least the six non-LLM builtin types are listed (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		const struct dgen_block_type *t = b[i];

		if (t->abi != DGEN_BLOCK_ABI || !t->type || !t->name || !t->description ||
		    !t->category || !t->inputs || !t->outputs || !t->execute) {
			diag("%s: incomplete type", t->type);
			bad++;
		}
		for (size_t k = 0; k < t->n_params; k++) {
			const struct dgen_block_param *p = &t->params[k];
			struct json_object *d = p->default_json ? json_tokener_parse(p->default_json)
								: NULL;

			if (p->default_json && !d && strcmp(p->default_json, "null") != 0) {
				diag("%s.%s: default is not JSON", t->type, p->name);
				bad++;
			}
			if (p->enum_values && d) {
				bool found = false;

				for (size_t e = 0; p->enum_values[e]; e++)
					found |= strcmp(p->enum_values[e], json_object_get_string(d)) == 0;
				if (!found) {
					diag("%s.%s: default not in enum", t->type, p->name);
					bad++;
				}
			}
			if (!p->description) {
				diag("%s.%s: no description", t->type, p->name);
				bad++;
			}
			json_object_put(d);
		}
	}
	is_int(bad, 0, "every type and parameter is complete and its default well-formed");
	is_str(b[7]->type, "RougeScore", "RougeScore is listed last of the first eight");
	is_str(b[6]->type, "CoherenceScore", "CoherenceScore before it");
	is_str(b[5]->type, "DiversityScore", "DiversityScore before it");
}

static void test_diversity(void)
{
	const struct dgen_block_type *t = &diversity_score_block;

	/* one pair: ratio(abcd, bcde) = 0.75 -> 1 - 0.75 = 0.25 */
	is_dbl(bt_num(t, NULL, "{\"assistant\":[\"abcd\",\"bcde\"]}", "diversity_score"), 0.25,
	       1e-12, "pair abcd/bcde: 0.25");
	/* three texts: pairs (abcd,bcde) 0.25, (abcd,abcd) 0, (bcde,abcd) 0.25:
	 * mean 0.5/3 */
	is_dbl(bt_num(t, NULL, "{\"assistant\":[\"abcd\",\"bcde\",\"abcd\"]}", "diversity_score"),
	       0.5 / 3.0, 1e-12, "mean over the three pairs");
	/* totally different: ratio 0 -> 1 */
	is_dbl(bt_num(t, NULL, "{\"assistant\":[\"aaa\",\"bbb\"]}", "diversity_score"), 1.0, 1e-12,
	       "disjoint texts: 1");
	/* one string: 4 distinct of 5 words */
	is_dbl(bt_num(t, "{\"field_name\":\"text\"}", "{\"text\":\"the cat and the hat\"}",
		      "diversity_score"),
	       0.8, 1e-12, "one text: distinct words / words, field_name honoured");
	is_dbl(bt_num(t, NULL, "{\"assistant\":[\"only one text here\"]}", "diversity_score"), 1.0,
	       1e-12, "a list of one text scores its words");
	is_dbl(bt_num(t, NULL, "{}", "diversity_score"), 0.0, 1e-12, "missing field: 0");
	is_dbl(bt_num(t, NULL, "{\"assistant\":\"\"}", "diversity_score"), 0.0, 1e-12,
	       "empty text: 0");
	is_dbl(bt_num(t, NULL, "{\"assistant\":[]}", "diversity_score"), 0.0, 1e-12,
	       "empty list: 0");
	/* non-strings compared as JSON text: [1,2] vs [1,3]: "[1,2]"/"[1,3]"
	 * share "[1," and "]": M = 4, 8/10 -> 1 - 0.8 = 0.2 */
	is_dbl(bt_num(t, NULL, "{\"assistant\":[[1,2],[1,3]]}", "diversity_score"), 0.2, 1e-12,
	       "non-string items compared by their JSON text");
	/* a dotted field reference */
	is_dbl(bt_num(t, "{\"field_name\":\"generated.items\"}",
		      "{\"generated\":{\"items\":[\"abcd\",\"bcde\"]}}", "diversity_score"),
	       0.25, 1e-12, "dotted field path");
}

static void test_coherence(void)
{
	const struct dgen_block_type *t = &coherence_score_block;

	/* 5 words / 2 sentences / 20 */
	is_dbl(bt_num(t, NULL, "{\"assistant\":\"One two three. Four five.\"}", "coherence_score"),
	       0.125, 1e-12, "coherence 0.125");
	is_dbl(bt_num(t, "{\"field_name\":\"x\"}", "{\"x\":\"Hello world\"}", "coherence_score"),
	       0.1, 1e-12, "field_name honoured, no period = one sentence");
	is_dbl(bt_num(t, NULL, "{\"assistant\":\"\"}", "coherence_score"), 0.0, 1e-12,
	       "empty: 0");
	is_dbl(bt_num(t, NULL, "{\"assistant\":null}", "coherence_score"), 0.0, 1e-12, "null: 0");
	{
		/* 9 words in one sentence: 9 / 20 = 0.45, printed as a person writes it
		 * (json-c alone would print 0.45000000000000001 into every export) */
		char *j = bt_json(t, NULL, "{\"assistant\":\"one two three four five six seven eight nine\"}");

		is_str(j, "{\"coherence_score\":0.45}", "scores print in their shortest form");
		free(j);
	}
}

static void test_rouge(void)
{
	const struct dgen_block_type *t = &rouge_score_block;
	const char *st = "{\"assistant\":\"the cat sat on the mat\","
			 "\"reference\":\"the cat is on the mat\"}";

	is_dbl(bt_num(t, NULL, st, "rouge_score"), 5.0 / 6.0, 1e-12, "default rouge1: 5/6");
	is_dbl(bt_num(t, "{\"rouge_type\":\"rouge2\"}", st, "rouge_score"), 0.6, 1e-12,
	       "rouge2: 3/5");
	is_dbl(bt_num(t, "{\"rouge_type\":\"rougeL\"}", st, "rouge_score"), 5.0 / 6.0, 1e-12,
	       "rougeL: 5/6");
	is_dbl(bt_num(t, "{\"generated_field\":\"g\",\"reference_field\":\"r\"}",
		      "{\"g\":\"running dogs\",\"r\":\"the dog runs\"}", "rouge_score"),
	       0.8, 1e-12, "field references and stemming: 0.8");
	is_dbl(bt_num(t, NULL, "{\"assistant\":\"the cat\"}", "rouge_score"), 0.0, 1e-12,
	       "missing reference: 0");
	is_json(t, NULL, "{\"assistant\":\"\",\"reference\":\"x\"}", "{\"rouge_score\":0.0}",
		"output holds only rouge_score");
}

int main(void)
{
	test_table();
	test_diversity();
	test_coherence();
	test_rouge();
	return done_testing();
}
