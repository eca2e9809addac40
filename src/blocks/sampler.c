/*
 * sampler.c - Sampler: columns drawn without an LLM, seeded so that a unit
 * gets the same values every time it runs (after a restart too).
 *
 * `columns` is an object of column name -> spec, drawn in order:
 *   {"type":"category","values":[...],"weights":[...]}   weights optional
 *   {"type":"uniform","min":a,"max":b}                    float in [a, b)
 *   {"type":"normal","mean":m,"std":s,"min":a?,"max":b?}  clamped when bounded
 *   {"type":"integer","min":a,"max":b}                    a..b inclusive
 *   {"type":"date","start":"YYYY-MM-DD","end":"YYYY-MM-DD"}
 *   {"type":"conditional","on":"col","choices":{"<value>":{"values":[...],
 *       "weights":[...]}, ...},"default":{"values":[...]}}
 * A conditional reads an earlier column, or else the state's field. The
 * generator is seeded from `seed`, the column name, the unit number (when
 * the run has one) and the unit's starting state, so repetitions of one
 * seed differ and a re-run of the same unit repeats itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dgen/blockctx.h"
#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "*", NULL };

static const struct dgen_block_param params[] = {
	{ .name = "columns", .type = DGEN_PARAM_SCHEMA, .required = true, .format = "json",
	  .description = "Object of column -> spec: category (values, weights), uniform / integer (min, max), "
	  "normal (mean, std, min?, max?), date (start, end), conditional (on, choices, default)" },
	BLOCKUTIL_PARAM("seed", DGEN_PARAM_INTEGER, "0",
			"Seed of the draws; the same seed file and seed give the same values"),
};

/* A config error naming columns.<col>.<what>: "<that path> <msg>". */
static int spec_error(struct dgen_err *err, const char *col, const char *what, const char *msg)
{
	char key[200];

	snprintf(key, sizeof key, "columns.%s%s%s", col, what ? "." : "", what ? what : "");
	return blockutil_config_error(err, key, "%s %s", key, msg);
}

static bool num(struct json_object *o, const char *k, double *out)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_double(v);
	return true;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Days since 1970-01-01 of "YYYY-MM-DD"; false when it is not a date. */
