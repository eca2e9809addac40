/*
 * test_blocks_dgf.c - the blocks beyond the first eight (SPEC.md §10):
 * FieldMapper, StructureSampler, SemanticInfiller, DuplicateRemover,
 * RagasMetrics, LLMJudge, Sampler, NearDuplicate. Formulas against
 * hand-computed numbers, config errors as a save would see them, and whole
 * runs through the execution environment against tests/mock-llm, whose
 * replies (and embeddings) are deterministic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockctx.h"
#include "dgen/blockutil.h"
#include "dgen/config.h"
#include "dgen/embed.h"
#include "dgen/exec.h"
#include "dgen/jobstate.h"
#include "dgen/minhash.h"
#include "dgen/ragas_score.h"
#include "blocks_test.h"
#include "mock-llm/mock.h"

static struct mock M;
static struct dgen_config CFG;
static struct dgen_exec *X;
static struct dgen_llm_handle *H;

/* Runs t in a context of the environment (LLM, embeddings, model lookup). */
static struct json_object *run_ctx(const struct dgen_block_type *t, const char *cfg,
				   const char *state, struct dgen_block_ctx *ctx, struct dgen_err *e)
{
	struct dgen_block_ctx c = exec_block_ctx(X, H, NULL, 0);

	return bt_run(t, cfg, state, ctx ? ctx : &c, e);
}

static double num_at(struct json_object *o, const char *path)
{
	struct json_object *v = blockutil_field(o, path);

	return v ? json_object_get_double(v) : -1;
}

static void test_config_errors(void)
{
	bt_init_error(&field_mapper_block, "{}", "mappings", "mappings is required");
	bt_init_error(&field_mapper_block, "{\"mappings\":{\"a\":\"{{ x \"}}", "mappings.a",
			  "a mapping that does not compile");
	bt_init_error(&field_mapper_block, "{\"mappings\":{\"a\":3}}", "mappings.a",
			  "a mapping that is not a template");
	bt_init_error(&sampler_block, "{\"columns\":{\"c\":{\"type\":\"category\",\"values\":"
			  "[\"a\",\"b\"],\"weights\":[0,0]}}}", "columns.c.weights",
			  "weights summing to zero");
	bt_init_error(&sampler_block, "{\"columns\":{\"c\":{\"type\":\"category\",\"values\":"
			  "[\"a\",\"b\"],\"weights\":[1,-2]}}}", "columns.c.weights",
			  "a negative weight");
	bt_init_error(&sampler_block, "{\"columns\":{\"c\":{\"type\":\"category\",\"values\":[]}}}",
			  "columns.c.values", "no values");
	bt_init_error(&sampler_block, "{\"columns\":{\"n\":{\"type\":\"uniform\",\"min\":5,\"max\":1}}}",
			  "columns.n.min", "min above max");
	bt_init_error(&sampler_block, "{\"columns\":{\"d\":{\"type\":\"date\",\"start\":"
			  "\"2024-02-30\",\"end\":\"2024-03-01\"}}}", "columns.d.start", "not a date");
	bt_init_error(&sampler_block, "{\"columns\":{\"c\":{\"type\":\"conditional\",\"on\":\"c\","
			  "\"choices\":{\"x\":{\"values\":[1]}}}}}", "columns.c.on",
			  "a conditional on itself");
	bt_init_error(&sampler_block, "{\"columns\":{\"c\":{\"type\":\"poisson\"}}}",
			  "columns.c.type", "an unknown column type");
	bt_init_error(&structure_sampler_block, "{\"target_count\":3,\"categorical_fields\":"
			  "[\"a\",\"b\"],\"dependencies\":{\"a\":[\"b\"],\"b\":[\"a\"]}}", "dependencies",
			  "a dependency cycle");
	bt_init_error(&structure_sampler_block, "{\"target_count\":3,\"categorical_fields\":"
			  "[\"a\"],\"dependencies\":{\"a\":[\"zzz\"]}}", "dependencies.a",
			  "a parent that is not a categorical field");
	bt_init_error(&structure_sampler_block, "{\"target_count\":0}", "target_count",
			  "a target_count of 0");
	bt_init_error(&llm_judge_block, "{\"rubric\":{\"criteria\":\"helpful\"}}", "rubric.scale",
			  "a rubric with no scale");
	bt_init_error(&llm_judge_block, "{\"rubric\":{\"scale\":5}}", "rubric.criteria",
			  "a rubric with no criteria");
	bt_init_error(&llm_judge_block, "{\"rubric\":{\"criteria\":\"x\",\"scale\":5},"
			  "\"pass_score\":6}", "pass_score", "a pass_score off the scale");
	bt_init_error(&semantic_infiller_block, "{\"fields_to_generate\":[]}",
			  "fields_to_generate", "nothing to generate");
	bt_init_error(&semantic_infiller_block, "{\"fields_to_generate\":[\"a\"],"
			  "\"diversity_threshold\":1.5}", "diversity_threshold", "a threshold above 1");
	bt_init_error(&duplicate_remover_block, "{\"similarity_threshold\":-0.1}",
			  "similarity_threshold", "a negative threshold");
	bt_init_error(&ragas_metrics_block, "{\"metrics\":[\"bleu\"]}", "metrics",
			  "an unknown metric");
	bt_init_error(&ragas_metrics_block, "{\"metrics\":[]}", "metrics", "no metric");
	bt_init_error(&near_duplicate_block, "{\"threshold\":0}", "threshold", "a zero threshold");
	bt_init_error(&near_duplicate_block, "{\"num_perm\":4}", "num_perm", "too short a signature");
}

