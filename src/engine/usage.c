/*
 * usage.c - token usage sums and the constraints that cap a job's usage.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/usage.h"
#include "dgen/util.h"

void usage_add(struct dgen_llm_usage *dst, const struct dgen_llm_usage *src)
{
	dst->input_tokens += src->input_tokens;
	dst->output_tokens += src->output_tokens;
	dst->cached_tokens += src->cached_tokens;
	cost_add(&dst->cost, &src->cost);
}

struct json_object *usage_to_json(const struct dgen_llm_usage *u)
{
	return cost_usage_json(u->input_tokens, u->output_tokens, u->cached_tokens, &u->cost);
}

int usage_from_json(struct json_object *o, struct dgen_llm_usage *u, struct dgen_err *err)
{
	int64_t v;

	memset(u, 0, sizeof *u);
	if (!o)
		return 0;
	v = 0;
	if (dgen_json_get_int(o, "usage", "input_tokens", false, 0, INT64_MAX, &v, err) != 0)
		return -1;
	u->input_tokens = v;
	v = 0;
	if (dgen_json_get_int(o, "usage", "output_tokens", false, 0, INT64_MAX, &v, err) != 0)
		return -1;
	u->output_tokens = v;
	v = 0;
	if (dgen_json_get_int(o, "usage", "cached_tokens", false, 0, INT64_MAX, &v, err) != 0)
		return -1;
	u->cached_tokens = v;
	return 0;
}

void constraints_init(struct dgen_constraints *c)
{
	c->max_total_tokens = -1;
	c->max_total_input_tokens = -1;
	c->max_total_output_tokens = -1;
	c->max_total_cached_tokens = -1;
	c->max_total_execution_time = -1;
}

static const char *const constraint_keys[] = {
	"max_total_tokens", "max_total_input_tokens", "max_total_output_tokens",
	"max_total_cached_tokens", "max_total_execution_time", NULL,
};

static int64_t *token_field(struct dgen_constraints *c, size_t i)
{
	switch (i) {
	case 0: return &c->max_total_tokens;
	case 1: return &c->max_total_input_tokens;
	case 2: return &c->max_total_output_tokens;
	case 3: return &c->max_total_cached_tokens;
	}
	return NULL;
}

static int bad(struct dgen_err *err, const char *path, const char *key, const char *what)
{
	char *field = dgen_json_path_key(path, key);

	dgen_err_set(err, DGEN_EINVALID, "'%s' must be %s", field, what);
	dgen_err_detail_str(err, "field", field);
	free(field);
	return -1;
}

/*
 * Token limits are whole numbers >= -1; the time limit is any number >= -1
 * (seconds). A JSON null counts as absent (unlimited).
 */
int constraints_parse(struct json_object *obj, const char *path,
		      struct dgen_constraints *c, struct dgen_err *err)
{
	constraints_init(c);
	if (!obj)
		return 0;
	if (!json_object_is_type(obj, json_type_object))
		return dgen_json_type_error(err, DGEN_EINVALID, path, NULL, "an object");
	json_object_object_foreach(obj, key, val) {
		size_t i;

		for (i = 0; constraint_keys[i]; i++)
			if (strcmp(constraint_keys[i], key) == 0)
				break;
		if (!constraint_keys[i]) {
			char *field = dgen_json_path_key(path, key);
			struct json_object *allowed = json_object_new_array();

			for (size_t k = 0; constraint_keys[k]; k++)
				json_object_array_add(allowed,
						      json_object_new_string(constraint_keys[k]));
			dgen_err_set(err, DGEN_EINVALID, "'%s' is not a known constraint", field);
			dgen_err_detail_str(err, "field", field);
			dgen_err_detail(err, "allowed", allowed);
			free(field);
			return -1;
		}
		if (!val)
			continue;
		if (i < 4) {
			int64_t v;

			if (!json_object_is_type(val, json_type_int))
				return bad(err, path, key, "an integer (-1 = unlimited)");
			v = json_object_get_int64(val);
			if (v < -1)
				return bad(err, path, key, "-1 (unlimited) or a count >= 0");
			*token_field(c, i) = v;
		} else {
			double v;

			if (!json_object_is_type(val, json_type_int) &&
			    !json_object_is_type(val, json_type_double))
				return bad(err, path, key, "a number of seconds (-1 = unlimited)");
			v = json_object_get_double(val);
			if (!isfinite(v) || (v < 0 && v != -1))
				return bad(err, path, key, "-1 (unlimited) or seconds >= 0");
			c->max_total_execution_time = v;
		}
	}
	return 0;
}

struct json_object *constraints_to_json(const struct dgen_constraints *c)
{
	struct json_object *o = json_object_new_object();
	struct dgen_constraints tmp = *c;

	for (size_t i = 0; i < 4; i++) {
		int64_t v = *token_field(&tmp, i);

		if (v >= 0)
			json_object_object_add(o, constraint_keys[i], json_object_new_int64(v));
	}
	if (c->max_total_execution_time >= 0)
		json_object_object_add(o, constraint_keys[4],
				       dgen_json_new_double(c->max_total_execution_time));
	return o;
}

const char *constraints_exceeded(const struct dgen_constraints *c,
				 const struct dgen_llm_usage *u, double elapsed)
{
	if (c->max_total_tokens >= 0 &&
	    u->input_tokens + u->output_tokens >= c->max_total_tokens)
		return "max_total_tokens";
	if (c->max_total_input_tokens >= 0 && u->input_tokens >= c->max_total_input_tokens)
		return "max_total_input_tokens";
	if (c->max_total_output_tokens >= 0 && u->output_tokens >= c->max_total_output_tokens)
		return "max_total_output_tokens";
	if (c->max_total_cached_tokens >= 0 && u->cached_tokens >= c->max_total_cached_tokens)
		return "max_total_cached_tokens";
	if (c->max_total_execution_time >= 0 && elapsed >= c->max_total_execution_time)
		return "max_total_execution_time";
	return NULL;
}
