/*
 * queue.h - the runner's side of jobs: claim under a lease, record each
 * finished unit exactly once, progress, finish, rescue, heartbeat.
 * The protocol is DESIGN.md §3.
 *
 * Ownership: struct dgen_claim is filled by queue_claim() with malloc'd
 * strings and released with queue_claim_free(). Everything else the caller
 * passes is only read during the call. Unknown jobs are DGEN_ENOTFOUND.
 *
 * Times: lease expiry is milliseconds since the epoch (dgen_clock_now_ms);
 * everything else is ISO 8601 text.
 */
#ifndef DGEN_QUEUE_H
#define DGEN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dgen/clock.h"
#include "dgen/cost.h"
#include "dgen/db.h"
#include "dgen/err.h"
#include "dgen/jobs.h"

/* Counters of a job (also what a claim resumes from). */
struct dgen_job_counters {
	int64_t total_seeds;
	int64_t current_seed;       /* finished units: records + failures */
	int64_t records_generated;
	int64_t records_failed;
	int64_t input_tokens;
	int64_t output_tokens;
	int64_t cached_tokens;
};

/* Everything a runner needs to run a claimed job. */
struct dgen_claim {
	int64_t job_id;
	int64_t pipeline_id;
	char *pipeline_name;
	char *definition;              /* pipeline definition JSON text */
	enum dgen_input_kind input_kind;
	char *input;                   /* the uploaded file */
	size_t input_len;
	char *units;                   /* NULL, or JSON array of unit descriptors */
	int attempts;                  /* claims of this job so far, this one included */
	int64_t lease_expires_at;      /* ms since the epoch */
	char started_at[DGEN_ISO_LEN]; /* first claim's time (kept across rescues) */
	struct dgen_job_counters counters;
	int64_t owner_id;              /* 0: a job without an owner */
	int64_t owner_inflight;        /* the owner's in-flight quota; 0 = default */
};

/* = jobs_insert(). */
int queue_enqueue(struct dgen_db *db, const struct dgen_job_new *job, int64_t *id,
		  bool *existed, struct dgen_err *err);

/* Claims a queued job for runner_id with a lease of lease_ms: of the
 * owner with the fewest running jobs, then the oldest, so a user whose
 * job was queued behind another user's is not starved. Returns 1 and
 * fills *out when a job was claimed, 0 when none is queued, -1 on error. */
int queue_claim(struct dgen_db *db, const char *runner_id, int64_t lease_ms,
		struct dgen_claim *out, struct dgen_err *err);
/* The same, but only a job of an owner with no running job (0 when there
 * is none): a runner full of one user's jobs still takes a newcomer's. */
int queue_claim_newcomer(struct dgen_db *db, const char *runner_id, int64_t lease_ms,
			 struct dgen_claim *out, struct dgen_err *err);
void queue_claim_free(struct dgen_claim *c);
/* An idle claimer's pause between claims: up to timeout_ms, cut short on
 * PostgreSQL when a job is queued (enqueued, released or rescued, by any
 * host), so it starts within milliseconds; sqlite sleeps timeout_ms. True
 * when woken by a queued job. Call it outside a transaction; an error
 * (the server gone) waits out the time and is left to the next claim. */
bool queue_wait(struct dgen_db *db, int timeout_ms);

/* Extends the lease to now + lease_ms if the job is still running under
 * runner_id. Returns 1 when renewed, 0 when the job is no longer ours
 * (rescued, deleted, finished), -1 on error. */
int queue_renew(struct dgen_db *db, int64_t job_id, const char *runner_id,
		int64_t lease_ms, struct dgen_err *err);
/* Hands a running job of ours back to the queue without counting the
 * attempt (SIGTERM). A job with its cancel flag set ends cancelled
 * instead. Returns 1 when released, 0 when it was not ours, -1 on error. */
int queue_release(struct dgen_db *db, int64_t job_id, const char *runner_id,
		  struct dgen_err *err);
