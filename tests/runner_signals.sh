#!/bin/sh
# Stopping the runner and cancelling jobs: SIGTERM hands unfinished work
# back without counting an attempt and exits 0; a cancelled job aborts its
# in-flight LLM calls, stores nothing from them and ends cancelled.
. "$top_srcdir/tests/runner/lib.sh"

export DGEN_RUNNER_CONCURRENCY=8
start_mock --latency-ms 200
write_pipeline "$T/p.json"
write_seeds "$T/s.json" 40 5

# --- SIGTERM mid-job
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
start_runner
w=0
while [ "$(job_field "$job" current_seed)" -lt 10 ] && [ $w -lt 300 ]; do sleep 0.05; w=$((w + 1)); done
kill -TERM "$runner_pid"
wait "$runner_pid"; rc=$?
runner_pids=
check "SIGTERM: the runner exits 0" test "$rc" = 0
done_at_stop=$(sql "select count(*) from records where job_id=$job")
check "SIGTERM: the job went back to the queue" test "$(job_field "$job" status)" = queued
check "SIGTERM: the attempt is not counted" test "$(sql "select attempts from jobs where id=$job")" = 0
check "SIGTERM: units finished in the grace period are kept ($done_at_stop)" test "$done_at_stop" -ge 10
check "SIGTERM: counters match what is stored" test "$(job_field "$job" current_seed)" = "$done_at_stop"
start_runner
check "after a restart the job completes" wait_status -t 120 "$job" completed
check "with exactly 200 records" test "$(sql "select count(distinct unit)||'/'||count(*) from records where job_id=$job")" = "200/200"

# --- cancel mid-call: every call takes 5 s; cancel while they are in flight
mock POST /mock/config '{"latency_ms": 5000}' >/dev/null
before=$(mock_requests)
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
wait_status "$job" running
w=0
while [ $(( $(mock_requests) - before )) -lt 8 ] && [ $w -lt 100 ]; do sleep 0.05; w=$((w + 1)); done
check "cancel: 8 calls are in flight" test $(( $(mock_requests) - before )) = 8
w=0
while [ "$(job_field "$job" current_block)" != TextGenerator ] && [ $w -lt 60 ]; do sleep 0.05; w=$((w + 1)); done
check "live progress: before any unit finished, the job shows the block at work" \
	test "$(job_field "$job" current_block)/$(job_field "$job" current_step)/$(sql "select count(*) from records where job_id=$job")" = "TextGenerator/1/0"
check "cancel: the API-side cancel marks the running job" test "$(qtool cancel "$DATABASE_PATH" "$job")" = running
check "cancel: the job ends cancelled" wait_status -t 30 "$job" cancelled
check "cancel: nothing from the aborted calls is stored" test "$(sql "select count(*) from records where job_id=$job")" = 0
check "cancel: no new call was started" test $(( $(mock_requests) - before )) = 8
check "cancel: the runner is still running" kill -0 "$runner_pid"
check "cancel: a finished job cannot be cancelled again" sh -c "! '$B/tests/runner/qtool' cancel '$DATABASE_PATH' $job 2>/dev/null"

# --- a job of a billion executions (100 000 seeds x 10 000 repetitions, the
# largest file the limits allow) runs in constant memory: units are made as
# they are handed out, never listed up front.
mock POST /mock/config '{"latency_ms": 10}' >/dev/null
awk 'BEGIN { printf "["; for (i = 0; i < 100000; i++) printf "%s{\"repetitions\":10000,\"metadata\":{\"topic\":\"t%d\"}}", (i ? "," : ""), i; print "]" }' >"$T/huge.json"
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/huge.json")
wait_status "$job" running
w=0
while [ "$(job_field "$job" current_seed)" -lt 100 ] && [ $w -lt 400 ]; do sleep 0.05; w=$((w + 1)); done
check "huge job: it runs" test "$(job_field "$job" current_seed)" -ge 100
check "huge job: total_seeds is 1 000 000 000" test "$(job_field "$job" total_seeds)" = 1000000000
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$runner_pid/status")
diag "runner RSS with a billion-unit job running: $rss kB"
# Listing the units would take 48 GB; what remains is the parsed 6 MB seed
# file (about 270 MB of json-c objects, 700 MB under ASan).
check "huge job: the runner holds it in less than 2 GB ($rss kB)" test "$rss" -lt 2000000
qtool cancel "$DATABASE_PATH" "$job" >/dev/null
check "huge job: it can be cancelled" wait_status "$job" cancelled
check "huge job: the runner is still running" kill -0 "$runner_pid"

# --- a queued job is cancelled at once and never claimed
kill -TERM "$runner_pid"; wait "$runner_pid"; runner_pids=
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
check "cancel: a queued job is cancelled at once" test "$(qtool cancel "$DATABASE_PATH" "$job")" = cancelled
mock POST /mock/config '{"latency_ms": 0}' >/dev/null
before=$(mock_requests)
"$B/dgen-runner" --once >>"$T/runner.log" 2>&1
check "cancel: the runner leaves a cancelled job alone" test "$(job_field "$job" status)/$(( $(mock_requests) - before ))" = "cancelled/0"
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
