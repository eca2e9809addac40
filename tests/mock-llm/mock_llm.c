/*
 * mock-llm - a fake LLM provider for dgen's tests and benchmarks.
 *
 * One process, one thread, one epoll loop over non-blocking sockets:
 * HTTP/1.1 with keep-alive (and pipelining), TCP_NODELAY, latency and
 * trickling done with timers rather than sleeps, so thousands of slow
 * requests can be in flight at once. It speaks the wire formats of the
 * providers dgen supports:
 *
 *   POST /v1/chat/completions               OpenAI chat completions
 *   POST /v1beta/openai/chat/completions    Gemini's OpenAI-compatible API
 *   POST /api/chat                          Ollama native (stream:false)
 *   POST /v1/messages                       Anthropic messages
 *   POST /v1/embeddings                     OpenAI embeddings
 *   POST /v1beta/openai/embeddings          Gemini's OpenAI-compatible embeddings
 *   POST /api/embed                         Ollama embeddings
 *
 * Embeddings are hashed bags of lowercased words and character trigrams
 * in 64 dimensions (or the request's "dimensions"), L2-normalised: equal
 * texts get equal vectors, texts sharing words get close ones.
 * Replies are deterministic, derived from the prompt ("Mock reply to:
 * <first 40 characters of the last user message>"); a requested JSON
 * schema is answered with JSON that conforms to it. Failure modes (errors,
 * 429 + Retry-After, hangs, trickling, truncated or oversized bodies,
 * malformed JSON, finish reason length / content filter) are switched on
 * by flags at start or at run time with POST /mock/config. See --help.
 *
 * The mock never prints request headers or bodies on its own output: a
 * test's API key must not land in a log. GET /mock/requests reports only
 * whether a key was sent and whether it matched the expected one.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define MAX_HEADER_BYTES (64 * 1024)
#define MAX_BODY_BYTES (32u * 1024 * 1024)
#define LOG_RING 256
#define LOG_BODY_MAX (64 * 1024)
#define SEEN_SLOTS 4096
#define SCHEMA_DEPTH_MAX 16
#define MAX_PATHS 64

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "mock-llm: out of memory\n");
		exit(2);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_reserve(struct sbuf *b, size_t extra)
{
	if (b->len + extra + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + extra + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
}

static void sb_add(struct sbuf *b, const void *p, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t start_us;

/* xorshift64*: the mock's only randomness, seeded by config "seed" so a
 * run with fault rates is repeatable. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double rng_unit(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (double)((x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static const char *to_json(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* ------------------------------------------------------------------ */
/* Configuration (flags at start, POST /mock/config at run time)      */

enum fault {
	F_NONE,
	F_ERROR,
	F_RATE_LIMIT,
	F_HANG,
	F_TRICKLE,
	F_TRUNCATE,
	F_OVERSIZE,
	F_MALFORMED,
	F_LENGTH,
	F_CONTENT_FILTER,
	F_COUNT
};

static const char *const fault_names[F_COUNT] = {
	"none", "error", "rate_limit", "hang", "trickle", "truncate",
	"oversize", "malformed", "length", "content_filter",
};

struct mock_config {
	long latency_ms;
	double rate[F_COUNT]; /* <fault>_rate: fraction of requests */
	long next[F_COUNT];   /* <fault>_next: the next K requests */
	long error_status;
	long retry_after;     /* seconds; -1 = no Retry-After header */
	bool retry_after_date;/* send Retry-After as an HTTP date */
	long trickle_ms;
	long oversize_mib;
	char malformed_kind[16]; /* "syntax", "shape", "html" */
	uint64_t seed;
	char *expect_key;     /* NULL = accept any key */
};

static struct mock_config cfg, cfg_start;
static bool verbose;
/* Storm mode: until then (mono_us), every LLM request gets 429 with the
 * configured Retry-After at once; 0 = no storm. Set by "storm_seconds". */
static int64_t storm_until_us;
static int64_t mono_us(void);

static void config_defaults(struct mock_config *c)
{
	memset(c, 0, sizeof(*c));
	c->error_status = 500;
	c->retry_after = 1;
	c->trickle_ms = 100;
	c->oversize_mib = 8;
	strcpy(c->malformed_kind, "syntax");
	c->seed = 1;
}

static void config_copy(struct mock_config *dst, const struct mock_config *src)
{
	free(dst->expect_key);
	*dst = *src;
	dst->expect_key = src->expect_key ? xstrdup(src->expect_key) : NULL;
}

static struct json_object *config_to_json(const struct mock_config *c)
{
	struct json_object *o = json_object_new_object();
	char key[64];

	json_object_object_add(o, "latency_ms", json_object_new_int64(c->latency_ms));
	for (int f = 1; f < F_COUNT; f++) {
		snprintf(key, sizeof(key), "%s_rate", fault_names[f]);
		json_object_object_add(o, key, json_object_new_double(c->rate[f]));
		snprintf(key, sizeof(key), "%s_next", fault_names[f]);
		json_object_object_add(o, key, json_object_new_int64(c->next[f]));
	}
	json_object_object_add(o, "error_status", json_object_new_int64(c->error_status));
	json_object_object_add(o, "retry_after", json_object_new_int64(c->retry_after));
	json_object_object_add(o, "retry_after_date", json_object_new_boolean(c->retry_after_date));
	json_object_object_add(o, "trickle_ms", json_object_new_int64(c->trickle_ms));
	json_object_object_add(o, "oversize_mib", json_object_new_int64(c->oversize_mib));
	json_object_object_add(o, "malformed_kind", json_object_new_string(c->malformed_kind));
	json_object_object_add(o, "seed", json_object_new_int64((int64_t)c->seed));
	{
		int64_t left = storm_until_us - mono_us();

		json_object_object_add(o, "storm_seconds",
				       json_object_new_double(left > 0 ? (double)left / 1e6 : 0));
	}
	/* The key itself is never echoed. */
	json_object_object_add(o, "expect_key_set", json_object_new_boolean(c->expect_key != NULL));
	return o;
}

static int num_field(struct json_object *v, const char *key, double lo, double hi,
		     double *out, char *err, size_t errlen)
{
	enum json_type t = json_object_get_type(v);

	if (t != json_type_int && t != json_type_double) {
		snprintf(err, errlen, "'%s' must be a number", key);
		return -1;
	}
	*out = json_object_get_double(v);
	if (!(*out >= lo && *out <= hi)) {
		snprintf(err, errlen, "'%s' must be between %g and %g", key, lo, hi);
		return -1;
	}
	return 0;
}

/* Applies the keys of obj to a copy of c; on any bad key nothing changes.
 * Returns 0, or -1 with a message in err. */
static int config_apply(struct mock_config *c, struct json_object *obj, char *err, size_t errlen)
{
	struct mock_config n;
	double d, storm = -1;

	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "the configuration must be a JSON object");
		return -1;
	}
	memset(&n, 0, sizeof(n));
	config_copy(&n, c);
	json_object_object_foreach(obj, key, v) {
		int f, done = 0;

		for (f = 1; f < F_COUNT && !done; f++) {
			size_t fl = strlen(fault_names[f]);

			if (strncmp(key, fault_names[f], fl) != 0)
				continue;
			if (strcmp(key + fl, "_rate") == 0) {
				if (num_field(v, key, 0, 1, &d, err, errlen))
					goto fail;
				n.rate[f] = d;
				done = 1;
			} else if (strcmp(key + fl, "_next") == 0) {
				if (num_field(v, key, 0, 1e9, &d, err, errlen))
					goto fail;
				n.next[f] = (long)d;
				done = 1;
			}
		}
		if (done)
			continue;
		if (strcmp(key, "latency_ms") == 0) {
			if (num_field(v, key, 0, 3600000, &d, err, errlen))
				goto fail;
			n.latency_ms = (long)d;
		} else if (strcmp(key, "error_status") == 0) {
			if (num_field(v, key, 100, 599, &d, err, errlen))
				goto fail;
			n.error_status = (long)d;
		} else if (strcmp(key, "retry_after") == 0) {
			if (num_field(v, key, -1, 86400, &d, err, errlen))
				goto fail;
			n.retry_after = (long)d;
		} else if (strcmp(key, "storm_seconds") == 0) {
			if (num_field(v, key, 0, 86400, &d, err, errlen))
				goto fail;
			storm = d;
		} else if (strcmp(key, "retry_after_date") == 0) {
			if (!json_object_is_type(v, json_type_boolean)) {
				snprintf(err, errlen, "'%s' must be a boolean", key);
				goto fail;
			}
			n.retry_after_date = json_object_get_boolean(v);
		} else if (strcmp(key, "trickle_ms") == 0) {
			if (num_field(v, key, 1, 60000, &d, err, errlen))
				goto fail;
			n.trickle_ms = (long)d;
		} else if (strcmp(key, "oversize_mib") == 0) {
			if (num_field(v, key, 1, 256, &d, err, errlen))
				goto fail;
			n.oversize_mib = (long)d;
		} else if (strcmp(key, "malformed_kind") == 0) {
			const char *s = json_object_get_string(v);

			if (!json_object_is_type(v, json_type_string) ||
			    (strcmp(s, "syntax") && strcmp(s, "shape") && strcmp(s, "html"))) {
				snprintf(err, errlen, "'malformed_kind' must be \"syntax\", \"shape\" or \"html\"");
				goto fail;
			}
			snprintf(n.malformed_kind, sizeof(n.malformed_kind), "%s", s);
		} else if (strcmp(key, "seed") == 0) {
			if (num_field(v, key, 0, 9007199254740992.0, &d, err, errlen))
				goto fail;
			n.seed = (uint64_t)d;
			rng_state = n.seed * 0x9e3779b97f4a7c15ull + 1;
		} else if (strcmp(key, "expect_key") == 0) {
			free(n.expect_key);
			n.expect_key = NULL;
			if (json_object_is_type(v, json_type_string) &&
			    json_object_get_string_len(v) > 0)
				n.expect_key = xstrdup(json_object_get_string(v));
			else if (!json_object_is_type(v, json_type_null) &&
				 !json_object_is_type(v, json_type_string)) {
				snprintf(err, errlen, "'expect_key' must be a string or null");
				goto fail;
			}
		} else {
			snprintf(err, errlen, "unknown configuration key '%s' (GET /mock/config lists them)", key);
			goto fail;
		}
	}
	config_copy(c, &n);
	free(n.expect_key);
	if (storm >= 0)
		storm_until_us = storm > 0 ? mono_us() + (int64_t)(storm * 1e6) : 0;
	return 0;
fail:
	free(n.expect_key);
	return -1;
}

/* Picks the fault for one LLM request: pending _next counters first (in
 * the order of the enum), then the rates. */
