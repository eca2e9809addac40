#!/bin/sh
# runner_memory.sh - what a big seed file costs the runner. The worst case
# of the upload limits: 10 MiB (DGEN_MAX_UPLOAD) of 100 000 tiny seeds
# (DGEN_MAX_SEEDS). Planning the job and running its units must peak at
# no more than 4 times the file's size above the runner's idle size (a
# json-c tree of the whole file took 20 times and more): the peak RSS of
# `dgen-runner --once` over the queued job, against `--once` over an empty
# queue. The job runs for 2 seconds (a time limit: all its units would
# take a minute and more), thousands of units with the mock LLM at 0 ms.
# Prints TAP; skips without /usr/bin/time, jq or awk.
. "$top_srcdir/tests/runner/lib.sh"

if [ ! -x /usr/bin/time ] || ! /usr/bin/time -f %M true >/dev/null 2>&1; then
	echo "1..0 # SKIP /usr/bin/time (GNU time) is not installed"
	exit 0
fi
skip_without jq awk
# Under AddressSanitizer the figures are the sanitizer's (shadow memory,
# a quarantine that keeps freed blocks): the bound is checked by the normal
# build, which the CI runs too.
asan=false
if ldd "$B/dgen-runner" 2>/dev/null | grep -q libasan; then
	asan=true
fi

export DGEN_RUNNER_CONCURRENCY=8
start_mock
mock POST /mock/config '{"latency_ms": 0}' >/dev/null
# a token limit (about 500 records), not a time limit: under a sanitizer
# or a loaded machine, planning 100 000 units may take seconds
write_pipeline "$T/p.json" '{"max_total_tokens": 10000}'

# 100 000 seeds of 103 bytes: 10 400 001 bytes, the form just under 10 MiB
awk 'BEGIN {
	pad = sprintf("%72s", ""); gsub(/ /, "x", pad)
	printf "["
	for (i = 0; i < 100000; i++)
		printf "%s{\"metadata\":{\"topic\":\"%s%06d\"}}", (i ? "," : ""), pad, i
	printf "]"
}' >"$T/seeds.json"
FILE_KB=$(( $(wc -c <"$T/seeds.json") / 1024 ))

# idle: the same runner, over its database made, nothing to claim
"$B/dgen-runner" --once >>"$T/runner.log" 2>&1
/usr/bin/time -f %M -o "$T/rss" "$B/dgen-runner" --once >>"$T/runner.log" 2>&1
IDLE_KB=$(tail -n 1 "$T/rss")

job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/seeds.json")
/usr/bin/time -f %M -o "$T/rss" "$B/dgen-runner" --once >>"$T/runner.log" 2>&1
PEAK_KB=$(tail -n 1 "$T/rss")
recs=$(sql "select count(*) from records where job_id=$job")
check "the job ran until its token limit" test "$(job_field "$job" status)" = stopped
check "with its 100 000 units counted" test "$(job_field "$job" total_seeds)" = 100000
check "and many of them run ($recs records)" test "$recs" -ge 100
check "the first seed's metadata is its record's" \
	test "$(sql "select metadata from records where job_id=$job and unit=0" | jq -r .topic | cut -c 73-)" = 000000
diag "file ${FILE_KB} KiB, idle ${IDLE_KB} KiB, peak ${PEAK_KB} KiB: $(( (PEAK_KB - IDLE_KB) * 10 / FILE_KB )) tenths of the file above idle"
if $asan; then
	ok "# SKIP memory figures under AddressSanitizer are the sanitizer's"
else
	check "running it peaks at no more than 4x the file above idle ($PEAK_KB - $IDLE_KB KiB <= 4 x $FILE_KB KiB)" \
		test $((PEAK_KB - IDLE_KB)) -le $((4 * FILE_KB))
fi
finish
