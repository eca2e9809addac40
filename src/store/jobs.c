/*
 * jobs.c - generation jobs as the API sees them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/cost.h"
#include "dgen/jobs.h"
#include "dgen/json.h"
#include "dgen/util.h"
#include "stmt.h"

static const char *const status_names[] = {
	[DGEN_JOB_QUEUED] = "queued",
	[DGEN_JOB_RUNNING] = "running",
	[DGEN_JOB_COMPLETED] = "completed",
	[DGEN_JOB_FAILED] = "failed",
	[DGEN_JOB_CANCELLED] = "cancelled",
	[DGEN_JOB_STOPPED] = "stopped",
};

const char *jobs_status_name(enum dgen_job_status st)
{
	return dgen_name_of(status_names, DGEN_ARRAY_LEN(status_names), (int)st);
}

int jobs_status_parse(const char *s, enum dgen_job_status *out)
{
	int v = dgen_name_find(status_names, DGEN_ARRAY_LEN(status_names), s);

	if (v < 0)
		return -1;
	*out = (enum dgen_job_status)v;
	return 0;
}

const char *jobs_input_kind_name(enum dgen_input_kind k)
{
	return k == DGEN_INPUT_MARKDOWN ? "markdown" : "json";
}

/* 0 when a write by id changed its row, else -1 (unknown id: not found). */
static int changed(int64_t n, int64_t id, struct dgen_err *err)
{
	return db_changed_row(n, "Job", "job_id", id, err);
}

/* The job's running cost from its cost_state, cost_amount and
 * cost_currency columns at col: {"amount","currency"} or null. */
static struct json_object *job_cost_json(struct dgen_stmt *st, int col)
{
	struct dgen_cost c = { .state = (enum dgen_cost_state)db_col_int(st, col) };
	const char *cur = db_col_text(st, col + 2);

	if (c.state != DGEN_COST_KNOWN || !cur)
		return NULL;
	c.amount = db_col_double(st, col + 1);
	snprintf(c.currency, sizeof c.currency, "%s", cur);
	return cost_to_json(&c);
}

/* The job JSON of SPEC.md §3 from a row of the JOB_COLS columns. */
static struct json_object *job_row_json(struct dgen_stmt *st)
{
	struct json_object *o = json_object_new_object();
	struct json_object *u = json_object_new_object();
	int64_t total = db_col_int(st, 3), cur = db_col_int(st, 4);
	int64_t in = db_col_int(st, 10), outp = db_col_int(st, 11);
	const char *status = db_col_text(st, 2);
	double progress;

	if (status && strcmp(status, "completed") == 0)
		progress = 1.0;
	else if (total > 0)
		progress = cur >= total ? 1.0 : (double)cur / (double)total;
	else
		progress = 0.0;

	json_object_object_add(o, "id", json_object_new_int64(db_col_int(st, 0)));
	json_object_object_add(o, "pipeline_id", json_object_new_int64(db_col_int(st, 1)));
	db_add_text(o, "status", st, 2);
	json_object_object_add(o, "total_seeds", json_object_new_int64(total));
	json_object_object_add(o, "current_seed", json_object_new_int64(cur));
	json_object_object_add(o, "records_generated", json_object_new_int64(db_col_int(st, 5)));
	json_object_object_add(o, "records_failed", json_object_new_int64(db_col_int(st, 6)));
	json_object_object_add(o, "progress", dgen_json_new_double(progress));
	db_add_text(o, "current_block", st, 7);
	/* a step number, or the runner's note while rate limited */
	if (db_col_is_text(st, 8))
		db_add_text(o, "current_step", st, 8);
	else
		db_add_int(o, "current_step", st, 8);
	db_add_text(o, "error", st, 9);
	json_object_object_add(u, "total_tokens", json_object_new_int64(in + outp));
	json_object_object_add(u, "total_input_tokens", json_object_new_int64(in));
	json_object_object_add(u, "total_output_tokens", json_object_new_int64(outp));
	json_object_object_add(u, "total_cached_tokens", json_object_new_int64(db_col_int(st, 12)));
	db_add_text(u, "start_time", st, 14);
	db_add_text(u, "end_time", st, 15);
	json_object_object_add(u, "cost", job_cost_json(st, 16));
	json_object_object_add(o, "usage", u);
	db_add_text(o, "created_at", st, 13);
	db_add_text(o, "started_at", st, 14);
	db_add_text(o, "completed_at", st, 15);
	return o;
}

