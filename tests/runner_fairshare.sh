#!/bin/sh
# Fair share between users (SPEC.md §8): one user's big jobs do not hold
# back another user's few units, even when that user's jobs fill every
# claim slot of the runner; and a user's in-flight quota bounds the LLM
# requests of their jobs at once. Asserts on counts and order, not time.
. "$top_srcdir/tests/runner/lib.sh"

export DGEN_RUNNER_CONCURRENCY=4
start_mock --latency-ms 50
write_pipeline "$T/p.json"
write_seeds "$T/big.json" 2000 1
write_seeds "$T/mid.json" 300 1
write_seeds "$T/small.json" 10 1

a=$(qtool user "$DATABASE_PATH" alice)
b=$(qtool user "$DATABASE_PATH" bob)
c=$(qtool user "$DATABASE_PATH" carol 2)
check "three users made" test -n "$a" -a -n "$b" -a -n "$c"

# Alice: a 2000-unit job, then seven more: every claim slot of the runner.
ajobs=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/big.json" "$a")
for i in 1 2 3 4 5 6 7; do
	ajobs="$ajobs $(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/mid.json" "$a")"
done
alist=$(echo $ajobs | tr ' ' ',')
a_done() { sql "select coalesce(sum(current_seed),0) from jobs where id in ($alist)"; }
start_runner
first=${ajobs%% *}
check "alice's big job runs" wait_status -t 30 "$first" running
n=0
while [ "$(a_done)" -lt 20 ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
check "alice's eight jobs all run" test "$(sql "select count(*) from jobs where id in ($alist) and status='running'")" = 8

before=$(a_done)
bjob=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/small.json" "$b")
check "bob's 10-unit job completes" wait_status -t 60 "$bjob" completed
after=$(a_done)
diag "alice finished $before units before bob's job was queued, $after when it completed"
check "bob's job was claimed though alice's jobs filled the runner" \
	test "$(job_field "$bjob" records_generated)" = 10
check "alice finished fewer than 100 units while bob's 10 ran ($((after - before)))" \
	test $((after - before)) -lt 100
check "alice's big job is far from done (fewer than 1000 of 2000)" \
	test "$(job_field "$first" current_seed)" -lt 1000
check "none of alice's jobs ended before bob's" \
	test "$(sql "select count(*) from jobs where id in ($alist) and status != 'running'")" = 0

for j in $ajobs; do qtool cancel "$DATABASE_PATH" "$j" >/dev/null; done
for j in $ajobs; do wait_status -t 30 "$j" cancelled || break; done
check "alice's jobs are cancelled" \
	test "$(sql "select count(*) from jobs where id in ($alist) and status='cancelled'")" = 8

# Carol's in-flight quota is 2, below the runner's 4 workers.
mock POST /mock/reset >/dev/null
write_seeds "$T/c.json" 40 1
cjob=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/c.json" "$c")
check "carol's job completes" wait_status -t 60 "$cjob" completed
max=$(mock GET /mock/stats | jq .llm_in_flight_max)
check "the mock never saw more than 2 of carol's requests at once ($max)" test "$max" -le 2
check "carol used her quota of 2 ($max)" test "$max" = 2
check "all 40 of carol's units are stored once" \
	test "$(sql "select count(distinct unit)||'/'||count(*) from records where job_id=$cjob")" = "40/40"

# Without a quota the same job uses every worker.
mock POST /mock/reset >/dev/null
bjob2=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/c.json" "$b")
check "bob's 40-unit job completes" wait_status -t 60 "$bjob2" completed
max=$(mock GET /mock/stats | jq .llm_in_flight_max)
check "bob, with no quota of his own, had more than 2 requests at once ($max)" test "$max" -gt 2

# Several runners: a runner whose own job fills its workers leaves jobs
# queued meanwhile to an idle runner, instead of giving them a share of
# its slots (by each runner's log: which one claimed each job). The idle
# runner polls every 500 ms, the busy one every 50 ms: without the busy
# runner holding back, it would claim them first.
write_seeds "$T/long.json" 2000 1
write_seeds "$T/two.json" 2 1
long=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/long.json" "$a")
wait_status -t 30 "$long" running
DGEN_RUNNER_POLL_MS=500 "$B/dgen-runner" >"$T/runner2.log" 2>&1 &
runner_pids="$runner_pids $!"
n=0
while ! grep -q "runner .* started" "$T/runner2.log" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
sleep 3 # the busy runner hears of the other at its next heartbeat (2 s)
smalls=
for i in 1 2 3; do
	j=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/two.json" "$b")
	wait_status -t 30 "$j" completed
	smalls="$smalls $j"
done
idle=0
for j in $smalls; do grep -q "job $j claimed" "$T/runner2.log" && idle=$((idle + 1)); done
check "the long job was still running meanwhile" test "$(job_field "$long" status)" = running
check "the three jobs queued beside the busy runner ran on the idle one ($idle of 3)" test "$idle" = 3
qtool cancel "$DATABASE_PATH" "$long" >/dev/null
wait_status -t 30 "$long" cancelled
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
