/*
 * embed.c - the embeddings client (see embed.h). Kept apart from the chat
 * client: one request shape per provider family, no streaming, a short
 * retry loop. Each call owns its libcurl handle, so the client is shared
 * by every thread without locks.
 */
#include "config.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dgen/buf.h"
#include "dgen/clock.h"
#include "dgen/embed.h"
#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/netguard.h"
#include "dgen/util.h"

#define EMBED_DIM_MAX 65536

struct dgen_embed_client {
	enum dgen_llm_provider provider;
	char *endpoint, *model, *api_key, *proxy;
	size_t dimensions; /* 0 = any */
	long timeout_ms, connect_timeout_ms;
	int max_retries;
	size_t max_response;
	bool guard;        /* a member's model: refuse inner addresses (netguard.h) */
	struct dgen_price price; /* unknown unless set */
};

static pthread_once_t embed_curl_once = PTHREAD_ONCE_INIT;

static void embed_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *default_path(enum dgen_llm_provider p)
{
	switch (p) {
	case DGEN_LLM_OLLAMA:
		return "/api/embed";
	case DGEN_LLM_GEMINI:
		return "/v1beta/openai/embeddings";
	default:
		return "/v1/embeddings";
	}
}

static int setting_error(struct dgen_err *err, const char *key, const char *msg)
{
	dgen_err_set(err, DGEN_EINVALID, "%s", msg);
	dgen_err_detail_str(err, "field", key);
	return -1;
}

/* The provider: EMBEDDING_PROVIDER, else detected from an explicit
 * endpoint, else the LLM's (Anthropic has no embeddings API). */
static int pick_provider(const struct dgen_config *cfg, const char *ep, struct dgen_err *err)
{
	int p;

	if (cfg->embedding_provider && *cfg->embedding_provider) {
		p = llm_provider_parse(cfg->embedding_provider);
		if (p < 0 || p == DGEN_LLM_ANTHROPIC)
			return setting_error(err, "EMBEDDING_PROVIDER",
					     "EMBEDDING_PROVIDER must be one of openai, ollama, gemini "
					     "(or empty to detect)");
		return p;
	}
	if (ep && *ep) {
		if (strstr(ep, "/api/embed"))
			return DGEN_LLM_OLLAMA;
		p = (int)llm_provider_detect(ep);
	} else if (cfg->llm_provider && *cfg->llm_provider) {
		p = llm_provider_parse(cfg->llm_provider);
	} else {
		p = (int)llm_provider_detect(cfg->llm_endpoint ? cfg->llm_endpoint : "");
	}
	return p < 0 || p == DGEN_LLM_ANTHROPIC ? DGEN_LLM_OPENAI : p;
}

void embed_client_free(struct dgen_embed_client *c)
{
	if (!c)
		return;
	if (c->api_key) {
		volatile char *v = c->api_key;

		while (*v)
			*v++ = '\0';
	}
	free(c->endpoint);
	free(c->model);
	free(c->api_key);
	free(c->proxy);
	free(c);
}

/* Every default is derived here once: an EMBEDDING_ENDPOINT without a
 * path, or none at all (then LLM_ENDPOINT's scheme and host), gets the
 * provider's embeddings path. */
int embed_client_new(const struct dgen_config *cfg, struct dgen_embed_client **out,
		     struct dgen_err *err)
{
	const char *ep = cfg->embedding_endpoint ? cfg->embedding_endpoint : "";
	const char *base = *ep ? ep : (cfg->llm_endpoint ? cfg->llm_endpoint : "");
	const char *host, *path;
	struct dgen_embed_client *c;
	int p;

