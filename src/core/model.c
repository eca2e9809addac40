/*
 * model.c - named models as plain data (see model.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dgen/json.h"
#include "dgen/model.h"
#include "dgen/util.h"

static const char *const providers[] = { "openai", "anthropic", "gemini", "ollama", NULL };

const char *model_kind_name(enum dgen_model_kind kind)
{
	return kind == DGEN_MODEL_EMBEDDING ? "embedding" : "llm";
}

/* 422 naming field, with the value's allowed shape in the message. */
static int invalid(struct dgen_err *err, const char *field, const char *msg)
{
	dgen_err_set(err, DGEN_EINVALID, "'%s' %s", field, msg);
	dgen_err_detail_str(err, "field", field);
	return -1;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DGEN_MODEL_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '/' || *p == 0x7f)
			return false;
	return true;
}

static bool provider_ok(const char *s)
{
	for (int i = 0; providers[i]; i++)
		if (strcmp(providers[i], s) == 0)
			return true;
	return false;
}

static bool url_ok(const char *s)
{
	const char *host;

	if (strncasecmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return false;
	return *host && *host != '/' && !strpbrk(s, " \t\r\n");
}

/* A non-negative limit field (absent = 0, unlimited). */
static int get_limit(struct json_object *body, const char *key, long *out, struct dgen_err *err)
{
	int64_t v = 0;

	if (dgen_json_get_int(body, "", key, false, 0, INT32_MAX, &v, err) != 0) {
		if (err->code == DGEN_EBADREQ) {
			struct json_object *x = NULL;

			/* a negative or too large integer is a value error */
			if (json_object_object_get_ex(body, key, &x) &&
			    json_object_is_type(x, json_type_int))
				return invalid(err, key, "must be an integer from 0 to 2147483647");
		}
		return -1;
	}
	*out = (long)v;
	return 0;
}

/* price_per_mtok {input, output, cached} and currency: both or neither. */
static int get_price(struct json_object *body, struct dgen_model *out, struct dgen_err *err)
{
	static const char *const keys[] = { "input", "output", "cached", NULL };
	struct json_object *p = NULL;
	const char *cur = NULL;
	double *dst[] = { &out->price_input, &out->price_output, &out->price_cached };

	if (dgen_json_get_obj(body, "", "price_per_mtok", false, &p, err) != 0 ||
	    dgen_json_get_str(body, "", "currency", false, &cur, err) != 0)
		return -1;
	if (!p)
		return 0;
	if (dgen_json_only_keys(p, "price_per_mtok", keys, err) != 0)
		return -1;
	for (int i = 0; keys[i]; i++) {
		char field[48];

		struct json_object *v = NULL;

		/* a cached price absent or null: cached input costs input's price */
		*dst[i] = 0;
		if (i == 2 && (!json_object_object_get_ex(p, keys[i], &v) || !v)) {
			*dst[i] = -1;
			continue;
		}
		if (dgen_json_get_num(p, "price_per_mtok", keys[i], i < 2, dst[i], err) != 0)
			return -1;
		snprintf(field, sizeof field, "price_per_mtok.%s", keys[i]);
		if (*dst[i] < 0)
			return invalid(err, field, "must be 0 or more");
	}
	if (!cur || !*cur || strlen(cur) > 8)
		return invalid(err, "currency", "must be given with price_per_mtok (1 to 8 characters, e.g. \"USD\")");
	out->has_price = true;
	out->currency = dgen_xstrdup(cur);
	return 0;
}

/* Every field of the body in turn: type errors from the JSON getters are
 * 400 naming the field, value errors 422 naming it. */
int model_from_json(struct json_object *body, enum dgen_model_kind kind, struct dgen_model *out,
		    bool *key_given, struct dgen_err *err)
{
	static const char *const llm_keys[] = {
		"name", "provider", "endpoint", "api_key", "model_name", "is_default",
		"max_in_flight", "requests_per_minute", "tokens_per_minute", "price_per_mtok",
		"currency", "api_key_set", "api_key_last4", "scope", NULL
	};
	static const char *const emb_keys[] = {
		"name", "provider", "endpoint", "api_key", "model_name", "is_default",
		"dimensions", "max_in_flight", "requests_per_minute", "tokens_per_minute",
		"price_per_mtok", "currency", "api_key_set", "api_key_last4", "scope", NULL
	};
	const char *name = NULL, *provider = NULL, *endpoint = NULL, *key = NULL, *mname = NULL;
	int64_t dims = 0;

	memset(out, 0, sizeof *out);
	*key_given = false;
	if (!json_object_is_type(body, json_type_object))
		return dgen_err_set(err, DGEN_EBADREQ, "Request body must be a JSON object");
	if (dgen_json_only_keys(body, "", kind == DGEN_MODEL_EMBEDDING ? emb_keys : llm_keys,
				err) != 0 ||
	    dgen_json_get_str(body, "", "name", true, &name, err) != 0 ||
	    dgen_json_get_str(body, "", "provider", true, &provider, err) != 0 ||
	    dgen_json_get_str(body, "", "endpoint", true, &endpoint, err) != 0 ||
	    dgen_json_get_str(body, "", "model_name", true, &mname, err) != 0 ||
	    dgen_json_get_str(body, "", "api_key", false, &key, err) != 0 ||
	    dgen_json_get_bool(body, "", "is_default", false, &out->is_default, err) != 0)
		return -1;
	if (!name_ok(name))
		return invalid(err, "name", "must be 1 to 128 characters, without '/' or control characters");
	if (!provider_ok(provider)) {
		invalid(err, "provider", "must be one of openai, anthropic, gemini, ollama");
		dgen_err_detail_str(err, "value", provider);
		return -1;
	}
	if (!url_ok(endpoint))
		return invalid(err, "endpoint", "must be an http:// or https:// URL without spaces");
	if (!*mname || strlen(mname) > 256)
		return invalid(err, "model_name", "must be 1 to 256 characters");
	if (key && strlen(key) > 4096)
		return invalid(err, "api_key", "must be at most 4096 characters");
	if (kind == DGEN_MODEL_EMBEDDING &&
	    dgen_json_get_int(body, "", "dimensions", false, 0, 65536, &dims, err) != 0)
		return -1;
	out->name = dgen_xstrdup(name);
	out->provider = dgen_xstrdup(provider);
	out->endpoint = dgen_xstrdup(endpoint);
	out->model_name = dgen_xstrdup(mname);
	out->dimensions = (long)dims;
	if (key) {
		*key_given = true;
		if (*key) {
			size_t n = strlen(key);

			out->api_key = dgen_xstrdup(key);
			out->api_key_last4 = dgen_xstrdup(key + (n > 4 ? n - 4 : 0));
		}
	}
	if (get_limit(body, "max_in_flight", &out->max_in_flight, err) != 0 ||
	    get_limit(body, "requests_per_minute", &out->requests_per_minute, err) != 0 ||
	    get_limit(body, "tokens_per_minute", &out->tokens_per_minute, err) != 0)
		return -1;
	return get_price(body, out, err);
}

static void add_limit(struct json_object *o, const char *key, long v)
{
	json_object_object_add(o, key, v > 0 ? json_object_new_int64(v) : NULL);
}

struct json_object *model_to_json(const struct dgen_model *m, enum dgen_model_kind kind)
{
	struct json_object *o = json_object_new_object();

	dgen_json_add_str(o, "name", m->name);
	dgen_json_add_str(o, "provider", m->provider);
	dgen_json_add_str(o, "endpoint", m->endpoint);
	dgen_json_add_str(o, "model_name", m->model_name);
	json_object_object_add(o, "is_default", json_object_new_boolean(m->is_default));
	dgen_json_add_str(o, "scope", m->owner_id ? "own" : "global");
	if (kind == DGEN_MODEL_EMBEDDING)
		json_object_object_add(o, "dimensions", json_object_new_int64(m->dimensions));
	json_object_object_add(o, "api_key_set", json_object_new_boolean(m->api_key_last4 != NULL));
	json_object_object_add(o, "api_key_last4", m->api_key_last4
			       ? json_object_new_string(m->api_key_last4) : NULL);
	add_limit(o, "max_in_flight", m->max_in_flight);
	add_limit(o, "requests_per_minute", m->requests_per_minute);
	add_limit(o, "tokens_per_minute", m->tokens_per_minute);
	if (m->has_price) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "input", dgen_json_new_double(m->price_input));
		json_object_object_add(p, "output", dgen_json_new_double(m->price_output));
		json_object_object_add(p, "cached", m->price_cached >= 0
				       ? dgen_json_new_double(m->price_cached) : NULL);
		json_object_object_add(o, "price_per_mtok", p);
		dgen_json_add_str(o, "currency", m->currency);
	} else {
		json_object_object_add(o, "price_per_mtok", NULL);
		json_object_object_add(o, "currency", NULL);
	}
	return o;
}

