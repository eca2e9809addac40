/*
 * semantic_infiller.c - SemanticInfiller (DataGenFlow 1.3): an LLM fills
 * the free-text fields of each skeleton that StructureSampler drew.
 *
 * Per skeleton (its `_`-prefixed keys are internal and left out): a prompt
 * naming fields_to_generate, the skeleton's values as fixed constraints,
 * the range hints and up to 2 exemplars (only their generated fields).
 * The reply is read as JSON directly, else from a fenced block, else from
 * the first {...} span; a reply with none is a block error. Fixed fields
 * the model changed are restored. With diversity on (threshold < 1 and
 * max_diversity_retries > 0) the generated text is embedded; when its
 * cosine similarity to an earlier sample of this execution reaches the
 * threshold the skeleton is asked again, with the most similar samples as
 * negative examples and the temperature 0.1 higher per attempt; the last
 * attempt is kept either way. Output: {"samples": [...]}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockctx.h"
#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/buf.h"
#include "dgen/json.h"

static const char *const inputs[] = { "skeletons", NULL };
static const char *const outputs[] = { "samples", NULL };

#define EXEMPLARS_IN_PROMPT 2
#define DEFAULT_SYSTEM "You are a synthetic data generator that produces realistic, diverse records."

static const struct dgen_block_param params[] = {
	{ .name = "fields_to_generate", .type = DGEN_PARAM_STRING_LIST, .required = true,
	  .description = "Fields the LLM writes for each skeleton" },
	BLOCKUTIL_PARAM_MODEL("model",
			      "Model name; null uses the default model"),
	BLOCKUTIL_PARAM("temperature", DGEN_PARAM_NUMBER, "0.8",
			"Sampling temperature (0 to 2); +0.1 per diversity retry"),
	BLOCKUTIL_PARAM("max_tokens", DGEN_PARAM_INTEGER, "500",
			"Most tokens a reply may have"),
	{ .name = "system_prompt", .type = DGEN_PARAM_STRING, .default_json = "\"\"",
	  .format = "prompt",
	  .description = "System prompt; empty uses a default" },
	BLOCKUTIL_PARAM_MODEL("embedding_model",
			      "Embedding model for the diversity check; null uses the default"),
	BLOCKUTIL_PARAM("diversity_threshold", DGEN_PARAM_NUMBER, "0.85",
			"Cosine similarity at or above which a sample is asked again (1 disables)"),
	BLOCKUTIL_PARAM("negative_examples_count", DGEN_PARAM_INTEGER, "5",
			"Most similar samples shown as negative examples on a retry"),
	BLOCKUTIL_PARAM("max_diversity_retries", DGEN_PARAM_INTEGER, "2",
			"Retries per sample for diversity (0 disables)"),
};

static int si_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct json_object *f = NULL;
	double t = blockutil_cfg_num(config, "diversity_threshold", 0.85);
	long long n;

	*state = NULL;
	if (blockutil_check_sampling(config, err) != 0)
		return -1;
	if (!json_object_object_get_ex(config, "fields_to_generate", &f) ||
	    json_object_array_length(f) == 0)
		return blockutil_config_error(err, "fields_to_generate",
					      "fields_to_generate must name at least one field");
	if (!(t >= 0 && t <= 1))
		return blockutil_config_error(err, "diversity_threshold",
					      "diversity_threshold must be between 0 and 1");
	if (blockutil_cfg_count(config, "negative_examples_count", 5, &n, err) ||
	    blockutil_cfg_count(config, "max_diversity_retries", 2, &n, err))
		return -1;
	if (n > 10)
		return blockutil_config_error(err, "max_diversity_retries",
					      "max_diversity_retries must be 10 or less");
	return 0;
}

/* The generated fields of a record, as compact JSON (prompt lines). */
static void put_fields(struct dgen_buf *b, struct json_object *rec, struct json_object *fields,
		       bool only_present)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(fields, i));
		struct json_object *v = NULL;

		if (json_object_object_get_ex(rec, f, &v))
			json_object_object_add(o, f, dgen_json_copy(v));
		else if (!only_present)
			json_object_object_add(o, f, json_object_new_string(""));
	}
	dgen_buf_puts(b, dgen_json_compact(o));
	json_object_put(o);
}