static void test_field_mapper(void)
{
	is_json(&field_mapper_block,
		"{\"mappings\":{\"q\":\"{{ g.qa.q }}\",\"n\":\"{{ g.n + 1 }}\",\"l\":\"{{ g.l | tojson }}\"}}",
		"{\"g\":{\"qa\":{\"q\":\"Why?\"},\"n\":4,\"l\":[1,\"a\"]}}",
		"{\"q\":\"Why?\",\"n\":5,\"l\":[1,\"a\"]}",
		"FieldMapper: JSON results are stored parsed, text as text");
	is_json(&field_mapper_block, "{\"mappings\":\"{\\\"a\\\": \\\"{{ '{{' }} x {{ '}}' }}\\\"}\"}",
		"{\"x\":\"hi\"}", "{\"a\":\"hi\"}",
		"FieldMapper: mappings given as a template rendering to the object");
	is_json(&field_mapper_block, "{\"mappings\":{\"a\":\"{{ nope }}\"}}", "{}",
		"ERROR: mappings.a: undefined variable in template: 'nope' is undefined",
		"FieldMapper: an undefined variable is a block error naming the mapping");
}

static void test_sampler(void)
{
	static const char cfg[] =
		"{\"seed\":7,\"columns\":{"
		"\"tier\":{\"type\":\"category\",\"values\":[\"free\",\"pro\",\"never\"],\"weights\":[1,1,0]},"
		"\"age\":{\"type\":\"integer\",\"min\":18,\"max\":20},"
		"\"x\":{\"type\":\"uniform\",\"min\":2,\"max\":3},"
		"\"s\":{\"type\":\"normal\",\"mean\":0,\"std\":1,\"min\":-0.5,\"max\":0.5},"
		"\"day\":{\"type\":\"date\",\"start\":\"2024-02-28\",\"end\":\"2024-03-01\"},"
		"\"plan\":{\"type\":\"conditional\",\"on\":\"tier\",\"choices\":{"
		"\"free\":{\"values\":[\"basic\"]},\"pro\":{\"values\":[\"team\"]}}}}}";
	struct dgen_block_ctx c = { 0 };
	int seen_free = 0, seen_pro = 0, bad = 0, same = 1;

	for (int u = 0; u < 200; u++) {
		struct dgen_err e = DGEN_ERR_INIT;
		struct json_object *o, *o2;
		const char *tier, *plan, *day;
		double age, x, s;

		c.unit = u;
		o = bt_run(&sampler_block, cfg, "{\"k\":1}", &c, &e);
		o2 = bt_run(&sampler_block, cfg, "{\"k\":1}", &c, &e);
		if (!o || !o2) {
			bad++;
			json_object_put(o);
			json_object_put(o2);
			continue;
		}
		same &= strcmp(dgen_json_compact(o), dgen_json_compact(o2)) == 0;
		tier = json_object_get_string(blockutil_field(o, "tier"));
		plan = json_object_get_string(blockutil_field(o, "plan"));
		day = json_object_get_string(blockutil_field(o, "day"));
		age = num_at(o, "age");
		x = num_at(o, "x");
		s = num_at(o, "s");
		seen_free += strcmp(tier, "free") == 0;
		seen_pro += strcmp(tier, "pro") == 0;
		if (strcmp(tier, "never") == 0 || (strcmp(tier, "free") == 0) != (strcmp(plan, "basic") == 0) ||
		    age < 18 || age > 20 || age != floor(age) || x < 2 || x >= 3 || s < -0.5 || s > 0.5 ||
		    !(strcmp(day, "2024-02-28") == 0 || strcmp(day, "2024-02-29") == 0 ||
		      strcmp(day, "2024-03-01") == 0))
			bad++;
		json_object_put(o);
		json_object_put(o2);
	}
	is_int(bad, 0, "Sampler: 200 units draw within every column's bounds, a zero weight never, "
	       "the conditional column follows its parent");
	ok(seen_free > 70 && seen_pro > 70, "Sampler: equal weights give both values (%d / %d)",
	   seen_free, seen_pro);
	ok(same, "Sampler: the same unit draws the same values again (reproducible after a restart)");
	{
		struct dgen_err e = DGEN_ERR_INIT;
		struct json_object *a, *b;

		c.unit = 1;
		a = bt_run(&sampler_block, cfg, "{\"k\":1}", &c, &e);
		c.unit = 2;
		b = bt_run(&sampler_block, cfg, "{\"k\":1}", &c, &e);
		ok(a && b && strcmp(dgen_json_compact(a), dgen_json_compact(b)) != 0,
		   "Sampler: two repetitions of one seed draw differently");
		json_object_put(a);
		json_object_put(b);
	}
}

