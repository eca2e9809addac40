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
 *
 * Blame: a unit's start is written (unit_starts) before it runs, and
 * removed with its record. A rescue adds a death to each unit the dead
 * claim had started; one at max_attempts deaths is stored as a failure
 * naming why, and the job goes on without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/cost.h"
#include "dgen/json.h"
#include "dgen/queue.h"
#include "dgen/util.h"
#include "stmt.h"

/* 0 when a write by job id changed its row, else -1 (unknown: not found). */
static int changed(int64_t n, int64_t job_id, struct dgen_err *err)
{
	return db_changed_row(n, "Job", "job_id", job_id, err);
}

/* The answer of a write that may find its job gone or not ours: 1 when it
 * changed a row, 0 when not, -1 on error. */
static int flag(int64_t n)
{
	return n < 0 ? -1 : n > 0;
}

int queue_enqueue(struct dgen_db *db, const struct dgen_job_new *job, int64_t *id,
		  bool *existed, struct dgen_err *err)
{
	return jobs_insert(db, NULL, job, id, existed, err);
}

/* Reads the COUNTER_COLS columns starting at col. */
static void read_counters(struct dgen_stmt *st, int col, struct dgen_job_counters *c)
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

/* Inside the claim's transaction: takes the oldest queued job into out.
 * 1 claimed, 0 none queued, -1 error. */
static int claim_job(struct dgen_db *db, const char *runner_id, int64_t lease_ms,
		     bool newcomer, struct dgen_claim *out, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	const char *kind, *s;
	struct dgen_stmt *st;
	int rc;

	db_now(now);
	st = db_query(db, STMT_Q_CLAIM, err, "sisi", runner_id, dgen_clock_now_ms() + lease_ms,
		      now, (int64_t)newcomer);
	if (!st || (rc = db_step_one(db, st, err)) <= 0)
		return st ? rc : -1;
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
	out->owner_id = db_col_int(st, 15);
	out->owner_inflight = db_col_int(st, 16);
	db_reset(st);
	return 1;
}

/* Inside the claim's transaction: the claimed job's pipeline and input. */
static int claim_pipeline_input(struct dgen_db *db, struct dgen_claim *out,
				struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_Q_CLAIM_PIPELINE, err, "i", out->pipeline_id);
	int rc;

	/* The foreign key cascade makes a job without its pipeline impossible. */
	if (!st || db_step_must(db, st, DGEN_EINTERNAL, "The claimed job has no pipeline",
				err) < 0)
		return -1;
	out->pipeline_name = db_col_dup(st, 0);
	out->definition = db_col_dup(st, 1);
	db_reset(st);

	st = db_query(db, STMT_JOB_INPUT_GET, err, "i", out->job_id);
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	out->input = rc ? db_col_dup(st, 0) : NULL;
	out->input_len = out->input ? db_col_len(st, 0) : 0;
	if (!out->input)
		out->input = dgen_xstrdup("");
	db_reset(st);
	return 0;
}

int queue_any_queued(struct dgen_db *db, bool *any, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_Q_ANY_QUEUED, err, "");
	int rc;

	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	*any = rc > 0;
	db_reset(st);
	return 0;
}

/*
 * One BEGIN IMMEDIATE transaction: the UPDATE ... RETURNING takes the
 * queued job of the owner with the fewest running jobs, oldest first
 * (queued jobs are few: the jobs quota bounds them per user), and the
 * pipeline definition is read under the same lock, so the runner starts
 * from a consistent picture. started_at keeps the first claim's time
 * across rescues.
 */
static int claim(struct dgen_db *db, const char *runner_id, int64_t lease_ms, bool newcomer,
		 struct dgen_claim *out, struct dgen_err *err)
{
	bool any;
	int rc;