static char *dup_or_null(const char *s)
{
	return s ? dgen_xstrdup(s) : NULL;
}

void model_copy(struct dgen_model *dst, const struct dgen_model *src)
{
	*dst = *src;
	dst->name = dup_or_null(src->name);
	dst->provider = dup_or_null(src->provider);
	dst->endpoint = dup_or_null(src->endpoint);
	dst->api_key = dup_or_null(src->api_key);
	dst->api_key_last4 = dup_or_null(src->api_key_last4);
	dst->model_name = dup_or_null(src->model_name);
	dst->currency = dup_or_null(src->currency);
}

void model_clear(struct dgen_model *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->provider);
	free(m->endpoint);
	if (m->api_key)
		memset(m->api_key, 0, strlen(m->api_key));
	free(m->api_key);
	free(m->api_key_last4);
	free(m->model_name);
	free(m->currency);
	memset(m, 0, sizeof *m);
}

void model_list_free(struct dgen_model_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		model_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Two passes by name: the owner's own model first, then the global one;
 * the default is always a global model. */
const struct dgen_model *model_list_find(const struct dgen_model_list *l, int64_t owner,
					 const char *name)
{
	const struct dgen_model *first = NULL;

	if (!l)
		return NULL;
	if (name && *name) {
		for (size_t i = 0; owner && i < l->n; i++)
			if (l->v[i].owner_id == owner && strcmp(l->v[i].name, name) == 0)
				return &l->v[i];
		for (size_t i = 0; i < l->n; i++)
			if (!l->v[i].owner_id && strcmp(l->v[i].name, name) == 0)
				return &l->v[i];
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].owner_id)
			continue;
		if (l->v[i].is_default)
			return &l->v[i];
		if (!first)
			first = &l->v[i];
	}
	return first;
}

void model_price(const struct dgen_model *m, struct dgen_price *p)
{
	if (!m)
		cost_price_set(p, false, 0, 0, 0, NULL);
	else
		cost_price_set(p, m->has_price, m->price_input, m->price_output, m->price_cached,
			       m->currency);
}
