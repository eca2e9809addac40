#!/bin/sh
# Crash safety (DESIGN.md §3): kill -9 the runner at random points of a
# 500-unit job, 20 times, restarting it each time; then the same with two
# runners at once. Kills 3-5, 10-12 and 17-19 land before the new runner
# finished any unit: three claims in a row that finish nothing, which must
# not fail the job (no unit is at fault).
# The job must complete with exactly one record per unit and no failure,
# the database must pass integrity_check, and the mock LLM must have been
# asked at most units + (units in flight at each kill) times.
# Then blame: a unit whose block aborts the runner every time ends as one
# failure after DGEN_MAX_ATTEMPTS deaths (more with many units in flight:
# it must die alone), and the job completes.
# DGEN_CRASH_CONCURRENCY, DGEN_CRASH_SEEDS and DGEN_CRASH_REPS (default 8,
# 100, 5) change the units in flight and the job's size; DGEN_CRASH_KILLS
# (20) the kills (e.g. 1024, 100, 200, 10 for the runner at 1 024 in flight);
# DGEN_CRASH_WAIT (120 s) how long the job may take once the kills are over.
. "$top_srcdir/tests/runner/lib.sh"

KILLS=${DGEN_CRASH_KILLS:-20}
C=${DGEN_CRASH_CONCURRENCY:-8}
SEEDS=${DGEN_CRASH_SEEDS:-100}
REPS=${DGEN_CRASH_REPS:-5}
UNITS=$((SEEDS * REPS))
export DGEN_RUNNER_CONCURRENCY=$C
start_mock --latency-ms 200
write_pipeline "$T/p.json"
write_seeds "$T/s.json" "$SEEDS" "$REPS"

rand_sleep() { # 0.05 .. 0.5 s
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	sleep "0.$(printf '%02d' $(( 5 + r % 45 )))"
}
early_sleep() { # 0.02 .. 0.15 s: before a 200 ms unit can finish
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	sleep "0.$(printf '%02d' $(( 2 + r % 14 )))"
}

crash_run() { # crash_run RUNNERS: prints nothing, sets $job
	runners=$1
	job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
	before=$(mock_requests)
	kills=0
	early=0
	while [ $kills -lt "$KILLS" ]; do
		pids=
		prev=$(job_field "$job" current_seed)
		i=0
		while [ $i -lt "$runners" ]; do start_runner; pids="$pids $runner_pid"; i=$((i + 1)); done
		if [ $((kills % 7)) -ge 2 ] && [ $((kills % 7)) -le 4 ]; then
			# Kill before this runner finished a unit.
			early_sleep
		else
			# Kill while it works: once it has stored something, at a random moment.
			w=0
			while [ "$(job_field "$job" current_seed)" = "$prev" ] && [ $w -lt 200 ]; do
				sleep 0.05; w=$((w + 1))
			done
			rand_sleep
		fi
		st=$(job_field "$job" status)
		for p in $pids; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
		[ "$(job_field "$job" current_seed)" = "$prev" ] && early=$((early + 1))
		kills=$((kills + 1))
		[ "$st" = completed ] && break
	done
	i=0
	while [ $i -lt "$runners" ]; do start_runner; i=$((i + 1)); done
	wait_status -t "${DGEN_CRASH_WAIT:-120}" "$job" completed
	asked=$(( $(mock_requests) - before ))
	bound=$(( UNITS + kills * runners * C ))
	diag "$runners runner(s): $kills kills ($early before a unit finished), $asked LLM requests for $UNITS units (bound $bound)"
	check "[$runners runner(s)] some kills landed before a unit finished ($early)" test "$early" -ge 3
	check "[$runners runner(s)] it was killed $KILLS times while working ($kills)" test "$kills" = "$KILLS"
	check "[$runners runner(s)] the job completes" test "$(job_field "$job" status)" = completed
	check "[$runners runner(s)] exactly $UNITS records" test "$(sql "select count(*) from records where job_id=$job")" = "$UNITS"
	check "[$runners runner(s)] $UNITS distinct units 0..$((UNITS - 1))" test "$(sql "select count(distinct unit)||'/'||min(unit)||'/'||max(unit) from records where job_id=$job")" = "$UNITS/0/$((UNITS - 1))"
	check "[$runners runner(s)] no failures" test "$(sql "select count(*) from failures where job_id=$job")" = 0
	check "[$runners runner(s)] counters match the records" test "$(job_field "$job" records_generated)/$(job_field "$job" current_seed)" = "$UNITS/$UNITS"
	check "[$runners runner(s)] LLM requests $asked <= units + in flight at kills ($bound)" test "$asked" -le "$bound"
	check "[$runners runner(s)] integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
	for p in $runner_pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $runner_pids; do wait "$p" 2>/dev/null; done
	runner_pids=
}