/* Running jobs whose lease expired before now_ms go back to queued; those
 * with the cancel flag end cancelled.
 * Blame: each unit the dead claim had started (queue_start_unit) and not
 * stored takes a death; with max_attempts > 0, a unit at max_attempts
 * deaths or more that was its runner's only unit in flight at the last
 * one is stored as a failure ("The runner stopped N times while
 * running this unit", counted in records_failed, retried by retry_failed)
 * and its job goes on: a unit that kills its runner cannot crash-loop it,
 * and innocent units are not failed with it. Only a job claimed
 * max_attempts times in a row without starting a unit (its planning kills
 * the runner) ends failed ("... while preparing this job").
 * *count (may be NULL) receives the jobs touched. */
int queue_rescue_expired(struct dgen_db *db, int64_t now_ms, int max_attempts,
			 int64_t *count, struct dgen_err *err);

/* The same for the jobs of one runner, whatever their lease: used when
 * that runner is known to be dead (its process is gone), so its work need
 * not wait for the lease to run out. */
int queue_rescue_runner(struct dgen_db *db, const char *runner_id, int max_attempts,
			int64_t *count, struct dgen_err *err);
/* The runner ids holding running jobs; *ids is a malloc'd array of
 * malloc'd strings (free each, then the array). */
int queue_running_runners(struct dgen_db *db, char ***ids, size_t *n, struct dgen_err *err);

/* The units of job_id already finished (a record or a failure), ascending,
 * so a resumed job skips them. *units is malloc'd (NULL when *n == 0). */
int queue_done_units(struct dgen_db *db, int64_t job_id, int64_t **units, size_t *n,
		     struct dgen_err *err);

/* A unit about to run. */
struct dgen_unit_start {
	int64_t unit;
	int64_t seed_index;
	int64_t repetition;
	int64_t chunk_index;        /* -1 = no chunk */
};

/* Writes down that runner_id starts unit u of job_id (a no-op when the
 * job is no longer ours), before the unit runs: if the runner dies, the
 * rescue blames the units so written. Also tells the job its claim got
 * past planning. queue_finish_unit() removes the mark. */
int queue_start_unit(struct dgen_db *db, int64_t job_id, const char *runner_id,
		     const struct dgen_unit_start *u, struct dgen_err *err);

/* A unit that was in flight at `deaths` deaths of its runner. */
struct dgen_suspect {
	int64_t unit;
	int deaths;
};
/* The suspects of job_id (deaths > 0), by unit. *out is malloc'd (NULL
 * when *n == 0). */
int queue_suspects(struct dgen_db *db, int64_t job_id, struct dgen_suspect **out, size_t *n,
		   struct dgen_err *err);

/* One finished unit: a record (failed = false) or a failure. */
struct dgen_unit_result {
	int64_t unit;
	int64_t seed_index;
	int64_t repetition;
	int64_t chunk_index;        /* -1 = no chunk (stored as NULL) */
	bool failed;
	const char *trace;          /* JSON text (array) or NULL */
	/* record (failed = false) */
	const char *output;
	const char *metadata;       /* JSON text (object) or NULL = {} */
	const char *accumulated_state; /* JSON text (object) or NULL = {} */
	const char *trace_id;
	/* failure (failed = true) */
	const char *block_type;
	int64_t step;               /* 1-based, 0 = not inside a block */
	const char *error;
	/* usage of this unit's LLM calls */
	int64_t input_tokens;
	int64_t output_tokens;
	int64_t cached_tokens;
	struct dgen_cost cost;      /* and what they cost (cost.h) */
	/* progress to show with it (NULL = leave as is) */
	const char *current_block;
	int64_t current_step;
};

/* Stores the unit's record (or failure) and moves the job's counters, in
 * one transaction. A unit already stored for this job is left alone and
 * nothing is counted: *inserted (may be NULL) tells which happened.
 * *after (may be NULL) receives the job's counters after the call.
 * A deleted job is DGEN_ENOTFOUND. */