static const char SAMPLES[] =
	"{\"target_count\":200,\"samples\":["
	"{\"plan\":\"free\",\"role\":\"student\",\"storage\":1},"
	"{\"plan\":\"free\",\"role\":\"student\",\"storage\":3},"
	"{\"plan\":\"free\",\"role\":\"hobbyist\",\"storage\":2},"
	"{\"plan\":\"pro\",\"role\":\"developer\",\"storage\":\"50\"},"
	"{\"plan\":\"pro\",\"role\":\"developer\",\"storage\":40}]}";

static void test_structure_sampler(void)
{
	static const char cfg[] = "{\"target_count\":\"{{ target_count }}\",\"categorical_fields\":"
				  "[\"plan\",\"role\"],\"numeric_fields\":[\"storage\"],"
				  "\"dependencies\":{\"role\":[\"plan\"]},\"seed\":1}";
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *o = bt_run(&structure_sampler_block, cfg, SAMPLES, NULL, &e);
	struct json_object *sk = blockutil_field(o, "skeletons");
	int bad = 0, free_n = 0;

	is_int(sk ? (long long)json_object_array_length(sk) : -1, 200,
	       "StructureSampler: target_count rendered from the state (%s)", e.msg);
	for (size_t i = 0; sk && i < json_object_array_length(sk); i++) {
		struct json_object *s = json_object_array_get_idx(sk, i);
		const char *plan = json_object_get_string(blockutil_field(s, "plan"));
		const char *role = json_object_get_string(blockutil_field(s, "role"));
		struct json_object *r = blockutil_field(s, "_hints.storage_range");
		struct json_object *ex = blockutil_field(s, "_hints.exemplars");

		free_n += strcmp(plan, "free") == 0;
		/* role depends on plan: never a free developer or a pro student */
		if ((strcmp(plan, "free") == 0 && strcmp(role, "developer") == 0) ||
		    (strcmp(plan, "pro") == 0 && strcmp(role, "developer") != 0))
			bad++;
		if (!r || json_object_get_double(json_object_array_get_idx(r, 0)) != 1 ||
		    json_object_get_double(json_object_array_get_idx(r, 1)) != 50)
			bad++;
		for (size_t k = 0; ex && k < json_object_array_length(ex); k++)
			if (strcmp(json_object_get_string(blockutil_field(json_object_array_get_idx(ex, k), "role")), role))
				bad++; /* 5 samples, all exemplars: they match the skeleton */
	}
	is_int(bad, 0, "StructureSampler: roles follow plans, storage_range is [1, 50] (\"50\" counts), "
	       "exemplars match the skeleton");
	ok(free_n > 90 && free_n < 150, "StructureSampler: plan frequencies follow the samples "
	   "(free %d of 200, expected about 120)", free_n);
	ok(json_object_array_length(blockutil_field(o, "_seed_samples")) == 5,
	   "StructureSampler: the samples are kept as _seed_samples");
	json_object_put(o);
	is_json(&structure_sampler_block, "{\"target_count\":2}", "{\"samples\":[]}",
		"ERROR: No samples provided in metadata", "StructureSampler: no samples");
	is_json(&structure_sampler_block, "{\"target_count\":\"{{ n }}\"}",
		"{\"n\":\"many\",\"samples\":[{\"a\":1}]}",
		"ERROR: target_count must be an integer from 1 to 100000",
		"StructureSampler: a target_count template that is no number");
	dgen_err_clear(&e);
}

