/*
 * embed.h - text embeddings over HTTP: OpenAI-compatible /v1/embeddings,
 * Ollama's /api/embed and Gemini's OpenAI-compatible embeddings endpoint.
 *
 * The endpoint, model, key and provider come from configuration only
 * (EMBEDDING_ENDPOINT, EMBEDDING_MODEL, EMBEDDING_API_KEY,
 * EMBEDDING_PROVIDER, EMBEDDING_DIMENSIONS); each empty one defaults from
 * the LLM settings: the same scheme and host as LLM_ENDPOINT with the
 * provider's embeddings path, LLM_MODEL, LLM_API_KEY, the LLM provider
 * (Anthropic has no embeddings: OpenAI-compatible is assumed).
 *
 * Threads: one client serves every thread; each call uses its own libcurl
 * handle.
 *
 * Ownership: embed_client_new() / embed_client_free(). embed_call() and
 * embed_parse() hand the caller one malloc'd array of n * dim doubles
 * (vector i at [i * dim]) to free().
 */
#ifndef DGEN_EMBED_H
#define DGEN_EMBED_H

#include <stdatomic.h>
#include <stddef.h>
#include <json-c/json.h>

#include "dgen/config.h"
#include "dgen/err.h"
#include "dgen/llm.h"

struct dgen_embed_client;

/* Errors: DGEN_EINVALID for a bad EMBEDDING_* setting (field named). */
int embed_client_new(const struct dgen_config *cfg, struct dgen_embed_client **out,
		     struct dgen_err *err);
void embed_client_free(struct dgen_embed_client *c);
const char *embed_client_endpoint(const struct dgen_embed_client *c);
const char *embed_client_model(const struct dgen_embed_client *c);
enum dgen_llm_provider embed_client_provider(const struct dgen_embed_client *c);
/* The price of the model this client serves (see llm_client_set_price). */
void embed_client_set_price(struct dgen_embed_client *c, const struct dgen_price *p);

/* Embeds texts[0..n) (model NULL or "" = the configured one) into *vectors
 * (n * *dim doubles). usage->input_tokens grows by what the provider
 * reports, and usage->cost by their price when it reported any. Retries 429/5xx and connection errors (LLM_MAX_RETRIES) with a
 * growing pause; stops on *cancel or past deadline (DGEN_ECANCELLED).
 * Errors: DGEN_ELLM naming the provider and the reason; a reply with the
 * wrong number of vectors, vectors of different lengths, or of another
 * length than EMBEDDING_DIMENSIONS (when set) is DGEN_ELLM too. */
int embed_call(struct dgen_embed_client *c, const char *model, const char *const *texts,
	       size_t n, const atomic_int *cancel, double deadline, double **vectors,
	       size_t *dim, struct dgen_llm_usage *usage, struct dgen_err *err);

/* Reads a provider's 2xx reply (bytes, untrusted) holding n vectors;
 * want_dim 0 = any length. Used by embed_call and the fuzz target. */
int embed_parse(enum dgen_llm_provider p, const char *body, size_t len, size_t n,
		size_t want_dim, double **vectors, size_t *dim, struct dgen_llm_usage *usage,
		struct dgen_err *err);

/* Cosine similarity of two vectors of length dim; 0 when either is all
 * zero. */
double embed_cosine(const double *a, const double *b, size_t dim);

#endif
