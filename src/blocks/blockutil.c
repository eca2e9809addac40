/*
 * blockutil.c - helpers shared by the builtin blocks (see blockutil.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockutil.h"
#include "dgen/json.h"
#include "dgen/usage.h"
#include "dgen/util.h"

/* One step of a dotted path: an object key, or an index into an array
 * when the step is all digits. */
static struct json_object *step(struct json_object *v, const char *key, size_t n)
{
	struct json_object *out = NULL;

	if (json_object_is_type(v, json_type_object)) {
		char *k = dgen_xstrndup(key, n);

		if (!json_object_object_get_ex(v, k, &out))
			out = NULL;
		free(k);
		return out;
	}
	if (json_object_is_type(v, json_type_array) && n > 0 && n < 10) {
		size_t idx = 0;

		for (size_t i = 0; i < n; i++) {
			if (key[i] < '0' || key[i] > '9')
				return NULL;
			idx = idx * 10 + (size_t)(key[i] - '0');
		}
		if (idx < json_object_array_length(v))
			return json_object_array_get_idx(v, idx);
	}
	return NULL;
}

struct json_object *blockutil_field(struct json_object *state, const char *name)
{
	struct json_object *v = NULL;
	const char *p = name;

	if (!state || !name || !json_object_is_type(state, json_type_object))
		return NULL;
	if (json_object_object_get_ex(state, name, &v))
		return v; /* may be NULL for a JSON null */
	if (!strchr(name, '.'))
		return NULL;
	v = state;
	while (v) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		v = step(v, p, n);
		if (!dot)
			break;
		p = dot + 1;
	}
	return v;
}