static void test_formulas(void)
{
	static const int v1[] = { 1, 0, 1 }, v2[] = { 0, 1 }, v3[] = { 0, 0 };
	static const double q[] = { 1, 0 }, g[] = { 1, 0, 0, 1, -1, 0 };
	uint32_t a[128], b[128];
	const char *t1 = "the cat sat on the mat with a hat", *t2 = "the cat sat on the mat with a bat";

	is_dbl(ragas_share(v1, 3), 2.0 / 3.0, 1e-12, "faithfulness: 2 of 3 statements supported");
	is_dbl(ragas_share(NULL, 0), 0, 0, "faithfulness: no statements scores 0");
	/* AP of [1,0,1] = (1/1 + 2/3) / 2 */
	is_dbl(ragas_average_precision(v1, 3), (1.0 + 2.0 / 3.0) / 2.0, 1e-12,
	       "context_precision: average precision of [1,0,1]");
	is_dbl(ragas_average_precision(v2, 2), 0.5, 1e-12, "context_precision: [0,1] is 1/2");
	is_dbl(ragas_average_precision(v3, 2), 0, 0, "context_precision: nothing useful is 0");
	is_dbl(ragas_answer_relevancy(q, g, 2, 2, false), 0.5, 1e-12,
	       "answer_relevancy: mean cosine of (1,0) to (1,0) and (0,1)");
	is_dbl(ragas_answer_relevancy(q, g + 4, 1, 2, false), 0, 0,
	       "answer_relevancy: a negative mean clamps to 0");
	is_dbl(ragas_answer_relevancy(q, g, 2, 2, true), 0, 0, "answer_relevancy: noncommittal is 0");
	minhash_signature(t1, strlen(t1), 1, a, 128);
	minhash_signature(t1, strlen(t1), 1, b, 128);
	is_dbl(minhash_similarity(a, b, 128), 1, 0, "MinHash: equal texts, equal signatures");
	minhash_signature(t2, strlen(t2), 1, b, 128);
	/* word sets: 8 distinct each, 7 shared: Jaccard 7/9 */
	is_dbl(minhash_jaccard_exact(t1, strlen(t1), t2, strlen(t2), 1), 7.0 / 9.0, 1e-12,
	       "MinHash: exact Jaccard of the word sets");
	ok(fabs(minhash_similarity(a, b, 128) - 7.0 / 9.0) < 0.15,
	   "MinHash: the signature estimates it (%.3f)", minhash_similarity(a, b, 128));
	is_int(minhash_signature("  ,.;  ", 7, 3, a, 16), 0, "MinHash: a text without words");
	is_int(minhash_bands_for(128, 0.8), 16, "LSH: 16 bands of 8 rows for a threshold of 0.8");
}