static enum fault pick_fault(void)
{
	for (int f = 1; f < F_COUNT; f++) {
		if (cfg.next[f] > 0) {
			cfg.next[f]--;
			return (enum fault)f;
		}
	}
	for (int f = 1; f < F_COUNT; f++) {
		if (cfg.rate[f] > 0 && rng_unit() < cfg.rate[f])
			return (enum fault)f;
	}
	return F_NONE;
}

/* ------------------------------------------------------------------ */
/* Request log and statistics                                          */

struct log_entry {
	uint64_t seq;
	double t_ms;
	char method[8];
	char *path;
	char provider[12];
	char auth[12];     /* "none", "bearer", "x-api-key", "other" */
	int key_ok;        /* -1 = no expected key configured */
	char *anthropic_version;
	char *content_type;
	char *body;        /* capped copy */
	size_t body_len;
	bool body_cut;
	bool proxied;      /* the request line had an absolute URL */
	int status;
	enum fault fault;
	bool has_usage;
	int64_t u_input, u_output, u_cached;
};

static struct log_entry ring[LOG_RING];
static uint64_t log_count;

struct path_count {
	char *path;
	uint64_t n;
};
static struct path_count paths[MAX_PATHS];
static size_t n_paths;
static uint64_t other_paths, status_counts[6], fault_counts[F_COUNT];
static uint64_t conns_accepted, conns_open;
/* LLM requests received and not yet answered, and the most at once. */
static uint64_t llm_in_flight, llm_in_flight_max;
/* The same, and the requests received, per "model" of the request body. */
#define MAX_MODELS 64
struct model_count {
	char name[64];
	uint64_t requests, in_flight, in_flight_max;
};
static struct model_count models[MAX_MODELS];
static size_t n_models;

/* Counters from now on: requests 0, most at once = those in flight. */
static void models_clear(void)
{
	for (size_t i = 0; i < n_models; i++) {
		models[i].requests = 0;
		models[i].in_flight_max = models[i].in_flight;
	}
}

static void log_clear(void)
{
	for (size_t i = 0; i < LOG_RING; i++) {
		free(ring[i].path);
		free(ring[i].anthropic_version);
		free(ring[i].content_type);
		free(ring[i].body);
	}
	memset(ring, 0, sizeof(ring));
	log_count = 0;
	for (size_t i = 0; i < n_paths; i++)
		free(paths[i].path);
	memset(paths, 0, sizeof(paths));
	n_paths = 0;
	other_paths = 0;
	memset(status_counts, 0, sizeof(status_counts));
	memset(fault_counts, 0, sizeof(fault_counts));
	llm_in_flight_max = llm_in_flight;
	models_clear();
}

static void count_path(const char *path)
{
	for (size_t i = 0; i < n_paths; i++) {
		if (strcmp(paths[i].path, path) == 0) {
			paths[i].n++;
			return;
		}
	}
	if (n_paths < MAX_PATHS) {
		paths[n_paths].path = xstrdup(path);
		paths[n_paths++].n = 1;
	} else {
		other_paths++;
	}
}

/* ------------------------------------------------------------------ */
/* Prompt caching: a system prompt seen before counts as cached.      */

static uint64_t seen[SEEN_SLOTS];
static size_t n_seen;

static bool seen_before(uint64_t h)
{
	size_t i;

	if (h == 0)
		h = 1;
	if (n_seen >= SEEN_SLOTS / 2) {
		memset(seen, 0, sizeof(seen));
		n_seen = 0;
	}
	for (i = h % SEEN_SLOTS; seen[i]; i = (i + 1) % SEEN_SLOTS) {
		if (seen[i] == h)
			return true;
	}
	seen[i] = h;
	n_seen++;
	return false;
}

/* ------------------------------------------------------------------ */
/* Reading an LLM request                                              */

enum provider { P_OPENAI, P_GEMINI, P_OLLAMA, P_ANTHROPIC };
static const char *const provider_names[] = { "openai", "gemini", "ollama", "anthropic" };

/* Tokens are counted the same way everywhere: a quarter of the bytes,
 * rounded up, plus 4 per message. Deterministic, roughly realistic. */
static int64_t tok(size_t bytes)
{
	return (int64_t)((bytes + 3) / 4);
}

struct llm_req {
	enum provider prov;
	const char *model;
	const char *last_user; /* borrowed from the parsed body */
	size_t last_user_len;
	struct sbuf system;    /* all system text, joined */
	int64_t prompt_tokens, system_tokens;
	long max_tokens;       /* 0 = none */
	int json_mode;         /* 0 text, 1 object, 2 schema */
	struct json_object *schema; /* borrowed */
};

/* Text of a message content: a string, or an array of parts/blocks with
 * "text" members (OpenAI parts and Anthropic blocks look alike here). */
