/*
 * test_llm.c - the LLM client against the real mock server
 * (tests/mock-llm/mock-llm, started here on a free port): every provider's
 * wire format with usage and cached tokens, JSON schema output, and every
 * failure a provider can throw at us (errors, 429 + Retry-After, hangs,
 * cut-off and oversized bodies, malformed JSON, cut replies), plus
 * cancellation from another thread and keeping the API key out of logs.
 */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dgen/clock.h"
#include "dgen/err.h"
#include "dgen/llm.h"
#include "dgen/log.h"
#include "mock-llm/mock.h"
#include "tap.h"

#define KEY "sk-canary-7f3a9c1e5b"

static struct mock M;

/* A configuration filled by hand, short timeouts so the file stays fast. */
static void base_cfg(struct dgen_config *cfg, const char *path, const char *provider)
{
	static char ep[256];

	memset(cfg, 0, sizeof(*cfg));
	snprintf(ep, sizeof(ep), "%s%s", M.url, path);
	cfg->llm_endpoint = ep;
	cfg->llm_api_key = (char *)KEY;
	cfg->llm_model = (char *)"mock-model";
	cfg->llm_provider = (char *)(provider ? provider : "");
	cfg->llm_proxy = (char *)"";
	cfg->llm_timeout_ms = 5000;
	cfg->llm_connect_timeout_ms = 2000;
	cfg->llm_max_retries = 2;
	cfg->llm_retry_after_cap_ms = 5000;
	cfg->llm_max_response = 1 << 20;
}

struct fixture {
	struct dgen_llm_client *c;
	struct dgen_llm_handle *h;
};

static int fx_open(struct fixture *f, const struct dgen_config *cfg)
{
	struct dgen_err err = DGEN_ERR_INIT;

	memset(f, 0, sizeof(*f));
	if (llm_client_new(cfg, &f->c, &err)) {
		diag("llm_client_new: %s", err.msg);
		dgen_err_clear(&err);
		return -1;
	}
	llm_client_set_backoff(f->c, 20, 100);
	f->h = llm_handle_new(f->c);
	return 0;
}

static void fx_close(struct fixture *f)
{
	llm_handle_free(f->h);
	llm_client_free(f->c);
}

static const struct dgen_llm_message CHAT[] = {
	{ "system", "You are a terse assistant for tests." },
	{ "user", "What is the tallest mountain on Earth, and how tall is it?" },
};

static void req_init(struct dgen_llm_request *r)
{
	memset(r, 0, sizeof(*r));
	r->messages = CHAT;
	r->n_messages = 2;
	r->temperature = 0.2;
	r->max_tokens = 200;
}

/* The last n requests the mock saw (a JSON array; caller puts the parent). */
static struct json_object *mock_last(int n, struct json_object **holder)
{
	char path[64];
	struct json_object *a = NULL;

	snprintf(path, sizeof(path), "/mock/requests?n=%d", n);
	*holder = mock_http(&M, "GET", path, NULL);
	if (*holder)
		json_object_object_get_ex(*holder, "requests", &a);
	return a;
}

static const char *jstr(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t jint(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k1, &v))
		return -1;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return -1;
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

/* ------------------------------------------------------------------ */

static void test_detect(void)
{
	is_int(llm_provider_detect("http://localhost:11434/v1/chat/completions"), DGEN_LLM_OPENAI,
	       "Ollama's OpenAI-compatible path (the default endpoint) speaks OpenAI");
	is_int(llm_provider_detect("http://localhost:11434/api/chat"), DGEN_LLM_OLLAMA, "/api/chat is Ollama native");
	is_int(llm_provider_detect("http://gpu-box:11434"), DGEN_LLM_OLLAMA, "port 11434 without a path is Ollama native");
	is_int(llm_provider_detect("https://api.anthropic.com/v1/messages"), DGEN_LLM_ANTHROPIC, "anthropic.com");
	is_int(llm_provider_detect("http://127.0.0.1:9/v1/messages"), DGEN_LLM_ANTHROPIC, "a /v1/messages path");
	is_int(llm_provider_detect("https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"),
	       DGEN_LLM_GEMINI, "Google's generativelanguage host");
	is_int(llm_provider_detect("https://api.openai.com/v1/chat/completions"), DGEN_LLM_OPENAI, "OpenAI");
	is_int(llm_provider_detect("http://vllm:8000/v1/chat/completions?x=/api/chat"), DGEN_LLM_OPENAI,
	       "a query string does not change the answer");
	is_int(llm_provider_parse("Anthropic"), DGEN_LLM_ANTHROPIC, "provider names ignore case");
	is_int(llm_provider_parse("cohere"), -1, "unknown provider name");
	is_str(llm_provider_name(DGEN_LLM_GEMINI), "gemini", "provider name");
}

