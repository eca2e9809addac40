/*
 * client.c - calling an LLM provider over HTTP with libcurl: the request
 * loop shared by every provider (retries, backoff, Retry-After, limits,
 * cancellation); the adapters in this directory write bodies and read
 * replies.
 *
 * Threads: one client per process, one handle per calling thread. Handles
 * of a client share DNS and TLS sessions through a CURLSH with a mutex per
 * lock kind. Connections are not shared between threads (libcurl documents
 * a shared connection cache as unsafe across threads, KNOWN_BUGS "A shared
 * connection cache is not thread-safe"); each handle's multi handle (or
 * the runner's event loop) keeps them alive across calls instead,
 * which is what a worker thread
 * making call after call needs.
 *
 * Each transfer runs through the waiter (llm.h, wait.c): by default on
 * the handle's private multi handle polled in short slices, so a cancel flag or a
 * deadline ends even a silent (hanging) transfer within one slice; the
 * progress callback checks them too while bytes flow.
 */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "dgen/budget.h"
#include "dgen/buf.h"
#include "dgen/clock.h"
#include "dgen/json.h"
#include "dgen/llm.h"
#include "dgen/log.h"
#include "dgen/netguard.h"
#include "dgen/util.h"
#include "provider.h"

#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
#define ERROR_TEXT_MAX 300 /* bytes of a provider's error text we keep */
/* A token count above this is nonsense (and sums of three must not
 * overflow): the reply is treated as malformed. */
#define LLM_TOKENS_MAX 1000000000000LL

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

struct dgen_llm_client {
	const struct llm_adapter *ad;
	char *endpoint;   /* full URL, default path added */
	char *where;      /* scheme://host[:port] for messages */
	char *model;
	char *proxy;
	char *api_key;
	struct curl_slist *headers;
	long timeout_ms, connect_timeout_ms, retry_after_cap_ms;
	int max_retries;
	size_t max_response;
	long backoff_base_ms, backoff_cap_ms;
	long patience_ms;         /* LLM_RATE_LIMIT_PATIENCE */
	struct dgen_budget *budget;
	bool own_budget;          /* budget_new()'d here, not the table's */
	struct dgen_price price; /* unknown unless set */
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	bool guard;       /* a member's model: refuse inner addresses (netguard.h) */
};

struct dgen_llm_handle {
	struct dgen_llm_client *c;
	CURL *easy;
	CURLM *multi;          /* its connection cache (blocking waiter; made there) */
	struct dgen_buf body;   /* the reply of the current attempt */
	struct dgen_buf req;    /* the request body of the current call */
	bool too_big;
	long retry_after_ms;    /* from Retry-After / retry-after-ms, -1 = none */
	const atomic_int *cancel;
	double deadline;
	uint64_t rng;
	char errbuf[CURL_ERROR_SIZE];
	struct netguard_sock guard;
};

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ------------------------------------------------------------------ */
/* Providers                                                           */

static const struct llm_adapter *const adapters[] = {
	[DGEN_LLM_OPENAI] = &llm_openai_adapter,
	[DGEN_LLM_OLLAMA] = &llm_ollama_adapter,
	[DGEN_LLM_ANTHROPIC] = &llm_anthropic_adapter,
	[DGEN_LLM_GEMINI] = &llm_gemini_adapter,
};

int llm_provider_parse(const char *name)
{
	for (size_t i = 0; i < DGEN_ARRAY_LEN(adapters); i++) {
		if (name && strcasecmp(name, adapters[i]->name) == 0)
			return (int)i;
	}
	return -1;
}

const char *llm_provider_name(enum dgen_llm_provider p)
{
	return (size_t)p < DGEN_ARRAY_LEN(adapters) ? adapters[p]->name : "unknown";
}

/* Splits url into the part before the path and the path (query kept). */
static const char *url_path(const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? p + 3 : url;
	p += strcspn(p, "/?#");
	return p;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/*
 * Which wire format an endpoint speaks (SPEC.md §6), from its host and path:
 * anthropic.com or a /v1/messages path -> Anthropic; Google's
 * generativelanguage host -> Gemini; an /api/chat path, or Ollama's port
 * 11434 with no path -> Ollama native; anything else, including Ollama's
 * own OpenAI-compatible /v1/chat/completions (the default endpoint), ->
 * OpenAI.
 */
enum dgen_llm_provider llm_provider_detect(const char *endpoint)
{
	const char *path, *host;
	size_t hostlen, plen;

	if (!endpoint)
		return DGEN_LLM_OPENAI;
	host = strstr(endpoint, "://");
	host = host ? host + 3 : endpoint;
	path = url_path(endpoint);
	hostlen = (size_t)(path - host);
	plen = strcspn(path, "?#");
	if (memmem(host, hostlen, "anthropic.com", 13) || ends_with(path, plen, "/v1/messages"))
		return DGEN_LLM_ANTHROPIC;
	if (memmem(host, hostlen, "generativelanguage.googleapis.com", 33))
		return DGEN_LLM_GEMINI;
	if (ends_with(path, plen, "/api/chat"))
		return DGEN_LLM_OLLAMA;
	if (ends_with(host, hostlen, ":11434") && (plen == 0 || (plen == 1 && path[0] == '/')))
		return DGEN_LLM_OLLAMA;
	return DGEN_LLM_OPENAI;
}

/* ------------------------------------------------------------------ */
/* Helpers for adapters                                                */

int llm_malformed(struct dgen_err *err, const char *display, const char *what)
{
	return dgen_err_set(err, DGEN_ELLM, "malformed JSON from %s: %s", display, what);
}

int llm_reply_reason(const struct llm_adapter *ad, struct json_object *obj, const char *key,
		     const char *where, struct dgen_llm_response *resp, struct dgen_err *err)
{
	struct json_object *v;
	char what[128];

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(what, sizeof(what), "'%s' is not a string", where);
		return llm_malformed(err, ad->display, what);
	}
	resp->finish_reason = dgen_xstrdup(json_object_get_string(v));
	return 0;
}

