/*
 * startwait.c - backoff of a runner waiting for its database at start.
 *
 * A fixed one-second retry makes a runner fleet hammer a server that is
 * coming back up (and fill the logs): the pause doubles from
 * STARTWAIT_FIRST_MS up to STARTWAIT_MAX_MS, and each one is moved by up
 * to a tenth either way, so runners that lost the server together do not
 * come back in the same instant.
 */
#include "config.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dgen/clock.h"
#include "startwait.h"

/* How often a pause looks at the stop flag: a stop signal may be taken
 * by another thread, so the sleep itself need not be interrupted. */
#define STARTWAIT_SLICE_MS 50

void startwait_init(struct startwait *sw)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sw->failures = 0;
	sw->seed = (unsigned)getpid() ^ (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec;
}

long startwait_next_ms(struct startwait *sw)
{
	long d = STARTWAIT_FIRST_MS;

	for (int i = 0; i < sw->failures && d < STARTWAIT_MAX_MS; i++)
		d *= 2;
	if (d > STARTWAIT_MAX_MS)
		d = STARTWAIT_MAX_MS;
	sw->failures++;
	return d - d / 10 + (long)((unsigned long)rand_r(&sw->seed) % (unsigned long)(d / 5 + 1));
}

bool startwait_sleep(long ms, volatile sig_atomic_t *terminate)
{
	double end = dgen_clock_mono() + (double)ms / 1000.0;

	while (!*terminate) {
		double left = end - dgen_clock_mono();
		long slice = left * 1000.0 < STARTWAIT_SLICE_MS ? (long)(left * 1000.0)
								: STARTWAIT_SLICE_MS;
		struct timespec ts = { 0, slice * 1000000L };

		if (left <= 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}
