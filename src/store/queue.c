/*
 * queue.c - the runner's side of jobs (DESIGN.md section 3): exactly-once
 * records from at-least-once execution.
 *
 * A runner claims a job under a lease and renews it while it works. If it
 * dies, the lease runs out and a rescue puts the job back in the queue;
 * the next claimer asks which units are already stored and skips them.
 * Each unit's record (or failure) and the job's counters commit together,
 * and the record insert is a no-op on a unit already stored, so a unit run
 * twice is stored and counted once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/queue.h"
#include "dgen/util.h"
#include "stmt.h"

static int not_found(struct dgen_err *err, int64_t id)
{
	return db_not_found(err, "Job", "job_id", id);
}

int queue_enqueue(struct dgen_db *db, const struct dgen_job_new *job, int64_t *id,
		  bool *existed, struct dgen_err *err)
{
	return jobs_insert(db, job, id, existed, err);
}

/* Reads the COUNTER_COLS columns starting at col. */
static void read_counters(sqlite3_stmt *st, int col, struct dgen_job_counters *c)
{
	c->total_seeds = db_col_int(st, col);
	c->current_seed = db_col_int(st, col + 1);
	c->records_generated = db_col_int(st, col + 2);
	c->records_failed = db_col_int(st, col + 3);
	c->input_tokens = db_col_int(st, col + 4);
	c->output_tokens = db_col_int(st, col + 5);
	c->cached_tokens = db_col_int(st, col + 6);
}

void queue_claim_free(struct dgen_claim *c)
{
	if (!c)
		return;
	free(c->pipeline_name);
	free(c->definition);
	free(c->input);
	free(c->units);
	memset(c, 0, sizeof(*c));
}

/*
 * One BEGIN IMMEDIATE transaction: the UPDATE ... RETURNING takes the
 * oldest queued job (the (status, id) index makes that a single probe)
 * and the pipeline definition is read under the same lock, so the runner
 * starts from a consistent picture. started_at keeps the first claim's
 * time across rescues.
 */
int queue_claim(struct dgen_db *db, const char *runner_id, int64_t lease_ms,
		struct dgen_claim *out, struct dgen_err *err)
{
	sqlite3_stmt *st;
	char now[DGEN_ISO_LEN];
	const char *kind, *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (db_begin(db, err) < 0)
		return -1;
	st = db_stmt(db, STMT_Q_CLAIM, err);
	if (!st)
		goto fail;
	db_now(now);
	db_bind_text(db, st, 1, runner_id);
	db_bind_int(db, st, 2, dgen_clock_now_ms() + lease_ms);
	db_bind_text(db, st, 3, now);
	rc = db_step(db, st, err);
	if (rc < 0)
		goto fail;
	if (rc != SQLITE_ROW) {
		db_reset(st);
		if (db_commit(db, err) < 0)
			return -1;
		return 0;
	}
	out->job_id = db_col_int(st, 0);
	out->pipeline_id = db_col_int(st, 1);
	kind = db_col_text(st, 2);
	out->input_kind = kind && strcmp(kind, "markdown") == 0 ? DGEN_INPUT_MARKDOWN
								 : DGEN_INPUT_JSON;
	out->units = db_col_dup(st, 4);
	out->attempts = (int)db_col_int(st, 5);
	out->lease_expires_at = db_col_int(st, 6);
	s = db_col_text(st, 7);
	snprintf(out->started_at, sizeof(out->started_at), "%s", s ? s : now);
	read_counters(st, 8, &out->counters);
	db_reset(st);

	st = db_stmt(db, STMT_Q_CLAIM_PIPELINE, err);
	if (!st)
		goto fail;
	db_bind_int(db, st, 1, out->pipeline_id);
	rc = db_step(db, st, err);
	if (rc < 0)
		goto fail;
	if (rc != SQLITE_ROW) {
		/* The foreign key cascade makes this impossible. */
		db_reset(st);
		dgen_err_set(err, DGEN_EINTERNAL, "Job %lld has no pipeline",
			     (long long)out->job_id);
		goto fail;
	}
	out->pipeline_name = db_col_dup(st, 0);
	out->definition = db_col_dup(st, 1);
	db_reset(st);

	if (!(st = db_stmt(db, STMT_JOB_INPUT_GET, err)))
		goto fail;
	db_bind_int(db, st, 1, out->job_id);
	if (db_step(db, st, err) < 0)
		goto fail;
	out->input = db_col_dup(st, 0);
	out->input_len = out->input ? (size_t)sqlite3_column_bytes(st, 0) : 0;
	if (!out->input)
		out->input = dgen_xstrdup("");
	db_reset(st);
	if (db_commit(db, err) < 0)
		goto fail_free;
	return 1;
fail:
	db_rollback(db);
fail_free:
	queue_claim_free(out);
	return -1;
}