	*out = NULL;
	pthread_once(&embed_curl_once, embed_curl_init);
	if (strncasecmp(base, "http://", 7) && strncasecmp(base, "https://", 8))
		return setting_error(err, *ep ? "EMBEDDING_ENDPOINT" : "LLM_ENDPOINT",
				     "the embeddings endpoint must be an http:// or https:// URL");
	if (strpbrk(base, " \r\n"))
		return setting_error(err, "EMBEDDING_ENDPOINT",
				     "EMBEDDING_ENDPOINT must not contain spaces or line breaks");
	p = pick_provider(cfg, ep, err);
	if (p < 0)
		return -1;
	c = dgen_xcalloc(1, sizeof(*c));
	c->provider = (enum dgen_llm_provider)p;
	host = strstr(base, "://") + 3;
	path = host + strcspn(host, "/?#");
	if (*ep && path[0] && !(path[0] == '/' && path[1] == '\0'))
		c->endpoint = dgen_xstrdup(ep);
	else
		c->endpoint = dgen_xasprintf("%.*s%s", (int)(path - base), base, default_path(c->provider));
	c->model = dgen_xstrdup(cfg->embedding_model && *cfg->embedding_model ? cfg->embedding_model
				: cfg->llm_model && *cfg->llm_model ? cfg->llm_model : "llama3");
	c->api_key = dgen_xstrdup(cfg->embedding_api_key && *cfg->embedding_api_key
				  ? cfg->embedding_api_key
				  : cfg->llm_api_key ? cfg->llm_api_key : "");
	dgen_log_secret(c->api_key);
	c->proxy = dgen_xstrdup(cfg->llm_proxy ? cfg->llm_proxy : "");
	c->guard = netguard_needed(cfg->llm_guarded, c->proxy, cfg->llm_endpoint_allow,
				   c->endpoint);
	c->dimensions = cfg->embedding_dimensions > 0 ? (size_t)cfg->embedding_dimensions : 0;
	c->timeout_ms = cfg->llm_timeout_ms > 0 ? cfg->llm_timeout_ms : 120000;
	c->connect_timeout_ms = cfg->llm_connect_timeout_ms > 0 ? cfg->llm_connect_timeout_ms : 10000;
	c->max_retries = cfg->llm_max_retries >= 0 ? cfg->llm_max_retries : 4;
	c->max_response = cfg->llm_max_response > 0 ? cfg->llm_max_response : 8u << 20;
	*out = c;
	return 0;
}

const char *embed_client_endpoint(const struct dgen_embed_client *c)
{
	return c->endpoint;
}

const char *embed_client_model(const struct dgen_embed_client *c)
{
	return c->model;
}

enum dgen_llm_provider embed_client_provider(const struct dgen_embed_client *c)
{
	return c->provider;
}

double embed_cosine(const double *a, const double *b, size_t dim)
{
	double dot = 0, na = 0, nb = 0;

	for (size_t i = 0; i < dim; i++) {
		dot += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	if (na <= 0 || nb <= 0)
		return 0;
	return dot / (sqrt(na) * sqrt(nb));
}

static int malformed(struct dgen_err *err, enum dgen_llm_provider p, const char *what)
{
	return dgen_err_set(err, DGEN_ELLM, "malformed embeddings reply from %s: %s",
			    llm_provider_name(p), what);
}

/* One vector (a JSON array of numbers) into out[0..*dim); *dim is fixed
 * by the first vector read (0 before it). */
static int read_vector(enum dgen_llm_provider p, struct json_object *v, size_t want,
		       double **out, size_t idx, size_t n, size_t *dim, struct dgen_err *err)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array))
		return malformed(err, p, "an embedding is not an array of numbers");
	len = json_object_array_length(v);
	if (len == 0 || len > EMBED_DIM_MAX)
		return malformed(err, p, "an embedding is empty or too long");
	if (*dim == 0) {
		if (want && len != want)
			return dgen_err_set(err, DGEN_ELLM,
					    "embedding has dimension %zu, expected %zu (EMBEDDING_DIMENSIONS)",
					    len, want);
		*dim = len;
		*out = dgen_xcalloc(n * len, sizeof(double));
	} else if (len != *dim) {
		return dgen_err_set(err, DGEN_ELLM,
				    "embeddings of one reply differ in dimension (%zu and %zu)", *dim, len);
	}
	for (size_t i = 0; i < len; i++) {
		struct json_object *x = json_object_array_get_idx(v, i);

		if (!(json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int)))
			return malformed(err, p, "an embedding holds a value that is not a number");
		(*out)[idx * len + i] = json_object_get_double(x);
		if (!isfinite((*out)[idx * len + i]))
			return malformed(err, p, "an embedding holds a value out of range");
	}
	return 0;
}