static int content_text(struct json_object *c, struct sbuf *out)
{
	if (json_object_is_type(c, json_type_string)) {
		sb_add(out, json_object_get_string(c), (size_t)json_object_get_string_len(c));
		return 0;
	}
	if (json_object_is_type(c, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(c); i++) {
			struct json_object *part = json_object_array_get_idx(c, i), *t;

			if (!json_object_is_type(part, json_type_object) ||
			    !json_object_object_get_ex(part, "text", &t) ||
			    !json_object_is_type(t, json_type_string))
				return -1;
			sb_add(out, json_object_get_string(t), (size_t)json_object_get_string_len(t));
		}
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* JSON that conforms to a schema                                      */

static struct json_object *resolve_ref(struct json_object *root, const char *ref)
{
	struct json_object *cur = root;
	char buf[256], *tok_s, *save = NULL;

	if (strncmp(ref, "#/", 2) != 0 || strlen(ref) >= sizeof(buf))
		return NULL;
	snprintf(buf, sizeof(buf), "%s", ref + 2);
	for (tok_s = strtok_r(buf, "/", &save); tok_s; tok_s = strtok_r(NULL, "/", &save)) {
		if (!json_object_object_get_ex(cur, tok_s, &cur))
			return NULL;
	}
	return cur;
}

static const char *schema_type(struct json_object *s)
{
	struct json_object *t;

	if (!json_object_object_get_ex(s, "type", &t))
		return NULL;
	if (json_object_is_type(t, json_type_string))
		return json_object_get_string(t);
	if (json_object_is_type(t, json_type_array)) {
		/* ["string", "null"]: the first non-null type */
		for (size_t i = 0; i < json_object_array_length(t); i++) {
			const char *n = json_object_get_string(json_object_array_get_idx(t, i));

			if (n && strcmp(n, "null") != 0)
				return n;
		}
		return "null";
	}
	return NULL;
}

static double num_kw(struct json_object *s, const char *key, bool *has)
{
	struct json_object *v;

	if (json_object_object_get_ex(s, key, &v) &&
	    (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))) {
		*has = true;
		return json_object_get_double(v);
	}
	*has = false;
	return 0;
}

static struct json_object *gen_value(struct json_object *root, struct json_object *s,
				     const char *name, const char *seed, int depth);

static struct json_object *gen_number(struct json_object *s, bool integer)
{
	bool hmin, hmax, hxmin, hxmax;
	double mn = num_kw(s, "minimum", &hmin), mx = num_kw(s, "maximum", &hmax);
	double xmn = num_kw(s, "exclusiveMinimum", &hxmin), xmx = num_kw(s, "exclusiveMaximum", &hxmax);
	double lo = -INFINITY, hi = INFINITY, v;

	if (hmin)
		lo = mn;
	if (hxmin && xmn >= lo)
		lo = integer ? floor(xmn) + 1 : xmn;
	if (hmax)
		hi = mx;
	if (hxmax && xmx <= hi)
		hi = integer ? ceil(xmx) - 1 : xmx;
	if (isfinite(lo) && isfinite(hi))
		v = lo + (hi - lo) / 2;
	else if (isfinite(lo))
		v = lo + 1;
	else if (isfinite(hi))
		v = hi - 1;
	else
		v = integer ? 7 : 0.5;
	if (integer) {
		v = floor(v);
		if (v < lo)
			v = ceil(lo);
		return json_object_new_int64((int64_t)v);
	}
	if (hxmin && v <= xmn)
		v = (xmn + hi) / 2;
	return json_object_new_double(v);
}

static struct json_object *gen_string(struct json_object *s, const char *name, const char *seed)
{
	bool hmin, hmax;
	double mn = num_kw(s, "minLength", &hmin), mx = num_kw(s, "maxLength", &hmax);
	struct json_object *fmt;
	struct sbuf b = { 0 };
	struct json_object *out;

	if (json_object_object_get_ex(s, "format", &fmt)) {
		const char *f = json_object_get_string(fmt);

		if (f && strcmp(f, "date-time") == 0)
			return json_object_new_string("2026-01-01T00:00:00Z");
		if (f && strcmp(f, "date") == 0)
			return json_object_new_string("2026-01-01");
		if (f && strcmp(f, "email") == 0)
			return json_object_new_string("mock@example.com");
		if (f && strcmp(f, "uri") == 0)
			return json_object_new_string("https://example.com/mock");
	}
	sb_printf(&b, "Mock %s for: %s", name && *name ? name : "value", seed);
	if (hmax && mx >= 0 && b.len > (size_t)mx)
		b.len = utf8_cut(b.p, b.len, (size_t)mx);
	while (hmin && b.len < (size_t)mn)
		sb_add(&b, "x", 1);
	out = json_object_new_string_len(b.p ? b.p : "", (int)b.len);
	free(b.p);
	return out;
}

static struct json_object *gen_object(struct json_object *root, struct json_object *s,
				      const char *seed, int depth)
{
	struct json_object *o = json_object_new_object(), *props, *req;

	if (json_object_object_get_ex(s, "properties", &props) &&
	    json_object_is_type(props, json_type_object)) {
		json_object_object_foreach(props, k, ps)
			json_object_object_add(o, k, gen_value(root, ps, k, seed, depth + 1));
	}
	/* A required key without a property schema still gets a value. */
	if (json_object_object_get_ex(s, "required", &req) &&
	    json_object_is_type(req, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(req); i++) {
			const char *k = json_object_get_string(json_object_array_get_idx(req, i));

			if (k && !json_object_object_get_ex(o, k, NULL))
				json_object_object_add(o, k, json_object_new_string("mock"));
		}
	}
	return o;
}

static struct json_object *gen_value(struct json_object *root, struct json_object *s,
				     const char *name, const char *seed, int depth)
{
	struct json_object *v;
	const char *type;

	if (depth > SCHEMA_DEPTH_MAX || !json_object_is_type(s, json_type_object))
		return json_object_new_string("mock");
	if (json_object_object_get_ex(s, "$ref", &v)) {
		struct json_object *t = resolve_ref(root, json_object_get_string(v));

		return t ? gen_value(root, t, name, seed, depth + 1) : json_object_new_string("mock");
	}
	if (json_object_object_get_ex(s, "const", &v)) {
		struct json_object *c = NULL;

		json_object_deep_copy(v, &c, NULL);
		return c;
	}
	if (json_object_object_get_ex(s, "enum", &v) && json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 0) {
		struct json_object *c = NULL;

		json_object_deep_copy(json_object_array_get_idx(v, 0), &c, NULL);
		return c;
	}
	if ((json_object_object_get_ex(s, "anyOf", &v) || json_object_object_get_ex(s, "oneOf", &v) ||
	     json_object_object_get_ex(s, "allOf", &v)) &&
	    json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0)
		return gen_value(root, json_object_array_get_idx(v, 0), name, seed, depth + 1);
	type = schema_type(s);
	if (!type)
		type = json_object_object_get_ex(s, "properties", NULL) ? "object" :
		       json_object_object_get_ex(s, "items", NULL) ? "array" : "string";
	if (strcmp(type, "object") == 0)
		return gen_object(root, s, seed, depth);
	if (strcmp(type, "array") == 0) {
		bool hmin, hmax;
		double mn = num_kw(s, "minItems", &hmin), mx = num_kw(s, "maxItems", &hmax);
		long n = hmin ? (long)mn : 1;
		struct json_object *a = json_object_new_array(), *items = NULL;

		if (n < 1 && !(hmax && mx < 1))
			n = 1;
		if (hmax && n > (long)mx)
			n = (long)mx;
		if (n > 64)
			n = 64;
		json_object_object_get_ex(s, "items", &items);
		for (long i = 0; i < n; i++)
			json_object_array_add(a, items ? gen_value(root, items, name, seed, depth + 1)
						       : json_object_new_string("mock"));
		return a;
	}
	if (strcmp(type, "integer") == 0)
		return gen_number(s, true);
	if (strcmp(type, "number") == 0)
		return gen_number(s, false);
	if (strcmp(type, "boolean") == 0)
		return json_object_new_boolean(1);
	if (strcmp(type, "null") == 0)
		return NULL;
	return gen_string(s, name, seed);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

enum cstate { C_READ, C_DELAY, C_WRITE, C_HANG };

struct conn {
	int fd;
	uint64_t gen;
	enum cstate state;
	struct sbuf in;
	struct sbuf out;
	size_t out_off;      /* bytes of out already sent */
	size_t out_limit;    /* bytes of out released for sending (trickle) */
	long trickle_ms;     /* > 0 while trickling */
	bool close_after;    /* close once out is sent */
	bool want_out;       /* EPOLLOUT registered */
	bool sent_continue;
	bool parsing;        /* inside try_parse: do not re-enter */
	int64_t wake_us;     /* timer deadline, 0 = none */
	bool llm_pending;    /* an LLM request not answered yet (in flight) */
	int model_ix;        /* its models[] slot, -1 = none */
};

static struct conn **conns;
static size_t n_conns_slots;
static int epfd;
static uint64_t gen_counter;

struct timer {
	int64_t at;
	int fd;
	uint64_t gen;
};
static struct timer *heap;
static size_t heap_len, heap_cap;

static void heap_push(int64_t at, int fd, uint64_t gen)
{
	size_t i;

	if (heap_len == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 256;
		heap = xrealloc(heap, heap_cap * sizeof(*heap));
	}
	i = heap_len++;
	while (i > 0 && heap[(i - 1) / 2].at > at) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = (struct timer){ at, fd, gen };
}

static struct timer heap_pop(void)
{
	struct timer top = heap[0], last = heap[--heap_len];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap_len)
			break;
		if (c + 1 < heap_len && heap[c + 1].at < heap[c].at)
			c++;
		if (heap[c].at >= last.at)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (heap_len > 0)
		heap[i] = last;
	return top;
}

/* The models[] slot of the request's "model" (found by a scan of the
 * body, cheaper than parsing it: the JSON writers we serve put the key as
 * "model" with no escape), -1 when there is none or the table is full. */
static int model_slot(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *q;
	size_t n;

	while (p && p < end && (p = memmem(p, (size_t)(end - p), "\"model\"", 7))) {
		if (p > body && p[-1] == '\\') {
			p += 7;
			continue;
		}
		p += 7;
		while (p < end && (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n'))
			p++;
		if (p >= end || *p != '"')
			return -1;
		q = ++p;
		while (q < end && *q != '"' && *q != '\\')
			q++;
		n = (size_t)(q - p);
		if (q >= end || n == 0 || n >= sizeof(models[0].name))
			return -1;
		for (size_t i = 0; i < n_models; i++)
			if (strlen(models[i].name) == n && memcmp(models[i].name, p, n) == 0)
				return (int)i;
		if (n_models == MAX_MODELS)
			return -1;
		memcpy(models[n_models].name, p, n);
		models[n_models].name[n] = '\0';
		return (int)n_models++;
	}
	return -1;
}

/* c's LLM request starts / gets its answer (or its connection closes). */
static void llm_begin(struct conn *c, int model_ix)
{
	if (c->llm_pending)
		return;
	c->llm_pending = true;
	if (++llm_in_flight > llm_in_flight_max)
		llm_in_flight_max = llm_in_flight;
	c->model_ix = model_ix;
	if (model_ix >= 0) {
		struct model_count *m = &models[model_ix];

		m->requests++;
		if (++m->in_flight > m->in_flight_max)
			m->in_flight_max = m->in_flight;
	}
}

static void llm_end(struct conn *c)
{
	if (!c->llm_pending)
		return;
	c->llm_pending = false;
	llm_in_flight--;
	if (c->model_ix >= 0 && models[c->model_ix].in_flight > 0)
		models[c->model_ix].in_flight--;
	c->model_ix = -1;
}

static void conn_close(struct conn *c)
{
	llm_end(c);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conns[c->fd] = NULL;
	free(c->in.p);
	free(c->out.p);
	free(c);
	conns_open--;
}

static void set_timer(struct conn *c, int64_t delay_us)
{
	c->wake_us = mono_us() + delay_us;
	heap_push(c->wake_us, c->fd, c->gen);
}

/* epoll data: the descriptor and the low bits of the connection's
 * generation, so an event for a closed connection never reaches a new one
 * that got the same descriptor. */
static uint64_t ev_key(const struct conn *c)
{
	return ((c->gen & 0xffffffffull) << 32) | (uint32_t)c->fd;
}

/* The live connection for (fd, gen), or NULL when it is gone. */
static struct conn *conn_live(int fd, uint64_t gen)
{
	struct conn *c = fd >= 0 && (size_t)fd < n_conns_slots ? conns[fd] : NULL;

	return c && (c->gen & 0xffffffffull) == (gen & 0xffffffffull) ? c : NULL;
}

static void want_out(struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = ev_key(c) };

	if (c->want_out == on)
		return;
	c->want_out = on;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void try_parse(struct conn *c);

/* Sends what has been released of c->out. Returns -1 when c was closed. */
static int conn_flush(struct conn *c)
{
	while (c->out_off < c->out_limit) {
		ssize_t n = send(c->fd, c->out.p + c->out_off, c->out_limit - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				want_out(c, true);
				return 0;
			}
			conn_close(c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	want_out(c, false);
	if (c->state != C_WRITE || c->out_limit < c->out.len)
		return 0; /* 100-continue sent, or trickling: more later */
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		conn_close(c);
		return -1;
	}
	c->out.len = 0;
	c->out_off = c->out_limit = 0;
	c->trickle_ms = 0;
	c->state = C_READ;
	if (!c->parsing) {
		int fd = c->fd;
		uint64_t gen = c->gen;

		try_parse(c);
		return conn_live(fd, gen) ? 0 : -1;
	}
	return 0;
}

/* Queues a response and starts sending it now or after the latency. */
static void respond_raw(struct conn *c, int64_t delay_ms)
{
	c->out_limit = c->trickle_ms > 0 ? c->out_limit : c->out.len;
	if (delay_ms > 0) {
		c->state = C_DELAY;
		set_timer(c, delay_ms * 1000);
		return;
	}
	llm_end(c);
	c->state = C_WRITE;
	if (conn_flush(c) == 0 && c->trickle_ms > 0 && c->out_limit < c->out.len)
		set_timer(c, c->trickle_ms * 1000);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 529: return "Overloaded";
	default: return "Status";
	}
}

/* Writes status line and headers into c->out; content_length is what the
 * header claims (which a truncated reply does not honour). */
static void put_head(struct conn *c, int status, const char *ctype, size_t content_length,
		     const char *extra)
{
	c->out.len = 0;
	c->out_off = 0;
	sb_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		  "x-request-id: mock-%" PRIu64 "\r\n%s%s\r\n",
		  status, reason(status), ctype, content_length, log_count,
		  extra ? extra : "", c->close_after ? "Connection: close\r\n" : "");
}

static void respond(struct conn *c, int status, const char *ctype, const char *body,
		    size_t len, const char *extra, int64_t delay_ms)
{
	put_head(c, status, ctype, len, extra);
	sb_add(&c->out, body, len);
	c->trickle_ms = 0;
	respond_raw(c, delay_ms);
}

static void respond_json(struct conn *c, int status, struct json_object *o, const char *extra,
			 int64_t delay_ms)
{
	const char *s = to_json(o);

	respond(c, status, "application/json", s, strlen(s), extra, delay_ms);
}

/* An error body in the shape the provider uses. */
static struct json_object *provider_error(enum provider p, int status, const char *msg)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();
	const char *type = status == 429 ? "rate_limit_error" : status == 401 ? "authentication_error" :
			   status >= 500 ? "api_error" : "invalid_request_error";

	switch (p) {
	case P_OLLAMA:
		json_object_put(e);
		json_object_object_add(o, "error", json_object_new_string(msg));
		return o;
	case P_ANTHROPIC:
		json_object_object_add(o, "type", json_object_new_string("error"));
		json_object_object_add(e, "type", json_object_new_string(type));
		json_object_object_add(e, "message", json_object_new_string(msg));
		json_object_object_add(o, "error", e);
		return o;
	case P_GEMINI: {
		/* Gemini's compatibility layer wraps its errors in a list. */
		struct json_object *a = json_object_new_array();

		json_object_object_add(e, "code", json_object_new_int(status));
		json_object_object_add(e, "message", json_object_new_string(msg));
		json_object_object_add(e, "status", json_object_new_string(
			status == 429 ? "RESOURCE_EXHAUSTED" : status >= 500 ? "INTERNAL" :
			status == 401 ? "UNAUTHENTICATED" : "INVALID_ARGUMENT"));
		json_object_object_add(o, "error", e);
		json_object_array_add(a, o);
		return a;
	}
	case P_OPENAI:
	default:
		json_object_object_add(e, "message", json_object_new_string(msg));
		json_object_object_add(e, "type", json_object_new_string(type));
		json_object_object_add(e, "param", NULL);
		json_object_object_add(e, "code", NULL);
		json_object_object_add(o, "error", e);
		return o;
	}
}

struct http_req {
	char method[8];
	char *path;           /* whole target, query included */
	const char *route;    /* path without the query (NUL-terminated copy) */
	char *query;
	const char *authorization, *x_api_key, *anthropic_version, *content_type;
	size_t auth_len, key_len, ver_len, ctype_len;
	const char *body;
	size_t body_len;
	bool proxied;
};

static char *dupn(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static struct log_entry *log_start(const struct http_req *r)
{
	struct log_entry *e = &ring[log_count % LOG_RING];

	free(e->path);
	free(e->anthropic_version);
	free(e->content_type);
	free(e->body);
	memset(e, 0, sizeof(*e));
	e->seq = ++log_count;
	e->t_ms = (double)(mono_us() - start_us) / 1000.0;
	snprintf(e->method, sizeof(e->method), "%s", r->method);
	e->path = xstrdup(r->route);
	e->proxied = r->proxied;
	snprintf(e->provider, sizeof(e->provider), "-");
	if (r->authorization)
		snprintf(e->auth, sizeof(e->auth), r->auth_len > 7 && strncasecmp(r->authorization, "Bearer ", 7) == 0 ? "bearer" : "other");
	else if (r->x_api_key)
		snprintf(e->auth, sizeof(e->auth), "x-api-key");
	else
		snprintf(e->auth, sizeof(e->auth), "none");
	e->key_ok = -1;
	if (cfg.expect_key) {
		size_t kl = strlen(cfg.expect_key);

		e->key_ok = (r->authorization && r->auth_len == kl + 7 &&
			     strncasecmp(r->authorization, "Bearer ", 7) == 0 &&
			     memcmp(r->authorization + 7, cfg.expect_key, kl) == 0) ||
			    (r->x_api_key && r->key_len == kl && memcmp(r->x_api_key, cfg.expect_key, kl) == 0);
	}
	if (r->anthropic_version)
		e->anthropic_version = dupn(r->anthropic_version, r->ver_len);
	if (r->content_type)
		e->content_type = dupn(r->content_type, r->ctype_len);
	e->body_len = r->body_len;
	e->body_cut = r->body_len > LOG_BODY_MAX;
	e->body = dupn(r->body, e->body_cut ? LOG_BODY_MAX : r->body_len);
	count_path(r->route);
	return e;
}

static void log_finish(struct log_entry *e, int status)
{
	e->status = status;
	if (status >= 100 && status < 600)
		status_counts[status / 100]++;
	fault_counts[e->fault]++;
	if (verbose)
		printf("mock-llm %" PRIu64 " %.1fms %s %s %d %s\n", e->seq, e->t_ms, e->method,
		       e->path, status, fault_names[e->fault]);
}

static struct json_object *log_entry_json(const struct log_entry *e)
{
	struct json_object *o = json_object_new_object(), *body = NULL;

	json_object_object_add(o, "seq", json_object_new_int64((int64_t)e->seq));
	{
		char t[32];

		snprintf(t, sizeof(t), "%.3f", e->t_ms);
		json_object_object_add(o, "t_ms", json_object_new_double_s(e->t_ms, t));
	}
	json_object_object_add(o, "method", json_object_new_string(e->method));
	json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "proxied", json_object_new_boolean(e->proxied));
	json_object_object_add(o, "provider", json_object_new_string(e->provider));
	json_object_object_add(o, "auth", json_object_new_string(e->auth));
	json_object_object_add(o, "key_ok", e->key_ok < 0 ? NULL : json_object_new_boolean(e->key_ok));
	json_object_object_add(o, "anthropic_version", e->anthropic_version ?
			       json_object_new_string(e->anthropic_version) : NULL);
	json_object_object_add(o, "content_type", e->content_type ?
			       json_object_new_string(e->content_type) : NULL);
	if (!e->body_cut && e->body_len > 0) {
		enum json_tokener_error jerr;
		struct json_tokener *t = json_tokener_new();

		body = json_tokener_parse_ex(t, e->body, (int)e->body_len);
		jerr = json_tokener_get_error(t);
		if (jerr != json_tokener_success || t->char_offset != (int)e->body_len) {
			json_object_put(body);
			body = NULL;
		}
		json_tokener_free(t);
	}
	json_object_object_add(o, "body", body ? body : json_object_new_string_len(e->body ? e->body : "", (int)(e->body_cut ? LOG_BODY_MAX : e->body_len)));
	json_object_object_add(o, "body_json", json_object_new_boolean(body != NULL));
	json_object_object_add(o, "body_bytes", json_object_new_int64((int64_t)e->body_len));
	json_object_object_add(o, "status", json_object_new_int(e->status));
	json_object_object_add(o, "fault", json_object_new_string(fault_names[e->fault]));
	if (e->has_usage) {
		struct json_object *u = json_object_new_object();

		json_object_object_add(u, "input", json_object_new_int64(e->u_input));
		json_object_object_add(u, "output", json_object_new_int64(e->u_output));
		json_object_object_add(u, "cached", json_object_new_int64(e->u_cached));
		json_object_object_add(o, "usage", u);
	} else {
		json_object_object_add(o, "usage", NULL);
	}
	return o;
}

/* ------------------------------------------------------------------ */
/* The LLM endpoints                                                   */

static int bad(struct conn *c, struct log_entry *le, enum provider p, int status, const char *msg)
{
	struct json_object *o = provider_error(p, status, msg);

	respond_json(c, status, o, NULL, cfg.latency_ms);
	json_object_put(o);
	log_finish(le, status);
	return 0;
}

/* Reads messages, system text, model, limits and the requested output
 * format out of a request body; returns an error message or NULL. */
static const char *read_llm_req(struct json_object *body, struct llm_req *q)
{
	struct json_object *msgs, *v, *fmt;

	if (!json_object_is_type(body, json_type_object))
		return "the request body must be a JSON object";
	if (!json_object_object_get_ex(body, "model", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return "you must provide a model parameter";
	q->model = json_object_get_string(v);
	if (!json_object_object_get_ex(body, "messages", &msgs) || !json_object_is_type(msgs, json_type_array) ||
	    json_object_array_length(msgs) == 0)
		return "'messages' must be a non-empty array";
	if (q->prov == P_ANTHROPIC) {
		if (!json_object_object_get_ex(body, "max_tokens", &v) || !json_object_is_type(v, json_type_int))
			return "max_tokens: Field required";
		q->max_tokens = (long)json_object_get_int64(v);
		if (q->max_tokens < 1)
			return "max_tokens: must be greater than or equal to 1";
		if (json_object_object_get_ex(body, "system", &v)) {
			if (content_text(v, &q->system))
				return "system: Input should be a valid string or list of text blocks";
			q->prompt_tokens += tok(q->system.len) + 4;
		}
	} else if (q->prov == P_OLLAMA) {
		struct json_object *opts;

		if (!json_object_object_get_ex(body, "stream", &v) || !json_object_is_type(v, json_type_boolean) ||
		    json_object_get_boolean(v))
			return "mock-llm only answers stream:false requests";
		if (json_object_object_get_ex(body, "options", &opts) &&
		    json_object_object_get_ex(opts, "num_predict", &v) && json_object_is_type(v, json_type_int))
			q->max_tokens = (long)json_object_get_int64(v);
	} else {
		if ((json_object_object_get_ex(body, "max_completion_tokens", &v) ||
		     json_object_object_get_ex(body, "max_tokens", &v)) && json_object_is_type(v, json_type_int))
			q->max_tokens = (long)json_object_get_int64(v);
	}
	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		struct json_object *m = json_object_array_get_idx(msgs, i), *role, *content;
		const char *r;
		struct sbuf text = { 0 };

		if (!json_object_is_type(m, json_type_object) ||
		    !json_object_object_get_ex(m, "role", &role) || !json_object_is_type(role, json_type_string) ||
		    !json_object_object_get_ex(m, "content", &content) || content_text(content, &text)) {
			free(text.p);
			return "each message needs a string role and a content";
		}
		r = json_object_get_string(role);
		if (q->prov == P_ANTHROPIC && strcmp(r, "user") && strcmp(r, "assistant")) {
			free(text.p);
			return "messages: roles must be \"user\" or \"assistant\" (the system prompt is the top-level \"system\")";
		}
		if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "developer")) {
			free(text.p);
			return "messages: unknown role";
		}
		q->prompt_tokens += tok(text.len) + 4;
		if (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0) {
			if (q->system.len)
				sb_add(&q->system, "\n", 1);
			sb_add(&q->system, text.p ? text.p : "", text.len);
		} else if (strcmp(r, "user") == 0) {
			/* The reply quotes the last user message; keep a pointer
			 * into the parsed body when it is a plain string. */
			if (json_object_is_type(content, json_type_string)) {
				q->last_user = json_object_get_string(content);
				q->last_user_len = (size_t)json_object_get_string_len(content);
			}
		}
		free(text.p);
	}
	if (q->system.len)
		q->system_tokens = tok(q->system.len) + 4;

	/* Output format. */
	if (q->prov == P_OLLAMA) {
		if (json_object_object_get_ex(body, "format", &fmt)) {
			if (json_object_is_type(fmt, json_type_string) && strcmp(json_object_get_string(fmt), "json") == 0)
				q->json_mode = 1;
			else if (json_object_is_type(fmt, json_type_object)) {
				q->json_mode = 2;
				q->schema = fmt;
			} else if (!json_object_is_type(fmt, json_type_null) &&
				   !(json_object_is_type(fmt, json_type_string) && json_object_get_string_len(fmt) == 0))
				return "format must be \"json\" or a JSON schema object";
		}
	} else if (q->prov == P_ANTHROPIC) {
		/* No JSON mode: a model asked in its system prompt to answer
		 * with JSON, and shown a schema, does so. */
		const char *brace = q->system.p ? strchr(q->system.p, '{') : NULL;

		if (q->system.p && strstr(q->system.p, "JSON")) {
			q->json_mode = 1;
			for (; brace; brace = strchr(brace + 1, '{')) {
				struct json_tokener *t = json_tokener_new();
				struct json_object *s = json_tokener_parse_ex(t, brace, (int)strlen(brace));

				json_tokener_free(t);
				if (s && json_object_is_type(s, json_type_object) &&
				    (json_object_object_get_ex(s, "type", NULL) ||
				     json_object_object_get_ex(s, "properties", NULL))) {
					/* Keep the schema alive with the body. */
					json_object_object_add(body, "__mock_schema", s);
					q->schema = s;
					q->json_mode = 2;
					break;
				}
				json_object_put(s);
			}
		}
	} else if (json_object_object_get_ex(body, "response_format", &fmt) &&
		   !json_object_is_type(fmt, json_type_null)) {
		struct json_object *type, *js, *sch;
		const char *t;

		if (!json_object_object_get_ex(fmt, "type", &type) || !json_object_is_type(type, json_type_string))
			return "response_format.type is required";
		t = json_object_get_string(type);
		if (strcmp(t, "json_object") == 0) {
			bool says_json = false;

			/* OpenAI refuses JSON mode unless a message mentions JSON. */
			for (size_t i = 0; i < json_object_array_length(msgs) && !says_json; i++) {
				struct json_object *m = json_object_array_get_idx(msgs, i), *content;
				struct sbuf text = { 0 };

				if (json_object_object_get_ex(m, "content", &content) && !content_text(content, &text) &&
				    text.p && strcasestr(text.p, "json"))
					says_json = true;
				free(text.p);
			}
			if (!says_json)
				return "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.";
			q->json_mode = 1;
		} else if (strcmp(t, "json_schema") == 0) {
			if (!json_object_object_get_ex(fmt, "json_schema", &js) || !json_object_is_type(js, json_type_object))
				return "Missing required parameter: 'response_format.json_schema'.";
			if (!json_object_object_get_ex(js, "name", &v) || !json_object_is_type(v, json_type_string))
				return "Missing required parameter: 'response_format.json_schema.name'.";
			if (!json_object_object_get_ex(js, "schema", &sch) || !json_object_is_type(sch, json_type_object))
				return "Missing required parameter: 'response_format.json_schema.schema'.";
			q->json_mode = 2;
			q->schema = sch;
		} else if (strcmp(t, "text") != 0) {
			return "Invalid value for 'response_format.type'.";
		}
	}
	return NULL;
}

