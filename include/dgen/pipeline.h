/*
 * pipeline.h - loading a pipeline definition and running seeds through it.
 *
 * A definition is {"name": str, "blocks": [{"type": str, "config": {}}],
 * "constraints": {}?}. pipeline_load() checks it against a registry and
 * compiles it: block types resolved, configs checked and completed with
 * defaults, each block's init() run once. A loaded pipeline is immutable:
 * any number of threads may execute it at once, each with its own
 * struct dgen_block_ctx (its own LLM handle).
 *
 * Execution of one seed (SPEC.md §2): trace_id = new UUID; state = deep
 * copy of the metadata; each block executes over the state, its output
 * keys must be among its declared outputs ("*" allows any), the output is
 * merged into the state (last writer wins) and a trace entry
 * {block_type, input, output, accumulated_state, execution_time} appended.
 * After the last block, when no block set "pipeline_output", it is set from
 * "assistant" when the state has one, else from the state's value of the
 * last block's first declared output (skipped when that is "*" or absent).
 *
 * Multiplier pipelines (first block is_multiplier): pipeline_expand() runs
 * the first block over the seed and returns its chunk states; each chunk is
 * then its own execution through pipeline_execute_chunk(), which runs
 * blocks 2..n (steps keep their place in the whole pipeline: the block after
 * the multiplier is step 2). A chunk's trace holds the blocks after the
 * multiplier. pipeline_execute() on a multiplier pipeline is an error; use
 * pipeline_execute_all() for "run everything" (the execute endpoint).
 *
 * Errors while executing:
 *  - a block's own failure: "Block '<T>' failed at step <i>: <error>",
 *    detail {block_type, step (1-based), error, input}; code DGEN_EBLOCK
 *    (DGEN_ECANCELLED when the block was cancelled or ran past the deadline);
 *  - undeclared output keys: "Block '<T>' returned undeclared fields: a, b",
 *    DGEN_EINVALID, detail {block_type, step, declared_outputs,
 *    actual_outputs, extra_fields}.
 * In both cases the result's trace holds the entries of the blocks that
 * finished plus one entry for the failing block {block_type, input,
 * output: null, error, execution_time}, failed_step and failed_block say
 * where it stopped, and usage holds what the LLM calls cost so far.
 *
 * Ownership: pipeline_load() allocates the pipeline, pipeline_free()
 * releases it (before the registry it was loaded from). A
 * struct dgen_exec_result is caller-owned; pipeline_result_free() puts its
 * JSON. Trace entries share unchanged state snapshots between entries:
 * treat result and trace as read-only (serialize or deep-copy to edit).
 * Functions returning struct json_object * hand over one new reference.
 */
#ifndef DGEN_PIPELINE_H
#define DGEN_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/err.h"
#include "dgen/ids.h"
#include "dgen/llm.h"
#include "dgen/registry.h"
#include "dgen/usage.h"

struct dgen_pipeline;

/* Blocks per pipeline; more is DGEN_EINVALID. */
#define DGEN_PIPELINE_MAX_BLOCKS 256

/*
 * Checks and compiles def. Errors name the field:
 *  - not an object / missing or wrong-typed name or blocks: DGEN_EBADREQ;
 *  - unknown block type: DGEN_EINVALID "Block '<T>' not found", detail
 *    {block_type, available_blocks, field: "blocks[i].type"};
 *  - bad config: DGEN_EINVALID from registry_check_config, field
 *    "blocks[i].config.<key>";
 *  - a multiplier that is not first, or a second one: DGEN_EINVALID,
 *    field "blocks[i].type";
 *  - bad constraints: DGEN_EINVALID, field "constraints.<key>";
 *  - a block's init() failure (a template syntax error ...): its code, the
 *    message prefixed with "blocks[i] (<T>): ", detail.field prefixed with
 *    "blocks[i].config." when the block named a config key.
 * An empty blocks array is allowed (the result is the metadata).
 */
int pipeline_load(const struct dgen_registry *reg, struct json_object *def,
		  struct dgen_pipeline **out, struct dgen_err *err);
void pipeline_free(struct dgen_pipeline *p);

const char *pipeline_name(const struct dgen_pipeline *p);
size_t pipeline_n_blocks(const struct dgen_pipeline *p);
const struct dgen_block_type *pipeline_block_type(const struct dgen_pipeline *p, size_t i);
/* Block i's config after checking: every parameter with its default filled
 * in. Borrowed; read-only. */
struct json_object *pipeline_block_config(const struct dgen_pipeline *p, size_t i);
/* True when the first block is a multiplier. */
bool pipeline_is_multiplier(const struct dgen_pipeline *p);
const struct dgen_constraints *pipeline_constraints(const struct dgen_pipeline *p);
/* GET accumulated_state_schema: a new array of the union of the blocks'
 * declared outputs, first appearance order, "*" left out. */
struct json_object *pipeline_accumulated_fields(const struct dgen_pipeline *p);

/* The prompt templates of the pipeline: a new array of {"step": i
 * (0-based block index), "block_type", "param", "template": source} for
 * every non-empty string parameter whose format is "prompt". */
struct json_object *pipeline_prompts(const struct dgen_pipeline *p);

struct dgen_exec_result {
	struct json_object *result; /* final accumulated state (NULL on failure) */
	struct json_object *trace;  /* array of trace entries, also on failure */
	char trace_id[DGEN_UUID_LEN];
	struct dgen_llm_usage usage; /* summed over the execution's LLM calls */
	int failed_step;            /* 1-based step that failed, 0 when none */
	const char *failed_block;   /* type id of that step's block (static), or NULL */
};

/* Zeroes r (call before first use, optional: execute does it too). */
void pipeline_result_init(struct dgen_exec_result *r);
void pipeline_result_free(struct dgen_exec_result *r);
/* {"result", "trace", "trace_id", "usage"} with new references. */
struct json_object *pipeline_result_json(const struct dgen_exec_result *r);

/*
 * Runs every block of a non-multiplier pipeline over metadata (an object;
 * NULL = {}; only read, so it may be shared between threads). ctx supplies
 * llm, tlim, cancel and deadline; its usage and trace_id fields are ignored
 * (the execution keeps its own). res is always filled (see above).
 */
int pipeline_execute(const struct dgen_pipeline *p, struct json_object *metadata,
		     const struct dgen_block_ctx *ctx, struct dgen_exec_result *res,
		     struct dgen_err *err);

/* Multiplier pipelines: runs block 1 over metadata and returns in *chunks a
 * new array of chunk states (each an object). usage (may be NULL) gets the
 * multiplier's LLM usage added. Errors as for a block at step 1. */
int pipeline_expand(const struct dgen_pipeline *p, struct json_object *metadata,
		    const struct dgen_block_ctx *ctx, struct json_object **chunks,
		    struct dgen_llm_usage *usage, struct dgen_err *err);
/* Runs blocks 2..n over one chunk state, as one execution. */
int pipeline_execute_chunk(const struct dgen_pipeline *p, struct json_object *chunk,
			   const struct dgen_block_ctx *ctx, struct dgen_exec_result *res,
			   struct dgen_err *err);

/*
 * POST /api/pipelines/{id}/execute: a normal pipeline gives
 * {"result","trace","trace_id","usage"}; a multiplier pipeline gives
 * {"results": [one such object per chunk]}. Stops at the first failure
 * (the error as above; the partial trace is dropped).
 */
int pipeline_execute_all(const struct dgen_pipeline *p, struct json_object *metadata,
			 const struct dgen_block_ctx *ctx, struct json_object **out,
			 struct dgen_err *err);

#endif
