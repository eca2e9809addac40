/*
 * test_budget.c - a model's rate budget on an injected clock: the
 * in-flight ceiling halves on 429s and grows back with successes, a
 * Retry-After holds every request and then lets one go first, requests
 * and tokens per minute refill, and the table keeps a model's state
 * across lookups.
 */
#include "config.h"

#include "dgen/budget.h"
#include "tap.h"

#define MAXN 128

/* Grants as many requests as the budget allows at now; their tickets go
 * to t[]. Returns how many. */
static int fill(struct dgen_budget *b, double now, long est, struct budget_ticket *t, int max,
		enum budget_verdict *last, long *wait)
{
	int n = 0;

	while (n < max && (*last = budget_acquire(b, now, est, &t[n], wait)) == BUDGET_GRANTED)
		n++;
	return n;
}

static void test_ceiling(void)
{
	struct dgen_budget_limits lim = { 8, 0, 0 };
	struct dgen_budget *b = budget_new(&lim);
	struct budget_ticket t[MAXN];
	enum budget_verdict v;
	long wait;
	int n;
	double now = 100;

	n = fill(b, now, 10, t, MAXN, &v, &wait);
	is_int(n, 8, "max_in_flight 8: eight requests go at once");
	ok(v == BUDGET_FULL && wait > 0, "the ninth waits for the configured ceiling (%ld ms)", wait);
	budget_release(b, now, &t[0], BUDGET_OK, 0, -1);
	n = fill(b, now, 10, t, 1, &v, &wait);
	is_int(n, 1, "a finished request frees its slot");

	/* every request in flight comes back 429: one halving only */
	for (int i = 0; i < 8; i++)
		budget_release(b, now, &t[i], BUDGET_SLOW_DOWN, 0, -1);
	is_int(budget_ceiling(b), 4, "eight 429s of one burst halve the ceiling once: 8 -> 4");
	is_int(budget_in_flight(b), 0, "nothing left in flight");
	n = fill(b, now, 10, t, MAXN, &v, &wait);
	is_int(n, 4, "four go now");
	ok(v == BUDGET_THROTTLED, "the fifth waits on the lowered ceiling");
	budget_release(b, now, &t[0], BUDGET_SLOW_DOWN, 0, -1);
	is_int(budget_ceiling(b), 2, "a 429 of the new generation halves again: 4 -> 2");
	budget_release(b, now, &t[1], BUDGET_SLOW_DOWN, 0, -1);
	budget_release(b, now, &t[2], BUDGET_SLOW_DOWN, 0, -1);
	budget_release(b, now, &t[3], BUDGET_SLOW_DOWN, 0, -1);
	is_int(budget_ceiling(b), 2, "older refusals do not halve it further");
	for (int round = 0; round < 3; round++) {
		n = fill(b, now, 10, t, MAXN, &v, &wait);
		for (int i = 0; i < n; i++)
			budget_release(b, now, &t[i], BUDGET_SLOW_DOWN, 0, -1);
	}
	is_int(budget_ceiling(b), 1, "the ceiling never goes below 1");

	/* growth: one per two successes while requests are waiting */
	for (int i = 0; i < 40 && budget_ceiling(b) < 8; i++) {
		n = fill(b, now, 10, t, MAXN, &v, &wait);
		for (int k = 0; k < n; k++)
			budget_release(b, now, &t[k], BUDGET_OK, 0, -1);
	}
	is_int(budget_ceiling(b), 8, "successes bring the ceiling back to max_in_flight");
	n = fill(b, now, 10, t, MAXN, &v, &wait);
	ok(n == 8 && v == BUDGET_FULL, "and no further (%d in flight)", n);
	for (int k = 0; k < n; k++)
		budget_release(b, now, &t[k], BUDGET_OK, 0, -1);

	/* a 401 or a timeout says nothing about load */
	fill(b, now, 10, t, 1, &v, &wait);
	budget_release(b, now, &t[0], BUDGET_FAILED, 0, -1);
	is_int(budget_ceiling(b), 8, "other failures leave the ceiling alone");
	budget_free(b);
}

