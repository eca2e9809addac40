#!/bin/sh
# The PostgreSQL server goes away and comes back (DATABASE_URL): stopped
# mid-job (pg_ctl stop -m fast), the runner pauses instead of failing the
# job, the API answers 503 with Retry-After and says the database is
# unavailable, and once the server is back the job completes with exactly
# one record per unit. A runner started while the server is down waits
# for it, trying again after growing pauses (0.5 s doubling, at most 30 s),
# and a SIGTERM meanwhile stops it at once (exit 0); an API pool started
# while the server is down answers 503 + Retry-After in the JSON error
# shape. The password of the URL never reaches a log. PostgreSQL only
# (make check-pg); a server of its own, since it is stopped.
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
from=$(($(wc -l <"$T/runner.log") + 1))
start_runner
sleep 3
tail -n "+$from" "$T/runner.log" >"$T/start.log"
check "a runner started meanwhile waits for it" kill -0 "$runner_pid"
check "saying it cannot reach the database" grep -q 'cannot open the database yet' "$T/start.log"
# growing: each pause longer than the one before (0.5, 1, 2 s, give or take a tenth)
waits=$(sed -n 's/.*cannot open the database yet.*; next try in \([0-9.]*\) s$/\1/p' "$T/start.log" | tr '\n' ' ')
check "it tries again after growing pauses ($waits)" \
	awk -v w="$waits" 'BEGIN { n = split(w, a, " "); if (n < 3 || a[1] < 0.4 || a[1] > 0.6) exit 1;
		for (i = 2; i <= n; i++) if (a[i] <= a[i - 1] * 1.5) exit 1 }'
check "each try names the server, password hidden, and the reason" \
	grep -q 'cannot open the database yet (try 1): Cannot connect to the database postgresql://dgen:\*\*\*@/[^ ]*: connection to server .*failed' "$T/start.log"

# an API pool (nginx, FastCGI) started while the server is down
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
if [ -x "$NGINX" ] && command -v curl >/dev/null; then
	. "$top_srcdir/tests/api/pool.sh"
	trap 'pool_stop; cleanup' EXIT
	if pool_api 2 && pool_nginx; then
		code=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' \
			-H 'Authorization: Bearer dgen_not_a_token' "$BASE/api/pipelines")
		check "a pool started with the server down answers 503 ($code)" test "$code" = 503
		check "with Retry-After" grep -qi '^Retry-After: [0-9]' "$T/headers"
		unavailable_shape() {
			jq -e '(.error | type == "string") and .detail.database == "unavailable" and
				(keys == ["detail","error"])' "$T/body" >/dev/null
		}
		check "in the JSON error shape, the database unavailable" unavailable_shape
		check "the answer names neither the server nor libpq's reason" \
			sh -c "! grep -q -i -e 'postgres[a-z]*://' -e 'host=' -e socket -e 'connection to server' '$T/body'"
	else
		not_ok "the API pool and nginx start"
	fi
	pool_stop
else
	ok "# SKIP nginx is not installed: no API pool"
fi
check "the server starts again" pg_server_start
check "then it runs the job" wait_status "$job2" completed
check "exactly 200 records" test "$(records "$job2")" = 200

# ---- SIGTERM while it waits ----------------------------------------------
check "the server stops a third time" pg_server_stop fast
"$B/dgen-runner" >>"$T/runner.log" 2>&1 &
pid3=$!
runner_pids="$runner_pids $pid3"
sleep 1.7 # after the second try: in a pause of about 1 s
kill -TERM "$pid3"
i=0
while kill -0 "$pid3" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGTERM while it waits for the server: it exits within 2 s" test $i -lt 20
wait "$pid3"
rc=$?
check "with status 0 ($rc)" test "$rc" = 0
check "saying it stopped before the database could be opened" \
	grep -q 'stopped before the database could be opened' "$T/runner.log"
check "the password is in no log" sh -c "! grep -q pw-never-logged '$T/runner.log' '$T/api.log'"
check "the runner's log names the database without it" grep -q 'database postgresql://dgen:' "$T/runner.log"
finish
