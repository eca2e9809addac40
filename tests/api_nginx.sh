#!/bin/bash
# api_nginx.sh - dgen-api behind a real nginx on loopback, configured from
# the site sample conf/nginx-dgen.conf: every row of SPEC.md §4 through
# curl, the static UI with its client-side route fallback, nginx's own
# errors as JSON (413, 502), a killed worker replaced by the master, and a
# clean SIGTERM. Everything runs as the current user under a temporary
# directory and is stopped at the end. Prints TAP; skips when nginx, curl
# or jq is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

find_nginx
skip_without curl jq

API="$top_builddir/dgen-api"
FAKE="$top_builddir/tests/api/fake_runner"
store_init "$T" # DATABASE_PATH, or DATABASE_URL with DGEN_TEST_STORE=pg
DB=$(store_target "$DATABASE_PATH")
: >"$T/dgen.conf"
export DGEN_CONFIG="$T/dgen.conf"
admin_token
export DGEN_TEMPLATES_DIR="${DGEN_TEMPLATES_DIR:-$top_srcdir/templates}"
export LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions" LLM_TIMEOUT=2
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy no_proxy NO_PROXY

API_PID=
NGINX_PID=
MOCK_PID=
stop_all() {
	if [ -n "$MOCK_PID" ]; then
		kill "$MOCK_PID" 2>/dev/null
		wait "$MOCK_PID" 2>/dev/null
	fi
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
	fi
	if [ -n "$API_PID" ]; then
		kill "$API_PID" 2>/dev/null
		wait "$API_PID" 2>/dev/null
	fi
}
CLEANUP_HOOKS="stop_all"

# ---- the UI, the pool, nginx ------------------------------------------------
mkdir -p "$T/www/assets" "$T/nginx/tmp"
printf '<!doctype html><title>dgen</title><div id="root">dgen ui</div>\n' >"$T/www/index.html"
printf 'console.log("dgen");\n' >"$T/www/assets/app.js"

# Starts the pool and waits for its socket and both workers (a socket file
# left by an earlier server must not count).
start_api() {
	rm -f "$T/api.sock"
	"$API" --socket "$T/api.sock" --workers 2 2>>"$T/api.log" &
	API_PID=$!
	for _ in $(seq 100); do
		[ -S "$T/api.sock" ] && [ "$(pgrep -P "$API_PID" | wc -l)" -ge 2 ] && return 0
		sleep 0.05
	done
	return 1
}
start_api || { echo "Bail out! dgen-api did not create its socket"; cat "$T/api.log"; exit 1; }

if [ -f /etc/nginx/fastcgi_params ]; then
	cp /etc/nginx/fastcgi_params "$T/nginx/fastcgi_params"
else
	for p in QUERY_STRING:query_string REQUEST_METHOD:request_method \
		CONTENT_TYPE:content_type CONTENT_LENGTH:content_length \
		SCRIPT_NAME:fastcgi_script_name REQUEST_URI:request_uri \
		DOCUMENT_URI:document_uri SERVER_PROTOCOL:server_protocol; do
		printf 'fastcgi_param %s $%s;\n' "${p%%:*}" "${p#*:}"
	done >"$T/nginx/fastcgi_params"
	printf 'fastcgi_param GATEWAY_INTERFACE CGI/1.1;\n' >>"$T/nginx/fastcgi_params"
fi

user_line=
[ "$(id -u)" = 0 ] && user_line="user root $(id -gn);"
started=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	PORT=$(free_port) || continue
	# the site sample, pointed at this directory, port and socket
	# (the local test is addressed as 127.0.0.1: it is one of the names)
	sed -e "s|listen 80;|listen 127.0.0.1:$PORT;|" -e '/listen \[::\]:80/d' \
		-e "s|listen 80 default_server;|listen 127.0.0.1:$PORT default_server;|" \
		-e "s|server_name dgen.example.org;|server_name dgen.example.org 127.0.0.1;|" \
		-e "s|root /usr/share/dgen/www;|root $T/www;|" \
		-e "s|unix:/run/dgen/api.sock|unix:$T/api.sock|" \
		"$top_srcdir/conf/nginx-dgen.conf" >"$T/nginx/site.conf"
	cat >"$T/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 256; }
http {
	types { text/html html; application/javascript js; }
	default_type application/octet-stream;
	access_log $T/nginx/access.log;
	client_body_temp_path $T/nginx/tmp/body;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	proxy_temp_path $T/nginx/tmp/proxy;
	scgi_temp_path $T/nginx/tmp/scgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	include $T/nginx/site.conf;
}
EOF
	"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>>"$T/nginx/start.log" &
	NGINX_PID=$!
	for _ in $(seq 50); do
		if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
			started=1
			break
		fi
		kill -0 "$NGINX_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$started" ] && break
	kill "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
