/*
 * test_queue.c - the queue protocol: claim races between processes, lease
 * renewal and expiry, rescue, cancel never resurrected, exactly-once units
 * under re-runs and concurrent writers, release, finish, heartbeat, and
 * blame for a runner's death going to the units it had in flight.
 */
#include <sys/stat.h>
#include <time.h>

#include "dgen/records.h"
#include "store_test.h"

static const char *sget(struct json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

static void expire_lease(struct dgen_db *db, int64_t job)
{
	char *sql = dgen_xasprintf("UPDATE jobs SET lease_expires_at = %lld WHERE id = %lld",
				   (long long)(dgen_clock_now_ms() - 1000), (long long)job);

	st_exec(db, sql);
	free(sql);
}

static const char *job_status(struct dgen_db *db, int64_t id)
{
	static char buf[32];
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL;

	if (jobs_get(db, NULL, id, &o, &err) < 0)
		return "(gone)";
	snprintf(buf, sizeof(buf), "%s", sget(o, "status"));
	json_object_put(o);
	return buf;
}

/* The job's current_step as JSON text. */
static const char *job_step(struct dgen_db *db, int64_t id)
{
	static char buf[64];
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL, *v = NULL;

	if (jobs_get(db, NULL, id, &o, &err) < 0)
		return "(gone)";
	json_object_object_get_ex(o, "current_step", &v);
	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string(v));
	json_object_put(o);
	return buf;
}

/* K processes claim from 200 queued jobs at once: each job is claimed by
 * exactly one of them and every job is claimed. */
