#!/bin/sh
# runner_crash.sh with 1024 units in flight per runner (coroutines on the
# runner's event loops) over a 20 000-unit job, 8 kills a run. Opt-in
# (DGEN_CRASH_WIDE=1): every unit in flight at a kill becomes a suspect,
# and suspects run one at a time at the end (blame, runner.c), so each
# kill costs about 1024 x 200 ms of solo runs before the job completes.
# Exactly one record per unit and the bound on LLM requests hold anyway.
if [ "${DGEN_CRASH_WIDE:-0}" != 1 ]; then
	echo "1..0 # SKIP set DGEN_CRASH_WIDE=1 (takes many minutes: suspects run alone)"
	exit 0
fi
DGEN_CRASH_CONCURRENCY=1024 DGEN_CRASH_SEEDS=100 DGEN_CRASH_REPS=200 DGEN_CRASH_KILLS=8
export DGEN_CRASH_CONCURRENCY DGEN_CRASH_SEEDS DGEN_CRASH_REPS DGEN_CRASH_KILLS
exec "$top_srcdir/tests/runner_crash.sh"
