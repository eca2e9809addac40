#!/bin/sh
# A job runs to completed through a real runner and a mock LLM: one record
# per unit, usage summed, progress counters at the end, the heartbeat seen;
# a failing unit is kept with its error and can be retried alone.
. "$top_srcdir/tests/runner/lib.sh"

start_mock --latency-ms 5
write_pipeline "$T/p.json"
write_seeds "$T/s.json" 10 3
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
check "job enqueued" test -n "$job"
check "it starts queued" test "$(job_field "$job" status)" = queued
start_runner
check "the job completes" wait_status "$job" completed
check "30 records for 10 seeds x 3 repetitions" test "$(sql "select count(*) from records where job_id=$job")" = 30
check "units 0..29 each once" test "$(sql "select count(distinct unit)||'/'||min(unit)||'/'||max(unit) from records where job_id=$job")" = "30/0/29"
check "total_seeds counts executions" test "$(job_field "$job" total_seeds)" = 30
check "current_seed reached the total" test "$(job_field "$job" current_seed)" = 30
check "progress is 1" test "$(job_field "$job" progress)" = 1
check "records_generated is 30" test "$(job_field "$job" records_generated)" = 30
check "the mock answered 30 requests" test "$(mock_requests)" = 30
in_tok=$(job_field "$job" usage.total_input_tokens)
out_tok=$(job_field "$job" usage.total_output_tokens)
check "usage is summed over the records ($in_tok in, $out_tok out)" test "$in_tok" -gt 0 -a "$out_tok" -gt 0
check "total_tokens = input + output" test "$(job_field "$job" usage.total_tokens)" = $((in_tok + out_tok))
check "completed_at is set" test "$(job_field "$job" completed_at)" != null
out=$(sql "select output from records where job_id=$job and unit=4")
check "a record's output is the LLM reply ($out)" sh -c "echo '$out' | grep -q 'Mock reply to: Write one sentence about topic 1'"
check "the record keeps its seed metadata" test "$(sql "select json_extract(metadata,'$.topic') from records where job_id=$job and unit=4")" = "topic 1"
check "the trace has one TextGenerator entry" test "$(sql "select json_extract(trace,'$[0].block_type') from records where job_id=$job and unit=0")" = TextGenerator
check "the runner writes a heartbeat" test "$(sql "select count(*) from runners")" -ge 1

# Failures: every request fails with 400 (not retried), units are stored as failures.
mock POST /mock/config '{"error_rate": 1, "error_status": 400}' >/dev/null
job2=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
check "a job whose every execution failed ends failed" wait_status "$job2" failed
check "30 failures are kept" test "$(qtool failures "$DATABASE_PATH" "$job2" | jq length)" = 30
f0=$(qtool failures "$DATABASE_PATH" "$job2" | jq -c '.[0] | [.seed_index, .repetition, .block_type, .step]')
check "a failure names seed, repetition, block and step ($f0)" test "$f0" = '[0,0,"TextGenerator",1]'
ferr=$(qtool failures "$DATABASE_PATH" "$job2" | jq -r '.[0].error')
check "a failure carries the error" grep -q 'failed at step 1' <<EOF
$ferr
EOF
mock POST /mock/config '{"error_rate": 0}' >/dev/null
retry=$(qtool retry "$DATABASE_PATH" "$job2")
check "retry_failed makes a new job" test -n "$retry" -a "$retry" != "$job2"
check "the retry job completes" wait_status "$retry" completed
check "it made exactly the 30 failed units" test "$(sql "select count(*) from records where job_id=$retry")" = 30
# A markdown document through a multiplier pipeline: one unit per chunk.
cat >"$T/md.json" <<'JSON'
{"name": "chunks", "blocks": [{"type": "MarkdownMultiplierBlock", "config": {}},
 {"type": "TextGenerator", "config": {"user_prompt": "Ask a question about: {{ content }}"}}]}
