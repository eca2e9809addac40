/*
 * block.h - what a block type is (DESIGN.md §4): data, not code paths.
 *
 * A block type is a constant struct: its identity, declared inputs and
 * outputs, a typed table of config parameters, and three functions.
 * GET /api/blocks, `dgen blocks` and config validation are all generated
 * from this struct, so nothing about a block is written twice. Builtin
 * types live in src/blocks/ (one file each); plugins are shared objects
 * exporting `dgen_block_plugin` (see registry.h).
 *
 * Ownership: types are static and never freed. init() gets a config
 * object already checked against `params` and completed with defaults; it
 * may keep a reference (json_object_get) and allocates its private state,
 * which free() releases. execute() borrows `input` (the accumulated state)
 * and hands the caller one new reference in *output: an object whose keys
 * are among `outputs`, or, for a multiplier, an array of such objects.
 * execute() may be called from several threads at once on one state: it
 * must treat the state as read-only.
 */
#ifndef DGEN_BLOCK_H
#define DGEN_BLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/embed.h"
#include "dgen/err.h"
#include "dgen/llm.h"
#include "dgen/template.h"

#define DGEN_BLOCK_ABI 1

enum dgen_param_type {
	DGEN_PARAM_STRING,
	DGEN_PARAM_INTEGER,
	DGEN_PARAM_NUMBER,
	DGEN_PARAM_BOOLEAN,
	DGEN_PARAM_STRING_LIST, /* array of strings */
	DGEN_PARAM_SCHEMA,      /* a JSON object, or a string template rendering to one */
	DGEN_PARAM_INT_OR_TEMPLATE, /* an integer, or a string template rendering to one */
};

struct dgen_block_param {
	const char *name;
	enum dgen_param_type type;
	const char *default_json;       /* JSON text of the default; NULL = none */
	const char *const *enum_values; /* NULL-terminated, or NULL */
	bool field_ref;                 /* names a field of the accumulated state */
	bool required;
	bool nullable;                  /* null is a valid value ("use the configured default") */
	const char *format;             /* UI hint: "prompt", "json", NULL */
	const char *description;
};

struct dgen_block_ctx;

/* Named models (SPEC.md §9): a block's `model` / `embedding_model` config
 * value to what serves it. NULL or "" names the default model. Without
 * named models (exec_set_models never given any), every name maps to the
 * configured LLM_* / EMBEDDING_* endpoint and the name itself goes into
 * the request as the model (*model_id = name); with them, a name picks
 * that model's client and *model_id is NULL (the model's own model_name).
 * An unknown name is DGEN_EBLOCK naming it. On failure: NULL with err set.
 * Results are borrowed from the context. */
struct dgen_model_ops {
	struct dgen_llm_handle *(*llm)(const struct dgen_block_ctx *ctx, const char *name,
				       const char **model_id, struct dgen_err *err);
	struct dgen_embed_client *(*embedder)(const struct dgen_block_ctx *ctx, const char *name,
					      const char **model_id, struct dgen_err *err);
};

/* State shared by every execution of one job, kept by whoever runs the
 * job (the runner over the store, `dgen run` in memory). */
struct dgen_jobstate_ops {
	/* NearDuplicate: compares a record's MinHash signature sig[0..n_sig)
	 * with every earlier record of the job through its LSH band keys
	 * bands[0..n_bands) and adds it, in one step that no other unit of the
	 * job can interleave with: of two equal records exactly one comes
	 * first. A unit checked again (after a restart) is compared only with
	 * the records checked before it the first time. *dup_unit receives the
	 * unit of the most similar earlier record with an estimated Jaccard
	 * similarity >= threshold (-1: none), *dup_record its record id when
	 * stored already (else -1), *similarity that estimate (0: none). */
	int (*near_dup_check)(void *self, int64_t job_id, int64_t unit, const uint32_t *sig,
			      size_t n_sig, const uint64_t *bands, size_t n_bands, double threshold,
			      int64_t *dup_unit, int64_t *dup_record, double *similarity,
			      struct dgen_err *err);
};

/* What a running block may use; owned by the caller of execute(). */
struct dgen_block_ctx {
	struct dgen_llm_handle *llm;            /* NULL when no LLM is configured */
	const struct dgen_template_limits *tlim;
	struct dgen_llm_usage *usage;           /* add every LLM call's usage here */
	const atomic_int *cancel;               /* pass into LLM requests */
	double deadline;                        /* monotonic; 0 = none */
	const char *trace_id;
	/* Told as each block starts (its 1-based step), for live progress; may
	 * be NULL. Called from the executing thread; must be cheap. */
	void (*on_block)(void *arg, const char *block_type, int step);
	void *on_block_arg;
	/* Told while an LLM call waits on its rate-limited model (ms until it
	 * tries again, 0 when calls flow again): dgen_llm_request.on_wait. */
	void (*on_wait)(void *arg, long wait_ms);
	void *on_wait_arg;
	/* Model lookup (never NULL in a context from exec_block_ctx). */
	const struct dgen_model_ops *models;
	void *models_arg;
	/* The job and unit being executed (0 / -1 outside a job), and the
	 * job-wide state; jobstate NULL = none (blocks that need it work
	 * within the execution only and say so). */
	int64_t job_id;
	int64_t unit;
	const struct dgen_jobstate_ops *jobstate;
	void *jobstate_arg;
	/* The pipeline's owner (0: none): a model name means this user's own
	 * model of that name first, then the global one (SPEC.md §9). */
	int64_t owner_id;
};

struct dgen_block_type {
	int abi;                     /* DGEN_BLOCK_ABI */
	const char *type;            /* "TextGenerator" */
	const char *name;            /* "Text Generator" */
	const char *description;
	const char *category;        /* generators, validators, metrics, seeders */
	const char *const *inputs;   /* NULL-terminated */
	const char *const *outputs;  /* NULL-terminated; "*" allows any key */
	const struct dgen_block_param *params;
	size_t n_params;
	bool is_multiplier;

	int (*init)(struct json_object *config, void **state, struct dgen_err *err);
	int (*execute)(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		       struct json_object *input, struct json_object **output,
		       struct dgen_err *err);
	void (*free)(void *state);
};

#endif