static void build_prompt(struct dgen_buf *b, struct json_object *fields, struct json_object *skel,
			 struct json_object *hints, struct json_object *negatives)
{
	struct json_object *ex = NULL;
	size_t nh = 0;

	dgen_buf_puts(b, "Generate a JSON object with the fields: ");
	for (size_t i = 0; i < json_object_array_length(fields); i++)
		dgen_buf_printf(b, "%s\"%s\"", i ? ", " : "",
				json_object_get_string(json_object_array_get_idx(fields, i)));
	dgen_buf_puts(b, "\n\nCreate NEW and DIVERSE content; do not copy the examples.\n\n"
			 "CONSTRAINTS (must be kept exactly):\n");
	if (json_object_object_length(skel) == 0)
		dgen_buf_puts(b, "  (none)\n");
	json_object_object_foreach(skel, k, v) {
		char *owned;
		size_t len;
		const char *t = blockutil_text(v, &len, &owned);

		dgen_buf_printf(b, "  - %s: \"%.*s\" (FIXED)\n", k, (int)len, t);
		free(owned);
	}
	dgen_buf_puts(b, "\nHINTS (for inspiration only; create variations, not copies):\n");
	if (json_object_is_type(hints, json_type_object)) {
		json_object_object_foreach(hints, hk, hv) {
			size_t kl = strlen(hk);

			if (kl > 6 && strcmp(hk + kl - 6, "_range") == 0 &&
			    json_object_is_type(hv, json_type_array) && json_object_array_length(hv) == 2) {
				dgen_buf_printf(b, "  - %.*s should be between %s", (int)(kl - 6), hk,
						dgen_json_compact(json_object_array_get_idx(hv, 0)));
				dgen_buf_printf(b, "-%s\n", dgen_json_compact(json_object_array_get_idx(hv, 1)));
				nh++;
			}
		}
		if (json_object_object_get_ex(hints, "exemplars", &ex) &&
		    json_object_is_type(ex, json_type_array) && json_object_array_length(ex) > 0) {
			dgen_buf_puts(b, "  - Example records for reference:\n");
			for (size_t i = 0; i < json_object_array_length(ex) && i < EXEMPLARS_IN_PROMPT; i++) {
				dgen_buf_puts(b, "    ");
				put_fields(b, json_object_array_get_idx(ex, i), fields, true);
				dgen_buf_puts(b, "\n");
			}
			nh++;
		}
	}
	if (nh == 0)
		dgen_buf_puts(b, "  (none)\n");
	dgen_buf_puts(b, "\nReturn ONLY valid JSON with the requested fields, no markdown or "
			 "explanations.");
	if (negatives && json_object_array_length(negatives) > 0) {
		dgen_buf_puts(b, "\n\nIMPORTANT: your output was too similar to existing samples. Do "
				 "NOT generate content like these:\n");
		for (size_t i = 0; i < json_object_array_length(negatives); i++) {
			dgen_buf_puts(b, "  - ");
			put_fields(b, json_object_array_get_idx(negatives, i), fields, false);
			dgen_buf_puts(b, "\n");
		}
		dgen_buf_puts(b, "\nCreate something COMPLETELY DIFFERENT and UNIQUE.");
	}
}

static struct json_object *reply_schema(struct json_object *fields)
{
	struct json_object *s = json_object_new_object(), *p = json_object_new_object();
	struct json_object *req = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(fields, i));
		struct json_object *fs = json_object_new_object(), *ty = json_object_new_array();

		json_object_array_add(ty, json_object_new_string("string"));
		json_object_array_add(ty, json_object_new_string("number"));
		json_object_array_add(ty, json_object_new_string("integer"));
		json_object_array_add(ty, json_object_new_string("boolean"));
		json_object_object_add(fs, "type", ty);
		json_object_object_add(p, f, fs);
		json_object_array_add(req, json_object_new_string(f));
	}
	json_object_object_add(s, "title", json_object_new_string("sample"));
	json_object_object_add(s, "type", json_object_new_string("object"));
	json_object_object_add(s, "properties", p);
	json_object_object_add(s, "required", req);
	json_object_object_add(s, "additionalProperties", json_object_new_boolean(0));
	return s;
}