static void test_unlimited_growth(void)
{
	struct dgen_budget *b = budget_new(NULL);
	struct budget_ticket t[MAXN];
	enum budget_verdict v;
	long wait;
	int n, rounds = 0;

	n = fill(b, 0, 10, t, 64, &v, &wait);
	is_int(n, 64, "no limits: 64 requests go at once");
	budget_release(b, 0, &t[0], BUDGET_SLOW_DOWN, 0, -1);
	is_int(budget_ceiling(b), 32, "a 429 with 64 in flight: ceiling 32");
	for (int i = 1; i < 64; i++)
		budget_release(b, 0, &t[i], BUDGET_OK, 0, -1);
	/* 64 workers keep asking; each round trip all in flight succeed */
	while (budget_ceiling(b) < 64 && rounds < 20) {
		n = fill(b, 0, 10, t, 64, &v, &wait);
		for (int k = 0; k < n; k++)
			budget_release(b, 0, &t[k], BUDGET_OK, 0, -1);
		rounds++;
	}
	ok(budget_ceiling(b) >= 64 && rounds <= 3,
	   "32 -> 64 within three round trips of successes (%d)", rounds);
	budget_free(b);
}

static void test_retry_after(void)
{
	struct dgen_budget_limits lim = { 0, 0, 0 };
	struct dgen_budget *b = budget_new(&lim);
	struct budget_ticket t[MAXN], p, q;
	enum budget_verdict v;
	long wait;
	int n;

	n = fill(b, 10, 10, t, 4, &v, &wait);
	budget_release(b, 10, &t[0], BUDGET_SLOW_DOWN, 0, 2000);
	v = budget_acquire(b, 10.5, 10, &p, &wait);
	ok(v == BUDGET_PAUSED && wait >= 1400 && wait <= 1600,
	   "Retry-After 2 s: a new request waits the rest of it (%ld ms)", wait);
	is_int(budget_paused_ms(b, 11.0), 1001, "the pause is the model's, seen by everyone");
	for (int i = 1; i < n; i++)
		budget_release(b, 10.1, &t[i], BUDGET_OK, 0, -1);
	v = budget_acquire(b, 11.9, 10, &p, &wait);
	ok(v == BUDGET_PAUSED, "still paused just before it ends");
	v = budget_acquire(b, 12.01, 10, &p, &wait);
	ok(v == BUDGET_GRANTED && p.probe, "after it one request goes first");
	v = budget_acquire(b, 12.02, 10, &q, &wait);
	ok(v == BUDGET_PAUSED, "the others wait for it");
	budget_release(b, 12.1, &p, BUDGET_SLOW_DOWN, 0, 1000);
	v = budget_acquire(b, 12.2, 10, &q, &wait);
	ok(v == BUDGET_PAUSED && wait > 800, "a refused probe pauses everyone again (%ld ms)", wait);
	is_int(budget_ceiling(b), 2, "a refused probe does not halve the ceiling");
	v = budget_acquire(b, 13.2, 10, &p, &wait);
	ok(v == BUDGET_GRANTED && p.probe, "next probe");
	budget_release(b, 13.3, &p, BUDGET_OK, 0, -1);
	n = fill(b, 13.3, 10, t, MAXN, &v, &wait);
	ok(n == 2 && v == BUDGET_THROTTLED, "a probe that got through opens the way up to the ceiling (%d)", n);
	for (int i = 0; i < n; i++)
		budget_release(b, 13.4, &t[i], BUDGET_OK, 0, -1);

	/* a probe refused without Retry-After still spaces the next one */
	budget_release(b, 14, (fill(b, 14, 10, t, 1, &v, &wait), &t[0]), BUDGET_SLOW_DOWN, 0, 3000);
	v = budget_acquire(b, 17.1, 10, &p, &wait);
	budget_release(b, 17.2, &p, BUDGET_SLOW_DOWN, 0, -1);
	v = budget_acquire(b, 17.5, 10, &q, &wait);
	ok(v == BUDGET_PAUSED && wait >= 600, "a probe's bare 429 pauses everyone a moment (%ld ms)", wait);
	budget_free(b);
}