done
if [ -z "$started" ]; then
	echo "Bail out! nginx did not start"
	cat "$T/nginx/start.log" "$T/nginx/error.log" 2>/dev/null | sed 's/^/# /'
	exit 1
fi
BASE="http://127.0.0.1:$PORT"
check "the socket has mode 0660" test "$(stat -c %a "$T/api.sock")" = 660

# req METHOD PATH [curl options...]: one request; $STATUS, $T/headers, $T/body.
req() {
	local method=$1 path=$2
	shift 2
	auth_args
	STATUS=$(curl -s -X "$method" -o "$T/body" -D "$T/headers.raw" -w '%{http_code}' \
		"${AUTH[@]}" "$@" "$BASE$path")
	tr -d '\r' <"$T/headers.raw" >"$T/headers"
}
# jreq METHOD PATH JSON: a JSON request.
jreq() {
	req "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"
}

# ---- static UI ----------------------------------------------------------------
req GET /
expect 200 "GET / serves the UI"
check "index.html" grep -q 'dgen ui' "$T/body"
check "the UI with a Content-Security-Policy" grep -q "^Content-Security-Policy: default-src 'self'; script-src 'self'" "$T/headers"
check "and nosniff" grep -qi '^X-Content-Type-Options: nosniff' "$T/headers"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: evil.example' "$BASE/")
check "another host name gets no answer" test "$code" = 000
req GET /pipelines/12/builder
expect 200 "a client-side route"
check "falls back to index.html" grep -q 'dgen ui' "$T/body"
req GET /assets/app.js
expect 200 "a static asset"
req GET /assets/missing.js
expect 404 "a missing asset is a 404, not the app"

# ---- every row of SPEC.md §4 ------------------------------------------------
req GET /api/health
expect 200 "GET /api/health"
jqt '.status == "healthy" and .database == "ok" and (.runner | has("alive") and has("last_seen"))' \
	"health body"
req GET /api/blocks
expect 200 "GET /api/blocks"
jqt 'length >= 8 and all(.[]; .config_schema.type == "object")' "blocks with schemas"
req GET /api/templates
expect 200 "GET /api/templates"
jqt '[.[].id] | index("qa_generation") != null' "templates listed"
req POST /api/pipelines/from_template/text_classification
expect 200 "POST /api/pipelines/from_template/{id}"
jqt '.template_id == "text_classification"' "template_id"
req POST /api/pipelines/from_template/nope
expect 404 "unknown template"
jreq POST /api/pipelines '{"name":"via nginx","blocks":[{"type":"ValidatorBlock","config":{"min_length":2}}]}'
expect 200 "POST /api/pipelines"
P=$(jqv .id)
jreq POST /api/pipelines '{"name":"md","blocks":[{"type":"MarkdownMultiplierBlock","config":{}}]}'
PM=$(jqv .id)
jreq POST /api/pipelines '{"name":"bad","blocks":[{"type":"Nope"}]}'
expect 422 "invalid definition"
req GET /api/pipelines
expect 200 "GET /api/pipelines"
jqt '.[0].id == '"$PM" "newest first"
req GET /api/pipelines/$P
expect 200 "GET /api/pipelines/{id}"
jqt '.first_block_is_multiplier == false' "first_block_is_multiplier"
jreq PUT /api/pipelines/$P '{"name":"renamed","blocks":[{"type":"ValidatorBlock","config":{}}]}'
expect 200 "PUT /api/pipelines/{id}"
jqt '.name == "renamed"' "renamed"
jreq POST /api/pipelines/$P/execute '{"text":"hello there"}'
expect 200 "POST /api/pipelines/{id}/execute"
jqt '.result.valid == true and (.trace | length) == 1' "executed"
jreq POST /api/pipelines/$PM/execute '{"file_content":"# a\nx\n# b\ny"}'
jqt '(.results | length) == 2' "multiplier execute gives results"
req GET /api/pipelines/$P/accumulated_state_schema
expect 200 "GET accumulated_state_schema"
jqt '.fields | index("valid") != null' "fields"
jreq PUT /api/pipelines/$P/validation_config '{"field_order":{"primary":["text"],"secondary":[],"hidden":[]}}'
expect 200 "PUT validation_config"
jreq POST /api/seeds/validate '{"pipeline_id":'"$P"',"seeds":[{"metadata":{"text":"hi"}}]}'
expect 200 "POST /api/seeds/validate"
jqt '.valid == true' "valid"

printf '[{"metadata":{"text":"a"}},{"repetitions":3,"metadata":{"text":"b"}}]' >"$T/seeds.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/seeds.json;type=application/json" \
	-H 'Idempotency-Key: nginx-1'