/* The reply text for a request: plain text, a small object, or JSON
 * conforming to the schema. Returns a malloc'd string. */
static char *make_reply(const struct llm_req *q, size_t *len)
{
	char snippet[64];
	size_t n = q->last_user ? utf8_cut(q->last_user, q->last_user_len, 40) : 0;
	struct sbuf b = { 0 };

	snprintf(snippet, sizeof(snippet), "%.*s", (int)n, q->last_user ? q->last_user : "");
	if (q->json_mode == 2) {
		struct json_object *v = gen_value(q->schema, q->schema, "value", snippet, 0);

		sb_puts(&b, to_json(v));
		json_object_put(v);
	} else if (q->json_mode == 1) {
		struct json_object *o = json_object_new_object();
		struct sbuf r = { 0 };

		sb_printf(&r, "Mock reply to: %s", snippet);
		json_object_object_add(o, "reply", json_object_new_string(r.p));
		json_object_object_add(o, "model", json_object_new_string(q->model));
		sb_puts(&b, to_json(o));
		json_object_put(o);
		free(r.p);
	} else {
		sb_printf(&b, "Mock reply to: %s", snippet);
	}
	*len = b.len;
	return b.p;
}

static void iso_now(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/* Builds the success body in the provider's wire format. */
static struct json_object *success_body(const struct llm_req *q, const char *text, size_t tlen,
					const char *finish, int64_t in, int64_t out, int64_t cached,
					int64_t created)
{
	struct json_object *o = json_object_new_object(), *m, *u;
	char id[64];

	snprintf(id, sizeof(id), "%" PRIu64, log_count);
	if (q->prov == P_ANTHROPIC) {
		struct json_object *content = json_object_new_array(), *blk = json_object_new_object();
		int64_t creation = cached ? 0 : (q->system_tokens ? q->system_tokens : 0);

		/* Anthropic reports cache reads and writes apart from input. */
		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "type", json_object_new_string("message"));
		json_object_object_add(o, "role", json_object_new_string("assistant"));
		json_object_object_add(o, "model", json_object_new_string(q->model));
		json_object_object_add(blk, "type", json_object_new_string("text"));
		json_object_object_add(blk, "text", json_object_new_string_len(text, (int)tlen));
		if (strcmp(finish, "refusal") != 0 || tlen > 0)
			json_object_array_add(content, blk);
		else
			json_object_put(blk);
		json_object_object_add(o, "content", content);
		json_object_object_add(o, "stop_reason", json_object_new_string(finish));
		json_object_object_add(o, "stop_sequence", NULL);
		u = json_object_new_object();
		json_object_object_add(u, "input_tokens", json_object_new_int64(in - cached - creation));
		json_object_object_add(u, "cache_creation_input_tokens", json_object_new_int64(creation));
		json_object_object_add(u, "cache_read_input_tokens", json_object_new_int64(cached));
		json_object_object_add(u, "output_tokens", json_object_new_int64(out));
		json_object_object_add(o, "usage", u);
		return o;
	}
	if (q->prov == P_OLLAMA) {
		char ts[96];

		iso_now(ts, sizeof(ts));
		json_object_object_add(o, "model", json_object_new_string(q->model));
		json_object_object_add(o, "created_at", json_object_new_string(ts));
		m = json_object_new_object();
		json_object_object_add(m, "role", json_object_new_string("assistant"));
		json_object_object_add(m, "content", json_object_new_string_len(text, (int)tlen));
		json_object_object_add(o, "message", m);
		json_object_object_add(o, "done_reason", json_object_new_string(finish));
		json_object_object_add(o, "done", json_object_new_boolean(1));
		json_object_object_add(o, "total_duration", json_object_new_int64(1000000));
		json_object_object_add(o, "load_duration", json_object_new_int64(1000));
		json_object_object_add(o, "prompt_eval_count", json_object_new_int64(in));
		json_object_object_add(o, "prompt_eval_duration", json_object_new_int64(100000));
		json_object_object_add(o, "eval_count", json_object_new_int64(out));
		json_object_object_add(o, "eval_duration", json_object_new_int64(800000));
		return o;
	}
	{
		struct json_object *choices = json_object_new_array(), *ch = json_object_new_object();
		char cid[80];

		snprintf(cid, sizeof(cid), "chatcmpl-mock-%s", id);
		json_object_object_add(o, "id", json_object_new_string(cid));
		json_object_object_add(o, "object", json_object_new_string("chat.completion"));
		json_object_object_add(o, "created", json_object_new_int64(created));
		json_object_object_add(o, "model", json_object_new_string(q->model));
		json_object_object_add(ch, "index", json_object_new_int(0));
		m = json_object_new_object();
		json_object_object_add(m, "role", json_object_new_string("assistant"));
		if (strcmp(finish, "content_filter") == 0 && tlen == 0)
			json_object_object_add(m, "content", NULL);
		else
			json_object_object_add(m, "content", json_object_new_string_len(text, (int)tlen));
		json_object_object_add(m, "refusal", NULL);
		json_object_object_add(ch, "message", m);
		json_object_object_add(ch, "logprobs", NULL);
		json_object_object_add(ch, "finish_reason", json_object_new_string(finish));
		json_object_array_add(choices, ch);
		json_object_object_add(o, "choices", choices);
		u = json_object_new_object();
		json_object_object_add(u, "prompt_tokens", json_object_new_int64(in));
		json_object_object_add(u, "completion_tokens", json_object_new_int64(out));
		json_object_object_add(u, "total_tokens", json_object_new_int64(in + out));
		if (q->prov == P_OPENAI || cached > 0) {
			struct json_object *d = json_object_new_object();

			json_object_object_add(d, "cached_tokens", json_object_new_int64(cached));
			json_object_object_add(u, "prompt_tokens_details", d);
		}
		json_object_object_add(o, "usage", u);
		return o;
	}
}