static bool parse_day(struct json_object *v, long *days)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *s = json_object_get_string(v);
	long y, m, d;
	bool leap;

	if (!json_object_is_type(v, json_type_string) || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = strtol(s, NULL, 10);
	m = strtol(s + 5, NULL, 10);
	d = strtol(s + 8, NULL, 10);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

/* values and weights of a categorical choice: weights (when given) as
 * many as values, none negative, summing to a positive number. */
static int check_choice(struct json_object *c, const char *col, const char *where,
			struct dgen_err *err)
{
	struct json_object *vals = NULL, *w = NULL;
	char what[120];
	double sum = 0;

	snprintf(what, sizeof what, "%s%svalues", where ? where : "", where ? "." : "");
	if (!json_object_is_type(c, json_type_object) || !json_object_object_get_ex(c, "values", &vals) ||
	    !json_object_is_type(vals, json_type_array) || json_object_array_length(vals) == 0)
		return spec_error(err, col, what, "must be a non-empty array");
	if (!json_object_object_get_ex(c, "weights", &w))
		return 0;
	snprintf(what, sizeof what, "%s%sweights", where ? where : "", where ? "." : "");
	if (!json_object_is_type(w, json_type_array) ||
	    json_object_array_length(w) != json_object_array_length(vals))
		return spec_error(err, col, what, "must be an array as long as values");
	for (size_t i = 0; i < json_object_array_length(w); i++) {
		struct json_object *x = json_object_array_get_idx(w, i);
		double d;

		if (!(json_object_is_type(x, json_type_int) || json_object_is_type(x, json_type_double)) ||
		    (d = json_object_get_double(x)) < 0 || !isfinite(d))
			return spec_error(err, col, what, "must hold numbers of 0 or more");
		sum += d;
	}
	if (!(sum > 0))
		return spec_error(err, col, what, "must sum to a positive number");
	return 0;
}

/* Checks one column spec; earlier columns are the keys of `seen`. */
static int check_column(const char *col, struct json_object *s, struct json_object *seen,
			struct dgen_err *err)
{
	struct json_object *tv = NULL, *x = NULL;
	const char *type;
	double a, b;
	long da, db;

	if (!json_object_is_type(s, json_type_object) || !json_object_object_get_ex(s, "type", &tv) ||
	    !json_object_is_type(tv, json_type_string))
		return spec_error(err, col, "type", "must be one of category, uniform, normal, "
				  "integer, date, conditional");
	type = json_object_get_string(tv);
	if (strcmp(type, "category") == 0)
		return check_choice(s, col, NULL, err);
	if (strcmp(type, "uniform") == 0 || strcmp(type, "integer") == 0) {
		if (!num(s, "min", &a) || !num(s, "max", &b) || !isfinite(a) || !isfinite(b))
			return spec_error(err, col, "min", "and max must be numbers");
		if (a > b)
			return spec_error(err, col, "min", "must not exceed max");
		if (!isfinite(b - a))
			return spec_error(err, col, "max", "minus min must be a finite number");
		if (strcmp(type, "integer") == 0 && (a != floor(a) || b != floor(b) ||
						     fabs(a) > 9007199254740992.0 ||
						     fabs(b) > 9007199254740992.0))
			return spec_error(err, col, "min", "and max must be integers within +-2^53");
		return 0;
	}
	if (strcmp(type, "normal") == 0) {
		if (!num(s, "mean", &a) || !num(s, "std", &b) || !(b >= 0) || !isfinite(a) || !isfinite(b))
			return spec_error(err, col, "std", "must be a number of 0 or more, with a "
					  "numeric mean");
		if (!isfinite(fabs(a) + 64 * b))
			return spec_error(err, col, "std", "is too large: draws would overflow");
		if (num(s, "min", &a) && num(s, "max", &b) && a > b)
			return spec_error(err, col, "min", "must not exceed max");
		return 0;
	}
	if (strcmp(type, "date") == 0) {
		if (!json_object_object_get_ex(s, "start", &x) || !parse_day(x, &da))
			return spec_error(err, col, "start", "must be a date YYYY-MM-DD");
		if (!json_object_object_get_ex(s, "end", &x) || !parse_day(x, &db))
			return spec_error(err, col, "end", "must be a date YYYY-MM-DD");
		if (da > db)
			return spec_error(err, col, "start", "must not be after end");
		return 0;
	}
	if (strcmp(type, "conditional") == 0) {
		struct json_object *ch = NULL, *d = NULL;
		const char *on;

		if (!json_object_object_get_ex(s, "on", &x) || !json_object_is_type(x, json_type_string))
			return spec_error(err, col, "on", "must name a column or a state field");
		on = json_object_get_string(x);
		if (strcmp(on, col) == 0)
			return spec_error(err, col, "on", "cannot depend on its own column");
		(void)seen;
		if (!json_object_object_get_ex(s, "choices", &ch) || !json_object_is_type(ch, json_type_object) ||
		    json_object_object_length(ch) == 0)
			return spec_error(err, col, "choices", "must be an object of value -> "
					  "{values, weights}");
		json_object_object_foreach(ch, k, c) {
			char where[100];

			snprintf(where, sizeof where, "choices.%s", k);
			if (check_choice(c, col, where, err) != 0)
				return -1;
		}
		if (json_object_object_get_ex(s, "default", &d) && check_choice(d, col, "default", err))
			return -1;
		return 0;
	}
	return spec_error(err, col, "type", "must be one of category, uniform, normal, integer, "
			  "date, conditional");
}

static int sampler_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct json_object *cols = NULL, *seen;
	int rc = 0;

	*state = NULL;
	if (!json_object_object_get_ex(config, "columns", &cols) ||
	    !json_object_is_type(cols, json_type_object) || json_object_object_length(cols) == 0)
		return blockutil_config_error(err, "columns",
					      "columns is required: an object of column -> spec");
	seen = json_object_new_object();
	json_object_object_foreach(cols, k, s) {
		if ((rc = check_column(k, s, seen, err)) != 0)
			break;
		json_object_object_add(seen, k, NULL);
	}
	json_object_put(seen);
	return rc;
}

static struct json_object *draw_choice(struct json_object *c, struct blockctx_rng *r)
{
	struct json_object *vals = NULL, *w = NULL;
	size_t n, i;
	double sum = 0, x;