/* OpenAI shape: {"data":[{"index":i,"embedding":[...]}...],"usage":{"prompt_tokens":n}};
 * Ollama: {"embeddings":[[...]...],"prompt_eval_count":n}. */
int embed_parse(enum dgen_llm_provider p, const char *body, size_t len, size_t n,
		size_t want_dim, double **vectors, size_t *dim, struct dgen_llm_usage *usage,
		struct dgen_err *err)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *root = NULL, *arr = NULL, *u = NULL, *t = NULL;
	int rc = -1;

	*vectors = NULL;
	*dim = 0;
	if (dgen_json_parse(body, len, &dgen_json_default_limits, &root, &e) != 0) {
		malformed(err, p, e.msg);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		malformed(err, p, "not a JSON object");
		goto out;
	}
	if (p == DGEN_LLM_OLLAMA) {
		if (!json_object_object_get_ex(root, "embeddings", &arr) ||
		    !json_object_is_type(arr, json_type_array)) {
			malformed(err, p, "no \"embeddings\" array");
			goto out;
		}
	} else if (!json_object_object_get_ex(root, "data", &arr) ||
		   !json_object_is_type(arr, json_type_array)) {
		malformed(err, p, "no \"data\" array");
		goto out;
	}
	if (json_object_array_length(arr) != n) {
		dgen_err_set(err, DGEN_ELLM, "%s answered %zu embeddings for %zu texts",
			     llm_provider_name(p), json_object_array_length(arr), n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(arr, i), *v = item, *ix;
		size_t at = i;

		if (p != DGEN_LLM_OLLAMA) {
			if (!json_object_is_type(item, json_type_object) ||
			    !json_object_object_get_ex(item, "embedding", &v)) {
				malformed(err, p, "data[] item without \"embedding\"");
				goto out;
			}
			if (json_object_object_get_ex(item, "index", &ix) &&
			    json_object_is_type(ix, json_type_int)) {
				int64_t k = json_object_get_int64(ix);

				if (k < 0 || (size_t)k >= n) {
					malformed(err, p, "data[].index out of range");
					goto out;
				}
				at = (size_t)k;
			}
		}
		if (read_vector(p, v, want_dim, vectors, at, n, dim, err) != 0)
			goto out;
	}
	if (p == DGEN_LLM_OLLAMA)
		t = json_object_object_get_ex(root, "prompt_eval_count", &t) ? t : NULL;
	else if (json_object_object_get_ex(root, "usage", &u) && json_object_is_type(u, json_type_object))
		json_object_object_get_ex(u, "prompt_tokens", &t);
	if (usage && t && json_object_is_type(t, json_type_int) && json_object_get_int64(t) >= 0 &&
	    json_object_get_int64(t) < 1000000000000LL)
		usage->input_tokens += json_object_get_int64(t);
	rc = 0;
out:
	if (rc != 0) {
		free(*vectors);
		*vectors = NULL;
		*dim = 0;
	}
	json_object_put(root);
	dgen_err_clear(&e);
	return rc;
}

struct sink {
	struct dgen_buf b;
	size_t cap;
	bool too_big;
	const atomic_int *cancel;
	double deadline;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (s->b.len + n > s->cap) {
		s->too_big = true;
		return 0;
	}
	dgen_buf_append(&s->b, data, n);
	return n;
}

static bool sink_stop(const struct sink *s)
{
	return (s->cancel && atomic_load(s->cancel)) ||
	       (s->deadline > 0 && dgen_clock_mono() > s->deadline);
}

static int sink_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return sink_stop(ud) ? 1 : 0;
}

static struct json_object *request_body(const struct dgen_embed_client *c, const char *model,
					const char *const *texts, size_t n)
{
	struct json_object *o = json_object_new_object(), *in = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(in, json_object_new_string(texts[i] ? texts[i] : ""));
	json_object_object_add(o, "model", json_object_new_string(model && *model ? model : c->model));
	json_object_object_add(o, "input", in);
	return o;
}

