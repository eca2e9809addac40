/*
 * budget.c - per-model rate budgets (see budget.h).
 *
 * Each budget is a mutex and a few numbers; acquire and release do a
 * little arithmetic under the mutex and nothing else (no clock, no
 * syscall), so the bookkeeping costs nothing next to an HTTP exchange.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/budget.h"
#include "dgen/util.h"

/* How often a request refused for a full ceiling asks again: the budget
 * cannot know when a slot frees, and a short poll keeps the core free of
 * condition variables (an event loop can poll it the same way). */
#define BUDGET_POLL_MS 25
/*
 * The AIMD window: the lowered ceiling grows by one every GROW_WINDOW
 * successes while requests are waiting for it (one was refused in the
 * last WANT_RECENT_S), so it cannot drift far above what is asked for. A fixed count of successes
 * (rather than "one per ceiling's worth", TCP's one per round trip) makes
 * recovery take a few round trips whatever the ceiling: 64 halved to 32
 * is back to 64 after 64 successes, two or three round trips at 32-64 in
 * flight, i.e. seconds after a storm at a typical LLM latency, while a
 * provider that still refuses halves it again at once.
 */
#define GROW_WINDOW 2
#define WANT_RECENT_S 1.0
/* A probe refused without Retry-After: everyone waits this long before
 * the next probe, so refusals do not come back to back. */
#define PROBE_PAUSE_S 1.0

struct dgen_budget {
	pthread_mutex_t lock;
	char *key;                 /* NULL outside the table */
	struct dgen_budget *next;  /* in the table */
	long limit, rpm, tpm;      /* the model's own limits, 0 = none */
	long ceiling;              /* lowered by 429s, 0 = not lowered */
	long in_flight;
	uint64_t epoch;            /* bumped by every halving */
	long successes;            /* since the last growth */
	double refused_at;         /* last refusal for the lowered ceiling */
	double pause_until;        /* nothing goes before (monotonic s) */
	bool probing, probe_out;   /* after a pause: one request first */
	double req_level, tok_level; /* token buckets; < 0 = debt */
	double req_stamp, tok_stamp; /* last refill; < 0 = start full */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dgen_budget *table;

static void set_limits_locked(struct dgen_budget *b, const struct dgen_budget_limits *lim)
{
	long limit = lim ? lim->max_in_flight : 0;

	if (lim && lim->requests_per_minute != b->rpm)
		b->req_stamp = -1;
	if (lim && lim->tokens_per_minute != b->tpm)
		b->tok_stamp = -1;
	b->limit = limit > 0 ? limit : 0;
	b->rpm = lim && lim->requests_per_minute > 0 ? lim->requests_per_minute : 0;
	b->tpm = lim && lim->tokens_per_minute > 0 ? lim->tokens_per_minute : 0;
	if (b->limit && b->ceiling >= b->limit)
		b->ceiling = 0;
}

struct dgen_budget *budget_new(const struct dgen_budget_limits *lim)
{
	struct dgen_budget *b = dgen_xcalloc(1, sizeof *b);

	pthread_mutex_init(&b->lock, NULL);
	b->req_stamp = b->tok_stamp = -1;
	set_limits_locked(b, lim);
	return b;
}

void budget_free(struct dgen_budget *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->key);
	free(b);
}

struct dgen_budget *budget_get(const char *key, const struct dgen_budget_limits *lim)
{
	struct dgen_budget *b;

	pthread_mutex_lock(&table_lock);
	for (b = table; b; b = b->next)
		if (strcmp(b->key, key) == 0)
			break;
	if (b) {
		budget_set_limits(b, lim);
	} else {
		b = budget_new(lim);
		b->key = dgen_xstrdup(key);
		b->next = table;
		table = b;
	}
	pthread_mutex_unlock(&table_lock);
	return b;
}

void budget_set_limits(struct dgen_budget *b, const struct dgen_budget_limits *lim)
{
	pthread_mutex_lock(&b->lock);
	set_limits_locked(b, lim);
	pthread_mutex_unlock(&b->lock);
}

void budget_table_free(void)
{
	pthread_mutex_lock(&table_lock);
	while (table) {
		struct dgen_budget *b = table;

		table = b->next;
		budget_free(b);
	}
	pthread_mutex_unlock(&table_lock);
}

/* A bucket of per_minute units that refills continuously and holds one
 * second's worth (at least one unit): requests spread evenly over the
 * minute, as providers count them, instead of a minute's worth at once. */
static double bucket_cap(long per_minute)
{
	double cap = (double)per_minute / 60.0;

	return cap < 1.0 ? 1.0 : cap;
}

static void refill(double *level, double *stamp, long per_minute, double now)
{
	double cap = bucket_cap(per_minute);

	if (*stamp < 0) {
		*level = cap;
	} else if (now > *stamp) {
		*level += (now - *stamp) * (double)per_minute / 60.0;
		if (*level > cap)
			*level = cap;
	}
	*stamp = now;
}

/* Milliseconds until the bucket holds need (at least 1). */
static long refill_ms(double level, double need, long per_minute)
{
	double ms = (need - level) * 60000.0 / (double)per_minute;

	return ms < 1 ? 1 : (long)ms + 1;
}

static long effective_ceiling(const struct dgen_budget *b)
{
	if (b->ceiling && (!b->limit || b->ceiling < b->limit))
		return b->ceiling;
	return b->limit;
}

