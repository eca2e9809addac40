/*
 * structure_sampler.c - StructureSampler (DataGenFlow 1.3): learns the
 * shape of example records and draws skeletons for an LLM to fill in.
 *
 * From the state's `samples` (an array of objects) it learns each
 * categorical field's value frequencies (conditional on the parent fields
 * named in `dependencies`, falling back to the marginal for a parent
 * combination never seen), each numeric field's min / max / mean, and up
 * to 5 exemplars drawn at random. It then draws `target_count` skeletons,
 * fields in dependency order (parents first, names sorted within a
 * round), each with `_hints`: "<field>_range": [min, max] per numeric
 * field and "exemplars": the exemplars that match every categorical value
 * of the skeleton, else the first 3. Output: {skeletons, _seed_samples}.
 *
 * Draws are seeded from `seed` (null: 0), the unit number and the state,
 * so a unit gives the same skeletons whenever it runs. Values are compared
 * by their compact JSON text (so 1 and "1" are different values).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockctx.h"
#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"

static const char *const inputs[] = { NULL };
static const char *const outputs[] = { "skeletons", "_seed_samples", NULL };

#define MAX_EXEMPLARS 5
#define MAX_MATCHING 3
#define MAX_TARGET 100000

static const struct dgen_block_param params[] = {
	{ .name = "target_count", .type = DGEN_PARAM_INT_OR_TEMPLATE, .required = true,
	  .description = "Number of skeletons to generate: an integer or a template (\"{{ target_count }}\")" },
	BLOCKUTIL_PARAM("categorical_fields", DGEN_PARAM_STRING_LIST, "[]",
			"Fields whose values are sampled from the learned frequencies"),
	BLOCKUTIL_PARAM("numeric_fields", DGEN_PARAM_STRING_LIST, "[]",
			"Fields whose [min, max] range is given to the LLM as a hint"),
	{ .name = "dependencies", .type = DGEN_PARAM_SCHEMA, .default_json = "{}", .format = "json",
	  .description = "Object of child field -> [parent fields]: the child is sampled conditional on them "
	  "(an object or a template rendering to one)" },
	{ .name = "seed", .type = DGEN_PARAM_INTEGER, .default_json = "null", .nullable = true,
	  .description = "Random seed for reproducibility (null: 0)" },
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The fields in dependency order, or a "Circular dependency" error.
 * Returns a new array of strings. */
static int field_order(struct json_object *cats, struct json_object *deps,
		       struct json_object **out, struct dgen_err *err, bool at_init)
{
	size_t n = json_object_array_length(cats), done = 0;
	struct json_object *order = json_object_new_array();
	bool *placed = dgen_xcalloc(n ? n : 1, sizeof(bool));
	int rc = -1;

	*out = NULL;
	/* every parent must be a categorical field, or it never gets a value */
	json_object_object_foreach(deps, child, parents) {
		char key[160];

		snprintf(key, sizeof key, "dependencies.%s", child);
		if (!json_object_is_type(parents, json_type_array)) {
			dgen_err_set(err, at_init ? DGEN_EINVALID : DGEN_EBLOCK,
				     "%s must be a list of parent fields", key);
			dgen_err_detail_str(err, "field", key);
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(parents); i++) {
			const char *p = json_object_get_string(json_object_array_get_idx(parents, i));
			bool found = false;

			for (size_t j = 0; j < n && p; j++)
				found |= strcmp(p, json_object_get_string(json_object_array_get_idx(cats, j))) == 0;
			if (!json_object_is_type(json_object_array_get_idx(parents, i), json_type_string) ||
			    !found) {
				dgen_err_set(err, at_init ? DGEN_EINVALID : DGEN_EBLOCK,
					     "%s names '%s', which is not a categorical field", key,
					     p ? p : "");
				dgen_err_detail_str(err, "field", key);
				goto out;
			}
		}
	}
	while (done < n) {
		const char *pick[64];
		size_t np = 0;

		for (size_t i = 0; i < n && np < 64; i++) {
			const char *f = json_object_get_string(json_object_array_get_idx(cats, i));
			struct json_object *ps = NULL;
			bool ready = true;

			if (placed[i])
				continue;
			if (json_object_object_get_ex(deps, f, &ps))
				for (size_t k = 0; k < json_object_array_length(ps); k++) {
					const char *p = json_object_get_string(json_object_array_get_idx(ps, k));

					for (size_t j = 0; j < n; j++)
						if (!placed[j] &&
						    strcmp(p, json_object_get_string(json_object_array_get_idx(cats, j))) == 0)
							ready = false;
				}
			if (ready)
				pick[np++] = f;
		}
		if (np == 0) {
			dgen_err_set(err, at_init ? DGEN_EINVALID : DGEN_EBLOCK,
				     "Circular dependency detected in field dependencies");
			dgen_err_detail_str(err, "field", "dependencies");
			dgen_err_detail(err, "dependencies", dgen_json_copy(deps));
			goto out;
		}
		qsort(pick, np, sizeof(pick[0]), cmp_str);
		for (size_t k = 0; k < np; k++) {
			for (size_t j = 0; j < n; j++)
				if (!placed[j] &&
				    strcmp(pick[k], json_object_get_string(json_object_array_get_idx(cats, j))) == 0) {
					placed[j] = true;
					done++;
				}
			json_object_array_add(order, json_object_new_string(pick[k]));
		}
	}
	*out = order;
	order = NULL;
	rc = 0;
out:
	json_object_put(order);
	free(placed);
	return rc;
}