/* Runs an update by job that reports 1 (a row changed) or 0. */
static int update_flag(struct dgen_db *db, sqlite3_stmt *st, struct dgen_err *err)
{
	int64_t n;

	if (db_exec_write(db, st, &n, err) < 0)
		return -1;
	return n > 0;
}

int queue_renew(struct dgen_db *db, int64_t job_id, const char *runner_id,
		int64_t lease_ms, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_RENEW, err);

	if (!st)
		return -1;
	db_bind_int(db, st, 1, job_id);
	db_bind_text(db, st, 2, runner_id);
	db_bind_int(db, st, 3, dgen_clock_now_ms() + lease_ms);
	return update_flag(db, st, err);
}

int queue_release(struct dgen_db *db, int64_t job_id, const char *runner_id,
		  struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_RELEASE, err);
	char now[DGEN_ISO_LEN];

	if (!st)
		return -1;
	db_now(now);
	db_bind_int(db, st, 1, job_id);
	db_bind_text(db, st, 2, runner_id);
	db_bind_text(db, st, 3, now);
	return update_flag(db, st, err);
}

/*
 * Order matters: cancelled first (a cancel must never be undone by a
 * requeue), then jobs that used up their attempts, then the rest back to
 * the queue. All three in one transaction.
 */
/*
 * Puts back running jobs whose lease expired before now_ms (all of them,
 * or only runner_id's): cancelled ones end cancelled, ones claimed
 * max_attempts times in a row without finishing a unit end failed, the
 * rest go back to the queue. One transaction.
 */
static int rescue(struct dgen_db *db, int64_t now_ms, const char *runner_id, int max_attempts,
		  int64_t *count, struct dgen_err *err)
{
	sqlite3_stmt *st;
	char now[DGEN_ISO_LEN];
	char *msg = NULL;
	int64_t n, total = 0;

	if (count)
		*count = 0;
	db_now(now);
	if (db_begin(db, err) < 0)
		return -1;
	st = db_stmt(db, STMT_Q_RESCUE_CANCELLED, err);
	if (!st)
		goto fail;
	db_bind_int(db, st, 1, now_ms);
	db_bind_text(db, st, 2, now);
	db_bind_text(db, st, 5, runner_id);
	if (db_exec(db, st, &n, err) < 0)
		goto fail;
	total += n;
	if (max_attempts > 0) {
		st = db_stmt(db, STMT_Q_RESCUE_EXHAUSTED, err);
		if (!st)
			goto fail;
		msg = dgen_xasprintf("The runner stopped %d times while running this job",
				     max_attempts);
		db_bind_int(db, st, 1, now_ms);
		db_bind_text(db, st, 2, now);
		db_bind_text(db, st, 3, msg);
		db_bind_int(db, st, 4, max_attempts);
		db_bind_text(db, st, 5, runner_id);
		if (db_exec(db, st, &n, err) < 0)
			goto fail;
		total += n;
	}
	st = db_stmt(db, STMT_Q_RESCUE_REQUEUE, err);
	if (!st)
		goto fail;
	db_bind_int(db, st, 1, now_ms);
	db_bind_text(db, st, 5, runner_id);
	if (db_exec(db, st, &n, err) < 0)
		goto fail;
	total += n;
	free(msg);
	if (db_commit(db, err) < 0)
		return -1;
	if (count)
		*count = total;
	return 0;
fail:
	free(msg);
	db_rollback(db);
	return -1;
}

int queue_rescue_expired(struct dgen_db *db, int64_t now_ms, int max_attempts,
			 int64_t *count, struct dgen_err *err)
{
	return rescue(db, now_ms, NULL, max_attempts, count, err);
}

int queue_rescue_runner(struct dgen_db *db, const char *runner_id, int max_attempts,
			int64_t *count, struct dgen_err *err)
{
	return rescue(db, INT64_MAX, runner_id, max_attempts, count, err);
}

int queue_running_runners(struct dgen_db *db, char ***ids, size_t *n, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_RUNNING_RUNNERS, err);
	char **v = NULL;
	size_t len = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = db_step(db, st, err)) == SQLITE_ROW) {
		v = dgen_xrealloc(v, (len + 1) * sizeof *v);
		v[len++] = dgen_xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	if (rc < 0) {
		for (size_t i = 0; i < len; i++)
			free(v[i]);
		free(v);
		return -1;
	}
	db_reset(st);
	*ids = v;
	*n = len;
	return 0;
}