int llm_reply_usage(const struct llm_adapter *ad, struct json_object *reply,
		    const char *const *keys, int64_t *counts, struct dgen_err *err)
{
	struct json_object *usage;
	bool bad = false;

	for (size_t i = 0; keys[i]; i++)
		counts[i] = 0;
	if (!json_object_object_get_ex(reply, "usage", &usage) || !usage)
		return 0;
	bad = !json_object_is_type(usage, json_type_object);
	for (size_t i = 0; !bad && keys[i]; i++)
		bad = llm_usage_int(usage, keys[i], &counts[i]) != 0;
	return bad ? llm_malformed(err, ad->display, "'usage' has a bad token count") : 0;
}

void llm_usage_set(struct dgen_llm_response *resp, int64_t in, int64_t out, int64_t cached)
{
	resp->usage.input_tokens = in;
	resp->usage.output_tokens = out;
	resp->usage.cached_tokens = cached > in ? in : cached;
}

/* Providers send counts as integers, some gateways as 12.0: both are
 * read, anything else (negative, fractional, absurdly large) is
 * malformed rather than silently zero. */
int llm_usage_int(struct json_object *obj, const char *path, int64_t *out)
{
	char key[64];
	const char *p = path;
	struct json_object *v = obj;

	*out = 0;
	while (*p) {
		size_t n = strcspn(p, ".");

		if (n >= sizeof(key))
			return -1;
		memcpy(key, p, n);
		key[n] = '\0';
		if (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, key, &v) || !v)
			return 0;
		p += n;
		if (*p == '.')
			p++;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		/* 12.0 is a count; 1.5 or -3 is not */
		if (d < 0 || d > (double)LLM_TOKENS_MAX || d != (double)(int64_t)d)
			return -1;
		*out = (int64_t)d;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > LLM_TOKENS_MAX)
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

int llm_messages_mention_json(const struct dgen_llm_request *req)
{
	for (size_t i = 0; i < req->n_messages; i++) {
		if (strcasestr(req->messages[i].content, "json"))
			return 1;
	}
	return 0;
}

const char *llm_schema_name(struct json_object *schema)
{
	struct json_object *t;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(schema, "title", &t) || !json_object_is_type(t, json_type_string))
		return "response";
	s = json_object_get_string(t);
	n = strlen(s);
	if (n == 0 || n > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		return "response";
	return s;
}

/* ------------------------------------------------------------------ */
/* Client and handles                                                  */

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *ud)
{
	struct dgen_llm_client *c = ud;

	(void)handle;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *ud)
{
	struct dgen_llm_client *c = ud;

	(void)handle;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->locks[data]);
}

/* Overwrites then frees a string that held a secret. */
static void free_secret(char *s)
{
	if (s) {
		volatile char *v = s;

		while (*v)
			*v++ = '\0';
		free(s);
	}
}

void llm_client_free(struct dgen_llm_client *c)
{
	if (!c)
		return;
	if (c->share)
		curl_share_cleanup(c->share);
	for (struct curl_slist *l = c->headers; l; l = l->next) {
		volatile char *v = l->data;

		while (v && *v)
			*v++ = '\0';
	}
	curl_slist_free_all(c->headers);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->locks[i]);
	if (c->own_budget)
		budget_free(c->budget);
	free(c->endpoint);
	free(c->where);
	free(c->model);
	free(c->proxy);
	free_secret(c->api_key);
	free(c);
}

/* Everything that can be wrong with the configuration is found here,
 * once, not on the first call: the endpoint, the provider, libcurl. The
 * printable endpoint (c->where) drops any user:password. */
int llm_client_new(const struct dgen_config *cfg, struct dgen_llm_client **out,
		   struct dgen_err *err)
{
	struct dgen_llm_client *c;
	const char *ep = cfg->llm_endpoint ? cfg->llm_endpoint : "";
	const char *path;
	int p;

	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return dgen_err_set(err, DGEN_EIO, "libcurl failed to initialise: %s",
				    curl_easy_strerror(curl_init_rc));
	if (strncasecmp(ep, "http://", 7) && strncasecmp(ep, "https://", 8)) {
		dgen_err_set(err, DGEN_EINVALID, "LLM_ENDPOINT must be an http:// or https:// URL");
		dgen_err_detail_str(err, "field", "LLM_ENDPOINT");
		return -1;
	}
	if (strchr(ep, ' ') || strchr(ep, '\n') || strchr(ep, '\r')) {
		dgen_err_set(err, DGEN_EINVALID, "LLM_ENDPOINT must not contain spaces or line breaks");
		dgen_err_detail_str(err, "field", "LLM_ENDPOINT");
		return -1;
	}
	if (cfg->llm_provider && *cfg->llm_provider) {
		p = llm_provider_parse(cfg->llm_provider);
		if (p < 0) {
			dgen_err_set(err, DGEN_EINVALID,
				     "LLM_PROVIDER must be one of openai, ollama, anthropic, gemini (or empty to detect)");
			dgen_err_detail_str(err, "field", "LLM_PROVIDER");
			dgen_err_detail_str(err, "value", cfg->llm_provider);
			return -1;
		}
	} else {
		p = (int)llm_provider_detect(ep);
	}