static int ss_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct json_object *cats = NULL, *deps = NULL, *tc = NULL, *order = NULL;

	*state = NULL;
	json_object_object_get_ex(config, "target_count", &tc);
	if (json_object_is_type(tc, json_type_int) &&
	    (json_object_get_int64(tc) < 1 || json_object_get_int64(tc) > MAX_TARGET))
		return blockutil_config_error(err, "target_count", "target_count must be from 1 to %d",
					      MAX_TARGET);
	if (blockctx_check_template(config, "target_count", err) ||
	    blockctx_check_template(config, "dependencies", err))
		return -1;
	json_object_object_get_ex(config, "categorical_fields", &cats);
	if (json_object_object_get_ex(config, "dependencies", &deps) &&
	    json_object_is_type(deps, json_type_object)) {
		if (field_order(cats, deps, &order, err, true) != 0)
			return -1;
		json_object_put(order);
	}
	return 0;
}

/* A JSON value's key text (compact JSON; "null" for a missing value). */
static const char *vkey(struct json_object *v, char **owned)
{
	struct json_object *c = dgen_json_copy(v);

	*owned = dgen_xstrdup(v ? dgen_json_compact(c) : "null");
	json_object_put(c);
	return *owned;
}

/* counts: key text -> [value, count]; insertion order kept. */
static void count_value(struct json_object *counts, struct json_object *v)
{
	char *k;
	struct json_object *e = NULL;

	vkey(v, &k);
	if (json_object_object_get_ex(counts, k, &e)) {
		struct json_object *n = json_object_array_get_idx(e, 1);

		json_object_set_int64(n, json_object_get_int64(n) + 1);
	} else {
		e = json_object_new_array();
		json_object_array_add(e, dgen_json_copy(v));
		json_object_array_add(e, json_object_new_int64(1));
		json_object_object_add(counts, k, e);
	}
	free(k);
}

static struct json_object *draw(struct json_object *counts, struct blockctx_rng *r)
{
	int64_t total = 0, x;

	json_object_object_foreach(counts, k1, e1) {
		(void)k1;
		total += json_object_get_int64(json_object_array_get_idx(e1, 1));
	}
	if (total <= 0)
		return NULL;
	x = (int64_t)(blockctx_rng_next(r) % (uint64_t)total);
	json_object_object_foreach(counts, k2, e2) {
		(void)k2;
		x -= json_object_get_int64(json_object_array_get_idx(e2, 1));
		if (x < 0)
			return dgen_json_copy(json_object_array_get_idx(e2, 0));
	}
	return NULL;
}

/* The key of a skeleton's (or sample's) parent values. */
static char *parents_key(struct json_object *rec, struct json_object *parents)
{
	struct json_object *a = json_object_new_array();
	char *k;

	for (size_t i = 0; i < json_object_array_length(parents); i++) {
		struct json_object *v = NULL;

		json_object_object_get_ex(rec, json_object_get_string(json_object_array_get_idx(parents, i)), &v);
		json_object_array_add(a, dgen_json_copy(v));
	}
	k = dgen_xstrdup(dgen_json_compact(a));
	json_object_put(a);
	return k;
}

static bool to_number(struct json_object *v, double *out)
{
	char *end;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		*out = strtod(s, &end);
		return end != s && *end == '\0' && isfinite(*out);
	}
	return false;
}