static void test_bad_config(void)
{
	struct dgen_config cfg;
	struct dgen_llm_client *c = NULL;
	struct dgen_err err = DGEN_ERR_INIT;

	base_cfg(&cfg, "", NULL);
	cfg.llm_endpoint = (char *)"file:///etc/passwd";
	ok(llm_client_new(&cfg, &c, &err) == -1 && err.code == DGEN_EINVALID && !c,
	   "a non-HTTP endpoint is refused (%s)", err.msg);
	dgen_err_clear(&err);
	base_cfg(&cfg, "", "cohere");
	ok(llm_client_new(&cfg, &c, &err) == -1 && err.code == DGEN_EINVALID && strstr(err.msg, "LLM_PROVIDER"),
	   "an unknown LLM_PROVIDER is refused naming the setting");
	dgen_err_clear(&err);
}

/* One provider end to end: text, usage (as the mock reports it), cached
 * tokens on the second call with the same system prompt, and the request
 * as the mock received it. */
static void roundtrip(const char *label, const char *path, const char *provider,
		      enum dgen_llm_provider want, const char *want_path, const char *want_auth)
{
	struct dgen_config cfg;
	struct fixture f;
	struct dgen_llm_request req;
	struct dgen_llm_response r1, r2;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *holder, *a, *e1, *e2, *body;
	int rc1, rc2;

	mock_reset(&M);
	base_cfg(&cfg, path, provider);
	if (fx_open(&f, &cfg)) {
		ok(0, "%s: client", label);
		return;
	}
	is_int(llm_client_provider(f.c), want, "%s: provider", label);
	req_init(&req);
	rc1 = llm_call(f.h, &req, &r1, &err);
	ok(rc1 == 0, "%s: first call succeeds (%s)", label, rc1 ? err.msg : "ok");
	dgen_err_clear(&err);
	rc2 = llm_call(f.h, &req, &r2, &err);
	ok(rc2 == 0, "%s: second call succeeds (%s)", label, rc2 ? err.msg : "ok");
	dgen_err_clear(&err);
	is_str(r1.text, "Mock reply to: What is the tallest mountain on Earth, a", "%s: reply text", label);
	is_int(r1.attempts, 1, "%s: one attempt", label);
	is_int(r1.http_status, 200, "%s: HTTP 200", label);
	ok(r1.latency > 0, "%s: latency measured", label);

	a = mock_last(2, &holder);
	e1 = a ? json_object_array_get_idx(a, 0) : NULL;
	e2 = a ? json_object_array_get_idx(a, 1) : NULL;
	ok(e1 && e2, "%s: the mock logged both calls", label);
	if (e1 && e2) {
		is_str(jstr(e1, "path", NULL), want_path, "%s: path", label);
		is_str(jstr(e1, "auth", NULL), want_auth, "%s: key sent in its header", label);
		ok(json_object_get_boolean(json_object_object_get(e1, "key_ok")), "%s: the key matched", label);
		is_str(jstr(e1, "content_type", NULL), "application/json", "%s: content type", label);
		is_int(r1.usage.input_tokens, jint(e1, "usage", "input"), "%s: input tokens", label);
		is_int(r1.usage.output_tokens, jint(e1, "usage", "output"), "%s: output tokens", label);
		is_int(r1.usage.cached_tokens, 0, "%s: nothing cached on the first call", label);
		is_int(r2.usage.input_tokens, jint(e2, "usage", "input"),
		       "%s: input tokens include the cached ones", label);
		if (want == DGEN_LLM_OLLAMA) {
			is_int(r2.usage.cached_tokens, 0, "%s: Ollama reports no cache", label);
		} else {
			ok(jint(e2, "usage", "cached") > 0, "%s: the mock cached the system prompt", label);
			is_int(r2.usage.cached_tokens, jint(e2, "usage", "cached"), "%s: cached tokens", label);
		}
		body = json_object_object_get(e1, "body");
		is_str(jstr(body, "model", NULL), "mock-model", "%s: configured model sent", label);
		if (want == DGEN_LLM_ANTHROPIC) {
			struct json_object *msgs = json_object_object_get(body, "messages");

			is_str(jstr(e1, "anthropic_version", NULL), "2023-06-01", "%s: anthropic-version", label);
			is_str(jstr(body, "system", NULL), CHAT[0].content, "%s: system prompt is top-level", label);
			is_int(json_object_array_length(msgs), 1, "%s: only user/assistant messages", label);
			is_int(jint(body, "max_tokens", NULL), 200, "%s: max_tokens", label);
		} else if (want == DGEN_LLM_OLLAMA) {
			ok(json_object_object_get(body, "stream") &&
			   !json_object_get_boolean(json_object_object_get(body, "stream")), "%s: stream:false", label);
			is_int(jint(body, "options", "num_predict"), 200, "%s: num_predict", label);
		} else {
			is_int(jint(body, "max_tokens", NULL), 200, "%s: max_tokens", label);
		}
	}
	json_object_put(holder);
	llm_response_free(&r1);
	llm_response_free(&r2);
	fx_close(&f);
}

/* ------------------------------------------------------------------ */
/* A small JSON schema checker for the keywords the test schema uses. */