	c = dgen_xcalloc(1, sizeof(*c));
	c->ad = adapters[p];
	path = url_path(ep);
	{
		/* The host part may carry user:password@: keep it out of messages. */
		char *host = dgen_xstrndup(ep, (size_t)(path - ep));

		c->where = dgen_log_redact_url(host);
		free(host);
	}
	if (path[0] == '\0' || (path[0] == '/' && path[1] == '\0'))
		c->endpoint = dgen_xasprintf("%.*s%s", (int)(path - ep), ep, c->ad->default_path);
	else
		c->endpoint = dgen_xstrdup(ep);
	c->model = dgen_xstrdup(cfg->llm_model && *cfg->llm_model ? cfg->llm_model : "llama3");
	c->proxy = dgen_xstrdup(cfg->llm_proxy ? cfg->llm_proxy : "");
	c->api_key = dgen_xstrdup(cfg->llm_api_key ? cfg->llm_api_key : "");
	dgen_log_secret(c->api_key);
	c->timeout_ms = cfg->llm_timeout_ms > 0 ? cfg->llm_timeout_ms : 120000;
	c->connect_timeout_ms = cfg->llm_connect_timeout_ms > 0 ? cfg->llm_connect_timeout_ms : 10000;
	c->retry_after_cap_ms = cfg->llm_retry_after_cap_ms >= 0 ? cfg->llm_retry_after_cap_ms : 60000;
	c->max_retries = cfg->llm_max_retries >= 0 ? cfg->llm_max_retries : 4;
	c->max_response = cfg->llm_max_response > 0 ? cfg->llm_max_response : 8u << 20;
	c->backoff_base_ms = BACKOFF_BASE_MS;
	c->backoff_cap_ms = BACKOFF_CAP_MS;
	c->patience_ms = cfg->llm_rate_limit_patience_ms > 0 ? cfg->llm_rate_limit_patience_ms : 0;
	c->budget = budget_new(NULL);
	c->own_budget = true;
	c->guard = netguard_needed(cfg->llm_guarded, c->proxy, cfg->llm_endpoint_allow, ep);

	/* User-Agent and Accept-Encoding are fixed lines here, not libcurl's
	 * options, which format them again at every request (a twentieth of
	 * the instructions of a call at 1 024 in flight). A reply is a small
	 * JSON document: it comes uncompressed, and nothing is inflated. */
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	c->headers = curl_slist_append(c->headers, "Accept: application/json");
	c->headers = curl_slist_append(c->headers, "Accept-Encoding: identity");
	c->headers = curl_slist_append(c->headers, "User-Agent: dgen/" PACKAGE_VERSION);
	/* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	c->headers = curl_slist_append(c->headers, "Expect:");
	c->headers = c->ad->headers(c->headers, c->api_key);
	if (!c->headers)
		goto oom;

	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	c->share = curl_share_init();
	if (!c->share ||
	    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
		goto oom;
	*out = c;
	return 0;
oom:
	llm_client_free(c);
	return dgen_err_set(err, DGEN_EIO, "libcurl could not set up the LLM client");
}

enum dgen_llm_provider llm_client_provider(const struct dgen_llm_client *c)
{
	return c->ad->id;
}

const char *llm_client_model(const struct dgen_llm_client *c)
{
	return c->model;
}

const char *llm_client_endpoint(const struct dgen_llm_client *c)
{
	return c->endpoint;
}

void llm_client_set_price(struct dgen_llm_client *c, const struct dgen_price *p)
{
	c->price = *p;
}

void llm_client_set_backoff(struct dgen_llm_client *c, long base_ms, long cap_ms)
{
	c->backoff_base_ms = base_ms > 0 ? base_ms : 1;
	c->backoff_cap_ms = cap_ms >= c->backoff_base_ms ? cap_ms : c->backoff_base_ms;
}

void llm_client_set_budget(struct dgen_llm_client *c, struct dgen_budget *b)
{
	if (c->own_budget)
		budget_free(c->budget);
	c->budget = b;
	c->own_budget = false;
}

static bool should_stop(const struct dgen_llm_handle *h)
{
	return (h->cancel && atomic_load(h->cancel)) ||
	       (h->deadline > 0 && dgen_clock_mono() >= h->deadline);
}

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
	struct dgen_llm_handle *h = ud;
	size_t len = size * n;

	if (h->body.len + len > h->c->max_response) {
		h->too_big = true;
		return 0; /* libcurl aborts the transfer: CURLE_WRITE_ERROR */
	}
	dgen_buf_append(&h->body, data, len);
	return len;
}

/* Retry-After is seconds or an HTTP date; OpenAI also sends retry-after-ms,
 * which is more precise and wins. */
