#!/bin/sh
# The crash test of runner_crash.sh with the runner at 1 024 units in
# flight: a 20 000-unit job at 200 ms latency, the runner killed with
# SIGKILL 10 times (three of them before it stored anything), one and then
# two runners; exactly one record per unit, counters right, LLM requests
# bounded by units + in flight at each kill. `make check-wide` runs it on
# its own (contrib/dgenctl test does, after make check): a thousand
# requests in flight against a machine already busy with the parallel
# suites would measure the load, not the runner.
# After the kills the units in flight at them run again as suspects, in
# groups a quarter the size at each death (64 after two; blame in
# src/runner/runner.c): about half a minute, given up to 400 s here.
DGEN_CRASH_CONCURRENCY=1024 DGEN_CRASH_SEEDS=100 DGEN_CRASH_REPS=200 DGEN_CRASH_KILLS=10
DGEN_CRASH_WAIT=400
export DGEN_CRASH_CONCURRENCY DGEN_CRASH_SEEDS DGEN_CRASH_REPS DGEN_CRASH_KILLS DGEN_CRASH_WAIT
. "$top_srcdir/tests/runner_crash.sh"