static int conforms(struct json_object *v, struct json_object *s, char *why, size_t n)
{
	struct json_object *t, *x;
	const char *type = json_object_object_get_ex(s, "type", &t) ? json_object_get_string(t) : NULL;

	if (json_object_object_get_ex(s, "enum", &x)) {
		for (size_t i = 0; i < json_object_array_length(x); i++) {
			if (json_object_equal(v, json_object_array_get_idx(x, i)))
				return 1;
		}
		snprintf(why, n, "value not in enum");
		return 0;
	}
	if (!type)
		return 1;
	if (strcmp(type, "object") == 0) {
		if (!json_object_is_type(v, json_type_object))
			return snprintf(why, n, "not an object"), 0;
		if (json_object_object_get_ex(s, "required", &x)) {
			for (size_t i = 0; i < json_object_array_length(x); i++) {
				const char *k = json_object_get_string(json_object_array_get_idx(x, i));

				if (!json_object_object_get_ex(v, k, NULL))
					return snprintf(why, n, "missing required '%s'", k), 0;
			}
		}
		if (json_object_object_get_ex(s, "properties", &x)) {
			json_object_object_foreach(v, k, val) {
				struct json_object *ps;

				if (!json_object_object_get_ex(x, k, &ps))
					return snprintf(why, n, "unexpected key '%s'", k), 0;
				if (!conforms(val, ps, why, n))
					return 0;
			}
		}
		return 1;
	}
	if (strcmp(type, "array") == 0) {
		if (!json_object_is_type(v, json_type_array))
			return snprintf(why, n, "not an array"), 0;
		if (json_object_object_get_ex(s, "minItems", &x) &&
		    (int64_t)json_object_array_length(v) < json_object_get_int64(x))
			return snprintf(why, n, "too few items"), 0;
		if (json_object_object_get_ex(s, "items", &x)) {
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				if (!conforms(json_object_array_get_idx(v, i), x, why, n))
					return 0;
			}
		}
		return 1;
	}
	if (strcmp(type, "string") == 0) {
		if (!json_object_is_type(v, json_type_string))
			return snprintf(why, n, "not a string"), 0;
		if (json_object_object_get_ex(s, "maxLength", &x) &&
		    json_object_get_string_len(v) > json_object_get_int(x))
			return snprintf(why, n, "string too long"), 0;
		return 1;
	}
	if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) {
		double d;

		if (!json_object_is_type(v, json_type_int) &&
		    !(strcmp(type, "number") == 0 && json_object_is_type(v, json_type_double)))
			return snprintf(why, n, "not a %s", type), 0;
		d = json_object_get_double(v);
		if (json_object_object_get_ex(s, "minimum", &x) && d < json_object_get_double(x))
			return snprintf(why, n, "below minimum"), 0;
		if (json_object_object_get_ex(s, "maximum", &x) && d > json_object_get_double(x))
			return snprintf(why, n, "above maximum"), 0;
		return 1;
	}
	if (strcmp(type, "boolean") == 0)
		return json_object_is_type(v, json_type_boolean) ? 1 : (snprintf(why, n, "not a boolean"), 0);
	return 1;
}

static const char SCHEMA[] =
	"{\"type\":\"object\",\"title\":\"qa_pair\",\"additionalProperties\":false,"
	"\"required\":[\"question\",\"answer\",\"difficulty\",\"score\",\"tags\",\"verified\"],"
	"\"properties\":{"
	"\"question\":{\"type\":\"string\",\"maxLength\":30},"
	"\"answer\":{\"type\":\"string\"},"
	"\"difficulty\":{\"type\":\"string\",\"enum\":[\"easy\",\"medium\",\"hard\"]},"
	"\"score\":{\"type\":\"number\",\"minimum\":1,\"maximum\":5},"
	"\"rank\":{\"type\":\"integer\",\"minimum\":10,\"maximum\":20},"
	"\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":2},"
	"\"verified\":{\"type\":\"boolean\"}}}";