/* The text a sample is embedded by: its generated string fields. */
static char *sample_text(struct json_object *rec, struct json_object *fields)
{
	struct dgen_buf b = DGEN_BUF_INIT;

	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		struct json_object *v = NULL;

		if (json_object_object_get_ex(rec, json_object_get_string(json_object_array_get_idx(fields, i)), &v) &&
		    json_object_is_type(v, json_type_string))
			dgen_buf_printf(&b, "%s%s", b.len ? " " : "", json_object_get_string(v));
	}
	{
		char *t = dgen_xstrdup(dgen_buf_str(&b));

		dgen_buf_free(&b);
		return t;
	}
}

struct pool {
	double *vecs;      /* n * dim */
	size_t n, dim;
	struct json_object *samples; /* borrowed: the output array */
};

/* The indexes of the k most similar earlier samples, best first (ties:
 * the earlier one), and the best similarity. */
static double most_similar(const struct pool *p, const double *v, size_t k, size_t *idx,
			   size_t *got)
{
	double *sim = dgen_xcalloc(p->n, sizeof(double)), best;
	bool *taken = dgen_xcalloc(p->n, sizeof(bool));

	for (size_t i = 0; i < p->n; i++)
		sim[i] = embed_cosine(v, p->vecs + i * p->dim, p->dim);
	for (*got = 0; *got < k && *got < p->n; (*got)++) {
		size_t b = p->n;

		for (size_t i = 0; i < p->n; i++)
			if (!taken[i] && (b == p->n || sim[i] > sim[b]))
				b = i;
		taken[b] = true;
		idx[*got] = b;
	}
	best = sim[0];
	for (size_t i = 1; i < p->n; i++)
		best = sim[i] > best ? sim[i] : best;
	free(sim);
	free(taken);
	return best;
}

/* One skeleton: ask, restore, and (with diversity on) check and retry.
 * On success *out is the sample and *vec its embedding of *vdim numbers
 * (NULL when not checked). */
static int fill_one(struct dgen_block_ctx *ctx, struct json_object *config,
		    struct json_object *fields, struct json_object *raw, const struct pool *pool,
		    bool diversity, struct json_object **out, double **vec, size_t *vdim,
		    struct dgen_err *err)
{
	struct json_object *skel = json_object_new_object(), *hints = NULL, *negatives = NULL;
	struct json_object *schema = reply_schema(fields), *res = NULL;
	const char *sys = blockutil_cfg_str(config, "system_prompt");
	double temp = blockutil_cfg_num(config, "temperature", 0.8);
	double thr = blockutil_cfg_num(config, "diversity_threshold", 0.85);
	long long retries = diversity ? blockutil_cfg_int(config, "max_diversity_retries", 2) : 0;
	size_t k = (size_t)blockutil_cfg_int(config, "negative_examples_count", 5), got, dim;
	size_t *idx = dgen_xcalloc(k ? k : 1, sizeof(size_t));
	int rc = -1;

