/*
 * clock.h - wall time as ISO 8601 UTC, and a monotonic clock for durations.
 * No ownership: callers pass the output buffers.
 */
#ifndef DGEN_CLOCK_H
#define DGEN_CLOCK_H

#include <stdint.h>

#define DGEN_ISO_LEN 25 /* "2026-11-24T21:41:44.123Z" + NUL */

/* Milliseconds since the Unix epoch. */
int64_t dgen_clock_now_ms(void);
/* Seconds on a monotonic clock (for durations, never for timestamps). */
double dgen_clock_mono(void);
/* Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void dgen_clock_iso(int64_t ms, char out[DGEN_ISO_LEN]);
void dgen_clock_iso_now(char out[DGEN_ISO_LEN]);

#endif