static void schema_case(const char *label, const char *path, const char *provider)
{
	struct dgen_config cfg;
	struct fixture f;
	struct dgen_llm_request req;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *schema = json_tokener_parse(SCHEMA), *reply = NULL, *holder, *a, *body;
	char why[128] = "";

	mock_reset(&M);
	base_cfg(&cfg, path, provider);
	if (fx_open(&f, &cfg)) {
		ok(0, "%s: client", label);
		json_object_put(schema);
		return;
	}
	req_init(&req);
	req.format = DGEN_LLM_JSON_SCHEMA;
	req.schema = schema;
	ok(llm_call(f.h, &req, &r, &err) == 0, "%s schema: call succeeds (%s)", label, err.msg);
	reply = r.text ? json_tokener_parse(r.text) : NULL;
	ok(reply != NULL, "%s schema: the reply is JSON", label);
	ok(reply && conforms(reply, schema, why, sizeof(why)), "%s schema: the reply conforms (%s)", label, why);
	a = mock_last(1, &holder);
	body = a ? json_object_object_get(json_object_array_get_idx(a, 0), "body") : NULL;
	if (strcmp(provider, "ollama") == 0) {
		ok(json_object_equal(json_object_object_get(body, "format"), schema),
		   "%s schema: the schema is the format", label);
	} else if (strcmp(provider, "anthropic") == 0) {
		const char *sys = jstr(body, "system", NULL);

		ok(sys && strstr(sys, "JSON") && strstr(sys, "\"difficulty\""),
		   "%s schema: the schema is in the system prompt", label);
	} else {
		struct json_object *rf = json_object_object_get(body, "response_format"), *js;

		is_str(jstr(rf, "type", NULL), "json_schema", "%s schema: response_format type", label);
		js = json_object_object_get(rf, "json_schema");
		is_str(jstr(js, "name", NULL), "qa_pair", "%s schema: named after the schema title", label);
		ok(json_object_get_boolean(json_object_object_get(js, "strict")), "%s schema: strict", label);
	}
	json_object_put(holder);
	json_object_put(reply);
	llm_response_free(&r);
	dgen_err_clear(&err);

	/* JSON-object mode: OpenAI refuses it unless a message says "json";
	 * the client makes sure one does. */
	req.format = DGEN_LLM_JSON_OBJECT;
	req.schema = NULL;
	ok(llm_call(f.h, &req, &r, &err) == 0, "%s json mode: call succeeds (%s)", label, err.msg);
	reply = r.text ? json_tokener_parse(r.text) : NULL;
	ok(json_object_is_type(reply, json_type_object), "%s json mode: the reply is a JSON object", label);
	json_object_put(reply);
	llm_response_free(&r);
	dgen_err_clear(&err);
	json_object_put(schema);
	fx_close(&f);
}

/* ------------------------------------------------------------------ */
/* Failures                                                            */

/* Configures the mock, makes one call, returns its rc; resp/err filled. */
static int call_with(const char *mock_json, const struct dgen_config *cfg,
		     struct dgen_llm_response *r, struct dgen_err *err)
{
	struct fixture f;
	struct dgen_llm_request req;
	int rc;

	mock_reset(&M);
	if (mock_json && mock_config(&M, mock_json))
		diag("mock config refused: %s", mock_json);
	if (fx_open(&f, cfg))
		return -2;
	req_init(&req);
	rc = llm_call(f.h, &req, r, err);
	fx_close(&f);
	return rc;
}

static int64_t mock_count(void)
{
	struct json_object *o = mock_http(&M, "GET", "/mock/stats", NULL);
	int64_t n = jint(o, "requests", NULL);

	json_object_put(o);
	return n;
}

