#!/bin/sh
# Crash safety (DESIGN.md §3): kill -9 the runner at random points of a
# 500-unit job, 20 times, restarting it each time; then the same with two
# runners at once. The job must complete with exactly one record per unit,
# the database must pass integrity_check, and the mock LLM must have been
# asked at most units + (units in flight at each kill) times.
. "$top_srcdir/tests/runner/lib.sh"

KILLS=${DGEN_CRASH_KILLS:-20}
C=8
export DGEN_RUNNER_CONCURRENCY=$C
start_mock --latency-ms 200
write_pipeline "$T/p.json"
write_seeds "$T/s.json" 100 5

rand_sleep() { # 0.05 .. 0.5 s
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	sleep "0.$(printf '%02d' $(( 5 + r % 45 )))"
}

crash_run() { # crash_run RUNNERS: prints nothing, sets $job
	runners=$1
	job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
	before=$(mock_requests)
	kills=0
	while [ $kills -lt "$KILLS" ]; do
		pids=
		prev=$(job_field "$job" current_seed)
		i=0
		while [ $i -lt "$runners" ]; do start_runner; pids="$pids $runner_pid"; i=$((i + 1)); done
		# Kill while it works: once it has stored something, at a random moment.
		w=0
		while [ "$(job_field "$job" current_seed)" = "$prev" ] && [ $w -lt 200 ]; do
			sleep 0.05; w=$((w + 1))
		done
		rand_sleep
		st=$(job_field "$job" status)
		for p in $pids; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
		kills=$((kills + 1))
		[ "$st" = completed ] && break
	done
	i=0
	while [ $i -lt "$runners" ]; do start_runner; i=$((i + 1)); done
	wait_status -t 120 "$job" completed
	asked=$(( $(mock_requests) - before ))
	bound=$(( 500 + kills * runners * C ))
	diag "$runners runner(s): $kills kills, $asked LLM requests for 500 units (bound $bound)"
	check "[$runners runner(s)] it was killed $KILLS times while working ($kills)" test "$kills" = "$KILLS"
	check "[$runners runner(s)] the job completes" test "$(job_field "$job" status)" = completed
	check "[$runners runner(s)] exactly 500 records" test "$(sql "select count(*) from records where job_id=$job")" = 500
	check "[$runners runner(s)] 500 distinct units 0..499" test "$(sql "select count(distinct unit)||'/'||min(unit)||'/'||max(unit) from records where job_id=$job")" = "500/0/499"
	check "[$runners runner(s)] no failures" test "$(sql "select count(*) from failures where job_id=$job")" = 0
	check "[$runners runner(s)] counters match the records" test "$(job_field "$job" records_generated)/$(job_field "$job" current_seed)" = "500/500"
	check "[$runners runner(s)] LLM requests $asked <= units + in flight at kills ($bound)" test "$asked" -le "$bound"
	check "[$runners runner(s)] integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
	for p in $runner_pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $runner_pids; do wait "$p" 2>/dev/null; done
	runner_pids=
}

crash_run 1
crash_run 2
finish