	memset(out, 0, sizeof(*out));
	/* A runner polls often and mostly finds nothing: a read answers
	 * that without taking the write lock its committer needs. */
	if (queue_any_queued(db, &any, err) < 0)
		return -1;
	if (!any)
		return 0;
	if (db_begin(db, err) < 0)
		return -1;
	rc = claim_job(db, runner_id, lease_ms, newcomer, out, err);
	if (rc > 0 && claim_pipeline_input(db, out, err) < 0)
		rc = -1;
	if (db_end(db, rc < 0 ? -1 : 0, err) < 0) {
		queue_claim_free(out);
		return -1;
	}
	return rc;
}

int queue_claim(struct dgen_db *db, const char *runner_id, int64_t lease_ms,
		struct dgen_claim *out, struct dgen_err *err)
{
	return claim(db, runner_id, lease_ms, false, out, err);
}

int queue_claim_newcomer(struct dgen_db *db, const char *runner_id, int64_t lease_ms,
			 struct dgen_claim *out, struct dgen_err *err)
{
	return claim(db, runner_id, lease_ms, true, out, err);
}

bool queue_wait(struct dgen_db *db, int timeout_ms)
{
	return db_wait_jobs(db, timeout_ms);
}

int queue_renew(struct dgen_db *db, int64_t job_id, const char *runner_id,
		int64_t lease_ms, struct dgen_err *err)
{
	return flag(db_write(db, STMT_Q_RENEW, err, "isi", job_id, runner_id,
			     dgen_clock_now_ms() + lease_ms));
}

/* A release is no death: the started units lose their claim, not their
 * innocence. */
int queue_release(struct dgen_db *db, int64_t job_id, const char *runner_id,
		  struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	int64_t n = -1;

	db_now(now);
	if (db_begin(db, err) < 0)
		return -1;
	if (db_run(db, STMT_Q_RELEASE_STARTS, err, "is", job_id, runner_id) >= 0)
		n = db_run(db, STMT_Q_RELEASE, err, "iss", job_id, runner_id, now);
	if (db_end(db, n < 0 ? -1 : 0, err) < 0)
		return -1;
	return flag(n);
}

/*
 * Puts back running jobs whose lease expired before now_ms (all of them,
 * or only runner_id's), inside the caller's transaction. Order matters:
 * cancelled ones end cancelled first (a cancel must never be undone by a
 * requeue); then the units the dead claims had started take a death each,
 * and those at max_attempts deaths that were the only unit in flight of
 * their runner become failures, counted in their jobs (the runner runs
 * suspects in groups that shrink as their deaths grow, so a group's death
 * blames no one yet); the others are in flight no more;
 * then jobs claimed max_attempts times in a row without starting a unit
 * (their planning kills the runner) end failed; the rest go back to the
 * queue. The statements share one parameter layout; only the first, the
 * two job-level ones and the requeue count as jobs touched.
 */
static int rescue_steps(struct dgen_db *db, int64_t now_ms, const char *runner_id,
			int max_attempts, int64_t *total, struct dgen_err *err)
{
	static const struct {
		enum db_stmt_id id;
		bool limit;  /* only with max_attempts > 0 */
		bool jobs;   /* counts jobs touched */
	} order[] = {
		{ STMT_Q_RESCUE_CANCELLED, false, true },
		{ STMT_Q_RESCUE_BLAME, false, false },
		{ STMT_Q_RESCUE_POISON_COUNT, true, false },
		{ STMT_Q_RESCUE_POISON_FAIL, true, false },
		{ STMT_Q_RESCUE_POISON_CLEAR, true, false },
		{ STMT_Q_RESCUE_UNBLAME, false, false },
		{ STMT_Q_RESCUE_EXHAUSTED, true, true },
		{ STMT_Q_RESCUE_REQUEUE, false, true },
	};
	char now[DGEN_ISO_LEN];
	char *msg = dgen_xasprintf("The runner stopped %d times while preparing this job",
				   max_attempts);
	int64_t n = 0;
	size_t i;

	db_now(now);
	for (i = 0; i < DGEN_ARRAY_LEN(order) && n >= 0; i++) {
		if (order[i].limit && max_attempts <= 0)
			continue;
		n = db_run(db, order[i].id, err, "issis", now_ms, now, msg,
			   (int64_t)max_attempts, runner_id);
		if (n > 0 && order[i].jobs)
			*total += n;
	}
	free(msg);
	return n < 0 ? -1 : 0;
}

