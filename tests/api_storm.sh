#!/bin/bash
# api_storm.sh - POST /api/pipelines/{id}/execute cannot take the pool:
# with the LLM hanging, 20 executes at once through nginx against 4
# workers leave GET /api/health and GET /api/pipelines answering, and the
# executes past the allowance (half the workers) are refused at once with
# 429 and Retry-After. Plain CGI keeps its own bound (4 at once). Timing
# figures are contrib/bench-execute-storm's business; this test only asks
# that the others answer at all within a generous 5 s. Prints TAP; skips
# without nginx, curl or jq.
set -u
STATUS=-
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"
. "$top_srcdir/tests/api/pool.sh"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	echo "1..0 # SKIP nginx is not installed"
	exit 0
fi
skip_without curl jq

: >"$T/dgen.conf"
store_init "$T"
export DGEN_CONFIG="$T/dgen.conf"
admin_token
# every curl of this test sends the token (curl reads $CURL_HOME/.curlrc)
printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" >"$T/.curlrc"
export CURL_HOME="$T"
export DGEN_TEMPLATES_DIR="${DGEN_TEMPLATES_DIR:-$top_srcdir/templates}"
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy no_proxy NO_PROXY

pool_mock --hang
export LLM_ENDPOINT="$MOCK_BASE/v1/chat/completions" LLM_PROVIDER=openai LLM_MODEL=mock
export LLM_TIMEOUT=4 # every execute below hangs 4 + 5 s, then 504
pool_api 4 || { echo "Bail out! dgen-api did not start"; cat "$T/api.log"; exit 1; }
pool_nginx || { echo "Bail out! nginx did not start"; cat "$T/nginx/start.log"; exit 1; }

P=$(curl -s -H 'Content-Type: application/json' \
	-d '{"name":"hangs","blocks":[{"type":"TextGenerator","config":{"user_prompt":"hi"}}]}' \
	"$BASE/api/pipelines" | jq -r .id)
check "a pipeline that calls the LLM" test "$P" -ge 1

# 20 executes at once; each records its status and its Retry-After
pids=()
for i in $(seq 20); do
	curl -s -o /dev/null -D "$T/exec.$i.h" -w '%{http_code}\n' --max-time 30 \
		-H 'Content-Type: application/json' -d '{}' \
		"$BASE/api/pipelines/$P/execute" >"$T/exec.$i.status" &
	pids+=($!)
done
# the allowed ones are inside the LLM call once the mock holds them
for _ in $(seq 100); do
	held=$(curl -s "$MOCK_BASE/mock/stats" | jq -r '.requests // 0')
	[ "$held" -ge 2 ] && break
	sleep 0.05
done
sleep 0.5

answered=0
for i in $(seq 10); do
	h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/api/health")
	l=$(curl -s -o "$T/list" -w '%{http_code}' --max-time 5 "$BASE/api/pipelines")
	[ "$h" = 200 ] && [ "$l" = 200 ] && answered=$((answered + 1))
done
check "while 20 executes hang, health and the pipeline list answer 10 times of 10 ($answered)" \
	test "$answered" = 10
check "the list is the list" jq -e "length == 1 and .[0].id == $P" "$T/list"

# the refused ones have their answer already; the held ones end in 504
wait "${pids[@]}"
refused=0 retry=0 other=
for i in $(seq 20); do
	st=$(cat "$T/exec.$i.status")
	case $st in
	429)
		refused=$((refused + 1))
		grep -qi '^Retry-After: [0-9]' "$T/exec.$i.h" && retry=$((retry + 1)) ;;
	504) ;;
	*) other="$other $st" ;;
	esac
done
check "18 of 20 executes refused with 429 (allowance 2 of 4 workers) ($refused)" \
	test "$refused" = 18
check "each 429 with Retry-After ($retry)" test "$retry" = "$refused"
check "the other two ran out of time (504), nothing else ($other)" test -z "$other"

# ---- plain CGI: at most API_EXECUTE_CGI = 4 at once --------------------------
printf '{}' >"$T/empty.json"
cgi_exec() {
	env GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=POST \
		SCRIPT_NAME= PATH_INFO="/api/pipelines/$P/execute" QUERY_STRING= \
		CONTENT_TYPE=application/json CONTENT_LENGTH=2 LLM_TIMEOUT=5 \
		HTTP_AUTHORIZATION="Bearer $TOKEN" \
		"$top_builddir/dgen-api" <"$T/empty.json" >"$T/cgi.$1.out" 2>/dev/null
}
held=$(curl -s "$MOCK_BASE/mock/stats" | jq -r .requests)
pids=()
for i in 1 2 3 4; do
	cgi_exec $i &
	pids+=($!)
done
for _ in $(seq 100); do
	[ "$(curl -s "$MOCK_BASE/mock/stats" | jq -r .requests)" -ge $((held + 4)) ] && break
	sleep 0.05
done
cgi_exec 5
check "CGI: a fifth execute at once is refused with 429" grep -q '^Status: 429' "$T/cgi.5.out"
check "with Retry-After" grep -qi '^Retry-After: [0-9]' "$T/cgi.5.out"
wait "${pids[@]}"

done_testing
