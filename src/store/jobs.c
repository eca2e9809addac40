/*
 * jobs.c - generation jobs as the API sees them.
 */
#include <stdlib.h>
#include <string.h>

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

static int not_found(struct dgen_err *err, int64_t id)
{
	return db_not_found(err, "Job", "job_id", id);
}

/* The job JSON of SPEC.md §3 from a row of the JOB_COLS columns. */
static struct json_object *job_row_json(sqlite3_stmt *st)
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
	db_add_int(o, "current_step", st, 8);
	db_add_text(o, "error", st, 9);
	json_object_object_add(u, "total_tokens", json_object_new_int64(in + outp));
	json_object_object_add(u, "total_input_tokens", json_object_new_int64(in));
	json_object_object_add(u, "total_output_tokens", json_object_new_int64(outp));
	json_object_object_add(u, "total_cached_tokens", json_object_new_int64(db_col_int(st, 12)));
	db_add_text(u, "start_time", st, 14);
	db_add_text(u, "end_time", st, 15);
	json_object_object_add(o, "usage", u);
	db_add_text(o, "created_at", st, 13);
	db_add_text(o, "started_at", st, 14);
	db_add_text(o, "completed_at", st, 15);
	return o;
}

/* Looks an idempotency key up inside the caller's transaction: 1 found
 * (*id set), 0 not, -1 error. */
static int find_idem(struct dgen_db *db, const char *key, int64_t *id, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_BY_IDEM, err);
	int rc;

	if (!st)
		return -1;
	db_bind_text(db, st, 1, key);
	rc = db_step(db, st, err);
	if (rc < 0)
		return -1;
	if (rc == SQLITE_ROW)
		*id = db_col_int(st, 0);
	db_reset(st);
	return rc == SQLITE_ROW;
}

/*
 * Inserts a queued job. The key lookup and the insert share one write
 * transaction, so two retries of the same POST racing each other still
 * create one job.
 */
int jobs_insert(struct dgen_db *db, const struct dgen_job_new *job, int64_t *id,
		bool *existed, struct dgen_err *err)
{
	sqlite3_stmt *st;
	char now[DGEN_ISO_LEN];
	int found;

	if (existed)
		*existed = false;
	if (db_begin(db, err) < 0)
		return -1;
	if (job->idempotency_key) {
		found = find_idem(db, job->idempotency_key, id, err);
		if (found < 0)
			goto fail;
		if (found) {
			if (existed)
				*existed = true;
			return db_commit(db, err);
		}
	}
	st = db_stmt(db, STMT_JOB_INSERT, err);
	if (!st)
		goto fail;
	db_now(now);
	db_bind_int(db, st, 1, job->pipeline_id);
	db_bind_text(db, st, 2, jobs_input_kind_name(job->input_kind));
	db_bind_text(db, st, 4, job->units);
	db_bind_int(db, st, 5, job->total_seeds);
	db_bind_text(db, st, 6, job->idempotency_key);
	db_bind_text(db, st, 7, now);
	if (db_step(db, st, err) != SQLITE_ROW) {
		if (err->code == DGEN_ENOTFOUND) {
			dgen_err_set(err, DGEN_ENOTFOUND, "Pipeline %lld not found",
				     (long long)job->pipeline_id);
			dgen_err_detail_int(err, "pipeline_id", job->pipeline_id);
		}
		goto fail;
	}
	*id = db_col_int(st, 0);
	db_reset(st);
	if (!(st = db_stmt(db, STMT_JOB_INPUT_INSERT, err)))
		goto fail;
	db_bind_int(db, st, 1, *id);
	db_bind_textn(db, st, 2, job->input ? job->input : "", job->input ? job->input_len : 0);
	if (db_exec(db, st, NULL, err) < 0)
		goto fail;
	return db_commit(db, err);
fail:
	db_rollback(db);
	return -1;
}

int jobs_get(struct dgen_db *db, int64_t id, struct json_object **out, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_GET, err);

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	if (db_step_row(db, st, "Job", "job_id", id, err))
		return -1;
	*out = job_row_json(st);
	db_reset(st);
	return 0;
}

/* Collects every row of a prepared JOB_COLS statement into an array. */
static int job_rows(struct dgen_db *db, sqlite3_stmt *st, struct json_object **out,
		    struct dgen_err *err)
{
	struct json_object *arr = json_object_new_array();
	int rc;