static int rescue(struct dgen_db *db, int64_t now_ms, const char *runner_id, int max_attempts,
		  int64_t *count, struct dgen_err *err)
{
	int64_t total = 0;

	if (count)
		*count = 0;
	if (db_begin(db, err) < 0 ||
	    db_end(db, rescue_steps(db, now_ms, runner_id, max_attempts, &total, err), err) < 0)
		return -1;
	if (count)
		*count = total;
	return 0;
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

/* A growing array of column 0 values (db_each callbacks below). */
struct col_list {
	void *v;
	size_t len, cap;
};

static void *col_list_slot(struct col_list *l, size_t size)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = dgen_xrealloc(l->v, l->cap * size);
	}
	return (char *)l->v + l->len++ * size;
}

static void add_text(struct dgen_stmt *st, void *arg)
{
	const char *s = db_col_text(st, 0);

	*(char **)col_list_slot(arg, sizeof(char *)) = dgen_xstrdup(s ? s : "");
}

static void add_int(struct dgen_stmt *st, void *arg)
{
	*(int64_t *)col_list_slot(arg, sizeof(int64_t)) = db_col_int(st, 0);
}

int queue_running_runners(struct dgen_db *db, char ***ids, size_t *n, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_Q_RUNNING_RUNNERS, err, "");
	struct col_list l = { 0 };

	*ids = NULL;
	*n = 0;
	if (!st)
		return -1;
	if (db_each(db, st, add_text, &l, err) < 0) {
		for (size_t i = 0; i < l.len; i++)
			free(((char **)l.v)[i]);
		free(l.v);
		return -1;
	}
	*ids = l.v;
	*n = l.len;
	return 0;
}

/* Steps st (NULL: its db_query failed) to the end, each row added by row
 * to a malloc'd array: *out and *n (NULL and 0 on error or no row). Rows
 * must own nothing (the array alone is freed on error). */
static int collect(struct dgen_db *db, struct dgen_stmt *st, void (*row)(struct dgen_stmt *, void *),
		   void **out, size_t *n, struct dgen_err *err)
{
	struct col_list l = { 0 };

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	if (db_each(db, st, row, &l, err) < 0) {
		free(l.v);
		return -1;
	}
	*out = l.v;
	*n = l.len;
	return 0;
}

int queue_done_units(struct dgen_db *db, int64_t job_id, int64_t **units, size_t *n,
		     struct dgen_err *err)
{
	return collect(db, db_query(db, STMT_Q_DONE_UNITS, err, "i", job_id), add_int,
		       (void **)units, n, err);
}

/*
 * Inside the caller's transaction: writes down the start of unit u of t's
 * job, under a claim that is still runner_id's, and at t's first start
 * that the claim got past planning. Nothing else in the transaction moves
 * the job's runner, status or attempts, so whether the claim is still
 * ours is read at the first start and holds for the rest (a start under a
 * lost claim writes nothing), and count_tally, when it runs, sets
 * attempts itself. Each start is then a plain INSERT ... VALUES: an
 * INSERT ... SELECT of the job row makes sqlite keep a statement journal.
 */
int queue_tally_start(struct dgen_db *db, struct queue_tally *t, const char *runner_id,
		      const struct dgen_unit_start *u, struct dgen_err *err)
{
	if (t->starts == 0) {
		struct dgen_stmt *st = db_query(db, STMT_Q_JOB_HELD, err, "is", t->job_id,
						runner_id);
		int rc;

		if (!st || (rc = db_step_one(db, st, err)) < 0)
			return -1;
		db_reset(st);
		t->held = rc > 0;
		if (t->held &&
		    db_run(db, STMT_Q_UNIT_STARTED_JOB, err, "is", t->job_id, runner_id) < 0)
			return -1;
	}
	if (t->held && db_run(db, STMT_Q_UNIT_START, err, "iiiius", t->job_id, u->unit,
			      u->seed_index, u->repetition, u->chunk_index, runner_id) < 0)
		return -1;
	t->starts++;
	t->started_after = true;
	return 0;
}