static size_t header_cb(char *data, size_t size, size_t n, void *ud)
{
	struct dgen_llm_handle *h = ud;
	size_t len = size * n;
	char v[128];
	const char *val;
	size_t vl;
	bool ms;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		h->retry_after_ms = -1; /* a new response (after 100 Continue) */
		return len;
	}
	if (len > 15 && strncasecmp(data, "retry-after-ms:", 15) == 0) {
		ms = true;
		val = data + 15;
	} else if (len > 12 && strncasecmp(data, "retry-after:", 12) == 0) {
		ms = false;
		val = data + 12;
	} else {
		return len;
	}
	vl = len - (size_t)(val - data);
	while (vl > 0 && (*val == ' ' || *val == '\t')) {
		val++;
		vl--;
	}
	while (vl > 0 && (val[vl - 1] == '\r' || val[vl - 1] == '\n' || val[vl - 1] == ' '))
		vl--;
	if (vl == 0 || vl >= sizeof(v))
		return len;
	memcpy(v, val, vl);
	v[vl] = '\0';
	if (strspn(v, "0123456789.") == vl) {
		double d = strtod(v, NULL);

		if (d > 86400.0 * (ms ? 1000 : 1))
			d = 86400.0 * (ms ? 1000 : 1);
		if (ms)
			h->retry_after_ms = (long)d;
		else if (h->retry_after_ms < 0)
			h->retry_after_ms = (long)(d * 1000);
	} else if (!ms && h->retry_after_ms < 0) {
		time_t t = curl_getdate(v, NULL);

		if (t != (time_t)-1) {
			double delta = difftime(t, time(NULL));

			h->retry_after_ms = delta > 0 ? (long)(delta > 86400 ? 86400000 : delta * 1000) : 0;
		}
	}
	return len;
}

static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return should_stop(ud) ? 1 : 0;
}

static uint64_t seed_rng(const void *p)
{
	uint64_t s = 0;

#ifdef HAVE_GETRANDOM
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = 0;
#endif
	s ^= (uint64_t)(uintptr_t)p ^ (uint64_t)dgen_clock_now_ms() * 0x9e3779b97f4a7c15ull;
	return s ? s : 0x2545f4914f6cdd1dull;
}

static uint64_t rng_next(struct dgen_llm_handle *h)
{
	uint64_t x = h->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	h->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Redirects are never followed (the request carries the key), only
 * http(s) is allowed, and the proxy is always set so that the
 * environment's http_proxy cannot override LLM_PROXY. */
struct dgen_llm_handle *llm_handle_new(struct dgen_llm_client *c)
{
	struct dgen_llm_handle *h = dgen_xcalloc(1, sizeof(*h));
	CURL *e;

	h->c = c;
	h->rng = seed_rng(h);
	h->retry_after_ms = -1;
	dgen_buf_init(&h->body);
	dgen_buf_init(&h->req);
	h->easy = e = curl_easy_init();
	if (!e) {
		fprintf(stderr, "dgen: libcurl could not create a handle\n");
		abort();
	}
	curl_easy_setopt(e, CURLOPT_URL, c->endpoint);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(e, CURLOPT_SHARE, c->share);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* Always set: "" means no proxy at all, whatever http_proxy says. */
	curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	h->guard.on = c->guard;
	netguard_curl(e, &h->guard);
	return h;
}

void llm_handle_free(struct dgen_llm_handle *h)
{
	if (!h)
		return;
	curl_multi_cleanup(h->multi);
	curl_easy_cleanup(h->easy);
	dgen_buf_free(&h->body);
	dgen_buf_free(&h->req);
	free(h);
}

void llm_response_free(struct dgen_llm_response *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->finish_reason);
	free(r->provider_error);
	r->text = r->finish_reason = r->provider_error = NULL;
}

/* ------------------------------------------------------------------ */
/* One call                                                            */

/* A copy of s with every occurrence of the API key replaced. */
static char *redact(const struct dgen_llm_client *c, const char *s, size_t n)
{
	struct dgen_buf b = DGEN_BUF_INIT;
	size_t kl = strlen(c->api_key);

	for (size_t i = 0; i < n; ) {
		if (kl >= 4 && i + kl <= n && memcmp(s + i, c->api_key, kl) == 0) {
			dgen_buf_puts(&b, "[redacted]");
			i += kl;
		} else {
			dgen_buf_putc(&b, s[i] ? s[i] : ' ');
			i++;
		}
	}
	return b.len ? dgen_buf_steal(&b) : dgen_xstrdup("");
}

/* The provider's error text from an error reply: its JSON message, else
 * the start of the body when it is readable text. */
static char *error_text(struct dgen_llm_handle *h)
{
	const struct dgen_llm_client *c = h->c;
	struct json_object *o = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_json_limits lim = dgen_json_default_limits;
	char *t = NULL, *r;
	size_t n;

	if (h->body.len == 0)
		return NULL;
	lim.max_bytes = c->max_response;
	if (dgen_json_parse(h->body.data, h->body.len, &lim, &o, &e) == 0) {
		t = c->ad->error_text(o);
		json_object_put(o);
	}
	dgen_err_clear(&e);
	if (!t) {
		if (!dgen_utf8_valid(h->body.data, h->body.len))
			return NULL;
		t = dgen_xstrndup(h->body.data, h->body.len);
	}
	n = strlen(t);
	if (n > ERROR_TEXT_MAX) {
		n = ERROR_TEXT_MAX;
		while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
			n--;
	}
	r = redact(c, t, n);
	free(t);
	return r;
}

