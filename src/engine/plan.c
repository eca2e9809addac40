/*
 * plan.c - turns a job into a cursor over its units (see plan.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/plan.h"
#include "dgen/util.h"

static bool contains(const int64_t *v, size_t n, int64_t unit)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == unit)
			return true;
		if (v[mid] < unit)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The unit numbers a retry job is limited to, sorted; NULL = all. */
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
	qsort(*out, *n, sizeof **out, cmp_i64);
	rc = 0;
out:
	if (rc) {
		free(*out);
		*out = NULL;
	}
	json_object_put(arr);
	return rc;
}

/* Prints state once, in the planning thread. */
static const char *keep_text(struct dgen_plan *plan, size_t i, struct json_object *state)
{
	plan->texts[i] = dgen_xstrdup(dgen_json_compact(state));
	return plan->texts[i];
}

/* Adds the units of one split repetition that are still to do. */
static void add_chunks(struct dgen_plan *plan, size_t s, long r, struct json_object *chunks,
		       int64_t *unit, size_t *cap)
{
	size_t n = json_object_array_length(chunks);

	for (size_t c = 0; c < n; c++, (*unit)++) {
		struct json_object *chunk = json_object_array_get_idx(chunks, c);
		size_t k = plan->n_chunk_units;

		if ((plan->wanted && !contains(plan->wanted, plan->n_wanted, *unit)) ||
		    contains(plan->done, plan->n_done, *unit))
			continue;
		if (k == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			plan->chunk_units = dgen_xrealloc(plan->chunk_units,
							  *cap * sizeof *plan->chunk_units);
			plan->texts = dgen_xrealloc(plan->texts, *cap * sizeof *plan->texts);
		}
		plan->chunk_units[k] = (struct dgen_unit){
			*unit, (int64_t)s, r, (int64_t)c, chunk, keep_text(plan, k, chunk), false,
		};
		plan->n_chunk_units++;
	}
}

/* A multiplier job: run the first block over every seed and repetition,
 * and list the chunk units that are still to do. */
static int expand_chunks(struct dgen_plan *plan, const struct dgen_plan_job *job,
			 struct dgen_err *err)
{
	size_t cap = 0;
	int64_t unit = 0;

	plan->chunks = json_object_new_array();
	for (size_t s = 0; s < plan->seeds.n; s++) {
		long reps = seeds_index_repetitions(&plan->seeds, s);
		struct json_object *meta;

		if (seeds_index_metadata(&plan->seeds, s, &meta, err) != 0)
			return -1;
		for (long r = 0; r < reps; r++) {
			struct json_object *chunks = NULL;

			if (pipeline_expand(plan->pipeline, meta, job->ctx, &chunks, job->usage,
					    err) != 0) {
				if (!job->skip) {
					json_object_put(meta);
					return -1;
				}
				job->skip(job->skip_arg, s, r, err);
				dgen_err_clear(err);
				continue;
			}
			json_object_array_add(plan->chunks, chunks);
			add_chunks(plan, s, r, chunks, &unit, &cap);
		}
		json_object_put(meta);
	}
	plan->total = plan->wanted ? (int64_t)plan->n_wanted : unit;
	plan->pending = (int64_t)plan->n_chunk_units;
	return 0;
}

/* A multiplier job's units are listed here (its chunks must be made
 * anyway); a plain job's are only counted, and the cursor computes each
 * one from its number. */
int plan_build(struct dgen_plan_job *job, struct dgen_plan *plan, struct dgen_err *err)
{
	int rc = -1;

	memset(plan, 0, sizeof *plan);
	plan->pipeline = job->pipeline;
	plan->seeds = job->seeds;
	plan->done = job->done;
	plan->n_done = job->n_done;
	job->pipeline = NULL;
	memset(&job->seeds, 0, sizeof job->seeds);
	job->done = NULL;
	if (wanted_units(job->units, &plan->wanted, &plan->n_wanted, err))
		goto out;
	if (pipeline_is_multiplier(plan->pipeline)) {
		if (expand_chunks(plan, job, err))
			goto out;
	} else {
		plan->total = plan->wanted ? (int64_t)plan->n_wanted : plan->seeds.total_units;
		/* done holds only units of this job: every one of them is in range */
		plan->pending = plan->total;
		for (size_t i = 0; i < plan->n_done; i++)
			if (!plan->wanted || contains(plan->wanted, plan->n_wanted, plan->done[i]))
				plan->pending--;
	}
	rc = 0;
out:
	if (rc)
		plan_free(plan);
	return rc;
}

/* A seed unit's state: its seed's metadata, parsed now, and printed. */
static int seed_state(struct dgen_plan *plan, size_t s, struct dgen_unit *u)
{
	struct dgen_err err = DGEN_ERR_INIT;

	if (seeds_index_metadata(&plan->seeds, s, &u->state, &err) != 0) {
		/* the file was checked whole when the plan was built */
		dgen_error("seed %zu cannot be read again: %s", s, err.msg);
		dgen_err_clear(&err);
		return -1;
	}
	u->state_text = dgen_xstrdup(dgen_json_compact(u->state));
	u->owned = true;
	return 0;
}

/* Chunks come from the list; seed units from their number (the next one
 * of the retry list, or simply the next number), skipping done ones. */
bool plan_next(struct dgen_plan *plan, struct dgen_unit *u)
{
	if (plan->chunks) {
		if (plan->pos >= plan->n_chunk_units)
			return false;
		*u = plan->chunk_units[plan->pos++];
		plan->pending--;
		return true;
	}
	for (;;) {
		int64_t unit;
		size_t s;
		long rep;

		if (plan->wanted) {
			if (plan->pos >= plan->n_wanted)
				return false;
			unit = plan->wanted[plan->pos++];
		} else {
			if ((int64_t)plan->pos >= plan->total)
				return false;
			unit = (int64_t)plan->pos++;
		}
		if (contains(plan->done, plan->n_done, unit) ||
		    seeds_index_unit(&plan->seeds, unit, &s, &rep) != 0)
			continue;
		*u = (struct dgen_unit){ unit, (int64_t)s, rep, -1, NULL, NULL, false };
		plan->pending--;
		if (seed_state(plan, s, u) != 0)
			continue;
		return true;
	}
}

void plan_unit_free(struct dgen_unit *u)
{
	if (u->owned) {
		json_object_put(u->state);
		free((char *)u->state_text);
	}
	u->state = NULL;
	u->state_text = NULL;
	u->owned = false;
}

void plan_free(struct dgen_plan *plan)
{
	for (size_t i = 0; plan->texts && i < plan->n_chunk_units; i++)
		free(plan->texts[i]);
	free(plan->texts);
	free(plan->chunk_units);
	free(plan->done);
	free(plan->wanted);
	if (plan->chunks)
		json_object_put(plan->chunks);
	seeds_index_free(&plan->seeds);
	if (plan->pipeline)
		pipeline_free(plan->pipeline);
	memset(plan, 0, sizeof *plan);
}