static void test_rpm(void)
{
	struct dgen_budget_limits lim = { 0, 60, 0 };
	struct dgen_budget *b = budget_new(&lim);
	struct budget_ticket t[MAXN];
	enum budget_verdict v;
	long wait;
	int n, total = 0;

	n = fill(b, 0, 10, t, MAXN, &v, &wait);
	ok(n == 1 && v == BUDGET_RATE && wait >= 900 && wait <= 1001,
	   "60 per minute: one now, the next in a second (%d, %ld ms)", n, wait);
	total = n;
	for (double now = 0.1; now <= 10.0; now += 0.1)
		total += fill(b, now, 10, t + total, MAXN - total, &v, &wait);
	ok(total >= 10 && total <= 11, "60 per minute: 10 or 11 requests in 10 s (%d)", total);
	for (int i = 0; i < total; i++)
		budget_release(b, 10, &t[i], BUDGET_OK, 0, -1);
	lim.requests_per_minute = 600;
	budget_set_limits(b, &lim);
	n = fill(b, 10, 10, t, MAXN, &v, &wait);
	is_int(n, 10, "a new limit applies at once: 600 per minute holds 10 at a time");
	budget_free(b);
}

static void test_tpm(void)
{
	struct dgen_budget_limits lim = { 0, 0, 6000 }; /* 100 tokens a second */
	struct dgen_budget *b = budget_new(&lim);
	struct budget_ticket t[4];
	enum budget_verdict v;
	long wait;

	v = budget_acquire(b, 0, 60, &t[0], &wait);
	ok(v == BUDGET_GRANTED, "60 of 100 tokens: goes");
	v = budget_acquire(b, 0, 60, &t[1], &wait);
	ok(v == BUDGET_RATE && wait >= 190 && wait <= 210, "another 60 waits for 20 more (%ld ms)", wait);
	budget_release(b, 0, &t[0], BUDGET_OK, 10, -1);
	v = budget_acquire(b, 0, 60, &t[1], &wait);
	ok(v == BUDGET_GRANTED, "the reply used only 10: the rest comes back at once");
	budget_release(b, 0, &t[1], BUDGET_SLOW_DOWN, 0, -1);
	v = budget_acquire(b, 0, 90, &t[2], &wait);
	ok(v == BUDGET_GRANTED, "a refused request costs no tokens");
	budget_release(b, 0, &t[2], BUDGET_OK, 0, -1);
	v = budget_acquire(b, 0.5, 500, &t[3], &wait);
	ok(v == BUDGET_RATE, "a request bigger than the bucket waits for it to be full");
	v = budget_acquire(b, 1.0, 500, &t[3], &wait);
	ok(v == BUDGET_GRANTED, "then goes, leaving a debt");
	budget_release(b, 1.0, &t[3], BUDGET_OK, 0, -1);
	v = budget_acquire(b, 4.0, 50, &t[0], &wait);
	ok(v == BUDGET_RATE, "the debt of 400 tokens is paid before the next (%ld ms)", wait);
	v = budget_acquire(b, 5.6, 50, &t[0], &wait);
	ok(v == BUDGET_GRANTED, "and then it goes");
	budget_free(b);
}

static void test_table(void)
{
	struct dgen_budget_limits lim = { 4, 0, 0 }, lim2 = { 6, 0, 0 };
	struct dgen_budget *a = budget_get("gpt\nhttp://x/v1\nm", &lim), *b, *c;
	struct budget_ticket t;
	long wait;

	budget_acquire(a, 0, 1, &t, &wait);
	budget_release(a, 0, &t, BUDGET_SLOW_DOWN, 0, 5000);
	b = budget_get("gpt\nhttp://x/v1\nm", &lim2);
	ok(a == b, "the same model gets the same budget (a reload keeps it)");
	ok(budget_paused_ms(b, 1) > 3000, "with its pause");
	is_int(budget_ceiling(b), 2, "and its lowered ceiling under the new max_in_flight");
	c = budget_get("other\nhttp://x/v1\nm", &lim);
	ok(c != a && budget_paused_ms(c, 1) == 0, "another model is not paused");
	budget_table_free();
}

int main(void)
{
	test_ceiling();
	test_unlimited_growth();
	test_retry_after();
	test_rpm();
	test_tpm();
	test_table();
	return done_testing();
}
