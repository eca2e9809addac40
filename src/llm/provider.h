/*
 * provider.h - what a provider adapter gives the LLM client (internal to
 * src/llm). One adapter per wire format: it writes the request body, names
 * the default path of its endpoint, adds its headers, and reads a reply
 * (text, finish reason, usage) or an error body.
 *
 * Ownership: build() returns a new json_object the caller puts; write()
 * appends to the caller's buffer; parse()
 * fills resp->text and resp->finish_reason with malloc'd strings (the
 * client frees them through llm_response_free); error_text() returns a
 * malloc'd string or NULL. Adapters keep no state: the table is const and
 * shared by every thread.
 */
#ifndef DGEN_LLM_PROVIDER_H
#define DGEN_LLM_PROVIDER_H

#include <curl/curl.h>
#include <json-c/json.h>

#include "dgen/buf.h"
#include "dgen/err.h"
#include "dgen/llm.h"

/* How a reply ended, in the client's terms. */
enum llm_finish {
	LLM_FINISH_OK,     /* a complete answer */
	LLM_FINISH_LENGTH, /* cut by the token limit */
	LLM_FINISH_FILTER, /* blocked by a content filter or refused */
};

struct llm_adapter {
	enum dgen_llm_provider id;
	const char *name;         /* "openai" (LLM_PROVIDER value) */
	const char *display;      /* "OpenAI" (in messages) */
	const char *default_path; /* appended to an endpoint without a path */

	/* Adds the provider's headers (the key only in its own header). */
	struct curl_slist *(*headers)(struct curl_slist *h, const char *api_key);
	/* The request body for req; model is already resolved. */
	struct json_object *(*build)(const struct dgen_llm_request *req, const char *model);
	/* Optional: the same body, byte for byte, written straight into out
	 * without a json_object; false (out untouched) for a request it
	 * leaves to build(). */
	bool (*write)(const struct dgen_llm_request *req, const char *model, struct dgen_buf *out);
	/* Reads a 2xx reply, already known to be a JSON object. Fails
	 * (DGEN_ELLM, naming ad->display) when it does not have the
	 * provider's shape. */
	int (*parse)(const struct llm_adapter *ad, struct json_object *reply,
		     struct dgen_llm_response *resp, enum llm_finish *finish,
		     struct dgen_err *err);
	/* The provider's error message out of an error body, or NULL. */
	char *(*error_text)(struct json_object *reply);
};

extern const struct llm_adapter llm_openai_adapter;
extern const struct llm_adapter llm_gemini_adapter;
extern const struct llm_adapter llm_ollama_adapter;
extern const struct llm_adapter llm_anthropic_adapter;

/* Shared by the OpenAI-shaped adapters (OpenAI and Gemini). */
/* The functions of an adapter that speaks OpenAI's wire format whole. */
#define LLM_OPENAI_WIRE                                                    \
	.headers = openai_headers, .build = openai_build, .write = openai_write, \
	.parse = openai_parse, .error_text = openai_error_text
struct json_object *openai_build(const struct dgen_llm_request *req, const char *model);
bool openai_write(const struct dgen_llm_request *req, const char *model, struct dgen_buf *out);
int openai_parse(const struct llm_adapter *ad, struct json_object *reply,
		 struct dgen_llm_response *resp, enum llm_finish *finish, struct dgen_err *err);
char *openai_error_text(struct json_object *reply);
struct curl_slist *openai_headers(struct curl_slist *h, const char *api_key);

/* Helpers for adapters (client.c). */
/* Sets err to DGEN_ELLM "malformed JSON from <display>: <what>"; returns -1. */
int llm_malformed(struct dgen_err *err, const char *display, const char *what);
/* Copies the optional string member `key` of obj (how the provider says
 * the reply ended) into resp->finish_reason; present but not a string is
 * malformed, `where` naming it ("choices[0].finish_reason"). */
int llm_reply_reason(const struct llm_adapter *ad, struct json_object *obj, const char *key,
		     const char *where, struct dgen_llm_response *resp, struct dgen_err *err);
/* Reads the token counts named by the NULL-terminated keys (paths for
 * llm_usage_int) out of the reply's optional "usage" object into counts[]
 * (0 when absent); a usage that is not an object, or a bad count, is
 * malformed. */
int llm_reply_usage(const struct llm_adapter *ad, struct json_object *reply,
		    const char *const *keys, int64_t *counts, struct dgen_err *err);
/* Sets resp->usage; the cached part never exceeds the input. */
void llm_usage_set(struct dgen_llm_response *resp, int64_t in, int64_t out, int64_t cached);
/* A non-negative integer member of obj (path "a.b" of nested objects);
 * 0 when absent or null; -1 when present but not an integer in
 * [0, 10^12]. */
int llm_usage_int(struct json_object *obj, const char *path, int64_t *out);
/* True when some message content mentions "json" (any case). */
int llm_messages_mention_json(const struct dgen_llm_request *req);
/* The schema's title when it is a valid OpenAI schema name, else "response". */
const char *llm_schema_name(struct json_object *schema);

#endif