static void test_claim_race(void)
{
	enum { JOBS = 200, K = 3 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_job_filter f = { 0 };
	struct json_object *arr = NULL;
	struct dgen_db *db = st_open("race.db");
	static int seen[JOBS + 1];
	int64_t first = 0, id, pid = st_pipeline(db, "race");
	int fds[K][2], k, i, dups = 0, claimed = 0, good = 0;
	pid_t pids[K];

	for (i = 0; i < JOBS; i++) {
		id = st_job(db, pid, NULL);
		if (i == 0)
			first = id;
	}
	db_close(db);
	for (k = 0; k < K; k++) {
		if (pipe(fds[k]) < 0)
			exit(1);
		pids[k] = fork();
		if (pids[k] == 0) {
			struct dgen_db *cdb = st_open("race.db");
			struct dgen_err cerr = DGEN_ERR_INIT;
			struct dgen_claim c;
			char runner[16];
			int rc;

			snprintf(runner, sizeof(runner), "runner-%d", k);
			while ((rc = queue_claim(cdb, runner, 60000, &c, &cerr)) == 1) {
				if (write(fds[k][1], &c.job_id, sizeof(c.job_id)) != sizeof(c.job_id) ||
				    c.attempts != 1 || !c.definition)
					_exit(2);
				queue_claim_free(&c);
			}
			db_close(cdb);
			if (rc < 0)
				fprintf(stderr, "claimer %d: %s\n", k, cerr.msg);
			_exit(rc < 0 ? 1 : 0);
		}
		close(fds[k][1]);
	}
	for (k = 0; k < K; k++) {
		while (read(fds[k][0], &id, sizeof(id)) == sizeof(id)) {
			i = (int)(id - first + 1);
			if (i < 1 || i > JOBS)
				continue;
			if (seen[i]++)
				dups++;
			else
				claimed++;
		}
		close(fds[k][0]);
		good += st_wait_ok(pids[k]);
	}
	is_int(good, K, "every claimer finished without an error (no busy leaked)");
	is_int(dups, 0, "no job was claimed twice");
	is_int(claimed, JOBS, "every job was claimed");
	db = st_open("race.db");
	f.status = DGEN_JOB_QUEUED;
	ok(jobs_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 0,
	   "nothing left queued");
	json_object_put(arr);
	f.status = DGEN_JOB_RUNNING;
	f.limit = 1000;
	ok(jobs_list(db, NULL, &f, &arr, &err) == 0, "list running");
	is_int(json_object_array_length(arr), JOBS, "all running");
	json_object_put(arr);
	st_integrity(db);
	db_close(db);
}

static void test_claim_lease(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_claim c, c2;
	struct dgen_job_counters after;
	int64_t *units = NULL, n_rescued = 0, j = st_job(db, pid, NULL);
	size_t n = 0;
	char started[DGEN_ISO_LEN];
	bool inserted = true;
	struct dgen_unit_result again = {
		.unit = 0, .chunk_index = -1, .output = "second run", .input_tokens = 99,
	};

	ok(queue_claim(db, "A", 60000, &c, &err) == 1, "claim");
	is_int(c.job_id, j, "the queued job");
	is_int(c.pipeline_id, pid, "pipeline id");
	ok(c.definition && strstr(c.definition, "TextGenerator"), "definition text comes along");
	is_str(c.pipeline_name, "q", "pipeline name");
	ok(c.input_kind == DGEN_INPUT_JSON && c.input_len == strlen(c.input), "input");
	ok(c.units == NULL, "no unit list for a fresh job");
	is_int(c.attempts, 1, "first attempt");
	ok(c.lease_expires_at > dgen_clock_now_ms(), "lease in the future");
	is_int(c.counters.total_seeds, 2, "counters come along");
	memcpy(started, c.started_at, sizeof(started));
	queue_claim_free(&c);
	ok(queue_claim(db, "B", 60000, &c2, &err) == 0, "nothing else to claim");
	is_str(job_status(db, j), "running", "job running");

	ok(queue_renew(db, j, "A", 60000, &err) == 1, "owner renews its lease");
	ok(queue_renew(db, j, "B", 60000, &err) == 0, "another runner cannot renew it");

	ok(st_record(db, j, 0, "first run"), "unit 0 stored");
	ok(queue_rescue_expired(db, dgen_clock_now_ms(), 0, &n_rescued, &err) == 0 && n_rescued == 0,
	   "a live lease is not rescued");

	/* runner A dies: its lease runs out */
	expire_lease(db, j);
	ok(queue_rescue_expired(db, dgen_clock_now_ms(), 0, &n_rescued, &err) == 0, "rescue");
	is_int(n_rescued, 1, "one job rescued");
	is_str(job_status(db, j), "queued", "back in the queue");
	ok(queue_renew(db, j, "A", 60000, &err) == 0, "the dead runner's lease is gone");

	ok(queue_claim(db, "B", 60000, &c, &err) == 1 && c.job_id == j, "B claims it");
	is_int(c.attempts, 2, "second attempt");
	is_str(c.started_at, started, "started_at kept from the first claim");
	is_int(c.counters.records_generated, 1, "counters resume");
	queue_claim_free(&c);
	ok(queue_done_units(db, j, &units, &n, &err) == 0 && n == 1 && units[0] == 0,
	   "unit 0 is reported done, so B skips it");
	free(units);

	/* B re-runs unit 0 anyway: nothing changes */
	ok(queue_finish_unit(db, j, &again, &inserted, &after, &err) == 0, "finish unit 0 again");
	ok(!inserted, "the second finish of a unit is a no-op");
	is_int(after.current_seed, 1, "current_seed unchanged");
	is_int(after.records_generated, 1, "records_generated unchanged");
	is_int(after.input_tokens, 10, "usage not double counted");

	ok(queue_set_total(db, j, 5, &err) == 0, "set total");
	ok(queue_progress(db, j, "TextGenerator", 1, &err) == 0, "progress");
	ok(queue_progress_note(db, j, "TextGenerator", "rate limited, retrying in 3s", &err) == 0,
	   "a note as the step");
	is_str(job_step(db, j), "\"rate limited, retrying in 3s\"", "the job shows the note");
	ok(queue_progress(db, j, "TextGenerator", 2, &err) == 0, "a step number again");
	is_str(job_step(db, j), "2", "the job shows the number");
	ok(queue_counters(db, j, &after, &err) == 0 && after.total_seeds == 5, "total stored");
	ok(queue_finish_job(db, j, DGEN_JOB_COMPLETED, NULL, &err) == 1, "finish completed");
	ok(queue_finish_job(db, j, DGEN_JOB_FAILED, "x", &err) == 0, "a finished job is not re-finished");
	is_str(job_status(db, j), "completed", "completed");
	ok(queue_finish_job(db, j, DGEN_JOB_RUNNING, NULL, &err) < 0 && err.code == DGEN_EINTERNAL,
	   "'running' is not an end state");
	dgen_err_clear(&err);
	ok(queue_set_total(db, 987654, 1, &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "set total of unknown job: 404");
	dgen_err_clear(&err);
}

/* A cancelled job is never put back in the queue by a rescue. */
static void test_cancel_not_resurrected(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_claim c;
	int64_t j = st_job(db, pid, NULL), n = 0, q;

	ok(queue_claim(db, "A", 60000, &c, &err) == 1 && c.job_id == j, "claim");
	queue_claim_free(&c);
	ok(jobs_cancel(db, NULL, j, NULL, &err) == 0, "cancel while running");
	expire_lease(db, j);
	ok(queue_rescue_expired(db, dgen_clock_now_ms(), 0, &n, &err) == 0 && n == 1, "rescue");
	is_str(job_status(db, j), "cancelled", "the runner died after a cancel: cancelled");
	ok(queue_claim(db, "B", 60000, &c, &err) == 0, "nothing to claim");

	q = st_job(db, pid, NULL);
	ok(jobs_cancel(db, NULL, q, NULL, &err) == 0, "cancel a queued job");
	ok(queue_claim(db, "B", 60000, &c, &err) == 0, "a cancelled queued job is never claimed");
	ok(queue_rescue_expired(db, dgen_clock_now_ms() + 3600000, 0, &n, &err) == 0 && n == 0,
	   "rescue far in the future touches nothing");
	is_str(job_status(db, q), "cancelled", "still cancelled");
}

static void test_release_and_attempts(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_claim c;
	struct json_object *o = NULL;
	int64_t j = st_job(db, pid, NULL), n = 0;
	int i;

	ok(queue_claim(db, "A", 60000, &c, &err) == 1 && c.attempts == 1, "claim");
	queue_claim_free(&c);
	ok(queue_release(db, j, "B", &err) == 0, "another runner cannot release it");
	ok(queue_release(db, j, "A", &err) == 1, "owner releases it (SIGTERM)");
	is_str(job_status(db, j), "queued", "queued again");
	ok(queue_claim(db, "A", 60000, &c, &err) == 1, "claim again");
	is_int(c.attempts, 1, "a release does not count an attempt");
	queue_claim_free(&c);

	/* two more runner deaths, then the limit */
	for (i = 0; i < 2; i++) {
		expire_lease(db, j);
		queue_rescue_expired(db, dgen_clock_now_ms(), 3, &n, &err);
		ok(queue_claim(db, "A", 60000, &c, &err) == 1 && c.attempts == i + 2,
		   "reclaimed after death %d (attempt %d)", i + 1, i + 2);
		queue_claim_free(&c);
	}
	expire_lease(db, j);
	ok(queue_rescue_expired(db, dgen_clock_now_ms(), 3, &n, &err) == 0 && n == 1,
	   "rescue at the attempt limit");
	ok(jobs_get(db, NULL, j, &o, &err) == 0, "get");
	is_str(sget(o, "status"), "failed", "a job that kills its runner again and again fails");
	ok(sget(o, "error") && strstr(sget(o, "error"), "3 times"), "error says why: %s",
	   sget(o, "error"));
	json_object_put(o);

	/* release with the cancel flag set ends cancelled */
	j = st_job(db, pid, NULL);
	ok(queue_claim(db, "A", 60000, &c, &err) == 1 && c.job_id == j, "claim");
	queue_claim_free(&c);
	jobs_cancel(db, NULL, j, NULL, &err);
	ok(queue_release(db, j, "A", &err) == 1, "release a cancel-flagged job");
	is_str(job_status(db, j), "cancelled", "it ends cancelled, not queued");
}

/* The deaths of each suspect of job j, as "unit:deaths,..." */
static const char *suspects(struct dgen_db *db, int64_t j)
{
	static char buf[256];
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_suspect *s = NULL;
	size_t n = 0, len = 0;

	buf[0] = '\0';
	if (queue_suspects(db, j, &s, &n, &err) < 0)
		snprintf(buf, sizeof buf, "error %d", (int)err.code);
	for (size_t i = 0; i < n && len < sizeof buf - 32; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld:%d", i ? "," : "",
					(long long)s[i].unit, s[i].deaths);
	free(s);
	dgen_err_clear(&err);
	return buf;
}

/* One claim by runner, which starts the units listed (-1 ends the list),
 * then dies (its lease runs out and a rescue with limit 3 follows). */
static void claim_start_die(struct dgen_db *db, int64_t j, const char *runner,
			    const int64_t *units)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_claim c;
	int64_t n = 0;
	bool all = true;

	ok(queue_claim(db, runner, 60000, &c, &err) == 1 && c.job_id == j, "%s claims", runner);
	queue_claim_free(&c);
	for (; *units >= 0; units++) {
		struct dgen_unit_start u = { *units, *units, 0, -1 };

		all = all && queue_start_unit(db, j, runner, &u, &err) == 0;
	}
	ok(all, "%s starts its units", runner);
	expire_lease(db, j);
	ok(queue_rescue_expired(db, dgen_clock_now_ms(), 3, &n, &err) == 0 && n == 1,
	   "%s dies: its job is rescued", runner);
	dgen_err_clear(&err);
}

/*
 * Blame goes to units, not jobs: each death of a claim adds one to the
 * units it had started and not stored; a unit at the limit becomes a
 * failure naming why, counted, and the job goes back to the queue. A
 * release (SIGTERM) blames nobody; a start by a runner that lost the job
 * is not written; a job's end forgets its starts.
 */
static void test_unit_blame(struct dgen_db *db, int64_t pid)
{
	static const int64_t first[] = { 5, 6, 9, -1 }, only5[] = { 5, -1 }, none[] = { -1 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_claim c;
	struct json_object *o = NULL;
	struct dgen_unit_start u5 = { 5, 5, 0, -1 }, u6 = { 6, 6, 0, -1 };
	int64_t j = st_job(db, pid, NULL), n = 0;

	ok(queue_claim(db, "A", 60000, &c, &err) == 1 && c.job_id == j, "A claims");
	queue_claim_free(&c);
	for (const int64_t *u = first; *u >= 0; u++) {
		struct dgen_unit_start us = { *u, *u, 0, -1 };

		queue_start_unit(db, j, "A", &us, &err);
	}
	ok(st_record(db, j, 9, "done"), "A stores unit 9");
	expire_lease(db, j);
	ok(queue_rescue_expired(db, dgen_clock_now_ms(), 3, &n, &err) == 0 && n == 1, "A dies");
	is_str(suspects(db, j), "5:1,6:1", "the units in flight at A's death are suspects");
	is_str(job_status(db, j), "queued", "the job is queued again");

	claim_start_die(db, j, "B", only5);
	is_str(suspects(db, j), "5:2,6:1", "only the unit in flight at B's death is blamed");

	ok(queue_claim(db, "C", 60000, &c, &err) == 1, "C claims");
	queue_claim_free(&c);
	queue_start_unit(db, j, "C", &u5, &err);
	ok(queue_release(db, j, "C", &err) == 1, "C hands the job back (SIGTERM)");
	is_str(suspects(db, j), "5:2,6:1", "a release blames nobody");

	claim_start_die(db, j, "D", only5);
	is_str(job_status(db, j), "queued", "a unit at the limit does not fail its job");
	is_str(suspects(db, j), "6:1", "the unit at the limit is no longer a suspect");
	ok(jobs_get(db, NULL, j, &o, &err) == 0, "get");
	is_int(json_object_get_int64(json_object_object_get(o, "records_failed")), 1,
	       "the unit counts as failed");
	is_int(json_object_get_int64(json_object_object_get(o, "current_seed")), 2,
	       "finished units: the record and the failure");
	json_object_put(o);
	o = NULL;
	ok(jobs_failures(db, NULL, j, &o, &err) == 0 && json_object_array_length(o) == 1, "one failure");
	ok(o && json_object_array_length(o) == 1 &&
	   strstr(sget(json_object_array_get_idx(o, 0), "error"),
		  "stopped 3 times while running this unit"),
	   "the failure says why: %s",
	   o && json_object_array_length(o) ? sget(json_object_array_get_idx(o, 0), "error") : "");
	json_object_put(o);

	/* E holds the job; a start written by A, who lost it, is ignored. */
	ok(queue_claim(db, "E", 60000, &c, &err) == 1, "E claims");
	queue_claim_free(&c);
	ok(queue_start_unit(db, j, "A", &u6, &err) == 0, "a start by a runner that lost the job");
	expire_lease(db, j);
	queue_rescue_expired(db, dgen_clock_now_ms(), 3, &n, &err);
	is_str(suspects(db, j), "6:1", "... is not written, so E's death does not blame it");
	is_str(job_status(db, j), "queued", "the job goes on");

	/* Deaths with nothing started count against the job's planning only
	 * while no unit starts: a start resets it. */
	claim_start_die(db, j, "F", none);
	ok(queue_claim(db, "G", 60000, &c, &err) == 1, "G claims");
	ok(c.attempts == 3, "two deaths before a unit started: third attempt (%d)", c.attempts);
	queue_claim_free(&c);
	queue_start_unit(db, j, "G", &u6, &err);
	ok(st_record(db, j, 6, "done"), "G stores unit 6");
	is_str(suspects(db, j), "", "a stored unit is no longer a suspect");
	ok(queue_finish_job(db, j, DGEN_JOB_COMPLETED, NULL, &err) == 1, "G ends the job");
	is_str(job_status(db, j), "completed", "completed");
	dgen_err_clear(&err);
}

/*
 * A group's death blames no one: units at the limit that were in flight
 * together are split into smaller groups by the runner, and only a unit
 * that dies alone at the limit becomes a failure.
 */
/* The job's records_failed counter, as the API shows it (-1: no job). */
static int64_t records_failed(struct dgen_db *db, int64_t job)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL;
	int64_t n = -1;

	if (jobs_get(db, NULL, job, &o, &err) == 0)
		n = json_object_get_int64(json_object_object_get(o, "records_failed"));
	json_object_put(o);
	dgen_err_clear(&err);
	return n;
}

static void test_group_blame(struct dgen_db *db, int64_t pid)
{
	static const int64_t both[] = { 1, 2, -1 }, one[] = { 1, -1 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL;
	struct dgen_claim c;
	int64_t j = st_job(db, pid, NULL);

	claim_start_die(db, j, "GA", both);
	claim_start_die(db, j, "GB", both);
	claim_start_die(db, j, "GC", both);
	is_str(suspects(db, j), "1:3,2:3", "two units at the limit, in flight together: no failure");
	ok(records_failed(db, j) == 0, "nothing counted as failed");
	claim_start_die(db, j, "GD", one);
	is_str(suspects(db, j), "2:3", "the one that died alone at the limit is no suspect any more");
	ok(records_failed(db, j) == 1, "... but a failure");
	ok(jobs_failures(db, NULL, j, &o, &err) == 0 && json_object_array_length(o) == 1 &&
	   strstr(sget(json_object_array_get_idx(o, 0), "error"), "stopped 4 times"),
	   "the failure is unit 1's, after its 4 deaths");
	json_object_put(o);
	ok(queue_claim(db, "GE", 60000, &c, &err) == 1 && c.job_id == j, "GE claims it");
	queue_claim_free(&c);
	ok(queue_finish_job(db, j, DGEN_JOB_COMPLETED, NULL, &err) == 1, "the job ends");
	dgen_err_clear(&err);
}

/* The starts of the runner's commit batches (queue_tally_start): written
 * while the claim is the writer's, with the job marked past planning, and
 * not at all once another runner holds the job. */
static int64_t starts_of(struct dgen_db *db, int64_t job, const char *runner)
{
	char *sql = dgen_xasprintf("SELECT count(*) FROM unit_starts WHERE job_id = %lld AND "
				   "runner_id = '%s'", (long long)job, runner);
	int64_t n = st_raw_int(db_path(db), sql);

	free(sql);
	return n;
}

static void tally_starts(struct dgen_db *db, int64_t job, const char *runner, int64_t from,
			 int n)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct queue_tally t = { .job_id = job };
	bool all = db_begin(db, &err) == 0;

	for (int i = 0; all && i < n; i++) {
		struct dgen_unit_start u = { from + i, from + i, 0, -1 };

		all = queue_tally_start(db, &t, runner, &u, &err) == 0;
	}
	all = all && db_commit(db, &err) == 0;
	ok(all, "%s's batch of %d starts commits %s", runner, n, err.msg);
	dgen_err_clear(&err);
}

static void test_tally_starts(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_claim c;
	int64_t j = st_job(db, pid, NULL), n = 0;
	char *attempts = dgen_xasprintf("SELECT attempts FROM jobs WHERE id = %lld", (long long)j);

	ok(queue_claim(db, "TA", 60000, &c, &err) == 1 && c.job_id == j, "TA claims");
	queue_claim_free(&c);
	is_int(st_raw_int(db_path(db), attempts), 1, "a first attempt");
	tally_starts(db, j, "TA", 0, 3);
	is_int(starts_of(db, j, "TA"), 3, "all three starts are written");
	is_int(st_raw_int(db_path(db), attempts), 0, "the claim is past planning");

	expire_lease(db, j);
	queue_rescue_expired(db, dgen_clock_now_ms(), 3, &n, &err);
	ok(queue_claim(db, "TB", 60000, &c, &err) == 1 && c.job_id == j, "TB takes the job over");
	queue_claim_free(&c);
	tally_starts(db, j, "TA", 10, 2);
	is_int(starts_of(db, j, "TA") + starts_of(db, j, "TB"), 0,
	       "TA, who lost the job, writes no start (and its old ones were let go)");
	tally_starts(db, j, "TB", 10, 2);
	is_int(starts_of(db, j, "TB"), 2, "TB's are written");
	ok(queue_finish_job(db, j, DGEN_JOB_COMPLETED, NULL, &err) == 1, "the job ends");
	free(attempts);
	dgen_err_clear(&err);
}

/* A claim that finishes a unit is making progress: its crash does not
 * count toward the poison limit. And a dead runner's jobs can be taken
 * back at once, whatever their lease. */
static void test_progress_and_dead_runner(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_claim c;
	char **ids = NULL;
	size_t n_ids = 0;
	int64_t j = st_job(db, pid, NULL), n = 0;

	for (int i = 0; i < 5; i++) {
		ok(queue_claim(db, "host:41", 60000, &c, &err) == 1 && c.job_id == j,
		   "claim %d", i + 1);
		ok(c.attempts <= 2, "after progress, a claim is at most the second attempt (%d)",
		   c.attempts);
		queue_claim_free(&c);
		ok(st_record(db, j, 100 + i, "progress"), "a unit finishes");
		ok(queue_running_runners(db, &ids, &n_ids, &err) == 0 && n_ids == 1 &&
		   strcmp(ids[0], "host:41") == 0, "the running runner is listed");
		for (size_t k = 0; k < n_ids; k++)
			free(ids[k]);
		free(ids);
		ok(queue_rescue_runner(db, "host:99", 3, &n, &err) == 0 && n == 0,
		   "another runner's rescue leaves the job alone");
		ok(queue_rescue_runner(db, "host:41", 3, &n, &err) == 0 && n == 1,
		   "the dead runner's job is taken back before its lease ends");
		is_str(job_status(db, j), "queued", "queued again after crash %d", i + 1);
	}
	ok(queue_claim(db, "host:41", 60000, &c, &err) == 1 && c.job_id == j, "claimed");
	queue_claim_free(&c);
	jobs_cancel(db, NULL, j, NULL, &err);
	ok(queue_rescue_runner(db, "host:41", 3, &n, &err) == 0 && n == 1, "rescue");
	is_str(job_status(db, j), "cancelled", "a cancelled job is not resurrected");
	dgen_err_clear(&err);
}

/* A large upload (here 5 MiB) is not rewritten by the counter update of
 * every finished unit: 50 finished units add under 4 MiB to the
 * write-ahead log as a few pages each (about 1.2 MiB for 50; the input in
 * the job row made it 240 KiB each), and the claim still hands the whole
 * input back. */
static void test_large_input(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	size_t n = 5u << 20;
	char *input = dgen_xmalloc(n + 1), *wal = dgen_xasprintf("%s-wal", db_path(db));
	struct dgen_job_new jn = { .pipeline_id = pid, .input_kind = DGEN_INPUT_JSON,
				   .input = input, .input_len = n, .total_seeds = 50 };
	struct dgen_claim c;
	struct stat sb;
	int64_t j = 0, grew;

	memset(input, ' ', n);
	memcpy(input, "[{\"metadata\":{}}]", 17);
	input[n] = '\0';
	ok(jobs_insert(db, NULL, &jn, &j, NULL, &err) == 0, "a job with a 5 MiB input");
	while (queue_claim(db, "big", 60000, &c, &err) == 1 && c.job_id != j)
		queue_claim_free(&c);
	ok(c.job_id == j && c.input_len == n && memcmp(c.input, input, 17) == 0,
	   "the claim carries the whole input");
	queue_claim_free(&c);
	/* the log is sqlite's WAL file; PostgreSQL keeps its own */
	if (!st_pg())
		st_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	for (int i = 0; i < 50; i++)
		st_record(db, j, i, "x");
	grew = stat(wal, &sb) == 0 ? (int64_t)sb.st_size : -1;
	if (!st_pg())
		ok(grew >= 0 && grew < (4 << 20),
		   "50 finished units wrote %lld bytes of log, not the input again",
		   (long long)grew);
	free(input);
	free(wal);
	dgen_err_clear(&err);
}

/* A unit is a record or a failure, never both, and a deleted job stops
 * the runner with 404. */
static void test_unit_key(struct dgen_db *db, int64_t pid)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_job_counters after;
	struct dgen_unit_result f = {
		.unit = 7, .seed_index = 3, .chunk_index = -1, .failed = true,
		.block_type = "TextGenerator", .step = 1, .error = "timeout", .input_tokens = 4,
	};
	int64_t j = st_job(db, pid, NULL), *units = NULL;
	size_t n = 0;
	bool inserted = false, stop = false;

	ok(queue_finish_unit(db, j, &f, &inserted, &after, &err) == 0 && inserted, "failure stored");
	is_int(after.records_failed, 1, "records_failed 1");
	is_int(after.input_tokens, 4, "failed unit's usage counted");
	ok(!st_record(db, j, 7, "late success"), "a record for a failed unit is not stored");
	ok(queue_finish_unit(db, j, &f, &inserted, &after, &err) == 0 && !inserted,
	   "a second failure of the unit is a no-op");
	is_int(after.current_seed, 1, "counted once");
	ok(st_record(db, j, 8, "ok"), "record for unit 8");
	f.unit = 8;
	ok(queue_finish_unit(db, j, &f, &inserted, &after, &err) == 0 && !inserted,
	   "a failure for a stored record is not stored");
	is_int(after.records_failed, 1, "records_failed unchanged");
	is_int(after.records_generated, 1, "records_generated 1");
	ok(queue_done_units(db, j, &units, &n, &err) == 0 && n == 2 && units[0] == 7 &&
	   units[1] == 8, "done units: records and failures, ascending");
	free(units);

	ok(jobs_delete(db, NULL, j, &err) == 0, "job deleted under the runner");
	f.unit = 9;
	ok(queue_finish_unit(db, j, &f, &inserted, NULL, &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "finishing a unit of a deleted job: 404");
	dgen_err_clear(&err);
	ok(queue_should_stop(db, j, &stop, &err) == 0 && stop, "should_stop for a deleted job");
	ok(queue_renew(db, j, "A", 1000, &err) == 0, "renew of a deleted job: not ours");
}

/* Two processes finish the same 100 units of one job at once (a rescued
 * job whose old runner is still alive): 100 records, counted once. */
static void test_concurrent_finish(void)
{
	enum { UNITS = 100 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_record_filter f = { 0 };
	struct dgen_record_counts counts;
	struct dgen_job_counters c;
	struct dgen_db *db = st_open("twice.db");
	int64_t j = st_job(db, st_pipeline(db, "t"), NULL);
	pid_t pids[2];
	int k, u, good = 0;

	db_close(db);
	for (k = 0; k < 2; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct dgen_db *cdb = st_open("twice.db");

			for (u = 0; u < UNITS; u++)
				st_record(cdb, j, k ? UNITS - 1 - u : u, "x");
			db_close(cdb);
			_exit(0);
		}
	}
	for (k = 0; k < 2; k++)
		good += st_wait_ok(pids[k]);
	is_int(good, 2, "both writers finished without an error");
	db = st_open("twice.db");
	f.job_id = j;
	ok(records_count(db, NULL, &f, &counts, &err) == 0, "count");
	is_int(counts.total, UNITS, "one record per unit");
	ok(queue_counters(db, j, &c, &err) == 0, "counters");
	is_int(c.current_seed, UNITS, "current_seed counted once per unit");
	is_int(c.records_generated, UNITS, "records_generated counted once per unit");
	is_int(c.input_tokens, UNITS * 10, "usage counted once per unit");
	st_integrity(db);
	db_close(db);
}

/* An idle claimer's wait: on PostgreSQL a job queued by another process
 * (here after 100 ms) ends it at once; sqlite sleeps the whole pause. */
static void test_wait(void)
{
	struct dgen_db *db = st_open("wait.db");
	int64_t pid = st_pipeline(db, "w");
	double t0, took;
	pid_t child;
	bool woke;

	t0 = dgen_clock_mono();
	ok(!queue_wait(db, 150), "nothing queued: the wait times out");
	took = dgen_clock_mono() - t0;
	ok(took >= 0.14 && took < 2.0, "after its timeout");
	child = fork();
	if (child == 0) {
		struct dgen_db *cdb = st_open("wait.db");
		struct timespec ts = { 0, 100000000L };

		nanosleep(&ts, NULL);
		st_job(cdb, pid, NULL);
		db_close(cdb);
		_exit(0);
	}
	t0 = dgen_clock_mono();
	woke = queue_wait(db, st_pg() ? 10000 : 400);
	took = dgen_clock_mono() - t0;
	ok(st_wait_ok(child), "another process queued a job");
	if (st_pg()) {
		ok(woke && took < 5.0, "PostgreSQL: the queued job ends the wait (%.0f ms)",
		   took * 1000.0);
		diag("enqueue to wake-up: %.1f ms after the enqueue started", took * 1000.0 - 100.0);
	} else {
		ok(!woke && took >= 0.39, "sqlite: the wait sleeps its whole timeout");
	}
	db_close(db);
}

static void test_heartbeat(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;
	char last[DGEN_ISO_LEN];
	bool alive = true;

	ok(queue_runner_status(db, 30, &alive, last, &err) == 0 && !alive && last[0] == '\0',
	   "no heartbeat yet: not alive");
	ok(queue_heartbeat(db, "runner-1", 123, "host", &err) == 0, "heartbeat");
	ok(queue_heartbeat(db, "runner-1", 123, "host", &err) == 0, "heartbeat again (upsert)");
	ok(queue_runner_status(db, 30, &alive, last, &err) == 0 && alive, "alive");
	is_int(strlen(last), 24, "last_seen is an ISO timestamp");
	st_exec(db, "UPDATE runners SET last_seen = '2000-01-01T00:00:00.000Z'");
	ok(queue_runner_status(db, 30, &alive, last, &err) == 0 && !alive,
	   "an old heartbeat is not alive");
	is_str(last, "2000-01-01T00:00:00.000Z", "last_seen reported");
	ok(queue_heartbeat(db, "runner-2", 124, "host", &err) == 0, "a new runner beats");
	ok(queue_runner_status(db, 30, &alive, last, &err) == 0 && alive, "alive again");
	{
		/* runner-1 was silent for more than a day: its row is gone */
		int64_t n = st_raw_int(db_path(db), "SELECT count(*) FROM runners");

		is_int(n, 1, "a runner silent for a day is forgotten at the next heartbeat");
	}
}

int main(void)
{
	struct dgen_db *db;
	int64_t pid;

	st_setup();
	test_claim_race();
	db = st_open("q.db");
	pid = st_pipeline(db, "q");
	test_claim_lease(db, pid);
	test_cancel_not_resurrected(db, pid);
	test_release_and_attempts(db, pid);
	test_unit_blame(db, pid);
	test_group_blame(db, pid);
	test_tally_starts(db, pid);
	test_unit_key(db, pid);
	test_progress_and_dead_runner(db, pid);
	test_large_input(db, pid);
	test_heartbeat(db);
	db_close(db);
	test_concurrent_finish();
	test_wait();
	db = st_open("q.db");
	st_integrity(db);
	db_close(db);
	st_teardown();
	return done_testing();
}