crash_run 1
crash_run 2

# --- blame: one unit aborts every runner that runs it -------------------------
# 40 seeds, the 8th poisoned; the runner is restarted after each death, as
# systemd would. It dies DGEN_MAX_ATTEMPTS (3) times, the unit becomes a
# failure naming why, and the other 39 units are records.
export DGEN_BLOCKS_DIR="$B/tests/plugins-abort" DGEN_MAX_ATTEMPTS=3
cat >"$T/poison.json" <<'JSON'
{"name": "poison", "blocks": [{"type": "AbortOnPoison", "config": {}},
 {"type": "TextGenerator", "config": {"user_prompt": "Write about {{ topic }}.", "max_tokens": 16}}]}
JSON
i=0
{
	printf '['
	while [ $i -lt 40 ]; do
		[ $i -gt 0 ] && printf ','
		if [ $i = 7 ]; then p=true; else p=false; fi
		printf '{"repetitions": 1, "metadata": {"topic": "t%d", "poison": %s}}' $i $p
		i=$((i + 1))
	done
	printf ']\n'
} >"$T/poison-seeds.json"
job=$(qtool enqueue "$DATABASE_PATH" "$T/poison.json" "$T/poison-seeds.json")
deaths=0
while [ $deaths -lt 10 ]; do
	start_runner
	while kill -0 "$runner_pid" 2>/dev/null; do
		st=$(job_field "$job" status)
		[ "$st" = completed ] || [ "$st" = failed ] && break
		sleep 0.1
	done
	st=$(job_field "$job" status)
	if kill -0 "$runner_pid" 2>/dev/null; then break; fi
	wait "$runner_pid" 2>/dev/null
	deaths=$((deaths + 1))
done
wait_status -t 60 "$job" completed failed
# The suspects run in groups a quarter the size at each death (runner.c,
# suspect_group) and a unit is failed when it dies alone at 3 deaths or
# more: 3 deaths at 8 in flight, up to 6 at 1 024.
g=$C most=0
while [ "$g" -gt 1 ]; do g=$((g / 4)); most=$((most + 1)); done
most=$((most + 1))
[ "$most" -lt 3 ] && most=3
diag "poison: the runner died $deaths times"
check "poison: the runner died 3 to $most times, no more ($deaths)" test "$deaths" -ge 3 -a "$deaths" -le "$most"
check "poison: the job completes" test "$(job_field "$job" status)" = completed
check "poison: 39 records" test "$(sql "select count(*) from records where job_id=$job")" = 39
check "poison: one failure, unit 7" test "$(sql "select group_concat(unit) from failures where job_id=$job")" = 7
why=$(sql "select error from failures where job_id=$job")
check "poison: the failure says why ($why)" grep -q "stopped $deaths times while running this unit" <<EOF
$why
EOF
check "poison: counters 39 + 1" test "$(job_field "$job" records_generated)/$(job_field "$job" records_failed)/$(job_field "$job" current_seed)" = "39/1/40"
check "poison: no unit start is left behind" test "$(sql "select count(*) from unit_starts where job_id=$job")" = 0
retry=$(qtool retry "$DATABASE_PATH" "$job" 2>/dev/null || true)
if [ -n "$retry" ]; then
	check "poison: retry_failed makes a job of the one unit" test "$(job_field "$retry" total_seeds)" = 1
fi
for p in $runner_pids; do kill -TERM "$p" 2>/dev/null; done
for p in $runner_pids; do wait "$p" 2>/dev/null; done
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