static void test_near_duplicate(void)
{
	struct dgen_jobstate_mem *m = jobstate_mem_new();
	struct dgen_block_ctx c = { 0 };
	static const char cfg[] = "{\"field\":\"text\",\"threshold\":0.7}";
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *o;

	is_json(&near_duplicate_block, cfg, "{\"text\":\"one two three four\"}",
		"{\"is_duplicate\":false,\"duplicate_of\":null,\"duplicate_of_unit\":null,"
		"\"duplicate_similarity\":0.0,\"duplicate_scope\":\"execution\"}",
		"NearDuplicate without job state: compared within the execution, and says so");
	is_json(&near_duplicate_block, cfg, "{\"other\":1}",
		"ERROR: the field to compare, 'text', is missing", "NearDuplicate: a missing field");
	c.jobstate = &jobstate_mem_ops;
	c.jobstate_arg = m;
	c.unit = 0;
	o = bt_run(&near_duplicate_block, cfg, "{\"text\":\"the quick brown fox jumps over the lazy dog\"}", &c, &e);
	ok(o && !json_object_get_boolean(blockutil_field(o, "is_duplicate")), "the first record is no duplicate");
	json_object_put(o);
	c.unit = 1;
	o = bt_run(&near_duplicate_block, cfg, "{\"text\":\"an unrelated sentence about gardening in spring\"}", &c, &e);
	ok(o && !json_object_get_boolean(blockutil_field(o, "is_duplicate")), "an unrelated one neither");
	json_object_put(o);
	c.unit = 2;
	o = bt_run(&near_duplicate_block, cfg, "{\"text\":\"The quick brown fox jumps over the lazy dog!\"}", &c, &e);
	ok(o && json_object_get_boolean(blockutil_field(o, "is_duplicate")) &&
	   json_object_get_int64(blockutil_field(o, "duplicate_of_unit")) == 0 &&
	   num_at(o, "duplicate_similarity") == 1.0,
	   "the same words again (case, punctuation) duplicate unit 0 with similarity 1");
	json_object_put(o);
	jobstate_mem_free(m);
	dgen_err_clear(&e);
}

static void test_embeddings(void)
{
	struct dgen_embed_client *c = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_llm_usage u = { 0 };
	const char *texts[] = { "the cat sat on the mat", "the cat sat on a mat", "quarterly tax report" };
	double *v = NULL, n0 = 0;
	size_t dim = 0;
	char ep[96];

	ok(embed_client_new(&CFG, &c, &e) == 0, "embeddings client from the LLM settings (%s)", e.msg);
	snprintf(ep, sizeof ep, "%s/v1/embeddings", M.url);
	is_str(c ? embed_client_endpoint(c) : "", ep, "the endpoint defaults to LLM_ENDPOINT's host");
	ok(c && embed_call(c, NULL, texts, 3, NULL, 0, &v, &dim, &u, &e) == 0 && dim == 64,
	   "three texts embedded in 64 dimensions (%s)", e.msg);
	for (size_t i = 0; v && i < dim; i++)
		n0 += v[i] * v[i];
	is_dbl(n0, 1, 1e-4, "vectors are normalised");
	ok(v && embed_cosine(v, v + dim, dim) > embed_cosine(v, v + 2 * dim, dim) + 0.3,
	   "similar texts get closer vectors (%.3f vs %.3f)", v ? embed_cosine(v, v + dim, dim) : 0,
	   v ? embed_cosine(v, v + 2 * dim, dim) : 0);
	ok(u.input_tokens > 0, "usage counts the input tokens (%lld)", (long long)u.input_tokens);
	free(v);
	embed_client_free(c);
	{
		struct dgen_config cfg = CFG;

		cfg.embedding_dimensions = 32;
		embed_client_new(&cfg, &c, &e);
		ok(embed_call(c, NULL, texts, 1, NULL, 0, &v, &dim, &u, &e) != 0 && e.code == DGEN_ELLM &&
		   strstr(e.msg, "dimension 64, expected 32"), "an embedding of the wrong dimension: %s", e.msg);
		embed_client_free(c);
		dgen_err_clear(&e);
		cfg.embedding_dimensions = 0;
		snprintf(ep, sizeof ep, "%s/api/embed", M.url);
		cfg.embedding_endpoint = ep;
		ok(embed_client_new(&cfg, &c, &e) == 0 && embed_client_provider(c) == DGEN_LLM_OLLAMA &&
		   embed_call(c, NULL, texts, 2, NULL, 0, &v, &dim, &u, &e) == 0 && dim == 64,
		   "Ollama's /api/embed (%s)", e.msg);
		free(v);
		embed_client_free(c);
		snprintf(ep, sizeof ep, "%s/v1beta/openai/embeddings", M.url);
		cfg.embedding_provider = (char *)"gemini";
		ok(embed_client_new(&cfg, &c, &e) == 0 &&
		   embed_call(c, NULL, texts, 2, NULL, 0, &v, &dim, &u, &e) == 0 && dim == 64,
		   "Gemini's OpenAI-compatible embeddings (%s)", e.msg);
		free(v);
		embed_client_free(c);
		cfg.embedding_provider = (char *)"anthropic";
		ok(embed_client_new(&cfg, &c, &e) != 0 && e.code == DGEN_EINVALID,
		   "EMBEDDING_PROVIDER anthropic is refused: %s", e.msg);
		dgen_err_clear(&e);
	}
	{
		static const char bad[] = "{\"data\":[{\"embedding\":[1,\"x\"]}]}";

		ok(embed_parse(DGEN_LLM_OPENAI, bad, strlen(bad), 1, 0, &v, &dim, NULL, &e) != 0 &&
		   e.code == DGEN_ELLM, "a vector holding a string is malformed: %s", e.msg);
		dgen_err_clear(&e);
		ok(embed_parse(DGEN_LLM_OPENAI, "{\"data\":[]}", 11, 2, 0, &v, &dim, NULL, &e) != 0,
		   "too few vectors: %s", e.msg);
		dgen_err_clear(&e);
	}
}

