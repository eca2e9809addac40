/*
 * test_jobs.c - jobs as the API sees them: the job JSON, idempotency,
 * listing, the active job, cancel in every state, failures and retry.
 */
#include "store_test.h"

static const char *sget(struct json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

static int64_t iget(struct json_object *o, const char *k)
{
	return json_object_get_int64(json_object_object_get(o, k));
}

/* The job object has exactly the SPEC.md §3 keys and sane values. */
static void test_json_shape(struct dgen_db *db, int64_t pid)
{
	static const char *const keys[] = {
		"id", "pipeline_id", "status", "total_seeds", "current_seed",
		"records_generated", "records_failed", "progress", "current_block",
		"current_step", "error", "usage", "created_at", "started_at", "completed_at",
	};
	static const char *const ukeys[] = {
		"total_tokens", "total_input_tokens", "total_output_tokens",
		"total_cached_tokens", "start_time", "end_time",
	};
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL, *u, *v;
	int64_t id = st_job(db, pid, NULL);
	size_t i;
	bool all = true;

	ok(jobs_get(db, NULL, id, &o, &err) == 0, "get");
	for (i = 0; i < DGEN_ARRAY_LEN(keys); i++)
		all = all && json_object_object_get_ex(o, keys[i], NULL);
	ok(all && (size_t)json_object_object_length(o) == DGEN_ARRAY_LEN(keys),
	   "job JSON has exactly the SPEC keys");
	u = json_object_object_get(o, "usage");
	for (all = true, i = 0; i < DGEN_ARRAY_LEN(ukeys); i++)
		all = all && json_object_object_get_ex(u, ukeys[i], NULL);
	ok(all, "usage has the SPEC keys");
	is_str(sget(o, "status"), "queued", "new job is queued");
	is_int(iget(o, "pipeline_id"), pid, "pipeline id");
	is_int(iget(o, "total_seeds"), 2, "total seeds as inserted");
	ok(json_object_is_type(json_object_object_get(o, "progress"), json_type_double) &&
	   json_object_get_double(json_object_object_get(o, "progress")) == 0.0, "progress 0");
	ok(json_object_object_get_ex(o, "started_at", &v) && v == NULL, "not started yet");
	json_object_put(o);

	/* counters move the progress */
	st_record(db, id, 0, "x");
	ok(jobs_get(db, NULL, id, &o, &err) == 0, "get after one unit");
	is_dbl(json_object_get_double(json_object_object_get(o, "progress")), 0.5, 1e-9,
	       "one of two units done: progress 0.5");
	u = json_object_object_get(o, "usage");
	is_int(iget(u, "total_tokens"), 15, "total tokens = input + output");
	is_int(iget(u, "total_input_tokens"), 10, "input tokens");
	is_int(iget(o, "records_generated"), 1, "one record generated");
	json_object_put(o);
	ok(jobs_get(db, NULL, 424242, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "unknown job: 404");
	dgen_err_clear(&err);
}

static void test_insert(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_job_new j = {
		.pipeline_id = pid, .input_kind = DGEN_INPUT_MARKDOWN,
		.input = "# Title\ntext", .input_len = 12, .idempotency_key = "key-1",
	};
	int64_t a = 0, b = 0;
	bool existed = true;

	ok(jobs_insert(db, NULL, &j, &a, &existed, &err) == 0 && !existed, "insert with a key");
	ok(jobs_insert(db, NULL, &j, &b, &existed, &err) == 0 && existed, "same key again");
	is_int(b, a, "a repeated idempotency key returns the same job");
	j.idempotency_key = "key-2";
	ok(jobs_insert(db, NULL, &j, &b, &existed, &err) == 0 && !existed && b != a,
	   "another key makes another job");
	j.idempotency_key = NULL;
	ok(jobs_insert(db, NULL, &j, &a, NULL, &err) == 0 && jobs_insert(db, NULL, &j, &b, NULL, &err) == 0 &&
	   a != b, "no key: every insert is a new job");
	j.pipeline_id = 987654;
	ok(jobs_insert(db, NULL, &j, &a, NULL, &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "unknown pipeline: 404");
	ok(strstr(err.msg, "987654") != NULL, "message names the pipeline: %s", err.msg);
	dgen_err_clear(&err);
}

static void test_list_active(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_job_filter f = { 0 };
	struct json_object *arr = NULL, *o = NULL;
	struct dgen_claim c;
	int64_t p1 = st_pipeline(db, "l1"), p2 = st_pipeline(db, "l2");
	int64_t a = st_job(db, p1, NULL), b = st_job(db, p2, NULL), cjob = st_job(db, p1, NULL);
	size_t i;
	bool desc = true;

	f.pipeline_id = p1;
	ok(jobs_list(db, NULL, &f, &arr, &err) == 0, "list by pipeline");
	is_int(json_object_array_length(arr), 2, "two jobs of p1");
	is_int(iget(json_object_array_get_idx(arr, 0), "id"), cjob, "newest first");
	is_int(iget(json_object_array_get_idx(arr, 1), "id"), a, "then older");
	json_object_put(arr);

	f.pipeline_id = 0;
	f.limit = 2;
	ok(jobs_list(db, NULL, &f, &arr, &err) == 0, "list with limit");
	is_int(json_object_array_length(arr), 2, "limit honoured");
	json_object_put(arr);
	f.limit = 0;
	ok(jobs_list(db, NULL, &f, &arr, &err) == 0, "list all");
	for (i = 1; i < json_object_array_length(arr); i++)
		desc = desc && iget(json_object_array_get_idx(arr, i - 1), "id") >
			       iget(json_object_array_get_idx(arr, i), "id");
	ok(desc, "whole list newest first");
	json_object_put(arr);

	ok(jobs_active(db, NULL, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "no active job: 404");
	dgen_err_clear(&err);
	/* claim everything queued: the first claimed is the oldest */
	while (queue_claim(db, "r1", 60000, &c, &err) == 1)
		queue_claim_free(&c);
	ok(jobs_active(db, NULL, &o, &err) == 0, "an active job now");
	f.status = DGEN_JOB_RUNNING;
	ok(jobs_list(db, NULL, &f, &arr, &err) == 0, "list running");
	ok(json_object_array_length(arr) >= 3, "all claimed jobs are running");
	is_int(iget(o, "id"), iget(json_object_array_get_idx(arr, json_object_array_length(arr) - 1), "id"),
	       "active = the running job started first");
	json_object_put(arr);
	json_object_put(o);
	f.status = DGEN_JOB_QUEUED;
	ok(jobs_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 0,
	   "status filter: nothing queued");
	json_object_put(arr);
	(void)b;
}

static void test_cancel(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL;
	struct dgen_claim c;
	enum dgen_job_status now = DGEN_JOB_ANY;
	int64_t q = st_job(db, pid, NULL), r;
	bool stop = false;

	ok(jobs_cancel(db, NULL, q, &now, &err) == 0 && now == DGEN_JOB_CANCELLED,
	   "a queued job is cancelled at once");
	ok(jobs_get(db, NULL, q, &o, &err) == 0, "get");
	is_str(sget(o, "status"), "cancelled", "status cancelled");
	ok(sget(o, "completed_at") != NULL, "completed_at set");
	json_object_put(o);
	ok(jobs_cancel(db, NULL, q, &now, &err) < 0 && err.code == DGEN_ECONFLICT,
	   "cancelling a finished job is a conflict (409)");
	dgen_err_clear(&err);

	r = st_job(db, pid, NULL);
	ok(queue_claim(db, "r1", 60000, &c, &err) == 1 && c.job_id == r, "claim it");
	queue_claim_free(&c);
	ok(jobs_cancel(db, NULL, r, &now, &err) == 0 && now == DGEN_JOB_RUNNING,
	   "a running job gets the cancel flag");
	ok(jobs_get(db, NULL, r, &o, &err) == 0, "get");
	is_str(sget(o, "status"), "running", "it keeps running until the runner stops it");
	json_object_put(o);
	ok(queue_should_stop(db, r, &stop, &err) == 0 && stop, "the runner sees the flag");
	ok(queue_finish_job(db, r, DGEN_JOB_CANCELLED, NULL, &err) == 1, "runner ends it cancelled");
	ok(jobs_cancel(db, NULL, r, NULL, &err) < 0 && err.code == DGEN_ECONFLICT, "then cancel is 409");
	dgen_err_clear(&err);
	ok(jobs_cancel(db, NULL, 777777, NULL, &err) < 0 && err.code == DGEN_ENOTFOUND, "unknown: 404");
	dgen_err_clear(&err);

	ok(jobs_delete(db, NULL, r, &err) == 0, "delete");
	ok(jobs_get(db, NULL, r, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "deleted job is gone");
	dgen_err_clear(&err);
	ok(jobs_delete(db, NULL, r, &err) < 0 && err.code == DGEN_ENOTFOUND, "delete again: 404");
	dgen_err_clear(&err);
}

static void test_failures_retry(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *arr = NULL, *o, *units;
	struct dgen_claim c;
	struct dgen_unit_result f = {
		.seed_index = 1, .repetition = 1, .chunk_index = -1, .failed = true,
		.block_type = "JSONValidatorBlock", .step = 2, .error = "Invalid JSON",
		.trace = "[{\"block_type\":\"TextGenerator\"}]",
	};
	int64_t j = st_job(db, pid, NULL), nj = 0, again = 0;
	bool existed = true;

	ok(jobs_failures(db, NULL, j, &arr, &err) == 0 && json_object_array_length(arr) == 0,
	   "no failures yet");
	json_object_put(arr);
	ok(jobs_retry_failed(db, NULL, j, NULL, &nj, NULL, &err) < 0 && err.code == DGEN_ECONFLICT,
	   "retry without failures: 409");
	dgen_err_clear(&err);

	st_record(db, j, 0, "fine");
	f.unit = 3;
	ok(queue_finish_unit(db, j, &f, NULL, NULL, &err) == 0, "failure of unit 3");
	f.unit = 2, f.seed_index = 1, f.repetition = 0, f.chunk_index = 4;
	ok(queue_finish_unit(db, j, &f, NULL, NULL, &err) == 0, "failure of unit 2");

	ok(jobs_failures(db, NULL, j, &arr, &err) == 0, "failures");
	is_int(json_object_array_length(arr), 2, "two failures");
	o = json_object_array_get_idx(arr, 0);
	is_int(iget(o, "seed_index"), 1, "seed_index");
	is_int(iget(o, "repetition"), 0, "unit order: unit 2 first");
	is_int(iget(o, "chunk_index"), 4, "chunk_index");
	is_str(sget(o, "block_type"), "JSONValidatorBlock", "block_type");
	is_int(iget(o, "step"), 2, "step");
	is_str(sget(o, "error"), "Invalid JSON", "error");
	ok(json_object_is_type(json_object_object_get(o, "trace"), json_type_array),
	   "trace comes back as JSON");
	ok(json_object_object_get(json_object_array_get_idx(arr, 1), "chunk_index") == NULL,
	   "no chunk: null");
	json_object_put(arr);
	ok(jobs_get(db, NULL, j, &o, &err) == 0, "job");
	is_int(iget(o, "records_failed"), 2, "records_failed counted");
	is_int(iget(o, "current_seed"), 3, "current_seed counts records and failures");
	json_object_put(o);

	ok(jobs_retry_failed(db, NULL, j, "retry-1", &nj, &existed, &err) == 0 && !existed,
	   "retry the failed units");
	ok(jobs_retry_failed(db, NULL, j, "retry-1", &again, &existed, &err) == 0 && existed &&
	   again == nj, "a retried retry with the same key gives the same job");
	ok(jobs_get(db, NULL, nj, &o, &err) == 0, "the retry job");
	is_str(sget(o, "status"), "queued", "queued");
	is_int(iget(o, "total_seeds"), 2, "its total is the number of failed units");
	json_object_put(o);

	/* the runner gets the unit list and the original input */
	while (queue_claim(db, "r2", 60000, &c, &err) == 1) {
		if (c.job_id == nj)
			break;
		queue_claim_free(&c);
	}
	ok(c.job_id == nj, "claimed the retry job");
	units = c.units ? json_tokener_parse(c.units) : NULL;
	is_int(json_object_array_length(units), 2, "two unit descriptors");
	o = json_object_array_get_idx(units, 0);
	is_int(iget(o, "unit"), 2, "descriptor: unit");
	is_int(iget(o, "seed_index"), 1, "descriptor: seed_index");
	is_int(iget(o, "repetition"), 0, "descriptor: repetition");
	is_int(iget(o, "chunk_index"), 4, "descriptor: chunk_index");
	ok(c.input && strstr(c.input, "repetitions") != NULL, "input copied from the original job");
	json_object_put(units);
	queue_claim_free(&c);
	ok(jobs_failures(db, NULL, 555555, &arr, &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "failures of an unknown job: 404");
	dgen_err_clear(&err);
}

/* Optional columns of a failure: chunk 0 is a chunk (not "no chunk"), and
 * a failure outside any block has no step and no block type. */
static void test_failure_optional_columns(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *arr = NULL, *o;
	struct dgen_unit_result f = {
		.unit = 0, .chunk_index = 0, .failed = true, .step = 0, .error = NULL,
	};
	int64_t j = st_job(db, pid, NULL);

	ok(queue_finish_unit(db, j, &f, NULL, NULL, &err) == 0, "failure before any block");
	ok(jobs_failures(db, NULL, j, &arr, &err) == 0 && json_object_array_length(arr) == 1,
	   "one failure");
	o = json_object_array_get_idx(arr, 0);
	ok(json_object_object_get(o, "chunk_index") != NULL && iget(o, "chunk_index") == 0,
	   "chunk 0 is stored as 0");
	ok(json_object_object_get(o, "step") == NULL, "no step: null");
	ok(json_object_object_get(o, "block_type") == NULL, "no block type: null");
	is_str(sget(o, "error"), "unknown error", "a failure without a message says so");
	json_object_put(arr);
	ok(jobs_failures(db, NULL, 999999, &arr, &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "failures of an unknown job: not found");
	dgen_err_clear(&err);
}

/* K processes POST the same idempotency key at once: one job, every one
 * of them answered with it, none with an error. */
static void test_idem_race(int64_t pid)
{
	enum { K = 8 };
	int fds[2], gate[2];
	int64_t ids[K], id;
	pid_t kids[K];
	int k, good = 0, same = 0;

	if (pipe(fds) != 0)
		return;
	st_gate_open(gate);
	for (k = 0; k < K; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			struct dgen_db *cdb = st_open("j.db");

			close(fds[0]);
			st_gate_wait(gate);
			id = st_job(cdb, pid, "the-same-key");
			db_close(cdb);
			_exit(write(fds[1], &id, sizeof id) == sizeof id ? 0 : 1);
		}
	}
	close(fds[1]);
	sleep(1); /* every child connected */
	st_gate_go(gate);
	for (k = 0; k < K; k++)
		good += st_wait_ok(kids[k]);
	for (k = 0; k < K && read(fds[0], &ids[k], sizeof ids[k]) == sizeof ids[k]; k++)
		same += ids[k] == ids[0];
	close(fds[0]);
	is_int(good, K, "racing inserts with one key all succeed");
	is_int(same, K, "and all name the same job");
}

static void test_status_names(void)
{
	enum dgen_job_status s;

	ok(jobs_status_parse("stopped", &s) == 0 && s == DGEN_JOB_STOPPED, "parse stopped");
	ok(jobs_status_parse("bogus", &s) < 0, "unknown status refused");
	ok(jobs_status_name(DGEN_JOB_ANY) == NULL, "'any' has no name");
	is_str(jobs_status_name(DGEN_JOB_QUEUED), "queued", "queued name");
}

int main(void)
{
	struct dgen_db *db;
	int64_t pid;

	st_setup();
	db = st_open("j.db");
	pid = st_pipeline(db, "jobs");
	test_status_names();
	test_json_shape(db, pid);
	test_insert(db, pid);
	test_list_active(db);
	test_cancel(db, pid);
	test_failures_retry(db, pid);
	test_failure_optional_columns(db, pid);
	test_idem_race(pid);
	st_integrity(db);
	db_close(db);
	st_teardown();
	return done_testing();
}