int queue_done_units(struct dgen_db *db, int64_t job_id, int64_t **units, size_t *n,
		     struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_DONE_UNITS, err);
	int64_t *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*units = NULL;
	*n = 0;
	if (!st)
		return -1;
	db_bind_int(db, st, 1, job_id);
	while ((rc = db_step(db, st, err)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			v = dgen_xrealloc(v, cap * sizeof(*v));
		}
		v[len++] = db_col_int(st, 0);
	}
	if (rc < 0) {
		free(v);
		return -1;
	}
	db_reset(st);
	*units = v;
	*n = len;
	return 0;
}

/* Reads the job's counters inside the caller's transaction. */
static int counters_now(struct dgen_db *db, int64_t job_id, struct dgen_job_counters *c,
			struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_COUNTERS, err);
	int rc;

	if (!st)
		return -1;
	db_bind_int(db, st, 1, job_id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return -1;
	if (rc != SQLITE_ROW) {
		db_reset(st);
		return not_found(err, job_id);
	}
	read_counters(st, 0, c);
	db_reset(st);
	return 0;
}

/*
 * The heart of exactly-once: the insert and the counter update share one
 * transaction, and the counters move only when the insert inserted. So a
 * unit that a rescued job runs again changes nothing, and a crash between
 * the two is impossible.
 */
int queue_finish_unit(struct dgen_db *db, int64_t job_id, const struct dgen_unit_result *r,
		      bool *inserted, struct dgen_job_counters *after,
		      struct dgen_err *err)
{
	struct dgen_job_counters c = { 0 };
	sqlite3_stmt *st;
	char now[DGEN_ISO_LEN];
	int64_t n = 0;
	int rc;

	if (inserted)
		*inserted = false;
	db_now(now);
	if (db_begin(db, err) < 0)
		return -1;
	if (r->failed) {
		st = db_stmt(db, STMT_Q_FAILURE_INSERT, err);
		if (!st)
			goto fail;
		db_bind_int(db, st, 1, job_id);
		db_bind_int(db, st, 2, r->unit);
		db_bind_int(db, st, 3, r->seed_index);
		db_bind_int(db, st, 4, r->repetition);
		if (r->chunk_index >= 0)
			db_bind_int(db, st, 5, r->chunk_index);
		db_bind_text(db, st, 6, r->block_type);
		if (r->step > 0)
			db_bind_int(db, st, 7, r->step);
		db_bind_text(db, st, 8, r->error ? r->error : "unknown error");
		db_bind_text(db, st, 9, r->trace);
		db_bind_text(db, st, 10, now);
	} else {
		st = db_stmt(db, STMT_Q_RECORD_INSERT, err);
		if (!st)
			goto fail;
		db_bind_int(db, st, 1, job_id);
		db_bind_int(db, st, 2, r->unit);
		db_bind_int(db, st, 3, r->seed_index);
		db_bind_int(db, st, 4, r->repetition);
		if (r->chunk_index >= 0)
			db_bind_int(db, st, 5, r->chunk_index);
		db_bind_text(db, st, 6, r->output ? r->output : "");
		db_bind_text(db, st, 7, r->metadata ? r->metadata : "{}");
		db_bind_text(db, st, 8, r->accumulated_state ? r->accumulated_state : "{}");
		db_bind_text(db, st, 9, r->trace);
		db_bind_text(db, st, 10, r->trace_id);
		db_bind_text(db, st, 11, now);
	}
	if (db_exec(db, st, &n, err) < 0)
		goto fail;
	if (n == 0) {
		/* Already stored (or the job is gone: counters_now tells). */
		if (counters_now(db, job_id, &c, err) < 0)
			goto fail;
	} else {
		st = db_stmt(db, STMT_Q_COUNT_UNIT, err);
		if (!st)
			goto fail;
		db_bind_int(db, st, 1, job_id);
		db_bind_int(db, st, 2, r->failed ? 0 : 1);
		db_bind_int(db, st, 3, r->failed ? 1 : 0);
		db_bind_int(db, st, 4, r->input_tokens);
		db_bind_int(db, st, 5, r->output_tokens);
		db_bind_int(db, st, 6, r->cached_tokens);
		db_bind_text(db, st, 7, r->current_block);
		db_bind_int(db, st, 8, r->current_step);
		rc = db_step(db, st, err);
		if (rc < 0)
			goto fail;
		if (rc != SQLITE_ROW) {
			db_reset(st);
			not_found(err, job_id);
			goto fail;
		}
		read_counters(st, 0, &c);
		db_reset(st);
	}
	if (db_commit(db, err) < 0)
		return -1;
	if (inserted)
		*inserted = n > 0;
	if (after)
		*after = c;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

/* A one-row update by job id that must find the job. */
static int update_job(struct dgen_db *db, sqlite3_stmt *st, int64_t job_id,
		      struct dgen_err *err)
{
	int rc = update_flag(db, st, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return not_found(err, job_id);
	return 0;
}

int queue_set_total(struct dgen_db *db, int64_t job_id, int64_t total_seeds,
		    struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_SET_TOTAL, err);