static void http_date(char *out, size_t n, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Answers one LLM request: validation as the provider would, then the
 * configured fault or a deterministic reply. */
static void handle_llm(struct conn *c, const struct http_req *r, enum provider p)
{
	struct log_entry *le = log_start(r);
	struct llm_req q;
	struct json_object *body = NULL, *o;
	const char *msg;
	enum fault f;
	char *text = NULL;
	size_t tlen = 0;
	const char *finish;
	int64_t in, out, cached = 0;

	memset(&q, 0, sizeof(q));
	llm_begin(c, model_slot(r->body, r->body_len));
	q.prov = p;
	snprintf(le->provider, sizeof(le->provider), "%s", provider_names[p]);
	if (strcmp(r->method, "POST") != 0) {
		bad(c, le, p, 405, "this endpoint only answers POST");
		return;
	}
	if (le->key_ok == 0) {
		bad(c, le, p, 401, p == P_ANTHROPIC ? "invalid x-api-key" : "Incorrect API key provided.");
		return;
	}
	if (p == P_ANTHROPIC && !r->anthropic_version) {
		bad(c, le, p, 400, "anthropic-version: header is required");
		return;
	}
	if (storm_until_us && mono_us() < storm_until_us) {
		/* a storm: everything refused at once, nothing else decided */
		char extra[64] = "";

		if (cfg.retry_after >= 0)
			snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", cfg.retry_after);
		le->fault = F_RATE_LIMIT;
		o = provider_error(p, 429, "Rate limit reached (mock storm)");
		respond_json(c, 429, o, extra, 0);
		json_object_put(o);
		log_finish(le, 429);
		return;
	}
	f = pick_fault();
	le->fault = f;
	if (f == F_HANG) {
		c->state = C_HANG;
		log_finish(le, 0);
		return;
	}
	if (f == F_ERROR || f == F_RATE_LIMIT) {
		int status = f == F_RATE_LIMIT ? 429 : (int)cfg.error_status;
		char extra[128] = "";

		if (f == F_RATE_LIMIT && cfg.retry_after >= 0) {
			if (cfg.retry_after_date) {
				char d[64];

				http_date(d, sizeof(d), time(NULL) + cfg.retry_after);
				snprintf(extra, sizeof(extra), "Retry-After: %s\r\n", d);
			} else {
				snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", cfg.retry_after);
			}
		}
		o = provider_error(p, status, f == F_RATE_LIMIT ? "Rate limit reached (mock)" :
				   "The server had an error while processing your request (mock)");
		respond_json(c, status, o, extra, cfg.latency_ms);
		json_object_put(o);
		log_finish(le, status);
		return;
	}
	if (r->body_len == 0) {
		bad(c, le, p, 400, "the request body is empty");
		return;
	}
	{
		struct json_tokener *t = json_tokener_new();

		body = json_tokener_parse_ex(t, r->body, (int)r->body_len);
		if (json_tokener_get_error(t) != json_tokener_success || t->char_offset != (int)r->body_len) {
			json_object_put(body);
			body = NULL;
		}
		json_tokener_free(t);
	}
	if (!body) {
		bad(c, le, p, 400, "We could not parse the JSON body of your request.");
		return;
	}
	msg = read_llm_req(body, &q);
	if (msg) {
		bad(c, le, p, 400, msg);
		goto out;
	}

	text = make_reply(&q, &tlen);
	finish = p == P_ANTHROPIC ? "end_turn" : "stop";
	if (q.max_tokens > 0 && tok(tlen) > q.max_tokens) {
		tlen = utf8_cut(text, tlen, (size_t)q.max_tokens * 4);
		f = F_LENGTH;
	}
	if (f == F_LENGTH) {
		finish = p == P_ANTHROPIC ? "max_tokens" : "length";
		if (tlen > 8 && le->fault == F_LENGTH)
			tlen = utf8_cut(text, tlen, tlen / 2);
	} else if (f == F_CONTENT_FILTER) {
		finish = p == P_ANTHROPIC ? "refusal" : "content_filter";
		tlen = 0;
	}
	in = q.prompt_tokens;
	out = tok(tlen);
	if (q.system.len && p != P_OLLAMA &&
	    seen_before(fnv1a(fnv1a(0xcbf29ce484222325ull, q.model, strlen(q.model)), q.system.p, q.system.len)))
		cached = q.system_tokens;
	le->has_usage = true;
	le->u_input = in;
	le->u_output = out;
	le->u_cached = cached;

	if (f == F_MALFORMED) {
		static const char syntax[] = "{\"id\": \"mock\", \"choices\": [{\"message\": {\"content\": \"cut";
		static const char shape[] = "{\"id\": \"mock\", \"object\": \"chat.completion\", \"choices\": \"none\", \"message\": 42, \"content\": [1], \"usage\": \"many\"}";
		static const char html[] = "<html><body><h1>502 Bad Gateway</h1></body></html>";
		const char *b = strcmp(cfg.malformed_kind, "shape") == 0 ? shape :
				strcmp(cfg.malformed_kind, "html") == 0 ? html : syntax;

		respond(c, 200, b == html ? "text/html" : "application/json", b, strlen(b), NULL, cfg.latency_ms);
		le->has_usage = false;
		log_finish(le, 200);
		goto out;
	}
	o = success_body(&q, text, tlen, finish, in, out, cached, (int64_t)time(NULL));
	if (f == F_OVERSIZE) {
		/* A valid reply whose text is oversize_mib MiB of 'x'. */
		size_t big = (size_t)cfg.oversize_mib * 1024 * 1024;
		char *fill = xrealloc(NULL, big + 1);
		struct json_object *o2;

		memset(fill, 'x', big);
		fill[big] = '\0';
		o2 = success_body(&q, fill, big, finish, in, tok(big), cached, (int64_t)time(NULL));
		free(fill);
		json_object_put(o);
		o = o2;
	}
	if (f == F_TRUNCATE) {
		const char *s = to_json(o);
		size_t len = strlen(s);

		/* Promise the whole body, send half of it, hang up. */
		c->close_after = true;
		put_head(c, 200, "application/json", len + 100, NULL);
		sb_add(&c->out, s, len / 2);
		c->trickle_ms = 0;
		respond_raw(c, cfg.latency_ms);
	} else if (f == F_TRICKLE) {
		const char *s = to_json(o);
		size_t len = strlen(s);

		put_head(c, 200, "application/json", len, NULL);
		c->out_limit = c->out.len; /* headers at once, then byte by byte */
		sb_add(&c->out, s, len);
		c->trickle_ms = cfg.trickle_ms;
		respond_raw(c, cfg.latency_ms);
	} else {
		respond_json(c, 200, o, NULL, cfg.latency_ms);
	}
	json_object_put(o);
	log_finish(le, 200);
out:
	free(text);
	free(q.system.p);
	json_object_put(body);
}

/* ------------------------------------------------------------------ */
/* Embeddings                                                          */

#define EMBED_DIM_DEFAULT 64

static void embed_add(double *v, size_t dim, const char *s, size_t n, double w)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ull, s, n);

	v[h % dim] += (h >> 63) ? -w : w;
}

