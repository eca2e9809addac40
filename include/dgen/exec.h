/*
 * exec.h - the execution environment: what running a pipeline needs
 * besides the pipeline and its input, made once from the configuration and
 * shared by the runner, the API's execute endpoint and `dgen run`, so the
 * three run blocks under the same settings.
 *
 * It holds the block registry (the builtins its maker passes in, plus the
 * plugins of DGEN_BLOCKS_DIR), the LLM client, the template limits and the
 * limits of seed input, and it builds the block context of every
 * execution (exec_block_ctx). The units a job splits into come from the
 * planner (plan.h), a record's export line from export_line.h.
 *
 * Ownership: exec_new() takes the registry over; exec_free() releases it,
 * the LLM client and everything else. The configuration is borrowed and
 * must outlive the environment. LLM handles from exec_handle_new() are the
 * caller's: exec_handle_free() them before exec_free().
 *
 * Threads: every function may be called from any thread. The LLM client is
 * made once, under a lock, by the first exec_connect() or
 * exec_handle_new() that succeeds; a handle serves one thread at a time.
 */
#ifndef DGEN_EXEC_H
#define DGEN_EXEC_H

#include <stdatomic.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/config.h"
#include "dgen/err.h"
#include "dgen/json.h"
#include "dgen/model.h"
#include "dgen/registry.h"
#include "dgen/seeds.h"

struct dgen_exec;

/* Makes the environment around reg (the builtin blocks, usually
 * blocks_registry()) and adds the plugins of cfg->blocks_dir: a plugin
 * directory that cannot be read is a warning, not a failure (the builtins
 * still run). No LLM client is made yet. */
struct dgen_exec *exec_new(const struct dgen_config *cfg, struct dgen_registry *reg);
void exec_free(struct dgen_exec *x);

const struct dgen_config *exec_config(const struct dgen_exec *x);
struct dgen_registry *exec_registry(const struct dgen_exec *x);

/*
 * The named models (SPEC.md §9) blocks pick by their `model` /
 * `embedding_model` config; either list may be NULL or empty (that kind
 * keeps the configured LLM_* / EMBEDDING_* endpoint). Takes the lists
 * over (they are left empty). Call before exec_connect so that the
 * default client is the default model's; a later different set serves
 * the lookups from then on (clients of one model are made once per set,
 * on first use; handles per thread).
 */
void exec_set_models(struct dgen_exec *x, struct dgen_model_list *llm,
		     struct dgen_model_list *emb);

/* Makes the LLM client from the configuration unless it is made already.
 * A failed attempt is made again by the next call. Errors: those of
 * llm_client_new (DGEN_EINVALID for a bad LLM_ENDPOINT or LLM_PROVIDER). */
int exec_connect(struct dgen_exec *x, struct dgen_err *err);
/* The client (for its provider, model and endpoint); NULL before a
 * successful exec_connect. */
struct dgen_llm_client *exec_llm_client(struct dgen_exec *x);
/* A new handle on the client (connecting first); NULL with err set when
 * the client cannot be made. */
struct dgen_llm_handle *exec_handle_new(struct dgen_exec *x, struct dgen_err *err);
/* NULL is a no-op. */
void exec_handle_free(struct dgen_llm_handle *h);
/* For a thread that runs many executions in turn (the runner's
 * coroutines): makes slot (NULL: none yet) the calling thread's handles
 * of named models and returns the previous one. Slots live until
 * exec_free. */
void *exec_swap_slot(struct dgen_exec *x, void *slot);

/* The block context of one execution: the LLM handle h (NULL: blocks that
 * need an LLM fail saying so), the environment's template limits, cancel
 * (may be NULL) and deadline (monotonic seconds, 0 = none). The optional
 * hooks (usage, on_block) start empty; the caller sets what it wants. */
struct dgen_block_ctx exec_block_ctx(const struct dgen_exec *x, struct dgen_llm_handle *h,
				     const atomic_int *cancel, double deadline);

/* The limits of a seed file read for a run: JSON within DGEN_MAX_UPLOAD,
 * DGEN_JSON_DEPTH and DGEN_MAX_STRING; DGEN_MAX_SEEDS seeds of at most
 * DGEN_MAX_REPETITIONS repetitions. */
void exec_seed_limits(const struct dgen_exec *x, struct dgen_json_limits *jlim,
		      struct dgen_seed_limits *slim);

/* A record's output (SPEC.md §7): the state's pipeline_output when it is
 * a string, else its compact JSON text ("" when there is none). Owned by
 * state. */
const char *exec_output_text(struct json_object *state);

#endif
