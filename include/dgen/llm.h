/*
 * llm.h - calling LLM providers over HTTP (libcurl).
 *
 * One process-wide client (made once from the configuration: endpoint,
 * provider, key, proxy, timeouts, retry policy) and one handle per thread
 * that makes calls. Handles of one client share DNS and TLS sessions;
 * each handle keeps its own connection alive from call to call (libcurl's
 * shared connection cache is not safe across threads). Every provider speaks through one request/response struct;
 * an adapter per provider (src/llm/<provider>.c) builds the body and reads
 * the reply, usage included.
 *
 * Ownership: llm_client_new() / llm_client_free(); llm_handle_new() /
 * llm_handle_free() (free all handles before their client). A request only
 * borrows its strings and schema. llm_call() fills a caller-owned response
 * whose strings it allocates; llm_response_free() releases them.
 */
#ifndef DGEN_LLM_H
#define DGEN_LLM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/config.h"
#include "dgen/cost.h"
#include "dgen/err.h"

struct dgen_llm_client;
struct dgen_llm_handle;

enum dgen_llm_provider {
	DGEN_LLM_OPENAI,    /* OpenAI-compatible /v1/chat/completions */
	DGEN_LLM_OLLAMA,    /* Ollama native /api/chat */
	DGEN_LLM_ANTHROPIC, /* Anthropic /v1/messages */
	DGEN_LLM_GEMINI,    /* Gemini's OpenAI-compatible endpoint */
};

enum dgen_llm_format {
	DGEN_LLM_TEXT,
	DGEN_LLM_JSON_OBJECT, /* any JSON object */
	DGEN_LLM_JSON_SCHEMA, /* JSON conforming to request.schema */
};

struct dgen_llm_message {
	const char *role; /* "system", "user", "assistant" */
	const char *content;
};

struct dgen_llm_request {
	const struct dgen_llm_message *messages;
	size_t n_messages;
	const char *model;         /* NULL or "" = the configured LLM_MODEL */
	double temperature;        /* < 0 = the provider's default */
	int max_tokens;            /* <= 0 = the provider's default (Anthropic: 4096) */
	enum dgen_llm_format format;
	struct json_object *schema; /* for DGEN_LLM_JSON_SCHEMA; borrowed */
	/* Abort the call (and its retries) when *cancel becomes non-zero, or
	 * when the monotonic clock (dgen_clock_mono) passes deadline (0 = none).
	 * Checked from libcurl's progress callback and between retries. */
	const atomic_int *cancel;
	double deadline;
	/* Told (may be NULL) when the call waits because its model is rate
	 * limited (a 429, a Retry-After, the model's per-minute limits):
	 * wait_ms until it tries again; 0 once calls flow again. Called on
	 * the calling thread, possibly many times a second. */
	void (*on_wait)(void *arg, long wait_ms);
	void *on_wait_arg;
};

struct dgen_llm_usage {
	int64_t input_tokens;  /* every prompt token, cached ones included */
	int64_t output_tokens;
	int64_t cached_tokens; /* the part of input served from a cache */
	struct dgen_cost cost; /* at the price of the client that served it */
};

struct dgen_llm_response {
	char *text;           /* the reply (malloc'd) */
	char *finish_reason;  /* as the provider names it (malloc'd or NULL) */
	struct dgen_llm_usage usage;
	double latency;       /* seconds, whole call including retries */
	long http_status;     /* of the last attempt */
	char *provider_error; /* provider's error text, when it sent one */
	int attempts;
};

/* Errors: DGEN_EINVALID for a bad configuration (unknown provider, not
 * http/https). */
int llm_client_new(const struct dgen_config *cfg, struct dgen_llm_client **out,
		   struct dgen_err *err);
void llm_client_free(struct dgen_llm_client *c);
enum dgen_llm_provider llm_client_provider(const struct dgen_llm_client *c);
const char *llm_client_model(const struct dgen_llm_client *c);
/* The URL calls go to (LLM_ENDPOINT, with the provider's default path
 * added when it had none). Owned by the client. */
const char *llm_client_endpoint(const struct dgen_llm_client *c);
/* Retry backoff without Retry-After: the n-th retry waits a random time
 * in [d/2, d] with d = min(cap, base * 2^(n-1)). Defaults 500 ms / 30 s;
 * tests shorten them. Call before the handles are used. */
/* The price of the model this client serves: every call's usage is priced
 * with it (without one, a call's cost is unknown). Call before the handles
 * are used. */
void llm_client_set_price(struct dgen_llm_client *c, const struct dgen_price *p);
void llm_client_set_backoff(struct dgen_llm_client *c, long base_ms, long cap_ms);

/* Every call of the client goes through budget b (budget.h), shared with
 * the other clients of the same model; the client no longer uses its own.
 * b is borrowed (the table's live as long as the process). Call before
 * the handles are used. Without it a client has a budget of its own with
 * no limits, which still halves on 429s and honours Retry-After. */
struct dgen_budget;
void llm_client_set_budget(struct dgen_llm_client *c, struct dgen_budget *b);

struct dgen_llm_handle *llm_handle_new(struct dgen_llm_client *c);
void llm_handle_free(struct dgen_llm_handle *h);

/* One call with retries (408/409/429/5xx and connection errors, jittered
 * exponential backoff, Retry-After honoured up to a cap). Each attempt
 * first waits for the model's budget (budget.h). A 429 or an overload
 * answer (503, 529, overloaded_error) tells the budget to slow down and,
 * with LLM_RATE_LIMIT_PATIENCE set, is waited out for up to that long
 * without counting against LLM_MAX_RETRIES. A 401/403 is not retried.
 * Errors:
 * DGEN_ELLM (message names the provider and the reason: HTTP status and
 * the provider's error text, "reply cut by max_tokens", "content filter",
 * "malformed JSON from <provider>"), DGEN_ECANCELLED (cancel or deadline).
 * The response is filled as far as known even on error (status, attempts,
 * latency). The API key never appears in an error.
 * Attempts: 1 + LLM_MAX_RETRIES. LLM_TIMEOUT bounds each attempt (a
 * timed-out attempt is retried like a connection error); request.deadline
 * bounds the whole call. A reply over LLM_MAX_RESPONSE_BYTES, a malformed
 * reply and finish reason length / content filter are not retried.
 * Call llm_response_free(resp) afterwards whatever the result. */
int llm_call(struct dgen_llm_handle *h, const struct dgen_llm_request *req,
	     struct dgen_llm_response *resp, struct dgen_err *err);
void llm_response_free(struct dgen_llm_response *r);

/* "openai", "ollama", "anthropic", "gemini"; -1 for an unknown name. */
int llm_provider_parse(const char *name);
const char *llm_provider_name(enum dgen_llm_provider p);
/* The provider an endpoint URL most likely speaks (SPEC.md §6). */
enum dgen_llm_provider llm_provider_detect(const char *endpoint);

#endif
