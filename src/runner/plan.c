/*
 * plan.c - turns a claimed job into its list of units. Numbering is
 * deterministic (seeds in file order, repetitions consecutive, chunks in
 * document order), so a job resumed after a crash, or a retry job, finds
 * the same unit under the same number and skips what is already stored.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/util.h"
#include "plan.h"

static bool is_done(const int64_t *done, size_t n, int64_t unit)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (done[mid] == unit)
			return true;
		if (done[mid] < unit)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The set of unit numbers a retry job is limited to, sorted; NULL = all. */
static int wanted_units(const char *units, int64_t **out, size_t *n, struct dgen_err *err)
{
	struct json_object *arr = NULL;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (!units)
		return 0;
	if (dgen_json_parse(units, strlen(units), NULL, &arr, err))
		return -1;
	if (!json_object_is_type(arr, json_type_array)) {
		dgen_err_set(err, DGEN_EINTERNAL, "the job's unit list is not an array");
		goto out;
	}
	*n = json_object_array_length(arr);
	*out = dgen_xcalloc(*n ? *n : 1, sizeof **out);
	for (size_t i = 0; i < *n; i++) {
		struct json_object *d = json_object_array_get_idx(arr, i), *u;

		if (!json_object_object_get_ex(d, "unit", &u)) {
			dgen_err_set(err, DGEN_EINTERNAL, "unit descriptor %zu has no unit", i);
			goto out;
		}
		(*out)[i] = json_object_get_int64(u);
	}
	for (size_t i = 1; i < *n; i++) /* insertion sort: lists are short and nearly sorted */
		for (size_t j = i; j > 0 && (*out)[j - 1] > (*out)[j]; j--) {
			int64_t t = (*out)[j];

			(*out)[j] = (*out)[j - 1];
			(*out)[j - 1] = t;
		}
	rc = 0;
out:
	if (rc) {
		free(*out);
		*out = NULL;
	}
	json_object_put(arr);
	return rc;
}

/* Prints state once, in the planning thread, for every unit that starts
 * from it. */
static const char *state_text(struct dgen_plan *plan, struct json_object *state)
{
	plan->texts = dgen_xrealloc(plan->texts, (plan->n_texts + 1) * sizeof *plan->texts);
	plan->texts[plan->n_texts] = dgen_xstrdup(dgen_json_compact(state));
	return plan->texts[plan->n_texts++];
}

static void add_unit(struct dgen_plan *plan, size_t *cap, int64_t unit, int64_t seed,
		     int64_t rep, int64_t chunk, struct json_object *state, const char *text)
{
	if (plan->n_units == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		plan->units = dgen_xrealloc(plan->units, *cap * sizeof *plan->units);
	}
	plan->units[plan->n_units++] = (struct dgen_unit){ unit, seed, rep, chunk, state, text };
}

int plan_build(const struct dgen_registry *reg, const struct dgen_config *cfg,
	       const struct dgen_claim *claim, const int64_t *done, size_t n_done,
	       const struct dgen_block_ctx *ctx, struct dgen_plan *plan,
	       struct dgen_err *err)
{
	struct dgen_seed_limits slim = { cfg->max_seeds, cfg->max_repetitions };
	struct dgen_json_limits jlim = dgen_json_default_limits;
	struct json_object *def = NULL;
	int64_t *wanted = NULL, unit = 0;
	size_t n_wanted = 0, cap = 0;
	int rc = -1;

	memset(plan, 0, sizeof *plan);
	jlim.max_bytes = cfg->max_upload;
	jlim.max_depth = cfg->json_depth;
	jlim.max_string = cfg->max_string;
	if (dgen_json_parse(claim->definition, strlen(claim->definition), NULL, &def, err) ||
	    pipeline_load(reg, def, &plan->pipeline, err))
		goto out;
	if (claim->input_kind == DGEN_INPUT_MARKDOWN) {
		if (seeds_from_markdown(claim->input, claim->input_len, &plan->seeds, err))
			goto out;
	} else if (seeds_parse(claim->input, claim->input_len, &jlim, &slim, &plan->seeds, err)) {
		goto out;
	}
	if (wanted_units(claim->units, &wanted, &n_wanted, err))
		goto out;
	if (pipeline_is_multiplier(plan->pipeline))
		plan->chunks = json_object_new_array();
	for (size_t s = 0; s < plan->seeds.n; s++) {
		struct dgen_seed *seed = &plan->seeds.v[s];
		const char *text = plan->chunks ? NULL : state_text(plan, seed->metadata);

		for (long r = 0; r < seed->repetitions; r++) {
			struct json_object *chunks = NULL;
			size_t n;

			if (!plan->chunks) {
				if ((!wanted || is_done(wanted, n_wanted, unit)) &&
				    !is_done(done, n_done, unit))
					add_unit(plan, &cap, unit, (int64_t)s, r, -1, seed->metadata,
						 text);
				unit++;
				continue;
			}
			if (pipeline_expand(plan->pipeline, seed->metadata, ctx, &chunks, NULL, err))
				goto out;
			json_object_array_add(plan->chunks, chunks);
			n = json_object_array_length(chunks);
			for (size_t c = 0; c < n; c++, unit++) {
				struct json_object *chunk = json_object_array_get_idx(chunks, c);

				if ((!wanted || is_done(wanted, n_wanted, unit)) &&
				    !is_done(done, n_done, unit))
					add_unit(plan, &cap, unit, (int64_t)s, r, (int64_t)c, chunk,
						 state_text(plan, chunk));
			}
		}
	}
	plan->total = wanted ? (int64_t)n_wanted : unit;
	rc = 0;
out:
	free(wanted);
	json_object_put(def);
	if (rc)
		plan_free(plan);
	return rc;
}

void plan_free(struct dgen_plan *plan)
{
	for (size_t i = 0; i < plan->n_texts; i++)
		free(plan->texts[i]);
	free(plan->texts);
	free(plan->units);
	if (plan->chunks)
		json_object_put(plan->chunks);
	seeds_free(&plan->seeds);
	if (plan->pipeline)
		pipeline_free(plan->pipeline);
	memset(plan, 0, sizeof *plan);
}