/* A lone start: a batch of one. */
int queue_start_unit(struct dgen_db *db, int64_t job_id, const char *runner_id,
		     const struct dgen_unit_start *u, struct dgen_err *err)
{
	struct queue_tally t = { .job_id = job_id };

	if (db_begin(db, err) < 0)
		return -1;
	return db_end(db, queue_tally_start(db, &t, runner_id, u, err), err);
}

static void add_suspect(struct dgen_stmt *st, void *arg)
{
	struct dgen_suspect *s = col_list_slot(arg, sizeof(*s));

	s->unit = db_col_int(st, 0);
	s->deaths = (int)db_col_int(st, 1);
}

int queue_suspects(struct dgen_db *db, int64_t job_id, struct dgen_suspect **out, size_t *n,
		   struct dgen_err *err)
{
	return collect(db, db_query(db, STMT_Q_SUSPECTS, err, "i", job_id), add_suspect,
		       (void **)out, n, err);
}

/* Steps st (NULL: its db_query failed), which answers the COUNTER_COLS
 * of job_id, into c. */
static int step_counters(struct dgen_db *db, struct dgen_stmt *st, int64_t job_id,
			 struct dgen_job_counters *c, struct dgen_err *err)
{
	if (!st || db_step_row(db, st, "Job", "job_id", job_id, err) < 0)
		return -1;
	read_counters(st, 0, c);
	db_reset(st);
	return 0;
}

/* Reads the job's counters inside the caller's transaction. */
static int counters_now(struct dgen_db *db, int64_t job_id, struct dgen_job_counters *c,
			struct dgen_err *err)
{
	return step_counters(db, db_query(db, STMT_Q_COUNTERS, err, "i", job_id), job_id, c, err);
}

/* What a record of a job takes from the job row (owner_id 0: none). */
struct record_source {
	int64_t pipeline_id, owner_id;
};

/* Inside the transaction: the job's part of a record of unit into *src;
 * 1 found, 0 when the job is gone or the unit is a failure already (no
 * record then), -1 on error. */
static int record_source(struct dgen_db *db, int64_t job_id, int64_t unit,
			 struct record_source *src, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_Q_RECORD_SOURCE, err, "ii", job_id, unit);
	int rc;

	if (!st || (rc = db_step_one(db, st, err)) <= 0)
		return st ? rc : -1;
	src->pipeline_id = db_col_int(st, 0);
	src->owner_id = db_col_is_null(st, 1) ? 0 : db_col_int(st, 1);
	db_reset(st);
	return 1;
}

/* Inside the transaction: stores the record or the failure of unit r.
 * The rows inserted: 0 when the unit was stored already (or the job is
 * gone), -1 on error. */
static int64_t insert_unit(struct dgen_db *db, int64_t job_id, const struct dgen_unit_result *r,
			   struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	struct dgen_buf usage = DGEN_BUF_INIT;
	struct record_source src;
	int64_t n;
	int rc;

	db_now(now);
	if (r->failed)
		return db_run(db, STMT_Q_FAILURE_INSERT, err, "iiiiusksss", job_id, r->unit,
			      r->seed_index, r->repetition, r->chunk_index, r->block_type,
			      r->step, r->error ? r->error : "unknown error", r->trace, now);
	if ((rc = record_source(db, job_id, r->unit, &src, err)) <= 0)
		return rc;
	/* written as text: a json-c object made only to be printed costs
	 * more than the rest of the insert's own code */
	dgen_buf_reserve(&usage, 120);
	cost_usage_put(&usage, r->input_tokens, r->output_tokens, r->cached_tokens, &r->cost);
	n = db_run(db, STMT_Q_RECORD_INSERT, err, "iiiiusssssssik", job_id, r->unit,
		   r->seed_index, r->repetition, r->chunk_index, r->output ? r->output : "",
		   r->metadata ? r->metadata : "{}",
		   r->accumulated_state ? r->accumulated_state : "{}", r->trace, r->trace_id,
		   now, dgen_buf_str(&usage), src.pipeline_id, src.owner_id);
	dgen_buf_free(&usage);
	return n;
}

