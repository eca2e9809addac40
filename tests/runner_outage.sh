#!/bin/sh
# The PostgreSQL server goes away and comes back (DATABASE_URL): stopped
# mid-job (pg_ctl stop -m fast), the runner pauses instead of failing the
# job, the API answers 503 with Retry-After and says the database is
# unavailable, and once the server is back the job completes with exactly
# one record per unit. A runner started while the server is down waits
# for it. The password of the URL never reaches a log. PostgreSQL only
# (run by tests/runner_pg.sh); a server of its own, since it is stopped.
. "$top_srcdir/tests/runner/lib.sh"
store_is_pg || {
	echo "1..0 # SKIP PostgreSQL only: its server goes away and comes back"
	exit 0
}
DGEN_TEST_PG_URL= # a server of this suite's own: store_init starts one

start_mock --latency-ms 20
# the URL carries a password (trust authentication ignores it): no log
# line may show it
DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed 's|^postgresql://|postgresql://dgen:pw-never-logged@|')
export DATABASE_URL
api_get() { # api_get PATH: the CGI answer of dgen-api (headers, body)
	GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET PATH_INFO=$1 QUERY_STRING= \
		HTTP_AUTHORIZATION="Bearer dgen_not_a_token" \
		"$B/dgen-api" 2>>"$T/api.log" | tr -d '\r'
}
records() { sql "select count(*) from records where job_id=$1"; }
# wait_records JOB N: until the job has N records or more (30 s)
wait_records() {
	i=0
	while [ "$(records "$1" 2>/dev/null || echo 0)" -lt "$2" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ $i -lt 300 ]
}

write_pipeline "$T/p.json"
write_seeds "$T/s.json" 100 2
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
check "job enqueued" test -n "$job"
start_runner
check "the job is under way" wait_records "$job" 20

# ---- the server stops mid-job ------------------------------------------
check "the server stops (pg_ctl stop -m fast)" pg_server_stop fast
sleep 2
h=$(api_get /api/pipelines)
check "the API answers 503 while it is away" sh -c "printf '%s' '$h' | grep -q '^Status: 503'"
check "with Retry-After" sh -c "printf '%s' '$h' | grep -q '^Retry-After: '"
h=$(api_get /api/health)
check "its health is degraded: the database is unavailable" \
	sh -c "printf '%s' '$h' | grep -q '^Status: 503' && printf '%s' '$h' | grep -q '\"database\":\"unavailable\"'"
check "the runner waits (it is still running)" kill -0 "$runner_pid"
sleep 1
check "the server starts again" pg_server_start
check "the job completes" wait_status "$job" completed
check "exactly 200 records" test "$(records "$job")" = 200
check "200 distinct units 0..199" test "$(sql "select count(distinct unit)||'/'||min(unit)||'/'||max(unit) from records where job_id=$job")" = "200/0/199"
check "no failures" test "$(sql "select count(*) from failures where job_id=$job")" = 0
check "the runner said why it paused" grep -q 'unavailable' "$T/runner.log"
h=$(api_get /api/health)
check "the API is healthy again" sh -c "printf '%s' '$h' | grep -q '\"status\":\"healthy\"'"

# ---- a runner started while the server is down --------------------------
kill "$runner_pid"
wait "$runner_pid" 2>/dev/null
job2=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
check "the server stops again" pg_server_stop fast
start_runner
sleep 2
check "a runner started meanwhile waits for it" kill -0 "$runner_pid"
check "saying it cannot reach the database" grep -q 'cannot open the database yet' "$T/runner.log"
check "the server starts again" pg_server_start
check "then it runs the job" wait_status "$job2" completed
check "exactly 200 records" test "$(records "$job2")" = 200
check "the password is in no log" sh -c "! grep -q pw-never-logged '$T/runner.log' '$T/api.log'"
check "the runner's log names the database without it" grep -q 'database postgresql://dgen:' "$T/runner.log"
finish
