/*
 * runner.c - the claiming loop and the worker pool of dgen-runner.
 *
 * Shape (DESIGN.md §7): one thread claims, renews leases, polls for cancel
 * and ends jobs; LLM-bound work gets its throughput from many units in
 * flight, not from many claimers. Workers take units round the users whose
 * jobs are claimed, then round each user's jobs (fair share, SPEC.md §8),
 * never more of a user's at once than their in-flight quota; and each
 * finished unit is committed with the job's counters in one transaction,
 * keyed by its unit number: a crash at any point loses at most the units
 * in flight, and never stores one twice.
 *
 * Blame: a unit's start is committed (with the group commit) before it
 * runs, so when the runner dies the rescue knows which units were in
 * flight (queue.h). A unit that was in flight at a death is a suspect:
 * suspects run last, with nothing else in flight, in groups that shrink
 * by four as their deaths grow (after a death with a thousand units in
 * flight, a quarter of them run together, and only a group that kills
 * the runner again is split further), down to one; only a unit that dies
 * alone at DGEN_MAX_ATTEMPTS deaths or more is blamed for it
 * (suspect_group).
 *
 * Storage: from the first write that fails on storage (disk full,
 * read-only, I/O error) no unit is handed out, nothing is claimed and no
 * unit picked already makes its LLM call, so no call is made whose result
 * could not be kept; the units in flight wait to be stored. A full disk
 * still takes some commits (sqlite reuses WAL frames), so a write that
 * lands is no sign it is back: the runner goes on by itself only once
 * STORAGE_PROBES probes in a row (STORAGE_RETRY_SECONDS apart, no storage
 * fault between them) have written and found the filesystem writable
 * with room (storage_probe).
 *
 * Locking: one mutex guards the job list and every job's dispatch state;
 * units hold it only to be picked and to report done, never while
 * running a pipeline or writing to the database.
 *
 * Units in flight (README, "many requests in flight"): an LLM-bound unit
 * spends nearly all its time waiting, so a thread per unit in flight
 * costs its stack, its malloc arena and a context switch per wait for
 * nothing, which at a thousand units ate more CPU than the work. Instead
 * each unit runs on a coroutine (evloop.h: a small mmap'd stack with a
 * guard page) on one of a few event-loop threads, one per core; the
 * unit's code stays synchronous and the waits yield: LLM and embeddings
 * transfers go on the loop's libcurl multi handle (the llm waiter seam,
 * llm.h), backoffs and storage retries become timers, and the commit of a
 * unit's start and result is handed to the committer thread, which runs
 * the group commit and wakes the units it stored; a coroutine picks its
 * next unit as one ends, and that unit's start goes in the same commit as
 * the result (one wait per unit, not two). Nothing on a loop
 * thread waits on a condition another coroutine of that thread must
 * signal. The claiming loop (main thread) is as it was.
 *
 * Why coroutines, and our own: a state machine per unit would turn every
 * block, and the retries, budgets and commits under them, into callbacks;
 * on a coroutine they stay the synchronous code that dgen and the API's
 * generate endpoint run too. Debian's coroutine libraries are Boost's (C++)
 * and PCL (libpcl1), which switches through ucontext (a signal-mask system
 * call at every switch), leaves guard pages to its caller and does not
 * tell AddressSanitizer about the switches, under which make check runs.
 * What the runner needs is a stack, a switch and those annotations: about
 * 150 lines of evloop.c.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dgen/clock.h"
#include "dgen/blocks.h"
#include "dgen/buf.h"
#include "dgen/db.h"
#include "dgen/exec.h"
#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/neardup.h"
#include "dgen/plan.h"
#include "dgen/queue.h"
#include "dgen/runner.h"
#include "dgen/saved_models.h"
#include "dgen/usage.h"
#include "dgen/util.h"
#include "evloop.h"
#include "startwait.h"

/* Claimed jobs at once, sharing the workers in turn; past it, up to
 * MAX_NEWCOMER_JOBS more, each of a user with no job running. */
#define MAX_ACTIVE_JOBS 8
#define MAX_NEWCOMER_JOBS 8
#define HEARTBEAT_SECONDS 2.0
/* Another runner is alive when its heartbeat is this recent. */
#define OTHERS_ALIVE_SECONDS (3 * (int)HEARTBEAT_SECONDS)
/* How long a busy runner leaves a queued job to the idle ones (claim_defer). */
#define CLAIM_DEFER_SECONDS 1.5
#define CANCEL_POLL_SECONDS 0.25
#define PROGRESS_SECONDS 0.5
/* A unit that cannot be stored (storage fault) is tried again this often,
 * and as often the storage is probed; it is back after STORAGE_PROBES
 * good probes in a row. */
#define STORAGE_RETRY_SECONDS 1.0
#define STORAGE_PROBES 2
/* How often the WAL's size is looked at, and how long a checkpoint may
 * hold new writers back while it waits for readers. */
#define WAL_CHECK_SECONDS 1.0
#define CHECKPOINT_WAIT_MS 2000
/* Event loops at most (one per core). */
#define MAX_LANES 16

/* A unit passed over for later: a suspect, run alone at the end. */
struct deferred {
	struct dgen_unit u;
	int deaths;
};

/* A user whose jobs this runner holds (owner id 0: jobs without one). */
struct owner {
	int64_t id;
	int64_t quota;             /* units (LLM requests) in flight at most */
	int64_t in_flight;
	int jobs;                  /* claimed jobs of this owner */
	struct job *rr;            /* where this owner's round robin resumes */
	struct owner *next;
};

struct job {
	int64_t id;
	struct owner *owner;
	struct dgen_plan plan;
	struct dgen_constraints cons;
	int in_flight;
	atomic_int cancel;         /* aborts this job's in-flight LLM calls */
	bool stop;                 /* hand out no more units */
	bool lost;                 /* the lease went to someone else */
	int unstored;              /* units run but not stored: release, not end */
	bool end_failed;           /* ending it failed once (logged) */
	struct dgen_suspect *suspects; /* by unit: units in flight at a death */
	size_t n_suspects;
	struct deferred *deferred; /* suspects the cursor passed */
	size_t n_deferred, cap_deferred;
	enum dgen_job_status final; /* when stopping early */
	char *final_error;
	double deadline;           /* monotonic; 0 = no time limit */
	double last_renew, last_poll, last_progress;
	/* The block a worker of this job started last (live progress), and
	 * what was last written of it. */
	_Atomic(const char *) cur_block;
	atomic_int cur_step;
	const char *shown_block;
	int shown_step;
	/* Until when (dgen_clock_now_ms) a call of the job waits on its
	 * rate-limited model; 0 = calls flow (llm on_wait). */
	atomic_llong wait_until_ms;
	struct job *next_job;
};

struct runner {
	const struct dgen_config *cfg;
	struct dgen_exec *exec;
	char runner_id[128];
	int64_t lease_ms;

	pthread_mutex_t lock;
	/* Group commit of finished units (see commit_write): the committer
	 * thread, on its own connection. */
	pthread_mutex_t commit_lock;
	pthread_cond_t commit_wake; /* units queued, or commit_quit */
	struct pending *queue;     /* units waiting for the next commit */
	bool commit_quit;
	double last_commit;        /* monotonic end of the last batch */
	struct dgen_db *commit_db;
	pthread_t committer;
	bool committer_started;
	struct lane *lanes;        /* the event loops running units */
	int n_lanes;
	pthread_cond_t done;       /* a unit finished */
	struct job *jobs;          /* claimed jobs */
	struct owner *owners;      /* their owners */
	struct owner *orr;         /* where the round robin of owners resumes */
	bool quit;
	int running;               /* units in flight, all jobs */
	bool solo;                 /* suspects are running: nothing else starts */
	int group_left;            /* suspects of their group still to hand out */
	int group_deaths;          /* the deaths of that group's suspects */
	struct job *group_job;     /* the job they are of */
	/* A write failed on storage: no unit starts (read unlocked by the
	 * units, written under r->lock) until storage_probe() says it is back. */
	atomic_bool storage_down;
	int storage_probes_ok;     /* good probes in a row since the last fault */
	double storage_back_at;    /* monotonic time it came back */
	int64_t wal_limit;
	/* Read and written by the claiming loop's thread only: other runners
	 * had a heartbeat lately, and since when a queued job has been left
	 * to them (0: none). */
	bool others_alive;
	double defer_since;
};

/* An event loop of the runner, with the connection its units use for
 * NearDuplicate's index (the committer has its own). */
struct lane {
	struct runner *r;
	struct evloop *loop;
	struct dgen_db *db;
};

/* A unit may be available (or the runner quits): the loops ask again.
 * Called with r->lock held (stop_lanes takes the loops away under it). */
static void wake_lanes(struct runner *r)
{
	for (int i = 0; i < r->n_lanes; i++)
		if (r->lanes[i].loop)
			evloop_wake(r->lanes[i].loop);
}

/* ---- picking and reporting units (under r->lock) ---------------------- */

static bool job_has_work(const struct job *j)
{
	return !j->stop && (j->plan.pending > 0 || j->n_deferred > 0);
}