/* Words (lowercase alphanumeric runs) weigh 1, their character trigrams
 * 0.5: near-identical texts land close, unrelated ones near orthogonal. */
static void embed_text(const char *t, size_t dim, double *v)
{
	char word[256];
	size_t wl = 0;
	double norm = 0;

	memset(v, 0, dim * sizeof(*v));
	for (const char *p = t;; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch && (ch >= 0x80 || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))) {
			if (wl < sizeof(word))
				word[wl++] = (char)(ch < 0x80 ? (ch | ((ch >= 'A' && ch <= 'Z') ? 0x20 : 0)) : ch);
			continue;
		}
		if (wl) {
			embed_add(v, dim, word, wl, 1.0);
			for (size_t i = 0; i + 3 <= wl; i++)
				embed_add(v, dim, word + i, 3, 0.5);
			wl = 0;
		}
		if (!ch)
			break;
	}
	for (size_t i = 0; i < dim; i++)
		norm += v[i] * v[i];
	norm = sqrt(norm);
	for (size_t i = 0; i < dim; i++)
		v[i] = norm > 0 ? v[i] / norm : 0;
}

static void handle_embed(struct conn *c, const struct http_req *r, enum provider p)
{
	struct log_entry *le = log_start(r);
	struct json_object *body = NULL, *input = NULL, *dimv = NULL, *o, *arr;
	size_t dim = EMBED_DIM_DEFAULT, n;
	int64_t tokens = 0;
	double *v;

	snprintf(le->provider, sizeof(le->provider), "%s", provider_names[p]);
	if (strcmp(r->method, "POST") != 0) {
		bad(c, le, p, 405, "this endpoint only answers POST");
		return;
	}
	if (le->key_ok == 0) {
		bad(c, le, p, 401, "Incorrect API key provided.");
		return;
	}
	if (r->body_len) {
		struct json_tokener *t = json_tokener_new();

		body = json_tokener_parse_ex(t, r->body, (int)r->body_len);
		if (json_tokener_get_error(t) != json_tokener_success)
			body = NULL; /* a partial object is never handed out */
		json_tokener_free(t);
	}
	if (!body || !json_object_object_get_ex(body, "input", &input)) {
		json_object_put(body);
		bad(c, le, p, 400, "'input' is required");
		return;
	}
	if (json_object_object_get_ex(body, "dimensions", &dimv) && json_object_get_int(dimv) > 0 &&
	    json_object_get_int(dimv) <= 4096)
		dim = (size_t)json_object_get_int(dimv);
	n = json_object_is_type(input, json_type_array) ? json_object_array_length(input) : 1;
	v = xrealloc(NULL, dim * sizeof(*v));
	o = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_is_type(input, json_type_array) ?
					 json_object_array_get_idx(input, i) : input;
		const char *t = json_object_get_string(it);
		struct json_object *vec = json_object_new_array(), *item;

		tokens += tok(strlen(t ? t : ""));
		embed_text(t ? t : "", dim, v);
		for (size_t k = 0; k < dim; k++)
			json_object_array_add(vec, json_object_new_double(round(v[k] * 1e6) / 1e6));
		if (p == P_OLLAMA) {
			json_object_array_add(arr, vec);
			continue;
		}
		item = json_object_new_object();
		json_object_object_add(item, "object", json_object_new_string("embedding"));
		json_object_object_add(item, "index", json_object_new_int64((int64_t)i));
		json_object_object_add(item, "embedding", vec);
		json_object_array_add(arr, item);
	}
	if (p == P_OLLAMA) {
		json_object_object_add(o, "model", json_object_new_string("mock-embed"));
		json_object_object_add(o, "embeddings", arr);
		json_object_object_add(o, "prompt_eval_count", json_object_new_int64(tokens));
	} else {
		struct json_object *u = json_object_new_object();

		json_object_object_add(o, "object", json_object_new_string("list"));
		json_object_object_add(o, "data", arr);
		json_object_object_add(o, "model", json_object_new_string("mock-embed"));
		json_object_object_add(u, "prompt_tokens", json_object_new_int64(tokens));
		json_object_object_add(u, "total_tokens", json_object_new_int64(tokens));
		json_object_object_add(o, "usage", u);
	}
	le->has_usage = true;
	le->u_input = tokens;
	respond_json(c, 200, o, NULL, cfg.latency_ms);
	log_finish(le, 200);
	json_object_put(o);
	json_object_put(body);
	free(v);
}

/* ------------------------------------------------------------------ */
/* The control endpoints under /mock/                                 */

static long query_long(const char *query, const char *key, long def)
{
	size_t kl = strlen(key);

	for (const char *p = query; p && *p; ) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 10);
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return def;
}

static void handle_mock(struct conn *c, const struct http_req *r)
{
	struct json_object *o = NULL;
	int status = 200;
	char err[256];

	count_path(r->route);
	if (strcmp(r->route, "/mock/config") == 0 && strcmp(r->method, "GET") == 0) {
		o = config_to_json(&cfg);
	} else if (strcmp(r->route, "/mock/config") == 0 && strcmp(r->method, "POST") == 0) {
		struct json_tokener *t = json_tokener_new();
		struct json_object *in = json_tokener_parse_ex(t, r->body, (int)r->body_len);

		if (json_tokener_get_error(t) != json_tokener_success) {
			json_object_put(in);
			in = NULL;
		}
		json_tokener_free(t);
		if (!in) {
			snprintf(err, sizeof(err), "the body must be a JSON object");
			status = 400;
		} else if (config_apply(&cfg, in, err, sizeof(err))) {
			status = 400;
		}
		json_object_put(in);
		if (status == 200) {
			o = config_to_json(&cfg);
		} else {
			o = json_object_new_object();
			json_object_object_add(o, "error", json_object_new_string(err));
		}
	} else if (strcmp(r->route, "/mock/reset") == 0 && strcmp(r->method, "POST") == 0) {
		/* Back to the start-up state: log, counters, cache, config. */
		log_clear();
		memset(seen, 0, sizeof(seen));
		n_seen = 0;
		config_copy(&cfg, &cfg_start);
		storm_until_us = 0;
		rng_state = cfg.seed * 0x9e3779b97f4a7c15ull + 1;
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	} else if (strcmp(r->route, "/mock/requests") == 0 && strcmp(r->method, "GET") == 0) {
		long n = query_long(r->query, "n", 20);
		struct json_object *a = json_object_new_array();
		uint64_t first;

		if (n < 0)
			n = 0;
		if (n > LOG_RING)
			n = LOG_RING;
		if ((uint64_t)n > log_count)
			n = (long)log_count;
		first = log_count - (uint64_t)n;
		for (uint64_t i = first; i < log_count; i++)
			json_object_array_add(a, log_entry_json(&ring[i % LOG_RING]));
		o = json_object_new_object();
		json_object_object_add(o, "count", json_object_new_int64((int64_t)log_count));
		json_object_object_add(o, "requests", a);
	} else if (strcmp(r->route, "/mock/models") == 0 && strcmp(r->method, "GET") == 0) {
		struct json_object *m = json_object_new_object();

		for (size_t i = 0; i < n_models; i++) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "requests", json_object_new_int64((int64_t)models[i].requests));
			json_object_object_add(e, "in_flight", json_object_new_int64((int64_t)models[i].in_flight));
			json_object_object_add(e, "in_flight_max",
					       json_object_new_int64((int64_t)models[i].in_flight_max));
			json_object_object_add(m, models[i].name, e);
		}
		o = json_object_new_object();
		json_object_object_add(o, "models", m);
	} else if (strcmp(r->route, "/mock/models/reset") == 0 && strcmp(r->method, "POST") == 0) {
		models_clear();
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	} else if (strcmp(r->route, "/mock/stats") == 0 && strcmp(r->method, "GET") == 0) {
		struct json_object *bp = json_object_new_object(), *bs = json_object_new_object(),
				   *bf = json_object_new_object();
		char k[8];

		for (size_t i = 0; i < n_paths; i++)
			json_object_object_add(bp, paths[i].path, json_object_new_int64((int64_t)paths[i].n));
		if (other_paths)
			json_object_object_add(bp, "(other)", json_object_new_int64((int64_t)other_paths));
		for (int i = 1; i < 6; i++) {
			snprintf(k, sizeof(k), "%dxx", i);
			json_object_object_add(bs, k, json_object_new_int64((int64_t)status_counts[i]));
		}
		for (int f = 0; f < F_COUNT; f++)
			json_object_object_add(bf, fault_names[f], json_object_new_int64((int64_t)fault_counts[f]));
		o = json_object_new_object();
		json_object_object_add(o, "requests", json_object_new_int64((int64_t)log_count));
		json_object_object_add(o, "by_path", bp);
		json_object_object_add(o, "by_status", bs);
		json_object_object_add(o, "by_fault", bf);
		json_object_object_add(o, "connections_open", json_object_new_int64((int64_t)conns_open));
		json_object_object_add(o, "connections_accepted", json_object_new_int64((int64_t)conns_accepted));
		json_object_object_add(o, "llm_in_flight", json_object_new_int64((int64_t)llm_in_flight));
		json_object_object_add(o, "llm_in_flight_max", json_object_new_int64((int64_t)llm_in_flight_max));
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string("unknown mock endpoint or method"));
		status = strncmp(r->route, "/mock/", 6) == 0 &&
			 (!strcmp(r->route, "/mock/config") || !strcmp(r->route, "/mock/reset") ||
			  !strcmp(r->route, "/mock/requests") || !strcmp(r->route, "/mock/stats") ||
			  !strcmp(r->route, "/mock/models") || !strcmp(r->route, "/mock/models/reset")) ? 405 : 404;
	}
	respond_json(c, status, o, NULL, 0);
	json_object_put(o);
}