struct profile {
	struct json_object *marginal; /* field -> counts */
	struct json_object *cond;     /* child -> parents key -> counts */
	struct json_object *ranges;   /* "<field>_range" -> [min, max] */
	struct json_object *exemplars;
};

static void learn(struct json_object *samples, struct json_object *cats, struct json_object *nums,
		  struct json_object *deps, struct blockctx_rng *r, struct profile *p)
{
	size_t n = json_object_array_length(samples), k;
	size_t *idx = dgen_xcalloc(n ? n : 1, sizeof(size_t));

	p->marginal = json_object_new_object();
	p->cond = json_object_new_object();
	p->ranges = json_object_new_object();
	p->exemplars = json_object_new_array();
	for (size_t f = 0; f < json_object_array_length(cats); f++) {
		const char *name = json_object_get_string(json_object_array_get_idx(cats, f));
		struct json_object *counts = json_object_new_object(), *parents = NULL;

		for (size_t i = 0; i < n; i++) {
			struct json_object *v = NULL;

			json_object_object_get_ex(json_object_array_get_idx(samples, i), name, &v);
			count_value(counts, v);
		}
		json_object_object_add(p->marginal, name, counts);
		if (json_object_object_get_ex(deps, name, &parents)) {
			struct json_object *by = json_object_new_object();

			for (size_t i = 0; i < n; i++) {
				struct json_object *s = json_object_array_get_idx(samples, i), *c = NULL, *v = NULL;
				char *pk = parents_key(s, parents);

				if (!json_object_object_get_ex(by, pk, &c)) {
					c = json_object_new_object();
					json_object_object_add(by, pk, c);
				}
				json_object_object_get_ex(s, name, &v);
				count_value(c, v);
				free(pk);
			}
			json_object_object_add(p->cond, name, by);
		}
	}
	for (size_t f = 0; f < json_object_array_length(nums); f++) {
		const char *name = json_object_get_string(json_object_array_get_idx(nums, f));
		double mn = INFINITY, mx = -INFINITY, sum = 0, x;
		size_t cnt = 0;

		for (size_t i = 0; i < n; i++) {
			struct json_object *v = NULL;

			if (json_object_object_get_ex(json_object_array_get_idx(samples, i), name, &v) &&
			    to_number(v, &x)) {
				mn = x < mn ? x : mn;
				mx = x > mx ? x : mx;
				sum += x;
				cnt++;
			}
		}
		if (cnt) {
			char key[200];
			struct json_object *a = json_object_new_array();

			snprintf(key, sizeof key, "%s_range", name);
			json_object_array_add(a, dgen_json_new_double(mn));
			json_object_array_add(a, dgen_json_new_double(mx));
			json_object_object_add(p->ranges, key, a);
			(void)sum; /* the mean is learned too but only the range is a hint */
		}
	}
	/* exemplars: a seeded partial shuffle */
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	k = n < MAX_EXEMPLARS ? n : MAX_EXEMPLARS;
	for (size_t i = 0; i < k; i++) {
		size_t j = i + (size_t)(blockctx_rng_next(r) % (n - i)), t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
		json_object_array_add(p->exemplars, dgen_json_copy(json_object_array_get_idx(samples, idx[i])));
	}
	free(idx);
}

static void profile_free(struct profile *p)
{
	json_object_put(p->marginal);
	json_object_put(p->cond);
	json_object_put(p->ranges);
	json_object_put(p->exemplars);
}

static struct json_object *hints(const struct profile *p, struct json_object *skel,
				 struct json_object *cats)
{
	struct json_object *h = dgen_json_copy(p->ranges), *ex = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(p->exemplars); i++) {
		struct json_object *e = json_object_array_get_idx(p->exemplars, i);
		bool match = true;

		for (size_t f = 0; f < json_object_array_length(cats) && match; f++) {
			const char *name = json_object_get_string(json_object_array_get_idx(cats, f));
			struct json_object *a = NULL, *b = NULL;
			char *ka, *kb;

			json_object_object_get_ex(e, name, &a);
			json_object_object_get_ex(skel, name, &b);
			match = strcmp(vkey(a, &ka), vkey(b, &kb)) == 0;
			free(ka);
			free(kb);
		}
		if (match)
			json_object_array_add(ex, dgen_json_copy(e));
	}
	if (json_object_array_length(ex) == 0)
		for (size_t i = 0; i < json_object_array_length(p->exemplars) && i < MAX_MATCHING; i++)
			json_object_array_add(ex, dgen_json_copy(json_object_array_get_idx(p->exemplars, i)));
	json_object_object_add(h, "exemplars", ex);
	return h;
}