	*out = NULL;
	*vec = NULL;
	json_object_object_foreach(raw, rk, rv)
		if (rk[0] != '_')
			json_object_object_add(skel, rk, dgen_json_copy(rv));
	json_object_object_get_ex(raw, "_hints", &hints);
	for (long long attempt = 0; attempt <= retries; attempt++) {
		struct dgen_buf p = DGEN_BUF_INIT;
		char *text;
		double t = temp + 0.1 * (double)attempt;

		build_prompt(&p, fields, skel, hints, negatives);
		json_object_put(res);
		res = NULL;
		rc = blockctx_ask_object(ctx, config, sys && *sys ? sys : DEFAULT_SYSTEM, dgen_buf_str(&p),
					 t > 2 ? 2 : t, (int)blockutil_cfg_int(config, "max_tokens", 500),
					 schema, &res, err);
		dgen_buf_free(&p);
		if (rc)
			goto out;
		json_object_object_foreach(skel, sk, sv) /* fixed fields win */
			json_object_object_add(res, sk, dgen_json_copy(sv));
		if (!diversity)
			break;
		free(*vec);
		text = sample_text(res, fields);
		rc = blockctx_embed(ctx, config, (const char *const *)&text, 1, vec, &dim, err);
		*vdim = dim;
		free(text);
		if (rc)
			goto out;
		rc = -1;
		if (pool->n && dim != pool->dim) {
			dgen_err_set(err, DGEN_EBLOCK, "embedding has dimension %zu, earlier ones %zu",
				     dim, pool->dim);
			dgen_err_detail_str(err, "field", "embedding_model");
			goto out;
		}
		rc = 0;
		if (pool->n == 0 || most_similar(pool, *vec, k, idx, &got) < thr)
			break;
		json_object_put(negatives);
		negatives = json_object_new_array();
		for (size_t i = 0; i < got; i++)
			json_object_array_add(negatives,
					      dgen_json_copy(json_object_array_get_idx(pool->samples, idx[i])));
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	if (rc) {
		free(*vec);
		*vec = NULL;
	}
	free(idx);
	json_object_put(res);
	json_object_put(negatives);
	json_object_put(schema);
	json_object_put(skel);
	return rc;
}

static int si_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		      struct json_object *input, struct json_object **output,
		      struct dgen_err *err)
{
	struct json_object *skels = blockutil_field(input, "skeletons"), *fields = NULL;
	struct pool pool = { NULL, 0, 0, NULL };
	bool diversity = blockutil_cfg_num(config, "diversity_threshold", 0.85) < 1.0 &&
			 blockutil_cfg_int(config, "max_diversity_retries", 2) > 0;
	int rc = -1;

	(void)state;
	if (!json_object_is_type(skels, json_type_array) || json_object_array_length(skels) == 0) {
		dgen_err_set(err, DGEN_EBLOCK, "No skeletons to process: StructureSampler did not run, "
			     "or the seed lacks samples");
		dgen_err_detail_str(err, "field", "skeletons");
		return -1;
	}
	json_object_object_get_ex(config, "fields_to_generate", &fields);
	pool.samples = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(skels); i++) {
		struct json_object *raw = json_object_array_get_idx(skels, i), *s = NULL;
		double *v = NULL;
		size_t vdim = 0;

		if (!json_object_is_type(raw, json_type_object)) {
			dgen_err_set(err, DGEN_EBLOCK, "skeletons[%zu] is not an object", i);
			dgen_err_detail_str(err, "field", "skeletons");
			goto out;
		}
		if (fill_one(ctx, config, fields, raw, &pool, diversity, &s, &v, &vdim, err) != 0)
			goto out;
		json_object_array_add(pool.samples, s);
		if (v) {
			if (pool.n == 0)
				pool.dim = vdim; /* the first vector sets the dimension */
			pool.vecs = dgen_xrealloc(pool.vecs, (pool.n + 1) * pool.dim * sizeof(double));
			memcpy(pool.vecs + pool.n * pool.dim, v, pool.dim * sizeof(double));
			pool.n++;
		}
		free(v);
	}
	rc = blockutil_output(output, "samples", json_object_get(pool.samples), NULL);
out:
	json_object_put(pool.samples);
	free(pool.vecs);
	return rc;
}

const struct dgen_block_type semantic_infiller_block = {
	BLOCKUTIL_TYPE("SemanticInfiller", "Semantic Infiller", "generators",
		       "An LLM fills the free-text fields of each skeleton, keeping its fixed "
		       "values; embeddings keep the samples diverse"),
	.init = si_init,
	.execute = si_execute,
};
