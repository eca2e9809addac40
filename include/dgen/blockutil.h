/*
 * blockutil.h - small helpers the builtin blocks share: reading a field of
 * the accumulated state, turning a value into text, code fences.
 *
 * The state is shared by threads running the same pipeline, so nothing
 * here writes to it: no json_object_get() and no printing of state values
 * in place (json-c caches printed text inside the object).
 *
 * Ownership: blockutil_field() returns a borrowed pointer into the state.
 * blockutil_text() returns a borrowed string, or a malloc'd one that it
 * also stores in *owned for the caller to free. blockutil_json_reply()
 * returns a new object for the caller to put. blockutil_strip_fence()
 * and blockutil_find_fence() return views into the caller's text.
 * blockutil_compile() hands the caller a template to template_free().
 */
#ifndef DGEN_BLOCKUTIL_H
#define DGEN_BLOCKUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/buf.h"
#include "dgen/template.h"

/* The value a field reference names in the state: the top-level key of
 * that exact name if there is one, else a dotted path through objects
 * (and array indexes: "items.0.title"). NULL when absent or JSON null. */
struct json_object *blockutil_field(struct json_object *state, const char *name);

/* Text of a value: a string as is, "" for NULL/null, anything else as
 * its compact JSON (printed from a copy, into *owned). *len receives the
 * byte length. *owned is NULL when nothing was allocated. */
const char *blockutil_text(struct json_object *v, size_t *len, char **owned);

/* Removes one code fence around text[0..len) after trimming whitespace:
 * an opening run of three or more backticks followed by an optional info
 * word (json, JSON, ...), and a closing run of backticks at the end.
 * Returns the inside, trimmed, as a view (start, *out_len). Text without
 * an opening fence comes back trimmed only. */
const char *blockutil_strip_fence(const char *text, size_t len, size_t *out_len);

/* The first fenced block anywhere in text (```json ... ``` preferred,
 * else any ``` ... ```), as a view; NULL when there is none. */
const char *blockutil_find_fence(const char *text, size_t len, size_t *out_len);

/* An LLM reply read as a JSON object: the whole text, else the inside
 * of a surrounding fence, else the first fenced block (```json first);
 * anything else becomes {"raw_response": text}. A new object. */
struct json_object *blockutil_json_reply(const char *text);

/* Reads config values already checked by the engine against the params
 * table (so a wrong type is a bug, reported as DGEN_EINTERNAL). */
const char *blockutil_cfg_str(struct json_object *cfg, const char *key); /* NULL if null */
long long blockutil_cfg_int(struct json_object *cfg, const char *key, long long dflt);
double blockutil_cfg_num(struct json_object *cfg, const char *key, double dflt);
bool blockutil_cfg_bool(struct json_object *cfg, const char *key, bool dflt);

/* The generators' shared config checks: temperature in [0, 2],
 * max_tokens in [1, 1000000] (config errors naming the key). */
int blockutil_check_sampling(struct json_object *cfg, struct dgen_err *err);

/* Compiles a prompt template given as config key `key`; a syntax error is
 * a config error naming the key (detail.field) and the line. */
int blockutil_compile(const char *src, const char *key, struct dgen_template **out,
		      struct dgen_err *err);
/* Appends to out t rendered over the state (an error is prefixed with
 * `what` and keeps the template's detail under "template"), or, when t is
 * NULL, the text of the state's field `field` (blockutil_text). */
int blockutil_prompt(const struct dgen_template *t, const char *what, const char *field,
		     struct json_object *input, const struct dgen_block_ctx *ctx,
		     struct dgen_buf *out, struct dgen_err *err);

/* One LLM call for a generator: msgs[0..n) with model, temperature and
 * max_tokens from the (checked) config, the context's cancel flag and
 * deadline, in format fmt (schema for DGEN_LLM_JSON_SCHEMA). The call's
 * usage is added to ctx->usage whatever the outcome. No LLM configured is
 * a block error. resp is filled as llm_call() does; the caller always
 * releases it with llm_response_free(). */
int blockutil_ask(struct dgen_block_ctx *ctx, struct json_object *config,
		  const struct dgen_llm_message *msgs, size_t n, enum dgen_llm_format fmt,
		  struct json_object *schema, struct dgen_llm_response *resp,
		  struct dgen_err *err);

/* Sets a config error (DGEN_EINVALID) naming the key in detail.field. */
int blockutil_config_error(struct dgen_err *err, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