static int cmp_suspect(const void *a, const void *b)
{
	int64_t x = ((const struct dgen_suspect *)a)->unit;
	int64_t y = ((const struct dgen_suspect *)b)->unit;

	return (x > y) - (x < y);
}

/* The deaths unit was in flight at (0: not a suspect). */
static int suspect_deaths(const struct job *j, int64_t unit)
{
	struct dgen_suspect key = { .unit = unit }, *s;

	if (!j->n_suspects)
		return 0;
	s = bsearch(&key, j->suspects, j->n_suspects, sizeof key, cmp_suspect);
	return s ? s->deaths : 0;
}

static void defer_unit(struct job *j, const struct dgen_unit *u, int deaths)
{
	if (j->n_deferred == j->cap_deferred) {
		j->cap_deferred = j->cap_deferred ? j->cap_deferred * 2 : 8;
		j->deferred = dgen_xrealloc(j->deferred, j->cap_deferred * sizeof *j->deferred);
	}
	j->deferred[j->n_deferred++] = (struct deferred){ *u, deaths };
}

/* Takes the deferred unit with the fewest deaths (then the lowest
 * number): a unit just blamed again goes to the back of the line. False
 * when none is left, or (deaths > 0) when that one has more deaths. */
static bool take_deferred(struct job *j, struct dgen_unit *u, int deaths, int *taken)
{
	size_t best = 0;

	if (!j->n_deferred)
		return false;
	for (size_t i = 1; i < j->n_deferred; i++) {
		const struct deferred *a = &j->deferred[i], *b = &j->deferred[best];

		if (a->deaths < b->deaths || (a->deaths == b->deaths && a->u.unit < b->u.unit))
			best = i;
	}
	if (deaths > 0 && j->deferred[best].deaths != deaths)
		return false;
	*u = j->deferred[best].u;
	*taken = j->deferred[best].deaths;
	j->deferred[best] = j->deferred[--j->n_deferred];
	return true;
}

/*
 * How many suspects of so many deaths run together: the runner's
 * concurrency divided by four at each death (a quarter of the units in
 * flight at the first death, a sixteenth at the second ...), down to one.
 * Every unit in flight at a death takes one, and the rescue fails a unit
 * at DGEN_MAX_ATTEMPTS deaths only when it was alone in flight, so a
 * group that dies again blames no one: it is split further. A unit that
 * kills its runner every time is found in about log4(units in flight) + 1
 * deaths (3 at 8 in flight, 6 at 1 024), and innocent units in flight at
 * a few unrelated deaths (an OOM kill, a host that went away) run again in
 * groups, not one after another (at 1 024 in flight, groups of 64 after
 * two deaths).
 */
static int suspect_group(const struct runner *r, int deaths)
{
	int g = r->cfg->runner_concurrency;

	for (int d = 0; d < deaths && g > 1; d++)
		g /= 4;
	return g > 1 ? g : 1;
}

/* The next unit of j that is no suspect (suspects are passed over). */
static bool job_next_unit(struct job *j, struct dgen_unit *u)
{
	while (!j->stop && j->plan.pending > 0) {
		int deaths;

		if (!plan_next(&j->plan, u)) {
			j->plan.pending = 0; /* the count was off: nothing is left */
			return false;
		}
		deaths = suspect_deaths(j, u->unit);
		if (deaths == 0)
			return true;
		defer_unit(j, u, deaths);
	}
	return false;
}

/* The next unit of o's jobs, taking them in turn. */
static bool owner_next_unit(struct runner *r, struct owner *o, struct job **jp,
			    struct dgen_unit *u)
{
	struct job *start = o->rr ? o->rr : r->jobs, *j = start;

	do {
		struct job *nx = j->next_job ? j->next_job : r->jobs;

		if (j->owner == o && job_next_unit(j, u)) {
			o->rr = nx;
			*jp = j;
			return true;
		}
		j = nx;
	} while (j != start);
	return false;
}

/* The next suspect of the group running, if any is left to hand out. */
static bool group_next(struct runner *r, struct job **jp, struct dgen_unit *u)
{
	struct job *j = r->group_job;
	int deaths;

	if (r->group_left > 0 && j && !j->stop && take_deferred(j, u, r->group_deaths, &deaths)) {
		r->group_left--;
		*jp = j;
		return true;
	}
	r->group_left = 0;
	return false;
}

/*
 * The next unit to run, under r->lock: round the owners, then round each
 * owner's jobs (so one user's many or huge jobs do not hold back another
 * user's few units), skipping an owner with its quota of units in flight,
 * passing suspects over; once no other unit is left and nothing is in
 * flight, a group of suspects (*solo; suspect_group says how many).
 * Nothing else while suspects run, nor while the storage is down. True
 * with *jp and *u filled.
 */
static bool pick_unit(struct runner *r, struct job **jp, struct dgen_unit *u, bool *solo)
{
	struct owner *start = r->orr ? r->orr : r->owners, *o = start;
	struct job *j;

	if (!o || r->storage_down)
		return false;
	if (r->solo) {
		*solo = true;
		return group_next(r, jp, u);
	}
	do {
		struct owner *nx = o->next ? o->next : r->owners;

		if (o->in_flight < o->quota && owner_next_unit(r, o, jp, u)) {
			r->orr = nx;
			*solo = false;
			return true;
		}
		o = nx;
	} while (o != start);
	if (r->running > 0)
		return false;
	for (j = r->jobs; j; j = j->next_job) {
		int deaths;

		if (!j->stop && take_deferred(j, u, 0, &deaths)) {
			*jp = j;
			*solo = r->solo = true;
			r->group_job = j;
			r->group_deaths = deaths;
			r->group_left = suspect_group(r, deaths) - 1;
			if (r->group_left > 0) {
				dgen_info("job %lld: up to %d suspects of %d deaths run together",
					  (long long)j->id, r->group_left + 1, deaths);
				wake_lanes(r);
			}
			return true;
		}
	}
	return false;
}

/* Stops a job early with a final status (the first reason wins). */
static void job_stop(struct job *j, enum dgen_job_status st, const char *why)
{
	if (j->final_error || j->final != DGEN_JOB_RUNNING)
		return;
	j->stop = true;
	j->final = st;
	j->final_error = why ? dgen_xstrdup(why) : NULL;
	if (st == DGEN_JOB_CANCELLED)
		atomic_store(&j->cancel, 1);
}

/* ---- one unit ---------------------------------------------------------- */

/* A unit picked for a coroutine. */
struct work {
	struct job *j;
	struct dgen_unit u;
	bool solo;
	bool started;              /* its start is stored already */
	bool quota_freed;          /* its LLM calls are over: off the owner's quota */
};

/* A unit's start (ur NULL) or its result, waiting for the next commit. */
struct pending {
	int64_t job_id;
	const struct dgen_unit_start *start;
	const struct dgen_unit_result *ur;
	struct dgen_job_counters after;
	struct dgen_err err;
	int rc;
	struct evco_event ev;      /* posted once stored (or not) */
	bool silent;               /* not posted: the next one of its pair is */
	struct pending *next;
};

/* Writes p inside the caller's transaction (or its own). */
static int pending_write(struct runner *r, struct dgen_db *db, struct pending *p)
{
	if (p->ur)
		return queue_finish_unit(db, p->job_id, p->ur, NULL, &p->after, &p->err);
	return queue_start_unit(db, p->job_id, r->runner_id, p->start, &p->err);
}

/* Commits one pending write, retrying while the database stays busy: the
 * work is already paid for (LLM tokens), so give the lock every chance. */
static int pending_store(struct runner *r, struct dgen_db *db, struct pending *p)
{
	int attempt = 0;

	do {
		dgen_err_clear(&p->err);
		if (pending_write(r, db, p) == 0)
			return 0;
	} while (db_retry_busy(&attempt, &p->err));
	return -1;
}

static bool batch_has_result(const struct pending *batch, int64_t job_id)
{
	for (; batch; batch = batch->next)
		if (batch->ur && batch->job_id == job_id)
			return true;
	return false;
}

/* The tally of job_id in a batch's tallies (a new one at the end). */
static struct queue_tally *batch_tally(struct queue_tally **t, size_t *n, size_t *cap,
				       int64_t job_id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*t)[i].job_id == job_id)
			return &(*t)[i];
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		*t = dgen_xrealloc(*t, *cap * sizeof **t);
	}
	(*t)[*n] = (struct queue_tally){ .job_id = job_id };
	return &(*t)[(*n)++];
}

/* Writes a batch inside the caller's transaction: each unit's record and
 * start as it comes, but its job's counters once for the batch (one
 * UPDATE of the job row with the sums), every unit of the job then
 * reading the counters after the batch. */
static int batch_write(struct runner *r, struct dgen_db *db, struct pending *batch,
		       struct dgen_err *err)
{
	struct queue_tally *t = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (struct pending *p = batch; rc == 0 && p; p = p->next) {
		struct queue_tally *jt = batch_tally(&t, &n, &cap, p->job_id);