/* target_count as rendered for this state: a positive integer. */
static int target(struct json_object *config, struct json_object *input,
		  const struct dgen_block_ctx *ctx, long long *out, struct dgen_err *err)
{
	struct json_object *tc = NULL, *v = NULL;
	int rc = 0;

	json_object_object_get_ex(config, "target_count", &tc);
	if (blockctx_value(tc, "target_count", true, input, ctx, &v, err) != 0)
		return -1;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > MAX_TARGET) {
		rc = dgen_err_set(err, DGEN_EBLOCK, "target_count must be an integer from 1 to %d",
				  MAX_TARGET);
		dgen_err_detail_str(err, "field", "target_count");
	} else {
		*out = json_object_get_int64(v);
	}
	json_object_put(v);
	return rc;
}

static int ss_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		      struct json_object *input, struct json_object **output,
		      struct dgen_err *err)
{
	struct json_object *cats = NULL, *nums = NULL, *dcfg = NULL, *deps = NULL, *order = NULL;
	struct json_object *samples = blockutil_field(input, "samples"), *skels;
	struct profile p = { 0 };
	struct blockctx_rng r;
	long long count = 0;
	uint64_t seed = (uint64_t)blockutil_cfg_int(config, "seed", 0);
	int rc = -1;

	(void)state;
	if (!json_object_is_type(samples, json_type_array) || json_object_array_length(samples) == 0) {
		dgen_err_set(err, DGEN_EBLOCK, "No samples provided in metadata");
		dgen_err_detail_str(err, "field", "samples");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(samples); i++)
		if (!json_object_is_type(json_object_array_get_idx(samples, i), json_type_object)) {
			dgen_err_set(err, DGEN_EBLOCK, "samples[%zu] is not an object", i);
			dgen_err_detail_str(err, "field", "samples");
			return -1;
		}
	if (target(config, input, ctx, &count, err) != 0)
		return -1;
	json_object_object_get_ex(config, "categorical_fields", &cats);
	json_object_object_get_ex(config, "numeric_fields", &nums);
	json_object_object_get_ex(config, "dependencies", &dcfg);
	if (blockctx_value(dcfg, "dependencies", false, input, ctx, &deps, err) != 0)
		return -1;
	if (!json_object_is_type(deps, json_type_object)) {
		dgen_err_set(err, DGEN_EBLOCK, "dependencies did not render to an object");
		dgen_err_detail_str(err, "field", "dependencies");
		goto out;
	}
	if (field_order(cats, deps, &order, err, false) != 0)
		goto out;
	if (ctx->unit >= 0)
		seed ^= (uint64_t)ctx->unit * 0x9e3779b97f4a7c15ull;
	blockctx_rng_seed(&r, seed ^ blockctx_hash_json(input), "StructureSampler");
	learn(samples, cats, nums, deps, &r, &p);
	skels = json_object_new_array();
	for (long long i = 0; i < count; i++) {
		struct json_object *s = json_object_new_object();

		for (size_t f = 0; f < json_object_array_length(order); f++) {
			const char *name = json_object_get_string(json_object_array_get_idx(order, f));
			struct json_object *counts = NULL, *by = NULL, *parents = NULL;

			json_object_object_get_ex(p.marginal, name, &counts);
			if (json_object_object_get_ex(p.cond, name, &by) &&
			    json_object_object_get_ex(deps, name, &parents)) {
				char *pk = parents_key(s, parents);
				struct json_object *c = NULL;

				if (json_object_object_get_ex(by, pk, &c))
					counts = c; /* else: unseen combination, the marginal */
				free(pk);
			}
			json_object_object_add(s, name, draw(counts, &r));
		}
		json_object_object_add(s, "_hints", hints(&p, s, cats));
		json_object_array_add(skels, s);
	}
	rc = blockutil_output(output, "skeletons", skels, "_seed_samples", dgen_json_copy(samples),
			      NULL);
out:
	profile_free(&p);
	json_object_put(order);
	json_object_put(deps);
	return rc;
}

const struct dgen_block_type structure_sampler_block = {
	BLOCKUTIL_TYPE("StructureSampler", "Structure Sampler", "seeders",
		       "Learns category frequencies and numeric ranges from `samples` and draws "
		       "skeleton records with hints for an LLM to fill in"),
	.init = ss_init,
	.execute = ss_execute,
};
