/*
 * evloop.h - event loops that run dgen-runner's units on coroutines.
 *
 * A unit's code (the pipeline's blocks, the commit of its start and
 * result) stays synchronous; it runs on a coroutine with a small stack of
 * its own, and whatever it waits for - an LLM transfer, a backoff, a
 * commit done by another thread - parks the coroutine, not the thread.
 * Each loop is one thread with one epoll set and one libcurl multi handle
 * (its connection cache serves every coroutine of the loop) and runs up
 * to its capacity of coroutines at once. See the README section in
 * runner.c for why this shape.
 *
 * Ownership: evloop_start() makes a loop and its thread; evloop_stop()
 * waits for its units to end, then frees it and its coroutines (each
 * coroutine's local is handed to ops->drop first). Units are the caller's.
 */
#ifndef DGEN_RUNNER_EVLOOP_H
#define DGEN_RUNNER_EVLOOP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "dgen/err.h"
#include "dgen/llm.h"

struct evloop;
struct evco;

struct evloop_ops {
	/* On the loop thread, for a free coroutine: a unit, or NULL for none
	 * now (asked again after evloop_wake, a finished unit, or 50 ms). */
	void *(*next)(void *arg);
	/* On a coroutine: runs the unit to its end. *local is the
	 * coroutine's own pointer, kept from unit to unit. */
	void (*run)(void *arg, void *unit, void **local);
	/* On the loop thread, around every stretch a coroutine runs (NULL: none). */
	void (*enter)(void *arg, void **local);
	void (*leave)(void *arg, void **local);
	/* The coroutine goes away: frees *local. */
	void (*drop)(void *arg, void **local);
};

/* Starts a loop thread running at most cap units at once. */
int evloop_start(struct evloop **out, int cap, const struct evloop_ops *ops, void *arg,
		 struct dgen_err *err);
/* Any thread: makes the loop ask ops->next again soon. */
void evloop_wake(struct evloop *L);
/* Asks no more units, waits for those running to end, frees the loop. */
void evloop_stop(struct evloop *L);

/* The waiter (llm.h) of calls made on a coroutine; off a coroutine it
 * blocks like the default. */
extern const struct dgen_llm_waiter evloop_waiter;

/* True on a coroutine of a loop. */
bool evloop_on_coroutine(void);

/* Something a coroutine waits for and any thread may post, once. The
 * poster must not touch the event after evco_post (the waiter's stack
 * may be gone). */
struct evco_event {
	struct evco *co;
	atomic_int set;
};
/* On a coroutine, before ev is handed to the poster: ev belongs to it. */
void evco_event_init(struct evco_event *ev);
/* On a coroutine: parks it until ev is posted. */
void evco_wait(struct evco_event *ev);
void evco_post(struct evco_event *ev);
/* On a coroutine: parks it for ms (off one: sleeps). */
void evco_sleep(long ms);

#endif
