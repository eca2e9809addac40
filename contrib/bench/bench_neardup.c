/*
 * bench_neardup - NearDuplicate's store index under load (contrib/bench-neardup).
 *
 *   bench_neardup DBFILE [N] [WORKERS]
 *
 * Phase 1: N records (default 100 000) of one job checked one after the
 * other; every 10th is a light edit of an earlier one. Prints the time per
 * check over windows ending at 1 000, 10 000, 50 000 and N records: with
 * the LSH band index it stays flat as the job grows (a linear scan would
 * grow a hundredfold), and the count of duplicates found.
 * Phase 2: WORKERS threads (default 64), each on its own connection, check
 * pairs of identical records at once; exactly one of each pair must come
 * first. Exits 1 when it does not.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/clock.h"
#include "dgen/db.h"
#include "dgen/jobs.h"
#include "dgen/minhash.h"
#include "dgen/neardup.h"
#include "dgen/saved_pipelines.h"

#define PERM 128
#define THRESHOLD 0.8

static const char *DB;

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 24 pseudo-words from a vocabulary of 20 000. */
static void text_of(uint64_t seed, char *out, size_t cap)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < 24 && n + 16 < cap; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		n += (size_t)snprintf(out + n, cap - n, "%sw%llu", i ? " " : "",
				      (unsigned long long)(s % 20000));
	}
}

static int check(struct dgen_db *db, int64_t job, int64_t unit, const char *text, int64_t *dup)
{
	uint32_t sig[PERM];
	uint64_t keys[PERM];
	size_t bands = minhash_bands_for(PERM, THRESHOLD);
	struct dgen_err err = DGEN_ERR_INIT;
	int64_t rec;
	double sim;
	int rc;

	minhash_signature(text, strlen(text), 3, sig, PERM);
	minhash_band_keys(sig, PERM, bands, keys);
	rc = neardup_check(db, job, unit, sig, PERM, keys, bands, THRESHOLD, dup, &rec, &sim, &err);
	if (rc)
		fprintf(stderr, "bench_neardup: %s\n", err.msg);
	dgen_err_clear(&err);
	return rc;
}

static int64_t new_job(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;
	static const char input[] = "[{\"metadata\":{}}]";
	int64_t pid = 0, id = 0;
	struct dgen_job_new j = { 0 };

	if (saved_pipelines_insert(db, NULL, "bench", "{\"name\":\"bench\",\"blocks\":[]}", &pid, &err) < 0)
		return -1;
	j.pipeline_id = pid;
	j.input_kind = DGEN_INPUT_JSON;
	j.input = input;
	j.input_len = sizeof(input) - 1;
	j.total_seeds = 1;
	if (jobs_insert(db, NULL, &j, &id, NULL, &err) < 0)
		return -1;
	return id;
}

struct worker {
	int64_t job;
	int index, pairs, workers;
	int64_t *dup; /* per unit */
	pthread_barrier_t *start;
	int rc;
};

/* Worker w checks units w, w + workers, ...; unit u's text is pair u / 2,
 * so the two of a pair run on neighbouring workers at the same moment. */
static void *worker(void *arg)
{
	struct worker *w = arg;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db = NULL;
	char text[512];

	w->rc = db_open(&db, DB, 120000, &err);
	pthread_barrier_wait(w->start);
	for (int u = w->index; w->rc == 0 && u < w->pairs * 2; u += w->workers) {
		text_of(1000000 + (uint64_t)(u / 2), text, sizeof text);
		w->rc = check(db, w->job, u, text, &w->dup[u]);
	}
	db_close(db);
	dgen_err_clear(&err);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 100000;
	int workers = argc > 3 ? atoi(argv[3]) : 64, pairs = 2048, bad = 0;
	long marks[] = { 1000, 10000, 50000, n };
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db = NULL;
	int64_t job, dup, found = 0, expected = 0, *dups;
	double t0, w0;
	size_t mi = 0;
	char text[512];

	if (argc < 2 || n < 1000 || workers < 2) {
		fprintf(stderr, "usage: bench_neardup DBFILE [N >= 1000] [WORKERS >= 2]\n");
		return 2;
	}
	DB = argv[1];
	if (db_open(&db, DB, 60000, &err) < 0 || (job = new_job(db)) < 0) {
		fprintf(stderr, "bench_neardup: %s\n", err.msg);
		return 2;
	}
	printf("phase 1: %ld records of one job, %d-entry MinHash, %zu LSH bands, threshold %.2f\n",
	       n, PERM, minhash_bands_for(PERM, THRESHOLD), THRESHOLD);
	printf("%10s %14s %16s %12s\n", "records", "us/check", "window", "duplicates");
	t0 = w0 = dgen_clock_mono();
	for (long i = 0; i < n; i++) {
		if (i % 10 == 9) {
			/* a light edit of an earlier record: one word appended */
			size_t len;
			uint64_t src = next() % (uint64_t)i;

			/* the source was stored as text_of(src) unless it is an edit itself */
			expected += src % 10 != 9;
			text_of(src, text, sizeof text - 16);
			len = strlen(text);
			snprintf(text + len, sizeof text - len, " again");
		} else {
			text_of((uint64_t)i, text, sizeof text);
		}
		if (check(db, job, i, text, &dup) != 0)
			return 1;
		found += dup >= 0;
		if (i + 1 == marks[mi]) {
			double now = dgen_clock_mono();
			long from = mi ? marks[mi - 1] : 0;

			printf("%10ld %14.1f %7ld..%-8ld %12lld\n", i + 1,
			       (now - w0) * 1e6 / (double)(i + 1 - from), from + 1, i + 1, (long long)found);
			fflush(stdout);
			w0 = now;
			while (mi < 3 && marks[mi] <= i + 1)
				mi++;
		}
	}
	printf("total %.1f s; %lld duplicates planted, %lld found (chance matches count too)\n",
	       dgen_clock_mono() - t0, (long long)expected, (long long)found);

	/* phase 2 */
	{
		pthread_t *th = calloc((size_t)workers, sizeof *th);
		struct worker *w = calloc((size_t)workers, sizeof *w);
		pthread_barrier_t start;
		int64_t j2 = new_job(db);
		int failed = 0;

		dups = calloc((size_t)pairs * 2, sizeof *dups);
		pthread_barrier_init(&start, NULL, (unsigned)workers);
		t0 = dgen_clock_mono();
		for (int i = 0; i < workers; i++) {
			w[i] = (struct worker){ j2, i, pairs, workers, dups, &start, 0 };
			pthread_create(&th[i], NULL, worker, &w[i]);
		}
		for (int i = 0; i < workers; i++) {
			pthread_join(th[i], NULL);
			failed += w[i].rc != 0;
		}
		for (int p = 0; p < pairs; p++) {
			int64_t a = dups[2 * p], b = dups[2 * p + 1];
			/* exactly one first, the other pointing at it */
			if (!((a == -1 && b == 2 * p) || (b == -1 && a == 2 * p + 1)))
				bad++;
		}
		printf("phase 2: %d workers, %d pairs of identical records checked at once in %.1f s: "
		       "%d pair(s) wrong, %d worker(s) failed\n", workers, pairs,
		       dgen_clock_mono() - t0, bad, failed);
		bad += failed;
		pthread_barrier_destroy(&start);
		free(th);
		free(w);
		free(dups);
	}
	db_close(db);
	return bad ? 1 : 0;
}