/* Inside the transaction: moves t's job's counters by t's sums, in one
 * UPDATE, and reads them into *c. */
static int count_tally(struct dgen_db *db, const struct queue_tally *t,
		       struct dgen_job_counters *c, struct dgen_err *err)
{
	const struct dgen_cost *k = &t->cost;
	struct dgen_stmt *st = db_query(db, STMT_Q_COUNT_UNIT, err, "iiiiiisiidsi", t->job_id,
				    t->generated, t->failed, t->input_tokens,
				    t->output_tokens, t->cached_tokens, t->current_block,
				    t->current_step, (int64_t)k->state,
				    k->state == DGEN_COST_KNOWN ? k->amount : 0.0,
				    k->state == DGEN_COST_KNOWN ? k->currency : NULL,
				    (int64_t)(t->started_after ? 0 : 1));

	return step_counters(db, st, t->job_id, c, err);
}

/* Adds unit r, just inserted, to t's sums: what counting it alone would
 * have done, the last progress shown winning. */
static void tally_add(struct queue_tally *t, const struct dgen_unit_result *r)
{
	t->units++;
	if (r->failed)
		t->failed++;
	else
		t->generated++;
	t->input_tokens += r->input_tokens;
	t->output_tokens += r->output_tokens;
	t->cached_tokens += r->cached_tokens;
	cost_add(&t->cost, &r->cost);
	if (r->current_block) {
		t->current_block = r->current_block;
		t->current_step = r->current_step;
	}
	t->started_after = false;
}

/* Inside the transaction: stores unit r; *inserted tells whether it was
 * new (0 also when the job is gone: counting tells). */
static int store_unit(struct dgen_db *db, int64_t job_id, const struct dgen_unit_result *r,
		      bool *inserted, struct dgen_err *err)
{
	int64_t n = insert_unit(db, job_id, r, err);

	if (n < 0 || db_run(db, STMT_Q_UNIT_DONE, err, "ii", job_id, r->unit) < 0)
		return -1;
	*inserted = n > 0;
	return 0;
}

static int finish_unit(struct dgen_db *db, int64_t job_id, const struct dgen_unit_result *r,
		       bool *inserted, struct dgen_job_counters *c, struct dgen_err *err)
{
	struct queue_tally t = { .job_id = job_id };

	if (store_unit(db, job_id, r, inserted, err) < 0)
		return -1;
	/* Already stored (or the job is gone: counters_now tells). */
	if (!*inserted)
		return counters_now(db, job_id, c, err);
	tally_add(&t, r);
	return count_tally(db, &t, c, err);
}

int queue_tally_unit(struct dgen_db *db, struct queue_tally *t, const struct dgen_unit_result *r,
		     bool *inserted, struct dgen_err *err)
{
	bool ins = false;

	if (store_unit(db, t->job_id, r, &ins, err) < 0)
		return -1;
	if (ins)
		tally_add(t, r);
	if (inserted)
		*inserted = ins;
	return 0;
}

int queue_tally_count(struct dgen_db *db, const struct queue_tally *t,
		      struct dgen_job_counters *after, struct dgen_err *err)
{
	struct dgen_job_counters c = { 0 };
	int rc = t->units > 0 ? count_tally(db, t, &c, err) : counters_now(db, t->job_id, &c, err);

	if (rc == 0 && after)
		*after = c;
	return rc;
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
	bool ins = false;

	if (inserted)
		*inserted = false;
	if (db_begin(db, err) < 0 ||
	    db_end(db, finish_unit(db, job_id, r, &ins, &c, err), err) < 0)
		return -1;
	if (inserted)
		*inserted = ins;
	if (after)
		*after = c;
	return 0;
}

