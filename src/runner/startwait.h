/*
 * startwait.h - the pauses of a runner that starts while its database
 * cannot be opened yet (a PostgreSQL server down, a sqlite file on
 * storage that is read-only or full): exponential backoff with jitter,
 * cut short by a stop request.
 *
 * Ownership: struct startwait is the caller's (on its stack); nothing is
 * allocated.
 */
#ifndef DGEN_RUNNER_STARTWAIT_H
#define DGEN_RUNNER_STARTWAIT_H

#include <signal.h>
#include <stdbool.h>

/* The first pause, and the longest one. */
#define STARTWAIT_FIRST_MS 500
#define STARTWAIT_MAX_MS 30000

struct startwait {
	int failures;  /* tries that failed so far */
	unsigned seed; /* the jitter's generator */
};

void startwait_init(struct startwait *sw);

/* Counts a failed try; returns the pause before the next one (ms). */
long startwait_next_ms(struct startwait *sw);

/* Sleeps ms, or less once *terminate is set: false when told to stop. */
bool startwait_sleep(long ms, volatile sig_atomic_t *terminate);

#endif