	json_object_object_get_ex(c, "values", &vals);
	n = json_object_array_length(vals);
	if (!json_object_object_get_ex(c, "weights", &w))
		return dgen_json_copy(json_object_array_get_idx(vals, blockctx_rng_next(r) % n));
	for (i = 0; i < n; i++)
		sum += json_object_get_double(json_object_array_get_idx(w, i));
	x = blockctx_rng_unit(r) * sum;
	for (i = 0; i + 1 < n; i++) {
		double wi = json_object_get_double(json_object_array_get_idx(w, i));

		if (x < wi && wi > 0)
			break;
		x -= wi;
	}
	while (i > 0 && json_object_get_double(json_object_array_get_idx(w, i)) <= 0)
		i--; /* never land on a zero weight through rounding */
	return dgen_json_copy(json_object_array_get_idx(vals, i));
}

/* The text a conditional matches its choices against. */
static char *key_text(struct json_object *v)
{
	char *owned;
	size_t len;
	const char *s = blockutil_text(v, &len, &owned);

	return owned ? owned : dgen_xstrdup(s);
}

static struct json_object *draw(struct json_object *s, struct blockctx_rng *r,
				 struct json_object *out, struct json_object *input)
{
	struct json_object *tv = NULL, *x = NULL;
	const char *type;
	double a = 0, b = 0, m = 0, sd = 0;

	json_object_object_get_ex(s, "type", &tv);
	type = json_object_get_string(tv);
	if (strcmp(type, "category") == 0)
		return draw_choice(s, r);
	if (strcmp(type, "uniform") == 0) {
		num(s, "min", &a);
		num(s, "max", &b);
		return dgen_json_new_double(a + (b - a) * blockctx_rng_unit(r));
	}
	if (strcmp(type, "integer") == 0) {
		num(s, "min", &a);
		num(s, "max", &b);
		return json_object_new_int64((int64_t)a +
					     (int64_t)(blockctx_rng_next(r) % (uint64_t)(b - a + 1)));
	}
	if (strcmp(type, "normal") == 0) {
		double v;

		num(s, "mean", &m);
		num(s, "std", &sd);
		v = m + sd * blockctx_rng_normal(r);
		if (num(s, "min", &a) && v < a)
			v = a;
		if (num(s, "max", &b) && v > b)
			v = b;
		return dgen_json_new_double(v);
	}
	if (strcmp(type, "date") == 0) {
		long da = 0, db = 0;
		char buf[16];
		time_t t;
		struct tm tm;

		json_object_object_get_ex(s, "start", &x);
		parse_day(x, &da);
		json_object_object_get_ex(s, "end", &x);
		parse_day(x, &db);
		t = (time_t)(da + (long)(blockctx_rng_next(r) % (uint64_t)(db - da + 1))) * 86400;
		gmtime_r(&t, &tm);
		strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
		return json_object_new_string(buf);
	}
	{
		/* conditional: the choice for the value of `on`, else default */
		struct json_object *on = NULL, *ch = NULL, *c = NULL, *d = NULL;
		const char *name;
		char *k;

		json_object_object_get_ex(s, "on", &on);
		name = json_object_get_string(on);
		if (!json_object_object_get_ex(out, name, &x))
			x = blockutil_field(input, name);
		k = key_text(x);
		json_object_object_get_ex(s, "choices", &ch);
		if (!json_object_object_get_ex(ch, k, &c) && !json_object_object_get_ex(s, "default", &d)) {
			free(k);
			return NULL;
		}
		free(k);
		return draw_choice(c ? c : d, r);
	}
}

static int sampler_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			   struct json_object *input, struct json_object **output,
			   struct dgen_err *err)
{
	struct json_object *cols = NULL, *out = json_object_new_object();
	uint64_t base = (uint64_t)blockutil_cfg_int(config, "seed", 0);

	(void)state;
	(void)err;
	base ^= blockctx_hash_json(input);
	if (ctx->unit >= 0)
		base ^= (uint64_t)ctx->unit * 0x9e3779b97f4a7c15ull;
	json_object_object_get_ex(config, "columns", &cols);
	json_object_object_foreach(cols, k, s) {
		struct blockctx_rng r;

		blockctx_rng_seed(&r, base, k);
		json_object_object_add(out, k, draw(s, &r, out, input));
	}
	*output = out;
	return 0;
}

const struct dgen_block_type sampler_block = {
	BLOCKUTIL_TYPE("Sampler", "Sampler", "seeders",
		       "Adds columns drawn without an LLM: weighted categories, uniform, normal "
		       "and integer ranges, dates, choices conditioned on another column; "
		       "seeded and reproducible per unit"),
	.init = sampler_init,
	.execute = sampler_execute,
};