/*
 * The checks in the order a request meets them: a running pause, the
 * probe after it, the in-flight ceiling, then the request and token
 * buckets. A request bigger than the token bucket goes when the bucket
 * is full and leaves it in debt, so the average stays at the limit
 * without a large request waiting for ever.
 */
enum budget_verdict budget_acquire(struct dgen_budget *b, double now, long est_tokens,
				   struct budget_ticket *t, long *wait_ms)
{
	enum budget_verdict v = BUDGET_GRANTED;
	long ceil;

	*wait_ms = 0;
	pthread_mutex_lock(&b->lock);
	ceil = effective_ceiling(b);
	if (now < b->pause_until) {
		v = BUDGET_PAUSED;
		*wait_ms = (long)((b->pause_until - now) * 1000.0) + 1;
		goto out;
	}
	if (b->probing && b->probe_out) {
		v = BUDGET_PAUSED;
		*wait_ms = BUDGET_POLL_MS;
		goto out;
	}
	if (ceil && b->in_flight >= ceil) {
		bool lowered = b->ceiling && b->ceiling == ceil;

		v = lowered ? BUDGET_THROTTLED : BUDGET_FULL;
		if (lowered)
			b->refused_at = now;
		*wait_ms = BUDGET_POLL_MS;
		goto out;
	}
	if (b->rpm) {
		refill(&b->req_level, &b->req_stamp, b->rpm, now);
		if (b->req_level < 1.0) {
			v = BUDGET_RATE;
			*wait_ms = refill_ms(b->req_level, 1.0, b->rpm);
			goto out;
		}
	}
	if (b->tpm) {
		double cap = bucket_cap(b->tpm), need = (double)est_tokens;

		refill(&b->tok_level, &b->tok_stamp, b->tpm, now);
		if (need > cap)
			need = cap;
		if (b->tok_level < need) {
			v = BUDGET_RATE;
			*wait_ms = refill_ms(b->tok_level, need, b->tpm);
			goto out;
		}
		b->tok_level -= (double)est_tokens;
	}
	if (b->rpm)
		b->req_level -= 1.0;
	b->in_flight++;
	t->epoch = b->epoch;
	t->tokens = b->tpm ? est_tokens : 0;
	t->probe = b->probing;
	if (b->probing)
		b->probe_out = true;
out:
	pthread_mutex_unlock(&b->lock);
	return v;
}

/* A 429 halves the ceiling once per generation: the refusals of requests
 * sent before the last halving say nothing new (they were sent at the old
 * rate), and a probe's refusal says the pause goes on, not that too many
 * were in flight. Without a ceiling yet, the requests in flight are the
 * rate that was too much. */
static void slow_down(struct dgen_budget *b, double now, const struct budget_ticket *t,
		      long retry_after_ms)
{
	double until;

	if (!t->probe && t->epoch == b->epoch) {
		long base = effective_ceiling(b);

		if (!base)
			base = b->in_flight + 1;
		b->ceiling = base / 2 > 1 ? base / 2 : 1;
		b->epoch++;
		b->successes = 0;
	}
	if (retry_after_ms >= 0)
		until = now + (double)retry_after_ms / 1000.0;
	else if (t->probe)
		until = now + PROBE_PAUSE_S;
	else
		return;
	if (until > b->pause_until)
		b->pause_until = until;
	b->probing = true;
}

void budget_release(struct dgen_budget *b, double now, const struct budget_ticket *t,
		    enum budget_outcome outcome, long used_tokens, long retry_after_ms)
{
	pthread_mutex_lock(&b->lock);
	if (b->in_flight > 0)
		b->in_flight--;
	if (t->probe)
		b->probe_out = false;
	if (t->tokens && b->tpm) {
		/* the estimate was taken: give back what was not used, or
		 * all of it when the provider refused the request */
		long used = outcome == BUDGET_OK ? (used_tokens > 0 ? used_tokens : t->tokens) : 0;
		double cap = bucket_cap(b->tpm);

		b->tok_level += (double)(t->tokens - used);
		if (b->tok_level > cap)
			b->tok_level = cap;
	}
	if (outcome == BUDGET_OK) {
		if (t->probe)
			b->probing = false;
		if (b->ceiling && ++b->successes >= GROW_WINDOW) {
			b->successes = 0;
			if (now - b->refused_at < WANT_RECENT_S)
				b->ceiling++;
			if (b->limit && b->ceiling >= b->limit)
				b->ceiling = 0;
		}
	} else if (outcome == BUDGET_SLOW_DOWN) {
		slow_down(b, now, t, retry_after_ms);
	}
	pthread_mutex_unlock(&b->lock);
}

long budget_ceiling(struct dgen_budget *b)
{
	long c;

	pthread_mutex_lock(&b->lock);
	c = effective_ceiling(b);
	pthread_mutex_unlock(&b->lock);
	return c;
}

long budget_in_flight(struct dgen_budget *b)
{
	long n;

	pthread_mutex_lock(&b->lock);
	n = b->in_flight;
	pthread_mutex_unlock(&b->lock);
	return n;
}

long budget_paused_ms(struct dgen_budget *b, double now)
{
	long ms = 0;

	pthread_mutex_lock(&b->lock);
	if (now < b->pause_until)
		ms = (long)((b->pause_until - now) * 1000.0) + 1;
	pthread_mutex_unlock(&b->lock);
	return ms;
}