static bool retryable_status(long s)
{
	return s == 408 || s == 409 || s == 429 || s >= 500;
}

/* Transport failures worth another attempt: the server or the path to it
 * may recover. Anything about the URL, TLS trust or our own limits is not. */
static bool retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool stop_cb(void *h)
{
	return should_stop(h);
}

/* Runs one HTTP exchange through the waiter (llm.h), which checks the
 * cancel flag and deadline every 50 ms at most. Returns the transfer's
 * result; *stopped tells a cancel/deadline stop. */
static CURLcode perform(struct dgen_llm_handle *h, const char *body, size_t len, bool *stopped)
{
	const struct dgen_llm_client *c = h->c;
	long timeout = c->timeout_ms;

	if (h->deadline > 0) {
		double rest = (h->deadline - dgen_clock_mono()) * 1000.0;

		if (rest < (double)timeout)
			timeout = rest < 1 ? 1 : (long)rest + 1;
	}
	dgen_buf_reset_keep(&h->body, 256 * 1024);
	h->too_big = false;
	h->retry_after_ms = -1;
	h->errbuf[0] = '\0';
	h->guard.refused[0] = '\0';
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, timeout);
	return (CURLcode)llm_wait_perform(h->easy, (void **)&h->multi, stop_cb, h, stopped);
}

static int cancelled(struct dgen_llm_handle *h, struct dgen_err *err, const char *last)
{
	bool flag = h->cancel && atomic_load(h->cancel);

	dgen_err_set(err, DGEN_ECANCELLED, "%s%s%s", flag ? "the LLM call was cancelled" :
		     "the LLM call passed its deadline", last && *last ? " (last error: " : "",
		     last && *last ? last : "");
	if (last && *last)
		strncat(err->msg, ")", sizeof(err->msg) - strlen(err->msg) - 1);
	dgen_err_detail_str(err, "provider", h->c->ad->name);
	return -1;
}

/* Every wait of a call (backoff, Retry-After, a model's budget) goes
 * through here, and through the waiter (llm.h): a blocking sleep in
 * slices so cancel and deadline are noticed, or a timer on the runner's
 * event loop. Returns -1 when stopped. */
static int llm_wait(struct dgen_llm_handle *h, long ms)
{
	return llm_wait_sleep(ms, stop_cb, h);
}

/* Exponential backoff with equal jitter (half fixed, half random), or the
 * provider's Retry-After (capped by LLM_RETRY_AFTER_CAP) plus a little
 * jitter so a crowd of workers does not return in the same millisecond. */
static long backoff_ms(struct dgen_llm_handle *h, int failures, long retry_after_ms)
{
	const struct dgen_llm_client *c = h->c;
	long d, j;

	if (retry_after_ms >= 0) {
		d = retry_after_ms < c->retry_after_cap_ms ? retry_after_ms : c->retry_after_cap_ms;
		j = d / 10 < 1000 ? d / 10 : 1000;
		return d + (j > 0 ? (long)(rng_next(h) % (uint64_t)(j + 1)) : 0);
	}
	d = c->backoff_base_ms;
	for (int i = 1; i < failures && d < c->backoff_cap_ms; i++)
		d *= 2;
	if (d > c->backoff_cap_ms)
		d = c->backoff_cap_ms;
	return d / 2 + (long)(rng_next(h) % (uint64_t)(d / 2 + 1));
}

static int check_request(const struct dgen_llm_request *req, struct dgen_err *err)
{
	if (!req->messages || req->n_messages == 0)
		return dgen_err_set(err, DGEN_EINVALID, "an LLM request needs at least one message");
	for (size_t i = 0; i < req->n_messages; i++) {
		const struct dgen_llm_message *m = &req->messages[i];

		if (!m->role || (strcmp(m->role, "system") && strcmp(m->role, "user") &&
				 strcmp(m->role, "assistant"))) {
			dgen_err_set(err, DGEN_EINVALID, "messages[%zu].role must be system, user or assistant", i);
			dgen_err_detail_str(err, "field", "role");
			return -1;
		}
		if (!m->content || !dgen_utf8_valid(m->content, strlen(m->content)))
			return dgen_err_set(err, DGEN_EINVALID, "messages[%zu].content must be UTF-8 text", i);
	}
	if (req->format == DGEN_LLM_JSON_SCHEMA && !json_object_is_type(req->schema, json_type_object))
		return dgen_err_set(err, DGEN_EINVALID, "a JSON-schema request needs a schema object");
	return 0;
}

/* Drops a ``` / ```json fence some models put around JSON. */
static void strip_fence(char *t)
{
	size_t n = strlen(t), s = 0, e;

	while (s < n && (t[s] == ' ' || t[s] == '\n' || t[s] == '\r' || t[s] == '\t'))
		s++;
	if (strncmp(t + s, "```", 3) != 0)
		return;
	e = n;
	while (e > s && (t[e - 1] == ' ' || t[e - 1] == '\n' || t[e - 1] == '\r' || t[e - 1] == '\t'))
		e--;
	if (e < s + 6 || strncmp(t + e - 3, "```", 3) != 0)
		return;
	e -= 3;
	s += strcspn(t + s, "\n");
	if (s >= e)
		return;
	memmove(t, t + s, e - s);
	t[e - s] = '\0';
}