	if (!st)
		return -1;
	db_bind_int(db, st, 1, job_id);
	db_bind_int(db, st, 2, total_seeds);
	return update_job(db, st, job_id, err);
}

int queue_progress(struct dgen_db *db, int64_t job_id, const char *current_block,
		   int64_t current_step, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_PROGRESS, err);

	if (!st)
		return -1;
	db_bind_int(db, st, 1, job_id);
	db_bind_text(db, st, 2, current_block);
	db_bind_int(db, st, 3, current_step);
	return update_job(db, st, job_id, err);
}

int queue_finish_job(struct dgen_db *db, int64_t job_id, enum dgen_job_status status,
		     const char *error, struct dgen_err *err)
{
	sqlite3_stmt *st;
	char now[DGEN_ISO_LEN];

	if (status != DGEN_JOB_COMPLETED && status != DGEN_JOB_FAILED &&
	    status != DGEN_JOB_CANCELLED && status != DGEN_JOB_STOPPED)
		return dgen_err_set(err, DGEN_EINTERNAL, "A job cannot end as '%s'",
				    jobs_status_name(status) ? jobs_status_name(status) : "?");
	st = db_stmt(db, STMT_Q_FINISH_JOB, err);
	if (!st)
		return -1;
	db_now(now);
	db_bind_int(db, st, 1, job_id);
	db_bind_text(db, st, 2, jobs_status_name(status));
	db_bind_text(db, st, 3, error);
	db_bind_text(db, st, 4, now);
	return update_flag(db, st, err);
}

int queue_should_stop(struct dgen_db *db, int64_t job_id, bool *stop, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_STATE, err);
	const char *s;
	int rc;

	if (!st)
		return -1;
	db_bind_int(db, st, 1, job_id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return -1;
	if (rc != SQLITE_ROW) {
		*stop = true;
	} else {
		s = db_col_text(st, 0);
		*stop = db_col_int(st, 1) != 0 || !s || strcmp(s, "running") != 0;
	}
	db_reset(st);
	return 0;
}

int queue_counters(struct dgen_db *db, int64_t job_id, struct dgen_job_counters *out,
		   struct dgen_err *err)
{
	return counters_now(db, job_id, out, err);
}

int queue_heartbeat(struct dgen_db *db, const char *runner_id, long pid,
		    const char *hostname, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_HEARTBEAT, err);
	char now[DGEN_ISO_LEN], day_ago[DGEN_ISO_LEN];

	if (!st)
		return -1;
	db_now(now);
	db_bind_text(db, st, 1, runner_id);
	db_bind_int(db, st, 2, pid);
	db_bind_text(db, st, 3, hostname);
	db_bind_text(db, st, 4, now);
	if (db_exec_write(db, st, NULL, err) < 0)
		return -1;
	/* Every restart is a new runner id: forget those silent for a day. */
	if (!(st = db_stmt(db, STMT_Q_RUNNERS_PRUNE, err)))
		return -1;
	dgen_clock_iso(dgen_clock_now_ms() - 86400000LL, day_ago);
	db_bind_text(db, st, 1, day_ago);
	return db_exec_write(db, st, NULL, err);
}

/* ISO 8601 text of one fixed format sorts like time, so "alive" is a
 * string comparison against now minus the window. */
int queue_runner_status(struct dgen_db *db, int alive_within_s, bool *alive,
			char last_seen[DGEN_ISO_LEN], struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_Q_RUNNER_LAST, err);
	char since[DGEN_ISO_LEN];
	const char *s;
	int rc;

	*alive = false;
	last_seen[0] = '\0';
	if (!st)
		return -1;
	rc = db_step(db, st, err);
	if (rc < 0)
		return -1;
	s = rc == SQLITE_ROW ? db_col_text(st, 0) : NULL;
	if (s) {
		snprintf(last_seen, DGEN_ISO_LEN, "%s", s);
		dgen_clock_iso(dgen_clock_now_ms() - (int64_t)alive_within_s * 1000, since);
		*alive = strcmp(last_seen, since) >= 0;
	}
	db_reset(st);
	return 0;
}
