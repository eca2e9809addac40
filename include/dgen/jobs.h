/*
 * jobs.h - generation jobs as the API sees them: create, read, list,
 * cancel, delete, failures, retry. The runner's side of the same rows
 * (claim, lease, progress) is queue.h.
 *
 * Ownership: see db.h (returned JSON objects are new references; returned
 * strings are malloc'd). Unknown ids are DGEN_ENOTFOUND.
 *
 * who scopes every call (caller.h): a member's id is bound into each
 * query, so another user's job answers like an unknown one (also a
 * foreign pipeline_id at insert); a new job belongs to who. Idempotency
 * keys are per user.
 *
 * Job JSON (SPEC.md §3): {"id","pipeline_id","status","total_seeds",
 * "current_seed","records_generated","records_failed","progress" (0..1),
 * "current_block","current_step","error","usage":{"total_tokens",
 * "total_input_tokens","total_output_tokens","total_cached_tokens",
 * "start_time","end_time"},"created_at","started_at","completed_at"}.
 *
 * A unit is one execution: seed index x repetition (x chunk), numbered by
 * the runner. A unit descriptor, as stored in a retry job's unit list, is
 * {"unit": n, "seed_index": i, "repetition": r, "chunk_index": c|null}.
 */
#ifndef DGEN_JOBS_H
#define DGEN_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/caller.h"
#include "dgen/db.h"
#include "dgen/err.h"

enum dgen_job_status {
	DGEN_JOB_ANY = 0, /* filters only: zeroed filters match any status */
	DGEN_JOB_QUEUED,
	DGEN_JOB_RUNNING,
	DGEN_JOB_COMPLETED,
	DGEN_JOB_FAILED,
	DGEN_JOB_CANCELLED,
	DGEN_JOB_STOPPED, /* a constraint tripped */
};

/* "queued", "running", ... (NULL for DGEN_JOB_ANY or out of range). */
const char *jobs_status_name(enum dgen_job_status st);
/* The status named s; -1 when s names none ("any" is not a name). */
int jobs_status_parse(const char *s, enum dgen_job_status *out);

enum dgen_input_kind {
	DGEN_INPUT_JSON = 0,     /* a seed file: JSON array or object */
	DGEN_INPUT_MARKDOWN,     /* a markdown document for a multiplier pipeline */
};
const char *jobs_input_kind_name(enum dgen_input_kind k);

struct dgen_job_new {
	int64_t pipeline_id;
	enum dgen_input_kind input_kind;
	const char *input;       /* the uploaded file, stored in the row */
	size_t input_len;        /* bytes of input (must be valid UTF-8 text) */
	const char *units;       /* NULL, or JSON array of unit descriptors to run */
	int64_t total_seeds;     /* 0 when the runner counts them at claim time */
	const char *idempotency_key; /* NULL or the Idempotency-Key header */
};

/* Inserts a queued job. With an idempotency key already used, nothing is
 * inserted: *id receives the existing job's id and *existed (may be NULL)
 * is true. Unknown pipeline: DGEN_ENOTFOUND. */
int jobs_insert(struct dgen_db *db, const struct dgen_caller *who, const struct dgen_job_new *job, int64_t *id,
		bool *existed, struct dgen_err *err);

/* The job JSON object. */
int jobs_get(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct json_object **out, struct dgen_err *err);

struct dgen_job_filter {
	int64_t pipeline_id;         /* 0 = any */
	enum dgen_job_status status; /* DGEN_JOB_ANY = any */
	int64_t limit;               /* rows; <= 0 means 100 */
	int64_t offset;              /* rows skipped first */
};
/* Array of job objects, newest first. */
int jobs_list(struct dgen_db *db, const struct dgen_caller *who, const struct dgen_job_filter *f, struct json_object **out,
	      struct dgen_err *err);
/* The number of jobs f matches (limit and offset ignored). */
int jobs_count(struct dgen_db *db, const struct dgen_caller *who, const struct dgen_job_filter *f, int64_t *total,
	       struct dgen_err *err);
/* jobs_list() and jobs_count() read in one snapshot: a page and the total
 * it is a page of. */
int jobs_page(struct dgen_db *db, const struct dgen_caller *who, const struct dgen_job_filter *f, int64_t *total,
	      struct json_object **out, struct dgen_err *err);
/* The running job that started first; DGEN_ENOTFOUND when none runs. */
int jobs_active(struct dgen_db *db, const struct dgen_caller *who, struct json_object **out, struct dgen_err *err);

/* Cancels: a queued job becomes cancelled at once; a running job gets its
 * cancel flag (the runner ends it as cancelled). A finished job is
 * DGEN_ECONFLICT. *now_status (may be NULL) receives the status after the
 * call (cancelled or running). */
int jobs_cancel(struct dgen_db *db, const struct dgen_caller *who, int64_t id, enum dgen_job_status *now_status,
		struct dgen_err *err);
/* Deletes the job with its records and failures. */
int jobs_delete(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct dgen_err *err);

/* Failed executions of the job, in unit order:
 * [{"seed_index","repetition","chunk_index","block_type","step","error",
 *   "trace"}]. The job must exist. */
int jobs_failures(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct json_object **out,
		  struct dgen_err *err);
/* Queues a new job over the failed units of job id only: same pipeline and
 * input, unit list = the failed units' descriptors. *new_id receives it;
 * with an idempotency key already used, the existing job (and *existed).
 * No failures: DGEN_ECONFLICT. */
int jobs_retry_failed(struct dgen_db *db, const struct dgen_caller *who, int64_t id, const char *idempotency_key,
		      int64_t *new_id, bool *existed, struct dgen_err *err);

#endif
