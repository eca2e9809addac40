/*
 * api_seeds.c - POST /api/seeds/validate: check a seed document against a
 * pipeline before uploading it (bad seeds and template variables the seeds
 * lack are errors; what may still work is a warning).
 */
#include "config.h"

#include <string.h>

#include "dgen/api.h"
#include "dgen/estimate.h"
#include "dgen/pipeline.h"
#include "dgen/seeds.h"

void api_seed_limits(const struct api_ctx *c, struct dgen_seed_limits *lim)
{
	*lim = seeds_default_limits;
	if (c->cfg->max_seeds > 0)
		lim->max_seeds = c->cfg->max_seeds;
	if (c->cfg->max_repetitions > 0)
		lim->max_repetitions = c->cfg->max_repetitions;
}

/* The report's "estimate": what running p over the seeds will at most
 * use (estimate.h), priced with the stored models; null when the seeds
 * cannot be read (the report's errors say why). */
static struct json_object *estimate(struct api_ctx *c, const struct dgen_pipeline *p,
				    struct json_object *doc, const struct dgen_seed_limits *lim)
{
	struct dgen_model_list llm, emb;
	struct dgen_seeds seeds;
	struct dgen_estimate e;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL;

	memset(&seeds, 0, sizeof seeds);
	if (seeds_from_json(doc, lim, &seeds, &err) == 0) {
		/* without stored models the configured endpoint serves: no price */
		if (api_models_load(c, &llm, &emb) != 0)
			dgen_err_clear(&c->err);
		estimate_run(p, &seeds, &llm, dgen_caller_owner(c->who), &e);
		o = estimate_to_json(&e);
		model_list_free(&llm);
		model_list_free(&emb);
	}
	seeds_free(&seeds);
	dgen_err_clear(&err);
	return o;
}

/* A dry run of a seed upload: the answer is the validation report, not
 * an error, so a client can show every problem at once. */
int api_seeds_validate(struct api_ctx *c)
{
	static const char *const allowed[] = { "pipeline_id", "seeds", NULL };
	struct json_object *body = NULL, *seeds = NULL, *report;
	struct dgen_pipeline *p = NULL;
	struct dgen_json_limits jlim;
	struct dgen_seed_limits slim;
	int64_t pid = 0;
	int st;

	api_json_limits(c, &jlim);
	api_seed_limits(c, &slim);
	if (request_json_body(c->req, &jlim, false, &body, &c->err) != 0)
		goto fail;
	if (!json_object_is_type(body, json_type_object)) {
		dgen_err_set(&c->err, DGEN_EBADREQ,
			     "Request body must be a JSON object {pipeline_id, seeds}");
		goto fail;
	}
	if (dgen_json_get_int(body, "", "pipeline_id", true, 1, INT64_MAX, &pid, &c->err) != 0 ||
	    dgen_json_only_keys(body, "", allowed, &c->err) != 0)
		goto fail;
	if (!json_object_object_get_ex(body, "seeds", &seeds) || !seeds) {
		dgen_err_set(&c->err, DGEN_EBADREQ, "'seeds' is required");
		dgen_err_detail_str(&c->err, "field", "seeds");
		goto fail;
	}
	if (!json_object_is_type(seeds, json_type_array) &&
	    !json_object_is_type(seeds, json_type_object)) {
		dgen_json_type_error(&c->err, DGEN_EBADREQ, "", "seeds", "an array or an object");
		goto fail;
	}
	if (api_load_pipeline(c, pid, &p) != 0)
		goto fail;
	report = seeds_validate(p, seeds, &slim);
	json_object_object_add(report, "estimate", estimate(c, p, seeds, &slim));
	st = api_ok(c, 200, report);
	goto out;
fail:
	st = api_fail(c);
out:
	pipeline_free(p);
	json_object_put(body);
	return st;
}