static void dispatch(struct conn *c, struct http_req *r)
{
	if (strcmp(r->route, "/v1/chat/completions") == 0)
		handle_llm(c, r, P_OPENAI);
	else if (strcmp(r->route, "/v1beta/openai/chat/completions") == 0)
		handle_llm(c, r, P_GEMINI);
	else if (strcmp(r->route, "/api/chat") == 0)
		handle_llm(c, r, P_OLLAMA);
	else if (strcmp(r->route, "/v1/messages") == 0)
		handle_llm(c, r, P_ANTHROPIC);
	else if (strcmp(r->route, "/v1/embeddings") == 0)
		handle_embed(c, r, P_OPENAI);
	else if (strcmp(r->route, "/v1beta/openai/embeddings") == 0)
		handle_embed(c, r, P_GEMINI);
	else if (strcmp(r->route, "/api/embed") == 0)
		handle_embed(c, r, P_OLLAMA);
	else if (strcmp(r->route, "/mock/redirect") == 0) { /* a client must not follow it */
		count_path(r->route);
		respond(c, 302, "application/json", "{}", 2, "Location: /v1/chat/completions\r\n", 0);
	} else if (strcmp(r->route, "/health") == 0) {
		count_path(r->route);
		respond(c, 200, "application/json", "{\"ok\":true}", 11, NULL, 0);
	} else
		handle_mock(c, r);
}

/* ------------------------------------------------------------------ */
/* HTTP/1.1 parsing                                                    */

static const char *memmem_crlf2(const char *p, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++) {
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return p + i;
	}
	return NULL;
}

static void simple_error(struct conn *c, int status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);

	c->close_after = true;
	c->in.len = 0;
	respond(c, status, "application/json", body, (size_t)n, NULL, 0);
}

/* Parses as many complete requests from c->in as the connection state
 * allows (one at a time: the next waits until this reply is sent). */
static void try_parse_loop(struct conn *c);

static void try_parse(struct conn *c)
{
	int fd = c->fd;
	uint64_t gen = c->gen;

	if (c->parsing)
		return;
	c->parsing = true;
	try_parse_loop(c);
	c = conn_live(fd, gen);
	if (c)
		c->parsing = false;
}

static void try_parse_loop(struct conn *c)
{
	int fd = c->fd;
	uint64_t gen = c->gen;

	while (c->state == C_READ && c->in.len > 0) {
		const char *end = memmem_crlf2(c->in.p, c->in.len);
		struct http_req r;
		const char *p, *line_end, *hdr_end;
		size_t clen = 0, head_len;
		bool keep_alive = true, http10 = false, expect_continue = false, chunked = false;
		char *sp1, *sp2;

		if (!end) {
			if (c->in.len > MAX_HEADER_BYTES)
				simple_error(c, 431, "request headers too large");
			return;
		}
		memset(&r, 0, sizeof(r));
		hdr_end = end + 2;
		head_len = (size_t)(end + 4 - c->in.p);
		line_end = memchr(c->in.p, '\r', (size_t)(end - c->in.p) + 2);
		sp1 = memchr(c->in.p, ' ', (size_t)(line_end - c->in.p));
		sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
		if (!sp1 || !sp2 || (size_t)(sp1 - c->in.p) >= sizeof(r.method) ||
		    line_end - sp2 - 1 != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
			simple_error(c, 400, "malformed request line");
			return;
		}
		memcpy(r.method, c->in.p, (size_t)(sp1 - c->in.p));
		r.path = dupn(sp1 + 1, (size_t)(sp2 - sp1 - 1));
		http10 = sp2[8] == '0';
		if (http10)
			keep_alive = false;
		for (p = line_end + 2; p < hdr_end; ) {
			const char *le = memchr(p, '\r', (size_t)(hdr_end - p) + 1);
			const char *colon = memchr(p, ':', (size_t)(le - p));
			const char *v;
			size_t nl, vl;

			if (!colon) {
				free(r.path);
				simple_error(c, 400, "malformed header line");
				return;
			}
			nl = (size_t)(colon - p);
			v = colon + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(le - v);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
#define HDR(name) (nl == sizeof(name) - 1 && strncasecmp(p, name, nl) == 0)
			if (HDR("content-length")) {
				char num[24];

				if (vl == 0 || vl >= sizeof(num)) {
					free(r.path);
					simple_error(c, 400, "bad Content-Length");
					return;
				}
				memcpy(num, v, vl);
				num[vl] = '\0';
				clen = strtoul(num, NULL, 10);
			} else if (HDR("connection")) {
				if (vl == 5 && strncasecmp(v, "close", 5) == 0)
					keep_alive = false;
				else if (vl == 10 && strncasecmp(v, "keep-alive", 10) == 0)
					keep_alive = true;
			} else if (HDR("expect")) {
				expect_continue = vl == 12 && strncasecmp(v, "100-continue", 12) == 0;
			} else if (HDR("transfer-encoding")) {
				chunked = true;
			} else if (HDR("authorization")) {
				r.authorization = v;
				r.auth_len = vl;
			} else if (HDR("x-api-key")) {
				r.x_api_key = v;
				r.key_len = vl;
			} else if (HDR("anthropic-version")) {
				r.anthropic_version = v;
				r.ver_len = vl;
			} else if (HDR("content-type")) {
				r.content_type = v;
				r.ctype_len = vl;
			}
#undef HDR
			p = le + 2;
		}
		if (chunked) {
			free(r.path);
			simple_error(c, 411, "send a Content-Length (chunked bodies are not supported)");
			return;
		}
		if (clen > MAX_BODY_BYTES) {
			free(r.path);
			simple_error(c, 413, "request body too large");
			return;
		}
		if (c->in.len < head_len + clen) {
			if (expect_continue && !c->sent_continue) {
				c->sent_continue = true;
				c->out.len = 0;
				c->out_off = 0;
				sb_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
				c->out_limit = c->out.len;
				free(r.path);
				conn_flush(c);
				return;
			}
			free(r.path);
			return;
		}
		c->sent_continue = false;
		c->out.len = c->out_off = c->out_limit = 0;
		r.body = c->in.p + head_len;
		r.body_len = clen;
		{
			/* A proxy gets the absolute form (http://host/path): the
			 * mock acts as that proxy and logs that it was one. */
			char *target = r.path, *q, *route;

			if (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0) {
				char *slash = strchr(strstr(target, "://") + 3, '/');

				r.proxied = true;
				target = slash ? slash : (char *)"/";
			}
			q = strchr(target, '?');
			route = dupn(target, q ? (size_t)(q - target) : strlen(target));

			r.query = q ? q + 1 : NULL;
			r.route = route;
			c->close_after = !keep_alive;
			dispatch(c, &r);
			free(route);
		}
		free(r.path);
		/* dispatch may have closed c (a write error, Connection: close). */
		if (!conn_live(fd, gen))
			return;
		memmove(c->in.p, c->in.p + head_len + clen, c->in.len - head_len - clen);
		c->in.len -= head_len + clen;
	}
}