/* 56 bits of FNV-1a over the key: what db_lock() takes for it. */
static int64_t key_hash(const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (int64_t)(h & ((1ULL << 56) - 1));
}

/* The job an idempotency key (NULL: none) names already, looked up inside
 * the caller's write transaction: 1 with *id set and *existed (may be NULL)
 * true, 0 when there is none (create the job), -1 on error. The key is
 * locked first, so a retry racing the first POST waits for its job to be
 * committed and finds it (PostgreSQL; sqlite's writers exclude each
 * other anyway). */
static int find_idem(struct dgen_db *db, const char *key, int64_t *id, bool *existed,
		     struct dgen_err *err)
{
	struct dgen_stmt *st;
	int rc;

	if (!key)
		return 0;
	if (db_lock(db, DB_LOCK_JOB_KEY, key_hash(key), err) < 0)
		return -1;
	st = db_query(db, STMT_JOB_BY_IDEM, err, "s", key);
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	if (rc) {
		*id = db_col_int(st, 0);
		db_reset(st);
		if (existed)
			*existed = true;
	}
	return rc;
}

/* The idempotency key as stored: the owner's id before the client's key,
 * so one user's key never finds (or collides with) another user's job.
 * NULL when there is no key; malloc'd otherwise. */
static char *owned_key(const struct dgen_caller *who, const char *key)
{
	return key ? dgen_xasprintf("%lld:%s", (long long)dgen_caller_owner(who), key) : NULL;
}

/* Inside the write transaction: the job row, then its input beside it.
 * The pipeline must be one who may see (else DGEN_ENOTFOUND). */
static int insert_job(struct dgen_db *db, const struct dgen_caller *who,
		      const struct dgen_job_new *job, const char *key, int64_t *id,
		      bool *existed, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	int found = find_idem(db, key, id, existed, err);

	if (found != 0)
		return found < 0 ? -1 : 0;
	db_now(now);
	if (db_insert(db, STMT_JOB_INSERT, id, err, "ississkk", job->pipeline_id,
		      jobs_input_kind_name(job->input_kind), job->units, job->total_seeds, key,
		      now, dgen_caller_owner(who), dgen_caller_scope(who)) < 0) {
		if (err->code == DGEN_ENOTFOUND) {
			dgen_err_set(err, DGEN_ENOTFOUND, "Pipeline %lld not found",
				     (long long)job->pipeline_id);
			dgen_err_detail_int(err, "pipeline_id", job->pipeline_id);
		}
		return -1;
	}
	if (db_run(db, STMT_JOB_INPUT_INSERT, err, "iS", *id, job->input ? job->input : "",
		   job->input ? job->input_len : 0) < 0)
		return -1;
	/* The cached statement keeps its copy of the bound input until its
	 * bindings are cleared, which fetching it does: an upload of up to
	 * 10 MiB must not stay in a long-lived worker. */
	db_stmt(db, STMT_JOB_INPUT_INSERT, err);
	return 0;
}

/*
 * Inserts a queued job. The key lookup and the insert share one write
 * transaction, so two retries of the same POST racing each other still
 * create one job.
 */
int jobs_insert(struct dgen_db *db, const struct dgen_caller *who,
		const struct dgen_job_new *job, int64_t *id, bool *existed, struct dgen_err *err)
{
	char *key = owned_key(who, job->idempotency_key);
	int rc = -1;

	if (existed)
		*existed = false;
	if (db_begin(db, err) == 0)
		rc = db_end(db, insert_job(db, who, job, key, id, existed, err), err);
	free(key);
	return rc;
}

int jobs_get(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
	     struct json_object **out, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_JOB_GET, err, "ik", id, dgen_caller_scope(who));

	if (!st || db_step_row(db, st, "Job", "job_id", id, err) < 0)
		return -1;
	*out = job_row_json(st);
	db_reset(st);
	return 0;
}

