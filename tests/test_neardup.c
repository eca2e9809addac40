/*
 * test_neardup.c - NearDuplicate's index in the store: earlier records of
 * the same job only, the record id once stored, a re-checked unit keeps
 * its answer (restarts), and 64 workers checking the same text at once:
 * exactly one of them is first.
 */
#include <pthread.h>

#include "dgen/minhash.h"
#include "dgen/neardup.h"
#include "store_test.h"

#define PERM 128
#define WORKERS 64

struct sig {
	uint32_t s[PERM];
	uint64_t k[PERM];
	size_t bands;
};

static void sig_of(const char *text, struct sig *g)
{
	minhash_signature(text, strlen(text), 3, g->s, PERM);
	g->bands = minhash_bands_for(PERM, 0.8);
	minhash_band_keys(g->s, PERM, g->bands, g->k);
}

static int check(struct dgen_db *db, int64_t job, int64_t unit, const char *text, int64_t *dup,
		 int64_t *rec, double *sim)
{
	struct sig g;
	struct dgen_err err = DGEN_ERR_INIT;
	int rc;

	sig_of(text, &g);
	rc = neardup_check(db, job, unit, g.s, PERM, g.k, g.bands, 0.8, dup, rec, sim, &err);
	if (rc)
		diag("neardup_check: %s", err.msg);
	dgen_err_clear(&err);
	return rc;
}

static const char A[] = "the quick brown fox jumps over the lazy dog near the river bank";
static const char A2[] = "The quick brown fox jumps over the lazy dog, near the river bank!";
static const char B[] = "quarterly tax reports are due at the end of every third month";

static void test_basic(void)
{
	struct dgen_db *db = st_open("nd.db");
	int64_t pid = st_pipeline(db, "p"), job = st_job(db, pid, NULL), other = st_job(db, pid, NULL);
	int64_t dup, rec;
	double sim;

	ok(check(db, job, 0, A, &dup, &rec, &sim) == 0 && dup == -1 && sim == 0,
	   "the first record of a job is no duplicate");
	ok(check(db, job, 1, B, &dup, &rec, &sim) == 0 && dup == -1, "an unrelated record neither");
	ok(check(db, job, 2, A2, &dup, &rec, &sim) == 0 && dup == 0 && rec == -1 && sim == 1.0,
	   "the same words again duplicate unit 0 (not stored yet: no record id)");
	ok(check(db, other, 0, A, &dup, &rec, &sim) == 0 && dup == -1,
	   "another job's records do not count");
	st_record(db, job, 0, "out");
	ok(check(db, job, 3, A, &dup, &rec, &sim) == 0 && dup == 0 && rec > 0,
	   "once unit 0 is stored, duplicate_of is its record id (%lld)", (long long)rec);
	/* a restart runs units 2 and 0 again */
	ok(check(db, job, 2, A2, &dup, &rec, &sim) == 0 && dup == 0,
	   "a unit checked again keeps its answer");
	ok(check(db, job, 0, A, &dup, &rec, &sim) == 0 && dup == -1,
	   "the first unit checked again is still first, though later ones match it");
	st_integrity(db);
	db_close(db);
}

struct worker {
	int64_t job, unit, dup;
	int rc;
	pthread_barrier_t *start;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db = NULL;
	char *p = st_target("nd.db");
	int64_t rec;
	double sim;

	w->rc = db_open(&db, p, 60000, &err);
	free(p);
	pthread_barrier_wait(w->start);
	if (w->rc == 0)
		w->rc = check(db, w->job, w->unit, "two identical records finishing at the same moment",
			      &w->dup, &rec, &sim);
	else
		diag("db_open: %s", err.msg);
	db_close(db);
	dgen_err_clear(&err);
	return NULL;
}

static void test_concurrent(void)
{
	struct dgen_db *db = st_open("nd.db");
	int64_t job = st_job(db, st_pipeline(db, "q"), NULL);
	struct worker w[WORKERS];
	pthread_t th[WORKERS];
	pthread_barrier_t start;
	int firsts = 0, failed = 0, pointing = 0;
	int64_t first = -1;

	pthread_barrier_init(&start, NULL, WORKERS);
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ job, 1000 + i, -2, -1, &start };
		pthread_create(&th[i], NULL, worker, &w[i]);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < WORKERS; i++) {
		failed += w[i].rc != 0;
		if (w[i].rc == 0 && w[i].dup == -1) {
			firsts++;
			first = w[i].unit;
		}
	}
	for (int i = 0; i < WORKERS; i++)
		pointing += w[i].rc == 0 && w[i].dup == first;
	is_int(failed, 0, "64 workers checked at once without a store error");
	is_int(firsts, 1, "of 64 identical records finishing at once, exactly one is not a duplicate");
	is_int(pointing, WORKERS - 1, "the 63 others are duplicates of that one");
	pthread_barrier_destroy(&start);
	db_close(db);
}

int main(void)
{
	st_setup();
	test_basic();
	test_concurrent();
	st_teardown();
	return done_testing();
}