expect 200 "POST /api/generate (curl -F)"
J=$(jqv .job_id)
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/seeds.json" -H 'Idempotency-Key: nginx-1'
check "same Idempotency-Key, same job" test "$(jqv .job_id)" = "$J"
printf '# one\ntext\n' >"$T/doc.md"
req POST /api/generate -F "pipeline_id=$PM" -F "file=@$T/doc.md"
expect 200 "markdown upload"
JM=$(jqv .job_id)
printf '[{"repetitions":"x","metadata":{}}]' >"$T/bad.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/bad.json"
expect 422 "bad seed file"
jqt '.detail.seed_index == 0' "names seed 0"
head -c 5000000 /dev/zero | tr '\0' ' ' >"$T/big.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/big.json"
check "a 5 MB upload passes nginx's 10m limit (the API answers: $STATUS)" \
	test "$STATUS" = 400 -o "$STATUS" = 422
head -c 11000000 /dev/zero | tr '\0' ' ' >"$T/huge.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/huge.json"
expect 413 "an 11 MB upload is refused by nginx"
check "as JSON in the API's error shape" error_shape

req GET "/api/jobs?pipeline_id=$P&status=queued&limit=10"
expect 200 "GET /api/jobs?pipeline_id=&status=&limit="
jqt 'length == 1 and .[0].id == '"$J"' and .[0].total_seeds == 4' "the queued job"
req GET /api/jobs/$J
expect 200 "GET /api/jobs/{id}"
req GET /api/jobs/active
expect 404 "GET /api/jobs/active with none running"
check "fake runner claims the job" test "$("$FAKE" "$DB" claim)" = "$J"
req GET /api/jobs/active
expect 200 "GET /api/jobs/active"
jqt '.id == '"$J" "the running job"
"$FAKE" "$DB" record "$J" 0 "out zero"
"$FAKE" "$DB" fail "$J" 1 "boom"
"$FAKE" "$DB" end "$J" completed
req GET /api/jobs/$J/failures
expect 200 "GET /api/jobs/{id}/failures"
jqt 'length == 1 and .[0].error == "boom"' "one failure"
req POST /api/jobs/$J/retry_failed
expect 200 "POST /api/jobs/{id}/retry_failed"
JR=$(jqv .job_id)
req DELETE /api/jobs/$JR
expect 200 "DELETE /api/jobs/{id}"
jqt '.message == "Job cancelled"' "cancelled"
req DELETE /api/jobs/$JR
expect 409 "cancel it again"

req GET "/api/records?job_id=$J&limit=10&offset=0"
expect 200 "GET /api/records?status=&job_id=&pipeline_id=&limit=&offset="
jqt 'length == 1 and .[0].output == "out zero"' "the record"
R=$(jq -r '.[0].id' "$T/body")
req GET /api/records/$R
expect 200 "GET /api/records/{id}"
jreq PUT /api/records/$R '{"output":"edited text"}'
expect 200 "PUT /api/records/{id}"
req GET /api/records/$R
jqt '.status == "edited" and .output == "edited text"' "edited"
req GET "/api/records?limit=0"
expect 400 "limit=0"
req GET /api/records/abc
expect 400 "non-numeric id"

"$FAKE" "$DB" fill "$JM" 5000
req GET "/api/export?job_id=$JM"
expect 200 "GET /api/export"
check "application/x-ndjson" grep -qi '^Content-Type: application/x-ndjson' "$T/headers"
check "streamed (chunked, no Content-Length)" grep -qi '^Transfer-Encoding: chunked' "$T/headers"
check "5000 JSON lines" test "$(jq -c .id "$T/body" | wc -l)" -eq 5000
req GET "/api/export/download?status=edited"
expect 200 "GET /api/export/download"
check "Content-Disposition" grep -qi '^Content-Disposition: attachment; filename="dgen_export.jsonl"' "$T/headers"
check "one edited record" test "$(wc -l <"$T/body")" -eq 1
req DELETE "/api/records?job_id=$JM"
expect 200 "DELETE /api/records?job_id="
jqt '.deleted == 5000' "5000 deleted"
req DELETE /api/pipelines/$PM
expect 200 "DELETE /api/pipelines/{id}"
req GET /api/pipelines/$PM
expect 404 "deleted"
req PATCH /api/pipelines/$P
expect 405 "wrong method"
check "Allow header through nginx" test "$(header Allow)" = "GET, PUT, DELETE"
req GET /api/nothing
expect 404 "unknown route"
check "error shape" error_shape
{ printf '{"name":"'; head -c 1200000 /dev/zero | tr '\0' 'a'; printf '","blocks":[]}'; } >"$T/big.req"
req POST /api/pipelines -H 'Content-Type: application/json' --data-binary "@$T/big.req"
expect 413 "a 1.2 MB JSON body is refused by nginx"
check "as JSON" error_shape

