/*
 * blockctx.c - helpers of the newer blocks (see blockctx.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockctx.h"
#include "dgen/blockutil.h"
#include "dgen/buf.h"
#include "dgen/json.h"
#include "dgen/usage.h"
#include "dgen/util.h"

int blockctx_value(struct json_object *v, const char *key, bool keep_text,
		   struct json_object *input, const struct dgen_block_ctx *ctx,
		   struct json_object **out, struct dgen_err *err)
{
	struct dgen_template *t = NULL;
	struct dgen_buf b = DGEN_BUF_INIT;
	struct dgen_err e = DGEN_ERR_INIT;
	int rc = -1;

	*out = NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*out = dgen_json_copy(v);
		return 0;
	}
	if (blockutil_compile(json_object_get_string(v), key, &t, err) != 0) {
		err->code = DGEN_EBLOCK;
		goto out;
	}
	if (blockutil_prompt(t, key, NULL, input, ctx, &b, err) != 0)
		goto out;
	if (dgen_json_parse(dgen_buf_str(&b), b.len, &dgen_json_default_limits, out, &e) != 0) {
		if (!keep_text) {
			dgen_err_set(err, DGEN_EBLOCK, "%s did not render to JSON: %s", key, e.msg);
			dgen_err_detail_str(err, "field", key);
			goto out;
		}
		*out = json_object_new_string_len(dgen_buf_str(&b), (int)b.len);
	}
	rc = 0;
out:
	template_free(t);
	dgen_buf_free(&b);
	dgen_err_clear(&e);
	return rc;
}

int blockctx_check_template(struct json_object *config, const char *key, struct dgen_err *err)
{
	struct json_object *v = NULL;
	struct dgen_template *t = NULL;

	if (!json_object_object_get_ex(config, key, &v) || !json_object_is_type(v, json_type_string))
		return 0;
	if (blockutil_compile(json_object_get_string(v), key, &t, err) != 0)
		return -1;
	template_free(t);
	return 0;
}

/* The first '{' whose braces balance (strings and escapes respected). */
static const char *brace_span(const char *t, size_t *n)
{
	const char *start = strchr(t, '{');

	while (start) {
		int depth = 0;
		bool str = false, esc = false;

		for (const char *p = start; *p; p++) {
			if (str) {
				if (esc)
					esc = false;
				else if (*p == '\\')
					esc = true;
				else if (*p == '"')
					str = false;
			} else if (*p == '"') {
				str = true;
			} else if (*p == '{') {
				depth++;
			} else if (*p == '}' && --depth == 0) {
				*n = (size_t)(p - start + 1);
				return start;
			}
		}
		start = strchr(start + 1, '{');
	}
	return NULL;
}

/* blockutil_json_reply() reads the whole text and the fences; what it
 * could not read comes back as its {"raw_response": text} stand-in, and
 * then the first {...} span is tried. */
struct json_object *blockctx_reply_object(const char *text)
{
	struct json_object *o = blockutil_json_reply(text), *raw = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	const char *body;
	size_t n = 0;

	if (!(json_object_object_length(o) == 1 &&
	      json_object_object_get_ex(o, "raw_response", &raw) &&
	      strcmp(json_object_get_string(raw), text) == 0))
		return o;
	json_object_put(o);
	o = NULL;
	body = brace_span(text, &n);
	if (!body || dgen_json_parse(body, n, &dgen_json_default_limits, &o, &e) != 0 ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	dgen_err_clear(&e);
	return o;
}

int blockctx_ask_object(struct dgen_block_ctx *ctx, struct json_object *config,
			const char *system, const char *user, double temperature, int max_tokens,
			struct json_object *schema, struct json_object **out, struct dgen_err *err)
{
	struct json_object *cfg = json_object_new_object();
	struct dgen_llm_message msgs[2];
	const char *model = blockutil_cfg_str(config, "model");
	char *reply = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (model && *model)
		json_object_object_add(cfg, "model", json_object_new_string(model));
	json_object_object_add(cfg, "temperature", json_object_new_double(temperature));
	json_object_object_add(cfg, "max_tokens", json_object_new_int(max_tokens));
	if (system && *system)
		msgs[n++] = (struct dgen_llm_message){ "system", system };
	msgs[n++] = (struct dgen_llm_message){ "user", user };
	rc = blockutil_ask(ctx, cfg, msgs, n, schema ? DGEN_LLM_JSON_SCHEMA : DGEN_LLM_JSON_OBJECT,
			   schema, &reply, err);
	if (rc == 0) {
		*out = blockctx_reply_object(reply);
		if (!*out) {
			rc = dgen_err_set(err, DGEN_EBLOCK, "the model's reply is not JSON: %.80s", reply);
			dgen_err_detail_str(err, "reply", reply);
		}
	}
	free(reply);
	json_object_put(cfg);
	return rc;
}

int blockctx_embed(struct dgen_block_ctx *ctx, struct json_object *config,
		   const char *const *texts, size_t n, double **vectors, size_t *dim,
		   struct dgen_err *err)
{
	const char *name = blockutil_cfg_str(config, "embedding_model");
	const char *model_id = name;
	struct dgen_embed_client *c;
	struct dgen_llm_usage u = { 0 };
	int rc;

	*vectors = NULL;
	*dim = 0;
	if (!ctx->models || !(c = ctx->models->embedder(ctx, name, &model_id, err))) {
		if (!ctx->models)
			dgen_err_set(err, DGEN_EBLOCK, "no embeddings endpoint is configured");
		return -1;
	}
	if (n == 0)
		return 0;
	rc = embed_call(c, model_id, texts, n, ctx->cancel, ctx->deadline, vectors, dim, &u, err);
	if (ctx->usage)
		usage_add(ctx->usage, &u);
	return rc;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void blockctx_rng_seed(struct blockctx_rng *r, uint64_t seed, const char *salt)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = salt ? salt : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	r->s = mix(seed ^ mix(h));
}

uint64_t blockctx_rng_next(struct blockctx_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix(r->s);
}

double blockctx_rng_unit(struct blockctx_rng *r)
{
	return (double)(blockctx_rng_next(r) >> 11) / 9007199254740992.0;
}

double blockctx_rng_normal(struct blockctx_rng *r)
{
	double u1 = blockctx_rng_unit(r), u2 = blockctx_rng_unit(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t blockctx_hash_json(struct json_object *v)
{
	struct json_object *c = dgen_json_copy(v);
	const char *s = dgen_json_compact(c);
	uint64_t h = 0xcbf29ce484222325ull;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	json_object_put(c);
	return h;
}