int queue_set_total(struct dgen_db *db, int64_t job_id, int64_t total_seeds,
		    struct dgen_err *err)
{
	return changed(db_write(db, STMT_Q_SET_TOTAL, err, "ii", job_id, total_seeds), job_id,
		       err);
}

int queue_progress(struct dgen_db *db, int64_t job_id, const char *current_block,
		   int64_t current_step, struct dgen_err *err)
{
	return changed(db_write(db, STMT_Q_PROGRESS, err, "isi", job_id, current_block,
				current_step),
		       job_id, err);
}

int queue_progress_note(struct dgen_db *db, int64_t job_id, const char *current_block,
			const char *note, struct dgen_err *err)
{
	return changed(db_write(db, STMT_Q_PROGRESS, err, "iss", job_id, current_block, note),
		       job_id, err);
}

int queue_finish_job(struct dgen_db *db, int64_t job_id, enum dgen_job_status status,
		     const char *error, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];

	if (status != DGEN_JOB_COMPLETED && status != DGEN_JOB_FAILED &&
	    status != DGEN_JOB_CANCELLED && status != DGEN_JOB_STOPPED)
		return dgen_err_set(err, DGEN_EINTERNAL, "A job cannot end as '%s'",
				    jobs_status_name(status) ? jobs_status_name(status) : "?");
	db_now(now);
	return flag(db_write(db, STMT_Q_FINISH_JOB, err, "isss", job_id,
			     jobs_status_name(status), error, now));
}

int queue_should_stop(struct dgen_db *db, int64_t job_id, bool *stop, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_JOB_STATE, err, "ik", job_id, (int64_t)0);
	const char *s;
	int rc;

	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	*stop = true;
	if (rc) {
		s = db_col_text(st, 0);
		*stop = db_col_int(st, 1) != 0 || !s || strcmp(s, "running") != 0;
		db_reset(st);
	}
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
	char now[DGEN_ISO_LEN], day_ago[DGEN_ISO_LEN];

	db_now(now);
	if (db_write(db, STMT_Q_HEARTBEAT, err, "siss", runner_id, (int64_t)pid, hostname,
		     now) < 0)
		return -1;
	/* Every restart is a new runner id: forget those silent for a day. */
	dgen_clock_iso(dgen_clock_now_ms() - 86400000LL, day_ago);
	return db_write(db, STMT_Q_RUNNERS_PRUNE, err, "s", day_ago) < 0 ? -1 : 0;
}

int queue_other_runners(struct dgen_db *db, const char *runner_id, int alive_within_s,
			int64_t *n, struct dgen_err *err)
{
	char since[DGEN_ISO_LEN];
	struct dgen_stmt *st;
	int rc;

	dgen_clock_iso(dgen_clock_now_ms() - (int64_t)alive_within_s * 1000, since);
	st = db_query(db, STMT_Q_RUNNERS_OTHERS, err, "ss", since, runner_id);
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	*n = rc ? db_col_int(st, 0) : 0;
	db_reset(st);
	return 0;
}

/* ISO 8601 text of one fixed format sorts like time, so "alive" is a
 * string comparison against now minus the window. */
int queue_runner_status(struct dgen_db *db, int alive_within_s, bool *alive,
			char last_seen[DGEN_ISO_LEN], struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_Q_RUNNER_LAST, err, "");
	char since[DGEN_ISO_LEN];
	const char *s;
	int rc;

	*alive = false;
	last_seen[0] = '\0';
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	s = rc ? db_col_text(st, 0) : NULL;
	if (s) {
		snprintf(last_seen, DGEN_ISO_LEN, "%s", s);
		dgen_clock_iso(dgen_clock_now_ms() - (int64_t)alive_within_s * 1000, since);
		*alive = strcmp(last_seen, since) >= 0;
	}
	db_reset(st);
	return 0;
}
