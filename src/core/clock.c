/*
 * clock.c - timestamps as ISO 8601 UTC with milliseconds (what SPEC.md
 * prints everywhere) and a monotonic clock for durations and deadlines.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dgen/clock.h"

int64_t dgen_clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double dgen_clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The date and time of a second, "YYYY-MM-DDTHH:MM:SS", kept per thread:
 * timestamps come many a second (a record each), and gmtime_r and
 * snprintf cost more than the rest of writing one. */
static __thread struct {
	time_t secs;
	bool set;
	char text[20];
} iso_second;

void dgen_clock_iso(int64_t ms, char out[DGEN_ISO_LEN])
{
	time_t secs = (time_t)(ms / 1000);
	int msec = (int)(ms % 1000);

	if (msec < 0) {
		msec += 1000;
		secs -= 1;
	}
	if (!iso_second.set || iso_second.secs != secs) {
		struct tm tm;
		char tmp[64];

		gmtime_r(&secs, &tm);
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d",
			 (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
			 tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
		memcpy(iso_second.text, tmp, 19);
		iso_second.text[19] = '\0';
		iso_second.secs = secs;
		iso_second.set = true;
	}
	memcpy(out, iso_second.text, 19);
	out[19] = '.';
	out[20] = (char)('0' + msec / 100);
	out[21] = (char)('0' + msec / 10 % 10);
	out[22] = (char)('0' + msec % 10);
	out[23] = 'Z';
	out[DGEN_ISO_LEN - 1] = '\0';
}

void dgen_clock_iso_now(char out[DGEN_ISO_LEN])
{
	dgen_clock_iso(dgen_clock_now_ms(), out);
}
