#!/bin/sh
# runner_ratelimit.sh - one rate budget per model (SPEC.md §9 "Rate
# limits"): a 20-second storm of 429s fails no unit and costs the provider
# about one request a second, the job shows it is rate limited and is back
# at full speed soon after; each model keeps to its own max_in_flight and
# requests_per_minute; a cancel ends a job that waits on a storm.
. "$top_srcdir/tests/runner/lib.sh"

export DGEN_RUNNER_CONCURRENCY=64
start_mock --latency-ms 500
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b - a}'; }
model_field() { mock GET /mock/models | jq -r ".models[\"$1\"].$2 // 0"; }
add_model() { "$B/dgen" models add "$1" >/dev/null; }
MEP=$LLM_ENDPOINT
# model_pipeline FILE MODEL...: a TextGenerator per model, in that order.
model_pipeline() {
	f=$1; shift
	blocks= sep=
	for m in "$@"; do
		blocks="$blocks$sep{\"type\": \"TextGenerator\", \"config\": {\"model\": \"$m\",
		  \"user_prompt\": \"Write about {{ topic }} ($m).\", \"max_tokens\": 64}}"
		sep=,
	done
	echo "{\"name\": \"rate test\", \"blocks\": [$blocks]}" >"$f"
}

add_model "{\"name\":\"storm\",\"provider\":\"openai\",\"endpoint\":\"$MEP\",\"model_name\":\"mock-storm\",\"is_default\":true}"
add_model "{\"name\":\"three\",\"provider\":\"openai\",\"endpoint\":\"$MEP\",\"model_name\":\"mock-three\",\"max_in_flight\":3}"
add_model "{\"name\":\"seven\",\"provider\":\"openai\",\"endpoint\":\"$MEP\",\"model_name\":\"mock-seven\",\"max_in_flight\":7}"
add_model "{\"name\":\"rpm\",\"provider\":\"openai\",\"endpoint\":\"$MEP\",\"model_name\":\"mock-rpm\",\"requests_per_minute\":60}"
check "four models stored" test "$(sql 'select count(*) from models')" = 4
start_runner

# --- a storm of 429 + Retry-After: 1 for 20 s while 200 units run at 64
# (two calls a unit, so that there is work left to go full speed again)
write_seeds "$T/s200.json" 200 1
model_pipeline "$T/p-storm.json" storm storm
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-storm.json" "$T/s200.json")
# the storm hits the job at full speed: 64 requests in flight
i=0
while [ "$(model_field mock-storm in_flight)" -lt 60 ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
mock POST /mock/config '{"storm_seconds": 20, "retry_after": 1}' >/dev/null
mock POST /mock/models/reset >/dev/null
storm_start=$(now)
# The first seconds: requests the runner decided on before any refusal
# came back (one for each answer of the 64 in flight, all of which come
# within the 500 ms latency) may still arrive; after that the model is
# paused and only one probe a second goes, the first a second after the
# first refusal: within these 2 s, 64 and at most 2 probes.
first_bound=$((DGEN_RUNNER_CONCURRENCY + 2))
sleep 2
first=$(model_field mock-storm requests)
mock POST /mock/models/reset >/dev/null
note=
while [ "$(mock GET /mock/config | jq '.storm_seconds > 0')" = true ]; do
	step=$(job_field "$job" current_step)
	case "$step" in "rate limited, retrying in "*) note=$step ;; esac
	sleep 0.5
done
during=$(model_field mock-storm requests)
mock POST /mock/models/reset >/dev/null
after_start=$(now)
diag "storm: $first requests in its first 2 s, then $during in the next 18 s ($(elapsed "$storm_start") s in all)"
check "storm: the job shows it is rate limited ('$note')" test -n "$note"
check "storm: as it starts, no more than the requests in flight and the probes come back asking ($first <= $first_bound)" \
	test "$first" -le "$first_bound"
check "storm: then at most about one request a second reaches the provider ($during in 18 s)" \
	test "$during" -le 24
check "storm: the job completes within 10 s of the storm's end" wait_status -t 10 "$job" completed
took=$(elapsed "$after_start")
peak=$(model_field mock-storm in_flight_max)
diag "after the storm: completed in $took s, at most $peak requests at once"
check "storm: back near full speed after it ($peak of 64 at once)" test "$peak" -ge 56
check "storm: no unit failed" test "$(job_field "$job" records_failed)" = 0
check "storm: 200 records" test "$(sql "select count(*) from records where job_id=$job")" = 200
step=$(job_field "$job" current_step)
check "storm: the step is a number again once calls flow ($step)" test "$step" = 2

# --- two models, two ceilings, one pipeline at concurrency 32
mock POST /mock/config '{"latency_ms": 200}' >/dev/null
mock POST /mock/models/reset >/dev/null
write_seeds "$T/s80.json" 80 1
model_pipeline "$T/p-two.json" seven three
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-two.json" "$T/s80.json")
check "two models: the job completes" wait_status -t 60 "$job" completed
m3=$(model_field mock-three in_flight_max)
m7=$(model_field mock-seven in_flight_max)
check "two models: max_in_flight 3 is kept and reached ($m3 at once)" test "$m3" = 3
check "two models: max_in_flight 7 is kept and reached ($m7 at once)" test "$m7" = 7
check "two models: 80 records" test "$(sql "select count(*) from records where job_id=$job")" = 80

# --- requests_per_minute 60: about one a second, not 64 at once
mock POST /mock/config '{"latency_ms": 50}' >/dev/null
mock POST /mock/models/reset >/dev/null
write_seeds "$T/s8.json" 8 1
model_pipeline "$T/p-rpm.json" rpm
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-rpm.json" "$T/s8.json")
i=0
while [ "$(model_field mock-rpm requests)" -lt 1 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
sleep 3
n=$(model_field mock-rpm requests)
check "rpm 60: 3 to 5 requests in the first 3 s ($n)" test "$n" -ge 3 -a "$n" -le 5
check "rpm 60: the job completes" wait_status -t 30 "$job" completed
check "rpm 60: 8 records" test "$(sql "select count(*) from records where job_id=$job")" = 8

# --- a cancel ends a job whose calls wait out a storm
mock POST /mock/config '{"storm_seconds": 60, "retry_after": 5}' >/dev/null
write_seeds "$T/s20.json" 20 1
job=$(qtool enqueue "$DATABASE_PATH" "$T/p-storm.json" "$T/s20.json")
wait_status -t 20 "$job" running
sleep 2
qtool cancel "$DATABASE_PATH" "$job" >/dev/null
t0=$(now)
check "cancel during a storm: the job ends cancelled" wait_status -t 15 "$job" cancelled
diag "cancelled in $(elapsed "$t0") s"
mock POST /mock/config '{"storm_seconds": 0}' >/dev/null
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