# ---- the pool: a killed worker is replaced --------------------------------------
workers=$(pgrep -P "$API_PID" | tr '\n' ' ')
check "two workers under the master ($workers)" test "$(echo $workers | wc -w)" -eq 2
victim=${workers%% *}
kill -9 "$victim"
for _ in $(seq 50); do
	now=$(pgrep -P "$API_PID" | tr '\n' ' ')
	[ "$(echo $now | wc -w)" -eq 2 ] && ! echo " $now " | grep -q " $victim " && break
	sleep 0.1
done
check "the master replaced the killed worker" test "$(echo $now | wc -w)" -eq 2
all_ok=1
for _ in $(seq 20); do
	req GET /api/health
	[ "$STATUS" = 200 ] || all_ok=
done
check "twenty requests after the kill all answered" test -n "$all_ok"

# ---- SIGTERM: clean exit; nginx then answers 502 as JSON ------------------------
kill -TERM "$API_PID"
wait "$API_PID"
rc=$?
API_PID=
check "dgen-api exits 0 on SIGTERM" test "$rc" -eq 0
check "and removes its socket" test ! -e "$T/api.sock"
req GET /api/health
expect 502 "pool down: nginx answers 502"
check "as JSON in the API's error shape" error_shape

# ---- the other ways to start: systemd socket activation, spawn-fcgi ----------
LEXEC="$top_builddir/tests/fixtures/listen_exec"
rm -f "$T/api.sock"
"$LEXEC" systemd "$T/api.sock" "$API" --workers 1 2>>"$T/api.log" &
API_PID=$!
for _ in $(seq 50); do
	req GET /api/health
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done
expect 200 "socket from systemd (LISTEN_FDS, fd 3)"
check "one worker under the master" test "$(pgrep -P "$API_PID" | wc -l)" -eq 1
kill -TERM "$API_PID"
wait "$API_PID"
rc=$?
API_PID=
check "exits 0 on SIGTERM" test "$rc" -eq 0
"$LEXEC" stdin "$T/api.sock" "$API" 2>>"$T/api.log" &
API_PID=$!
for _ in $(seq 50); do
	req GET /api/pipelines/$P
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done
expect 200 "socket on fd 0 (spawn-fcgi): one process serving"
jqt '.id == '"$P" "the same database"
kill -TERM "$API_PID"
wait "$API_PID"
rc=$?
API_PID=
check "exits 0 on SIGTERM" test "$rc" -eq 0

# ---- SIGTERM while a request is in flight: it is answered --------------------
MOCK="$top_builddir/tests/mock-llm/mock-llm"
if [ -x "$MOCK" ]; then
	"$MOCK" --port 0 --port-file "$T/mock.port" --latency-ms 1000 >/dev/null 2>&1 &
	MOCK_PID=$!
	for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
	LLM_ENDPOINT="http://127.0.0.1:$(cat "$T/mock.port")/v1/chat/completions" \
		LLM_PROVIDER=openai LLM_MODEL=mock LLM_TIMEOUT=10 start_api
	jreq POST /api/pipelines '{"name":"slow","blocks":[{"type":"TextGenerator","config":{"user_prompt":"hi"}}]}'
	PS=$(jqv .id)
	auth_args
	curl -s -o "$T/slow.body" -w '%{http_code}' -H 'Content-Type: application/json' \
		"${AUTH[@]}" -d '{}' "$BASE/api/pipelines/$PS/execute" >"$T/slow.status" &
	CURL_PID=$!
	# stop the pool once the worker is inside the LLM call: a connection to
	# the mock's port is established (/proc/net/tcp, ports in hex)
	mport=$(printf ':%04X' "$(cat "$T/mock.port")")
	inflight=
	for _ in $(seq 100); do
		if awk -v p="$mport" 'substr($3, length($3) - 4) == p && $4 == "01"' /proc/net/tcp |
			grep -q .; then
			inflight=1
			break
		fi
		sleep 0.02
	done
	check "the execute request reached the LLM" test -n "$inflight"
	kill -TERM "$API_PID"
	wait "$API_PID"
	rc=$?
	API_PID=
	wait "$CURL_PID"
	check "SIGTERM during a 1 s LLM call: exit 0" test "$rc" -eq 0
	check "and the request in flight still got its 200 ($(cat "$T/slow.status"))" \
		test "$(cat "$T/slow.status")" = 200
	check "with the LLM's reply" grep -q 'Mock reply to: hi' "$T/slow.body"
	kill "$MOCK_PID"
	wait "$MOCK_PID" 2>/dev/null
	MOCK_PID=
else
	ok "# SKIP no mock LLM built"
fi

check "no sanitizer report in the API's log" sh -c "! grep -Eq 'Sanitizer|runtime error' '$T/api.log'"
check "no worker died but the one killed" test "$(grep -c 'killed by signal\|exited with status' "$T/api.log")" -eq 1

done_testing