static void test_llm_blocks(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_llm_usage use = { 0 };
	struct dgen_block_ctx c = exec_block_ctx(X, H, NULL, 0);
	struct json_object *o;

	c.usage = &use;
	/* The mock answers the schema's score (integer 1..5) with its midpoint. */
	o = run_ctx(&llm_judge_block, "{\"rubric\":{\"criteria\":[\"correct\",\"concise\"],\"scale\":5},"
		    "\"field\":\"answer\",\"reference_field\":\"ref\"}",
		    "{\"answer\":\"Paris\",\"ref\":\"Paris\"}", &c, &e);
	ok(o && num_at(o, "judge_score") == 3 && json_object_get_boolean(blockutil_field(o, "judge_passed")) &&
	   json_object_is_type(blockutil_field(o, "judge_score"), json_type_int),
	   "LLMJudge: numeric judge_score 3 of 5 passes the default pass_score 3 (%s)", e.msg);
	ok(use.input_tokens > 0, "LLMJudge: usage is counted");
	json_object_put(o);
	o = run_ctx(&llm_judge_block, "{\"rubric\":{\"criteria\":\"x\",\"scale\":5},\"pass_score\":4}",
		    "{\"assistant\":\"text\"}", NULL, &e);
	ok(o && !json_object_get_boolean(blockutil_field(o, "judge_passed")), "LLMJudge: 3 < pass_score 4 fails");
	json_object_put(o);
	o = run_ctx(&llm_judge_block, "{\"rubric\":{\"criteria\":\"x\",\"scale\":5},\"field\":\"nope\"}",
		    "{\"assistant\":\"text\"}", NULL, &e);
	ok(!o && strstr(e.msg, "'nope'"), "LLMJudge: a missing field is named: %s", e.msg);
	dgen_err_clear(&e);

	/* RAGAS against the mock: enum verdicts come back as their first value (1). */
	o = run_ctx(&ragas_metrics_block,
		    "{\"metrics\":[\"faithfulness\",\"answer_relevancy\",\"context_precision\",\"context_recall\"]}",
		    "{\"question\":\"What is the capital of France?\",\"answer\":\"Paris.\","
		    "\"contexts\":[\"Paris is the capital of France.\",\"Lyon is a city.\"],\"ground_truth\":\"Paris\"}",
		    NULL, &e);
	ok(o && num_at(o, "ragas_scores.faithfulness") == 1 && num_at(o, "ragas_scores.context_precision") == 1 &&
	   num_at(o, "ragas_scores.context_recall") == 1 && num_at(o, "ragas_scores.answer_relevancy") > 0 &&
	   num_at(o, "ragas_scores.answer_relevancy") < 1,
	   "RagasMetrics: the four metrics from the mock's verdicts and embeddings (%s)",
	   o ? dgen_json_compact(o) : e.msg);
	ok(o && json_object_get_boolean(blockutil_field(o, "ragas_scores.passed")) ==
		(num_at(o, "ragas_scores.answer_relevancy") >= 0.5),
	   "RagasMetrics: passed needs every non-zero score >= 0.5");
	json_object_put(o);
	o = run_ctx(&ragas_metrics_block, "{\"metrics\":[\"context_recall\"]}",
		    "{\"question\":\"q?\",\"answer\":\"a\",\"contexts\":\"[\\\"c\\\"]\"}", NULL, &e);
	ok(!o && strstr(e.msg, "'ground_truth'"), "RagasMetrics: context_recall without a ground truth: %s",
	   e.msg);
	dgen_err_clear(&e);

	/* SemanticInfiller + DuplicateRemover over two skeletons */
	o = run_ctx(&semantic_infiller_block, "{\"fields_to_generate\":[\"bio\"],\"max_diversity_retries\":1}",
		    "{\"skeletons\":[{\"plan\":\"free\",\"_hints\":{\"storage_range\":[1,5]}},{\"plan\":\"pro\"}]}",
		    NULL, &e);
	ok(o && json_object_array_length(blockutil_field(o, "samples")) == 2 &&
	   strcmp(json_object_get_string(blockutil_field(o, "samples.1.plan")), "pro") == 0 &&
	   json_object_is_type(blockutil_field(o, "samples.0.bio"), json_type_string) &&
	   !blockutil_field(o, "samples.0._hints"),
	   "SemanticInfiller: one sample per skeleton, fixed fields kept, hints left out (%s)", e.msg);
	json_object_put(o);
	o = run_ctx(&duplicate_remover_block, "{\"comparison_fields\":[\"bio\"]}",
		    "{\"samples\":[{\"bio\":\"alpha beta gamma\",\"_x\":1},{\"bio\":\"alpha beta gamma\"},"
		    "{\"bio\":\"tax report for the third quarter\"}],"
		    "\"_seed_samples\":[{\"bio\":\"tax report for the third quarter\"}]}", NULL, &e);
	ok(o && num_at(o, "generated_samples.0.similarity_to_generated") == 1 &&
	   json_object_get_boolean(blockutil_field(o, "generated_samples.0.is_duplicate")) &&
	   num_at(o, "generated_samples.2.similarity_to_seeds") == 1 &&
	   num_at(o, "generated_samples.0.similarity_to_seeds") < 0.85 &&
	   !blockutil_field(o, "generated_samples.0._x"),
	   "DuplicateRemover: equal samples and a copy of a seed are duplicates, _ keys dropped (%s)",
	   o ? dgen_json_compact(o) : e.msg);
	json_object_put(o);
	o = run_ctx(&duplicate_remover_block, "{\"comparison_fields\":[\"bio\"]}",
		    "{\"samples\":[{\"name\":\"x\"}]}", NULL, &e);
	ok(!o && strstr(e.msg, "'bio'"), "DuplicateRemover: a comparison field missing: %s", e.msg);
	dgen_err_clear(&e);
}