JSON
printf 'Intro text.\n\n# One\nFirst part.\n\n## Two\nSecond part.\n```\n# not a header\n```\n' >"$T/doc.md"
job3=$(qtool enqueue "$DATABASE_PATH" "$T/md.json" "$T/doc.md")
check "a markdown job completes" wait_status "$job3" completed
check "one record per chunk (3)" test "$(sql "select count(*) from records where job_id=$job3")" = 3
check "total_seeds counts the chunks" test "$(job_field "$job3" total_seeds)" = 3
check "chunk indexes 0..2 are kept" test "$(sql "select group_concat(chunk_index) from (select chunk_index from records where job_id=$job3 order by chunk_index) c")" = "0,1,2"
meta=$(sql "select metadata from records where job_id=$job3 and chunk_index=2")
check "a chunk's record holds its text" grep -q 'not a header' <<EOF
$meta
EOF
# Pickup: an idle runner starts a job at once on PostgreSQL (LISTEN/NOTIFY),
# within its poll interval (DGEN_RUNNER_POLL_MS, 50 ms here) on sqlite.
# Measured from the job's created_at to its started_at; reported, not
# asserted (a loaded machine may be slow).
ms() { date -d "$1" +%s%3N; }
write_seeds "$T/one.json" 1 1
lat=
for _ in 1 2 3 4 5; do
	sleep 0.3 # idle again
	jp=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/one.json")
	wait_status "$jp" completed >/dev/null
	lat="$lat $(( $(ms "$(job_field "$jp" started_at)") - $(ms "$(job_field "$jp" created_at)") ))"
done
diag "enqueue to running on ${DGEN_TEST_STORE:-sqlite} (ms):$lat"

# --once runs the queue to its end: equal jobs at 0 ms latency may all
# end in one pass of the claiming loop, the 8 it holds, with more queued
# (contrib/bench-store's case; it ended the runner in about 1 run of 3)
kill -TERM "$runner_pid"; wait "$runner_pid"; runner_pids=
mock POST /mock/config '{"latency_ms": 0}' >/dev/null
write_seeds "$T/sixty.json" 1 60
ids=0
for _ in $(seq 32); do ids="$ids,$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/sixty.json")"; done
DGEN_RUNNER_CONCURRENCY=32 DGEN_RUNNER_POLL_MS=20 "$B/dgen-runner" --once >>"$T/runner.log" 2>&1
check "--once: the 32 queued jobs are done when it exits" \
	test "$(sql "select count(*) from jobs where status = 'completed' and id in ($ids)")" = 32
# A database another process holds locked past the busy timeout at start
# (a migration, say): the runner waits with the same backoff as for a
# server that is down, then migrates it and runs the queue.
if store_is_pg; then
	store_skip_pg "a start past a held lock waits" "runner_outage.sh covers the server's start path"
else
	fresh="$T/fresh.db"
	mkfifo "$T/lock.fifo"
	sqlite3 "$fresh" <"$T/lock.fifo" >"$T/lock.out" 2>&1 &
	lock_pid=$!
	exec 7>"$T/lock.fifo"
	echo "PRAGMA journal_mode=WAL; BEGIN EXCLUSIVE; CREATE TABLE held (x); SELECT 'locked';" >&7
	for _ in $(seq 100); do grep -q locked "$T/lock.out" && break; sleep 0.05; done
	DATABASE_PATH=$fresh DGEN_DB_BUSY_TIMEOUT_MS=200 DGEN_RUNNER_POLL_MS=20 \
		"$B/dgen-runner" --once >"$T/fresh.log" 2>&1 &
	fresh_pid=$!
	n=0
	while ! grep -q "cannot open the database yet (try 2)" "$T/fresh.log" && [ $n -lt 100 ]; do
		sleep 0.1; n=$((n + 1))
	done
	check "a start past a held lock waits and tries again" grep -q "cannot open the database yet (try 2)" "$T/fresh.log"
	check "... still running" kill -0 "$fresh_pid"
	echo "ROLLBACK;" >&7
	exec 7>&-
	wait "$lock_pid"
	wait "$fresh_pid"
	rc=$?
	check "once the lock is gone it migrates the database and exits 0 ($rc)" test "$rc" = 0
	check "the database has its schema" test "$(sqlite3 "$fresh" "select count(*) from sqlite_master where name = 'jobs'")" = 1
fi
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