/* Reads a 2xx reply into resp; DGEN_ELLM on a malformed reply or one cut
 * short by the token limit or a filter. */
static int read_reply(struct dgen_llm_handle *h, const struct dgen_llm_request *req,
		      struct dgen_llm_response *resp, struct dgen_err *err)
{
	const struct dgen_llm_client *c = h->c;
	const char *disp = c->ad->display;
	struct dgen_json_limits lim = dgen_json_default_limits;
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *o = NULL;
	enum llm_finish fin = LLM_FINISH_OK;
	int rc = -1;

	lim.max_bytes = c->max_response;
	lim.max_string = c->max_response;
	if (dgen_json_parse(h->body.data ? h->body.data : "", h->body.len, &lim, &o, &e)) {
		dgen_err_set(err, DGEN_ELLM, "malformed JSON from %s: %s", disp, e.msg);
		dgen_err_clear(&e);
		return -1;
	}
	if (!json_object_is_type(o, json_type_object)) {
		llm_malformed(err, disp, "the reply is not a JSON object");
		goto out;
	}
	if (c->ad->parse(c->ad, o, resp, &fin, err))
		goto out;
	if (fin == LLM_FINISH_LENGTH) {
		dgen_err_set(err, DGEN_ELLM, "%s reply cut by max_tokens (finish reason \"%s\")", disp,
			     resp->finish_reason ? resp->finish_reason : "length");
		goto out;
	}
	if (fin == LLM_FINISH_FILTER) {
		dgen_err_set(err, DGEN_ELLM, "%s reply blocked by a content filter (finish reason \"%s\")",
			     disp, resp->finish_reason ? resp->finish_reason : "content_filter");
		goto out;
	}
	if (req->format != DGEN_LLM_TEXT)
		strip_fence(resp->text);
	rc = 0;
out:
	json_object_put(o);
	if (rc && err->code == DGEN_ELLM) {
		dgen_err_detail_str(err, "provider", c->ad->name);
		if (resp->finish_reason)
			dgen_err_detail_str(err, "finish_reason", resp->finish_reason);
	}
	return rc;
}

/* Why a transfer failed (curl's own words, with any secret redacted) as
 * the attempt's error; whether a retry may help is retryable_curl(). */
static void transfer_error(struct dgen_llm_handle *h, CURLcode cc, struct dgen_err *last)
{
	const struct dgen_llm_client *c = h->c;
	const char *disp = c->ad->display;
	const char *raw = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
	char *why = redact(c, raw, strlen(raw));

	if (h->guard.refused[0])
		dgen_err_set(last, DGEN_ELLM, "%s at %s refused: it resolves to %s, a loopback, "
			     "link-local or private address (a member's model reaches one only "
			     "when LLM_ENDPOINT_ALLOW names its host)", disp, c->where,
			     h->guard.refused);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		dgen_err_set(last, DGEN_ELLM, "%s at %s timed out: %s", disp, c->where, why);
	else if (cc == CURLE_PARTIAL_FILE)
		dgen_err_set(last, DGEN_ELLM, "%s reply was cut off: %s", disp, why);
	else
		dgen_err_set(last, DGEN_ELLM, "%s at %s could not be reached: %s", disp, c->where, why);
	free(why);
}

/* A non-2xx answer as the attempt's error, with the provider's own error
 * text kept in resp->provider_error. Redirects are refused rather than
 * followed: the request holds the key. */
static void status_error(struct dgen_llm_handle *h, long status, struct dgen_llm_response *resp,
			 struct dgen_err *last)
{
	const char *disp = h->c->ad->display;

	free(resp->provider_error);
	resp->provider_error = error_text(h);
	if (status >= 300 && status < 400)
		dgen_err_set(last, DGEN_ELLM, "%s answered HTTP %ld (redirects are not followed: check LLM_ENDPOINT)",
			     disp, status);
	else
		dgen_err_set(last, DGEN_ELLM, "%s answered HTTP %ld%s%s", disp, status,
			     resp->provider_error ? ": " : "",
			     resp->provider_error ? resp->provider_error : "");
}

/*
 * What one finished attempt came to: 0 when a 2xx reply was read into
 * resp; else -1 with the reason in *last (provider and HTTP status in its
 * detail) and *retry telling whether another attempt may do better. An
 * oversized or unreadable reply is never retried: it would come back the
 * same.
 */
static int judge_attempt(struct dgen_llm_handle *h, const struct dgen_llm_request *req,
			 CURLcode cc, long status, struct dgen_llm_response *resp,
			 struct dgen_err *last, bool *retry)
{
	const struct dgen_llm_client *c = h->c;

	*retry = false;
	dgen_err_clear(last);
	if (h->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		dgen_err_set(last, DGEN_ELLM, "%s reply is larger than the %zu-byte limit (LLM_MAX_RESPONSE_BYTES)",
			     c->ad->display, c->max_response);
	} else if (cc != CURLE_OK) {
		transfer_error(h, cc, last);
		*retry = retryable_curl(cc) && !h->guard.refused[0];
	} else if (status >= 200 && status < 300) {
		if (read_reply(h, req, resp, last) == 0)
			return 0;
	} else {
		status_error(h, status, resp, last);
		*retry = retryable_status(status);
	}
	if (!last->detail || !json_object_object_get_ex(last->detail, "provider", NULL))
		dgen_err_detail_str(last, "provider", c->ad->name);
	if (status > 0)
		dgen_err_detail_int(last, "http_status", status);
	return -1;
}

