/*
 * duplicate_remover.c - DuplicateRemover (DataGenFlow 1.3): flags samples
 * too close to the seed examples or to one another, by embeddings.
 *
 * Text of a record: the comparison_fields joined by spaces (a field
 * missing from a sample is a block error naming it), or, with none given,
 * every non-empty string field. Seeds are the state's `_seed_samples`
 * (StructureSampler keeps them), else its `samples`. Each sample gets
 * similarity_to_seeds (max cosine to any seed), similarity_to_generated
 * (max cosine to any other sample of the list), both rounded to 4
 * decimals, and is_duplicate = either >= similarity_threshold; its
 * `_`-prefixed keys are dropped. Output: {"generated_samples": [...]}.
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

static const char *const inputs[] = { "samples", NULL };
static const char *const outputs[] = { "generated_samples", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM("similarity_threshold", DGEN_PARAM_NUMBER, "0.85",
			"Cosine similarity (0 to 1) at or above which a sample is a duplicate"),
	BLOCKUTIL_PARAM("comparison_fields", DGEN_PARAM_STRING_LIST, "[]",
			"Fields compared; empty compares every non-empty text field"),
	BLOCKUTIL_PARAM_MODEL("embedding_model",
			      "Embedding model; null uses the default"),
};

static int dr_init(struct json_object *config, void **state, struct dgen_err *err)
{
	double t = blockutil_cfg_num(config, "similarity_threshold", 0.85);

	*state = NULL;
	if (!(t >= 0 && t <= 1))
		return blockutil_config_error(err, "similarity_threshold",
					      "similarity_threshold must be between 0 and 1");
	return 0;
}

/* The compared text of rec into *out (malloc'd). */
static int record_text(struct json_object *rec, struct json_object *fields, const char *what,
		       size_t i, char **out, struct dgen_err *err)
{
	struct dgen_buf b = DGEN_BUF_INIT;

	*out = NULL;
	if (json_object_array_length(fields) > 0) {
		for (size_t k = 0; k < json_object_array_length(fields); k++) {
			const char *f = json_object_get_string(json_object_array_get_idx(fields, k));
			struct json_object *v = NULL;
			char *owned;
			size_t len;
			const char *t;

			if (!json_object_object_get_ex(rec, f, &v)) {
				dgen_buf_free(&b);
				dgen_err_set(err, DGEN_EBLOCK, "%s[%zu] has no field '%s' to compare",
					     what, i, f);
				dgen_err_detail_str(err, "field", f);
				return -1;
			}
			t = blockutil_text(v, &len, &owned);
			dgen_buf_printf(&b, "%s%.*s", b.len ? " " : "", (int)len, t);
			free(owned);
		}
	} else {
		json_object_object_foreach(rec, k, v) {
			(void)k;
			if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
				dgen_buf_printf(&b, "%s%s", b.len ? " " : "", json_object_get_string(v));
		}
	}
	*out = dgen_xstrdup(dgen_buf_str(&b));
	dgen_buf_free(&b);
	return 0;
}

/* Texts of every object of list (what names it in errors). */
static int texts_of(struct json_object *list, struct json_object *fields, const char *what,
		    char ***texts, struct dgen_err *err)
{
	size_t n = json_object_array_length(list);

	*texts = dgen_xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(list, i);

		if (!json_object_is_type(r, json_type_object)) {
			dgen_err_set(err, DGEN_EBLOCK, "%s[%zu] is not an object", what, i);
			dgen_err_detail_str(err, "field", what);
			return -1;
		}
		if (record_text(r, fields, what, i, &(*texts)[i], err) != 0)
			return -1;
	}
	return 0;
}

static void texts_free(char **t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i]);
	free(t);
}

static double round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

static int dr_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		      struct json_object *input, struct json_object **output,
		      struct dgen_err *err)
{
	struct json_object *samples = blockutil_field(input, "samples"), *fields = NULL;
	struct json_object *seeds = blockutil_field(input, "_seed_samples"), *out = NULL;
	double thr = blockutil_cfg_num(config, "similarity_threshold", 0.85);
	char **st = NULL, **gt = NULL;
	double *sv = NULL, *gv = NULL;
	size_t ns = 0, ng, sdim = 0, gdim = 0;
	int rc = -1;

	(void)state;
	if (!json_object_is_type(samples, json_type_array) || json_object_array_length(samples) == 0) {
		dgen_err_set(err, DGEN_EBLOCK, "No samples provided in input");
		dgen_err_detail_str(err, "field", "samples");
		return -1;
	}
	if (!json_object_is_type(seeds, json_type_array) || json_object_array_length(seeds) == 0)
		seeds = NULL; /* without seed examples only the samples are compared */
	ng = json_object_array_length(samples);
	json_object_object_get_ex(config, "comparison_fields", &fields);
	if (texts_of(samples, fields, "samples", &gt, err) != 0)
		goto out;
	if (blockctx_embed(ctx, config, (const char *const *)gt, ng, &gv, &gdim, err) != 0)
		goto out;
	if (seeds) {
		ns = json_object_array_length(seeds);
		if (texts_of(seeds, fields, "_seed_samples", &st, err) != 0 ||
		    blockctx_embed(ctx, config, (const char *const *)st, ns, &sv, &sdim, err) != 0)
			goto out;
		if (sdim != gdim) {
			dgen_err_set(err, DGEN_EBLOCK, "seed embeddings have dimension %zu, sample "
				     "embeddings %zu", sdim, gdim);
			dgen_err_detail_str(err, "field", "embedding_model");
			goto out;
		}
	}
	out = json_object_new_array();
	for (size_t i = 0; i < ng; i++) {
		struct json_object *rec = json_object_new_object();
		double to_seeds = 0, to_gen = 0;

		json_object_object_foreach(json_object_array_get_idx(samples, i), k, v)
			if (k[0] != '_')
				json_object_object_add(rec, k, dgen_json_copy(v));
		for (size_t j = 0; j < ns; j++) {
			double c = embed_cosine(gv + i * gdim, sv + j * gdim, gdim);

			to_seeds = j == 0 || c > to_seeds ? c : to_seeds;
		}
		for (size_t j = 0, first = 1; j < ng; j++) {
			double c;

			if (j == i)
				continue;
			c = embed_cosine(gv + i * gdim, gv + j * gdim, gdim);
			to_gen = first || c > to_gen ? c : to_gen;
			first = 0;
		}
		json_object_object_add(rec, "similarity_to_seeds", dgen_json_new_double(round4(to_seeds)));
		json_object_object_add(rec, "similarity_to_generated",
				       dgen_json_new_double(round4(to_gen)));
		json_object_object_add(rec, "is_duplicate",
				       json_object_new_boolean(to_seeds >= thr || to_gen >= thr));
		json_object_array_add(out, rec);
	}
	rc = blockutil_output(output, "generated_samples", out, NULL);
	out = NULL;
out:
	json_object_put(out);
	texts_free(st, ns);
	texts_free(gt, ng);
	free(sv);
	free(gv);
	return rc;
}

const struct dgen_block_type duplicate_remover_block = {
	BLOCKUTIL_TYPE("DuplicateRemover", "Duplicate Remover", "validators",
		       "Flags samples whose embedding is too close to a seed example or to "
		       "another sample (similarity_to_seeds, similarity_to_generated, is_duplicate)"),
	.init = dr_init,
	.execute = dr_execute,
};