static void test_failures(void)
{
	struct dgen_config cfg;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *holder, *a;
	int rc;

	base_cfg(&cfg, "/v1/chat/completions", NULL);

	rc = call_with("{\"error_next\":1,\"error_status\":500}", &cfg, &r, &err);
	ok(rc == 0, "500 then success: the call succeeds (%s)", err.msg);
	is_int(r.attempts, 2, "500 then success: two attempts");
	is_int(mock_count(), 2, "500 then success: the mock saw two requests");
	llm_response_free(&r);
	dgen_err_clear(&err);

	rc = call_with("{\"error_rate\":1,\"error_status\":503}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM, "503 every time: an LLM error");
	is_int(r.attempts, 3, "503 every time: 1 + LLM_MAX_RETRIES attempts");
	is_int(r.http_status, 503, "503 every time: the last status");
	ok(strstr(err.msg, "HTTP 503") && strstr(err.msg, "OpenAI"), "503: message names provider and status (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);

	rc = call_with("{\"rate_limit_next\":1,\"retry_after\":1}", &cfg, &r, &err);
	ok(rc == 0, "429 + Retry-After 1: succeeds after waiting (%s)", err.msg);
	is_int(r.attempts, 2, "429: two attempts");
	a = mock_last(2, &holder);
	if (a && json_object_array_length(a) == 2) {
		double t1 = json_object_get_double(json_object_object_get(json_object_array_get_idx(a, 0), "t_ms"));
		double t2 = json_object_get_double(json_object_object_get(json_object_array_get_idx(a, 1), "t_ms"));

		ok(t2 - t1 >= 990, "429: the retry came at least Retry-After later (%.0f ms)", t2 - t1);
	} else {
		ok(0, "429: the mock logged both attempts");
	}
	json_object_put(holder);
	llm_response_free(&r);
	dgen_err_clear(&err);

	rc = call_with("{\"rate_limit_next\":1,\"retry_after\":1,\"retry_after_date\":true}", &cfg, &r, &err);
	ok(rc == 0 && r.attempts == 2, "429 with Retry-After as an HTTP date: retried (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);

	cfg.llm_retry_after_cap_ms = 100;
	rc = call_with("{\"rate_limit_next\":1,\"retry_after\":3000}", &cfg, &r, &err);
	ok(rc == 0 && r.attempts == 2, "Retry-After beyond LLM_RETRY_AFTER_CAP: retried after the cap");
	ok(r.latency < 60, "Retry-After beyond the cap: no 50-minute wait (%.1f s)", r.latency);
	llm_response_free(&r);
	dgen_err_clear(&err);
	cfg.llm_retry_after_cap_ms = 5000;

	rc = call_with("{\"error_next\":1,\"error_status\":400}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM, "400: an LLM error");
	is_int(r.attempts, 1, "400: not retried");
	is_int(mock_count(), 1, "400: the mock saw one request");
	ok(r.provider_error && strstr(r.provider_error, "mock"), "400: the provider's error text is kept");
	ok(strstr(err.msg, "HTTP 400"), "400: message has the status (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);

	cfg.llm_timeout_ms = 300;
	cfg.llm_max_retries = 0;
	rc = call_with("{\"hang_next\":1}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "timed out"), "hang: times out (%s)", err.msg);
	is_int(r.attempts, 1, "hang: one attempt with LLM_MAX_RETRIES=0");
	llm_response_free(&r);
	dgen_err_clear(&err);
	cfg.llm_max_retries = 1;
	rc = call_with("{\"hang_next\":1}", &cfg, &r, &err);
	ok(rc == 0 && r.attempts == 2, "hang once: the retry gets an answer (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	cfg.llm_timeout_ms = 5000;

	cfg.llm_max_retries = 0;
	rc = call_with("{\"truncate_next\":1}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "cut off"), "truncated body: an error (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	cfg.llm_max_retries = 2;
	rc = call_with("{\"truncate_next\":1}", &cfg, &r, &err);
	ok(rc == 0 && r.attempts == 2, "truncated body once: retried");
	llm_response_free(&r);
	dgen_err_clear(&err);

	rc = call_with("{\"oversize_next\":3,\"oversize_mib\":2}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "LLM_MAX_RESPONSE_BYTES"),
	   "oversized reply: over the cap is an error (%s)", err.msg);
	is_int(r.attempts, 1, "oversized reply: not retried");
	llm_response_free(&r);
	dgen_err_clear(&err);

	rc = call_with("{\"malformed_next\":1,\"malformed_kind\":\"syntax\"}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "malformed JSON from OpenAI"),
	   "cut JSON: names the provider (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	rc = call_with("{\"malformed_next\":1,\"malformed_kind\":\"shape\"}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "malformed JSON from OpenAI"),
	   "JSON of the wrong shape: names the provider (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);

	rc = call_with("{\"length_next\":1}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "max_tokens"), "finish_reason length: an error (%s)", err.msg);
	is_str(r.finish_reason, "length", "finish_reason length: reported");
	llm_response_free(&r);
	dgen_err_clear(&err);
	rc = call_with("{\"content_filter_next\":1}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "content filter"), "content filter: an error (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);

	/* The same outcomes in the other wire formats. */
	base_cfg(&cfg, "/v1/messages", NULL);
	rc = call_with("{\"length_next\":1}", &cfg, &r, &err);
	ok(rc == -1 && strstr(err.msg, "max_tokens"), "Anthropic stop_reason max_tokens: an error (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	rc = call_with("{\"content_filter_next\":1}", &cfg, &r, &err);
	ok(rc == -1 && strstr(err.msg, "refusal"), "Anthropic refusal: an error (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	rc = call_with("{\"malformed_next\":1,\"malformed_kind\":\"shape\"}", &cfg, &r, &err);
	ok(rc == -1 && strstr(err.msg, "malformed JSON from Anthropic"), "Anthropic malformed: named (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	rc = call_with("{\"error_next\":1,\"error_status\":529}", &cfg, &r, &err);
	ok(rc == 0 && r.attempts == 2, "Anthropic 529 overloaded: retried");
	llm_response_free(&r);
	dgen_err_clear(&err);
	base_cfg(&cfg, "/api/chat", NULL);
	rc = call_with("{\"malformed_next\":1,\"malformed_kind\":\"html\"}", &cfg, &r, &err);
	ok(rc == -1 && strstr(err.msg, "malformed JSON from Ollama"), "Ollama HTML page: named (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	base_cfg(&cfg, "/v1beta/openai/chat/completions", "gemini");
	rc = call_with("{\"error_next\":1,\"error_status\":400}", &cfg, &r, &err);
	ok(rc == -1 && r.provider_error && strstr(r.provider_error, "mock"),
	   "Gemini's error list is read (%s)", r.provider_error ? r.provider_error : "none");
	llm_response_free(&r);
	dgen_err_clear(&err);
}

/* A cut reply that comes from our own max_tokens. */
/* ------------------------------------------------------------------ */
/* Rate limits within LLM_RATE_LIMIT_PATIENCE                          */

static void note_wait(void *arg, long ms)
{
	long *w = arg;

	if (ms > 0)
		w[0]++;
	else
		w[1]++;
}

static void test_patience(void)
{
	struct dgen_config cfg;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_llm_request req;
	struct fixture f;
	long waits[2] = { 0, 0 };
	int rc;

	base_cfg(&cfg, "/v1/chat/completions", NULL);
	cfg.llm_max_retries = 1;
	cfg.llm_rate_limit_patience_ms = 60000;

	/* five 429s with Retry-After 0: more than 1 + LLM_MAX_RETRIES */
	mock_reset(&M);
	mock_config(&M, "{\"rate_limit_next\":5,\"retry_after\":0}");
	if (fx_open(&f, &cfg) == 0) {
		req_init(&req);
		req.on_wait = note_wait;
		req.on_wait_arg = waits;
		rc = llm_call(f.h, &req, &r, &err);
		ok(rc == 0, "five 429s with LLM_MAX_RETRIES 1: still answered (%s)", err.msg);
		is_int(r.attempts, 6, "429s are waited out, not counted as retries");
		llm_response_free(&r);
		dgen_err_clear(&err);
		fx_close(&f);
	}

	/* without Retry-After the call backs off on its own and says so */
	mock_reset(&M);
	mock_config(&M, "{\"rate_limit_next\":3,\"retry_after\":-1}");
	if (fx_open(&f, &cfg) == 0) {
		req_init(&req);
		req.on_wait = note_wait;
		req.on_wait_arg = waits;
		rc = llm_call(f.h, &req, &r, &err);
		ok(rc == 0 && r.attempts == 4, "three bare 429s: answered on the fourth attempt (%s)", err.msg);
		ok(waits[0] >= 3 && waits[1] == 1, "the waits were reported, then the end of them (%ld, %ld)",
		   waits[0], waits[1]);
		llm_response_free(&r);
		dgen_err_clear(&err);
		fx_close(&f);
	}

	/* overloaded answers count the same */
	rc = call_with("{\"error_next\":3,\"error_status\":503}", &cfg, &r, &err);
	ok(rc == 0 && r.attempts == 4, "three 503s with LLM_MAX_RETRIES 1: answered (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	rc = call_with("{\"error_next\":3,\"error_status\":500}", &cfg, &r, &err);
	ok(rc == -1 && r.attempts == 2, "a 500 still uses up LLM_MAX_RETRIES (%d attempts)", r.attempts);
	llm_response_free(&r);
	dgen_err_clear(&err);

	/* a refused key fails at once, whatever the patience */
	mock_reset(&M);
	mock_config(&M, "{\"expect_key\":\"sk-something-else\"}");
	if (fx_open(&f, &cfg) == 0) {
		req_init(&req);
		rc = llm_call(f.h, &req, &r, &err);
		ok(rc == -1 && r.http_status == 401 && r.attempts == 1, "401: one attempt, no retries (%d)",
		   r.attempts);
		is_int(mock_count(), 1, "401: the mock saw one request");
		llm_response_free(&r);
		dgen_err_clear(&err);
		fx_close(&f);
	}

	/* past the patience the call fails with the provider's refusal */
	cfg.llm_rate_limit_patience_ms = 1000;
	rc = call_with("{\"rate_limit_rate\":1,\"retry_after\":0}", &cfg, &r, &err);
	ok(rc == -1 && err.code == DGEN_ELLM && strstr(err.msg, "429") &&
	   strstr(err.msg, "LLM_RATE_LIMIT_PATIENCE"), "past the patience: fails naming it (%s)", err.msg);
	ok(r.latency >= 1.0 && r.latency < 10, "after about the patience (%.1f s)", r.latency);
	llm_response_free(&r);
	dgen_err_clear(&err);
	mock_reset(&M);
}

static void test_max_tokens(void)
{
	struct dgen_config cfg;
	struct fixture f;
	struct dgen_llm_request req;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;

	mock_reset(&M);
	base_cfg(&cfg, "/api/chat", NULL);
	if (fx_open(&f, &cfg))
		return;
	req_init(&req);
	req.max_tokens = 2;
	ok(llm_call(f.h, &req, &r, &err) == -1 && strstr(err.msg, "max_tokens"),
	   "a reply cut by our own max_tokens is an error (%s)", err.msg);
	ok(r.text && strlen(r.text) <= 8, "the cut text is still returned");
	llm_response_free(&r);
	dgen_err_clear(&err);
	fx_close(&f);
}

static void test_unreachable(void)
{
	struct dgen_config cfg;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct fixture f;
	struct dgen_llm_request req;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	static char ep[128];
	int s = socket(AF_INET, SOCK_STREAM, 0);

	/* A port nobody listens on: bind one, note it, close it. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(s, (struct sockaddr *)&sa, &sl);
	close(s);
	base_cfg(&cfg, "", NULL);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/v1/chat/completions", ntohs(sa.sin_port));
	cfg.llm_endpoint = ep;
	cfg.llm_max_retries = 1;
	if (fx_open(&f, &cfg))
		return;
	req_init(&req);
	ok(llm_call(f.h, &req, &r, &err) == -1 && err.code == DGEN_ELLM && strstr(err.msg, "could not be reached"),
	   "connection refused: an LLM error (%s)", err.msg);
	is_int(r.attempts, 2, "connection refused: retried");
	llm_response_free(&r);
	dgen_err_clear(&err);
	fx_close(&f);
}

/* The endpoint's default path, the proxy setting, keep-alive. */
static void test_transport(void)
{
	struct dgen_config cfg;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct fixture f;
	struct dgen_llm_request req;
	struct json_object *holder, *a, *st;
	int64_t before;
	int all = 1;

	mock_reset(&M);
	base_cfg(&cfg, "", "anthropic");
	if (fx_open(&f, &cfg))
		return;
	is_str(strstr(llm_client_endpoint(f.c), "/v1/messages"), "/v1/messages",
	       "an endpoint without a path gets the provider's path");
	req_init(&req);
	ok(llm_call(f.h, &req, &r, &err) == 0, "anthropic via its default path (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	fx_close(&f);

	/* LLM_PROXY="" ignores http_proxy from the environment. */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	base_cfg(&cfg, "/v1/chat/completions", NULL);
	ok(call_with(NULL, &cfg, &r, &err) == 0, "an empty LLM_PROXY ignores http_proxy (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);
	unsetenv("http_proxy");

	/* A proxy is used when set: the mock plays the proxy for a host that
	 * does not exist. */
	base_cfg(&cfg, "", NULL);
	cfg.llm_endpoint = (char *)"http://llm.invalid/v1/chat/completions";
	cfg.llm_proxy = M.url;
	ok(call_with(NULL, &cfg, &r, &err) == 0, "LLM_PROXY carries the call (%s)", err.msg);
	a = mock_last(1, &holder);
	ok(a && json_object_get_boolean(json_object_object_get(json_object_array_get_idx(a, 0), "proxied")),
	   "the request reached the mock as a proxy request");
	json_object_put(holder);
	llm_response_free(&r);
	dgen_err_clear(&err);

	/* One handle keeps its connection across calls. */
	mock_reset(&M);
	base_cfg(&cfg, "/v1/chat/completions", NULL);
	if (fx_open(&f, &cfg))
		return;
	st = mock_http(&M, "GET", "/mock/stats", NULL);
	before = jint(st, "connections_accepted", NULL);
	json_object_put(st);
	req_init(&req);
	for (int i = 0; i < 5; i++) {
		all &= llm_call(f.h, &req, &r, &err) == 0;
		llm_response_free(&r);
		dgen_err_clear(&err);
	}
	st = mock_http(&M, "GET", "/mock/stats", NULL);
	ok(all, "five calls on one handle");
	/* one connection for the calls, one for each stats query */
	is_int(jint(st, "connections_accepted", NULL) - before, 2, "the calls share one kept-alive connection");
	json_object_put(st);
	fx_close(&f);
}

struct canceller {
	atomic_int *flag;
	int delay_ms;
};

static void *cancel_later(void *arg)
{
	struct canceller *cn = arg;
	struct timespec ts = { cn->delay_ms / 1000, (long)(cn->delay_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	atomic_store(cn->flag, 1);
	return NULL;
}

static void test_cancel(void)
{
	struct dgen_config cfg;
	struct fixture f;
	struct dgen_llm_request req;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;
	atomic_int flag = 0;
	struct canceller cn = { &flag, 200 };
	pthread_t t;
	int rc;

	mock_reset(&M);
	mock_config(&M, "{\"hang_rate\":1}");
	base_cfg(&cfg, "/v1/chat/completions", NULL);
	cfg.llm_timeout_ms = 60000;
	if (fx_open(&f, &cfg))
		return;
	req_init(&req);
	req.cancel = &flag;
	pthread_create(&t, NULL, cancel_later, &cn);
	rc = llm_call(f.h, &req, &r, &err);
	pthread_join(t, NULL);
	ok(rc == -1 && err.code == DGEN_ECANCELLED, "a hanging call is cancelled from another thread (%s)", err.msg);
	ok(r.latency < 10, "the cancelled call returned soon (%.2f s, the timeout was 60 s)", r.latency);
	llm_response_free(&r);
	dgen_err_clear(&err);

	req.cancel = NULL;
	req.deadline = dgen_clock_mono() + 0.3;
	rc = llm_call(f.h, &req, &r, &err);
	ok(rc == -1 && err.code == DGEN_ECANCELLED && strstr(err.msg, "deadline"),
	   "a deadline ends a hanging call (%s)", err.msg);
	llm_response_free(&r);
	dgen_err_clear(&err);

	/* Cancelled while waiting out a long Retry-After. */
	mock_reset(&M);
	mock_config(&M, "{\"rate_limit_rate\":1,\"retry_after\":30}");
	llm_handle_free(f.h);
	llm_client_free(f.c);
	cfg.llm_retry_after_cap_ms = 60000;
	if (fx_open(&f, &cfg))
		return;
	atomic_store(&flag, 0);
	req.deadline = 0;
	req.cancel = &flag;
	pthread_create(&t, NULL, cancel_later, &cn);
	rc = llm_call(f.h, &req, &r, &err);
	pthread_join(t, NULL);
	ok(rc == -1 && err.code == DGEN_ECANCELLED && strstr(err.msg, "429"),
	   "cancelled during the backoff, the last error is named (%s)", err.msg);
	ok(r.latency < 10, "cancelled during a 30 s Retry-After: returned soon (%.2f s)", r.latency);
	llm_response_free(&r);
	dgen_err_clear(&err);

	/* Already past the deadline: no request at all. */
	mock_reset(&M);
	req.cancel = NULL;
	req.deadline = dgen_clock_mono() - 1;
	ok(llm_call(f.h, &req, &r, &err) == -1 && err.code == DGEN_ECANCELLED && mock_count() == 0,
	   "a call past its deadline sends nothing");
	llm_response_free(&r);
	dgen_err_clear(&err);
	fx_close(&f);
}

/* The API key never reaches a log line or an error message. */
static void test_secret(void)
{
	char path[] = "/tmp/dgen-llm-logXXXXXX";
	int fd = mkstemp(path);
	struct dgen_config cfg;
	struct dgen_llm_response r;
	struct dgen_err err = DGEN_ERR_INIT;
	char buf[65536];
	ssize_t n;
	int leaked = 0, rc;

	if (fd < 0) {
		ok(0, "log file");
		return;
	}
	dgen_log_init("test_llm", true, fd);
	base_cfg(&cfg, "/v1/chat/completions", NULL);
	cfg.llm_max_retries = 1;
	rc = call_with("{\"error_next\":1}", &cfg, &r, &err); /* a warning, then debug */
	llm_response_free(&r);
	dgen_err_clear(&err);
	rc |= call_with("{\"error_rate\":1}", &cfg, &r, &err) == 0;
	leaked |= strstr(err.msg, KEY) != NULL;
	llm_response_free(&r);
	dgen_err_clear(&err);
	mock_reset(&M);
	mock_config(&M, "{\"expect_key\":\"sk-something-else\"}");
	{
		struct fixture f;
		struct dgen_llm_request req;

		if (fx_open(&f, &cfg) == 0) {
			req_init(&req);
			rc |= llm_call(f.h, &req, &r, &err) == 0;
			leaked |= strstr(err.msg, KEY) != NULL;
			leaked |= r.provider_error && strstr(r.provider_error, KEY);
			ok(r.http_status == 401, "a wrong key gets 401 (%s)", err.msg);
			llm_response_free(&r);
			dgen_err_clear(&err);
			fx_close(&f);
		}
	}
	dgen_log_init("test_llm", false, 2);
	ok(rc == 0, "the calls behaved (one success, two failures)");
	ok(!leaked, "no error message holds the key");
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	ok(n > 0 && strstr(buf, "retrying"), "the log has the retry warnings");
	ok(!strstr(buf, KEY) && !strstr(buf, "canary"), "the key is not in the log");
	close(fd);
	unlink(path);
}

/* Threads with a handle each, sharing one client. */
struct worker {
	struct dgen_llm_client *c;
	int ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct dgen_llm_handle *h = llm_handle_new(w->c);
	struct dgen_llm_request req;

	req_init(&req);
	for (int i = 0; i < 25; i++) {
		struct dgen_llm_response r;
		struct dgen_err err = DGEN_ERR_INIT;

		if (llm_call(h, &req, &r, &err) == 0 && r.text && strncmp(r.text, "Mock reply", 10) == 0)
			w->ok++;
		llm_response_free(&r);
		dgen_err_clear(&err);
	}
	llm_handle_free(h);
	return NULL;
}

static void test_threads(void)
{
	struct dgen_config cfg;
	struct dgen_llm_client *c;
	struct dgen_err err = DGEN_ERR_INIT;
	struct worker w[8];
	pthread_t t[8];
	int total = 0;

	mock_reset(&M);
	mock_config(&M, "{\"latency_ms\":2}");
	base_cfg(&cfg, "/v1/chat/completions", NULL);
	if (llm_client_new(&cfg, &c, &err)) {
		ok(0, "client");
		return;
	}
	for (int i = 0; i < 8; i++) {
		w[i].c = c;
		w[i].ok = 0;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += w[i].ok;
	}
	is_int(total, 200, "8 threads x 25 calls on one client all succeed");
	llm_client_free(c);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	dgen_log_init("test_llm", false, 2);
	test_detect();
	/* The mock answers 401 unless our key is sent in the right header. */
	setenv("MOCK_LLM_EXPECT_KEY", KEY, 1);
	if (mock_start(&M, NULL)) {
		ok(0, "the mock server starts");
		return done_testing();
	}
	test_bad_config();
	roundtrip("openai", "/v1/chat/completions", NULL, DGEN_LLM_OPENAI, "/v1/chat/completions", "bearer");
	roundtrip("gemini", "/v1beta/openai/chat/completions", "gemini", DGEN_LLM_GEMINI,
		  "/v1beta/openai/chat/completions", "bearer");
	roundtrip("ollama", "/api/chat", NULL, DGEN_LLM_OLLAMA, "/api/chat", "bearer");
	roundtrip("anthropic", "/v1/messages", NULL, DGEN_LLM_ANTHROPIC, "/v1/messages", "x-api-key");
	schema_case("openai", "/v1/chat/completions", "openai");
	schema_case("gemini", "/v1beta/openai/chat/completions", "gemini");
	schema_case("ollama", "/api/chat", "ollama");
	schema_case("anthropic", "/v1/messages", "anthropic");
	test_failures();
	test_patience();
	test_max_tokens();
	test_unreachable();
	test_transport();
	test_cancel();
	test_secret();
	test_threads();
	mock_stop(&M);
	curl_global_cleanup();
	return done_testing();
}
