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
 * blockutil_ask() hands the caller the reply text to free().
 * blockutil_compile() hands the caller a template to template_free().
 * blockutil_output() takes over the values it is given and hands the
 * object to the caller through *output.
 */
#ifndef DGEN_BLOCKUTIL_H
#define DGEN_BLOCKUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/buf.h"
#include "dgen/template.h"
#include "dgen/util.h"

/* The members of a struct dgen_block_type that every builtin block fills
 * the same way, from the static tables `inputs`, `outputs` and `params`
 * of its own file. Members left out (init, free, is_multiplier) are
 * NULL/false. */
#define BLOCKUTIL_TABLES                                                   \
	.abi = DGEN_BLOCK_ABI, .inputs = inputs, .outputs = outputs,       \
	.params = params, .n_params = DGEN_ARRAY_LEN(params)

/* The other members every builtin block fills: its type name (as pipelines
 * spell it), display name, category and one-line description. Follow it
 * with the block's functions (.init, .execute, .free, .is_multiplier). */
#define BLOCKUTIL_TYPE(type_, name_, category_, description_)             \
	BLOCKUTIL_TABLES, .type = (type_), .name = (name_),                  \
	.category = (category_), .description = (description_)

/* Rows of a params table, one macro per kind of parameter; what a kind
 * does not name is NULL/false (not required, not nullable, no enum):
 *   BLOCKUTIL_PARAM        a plain value of a type, its default as JSON text
 *   BLOCKUTIL_PARAM_FIELD  names a field of the state; dflt is that name
 *   BLOCKUTIL_PARAM_PROMPT a prompt template; "" uses a state field instead
 *   BLOCKUTIL_PARAM_ENUM   a string out of values (NULL-terminated)
 *   BLOCKUTIL_PARAM_MODEL  a model's name; null picks the default model
 * A row of any other shape spells the struct out. BLOCKUTIL_PARAMS_SAMPLING
 * is the generators' model, temperature and max_tokens, checked by
 * blockutil_check_sampling() and sent by blockutil_ask(). */
#define BLOCKUTIL_PARAM(name_, type_, dflt, description_)                 \
	{ .name = (name_), .type = (type_), .default_json = (dflt),          \
	  .description = (description_) }
#define BLOCKUTIL_PARAM_FIELD(name_, dflt, description_)                  \
	{ .name = (name_), .type = DGEN_PARAM_STRING, .default_json = "\"" dflt "\"", \
	  .field_ref = true, .description = (description_) }
#define BLOCKUTIL_PARAM_PROMPT(name_, description_)                       \
	{ .name = (name_), .type = DGEN_PARAM_STRING, .default_json = "\"\"",  \
	  .format = "prompt", .description = (description_) }
#define BLOCKUTIL_PARAM_ENUM(name_, dflt, values, description_)           \
	{ .name = (name_), .type = DGEN_PARAM_STRING, .default_json = (dflt), \
	  .enum_values = (values), .description = (description_) }
#define BLOCKUTIL_PARAM_MODEL(name_, description_)                       \
	{ .name = (name_), .type = DGEN_PARAM_STRING, .default_json = "null", \
	  .nullable = true, .description = (description_) }
#define BLOCKUTIL_PARAMS_SAMPLING                                          \
	BLOCKUTIL_PARAM_MODEL("model",                                       \
			      "Model name; null uses the configured default (LLM_MODEL)"), \
	BLOCKUTIL_PARAM("temperature", DGEN_PARAM_NUMBER, "0.7",             \
			"Sampling temperature (0 to 2)"),                    \
	BLOCKUTIL_PARAM("max_tokens", DGEN_PARAM_INTEGER, "2048",            \
			"Most tokens the reply may have")

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

/* An integer config value that must not be negative (a count or a
 * length), read into *out; a negative one is a config error naming the
 * key ("<key> must be 0 or more"). */
int blockutil_cfg_count(struct json_object *cfg, const char *key, long long dflt,
			long long *out, struct dgen_err *err);

/* The text of the state field that config key `key` names (`dflt` when
 * the key is unset), as blockutil_text() gives it. */
const char *blockutil_input_text(struct json_object *cfg, const char *key, const char *dflt,
				 struct json_object *input, size_t *len, char **owned);

/* Ends an execute(): *output becomes a new object holding the key/value
 * pairs that follow, up to a NULL key (a NULL value is JSON null; values
 * are taken over). Returns 0. */
int blockutil_output(struct json_object **output, const char *key, ...)
	__attribute__((sentinel));

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
 * a block error. On success *reply is the reply's text ("" when the
 * provider sent none), malloc'd for the caller to free; else NULL. */
int blockutil_ask(struct dgen_block_ctx *ctx, struct json_object *config,
		  const struct dgen_llm_message *msgs, size_t n, enum dgen_llm_format fmt,
		  struct json_object *schema, char **reply, struct dgen_err *err);

/* Sets a config error (DGEN_EINVALID) naming the key in detail.field. */
int blockutil_config_error(struct dgen_err *err, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