	while ((rc = db_step(db, st, err)) == SQLITE_ROW)
		json_object_array_add(arr, job_row_json(st));
	if (rc < 0) {
		json_object_put(arr);
		return -1;
	}
	db_reset(st);
	*out = arr;
	return 0;
}

int jobs_list(struct dgen_db *db, const struct dgen_job_filter *f, struct json_object **out,
	      struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_LIST, err);

	if (!st)
		return -1;
	if (f->pipeline_id > 0)
		db_bind_int(db, st, 1, f->pipeline_id);
	db_bind_text(db, st, 2, jobs_status_name(f->status));
	db_bind_int(db, st, 3, f->limit > 0 ? f->limit : 100);
	return job_rows(db, st, out, err);
}

int jobs_active(struct dgen_db *db, struct json_object **out, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_ACTIVE, err);
	int rc;

	if (!st)
		return -1;
	rc = db_step(db, st, err);
	if (rc < 0)
		return -1;
	if (rc != SQLITE_ROW) {
		db_reset(st);
		return dgen_err_set(err, DGEN_ENOTFOUND, "No job is running");
	}
	*out = job_row_json(st);
	db_reset(st);
	return 0;
}

/*
 * Cancel, as one write transaction so the state read and the change
 * cannot be split by a runner finishing the job in between. A queued job
 * no runner holds ends at once; a running one gets the flag and its runner
 * stops and ends it cancelled (a rescue also honours the flag).
 */
int jobs_cancel(struct dgen_db *db, int64_t id, enum dgen_job_status *now_status,
		struct dgen_err *err)
{
	sqlite3_stmt *st;
	char now[DGEN_ISO_LEN];
	enum dgen_job_status cur = DGEN_JOB_QUEUED;
	int rc;

	if (db_begin(db, err) < 0)
		return -1;
	st = db_stmt(db, STMT_JOB_STATE, err);
	if (!st)
		goto fail;
	db_bind_int(db, st, 1, id);
	rc = db_step(db, st, err);
	if (rc < 0)
		goto fail;
	if (rc != SQLITE_ROW) {
		db_reset(st);
		not_found(err, id);
		goto fail;
	}
	if (jobs_status_parse(db_col_text(st, 0), &cur) < 0)
		cur = DGEN_JOB_FAILED;
	db_reset(st);
	if (cur == DGEN_JOB_QUEUED) {
		st = db_stmt(db, STMT_JOB_CANCEL_QUEUED, err);
		if (!st)
			goto fail;
		db_now(now);
		db_bind_int(db, st, 1, id);
		db_bind_text(db, st, 2, now);
		if (db_exec(db, st, NULL, err) < 0)
			goto fail;
		cur = DGEN_JOB_CANCELLED;
	} else if (cur == DGEN_JOB_RUNNING) {
		st = db_stmt(db, STMT_JOB_CANCEL_RUNNING, err);
		if (!st)
			goto fail;
		db_bind_int(db, st, 1, id);
		if (db_exec(db, st, NULL, err) < 0)
			goto fail;
	} else {
		dgen_err_set(err, DGEN_ECONFLICT, "Job %lld already finished (%s)",
			     (long long)id, jobs_status_name(cur));
		dgen_err_detail_int(err, "job_id", id);
		dgen_err_detail_str(err, "status", jobs_status_name(cur));
		goto fail;
	}
	if (db_commit(db, err) < 0)
		return -1;
	if (now_status)
		*now_status = cur;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int jobs_delete(struct dgen_db *db, int64_t id, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_DELETE, err);
	int64_t n;

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	if (db_exec_write(db, st, &n, err) < 0)
		return -1;
	if (n == 0)
		return not_found(err, id);
	return 0;
}

/* 0 when job id exists (inside the caller's transaction). */
static int job_must_exist(struct dgen_db *db, int64_t id, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_STATE, err);
	int rc;

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return -1;
	db_reset(st);
	if (rc != SQLITE_ROW)
		return not_found(err, id);
	return 0;
}

int jobs_failures(struct dgen_db *db, int64_t id, struct json_object **out,
		  struct dgen_err *err)
{
	struct json_object *arr = NULL, *o;
	sqlite3_stmt *st;
	int rc;

