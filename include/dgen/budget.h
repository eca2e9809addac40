/*
 * budget.h - one rate budget per LLM model, shared by every thread, job
 * and user of the process (SPEC.md §9 "Rate limits").
 *
 * A budget holds the model's in-flight ceiling, its requests and tokens
 * per minute, and what the provider told us: a 429 or an overload answer
 * halves the in-flight ceiling (AIMD: it grows back by one per window of
 * successes), a Retry-After pauses every request to the model until then,
 * after which one request goes first and the others follow once it got
 * through.
 *
 * The core never blocks and never reads a clock: callers pass `now`
 * (monotonic seconds), budget_acquire() says granted or how long to wait,
 * and the waiting is the caller's (llm_wait in the LLM layer). That keeps
 * it testable with an injected clock and usable from an event loop.
 *
 * Ownership: the budgets of named models live in a process-wide table for
 * the life of the process (a model's budget survives the runner reloading
 * its models): budget_get() hands out a borrowed pointer, never freed by
 * the caller; budget_table_free() (tests, exit) frees them all. A budget
 * from budget_new() (a client of the plain LLM_* settings) is its
 * maker's: budget_free() it.
 *
 * Threads: every function may be called from any thread (a mutex per
 * budget, one for the table).
 */
#ifndef DGEN_BUDGET_H
#define DGEN_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct dgen_budget;

struct dgen_budget_limits {
	long max_in_flight;       /* 0 = no ceiling of its own */
	long requests_per_minute; /* 0 = unlimited */
	long tokens_per_minute;   /* 0 = unlimited */
};

/* Why budget_acquire() said wait (or BUDGET_GRANTED). */
enum budget_verdict {
	BUDGET_GRANTED,
	BUDGET_PAUSED,    /* a Retry-After is running, or its probe is out */
	BUDGET_THROTTLED, /* the ceiling lowered by 429s is full */
	BUDGET_RATE,      /* requests or tokens per minute spent */
	BUDGET_FULL,      /* the configured max_in_flight is full */
};

/* How a granted request ended. */
enum budget_outcome {
	BUDGET_OK,        /* answered (2xx) */
	BUDGET_SLOW_DOWN, /* 429 or an overload answer */
	BUDGET_FAILED,    /* anything else, cancel included: no verdict on load */
};

/* What a grant remembers until its release. */
struct budget_ticket {
	uint64_t epoch;   /* the ceiling's generation when granted */
	long tokens;      /* tokens taken from the bucket */
	bool probe;       /* the first request after a pause */
};

/* The budget of the model named key, made with lim on first use; a later
 * call with other limits changes them (the AIMD state is kept). */
struct dgen_budget *budget_get(const char *key, const struct dgen_budget_limits *lim);
void budget_set_limits(struct dgen_budget *b, const struct dgen_budget_limits *lim);
void budget_table_free(void);
/* A budget outside the table (lim NULL = no limits). */
struct dgen_budget *budget_new(const struct dgen_budget_limits *lim);
void budget_free(struct dgen_budget *b);

/* Asks to send one request of about est_tokens at now. BUDGET_GRANTED
 * fills *t (pass it to budget_release); anything else sets *wait_ms to
 * how long to wait before asking again (at least 1). */
enum budget_verdict budget_acquire(struct dgen_budget *b, double now, long est_tokens,
				   struct budget_ticket *t, long *wait_ms);
/* Gives a granted request back: used_tokens (0 = unknown: the estimate
 * stands) reconciles the tokens per minute; retry_after_ms >= 0 (with
 * BUDGET_SLOW_DOWN) pauses every request until now + retry_after_ms. */
void budget_release(struct dgen_budget *b, double now, const struct budget_ticket *t,
		    enum budget_outcome outcome, long used_tokens, long retry_after_ms);

/* For tests and messages: the current in-flight ceiling (0 = none), the
 * requests in flight, and the pause left at now in ms (0 = none). */
long budget_ceiling(struct dgen_budget *b);
long budget_in_flight(struct dgen_budget *b);
long budget_paused_ms(struct dgen_budget *b, double now);

#endif