static void conn_readable(struct conn *c)
{
	for (;;) {
		ssize_t n;

		sb_reserve(&c->in, 16384);
		n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
		if (n > 0) {
			c->in.len += (size_t)n;
			if (c->in.len > MAX_HEADER_BYTES + MAX_BODY_BYTES + 4096) {
				conn_close(c);
				return;
			}
			continue;
		}
		if (n == 0) {
			conn_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		conn_close(c);
		return;
	}
	if (c->state == C_READ)
		try_parse(c);
}

static void on_timer(struct conn *c)
{
	c->wake_us = 0;
	if (c->state == C_DELAY) {
		llm_end(c);
		c->state = C_WRITE;
		if (conn_flush(c) == 0 && c->trickle_ms > 0 && c->out_limit < c->out.len)
			set_timer(c, c->trickle_ms * 1000);
		return;
	}
	if (c->state == C_WRITE && c->trickle_ms > 0 && c->out_limit < c->out.len) {
		c->out_limit++;
		if (conn_flush(c) == 0 && c->out_limit < c->out.len)
			set_timer(c, c->trickle_ms * 1000);
	}
}

static void accept_all(int lfd)
{
	for (;;) {
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				fprintf(stderr, "mock-llm: out of file descriptors\n");
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((size_t)fd >= n_conns_slots) {
			size_t n = n_conns_slots ? n_conns_slots : 1024;

			while (n <= (size_t)fd)
				n *= 2;
			conns = xrealloc(conns, n * sizeof(*conns));
			memset(conns + n_conns_slots, 0, (n - n_conns_slots) * sizeof(*conns));
			n_conns_slots = n;
		}
		c = xrealloc(NULL, sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->gen = ++gen_counter;
		c->state = C_READ;
		c->model_ix = -1;
		conns[fd] = c;
		ev.data.u64 = ev_key(c);
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
		conns_accepted++;
		conns_open++;
	}
}

/* ------------------------------------------------------------------ */
/* Start-up                                                            */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fputs(
"usage: mock-llm [options]\n"
"A fake LLM provider for tests and benchmarks (OpenAI, Gemini, Ollama and\n"
"Anthropic wire formats) on 127.0.0.1.\n"
"\n"
"Options:\n"
"  --port N            port to listen on; 0 picks a free one (default 0)\n"
"  --host ADDR         IPv4 address to bind (default 127.0.0.1)\n"
"  --port-file PATH    write the chosen port there (atomically) once listening\n"
"  --latency-ms N      delay before every LLM answer (timers, not sleeps)\n"
"  --error-rate X      fraction of requests answered with --error-status\n"
"  --error-status N    status for injected errors (default 500)\n"
"  --rate-limit-rate X fraction of requests answered 429 + Retry-After\n"
"  --rate-limit-next K the next K requests are answered 429\n"
"  --retry-after N     Retry-After seconds on 429 (default 1; -1 = no header)\n"
"  --hang              accept every LLM request and never answer\n"
"  --trickle-ms N      send every reply body one byte per N ms\n"
"  --truncate          announce the whole body, send half, close\n"
"  --oversize-mib N    every reply carries N MiB of text\n"
"  --malformed KIND    every reply is broken: syntax | shape | html\n"
"  --finish REASON     every reply stops with: length | content_filter\n"
"  --set JSON          apply a JSON object of configuration keys (see below)\n"
"  --verbose           one line per LLM request on stdout (never headers)\n"
"  --help              this text\n"
"The expected API key (answer 401 to any other) is read from the\n"
"environment variable MOCK_LLM_EXPECT_KEY, never from the command line.\n"
"The chosen port is printed alone on the first line of stdout.\n"
"\n"
"LLM endpoints (POST):\n"
"  /v1/chat/completions             OpenAI (response_format json_object/json_schema)\n"
"  /v1beta/openai/chat/completions  Gemini OpenAI-compatible\n"
"  /api/chat                        Ollama native (stream:false, format)\n"
"  /v1/messages                     Anthropic (x-api-key, anthropic-version)\n"
"Replies: \"Mock reply to: <first 40 chars of the last user message>\", JSON\n"
"conforming to a requested schema, or {\"reply\":...,\"model\":...} in JSON mode.\n"
"Usage: input = sum over messages of ceil(bytes/4) + 4; output = ceil(bytes/4);\n"
"a system prompt seen before (same model) counts as cached input.\n"
"\n"
"Control endpoints:\n"
"  ANY  /mock/redirect   302 to /v1/chat/completions (clients must not follow)\n"
"  GET  /mock/config     the configuration (JSON)\n"
"  POST /mock/config     merge a JSON object of keys; unknown keys are a 400\n"
"  POST /mock/reset      clear log, counters and cache; config back to start-up\n"
"  GET  /mock/requests?n=N  {count, requests:[last N, oldest first]}\n"
"  GET  /mock/stats      {requests, by_path, by_status, by_fault, connections_*,\n"
"                        llm_in_flight, llm_in_flight_max}\n"
"  GET  /mock/models     {models:{<model>:{requests, in_flight, in_flight_max}}}\n"
"                        by the \"model\" of the request body\n"
"  POST /mock/models/reset  those counters from now on (max = in flight now)\n"
"  GET  /health          {\"ok\":true}\n"
"\n"
"Configuration keys:\n"
"  latency_ms, error_status, retry_after, retry_after_date (bool),\n"
"  trickle_ms, oversize_mib, malformed_kind (syntax|shape|html), seed,\n"
"  expect_key (string or null; write-only), storm_seconds (a storm: every\n"
"  LLM request answered 429 + Retry-After at once for that long; 0 ends it),\n"
"  and for every fault F in\n"
"  error, rate_limit, hang, trickle, truncate, oversize, malformed, length,\n"
"  content_filter: F_rate (0..1, fraction of requests) and F_next (the next\n"
"  K requests). _next counters win over rates; one fault per request.\n", f);
}

static int set_key(struct mock_config *c, const char *key, struct json_object *v)
{
	struct json_object *o = json_object_new_object();
	char err[256];
	int rc;

	json_object_object_add(o, key, v);
	rc = config_apply(c, o, err, sizeof(err));
	json_object_put(o);
	if (rc)
		fprintf(stderr, "mock-llm: %s\n", err);
	return rc;
}

static int set_num(struct mock_config *c, const char *key, const char *arg)
{
	char *end;
	double d = strtod(arg, &end);

	if (end == arg || *end) {
		fprintf(stderr, "mock-llm: --%s needs a number\n", key);
		return -1;
	}
	return set_key(c, key, json_object_new_double(d));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "latency-ms", required_argument, NULL, 'l' },
		{ "error-rate", required_argument, NULL, 'e' },
		{ "error-status", required_argument, NULL, 's' },
		{ "rate-limit-rate", required_argument, NULL, 'r' },
		{ "rate-limit-next", required_argument, NULL, 'R' },
		{ "retry-after", required_argument, NULL, 'a' },
		{ "hang", no_argument, NULL, 'g' },
		{ "trickle-ms", required_argument, NULL, 't' },
		{ "truncate", no_argument, NULL, 'T' },
		{ "oversize-mib", required_argument, NULL, 'o' },
		{ "malformed", required_argument, NULL, 'm' },
		{ "finish", required_argument, NULL, 'F' },
		{ "set", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long port = 0;
	const char *host = "127.0.0.1", *port_file = NULL, *key;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int lfd, one = 1, ch, rc = 0;
	struct epoll_event ev, events[256];
	struct rlimit rl;
	struct sigaction sact;

	start_us = mono_us();
	config_defaults(&cfg);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int bad_opt = 0;

		switch (ch) {
		case 'p': {
			char *end;

			port = strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65535) {
				fprintf(stderr, "mock-llm: bad --port\n");
				return 2;
			}
			break;
		}
		case 'H': host = optarg; break;
		case 'f': port_file = optarg; break;
		case 'l': bad_opt = set_num(&cfg, "latency_ms", optarg); break;
		case 'e': bad_opt = set_num(&cfg, "error_rate", optarg); break;
		case 's': bad_opt = set_num(&cfg, "error_status", optarg); break;
		case 'r': bad_opt = set_num(&cfg, "rate_limit_rate", optarg); break;
		case 'R': bad_opt = set_num(&cfg, "rate_limit_next", optarg); break;
		case 'a': bad_opt = set_num(&cfg, "retry_after", optarg); break;
		case 'g': bad_opt = set_key(&cfg, "hang_rate", json_object_new_int(1)); break;
		case 't':
			bad_opt = set_num(&cfg, "trickle_ms", optarg) ||
				  set_key(&cfg, "trickle_rate", json_object_new_int(1));
			break;
		case 'T': bad_opt = set_key(&cfg, "truncate_rate", json_object_new_int(1)); break;
		case 'o':
			bad_opt = set_num(&cfg, "oversize_mib", optarg) ||
				  set_key(&cfg, "oversize_rate", json_object_new_int(1));
			break;
		case 'm':
			bad_opt = set_key(&cfg, "malformed_kind", json_object_new_string(optarg)) ||
				  set_key(&cfg, "malformed_rate", json_object_new_int(1));
			break;
		case 'F':
			if (strcmp(optarg, "length") == 0)
				bad_opt = set_key(&cfg, "length_rate", json_object_new_int(1));
			else if (strcmp(optarg, "content_filter") == 0)
				bad_opt = set_key(&cfg, "content_filter_rate", json_object_new_int(1));
			else {
				fprintf(stderr, "mock-llm: --finish takes length or content_filter\n");
				bad_opt = 1;
			}
			break;
		case 'S': {
			struct json_object *o = json_tokener_parse(optarg);
			char err[256];

			if (!o || config_apply(&cfg, o, err, sizeof(err))) {
				fprintf(stderr, "mock-llm: --set: %s\n", o ? err : "not a JSON object");
				bad_opt = 1;
			}
			json_object_put(o);
			break;
		}
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad_opt)
			return 2;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	key = getenv("MOCK_LLM_EXPECT_KEY");
	if (key && *key)
		cfg.expect_key = xstrdup(key);
	rng_state = cfg.seed * 0x9e3779b97f4a7c15ull + 1;
	memset(&cfg_start, 0, sizeof(cfg_start));
	config_copy(&cfg_start, &cfg);

	/* Many slow requests at once need many descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&sact, 0, sizeof(sact));
	sact.sa_handler = on_signal;
	sigaction(SIGTERM, &sact, NULL);
	sigaction(SIGINT, &sact, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("mock-llm: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "mock-llm: bad --host %s\n", host);
		return 2;
	}
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096)) {
		perror("mock-llm: bind/listen");
		return 1;
	}
	getsockname(lfd, (struct sockaddr *)&sa, &salen);
	printf("%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	if (port_file) {
		size_t n = strlen(port_file) + 8;
		char *tmp = xrealloc(NULL, n);
		FILE *f;

		snprintf(tmp, n, "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) || rename(tmp, port_file)) {
			perror("mock-llm: port file");
			free(tmp);
			return 1;
		}
		free(tmp);
	}

	epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.u64 = UINT64_MAX;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		int timeout = -1, n;
		int64_t now = mono_us();

		/* Fire due timers; drop the stale ones (closed or re-armed). */
		while (heap_len > 0 && heap[0].at <= now) {
			struct timer t = heap_pop();
			struct conn *c = conn_live(t.fd, t.gen);

			if (c && c->wake_us == t.at)
				on_timer(c);
			now = mono_us();
		}
		if (heap_len > 0)
			timeout = (int)((heap[0].at - now + 999) / 1000);
		n = epoll_wait(epfd, events, (int)(sizeof(events) / sizeof(events[0])), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("mock-llm: epoll_wait");
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t key_ev = events[i].data.u64;
			int fd = (int)(uint32_t)key_ev;
			uint64_t gen = key_ev >> 32;
			struct conn *c;

			if (key_ev == UINT64_MAX) {
				accept_all(lfd);
				continue;
			}
			c = conn_live(fd, gen);
			if (!c)
				continue;
			if (events[i].events & (EPOLLERR | EPOLLHUP)) {
				conn_close(c);
				continue;
			}
			if (events[i].events & EPOLLOUT) {
				if (conn_flush(c) < 0)
					continue;
				if (c->trickle_ms > 0 && c->state == C_WRITE && c->out_limit < c->out.len &&
				    c->wake_us == 0)
					set_timer(c, c->trickle_ms * 1000);
			}
			if ((events[i].events & EPOLLIN) && conn_live(fd, gen))
				conn_readable(c);
		}
	}
	for (size_t i = 0; i < n_conns_slots; i++) {
		if (conns[i])
			conn_close(conns[i]);
	}
	free(conns);
	free(heap);
	log_clear();
	free(cfg.expect_key);
	free(cfg_start.expect_key);
	close(lfd);
	close(epfd);
	return rc;
}