	if (db_begin_read(db, err) < 0)
		return -1;
	if (job_must_exist(db, id, err) < 0)
		goto fail;
	st = db_stmt(db, STMT_FAIL_LIST, err);
	if (!st)
		goto fail;
	db_bind_int(db, st, 1, id);
	arr = json_object_new_array();
	while ((rc = db_step(db, st, err)) == SQLITE_ROW) {
		o = json_object_new_object();
		json_object_object_add(o, "seed_index", json_object_new_int64(db_col_int(st, 0)));
		json_object_object_add(o, "repetition", json_object_new_int64(db_col_int(st, 1)));
		db_add_int(o, "chunk_index", st, 2);
		db_add_text(o, "block_type", st, 3);
		db_add_int(o, "step", st, 4);
		db_add_text(o, "error", st, 5);
		json_object_object_add(o, "trace", db_col_json(st, 6));
		json_object_array_add(arr, o);
	}
	if (rc < 0)
		goto fail;
	db_reset(st);
	if (db_commit(db, err) < 0)
		goto fail_put;
	*out = arr;
	return 0;
fail:
	db_rollback(db);
fail_put:
	json_object_put(arr);
	return -1;
}

/*
 * A new job over the failed units of job id: the failures' unit
 * descriptors become its unit list, and it shares the original input, so
 * the runner expands the same seeds and runs only those units (with the
 * same unit numbers, which keeps their seed/repetition/chunk identity).
 */
int jobs_retry_failed(struct dgen_db *db, int64_t id, const char *idempotency_key,
		      int64_t *new_id, bool *existed, struct dgen_err *err)
{
	struct json_object *units = NULL, *u;
	sqlite3_stmt *st;
	char now[DGEN_ISO_LEN];
	int rc, found;

	if (existed)
		*existed = false;
	if (db_begin(db, err) < 0)
		return -1;
	if (idempotency_key) {
		found = find_idem(db, idempotency_key, new_id, err);
		if (found < 0)
			goto fail;
		if (found) {
			if (existed)
				*existed = true;
			return db_commit(db, err);
		}
	}
	if (job_must_exist(db, id, err) < 0)
		goto fail;
	st = db_stmt(db, STMT_FAIL_UNITS, err);
	if (!st)
		goto fail;
	db_bind_int(db, st, 1, id);
	units = json_object_new_array();
	while ((rc = db_step(db, st, err)) == SQLITE_ROW) {
		u = json_object_new_object();
		json_object_object_add(u, "unit", json_object_new_int64(db_col_int(st, 0)));
		json_object_object_add(u, "seed_index", json_object_new_int64(db_col_int(st, 1)));
		json_object_object_add(u, "repetition", json_object_new_int64(db_col_int(st, 2)));
		db_add_int(u, "chunk_index", st, 3);
		json_object_array_add(units, u);
	}
	if (rc < 0)
		goto fail;
	db_reset(st);
	if (json_object_array_length(units) == 0) {
		dgen_err_set(err, DGEN_ECONFLICT, "Job %lld has no failed executions to retry",
			     (long long)id);
		dgen_err_detail_int(err, "job_id", id);
		goto fail;
	}
	st = db_stmt(db, STMT_JOB_RETRY_INSERT, err);
	if (!st)
		goto fail;
	db_now(now);
	db_bind_int(db, st, 1, id);
	db_bind_text(db, st, 2, json_object_to_json_string_ext(units, JSON_C_TO_STRING_PLAIN));
	db_bind_int(db, st, 3, (int64_t)json_object_array_length(units));
	db_bind_text(db, st, 4, idempotency_key);
	db_bind_text(db, st, 5, now);
	if (db_step(db, st, err) != SQLITE_ROW)
		goto fail;
	*new_id = db_col_int(st, 0);
	db_reset(st);
	if (!(st = db_stmt(db, STMT_JOB_INPUT_COPY, err)))
		goto fail;
	db_bind_int(db, st, 1, id);
	db_bind_int(db, st, 2, *new_id);
	if (db_exec(db, st, NULL, err) < 0)
		goto fail;
	json_object_put(units);
	return db_commit(db, err);
fail:
	json_object_put(units);
	db_rollback(db);
	return -1;
}
