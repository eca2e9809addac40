/*
 * runner.h - dgen-runner: the queue daemon (DESIGN.md §1, §3).
 *
 * One claiming loop and a pool of worker threads. The loop claims queued
 * jobs under a lease, renews the lease, watches for cancel, and ends jobs;
 * the workers run units (seed x repetition, or chunk) of every claimed job
 * in turn, each with its own database connection and LLM handle, and
 * commit each unit's record and the job's counters in one transaction.
 *
 * Unit descriptors (the `units` list of a retry job): a JSON array of
 * {"unit": n, "seed_index": i, "repetition": r, "chunk_index": c | null};
 * only the listed units run, under their original unit numbers.
 *
 * Ownership: runner_run() owns everything it creates and frees it before
 * returning; the configuration is borrowed for the whole run.
 */
#ifndef DGEN_RUNNER_H
#define DGEN_RUNNER_H

#include <signal.h>
#include <stdbool.h>

#include "dgen/config.h"
#include "dgen/err.h"

struct dgen_runner_opts {
	const struct dgen_config *cfg;
	/* Set (from a signal handler) to stop: claim nothing more, let
	 * in-flight units finish within cfg->grace_seconds, hand the rest back
	 * to the queue. */
	volatile sig_atomic_t *terminate;
	bool once;         /* exit when the queue is empty and nothing runs */
};

/* Runs until *terminate (or, with once, until idle). 0 on a clean stop,
 * -1 when it could not start (database, LLM client). */
int runner_run(const struct dgen_runner_opts *opts, struct dgen_err *err);

#endif