const char *blockutil_text(struct json_object *v, size_t *len, char **owned)
{
	struct json_object *copy;

	*owned = NULL;
	if (!v) {
		*len = 0;
		return "";
	}
	if (json_object_is_type(v, json_type_string)) {
		*len = (size_t)json_object_get_string_len(v);
		return json_object_get_string(v);
	}
	copy = dgen_json_copy(v);
	*owned = dgen_xstrdup(dgen_json_compact(copy));
	json_object_put(copy);
	*len = strlen(*owned);
	return *owned;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* Models wrap JSON in a fence even when told not to, and a reply cut by
 * max_tokens loses the closing one: strip what is there, never demand
 * both ends. */
const char *blockutil_strip_fence(const char *text, size_t len, size_t *out_len)
{
	const char *s = text;
	size_t n = len, ticks = 0;

	trim(&s, &n);
	while (ticks < n && s[ticks] == '`')
		ticks++;
	if (ticks < 3) {
		*out_len = n;
		return s;
	}
	s += ticks;
	n -= ticks;
	/* the info word right after the opening fence: ```json */
	while (n > 0 && (isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '+')) {
		s++;
		n--;
	}
	/* the closing fence, if the reply was not cut short */
	{
		size_t close = 0;

		while (close < n && s[n - 1 - close] == '`')
			close++;
		if (close >= 3)
			n -= close;
	}
	trim(&s, &n);
	*out_len = n;
	return s;
}

/* Finds "```" at the start of a line (or of the text) from position
 * `from`; returns its offset or len when there is none. */
static size_t fence_at_line_start(const char *t, size_t len, size_t from)
{
	for (size_t i = from; i + 3 <= len; i++) {
		if ((i == 0 || t[i - 1] == '\n') && memcmp(t + i, "```", 3) == 0)
			return i;
	}
	return len;
}

/* The inside of the fenced block opening at t[open], trimmed; *close
 * receives the offset of its closing fence. NULL when it never closes. */
static const char *fence_body(const char *t, size_t len, size_t open, size_t *out_len,
			      size_t *close)
{
	size_t i = open, body;
	const char *s;
	size_t n;

	while (i < len && t[i] == '`')
		i++;
	while (i < len && t[i] != '\n')
		i++; /* the info string */
	if (i >= len)
		return NULL;
	body = ++i;
	*close = fence_at_line_start(t, len, body);
	if (*close >= len)
		return NULL;
	s = t + body;
	n = *close - body;
	trim(&s, &n);
	*out_len = n;
	return s;
}

const char *blockutil_find_fence(const char *text, size_t len, size_t *out_len)
{
	const char *any = NULL;
	size_t any_len = 0;

	for (size_t at = fence_at_line_start(text, len, 0); at < len;) {
		size_t n, close;
		const char *body = fence_body(text, len, at, &n, &close);

		if (!body)
			break;
		if (at + 7 <= len && (strncmp(text + at + 3, "json", 4) == 0 ||
				      strncmp(text + at + 3, "JSON", 4) == 0)) {
			*out_len = n;
			return body;
		}
		if (!any) {
			any = body;
			any_len = n;
		}
		at = fence_at_line_start(text, len, close + 3);
	}
	*out_len = any_len;
	return any;
}

const char *blockutil_cfg_str(struct json_object *cfg, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(cfg, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long long blockutil_cfg_int(struct json_object *cfg, const char *key, long long dflt)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(cfg, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return (long long)json_object_get_int64(v);
}

double blockutil_cfg_num(struct json_object *cfg, const char *key, double dflt)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(cfg, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return dflt;
	return json_object_get_double(v);
}

bool blockutil_cfg_bool(struct json_object *cfg, const char *key, bool dflt)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(cfg, key, &v) || !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v);
}

int blockutil_cfg_count(struct json_object *cfg, const char *key, long long dflt,
			long long *out, struct dgen_err *err)
{
	*out = blockutil_cfg_int(cfg, key, dflt);
	if (*out < 0)
		return blockutil_config_error(err, key, "%s must be 0 or more", key);
	return 0;
}

const char *blockutil_input_text(struct json_object *cfg, const char *key, const char *dflt,
				 struct json_object *input, size_t *len, char **owned)
{
	const char *field = blockutil_cfg_str(cfg, key);

	return blockutil_text(blockutil_field(input, field ? field : dflt), len, owned);
}

int blockutil_output(struct json_object **output, const char *key, ...)
{
	va_list ap;

	*output = json_object_new_object();
	va_start(ap, key);
	for (; key; key = va_arg(ap, const char *))
		json_object_object_add(*output, key, va_arg(ap, struct json_object *));
	va_end(ap);
	return 0;
}

int blockutil_config_error(struct dgen_err *err, const char *key, const char *fmt, ...)
{
	char msg[DGEN_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dgen_err_set(err, DGEN_EINVALID, "%s", msg);
	dgen_err_detail_str(err, "field", key);
	return -1;
}

int blockutil_check_sampling(struct json_object *cfg, struct dgen_err *err)
{
	double t = blockutil_cfg_num(cfg, "temperature", 0.7);
	long long m = blockutil_cfg_int(cfg, "max_tokens", 2048);

	if (!(t >= 0.0 && t <= 2.0))
		return blockutil_config_error(err, "temperature",
					      "temperature must be between 0 and 2");
	if (m < 1 || m > 1000000)
		return blockutil_config_error(err, "max_tokens",
					      "max_tokens must be between 1 and 1000000");
	return 0;
}

int blockutil_compile(const char *src, const char *key, struct dgen_template **out,
		      struct dgen_err *err)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *line = NULL;

	if (template_compile(src, strlen(src), out, &e) == 0)
		return 0;
	if (e.detail && json_object_object_get_ex(e.detail, "line", &line))
		line = json_object_get(line);
	dgen_err_set(err, DGEN_EINVALID, "%s: %s", key, e.msg);
	dgen_err_detail_str(err, "field", key);
	if (line)
		dgen_err_detail(err, "line", line);
	dgen_err_clear(&e);
	return -1;
}

int blockutil_prompt(const struct dgen_template *t, const char *what, const char *field,
		     struct json_object *input, const struct dgen_block_ctx *ctx,
		     struct dgen_buf *out, struct dgen_err *err)
{
	struct dgen_err e = DGEN_ERR_INIT;

	if (!t) {
		char *owned;
		size_t len;
		const char *s = blockutil_text(blockutil_field(input, field), &len, &owned);

		dgen_buf_append(out, s, len);
		free(owned);
		return 0;
	}
	if (template_render(t, input, ctx->tlim, out, &e) == 0)
		return 0;
	dgen_err_set(err, e.code, "%s: %s", what, e.msg);
	if (e.detail)
		dgen_err_detail(err, "template", json_object_get(e.detail));
	dgen_err_clear(&e);
	return -1;
}

/* The generators' one road to the LLM, so that usage is always counted
 * (failed calls cost tokens too) and the reply text is the only thing a
 * block keeps of the response. */
int blockutil_ask(struct dgen_block_ctx *ctx, struct json_object *config,
		  const struct dgen_llm_message *msgs, size_t n, enum dgen_llm_format fmt,
		  struct json_object *schema, char **reply, struct dgen_err *err)
{
	struct dgen_llm_request req;
	struct dgen_llm_response resp;
	struct dgen_llm_handle *h = ctx->llm;
	const char *model_id = blockutil_cfg_str(config, "model");
	int rc;

	*reply = NULL;
	if (ctx->models) /* named models (SPEC.md §9) resolve here */
		h = ctx->models->llm(ctx, model_id, &model_id, err);
	else if (!h)
		dgen_err_set(err, DGEN_EBLOCK, "no LLM is configured (set LLM_ENDPOINT)");
	if (!h)
		return -1;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.messages = msgs;
	req.n_messages = n;
	req.model = model_id;
	req.temperature = blockutil_cfg_num(config, "temperature", 0.7);
	req.max_tokens = (int)blockutil_cfg_int(config, "max_tokens", 2048);
	req.format = fmt;
	req.schema = schema;
	req.cancel = ctx->cancel;
	req.deadline = ctx->deadline;
	req.on_wait = ctx->on_wait;
	req.on_wait_arg = ctx->on_wait_arg;
	rc = llm_call(h, &req, &resp, err);
	if (ctx->usage)
		usage_add(ctx->usage, &resp.usage);
	if (rc == 0) {
		*reply = resp.text ? resp.text : dgen_xstrdup("");
		resp.text = NULL;
	}
	llm_response_free(&resp);
	return rc;
}

/* A JSON object from s[0..n), or NULL. */
static struct json_object *object_from(const char *s, size_t n)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v = NULL;

	if (!s || dgen_json_parse(s, n, &dgen_json_default_limits, &v, &e) != 0) {
		dgen_err_clear(&e);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_object)) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

struct json_object *blockutil_json_reply(const char *text)
{
	size_t len = strlen(text), n;
	const char *body;
	struct json_object *o = object_from(text, len);

	if (!o) {
		body = blockutil_strip_fence(text, len, &n);
		o = object_from(body, n);
	}
	if (!o) {
		body = blockutil_find_fence(text, len, &n);
		o = object_from(body, n);
	}
	if (!o) {
		o = json_object_new_object();
		json_object_object_add(o, "raw_response", json_object_new_string(text));
	}
	return o;
}
