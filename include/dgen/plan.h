/*
 * plan.h - a job split into its units, each with the state it starts
 * from: the one planner of the runner and of `dgen run`.
 *
 * Numbering is deterministic: seeds in file order, a seed's repetitions
 * consecutive, and for a multiplier pipeline the chunks of each repetition
 * in document order. So a job resumed after a crash, or a retry job, finds
 * the same unit under the same number and skips what is already stored.
 *
 * Units are not listed up front: a seed file may ask for 100 000 seeds x
 * 10 000 repetitions, so the cursor computes each unit from its number and
 * skips the ones already done. Nor are the seeds parsed up front: the plan
 * keeps the seed file's text and each seed's span (struct
 * dgen_seed_index), and parses a seed when one of its units is handed out,
 * so a 10 MiB file of tiny seeds costs about its size, not a json-c tree
 * of 20 times it. Only a multiplier pipeline's chunks (one per section of
 * the documents) are held, since they come from running its first block.
 *
 * Ownership: plan_build() takes over the pipeline, the seeds and the done
 * list of the job, whatever happens, and fills a caller-owned struct
 * dgen_plan; plan_free() releases everything in it. A unit of a seed owns
 * its state and text, a chunk unit borrows them from the plan: whoever
 * plan_next() gave a unit to calls plan_unit_free() on it once it has run
 * (or will not run), before plan_free().
 *
 * Threads: executions may share the unit states read-only. They must not
 * print them (json-c keeps the printed text inside the object, so two
 * threads printing one object race): the text is printed once here, in
 * state_text. The cursor itself is the caller's to lock; plan_unit_free()
 * needs no lock.
 */
#ifndef DGEN_PLAN_H
#define DGEN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/err.h"
#include "dgen/pipeline.h"
#include "dgen/seeds.h"
#include "dgen/usage.h"

struct dgen_unit {
	int64_t unit;
	int64_t seed_index;
	int64_t repetition;
	int64_t chunk_index;         /* -1 without a multiplier */
	struct json_object *state;   /* where the execution starts */
	const char *state_text;      /* its compact JSON (the record's metadata) */
	bool owned;                  /* private: state and text are the unit's */
};

struct dgen_plan {
	struct dgen_pipeline *pipeline;
	struct dgen_seed_index seeds;
	int64_t total;               /* all units of the job, done ones included */
	int64_t pending;             /* units the cursor will still hand out */

	/* private: the cursor */
	int64_t *done, *wanted;      /* sorted unit numbers (owned) */
	size_t n_done, n_wanted;
	size_t pos;                  /* next index into wanted, chunks, or unit number */
	char **texts;                /* chunk texts (owned) */
	struct dgen_unit *chunk_units; /* multiplier: every chunk unit (owned) */
	size_t n_chunk_units;
	struct json_object *chunks;  /* multiplier: array of chunk arrays (owned) */
};

/* What a job asks for, and how to split it. */
struct dgen_plan_job {
	struct dgen_pipeline *pipeline; /* taken over */
	struct dgen_seed_index seeds;   /* taken over */
	/* A retry job's unit descriptors (JSON text, see runner.h): only
	 * those units run. NULL = every unit. */
	const char *units;
	int64_t *done;                  /* sorted units already stored; taken over */
	size_t n_done;
	/* A multiplier pipeline is split here by running its first block
	 * with ctx; that block's LLM usage is added to usage (may be NULL). */
	const struct dgen_block_ctx *ctx;
	struct dgen_llm_usage *usage;
	/* A repetition whose split fails: without skip the plan fails with
	 * the error; with it, skip is told and the repetition has no units. */
	void (*skip)(void *arg, size_t seed, long repetition, const struct dgen_err *err);
	void *skip_arg;
};

/* Sets the cursor on the first unit of the job that is not done. Errors
 * are the job's own fault (bad unit list, a failed split): the runner ends
 * the job failed with the message. */
int plan_build(struct dgen_plan_job *job, struct dgen_plan *plan, struct dgen_err *err);
/* Hands out the next pending unit: true and *u filled, false when none
 * is left. */
bool plan_next(struct dgen_plan *plan, struct dgen_unit *u);
/* Releases what a unit owns (nothing for a chunk); u may be freed twice. */
void plan_unit_free(struct dgen_unit *u);
void plan_free(struct dgen_plan *plan);

#endif
