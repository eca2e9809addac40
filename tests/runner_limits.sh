#!/bin/sh
# Constraints (SPEC.md §2) stop a job "stopped" with the constraint's name;
# a 429 storm is ridden out by honouring Retry-After.
. "$top_srcdir/tests/runner/lib.sh"

export DGEN_RUNNER_CONCURRENCY=4
start_mock --latency-ms 20
write_seeds "$T/s.json" 50 2
start_runner

limit_case() { # limit_case NAME VALUE
	write_pipeline "$T/p-$1.json" "{\"$1\": $2}"
	job=$(qtool enqueue "$DATABASE_PATH" "$T/p-$1.json" "$T/s.json")
	wait_status "$job" stopped completed failed
	recs=$(sql "select count(*) from records where job_id=$job")
	check "$1=$2: the job ends stopped" test "$(job_field "$job" status)" = stopped
	check "$1=$2: error names the constraint" test "$(job_field "$job" error)" = "Constraint exceeded: $1"
	check "$1=$2: it stopped early ($recs of 100 records)" test "$recs" -lt 100 -a "$recs" -gt 0
}
limit_case max_total_tokens 300
limit_case max_total_input_tokens 200
limit_case max_total_output_tokens 150
# The mock counts a system prompt it has seen before as cached input.
cat >"$T/p-cached.json" <<'JSON'
{"name": "cached", "blocks": [{"type": "TextGenerator", "config": {
  "system_prompt": "You are a careful writer of short sentences about many topics.",
  "user_prompt": "Write about {{ topic }}."}}],
 "constraints": {"max_total_cached_tokens": 100}}
JSON
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-cached.json" "$T/s.json")
wait_status "$job" stopped completed failed
check "max_total_cached_tokens: the job ends stopped" test "$(job_field "$job" status)" = stopped
check "max_total_cached_tokens: error names it" test "$(job_field "$job" error)" = "Constraint exceeded: max_total_cached_tokens"

mock POST /mock/config '{"latency_ms": 400}' >/dev/null
write_pipeline "$T/p-time.json" '{"max_total_execution_time": 1}'
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-time.json" "$T/s.json")
wait_status "$job" stopped completed failed
recs=$(sql "select count(*) from records where job_id=$job")
check "max_total_execution_time: the job ends stopped" test "$(job_field "$job" status)" = stopped
check "max_total_execution_time: error names it" test "$(job_field "$job" error)" = "Constraint exceeded: max_total_execution_time"
check "max_total_execution_time: far fewer than 100 records ($recs)" test "$recs" -lt 50

write_pipeline "$T/p-none.json" '{"max_total_tokens": -1}'
mock POST /mock/config '{"latency_ms": 0}' >/dev/null
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-none.json" "$T/s.json")
check "-1 means unlimited: the job completes" wait_status "$job" completed

# --- two jobs share the workers: the second does not wait for the first
mock POST /mock/config '{"latency_ms": 100}' >/dev/null
write_seeds "$T/s40.json" 40 1
j1=$(qtool enqueue "$DATABASE_PATH" "$T/p-none.json" "$T/s40.json")
j2=$(qtool enqueue "$DATABASE_PATH" "$T/p-none.json" "$T/s40.json")
wait_status "$j1" completed
second=$(job_field "$j2" current_seed)
check "fairness: when the first job ends, the second has run alongside it ($second of 40)" test "$second" -ge 30
check "fairness: the second job completes" wait_status "$j2" completed

# --- 429 storm: the next 12 requests get 429 + Retry-After: 1
mock POST /mock/reset >/dev/null
mock POST /mock/config '{"rate_limit_next": 12, "retry_after": 1}' >/dev/null
write_seeds "$T/s8.json" 8 1
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-none.json" "$T/s8.json")
check "429 storm: the job completes" wait_status -t 60 "$job" completed
check "429 storm: every unit has its record" test "$(sql "select count(*) from records where job_id=$job")" = 8
check "429 storm: 8 answers + 12 refusals = 20 requests" test "$(mock_requests)" = 20
first=$(mock GET '/mock/requests?n=100' | jq '[.requests[] | select(.status == 429)][0].t_ms')
retry=$(mock GET '/mock/requests?n=100' | jq '[.requests[] | select(.status == 200)][0].t_ms')
check "429 storm: no answer came before Retry-After elapsed" awk "BEGIN{exit !($retry - $first >= 1000)}"
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