int jobs_list(struct dgen_db *db, const struct dgen_caller *who,
	      const struct dgen_job_filter *f, struct json_object **out, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_JOB_LIST, err, "ksiik", f->pipeline_id,
				    jobs_status_name(f->status),
				    f->limit > 0 ? f->limit : (int64_t)100,
				    f->offset > 0 ? f->offset : (int64_t)0, dgen_caller_scope(who));

	if (!st)
		return -1;
	return db_rows_json(db, st, job_row_json, out, err);
}

int jobs_count(struct dgen_db *db, const struct dgen_caller *who,
	       const struct dgen_job_filter *f, int64_t *total, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_JOB_COUNT, err, "ksk", f->pipeline_id,
				    jobs_status_name(f->status), dgen_caller_scope(who));

	if (!st || db_step_must(db, st, DGEN_EIO, "count answered no row", err) < 0)
		return -1;
	*total = db_col_int(st, 0);
	db_reset(st);
	return 0;
}

int jobs_page(struct dgen_db *db, const struct dgen_caller *who,
	      const struct dgen_job_filter *f, int64_t *total, struct json_object **out,
	      struct dgen_err *err)
{
	*out = NULL;
	if (db_begin_read(db, err) < 0)
		return -1;
	if (db_end(db, jobs_count(db, who, f, total, err) == 0 ? jobs_list(db, who, f, out, err)
							  : -1,
		   err) == 0)
		return 0;
	json_object_put(*out);
	*out = NULL;
	return -1;
}

int jobs_active(struct dgen_db *db, const struct dgen_caller *who, struct json_object **out,
		struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_JOB_ACTIVE, err, "k", dgen_caller_scope(who));

	if (!st || db_step_must(db, st, DGEN_ENOTFOUND, "No job is running", err) < 0)
		return -1;
	*out = job_row_json(st);
	db_reset(st);
	return 0;
}

/* The status of job id (cur may be NULL: only that it exists), inside the
 * caller's transaction. */
static int job_status(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		      enum dgen_job_status *cur, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_JOB_STATE, err, "ik", id, dgen_caller_scope(who));

	if (!st || db_step_row(db, st, "Job", "job_id", id, err) < 0)
		return -1;
	if (cur && jobs_status_parse(db_col_text(st, 0), cur) < 0)
		*cur = DGEN_JOB_FAILED;
	db_reset(st);
	return 0;
}

/* Inside the write transaction: *cur receives the status after the
 * cancel (cancelled, or still running with the flag set). Where writers
 * do not exclude each other (PostgreSQL), a runner may claim or end the
 * job between the status read and the change: the change then touches no
 * row, and the status is read again. */
static int cancel(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		  enum dgen_job_status *cur, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	int64_t n = 0;

	for (int tries = 0; tries < 5; tries++) {
		if (job_status(db, who, id, cur, err) < 0)
			return -1;
		if (*cur == DGEN_JOB_QUEUED) {
			db_now(now);
			n = db_run(db, STMT_JOB_CANCEL_QUEUED, err, "is", id, now);
			if (n > 0)
				*cur = DGEN_JOB_CANCELLED;
		} else if (*cur == DGEN_JOB_RUNNING) {
			n = db_run(db, STMT_JOB_CANCEL_RUNNING, err, "i", id);
		} else {
			break;
		}
		if (n != 0)
			return n < 0 ? -1 : 0;
	}
	switch (*cur) {
	case DGEN_JOB_QUEUED:
	case DGEN_JOB_RUNNING:
		return dgen_err_set(err, DGEN_EBUSY, "Job %lld keeps changing; retry",
				    (long long)id);
	default:
		dgen_err_set(err, DGEN_ECONFLICT, "Job %lld already finished (%s)",
			     (long long)id, jobs_status_name(*cur));
		dgen_err_detail_int(err, "job_id", id);
		dgen_err_detail_str(err, "status", jobs_status_name(*cur));
		return -1;
	}
}

/*
 * Cancel, as one write transaction so the state read and the change
 * cannot be split by a runner finishing the job in between. A queued job
 * no runner holds ends at once; a running one gets the flag and its runner
 * stops and ends it cancelled (a rescue also honours the flag).
 */
int jobs_cancel(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		enum dgen_job_status *now_status, struct dgen_err *err)
{
	enum dgen_job_status cur = DGEN_JOB_QUEUED;

	if (db_begin(db, err) < 0 || db_end(db, cancel(db, who, id, &cur, err), err) < 0)
		return -1;
	if (now_status)
		*now_status = cur;
	return 0;
}

