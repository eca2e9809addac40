/*
 * model.h - a named LLM or embedding model (SPEC.md §9) as plain data:
 * where it is served, its key, its limits and its price. The store keeps
 * models (saved_models.h), the API and the CLI read them from JSON here,
 * and the engine gets a list of them to build one client per model; no
 * layer but the store knows where they are kept.
 *
 * Ownership: a struct dgen_model owns its strings (model_clear frees them);
 * a struct dgen_model_list owns its models (model_list_free). JSON from
 * model_to_json is a new reference.
 */
#ifndef DGEN_MODEL_H
#define DGEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/config.h"
#include "dgen/cost.h"
#include "dgen/err.h"

enum dgen_model_kind {
	DGEN_MODEL_LLM,
	DGEN_MODEL_EMBEDDING,
};

#define DGEN_MODEL_NAME_MAX 128

struct dgen_model {
	char *name;
	char *provider;       /* openai | anthropic | gemini | ollama */
	char *endpoint;       /* http(s) URL */
	char *api_key;        /* plain text, NULL or "" = none (never in answers) */
	char *api_key_last4;  /* what answers show of the key; NULL = no key */
	char *model_name;     /* the provider's model id */
	bool is_default;
	long dimensions;      /* embeddings: 0 = the provider's */
	long max_in_flight;   /* 0 = no ceiling of its own */
	long requests_per_minute;  /* 0 = unlimited */
	long tokens_per_minute;    /* 0 = unlimited */
	/* Price per million tokens; has_price false = unknown (cost null);
	 * price_cached < 0 = none of its own (cached input costs input's). */
	bool has_price;
	double price_input, price_output, price_cached;
	char *currency;       /* "USD" ...; NULL without a price */
	/* 0 = a global model (an admin's, usable by all); else the member
	 * who owns it (SPEC.md §8). Answers show it as "scope". */
	int64_t owner_id;
};

struct dgen_model_list {
	struct dgen_model *v;
	size_t n;
};

/* "llm" / "embedding": for messages. */
const char *model_kind_name(enum dgen_model_kind kind);

/*
 * Reads a model from a request body (POST, PUT, the test endpoint): name,
 * provider, endpoint, api_key, model_name, is_default, dimensions
 * (embeddings only), max_in_flight, requests_per_minute,
 * tokens_per_minute, price_per_mtok {input, output, cached}, currency.
 * Missing or ill-typed fields are DGEN_EBADREQ, invalid values (a name
 * that is not 1..128 printable bytes, an unknown provider, an endpoint
 * that is not http(s), a negative limit or price) DGEN_EINVALID; both
 * name the field in detail. *out is filled (model_clear it whatever the
 * result); *key_given tells whether api_key was in the body.
 */
int model_from_json(struct json_object *body, enum dgen_model_kind kind, struct dgen_model *out,
		    bool *key_given, struct dgen_err *err);

/* The public form: every field but api_key, plus "api_key_set",
 * "api_key_last4" (null without a key) and "scope" ("global" | "own"). */
struct json_object *model_to_json(const struct dgen_model *m, enum dgen_model_kind kind);

/* A deep copy of src into dst. */
void model_copy(struct dgen_model *dst, const struct dgen_model *src);
void model_clear(struct dgen_model *m);
void model_list_free(struct dgen_model_list *l);
/* The model named name in the view of owner (a user id; 0 = the global
 * models only): owner's own model of that name, else the global one. NULL
 * or "" = the default, always a global model (the first global one when
 * none is marked): members' own models are never the default. NULL when
 * there is none. */
const struct dgen_model *model_list_find(const struct dgen_model_list *l, int64_t owner,
					 const char *name);

/* m's price (NULL = none: unknown). */
void model_price(const struct dgen_model *m, struct dgen_price *p);

#endif