int queue_finish_unit(struct dgen_db *db, int64_t job_id, const struct dgen_unit_result *r,
		      bool *inserted, struct dgen_job_counters *after,
		      struct dgen_err *err);

/* queue_finish_unit for a batch of units, inside the caller's
 * transaction, with one counter update per job instead of one per unit:
 * queue_tally_unit stores r as queue_finish_unit does and adds what it
 * counts to t (one job's, zeroed with its job_id set first);
 * queue_tally_count then moves the job's counters by the sums and reads
 * them into *after (may be NULL). queue_tally_start stores a start as
 * queue_start_unit does, telling the job its claim got past planning only
 * at t's first start (the rest would write the same), and sets
 * t->started_after. The pointers in t are the units'; nothing to free. */
struct queue_tally {
	int64_t job_id;
	int64_t units, generated, failed;
	int64_t input_tokens, output_tokens, cached_tokens;
	struct dgen_cost cost;
	const char *current_block;  /* the last unit's that had one */
	int64_t current_step;
	bool started_after;
	int64_t starts;             /* starts stored with t */
	bool held;                  /* the claim was still ours at its first start */
};
int queue_tally_unit(struct dgen_db *db, struct queue_tally *t, const struct dgen_unit_result *r,
		     bool *inserted, struct dgen_err *err);
int queue_tally_start(struct dgen_db *db, struct queue_tally *t, const char *runner_id,
		      const struct dgen_unit_start *u, struct dgen_err *err);
int queue_tally_count(struct dgen_db *db, const struct queue_tally *t,
		      struct dgen_job_counters *after, struct dgen_err *err);

/* Sets total_seeds (executions: seeds x repetitions, or chunks). */
int queue_set_total(struct dgen_db *db, int64_t job_id, int64_t total_seeds,
		    struct dgen_err *err);
/* Shows progress: the block type being run and its 1-based step. */
int queue_progress(struct dgen_db *db, int64_t job_id, const char *current_block,
		   int64_t current_step, struct dgen_err *err);
/* Shows a note as the step ("rate limited, retrying in 5s") while the
 * job waits; the next queue_progress or finished unit replaces it. */
int queue_progress_note(struct dgen_db *db, int64_t job_id, const char *current_block,
			const char *note, struct dgen_err *err);
/* Ends a running job: status is completed, failed, cancelled or stopped;
 * error may be NULL. Returns 1 when ended, 0 when the job was not running
 * (already ended elsewhere), -1 on error. */
int queue_finish_job(struct dgen_db *db, int64_t job_id, enum dgen_job_status status,
		     const char *error, struct dgen_err *err);
/* Reads the job's cancel flag (true also when the job is gone or no
 * longer running: either way the runner should stop). */
int queue_should_stop(struct dgen_db *db, int64_t job_id, bool *stop, struct dgen_err *err);
/* The job's current counters. */
int queue_counters(struct dgen_db *db, int64_t job_id, struct dgen_job_counters *out,
		   struct dgen_err *err);

/* Records that runner_id (pid on hostname) is alive now. */
int queue_heartbeat(struct dgen_db *db, const char *runner_id, long pid,
		    const char *hostname, struct dgen_err *err);
/* How many runners other than runner_id sent a heartbeat within
 * alive_within_s seconds (into *n). */
int queue_other_runners(struct dgen_db *db, const char *runner_id, int alive_within_s,
			int64_t *n, struct dgen_err *err);
/* Whether any job is queued (*any), by a read that takes no write lock. */
int queue_any_queued(struct dgen_db *db, bool *any, struct dgen_err *err);
/* Is any runner alive: a heartbeat within alive_within_s seconds.
 * last_seen receives the newest heartbeat ("" when none ever). */
int queue_runner_status(struct dgen_db *db, int alive_within_s, bool *alive,
			char last_seen[DGEN_ISO_LEN], struct dgen_err *err);

#endif