/* A reply that is not JSON is a block error, not a silent raw string. */
static void test_not_json(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *o;

	o = blockctx_reply_object("Sure! {\"a\": {\"b\": 1}} hope that helps");
	ok(o && num_at(o, "a.b") == 1, "a reply's first {...} span is read");
	json_object_put(o);
	ok(blockctx_reply_object("no json here") == NULL, "a reply without JSON gives nothing");
	dgen_err_clear(&e);
}

int main(void)
{
	struct dgen_err e = DGEN_ERR_INIT;

	test_config_errors();
	test_field_mapper();
	test_sampler();
	test_structure_sampler();
	test_formulas();
	test_near_duplicate();
	test_not_json();
	if (ok(mock_start(&M, NULL) == 0, "mock LLM started")) {
		char ep[96];

		snprintf(ep, sizeof ep, "%s/v1/chat/completions", M.url);
		setenv("LLM_ENDPOINT", ep, 1);
		setenv("LLM_MAX_RETRIES", "0", 1);
		setenv("DGEN_CONFIG", "/dev/null", 1);
		if (ok(dgen_config_load(&CFG, "/dev/null", &e) == 0, "configuration (%s)", e.msg)) {
			X = exec_new(&CFG, blocks_registry());
			H = exec_handle_new(X, &e);
			test_embeddings();
			test_llm_blocks();
			exec_handle_free(H);
			exec_free(X);
			dgen_config_free(&CFG);
		}
		mock_stop(&M);
	}
	dgen_err_clear(&e);
	return done_testing();
}