		if (p->ur) {
			rc = queue_tally_unit(db, jt, p->ur, NULL, err);
		} else {
			rc = queue_tally_start(db, jt, r->runner_id, p->start, err);
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct dgen_job_counters after;

		if (t[i].units == 0 && !batch_has_result(batch, t[i].job_id))
			continue;
		rc = queue_tally_count(db, &t[i], &after, err);
		for (struct pending *p = batch; rc == 0 && p; p = p->next)
			if (p->ur && p->job_id == t[i].job_id)
				p->after = after;
	}
	free(t);
	return rc;
}

/* One transaction for a whole batch; when it fails (a deleted job dooms
 * it), each write is committed on its own so the others still land. */
static void commit_batch(struct runner *r, struct dgen_db *db, struct pending *batch)
{
	struct dgen_err err = DGEN_ERR_INIT;
	bool ok = db_begin(db, &err) == 0 && batch_write(r, db, batch, &err) == 0;

	if (ok && db_commit(db, &err) == 0) {
		for (struct pending *p = batch; p; p = p->next)
			p->rc = 0;
	} else {
		if (db_in_transaction(db))
			db_rollback(db);
		for (struct pending *p = batch; p; p = p->next)
			p->rc = pending_store(r, db, p);
	}
	dgen_err_clear(&err);
}

/*
 * Group commit. sqlite lets one writer in at a time, and a stream of
 * one-unit commits from many units would hold its lock nearly always,
 * starving the API's writes and this runner's own lease renewals. So the
 * committer thread commits every unit queued so far in one transaction;
 * and batches start at least COMMIT_GAP apart, leaving the lock free for
 * other connections between them. A unit queues its writes (n of them:
 * a finished unit's result goes with the start of the unit its coroutine
 * runs next, one wait for both) and parks its coroutine until the
 * committer posts the last; each is durable when its rc is 0.
 */
#define COMMIT_GAP 0.002
static void commit_wait(struct runner *r, struct pending *p, size_t n)
{
	bool first;

	for (size_t i = 0; i < n; i++) {
		p[i].err = (struct dgen_err)DGEN_ERR_INIT;
		p[i].rc = -1;
		p[i].silent = i + 1 < n;
	}
	evco_event_init(&p[n - 1].ev);
	pthread_mutex_lock(&r->commit_lock);
	first = !r->queue;
	/* pushed last first: the batch meets them in order, the posted one
	 * last, so the committer is done with all of them when it posts */
	for (size_t i = n; i-- > 0;) {
		p[i].next = r->queue;
		r->queue = &p[i];
	}
	if (first)
		pthread_cond_signal(&r->commit_wake);
	pthread_mutex_unlock(&r->commit_lock);
	evco_wait(&p[n - 1].ev);
}

static int commit_write(struct runner *r, int64_t job_id, const struct dgen_unit_start *start,
			const struct dgen_unit_result *ur, struct dgen_job_counters *after,
			struct dgen_err *err)
{
	struct pending me = { .job_id = job_id, .start = start, .ur = ur };

	commit_wait(r, &me, 1);
	if (after)
		*after = me.after;
	dgen_err_move(err, &me.err);
	return me.rc;
}

/* The committer: a batch whenever units are queued, COMMIT_GAP after the
 * last; each unit of it is posted once its write is done (and not touched
 * after: its coroutine goes on). Ends when told to, with nothing queued. */
static void *committer_main(void *arg)
{
	struct runner *r = arg;

	pthread_mutex_lock(&r->commit_lock);
	for (;;) {
		struct pending *batch;
		double wait;

		while (!r->queue && !r->commit_quit)
			pthread_cond_wait(&r->commit_wake, &r->commit_lock);
		if (!r->queue)
			break;
		wait = r->last_commit + COMMIT_GAP - dgen_clock_mono();
		if (wait > 0) {
			pthread_mutex_unlock(&r->commit_lock);
			usleep((useconds_t)(wait * 1e6));
			pthread_mutex_lock(&r->commit_lock);
		}
		batch = r->queue;
		r->queue = NULL;
		pthread_mutex_unlock(&r->commit_lock);
		commit_batch(r, r->commit_db, batch);
		while (batch) {
			struct pending *nx = batch->next;

			if (!batch->silent)
				evco_post(&batch->ev);
			batch = nx;
		}
		pthread_mutex_lock(&r->commit_lock);
		r->last_commit = dgen_clock_mono();
	}
	pthread_mutex_unlock(&r->commit_lock);
	return NULL;
}

/* The storage is down (err is a storage fault): hand out nothing more,
 * and count the good probes from zero again. */
static void storage_fault(struct runner *r, const struct dgen_err *err)
{
	if (db_err_storage(err) == DB_STORAGE_OK)
		return;
	pthread_mutex_lock(&r->lock);
	if (!r->storage_down)
		dgen_error("cannot write the database (%s): no unit starts until it can: %s",
			   db_storage_name(db_err_storage(err)), err->msg);
	r->storage_down = true;
	r->storage_probes_ok = 0;
	pthread_mutex_unlock(&r->lock);
}

/* The storage is back: the leases are renewed at once (they may have run
 * out meanwhile) and units handed out again. Called with r->lock held. */
static void storage_back_locked(struct runner *r)
{
	if (!r->storage_down)
		return;
	r->storage_down = false;
	r->storage_probes_ok = 0;
	r->storage_back_at = dgen_clock_mono(); /* the leases were renewed just before */
	dgen_info("the database can be written again: going on");
	wake_lanes(r);
}

/* A renewal found j's lease gone (another runner holds the job now): its
 * units stop, in flight ones abort, and it is dropped without an end.
 * Called with r->lock held. */
static void job_lose(struct job *j, const char *when)
{
	dgen_warn("job %lld: lease lost%s, dropping it", (long long)j->id, when);
	j->lost = true;
	j->stop = true;
	atomic_store(&j->cancel, 1);
}

/*
 * Before units go on after the storage was down: renews every held job's
 * lease. A lease that ran out meanwhile (a server out of reach for longer
 * than the lease: another runner took the job over) is found lost here,
 * and its units stop before they make an LLM call whose record another
 * runner is making too. -1 when the storage fails again. Called on the
 * claiming loop's thread (the only one that changes the job list) with
 * r->lock held; unlocks it around each renewal.
 */
static int renew_all_locked(struct runner *r, struct dgen_db *db)
{
	for (struct job *j = r->jobs; j; j = j->next_job) {
		struct dgen_err err = DGEN_ERR_INIT;
		int rc;

		if (j->lost)
			continue;
		pthread_mutex_unlock(&r->lock);
		rc = queue_renew(db, j->id, r->runner_id, r->lease_ms, &err);
		pthread_mutex_lock(&r->lock);
		if (rc < 0) {
			r->storage_probes_ok = 0;
			dgen_err_clear(&err);
			return -1;
		}
		j->last_renew = dgen_clock_mono();
		if (rc == 0)
			job_lose(j, " while the database was out of reach");
	}
	return 0;
}

/*
 * The outcome of a probe of the storage while it is down (rc, err: the
 * heartbeat's write on db). A probe is good when it wrote and the
 * filesystem has room and is writable (db_storage_state: what
 * /api/health says); a commit landing on a full disk through reused WAL
 * frames is not enough. STORAGE_PROBES good ones in a row, with no
 * storage fault from any write between them (storage_fault counts from
 * zero again), and the storage is back.
 */
static void storage_probe(struct runner *r, struct dgen_db *db, int rc, const struct dgen_err *err)
{
	bool good = rc == 0 && db_storage_state(db) == DB_STORAGE_OK;

	if (rc < 0)
		storage_fault(r, err);
	pthread_mutex_lock(&r->lock);
	if (r->storage_down) {
		if (!good)
			r->storage_probes_ok = 0;
		else if (++r->storage_probes_ok >= STORAGE_PROBES && renew_all_locked(r, db) == 0)
			storage_back_locked(r);
	}
	pthread_mutex_unlock(&r->lock);
}

/* True when a worker should stop waiting to store a unit of j: the grace
 * period after a stop is over (j->cancel) or the runner quits. */
static bool give_up_storing(struct runner *r, struct job *j)
{
	bool quit;

	pthread_mutex_lock(&r->lock);
	quit = r->quit;
	pthread_mutex_unlock(&r->lock);
	return quit || atomic_load(&j->cancel);
}

/* A unit about to make its LLM calls waits while the storage is down (it
 * was picked, or its start stored, before the fault was seen): false when
 * the runner gives up on it meanwhile (give_up_storing). */
static bool storage_wait(struct runner *r, struct job *j)
{
	bool waited = false;

	while (r->storage_down) {
		if (give_up_storing(r, j))
			return false;
		evco_sleep((long)(STORAGE_RETRY_SECONDS * 1000));
		waited = true;
	}
	/* its lease may have gone meanwhile (renew_all_locked) */
	return !waited || !atomic_load(&j->cancel);
}

/*
 * Commits a unit's start or result through the group commit. A storage
 * fault does not lose it: the runner stops handing out units and this
 * tries again every STORAGE_RETRY_SECONDS until the write lands (the
 * storage came back) or the runner gives up on the job (grace over).
 * 0 when stored, -1 with err set otherwise.
 */
static int commit_unit(struct runner *r, struct job *j,
		       const struct dgen_unit_start *start, const struct dgen_unit_result *ur,
		       struct dgen_job_counters *after, struct dgen_err *err)
{
	for (;;) {
		dgen_err_clear(err);
		if (commit_write(r, j->id, start, ur, after, err) == 0)
			return 0;
		if (db_err_storage(err) == DB_STORAGE_OK)
			return -1;
		storage_fault(r, err);
		if (give_up_storing(r, j))
			return -1;
		evco_sleep((long)(STORAGE_RETRY_SECONDS * 1000));
	}
}

/* The unit could not be stored: this claim must not end the job as if it
 * were complete; it hands the job back instead, and the next claim runs
 * the unit again. */
static void unit_unstored(struct runner *r, struct job *j)
{
	pthread_mutex_lock(&r->lock);
	j->unstored++;
	pthread_mutex_unlock(&r->lock);
}

/* Called by the engine as a block of the job starts: remembered here,
 * written by the claiming loop at most every PROGRESS_SECONDS. */
static void note_block(void *arg, const char *block_type, int step)
{
	struct job *j = arg;

	atomic_store(&j->cur_block, block_type);
	atomic_store(&j->cur_step, step);
}

/* Called by the LLM layer while a call of the job waits on a rate-limited
 * model (ms > 0) and when calls flow again (0); shown by the claiming loop. */
static void note_wait(void *arg, long ms)
{
	struct job *j = arg;

	atomic_store(&j->wait_until_ms, ms > 0 ? (long long)dgen_clock_now_ms() + ms : 0);
}

/* Writes the job's live progress: "rate limited, retrying in Ns" as its
 * step while a call waits on its model, else the block last started.
 * Called with r->lock held; drops it around the write. */
static void show_progress(struct runner *r, struct dgen_db *db, struct job *j,
			  struct dgen_err *err)
{
	const char *blk = atomic_load(&j->cur_block);
	int step = atomic_load(&j->cur_step);
	long long wait = atomic_load(&j->wait_until_ms) - (long long)dgen_clock_now_ms();
	char note[64];

