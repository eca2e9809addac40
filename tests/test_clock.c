/* test_clock.c - timestamps print as ISO 8601 UTC with milliseconds. */
#include "config.h"

#include <string.h>

#include "dgen/clock.h"
#include "tap.h"

int main(void)
{
	char ts[DGEN_ISO_LEN];
	double a, b;

	dgen_clock_iso(0, ts);
	is_str(ts, "1970-01-01T00:00:00.000Z", "the epoch");
	dgen_clock_iso(1795556504123LL, ts);
	is_str(ts, "2026-11-24T21:41:44.123Z", "a date of SPEC.md's example");
	dgen_clock_iso(951782400999LL, ts);
	is_str(ts, "2000-02-29T00:00:00.999Z", "leap day");
	dgen_clock_iso_now(ts);
	ok(strlen(ts) == 24 && ts[23] == 'Z' && ts[10] == 'T', "now has the ISO shape");
	a = dgen_clock_mono();
	b = dgen_clock_mono();
	ok(b >= a, "the monotonic clock does not go back");
	ok(dgen_clock_now_ms() > 1700000000000LL, "wall clock is in this century");
	return done_testing();
}