/* Waits before the next attempt. -1 (err set as cancelled, naming the
 * last error) when the wait would pass the deadline or is cut short. */
static int wait_to_retry(struct dgen_llm_handle *h, int attempt, int max_attempts,
			 const struct dgen_err *last, struct dgen_err *err)
{
	long wait = backoff_ms(h, attempt, h->retry_after_ms);

	if (h->deadline > 0 && dgen_clock_mono() + (double)wait / 1000.0 > h->deadline)
		return cancelled(h, err, last->msg);
	dgen_warn("llm: %s attempt %d of %d failed (%s); retrying in %ld ms", h->c->ad->name,
		  attempt, max_attempts, last->msg, wait);
	if (llm_wait(h, wait))
		return cancelled(h, err, last->msg);
	return 0;
}

/* A call's dealings with its model's budget and with a provider that
 * says "slow down". */
struct call_state {
	const struct dgen_llm_request *req;
	long est_tokens;        /* what the budget is asked for */
	double limited_since;   /* first 429 or rate wait (0 = none yet) */
	int throttles;          /* 429s and overloads so far */
	bool reported;          /* a wait was shown through req->on_wait */
};

/* max_tokens plus a token per 4 bytes of prompt: a bound taken before the
 * call, reconciled with the reply's usage after it. */
static long estimate_tokens(const struct dgen_llm_request *req)
{
	size_t bytes = 0;

	for (size_t i = 0; i < req->n_messages; i++)
		bytes += strlen(req->messages[i].content);
	return (req->max_tokens > 0 ? req->max_tokens : 1024) + (long)(bytes / 4);
}

/* A 429, or a provider saying it is overloaded (503, Anthropic's 529 or
 * an overloaded_error in any 5xx): a reason to send less, not a fault of
 * the request. */
static bool slow_down_answer(const struct dgen_llm_handle *h, CURLcode cc, long status)
{
	if (cc != CURLE_OK)
		return false;
	if (status == 429 || status == 503 || status == 529)
		return true;
	return status >= 500 && h->body.len > 0 &&
	       memmem(h->body.data, h->body.len, "overloaded_error", 16) != NULL;
}

static void report_wait(struct call_state *cs, long ms)
{
	if (cs->req->on_wait && (ms > 0 || cs->reported))
		cs->req->on_wait(cs->req->on_wait_arg, ms);
	cs->reported = ms > 0;
}

/* The call has been rate limited for longer than LLM_RATE_LIMIT_PATIENCE:
 * it fails with the provider's last refusal (or says it never got a turn). */
static int out_of_patience(struct dgen_llm_handle *h, struct dgen_err *last, struct dgen_err *err)
{
	const struct dgen_llm_client *c = h->c;
	long secs = c->patience_ms / 1000;

	if (last->code != DGEN_OK) {
		dgen_err_move(err, last);
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
			 " (still rate limited after %ld s: LLM_RATE_LIMIT_PATIENCE)", secs);
	} else {
		dgen_err_set(err, DGEN_ELLM, "%s kept rate limiting for %ld s (LLM_RATE_LIMIT_PATIENCE)",
			     c->ad->display, secs);
		dgen_err_detail_str(err, "provider", c->ad->name);
	}
	dgen_err_detail(err, "rate_limited", json_object_new_boolean(1));
	return -1;
}

static bool patience_over(const struct dgen_llm_handle *h, const struct call_state *cs, double now)
{
	return h->c->patience_ms > 0 && cs->limited_since > 0 &&
	       (now - cs->limited_since) * 1000.0 > (double)h->c->patience_ms;
}

/*
 * Waits until the model's budget lets this attempt go, then holds its
 * ticket. A wait caused by the provider (a pause, the lowered ceiling) or
 * by the model's per-minute limits is shown through req->on_wait and
 * counts towards the patience; one for the configured max_in_flight is
 * ordinary queueing. -1 with err set when cancelled, past the deadline
 * or out of patience.
 */
static int budget_enter(struct dgen_llm_handle *h, struct call_state *cs, struct budget_ticket *t,
			struct dgen_err *last, struct dgen_err *err)
{
	for (;;) {
		double now = dgen_clock_mono();
		long wait;
		enum budget_verdict v = budget_acquire(h->c->budget, now, cs->est_tokens, t, &wait);

		if (v == BUDGET_GRANTED)
			return 0;
		if (v != BUDGET_FULL) {
			if (cs->limited_since == 0)
				cs->limited_since = now;
			if (patience_over(h, cs, now))
				return out_of_patience(h, last, err);
			report_wait(cs, wait);
		}
		if (h->deadline > 0 && now + (double)wait / 1000.0 > h->deadline)
			return cancelled(h, err, last->msg);
		if (llm_wait(h, wait))
			return cancelled(h, err, last->msg);
	}
}

/* After a 429 or an overload answer within the patience: with a
 * Retry-After the model's budget is paused and budget_enter() waits it
 * out; without one this call backs off on its own (the ceiling is
 * halved already). These attempts do not count against LLM_MAX_RETRIES. */
static int wait_throttled(struct dgen_llm_handle *h, struct call_state *cs,
			  struct dgen_err *last, struct dgen_err *err)
{
	double now = dgen_clock_mono();
	long wait;