	if (blk && wait > 0) {
		snprintf(note, sizeof note, "rate limited, retrying in %llds", (wait + 999) / 1000);
		j->shown_block = NULL; /* the step is written again once calls flow */
		pthread_mutex_unlock(&r->lock);
		queue_progress_note(db, j->id, blk, note, err);
		pthread_mutex_lock(&r->lock);
	} else if (blk && (blk != j->shown_block || step != j->shown_step)) {
		j->shown_block = blk;
		j->shown_step = step;
		pthread_mutex_unlock(&r->lock);
		queue_progress(db, j->id, blk, step, err);
		pthread_mutex_lock(&r->lock);
	}
}

/* NearDuplicate's job-wide index: in the store, on the worker's connection. */
static int store_near_dup(void *db, int64_t job_id, int64_t unit, const uint32_t *sig,
			  size_t n_sig, const uint64_t *bands, size_t n_bands, double threshold,
			  int64_t *dup_unit, int64_t *dup_record, double *similarity,
			  struct dgen_err *err)
{
	return neardup_check(db, job_id, unit, sig, n_sig, bands, n_bands, threshold, dup_unit,
			     dup_record, similarity, err);
}

static const struct dgen_jobstate_ops store_jobstate = { store_near_dup };

/* The next unit to run, counted in flight, or NULL. */
static struct work *work_pick(struct runner *r)
{
	struct work w = { 0 }, *out = NULL;