int jobs_delete(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		struct dgen_err *err)
{
	return changed(db_write(db, STMT_JOB_DELETE, err, "ik", id, dgen_caller_scope(who)), id,
		       err);
}

/* One failed execution, from a STMT_FAIL_LIST row. */
static struct json_object *failure_json(struct dgen_stmt *st)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seed_index", json_object_new_int64(db_col_int(st, 0)));
	json_object_object_add(o, "repetition", json_object_new_int64(db_col_int(st, 1)));
	db_add_int(o, "chunk_index", st, 2);
	db_add_text(o, "block_type", st, 3);
	db_add_int(o, "step", st, 4);
	db_add_text(o, "error", st, 5);
	json_object_object_add(o, "trace", db_col_json(st, 6));
	return o;
}

/* The failures of job id, which must exist, in the caller's transaction. */
static int list_failures(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
			 struct json_object **out, struct dgen_err *err)
{
	struct dgen_stmt *st;

	if (job_status(db, who, id, NULL, err) < 0)
		return -1;
	if (!(st = db_query(db, STMT_FAIL_LIST, err, "i", id)))
		return -1;
	return db_rows_json(db, st, failure_json, out, err);
}

int jobs_failures(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		  struct json_object **out, struct dgen_err *err)
{
	struct json_object *arr = NULL;

	if (db_begin_read(db, err) < 0 || db_end(db, list_failures(db, who, id, &arr, err), err) < 0) {
		json_object_put(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

/* A unit descriptor (the runner's format) from a STMT_FAIL_UNITS row. */
static struct json_object *unit_json(struct dgen_stmt *st)
{
	struct json_object *u = json_object_new_object();

	json_object_object_add(u, "unit", json_object_new_int64(db_col_int(st, 0)));
	json_object_object_add(u, "seed_index", json_object_new_int64(db_col_int(st, 1)));
	json_object_object_add(u, "repetition", json_object_new_int64(db_col_int(st, 2)));
	db_add_int(u, "chunk_index", st, 3);
	return u;
}

/* Inside the write transaction: the failed units of job id become the
 * unit list of a new job, which gets a copy of the input. */
static int retry_failed(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
			const char *key, int64_t *new_id, bool *existed, struct dgen_err *err)
{
	struct json_object *units = NULL;
	struct dgen_stmt *st;
	char now[DGEN_ISO_LEN];
	int64_t n;
	int rc = -1, found = find_idem(db, key, new_id, existed, err);

	if (found != 0)
		return found < 0 ? -1 : 0;
	if (job_status(db, who, id, NULL, err) < 0)
		return -1;
	st = db_query(db, STMT_FAIL_UNITS, err, "i", id);
	if (!st || db_rows_json(db, st, unit_json, &units, err) < 0)
		return -1;
	n = (int64_t)json_object_array_length(units);
	if (n == 0) {
		dgen_err_set(err, DGEN_ECONFLICT, "Job %lld has no failed executions to retry",
			     (long long)id);
		dgen_err_detail_int(err, "job_id", id);
		goto out;
	}
	db_now(now);
	if (db_insert(db, STMT_JOB_RETRY_INSERT, new_id, err, "isiss", id,
		      json_object_to_json_string_ext(units, JSON_C_TO_STRING_PLAIN), n, key,
		      now) < 0)
		goto out;
	if (db_run(db, STMT_JOB_INPUT_COPY, err, "ii", id, *new_id) < 0)
		goto out;
	rc = 0;
out:
	json_object_put(units);
	return rc;
}

/*
 * A new job over the failed units of job id: the failures' unit
 * descriptors become its unit list, and it shares the original input, so
 * the runner expands the same seeds and runs only those units (with the
 * same unit numbers, which keeps their seed/repetition/chunk identity).
 */
int jobs_retry_failed(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		      const char *idempotency_key, int64_t *new_id, bool *existed,
		      struct dgen_err *err)
{
	char *key = owned_key(who, idempotency_key);
	int rc = -1;

	if (existed)
		*existed = false;
	if (db_begin(db, err) == 0)
		rc = db_end(db, retry_failed(db, who, id, key, new_id, existed, err), err);
	free(key);
	return rc;
}
