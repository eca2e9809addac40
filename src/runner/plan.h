/*
 * plan.h - what a claimed job has to do: its pipeline, loaded once, and a
 * cursor over its units in order, each with the state it starts from.
 * Internal to the runner.
 *
 * Units are not listed up front: a seed file may ask for 100 000 seeds x
 * 10 000 repetitions, so the cursor computes each unit from its number and
 * skips the ones already stored. Only a multiplier pipeline's chunks (one
 * per section of the documents) are held, since they come from running
 * its first block.
 *
 * Ownership: plan_build() fills a caller-owned struct dgen_plan;
 * plan_free() releases everything in it. Unit states are borrowed from the
 * plan (seed metadata or chunk objects) and live as long as it.
 *
 * Threads: workers share the unit states read-only. They must not print
 * them (json-c keeps the printed text inside the object, so two threads
 * printing one object race): the text is printed once here, in
 * state_text. The cursor itself is the caller's to lock.
 */
#ifndef DGEN_RUNNER_PLAN_H
#define DGEN_RUNNER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/err.h"
#include "dgen/pipeline.h"
#include "dgen/queue.h"
#include "dgen/registry.h"
#include "dgen/seeds.h"

struct dgen_unit {
	int64_t unit;
	int64_t seed_index;
	int64_t repetition;
	int64_t chunk_index;         /* -1 without a multiplier */
	struct json_object *state;   /* where the execution starts; borrowed */
	const char *state_text;      /* its compact JSON (the record's metadata) */
};

struct dgen_plan {
	struct dgen_pipeline *pipeline;
	struct dgen_seeds seeds;
	int64_t total;               /* all units of the job, done ones included */
	int64_t pending;             /* units the cursor will still hand out */

	/* private: the cursor */
	int64_t *done, *wanted;      /* sorted unit numbers (owned) */
	size_t n_done, n_wanted;
	size_t pos;                  /* next index into wanted, chunks, or unit number */
	char **texts;                /* seed texts, or chunk texts (owned) */
	struct dgen_unit *chunk_units; /* multiplier: every chunk unit (owned) */
	size_t n_chunk_units;
	struct json_object *chunks;  /* multiplier: array of chunk arrays (owned) */
};

/* Loads the claim's pipeline and input and sets the cursor on the first
 * unit not in done[0..n_done) (sorted; the plan takes it over and frees
 * it). A multiplier pipeline is expanded here, with ctx for its first
 * block. Errors are the job's own fault (bad pipeline, bad input): the
 * caller ends the job failed with the message. */
int plan_build(const struct dgen_registry *reg, const struct dgen_config *cfg,
	       const struct dgen_claim *claim, int64_t *done, size_t n_done,
	       const struct dgen_block_ctx *ctx, struct dgen_plan *plan,
	       struct dgen_err *err);
/* Hands out the next pending unit: true and *u filled, false when none
 * is left. */
bool plan_next(struct dgen_plan *plan, struct dgen_unit *u);
void plan_free(struct dgen_plan *plan);

#endif