	pthread_mutex_lock(&r->lock);
	if (!r->quit && pick_unit(r, &w.j, &w.u, &w.solo)) {
		w.j->in_flight++;
		w.j->owner->in_flight++;
		r->running++;
		out = dgen_xmalloc(sizeof *out);
		*out = w;
	}
	pthread_mutex_unlock(&r->lock);
	return out;
}

/* w's LLM calls are over: its owner's quota counts the next unit instead
 * (w stays in flight for its job until it is stored). */
static void work_free_quota(struct runner *r, struct work *w)
{
	pthread_mutex_lock(&r->lock);
	w->j->owner->in_flight--;
	w->quota_freed = true;
	pthread_mutex_unlock(&r->lock);
}

/* w is over (stored or not): it leaves the units in flight, and is freed. */
static void work_done(struct runner *r, struct work *w)
{
	plan_unit_free(&w->u);
	pthread_mutex_lock(&r->lock);
	w->j->in_flight--;
	if (!w->quota_freed)
		w->j->owner->in_flight--;
	r->running--;
	/* Suspects may start once nothing runs; others once their group ended. */
	if (w->solo && r->running == 0) {
		r->solo = false;
		r->group_left = 0;
		r->group_job = NULL;
	}
	if (w->solo || r->running == 0)
		wake_lanes(r);
	/* The claiming loop has work only once a job has nothing in flight
	 * (it may end, and the next be claimed): waking it for every unit
	 * cost a futex wake here and a round of its polls there. */
	if (w->j->in_flight == 0)
		pthread_cond_signal(&r->done);
	pthread_mutex_unlock(&r->lock);
	free(w);
}

static bool job_stopping(struct runner *r, struct job *j)
{
	bool stop;

	pthread_mutex_lock(&r->lock);
	stop = j->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/*
 * Stores a finished unit's result and, in the same commit, the start of
 * nx, the unit its coroutine runs next (NULL: none): one wait for both.
 * When that commit fails, the result goes through commit_unit() (which
 * waits out a storage fault) and nx writes its start itself before it
 * runs. 0 when the result is stored, -1 with err set otherwise.
 */
static __attribute__((noinline)) int commit_result(struct runner *r, struct job *j, const struct dgen_unit_result *ur,
			 struct dgen_job_counters *after, struct work *nx, struct dgen_err *err)
{
	struct dgen_unit_start ns;
	struct pending p[2] = { { .job_id = j->id, .ur = ur } };

	if (!nx)
		return commit_unit(r, j, NULL, ur, after, err);
	ns = (struct dgen_unit_start){ nx->u.unit, nx->u.seed_index, nx->u.repetition,
				       nx->u.chunk_index };
	p[1] = (struct pending){ .job_id = nx->j->id, .start = &ns };
	commit_wait(r, p, 2);
	nx->started = p[1].rc == 0;
	dgen_err_clear(&p[1].err);
	if (p[0].rc == 0) {
		*after = p[0].after;
		return 0;
	}
	if (db_err_storage(&p[0].err) == DB_STORAGE_OK) {
		dgen_err_move(err, &p[0].err);
		return -1;
	}
	dgen_err_clear(&p[0].err);
	return commit_unit(r, j, NULL, ur, after, err);
}

/* Stores w's start before it runs and waits while the storage is down
 * (0), or counts it unstored (-1). Out of line, like store_result(): what
 * they keep on the stack is not on it while the unit's pipeline runs
 * (coroutine stacks are small). */
static __attribute__((noinline)) int store_start(struct runner *r, struct work *w)
{
	const struct dgen_unit *u = &w->u;
	struct dgen_unit_start us = { u->unit, u->seed_index, u->repetition, u->chunk_index };
	struct dgen_err serr = DGEN_ERR_INIT;

	if (w->started || commit_unit(r, w->j, &us, NULL, NULL, &serr) == 0) {
		if (storage_wait(r, w->j))
			return 0;
		unit_unstored(r, w->j);
		return -1;
	}
	dgen_error("job %lld unit %lld: cannot write its start: %s", (long long)w->j->id,
		   (long long)u->unit, serr.msg);
	dgen_err_clear(&serr);
	unit_unstored(r, w->j);
	return -1;
}

/* A coroutine's record buffer keeps its memory from unit to unit up to
 * this size (a usual record is about 1 KiB); a larger one is freed after
 * its unit, so a few huge outputs do not stay with a thousand coroutines. */
#define RECORD_BUF_KEEP (16 * 1024)

/* Stores the record or failure of w (rc and err: how its pipeline ended,
 * res: what it made), with the start of the coroutine's next unit, picked
 * here (*next); then stops the job if that reached one of its limits.
 * The record's JSON is written once into json, the coroutine's own buffer
 * that the insert binds (trace, NUL, state, NUL, output), and the trees
 * it was written from go before the wait for the commit. */
static __attribute__((noinline)) void store_result(struct runner *r, struct work *w,
						   struct dgen_exec_result *res, int rc,
						   const struct dgen_err *err, struct dgen_buf *json,
						   struct work **next)
{
	struct job *j = w->j;
	const struct dgen_unit *u = &w->u;
	struct dgen_unit_result ur = { 0 };
	struct dgen_job_counters after = { 0 };
	struct dgen_err serr = DGEN_ERR_INIT;
	struct dgen_llm_usage total;
	size_t state_at = 0, output_at = 0;
	const char *exceeded;

	ur.unit = u->unit;
	ur.seed_index = u->seed_index;
	ur.repetition = u->repetition;
	ur.chunk_index = u->chunk_index;
	dgen_buf_reset(json);
	if (res->trace)
		dgen_json_put_compact(json, res->trace);
	else
		dgen_buf_puts(json, "[]");
	dgen_buf_putc(json, '\0');
	state_at = json->len;
	ur.input_tokens = res->usage.input_tokens;
	ur.output_tokens = res->usage.output_tokens;
	ur.cached_tokens = res->usage.cached_tokens;
	ur.cost = res->usage.cost;
	if (rc == 0) {
		size_t n = pipeline_n_blocks(j->plan.pipeline);

		ur.metadata = u->state_text;
		dgen_json_put_compact(json, res->result);
		dgen_buf_putc(json, '\0');
		output_at = json->len;
		dgen_buf_puts(json, exec_output_text(res->result));
		ur.trace_id = res->trace_id;
		if (n) {
			ur.current_block = pipeline_block_type(j->plan.pipeline, n - 1)->type;
			ur.current_step = (int64_t)n;
		}
	} else {
		ur.failed = true;
		ur.block_type = res->failed_block;
		ur.step = res->failed_step;
		ur.error = err->msg;
		ur.current_block = res->failed_block;
		ur.current_step = res->failed_step;
		dgen_log(DGEN_LOG_WARN, res->trace_id, "job %lld unit %lld failed: %s",
			 (long long)j->id, (long long)u->unit, err->msg);
	}
	ur.trace = json->data;
	if (rc == 0) {
		ur.accumulated_state = json->data + state_at;
		ur.output = json->data + output_at;
	}
	json_object_put(res->result);
	json_object_put(res->trace);
	res->result = res->trace = NULL;
	if (!w->solo) {
		work_free_quota(r, w);
		*next = work_pick(r);
	}
	if (commit_result(r, j, &ur, &after, *next, &serr)) {
		/* The unit stays unstored; a later claim runs it again. */
		dgen_error("job %lld unit %lld: cannot store the result: %s", (long long)j->id,
			   (long long)u->unit, serr.msg);
		dgen_err_clear(&serr);
		unit_unstored(r, j);
		goto out;
	}
	total = (struct dgen_llm_usage){ .input_tokens = after.input_tokens,
					 .output_tokens = after.output_tokens,
					 .cached_tokens = after.cached_tokens };
	exceeded = constraints_exceeded(&j->cons, &total, 0);
	if (exceeded) {
		char why[160];

		snprintf(why, sizeof why, "Constraint exceeded: %s", exceeded);
		pthread_mutex_lock(&r->lock);
		job_stop(j, DGEN_JOB_STOPPED, why);
		pthread_mutex_unlock(&r->lock);
	}
out:
	dgen_buf_reset_keep(json, RECORD_BUF_KEEP);
}

/* Runs one unit and stores its record or failure: its start first (unless
 * stored with the unit before it), so a death while it runs is blamed on
 * it. A unit cut short by cancel or the time limit is stored as nothing:
 * it was not finished. Once it ran, the coroutine's next unit is picked
 * (*next) and its start stored with this unit's result. */
static void run_unit(struct runner *r, struct dgen_db *db, struct dgen_llm_handle *h,
		     struct dgen_buf *json, struct work *w, struct work **next)
{
	struct job *j = w->j;
	struct dgen_block_ctx ctx = exec_block_ctx(r->exec, h, &j->cancel, j->deadline);
	struct dgen_exec_result res;
	struct dgen_err err = DGEN_ERR_INIT;
	int rc;

	ctx.on_block = note_block;
	ctx.on_block_arg = j;
	ctx.on_wait = note_wait;
	ctx.on_wait_arg = j;
	ctx.job_id = j->id;
	ctx.owner_id = j->owner->id;
	ctx.unit = w->u.unit;
	ctx.jobstate = &store_jobstate;
	ctx.jobstate_arg = db;
	pipeline_result_init(&res);
	if (store_start(r, w))
		goto out;
	if (pipeline_is_multiplier(j->plan.pipeline))
		rc = pipeline_execute_chunk(j->plan.pipeline, w->u.state, &ctx, &res, &err);
	else
		rc = pipeline_execute(j->plan.pipeline, w->u.state, &ctx, &res, &err);
	if (!rc || (err.code != DGEN_ECANCELLED && !atomic_load(&j->cancel)))
		store_result(r, w, &res, rc, &err, json, next);
out:
	pipeline_result_free(&res);
	dgen_err_clear(&err);
}

/* A connection of the runner: commits at RUNNER_SYNC (dgen-runner(8):
 * nothing the runner commits was acknowledged to anyone, and a commit
 * lost to a power cut is a unit run again) and with the WAL limit. */
#ifndef RUNNER_SYNC
#define RUNNER_SYNC DB_SYNC_FULL
#endif
static int runner_db_open(struct runner *r, struct dgen_db **db, struct dgen_err *err)
{
	if (db_open(db, r->cfg->database_path, r->cfg->db_busy_timeout_ms, err))
		return -1;
	if (db_set_sync(*db, RUNNER_SYNC, err) || db_set_wal_limit(*db, r->wal_limit, err)) {
		db_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

/* What a coroutine keeps from unit to unit: its LLM handle, its own slot
 * of the engine's per-thread handles of named models (exec.h), and the
 * buffer its records are written into (store_result). */
struct co_local {
	struct dgen_llm_handle *h;
	void *slot, *saved;
	struct dgen_buf record;
};

/* The loop has a free coroutine: the next unit, counted in flight. */
static void *lane_next(void *arg)
{
	return work_pick(((struct lane *)arg)->r);
}

/*
 * On a coroutine: runs the unit, then the units picked as each one ends
 * (their starts stored with its result), until none is left for now. A
 * unit picked so whose job stopped meanwhile (its limit reached by the
 * result stored with its start, a cancel, a stop) does not run: it counts
 * as unstored, like a unit cut short.
 */
static void lane_run(void *arg, void *unit, void **local)
{
	struct lane *ln = arg;
	struct runner *r = ln->r;
	struct work *w = unit;
	struct co_local *cl = *local;
	struct dgen_err err = DGEN_ERR_INIT;

	if (!cl)
		*local = cl = dgen_xcalloc(1, sizeof *cl);
	/* the client is made before the loops start: this cannot fail */
	if (!cl->h)
		cl->h = exec_handle_new(r->exec, &err);
	dgen_err_clear(&err);
	while (w) {
		struct work *next = NULL;

		run_unit(r, ln->db, cl->h, &cl->record, w, &next);
		work_done(r, w);
		if (next && job_stopping(r, next->j)) {
			unit_unstored(r, next->j);
			work_done(r, next);
			next = NULL;
		}
		w = next;
	}
}

static void lane_enter(void *arg, void **local)
{
	struct co_local *cl = *local;

	if (cl)
		cl->saved = exec_swap_slot(((struct lane *)arg)->r->exec, cl->slot);
}

static void lane_leave(void *arg, void **local)
{
	struct co_local *cl = *local;

	if (cl)
		cl->slot = exec_swap_slot(((struct lane *)arg)->r->exec, cl->saved);
}

static void lane_drop(void *arg, void **local)
{
	struct co_local *cl = *local;

	(void)arg;
	if (cl) {
		exec_handle_free(cl->h);
		dgen_buf_free(&cl->record);
	}
	free(cl);
	*local = NULL;
}

static const struct evloop_ops lane_ops = { lane_next, lane_run, lane_enter, lane_leave,
					    lane_drop };

/* ---- the claiming loop (main thread) ----------------------------------- */

/*
 * Jobs held by a runner of this host whose process is gone (killed, or
 * crashed) need not wait for their lease to run out: when systemd or
 * dgenctl restarts the runner, it picks the work up at once. Runner ids
 * are "hostname:pid"; only this host's pids can be checked.
 */
static void rescue_dead_local(struct runner *r, struct dgen_db *db, const char *host)
{
	struct dgen_err err = DGEN_ERR_INIT;
	char **ids = NULL;
	size_t n = 0, hl = strlen(host);

	if (queue_running_runners(db, &ids, &n, &err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		long long pid;
		int64_t count = 0;

		if (strncmp(ids[i], host, hl) || ids[i][hl] != ':' ||
		    dgen_parse_long(ids[i] + hl + 1, 1, INT32_MAX, &pid) ||
		    pid == (long long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (queue_rescue_runner(db, ids[i], r->cfg->max_attempts, &count, &err) == 0 &&
		    count > 0)
			dgen_info("took back %lld jobs of runner %s, which is gone",
				  (long long)count, ids[i]);
		dgen_err_clear(&err);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	dgen_err_clear(&err);
}

static int64_t iso_to_ms(const char *iso)
{
	struct tm tm = { 0 };
	int ms = 0;

	if (!iso || sscanf(iso, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return dgen_clock_now_ms();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->n_deferred; i++)
		plan_unit_free(&j->deferred[i].u);
	plan_free(&j->plan);
	free(j->final_error);
	free(j->suspects);
	free(j->deferred);
	free(j);
}

/* True when this runner holds job id already (and has not lost it). */
static bool holds_job(struct runner *r, int64_t id)
{
	bool held = false;

	pthread_mutex_lock(&r->lock);
	for (struct job *k = r->jobs; k && !held; k = k->next_job)
		held = k->id == id && !k->lost;
	pthread_mutex_unlock(&r->lock);
	return held;
}

/* The claimed job's pipeline, from its stored definition. */
static int job_pipeline(struct runner *r, const struct dgen_claim *c,
			struct dgen_pipeline **out, struct dgen_err *err)
{
	struct json_object *def = NULL;
	int rc = dgen_json_parse(c->definition, strlen(c->definition), NULL, &def, err);

	if (rc == 0)
		rc = pipeline_load(exec_registry(r->exec), def, out, err);
	json_object_put(def);
	return rc;
}

/* The claimed job's seeds: its uploaded file, JSON or markdown, taken
 * from the claim (no second copy of it) and indexed, not parsed whole. */
static int job_seeds(struct runner *r, struct dgen_claim *c, struct dgen_seed_index *out,
		     struct dgen_err *err)
{
	struct dgen_json_limits jlim;
	struct dgen_seed_limits slim;
	char *text = c->input;

	c->input = NULL;
	if (c->input_kind == DGEN_INPUT_MARKDOWN)
		return seeds_index_markdown(text, c->input_len, out, err);
	exec_seed_limits(r->exec, &jlim, &slim);
	return seeds_index_json(text, c->input_len, &jlim, &slim, out, err);
}

/* Splits a claimed job into its units, skipping the ones already stored,
 * and records how many it has. A multiplier pipeline runs its first block
 * here, with handle h. */
static int plan_job(struct runner *r, struct dgen_db *db, struct dgen_llm_handle *h,
		    struct dgen_claim *c, struct job *j, struct dgen_err *err)
{
	struct dgen_block_ctx ctx = exec_block_ctx(r->exec, h, &j->cancel, 0);
	struct dgen_plan_job pj = { .units = c->units, .ctx = &ctx };

	ctx.owner_id = c->owner_id;
	if (queue_done_units(db, c->job_id, &pj.done, &pj.n_done, err) ||
	    queue_suspects(db, c->job_id, &j->suspects, &j->n_suspects, err) ||
	    job_pipeline(r, c, &pj.pipeline, err) || job_seeds(r, c, &pj.seeds, err)) {
		free(pj.done);
		pipeline_free(pj.pipeline);
		seeds_index_free(&pj.seeds);
		return -1;
	}
	if (plan_build(&pj, &j->plan, err))
		return -1;
	return queue_set_total(db, c->job_id, j->plan.total, err);
}

/* The owner of a claimed job, added when new; its in-flight quota is the
 * one read with this claim (an admin's change applies from a user's next
 * claimed job on). Called with r->lock held. */
static struct owner *owner_get(struct runner *r, const struct dgen_claim *c)
{
	struct owner *o = r->owners;
	int64_t quota = c->owner_inflight > 0 ? c->owner_inflight : r->cfg->quota_inflight;

	while (o && o->id != c->owner_id)
		o = o->next;
	if (!o) {
		o = dgen_xcalloc(1, sizeof *o);
		o->id = c->owner_id;
		o->next = r->owners;
		r->owners = o;
	}
	/* 0: the runner's concurrency, i.e. no bound of its own */
	o->quota = quota > 0 ? quota : INT64_MAX;
	o->jobs++;
	return o;
}

/* j leaves the claimed jobs: no round robin resumes at it, and its owner
 * goes with its last job. Called with r->lock held. */
static void owner_drop(struct runner *r, struct job *j)
{
	struct owner *o = j->owner, **pp = &r->owners;

	for (struct owner *k = r->owners; k; k = k->next)
		if (k->rr == j)
			k->rr = NULL;
	if (--o->jobs > 0)
		return;
	while (*pp != o)
		pp = &(*pp)->next;
	*pp = o->next;
	if (r->orr == o)
		r->orr = NULL;
	free(o);
}

/* Puts a planned job among the claimed ones, its time limit counted from
 * when it first started (an earlier attempt's time counts too). */
static void add_job(struct runner *r, struct job *j, const struct dgen_claim *c)
{
	j->cons = *pipeline_constraints(j->plan.pipeline);
	if (j->cons.max_total_execution_time >= 0) {
		double elapsed = (double)(dgen_clock_now_ms() - iso_to_ms(c->started_at)) / 1000.0;

		j->deadline = dgen_clock_mono() + j->cons.max_total_execution_time - elapsed;
	}
	j->last_renew = j->last_poll = dgen_clock_mono();
	dgen_info("job %lld claimed (attempt %d): %lld of %lld units to run, %zu suspects last",
		  (long long)j->id, c->attempts, (long long)j->plan.pending,
		  (long long)j->plan.total, j->n_suspects);
	pthread_mutex_lock(&r->lock);
	j->owner = owner_get(r, c);
	j->next_job = r->jobs;
	r->jobs = j;
	wake_lanes(r);
	pthread_mutex_unlock(&r->lock);
}

/* Claims one job (newcomer: only of a user with no job running) and
 * plans it. Returns 1 when a job was claimed, 0 when the queue is empty,
 * -1 on a database error. A job whose pipeline or input cannot run ends
 * failed here with the reason. */
static int claim_one(struct runner *r, struct dgen_db *db, struct dgen_llm_handle *h,
		     bool newcomer)
{
	struct dgen_claim c;
	struct dgen_err err = DGEN_ERR_INIT, ferr = DGEN_ERR_INIT;
	struct job *j;
	int rc = newcomer ? queue_claim_newcomer(db, r->runner_id, r->lease_ms, &c, &err)
			  : queue_claim(db, r->runner_id, r->lease_ms, &c, &err);

	if (rc <= 0) {
		if (rc < 0 && err.code != DGEN_EBUSY)
			dgen_error("claim failed: %s", err.msg);
		if (rc < 0)
			storage_fault(r, &err);
		dgen_err_clear(&err);
		return rc;
	}
	/* Our own job, back from the queue: its lease ran out while the
	 * database was too busy to renew it and a rescue put it back. The
	 * claim renewed the lease; the job we hold goes on. */
	if (holds_job(r, c.job_id)) {
		dgen_warn("job %lld came back to this runner; going on with it",
			  (long long)c.job_id);
		goto out;
	}
	j = dgen_xcalloc(1, sizeof *j);
	j->id = c.job_id;
	j->final = DGEN_JOB_RUNNING;
	atomic_init(&j->cancel, 0);
	atomic_init(&j->cur_block, NULL);
	atomic_init(&j->cur_step, 0);
	atomic_init(&j->wait_until_ms, 0);
	if (plan_job(r, db, h, &c, j, &err) == 0) {
		add_job(r, j, &c);
		goto out;
	}
	dgen_warn("job %lld cannot run: %s", (long long)c.job_id, err.msg);
	if (err.code != DGEN_EBUSY)
		queue_finish_job(db, c.job_id, DGEN_JOB_FAILED, err.msg, &ferr);
	else
		queue_release(db, c.job_id, r->runner_id, &ferr);
	job_free(j);
out:
	queue_claim_free(&c);
	dgen_err_clear(&err);
	dgen_err_clear(&ferr);
	return 1;
}

/* The status a job ends with once nothing of it is in flight. */
static enum dgen_job_status final_status(struct dgen_db *db, struct job *j)
{
	struct dgen_job_counters cnt = { 0 };
	struct dgen_err err = DGEN_ERR_INIT;

	if (j->final != DGEN_JOB_RUNNING)
		return j->final;
	if (queue_counters(db, j->id, &cnt, &err) == 0 && cnt.records_generated == 0 &&
	    cnt.records_failed > 0) {
		free(j->final_error);
		j->final_error = dgen_xstrdup("every execution failed");
		dgen_err_clear(&err);
		return DGEN_JOB_FAILED;
	}
	dgen_err_clear(&err);
	return DGEN_JOB_COMPLETED;
}

/*
 * Ends a job nothing of which is in flight or left to hand out: hands it
 * back to the queue when stopping, or when some of its units could not be
 * stored (the next claim runs them); else ends it with its final status.
 * False when that write failed for a reason that passes (busy, storage):
 * the job stays and is tried again, unless give_up (the grace after a
 * stop is over; its lease then runs out and a rescue takes it back).
 */
static bool end_job(struct runner *r, struct dgen_db *db, struct job *j, bool releasing,
		    bool give_up)
{
	struct dgen_err err = DGEN_ERR_INIT;
	bool release = j->final == DGEN_JOB_RUNNING &&
		       ((releasing && j->plan.pending > 0) || j->unstored > 0);
	enum dgen_job_status st = DGEN_JOB_RUNNING;
	int rc;

	if (j->lost)
		return true;
	if (release) {
		rc = queue_release(db, j->id, r->runner_id, &err);
	} else {
		st = final_status(db, j);
		rc = queue_finish_job(db, j->id, st, j->final_error, &err);
	}
	if (rc < 0) {
		storage_fault(r, &err);
		if (!j->end_failed)
			dgen_error("job %lld: cannot %s it yet: %s", (long long)j->id,
				   release ? "hand back" : "end", err.msg);
		j->end_failed = true;
		dgen_err_clear(&err);
		return give_up || err.code != DGEN_EBUSY;
	}
	if (release)
		dgen_info("job %lld released to the queue%s", (long long)j->id,
			  j->unstored ? " (units left unstored)" : "");
	else
		dgen_info("job %lld %s%s%s", (long long)j->id, jobs_status_name(st),
			  j->final_error ? ": " : "", j->final_error ? j->final_error : "");
	return true;
}

/* Lease, cancel and time limit of each job; ends the jobs that are done.
 * Called with r->lock held; drops it around database calls. */
static void tend_jobs(struct runner *r, struct dgen_db *db, bool releasing, bool give_up)
{
	struct job **pp = &r->jobs;
	double now = dgen_clock_mono();

	while (*pp) {
		struct job *j = *pp;
		struct dgen_err err = DGEN_ERR_INIT;
		bool stop_now = false, ended;
		int rc;

		if (j->deadline > 0 && now >= j->deadline && !j->stop)
			job_stop(j, DGEN_JOB_STOPPED, "Constraint exceeded: max_total_execution_time");
		if (!j->lost && now - j->last_poll >= CANCEL_POLL_SECONDS) {
			j->last_poll = now;
			pthread_mutex_unlock(&r->lock);
			rc = queue_should_stop(db, j->id, &stop_now, &err);
			pthread_mutex_lock(&r->lock);
			if (rc == 0 && stop_now)
				job_stop(j, DGEN_JOB_CANCELLED, NULL);
		}
		if (!j->lost && now - j->last_renew >= (double)r->lease_ms / 3000.0) {
			j->last_renew = now;
			pthread_mutex_unlock(&r->lock);
			rc = queue_renew(db, j->id, r->runner_id, r->lease_ms, &err);
			if (rc < 0)
				storage_fault(r, &err);
			pthread_mutex_lock(&r->lock);
			if (rc == 0)
				job_lose(j, "");
		}
		if (!j->lost && now - j->last_progress >= PROGRESS_SECONDS) {
			j->last_progress = now;
			show_progress(r, db, j, &err);
		}
		dgen_err_clear(&err);
		if (j->in_flight > 0 || job_has_work(j)) {
			pp = &j->next_job;
			continue;
		}
		/* Nothing in flight and nothing more to hand out: end it. Only
		 * this thread changes the list, so j stays at *pp meanwhile. */
		pthread_mutex_unlock(&r->lock);
		ended = end_job(r, db, j, releasing, give_up);
		pthread_mutex_lock(&r->lock);
		if (!ended) {
			pp = &j->next_job;
			continue;
		}
		*pp = j->next_job;
		if (r->group_job == j) {
			r->group_job = NULL;
			r->group_left = 0;
		}
		owner_drop(r, j);
		job_free(j);
	}
}

static void wait_done(struct runner *r, double seconds)
{
	struct timespec ts;
	long ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = ts.tv_nsec + (long)(seconds * 1e9);
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	pthread_cond_timedwait(&r->done, &r->lock, &ts);
}

static void runner_init(struct runner *r, const struct dgen_config *cfg, const char *host)
{
	memset(r, 0, sizeof *r);
	r->cfg = cfg;
	r->lease_ms = (int64_t)cfg->lease_seconds * 1000;
	r->wal_limit = cfg->wal_limit > 0 ? (int64_t)cfg->wal_limit : DGEN_DB_WAL_LIMIT_DEFAULT;
	snprintf(r->runner_id, sizeof r->runner_id, "%s:%ld", host, (long)getpid());
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->commit_lock, NULL);
	pthread_cond_init(&r->commit_wake, NULL);
	pthread_cond_init(&r->done, NULL);
}

static void runner_destroy(struct runner *r)
{
	while (r->jobs) {
		struct job *j = r->jobs;

		r->jobs = j->next_job;
		owner_drop(r, j);
		job_free(j);
	}
	exec_free(r->exec);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->commit_lock);
	pthread_cond_destroy(&r->commit_wake);
	pthread_cond_destroy(&r->done);
}

/* Opens a runner connection, waiting while the storage cannot be written
 * yet or the server cannot be reached, with backoff (startwait.h), one
 * line a try: the reason (naming the database, without its password) and
 * the next try. Told to stop meanwhile: -1 with err cleared. */
static int runner_db_wait(struct runner *r, struct dgen_db **db, volatile sig_atomic_t *terminate,
			  struct dgen_err *err)
{
	struct startwait sw;

	startwait_init(&sw);
	while (runner_db_open(r, db, err)) {
		long ms;

		/* a lock held past the busy timeout (another process
		 * migrating the schema) is waited out too */
		if (db_err_storage(err) == DB_STORAGE_OK && err->code != DGEN_EBUSY)
			return -1;
		ms = startwait_next_ms(&sw);
		dgen_error("cannot open the database yet (try %d): %s; next try in %.1f s",
			   sw.failures, err->msg, (double)ms / 1000.0);
		dgen_err_clear(err);
		if (!startwait_sleep(ms, terminate))
			return -1;
	}
	return 0;
}

/*
 * The committer, then the event loops: one per core (at most one per
 * unit in flight), sharing the units in flight between them; their
 * coroutines make their calls through the loops' waiter.
 */
static int start_lanes(struct runner *r, int concurrency, volatile sig_atomic_t *terminate,
		       struct dgen_err *err)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cores < 1 ? 1 : cores > MAX_LANES ? MAX_LANES : (int)cores;

	if (n > concurrency)
		n = concurrency > 0 ? concurrency : 1;
	if (runner_db_wait(r, &r->commit_db, terminate, err))
		return -1;
	if (pthread_create(&r->committer, NULL, committer_main, r) != 0)
		return dgen_err_set(err, DGEN_EIO, "cannot start the committer thread");
	r->committer_started = true;
	llm_set_waiter(&evloop_waiter);
	r->lanes = dgen_xcalloc((size_t)n, sizeof *r->lanes);
	r->n_lanes = n;
	for (int i = 0; i < n; i++) {
		struct lane *ln = &r->lanes[i];
		int cap = concurrency / n + (i < concurrency % n);

		ln->r = r;
		if (runner_db_wait(r, &ln->db, terminate, err) ||
		    evloop_start(&ln->loop, cap, &lane_ops, ln, err))
			return -1;
	}
	return 0;
}

/* Units in flight end first (their commits need the committer), then
 * the committer, with nothing left queued. The loops are taken from
 * wake_lanes() first, under r->lock: a unit ending on one loop may still
 * wake the others while they stop, and must not find one freed. */
static void stop_lanes(struct runner *r)
{
	struct evloop *loops[MAX_LANES];
	int n = r->n_lanes;

	pthread_mutex_lock(&r->lock);
	r->quit = true;
	for (int i = 0; i < n; i++) {
		loops[i] = r->lanes[i].loop;
		r->lanes[i].loop = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < n; i++) {
		evloop_stop(loops[i]);
		db_close(r->lanes[i].db);
	}
	free(r->lanes);
	r->lanes = NULL;
	r->n_lanes = 0;
	llm_set_waiter(NULL);
	if (r->committer_started) {
		pthread_mutex_lock(&r->commit_lock);
		r->commit_quit = true;
		pthread_cond_signal(&r->commit_wake);
		pthread_mutex_unlock(&r->commit_lock);
		pthread_join(r->committer, NULL);
		r->committer_started = false;
	}
	db_close(r->commit_db);
	r->commit_db = NULL;
}

/* A socket per unit in flight: the soft limit on open files goes up to
 * the hard one when the default would not do. */
static void raise_nofile(int concurrency)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max ||
	    rl.rlim_cur >= (rlim_t)concurrency * 2 + 256)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		dgen_warn("cannot raise the open files limit: %s", strerror(errno));
}

/* On the first pass after *terminate: no more units are handed out, and
 * the grace period starts; once it is over, in-flight units are cancelled.
 * Called with r->lock held. */
static void grace(struct runner *r, double now, bool terminating, double *grace_end)
{
	if (terminating && *grace_end == 0) {
		*grace_end = now + r->cfg->grace_seconds;
		dgen_info("stopping: no more claims, %d units in flight, grace %ds", r->running,
			  r->cfg->grace_seconds);
		for (struct job *j = r->jobs; j; j = j->next_job)
			j->stop = true;
	}
	if (*grace_end > 0 && now >= *grace_end)
		for (struct job *j = r->jobs; j; j = j->next_job)
			atomic_store(&j->cancel, 1);
}

/* Every HEARTBEAT_SECONDS, tells the queue this runner is alive; every
 * half lease (and not while stopping), takes back the jobs of runners that
 * are gone or whose lease ran out. */
/* Hands the stored models to the engine (an unchanged set keeps its
 * clients); a store that cannot be read keeps the set there was. */
static void runner_set_models(struct dgen_exec *x, struct dgen_db *db,
			      const struct dgen_config *cfg)
{
	struct dgen_model_list llm, emb;
	struct dgen_err e = DGEN_ERR_INIT;

	if (saved_models_load_all(db, cfg, &llm, &emb, &e) == 0)
		exec_set_models(x, &llm, &emb);
	else
		dgen_warn("models not loaded: %s", e.msg);
	dgen_err_clear(&e);
}

static void housekeeping(struct runner *r, struct dgen_db *db, const char *host, double now,
			 bool terminating, double *last_beat, double *last_rescue)
{
	struct dgen_err e = DGEN_ERR_INIT;
	bool down = r->storage_down;
	int rc;

	/* while the storage is down, the heartbeat is its probe */
	if (now - *last_beat >= (down ? STORAGE_RETRY_SECONDS : HEARTBEAT_SECONDS)) {
		*last_beat = now;
		runner_set_models(r->exec, db, r->cfg); /* models added or deleted since */
		rc = queue_heartbeat(db, r->runner_id, (long)getpid(), host, &e);
		storage_probe(r, db, rc, &e);
		if (rc < 0 && db_err_storage(&e) == DB_STORAGE_OK)
			dgen_warn("heartbeat: %s", e.msg);
		dgen_err_clear(&e);
		if (rc == 0) {
			int64_t others = 0;

			if (queue_other_runners(db, r->runner_id, OTHERS_ALIVE_SECONDS, &others, &e) == 0)
				r->others_alive = others > 0;
			dgen_err_clear(&e);
		}
	}
	/* Not while the storage is down, nor right after: the leases held
	 * here may have run out meanwhile, and are renewed first. */
	pthread_mutex_lock(&r->lock);
	down = r->storage_down ||
	       (r->storage_back_at > 0 &&
		now - r->storage_back_at < (double)r->cfg->lease_seconds / 2.0);
	pthread_mutex_unlock(&r->lock);
	if (!terminating && !down &&
	    now - *last_rescue >= (double)r->cfg->lease_seconds / 2.0) {
		int64_t n = 0;

		*last_rescue = now;
		rescue_dead_local(r, db, host);
		if (queue_rescue_expired(db, dgen_clock_now_ms(), r->cfg->max_attempts, &n, &e))
			dgen_warn("rescue: %s", e.msg);
		else if (n > 0)
			dgen_info("rescued %lld jobs whose lease expired", (long long)n);
		dgen_err_clear(&e);
	}
}

/*
 * Keeps the WAL file under r->wal_limit: past it, and whenever the runner
 * is idle, a checkpoint copies the WAL back and truncates it to zero. Under
 * load the autocheckpoint keeps the WAL small unless readers pin old
 * snapshots; then this waits up to CHECKPOINT_WAIT_MS for them, holding
 * new writers back, and tries again a second later if they outlast it.
 */
static void wal_check(struct runner *r, struct dgen_db *db, double now, double *last_wal)
{
	struct dgen_err e = DGEN_ERR_INIT;
	int64_t size, after = 0;
	bool idle;

	if (now - *last_wal < WAL_CHECK_SECONDS)
		return;
	*last_wal = now;
	size = db_wal_size(db);
	pthread_mutex_lock(&r->lock);
	idle = !r->jobs && !r->storage_down;
	pthread_mutex_unlock(&r->lock);
	if (size <= r->wal_limit && !(idle && size > 0))
		return;
	if (db_checkpoint(db, idle ? 200 : CHECKPOINT_WAIT_MS, &after, &e) == 0)
		dgen_debug("WAL checkpointed: %lld -> %lld bytes", (long long)size,
			   (long long)after);
	else if (size > r->wal_limit)
		dgen_warn("WAL is %lld bytes (limit %lld) and cannot be checkpointed yet: %s",
			  (long long)size, (long long)r->wal_limit, e.msg);
	dgen_err_clear(&e);
}

/*
 * Whether to leave the queue to the other runners a moment. A runner whose
 * own units fill its concurrency (those in flight and those its jobs will
 * still hand out) would give a job it claims now only a share of its
 * slots, while an idle runner would give it all of its own; with other
 * runners alive it leaves a queued job to them for CLAIM_DEFER_SECONDS
 * (idle runners claim at once: NOTIFY on PostgreSQL, the poll on sqlite),
 * then claims it anyway, since the others may be busy too. Alone, or with
 * room to spare, it claims at once, as a job queued behind a long one
 * should start. Called with r->lock held.
 */
static bool claim_defer(struct runner *r, struct dgen_db *db)
{
	struct dgen_err e = DGEN_ERR_INIT;
	int64_t work = r->running;
	bool any = false;
	double now;
	int rc;

	for (struct job *j = r->jobs; j; j = j->next_job)
		if (!j->stop)
			work += j->plan.pending + (int64_t)j->n_deferred;
	if (!r->others_alive || !r->jobs || work < r->cfg->runner_concurrency) {
		r->defer_since = 0;
		return false;
	}
	pthread_mutex_unlock(&r->lock);
	rc = queue_any_queued(db, &any, &e);
	pthread_mutex_lock(&r->lock);
	dgen_err_clear(&e);
	if (rc < 0 || !any) { /* nothing to leave (an error: the claim says) */
		r->defer_since = 0;
		return rc == 0;
	}
	now = dgen_clock_mono();
	if (r->defer_since == 0)
		r->defer_since = now;
	return now - r->defer_since < CLAIM_DEFER_SECONDS;
}

/* Claims up to MAX_ACTIVE_JOBS: a job queued behind a long one starts at
 * once and shares the workers (round robin) instead of waiting for it to
 * end; past it, jobs of users with nothing running, so a runner full of
 * one user's jobs still serves the next user. Called with r->lock held. */
static void claim_more(struct runner *r, struct dgen_db *db, struct dgen_llm_handle *h)
{
	for (;;) {
		size_t active = 0;
		int rc;

		if (r->storage_down)
			return;
		for (struct job *j = r->jobs; j; j = j->next_job)
			active++;
		if (active >= MAX_ACTIVE_JOBS + MAX_NEWCOMER_JOBS || claim_defer(r, db))
			return;
		pthread_mutex_unlock(&r->lock);
		rc = claim_one(r, db, h, active >= MAX_ACTIVE_JOBS);
		pthread_mutex_lock(&r->lock);
		r->defer_since = 0;
		if (rc <= 0)
			return;
	}
}

/* The claiming loop: until *terminate (and the grace period), or with
 * once until nothing is queued or running. */
static void claim_loop(struct runner *r, struct dgen_db *db, struct dgen_llm_handle *h,
		       const struct dgen_runner_opts *opts, const char *host)
{
	double last_beat = 0, last_rescue = 0, last_wal = 0, grace_end = 0;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		double now = dgen_clock_mono();
		bool terminating = *opts->terminate != 0;

		grace(r, now, terminating, &grace_end);
		pthread_mutex_unlock(&r->lock);
		housekeeping(r, db, host, now, terminating, &last_beat, &last_rescue);
		wal_check(r, db, now, &last_wal);
		pthread_mutex_lock(&r->lock);
		if (!terminating)
			claim_more(r, db, h);
		tend_jobs(r, db, terminating, grace_end > 0 && now >= grace_end);
		if (!r->jobs && opts->once && !terminating)
			claim_more(r, db, h); /* the jobs just ended: the queue says if it is done */
		if (!r->jobs && (terminating || opts->once))
			break;
		if (r->jobs) {
			wait_done(r, (double)r->cfg->poll_ms / 1000.0);
		} else { /* idle: a job queued wakes it at once (PostgreSQL) */
			pthread_mutex_unlock(&r->lock);
			queue_wait(db, r->cfg->poll_ms);
			pthread_mutex_lock(&r->lock);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* The main thread's database connection, the execution environment (the
 * LLM client is made here, so a bad LLM setting stops the start), the
 * workers, then the claiming loop until it is told to stop. */
int runner_run(const struct dgen_runner_opts *opts, struct dgen_err *err)
{
	const struct dgen_config *cfg = opts->cfg;
	struct runner r;
	struct dgen_db *db = NULL;
	struct dgen_llm_handle *h = NULL;
	char host[64] = "localhost";
	int rc = -1, concurrency = cfg->runner_concurrency;

	gethostname(host, sizeof host - 1);
	runner_init(&r, cfg, host);
	raise_nofile(concurrency);
	/* A database on storage that cannot be written yet (read-only, full)
	 * is waited for: the runner goes on by itself. */
	if (runner_db_wait(&r, &db, opts->terminate, err))
		goto out;
	r.exec = exec_new(cfg, blocks_registry());
	runner_set_models(r.exec, db, cfg);
	if (!(h = exec_handle_new(r.exec, err)))
		goto out;
	if (start_lanes(&r, concurrency, opts->terminate, err) == 0) {
		dgen_info("runner %s started: %d units in flight on %d event loops, lease %ds, database %s",
			  r.runner_id, concurrency, r.n_lanes, cfg->lease_seconds,
			  cfg->database_path);
		claim_loop(&r, db, h, opts, host);
		rc = 0;
	}
	stop_lanes(&r);
	dgen_info("runner %s stopped", r.runner_id);
out:
	if (rc && *opts->terminate && !err->code) { /* stopped while it waited */
		dgen_info("runner %s stopped before the database could be opened", r.runner_id);
		rc = 0;
	}
	exec_handle_free(h);
	runner_destroy(&r);
	db_close(db);
	return rc;
}