/* One POST; *status gets the HTTP status (0 on a transfer error). */
static CURLcode post(const struct dgen_embed_client *c, struct curl_slist *hdr, const char *body,
		     struct sink *s, struct netguard_sock *g, long *status)
{
	CURL *e = curl_easy_init();
	CURLcode cc;

	*status = 0;
	if (!e)
		return CURLE_FAILED_INIT;
	curl_easy_setopt(e, CURLOPT_URL, c->endpoint);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "dgen/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, sink_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, s);
	g->on = c->guard;
	g->refused[0] = '\0';
	netguard_curl(e, g);
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(e);
	return cc;
}

/* Retries what may succeed later (connection errors, 408, 429, 5xx) with
 * a doubling pause from 200 ms; stops at once on cancel or deadline. The
 * key only ever goes into its header. */
void embed_client_set_price(struct dgen_embed_client *c, const struct dgen_price *p)
{
	c->price = *p;
}

int embed_call(struct dgen_embed_client *c, const char *model, const char *const *texts,
	       size_t n, const atomic_int *cancel, double deadline, double **vectors,
	       size_t *dim, struct dgen_llm_usage *usage, struct dgen_err *err)
{
	struct json_object *req = request_body(c, model, texts, n);
	struct curl_slist *hdr = NULL;
	struct sink s = { DGEN_BUF_INIT, c->max_response, false, cancel, deadline };
	struct netguard_sock g = { false, "" };
	const char *pname = llm_provider_name(c->provider);
	long status = 0, pause_ms = 200;
	int64_t before = usage ? usage->input_tokens : 0;
	int rc = -1;

	*vectors = NULL;
	*dim = 0;
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	if (*c->api_key) {
		char *h = dgen_xasprintf("Authorization: Bearer %s", c->api_key);

		hdr = curl_slist_append(hdr, h);
		memset(h, 0, strlen(h));
		free(h);
	}
	for (int attempt = 0; attempt <= c->max_retries; attempt++) {
		CURLcode cc;

		s.b.len = 0;
		s.too_big = false;
		if (sink_stop(&s)) {
			dgen_err_set(err, DGEN_ECANCELLED, "embeddings call cancelled");
			goto out;
		}
		cc = post(c, hdr, dgen_json_compact(req), &s, &g, &status);
		if (sink_stop(&s)) {
			dgen_err_set(err, DGEN_ECANCELLED, "embeddings call cancelled");
			goto out;
		}
		if (g.refused[0]) {
			dgen_err_set(err, DGEN_ELLM, "embeddings endpoint of %s refused: it resolves "
				     "to %s, a loopback, link-local or private address", pname,
				     g.refused);
			goto out;
		}
		if (s.too_big) {
			dgen_err_set(err, DGEN_ELLM, "embeddings reply from %s over %zu bytes", pname,
				     c->max_response);
			goto out;
		}
		if (cc == CURLE_OK && status >= 200 && status < 300) {
			rc = embed_parse(c->provider, dgen_buf_str(&s.b), s.b.len, n, c->dimensions,
					 vectors, dim, usage, err);
			goto out;
		}
		if (cc == CURLE_OK && !(status == 408 || status == 429 || status >= 500)) {
			dgen_err_set(err, DGEN_ELLM, "embeddings request to %s failed with HTTP %ld", pname,
				     status);
			goto out;
		}
		if (attempt == c->max_retries) {
			if (cc != CURLE_OK)
				dgen_err_set(err, DGEN_ELLM, "embeddings request to %s failed: %s", pname,
					     curl_easy_strerror(cc));
			else
				dgen_err_set(err, DGEN_ELLM, "embeddings request to %s failed with HTTP %ld",
					     pname, status);
			goto out;
		}
		usleep((useconds_t)pause_ms * 1000);
		if (pause_ms < 5000)
			pause_ms *= 2;
	}
out:
	/* a reply that told its usage is priced; one that did not adds nothing */
	if (usage && usage->input_tokens > before) {
		struct dgen_cost cost;

		cost_of_call(&c->price, usage->input_tokens - before, 0, 0, &cost);
		cost_add(&usage->cost, &cost);
	}
	curl_slist_free_all(hdr);
	dgen_buf_free(&s.b);
	json_object_put(req);
	return rc;
}