	if (cs->limited_since == 0)
		cs->limited_since = now;
	if (patience_over(h, cs, now))
		return out_of_patience(h, last, err);
	dgen_debug("llm: %s rate limited (%s), throttle %d", h->c->ad->name, last->msg, cs->throttles);
	if (h->retry_after_ms >= 0)
		return 0;
	wait = backoff_ms(h, cs->throttles, -1);
	if (h->deadline > 0 && now + (double)wait / 1000.0 > h->deadline)
		return cancelled(h, err, last->msg);
	report_wait(cs, wait);
	if (llm_wait(h, wait))
		return cancelled(h, err, last->msg);
	return 0;
}

/* Gives the attempt's ticket back, telling the budget how it went. */
static void budget_leave(struct dgen_llm_handle *h, const struct budget_ticket *t, int rc,
			 bool slow, const struct dgen_llm_response *resp)
{
	const struct dgen_llm_client *c = h->c;
	long ra = -1;

	if (slow && h->retry_after_ms >= 0)
		ra = h->retry_after_ms < c->retry_after_cap_ms ? h->retry_after_ms : c->retry_after_cap_ms;
	budget_release(c->budget, dgen_clock_mono(), t,
		       rc == 0 ? BUDGET_OK : slow ? BUDGET_SLOW_DOWN : BUDGET_FAILED,
		       rc == 0 ? (long)(resp->usage.input_tokens + resp->usage.output_tokens) : 0, ra);
}

/*
 * The body is built once; each attempt waits for the model's budget,
 * sends it, and judge_attempt() says whether it succeeded or may be
 * retried. A 429 or an overload answer is waited out (up to
 * LLM_RATE_LIMIT_PATIENCE) without using up LLM_MAX_RETRIES; other
 * failures are retried as many times as that allows. Cancellation is
 * checked before each attempt, after a transfer that stopped, and during
 * every wait; a cancelled call names the last real error, which is what a
 * user wants to see.
 */
int llm_call(struct dgen_llm_handle *h, const struct dgen_llm_request *req,
	     struct dgen_llm_response *resp, struct dgen_err *err)
{
	const struct dgen_llm_client *c = h->c;
	const char *model = req->model && *req->model ? req->model : c->model;
	struct json_object *body = NULL;
	const char *text;
	size_t len;
	double t0 = dgen_clock_mono();
	int max_attempts = c->max_retries + 1, failures = 0, rc = -1;
	struct dgen_err last = DGEN_ERR_INIT;
	struct call_state cs = { req, 0, 0, 0, false };

	memset(resp, 0, sizeof(*resp));
	if (check_request(req, err))
		return -1;
	h->cancel = req->cancel;
	h->deadline = req->deadline;
	cs.est_tokens = estimate_tokens(req);
	/* Written straight into the handle's buffer when the adapter can:
	 * a tree built only to be printed costs more than the call's own
	 * code. The buffer keeps its memory from call to call. */
	dgen_buf_reset_keep(&h->req, 64 * 1024);
	if (c->ad->write && c->ad->write(req, model, &h->req)) {
		text = dgen_buf_str(&h->req);
		len = h->req.len;
	} else {
		body = c->ad->build(req, model);
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
		len = strlen(text);
	}

	for (int attempt = 1; ; attempt++) {
		struct budget_ticket t;
		bool stopped, retry, slow;
		long status = 0;
		CURLcode cc;

		if (should_stop(h)) {
			cancelled(h, err, last.msg);
			goto out;
		}
		if (budget_enter(h, &cs, &t, &last, err))
			goto out;
		resp->attempts = attempt;
		cc = perform(h, text, len, &stopped);
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
		resp->http_status = status;
		if (stopped || (cc != CURLE_OK && should_stop(h))) {
			budget_leave(h, &t, -1, false, resp);
			cancelled(h, err, last.msg);
			goto out;
		}
		slow = slow_down_answer(h, cc, status);
		rc = judge_attempt(h, req, cc, status, resp, &last, &retry);
		budget_leave(h, &t, rc, slow, resp);
		if (rc == 0) {
			report_wait(&cs, 0);
			goto out;
		}
		if (slow && c->patience_ms > 0) {
			cs.throttles++;
			if (wait_throttled(h, &cs, &last, err))
				goto out;
			continue;
		}
		if (!retry || ++failures >= max_attempts) {
			dgen_err_detail_int(&last, "attempts", attempt);
			dgen_err_move(err, &last);
			goto out;
		}
		if (wait_to_retry(h, failures, max_attempts, &last, err))
			goto out;
	}
out:
	resp->latency = dgen_clock_mono() - t0;
	cost_of_call(&c->price, resp->usage.input_tokens, resp->usage.output_tokens,
		     resp->usage.cached_tokens, &resp->usage.cost);
	if (rc == 0)
		dgen_debug("llm: %s HTTP %ld in %.0f ms after %d attempt(s), %lld in (%lld cached) / %lld out tokens",
			   c->ad->name, resp->http_status, resp->latency * 1000, resp->attempts,
			   (long long)resp->usage.input_tokens, (long long)resp->usage.cached_tokens,
			   (long long)resp->usage.output_tokens);
	else
		report_wait(&cs, 0);
	dgen_err_clear(&last);
	json_object_put(body);
	h->cancel = NULL;
	h->deadline = 0;
	return rc;
}
