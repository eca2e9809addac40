#!/bin/bash
# harden_stack.sh - the local stack (contrib/dgenctl up: nginx, the API
# pool, the runner, the mock LLM) under hostile or unlucky conditions, each
# against a named bound:
#   - 2000 idle or slow connections from 127.0.0.1: another client
#     (127.0.0.2) still gets GET /api/health 200 within 2 s
#   - per address: 64 requests in progress, /api/ at 50 requests/s with
#     bursts of 500; past that 429 in the API's JSON error shape
#   - nginx's own errors (400, 414, 429) are JSON
#   - security headers on / and /api/, a foreign Host header is refused
#   - the database, WAL and SHM are not readable by others (0640 or less)
#   - a client can tell a cut export: killing the worker mid-export makes
#     curl fail
#   - kill -9 of the nginx master or of the API master: down, then up,
#     recover (no orphan keeps the port or the socket)
# With DGEN_TEST_STORE=pg the stack runs on PostgreSQL (up --postgres: a
# cluster of its own in the stack's directory); the file modes of the
# sqlite database are then skipped.
# Prints TAP; skips when nginx, curl or jq is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

find_nginx
skip_without curl jq
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 2200 ]; then
	echo "1..0 # SKIP 2000 connections need more than $(ulimit -Hn) descriptors"
	exit 0
fi
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"

CTL="$top_srcdir/contrib/dgenctl"
FAKE="$top_builddir/tests/api/fake_runner"
STRICT="$top_builddir/tests/fixtures/json_strict"
export DGEN_BUILDDIR="$top_builddir" DGEN_UP_TIMEOUT=60 DGEN_DOWN_TIMEOUT=10
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy no_proxy NO_PROXY
unset DATABASE_PATH DATABASE_URL DGEN_CONFIG LLM_ENDPOINT
DATA="$T/stack"
UP_STORE=
STORE=$DATA/dgen.db # what the fake runner opens
if store_is_pg; then
	UP_STORE=--postgres
	STORE="postgresql:///dgen?host=$DATA/pg&user=dgen"
	chmod 711 "$T" # the server runs as nobody under root: its socket is in $DATA/pg
fi

# Live (not zombie) members of a process group.
group_live() {
	local p
	for p in $(pgrep -g "$1"); do
		[ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = Z ] || echo "$p"
	done
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$(free_port) || { echo "Bail out! no free port found"; exit 1; }
BASE="http://127.0.0.1:$PORT"

stack_down() { "$CTL" down --data "$DATA" >>"$T/ctl.log" 2>&1; }
CLEANUP_HOOKS="stack_down"
up() { "$CTL" up --data "$DATA" --port "$PORT" --workers 2 --mock-llm $UP_STORE >>"$T/ctl.log" 2>&1; }

req() {
	local method=$1 path=$2
	shift 2
	STATUS=$(curl -s -X "$method" -o "$T/body" -D "$T/headers.raw" -w '%{http_code}' \
		--max-time 10 "$@" "$BASE$path")
	tr -d '\r' <"$T/headers.raw" >"$T/headers"
}

if ! up; then
	echo "Bail out! contrib/dgenctl up failed"
	sed 's/^/# /' "$T/ctl.log"
	exit 1
fi
ok "the stack is up on port $PORT"
store_is_pg && check "on PostgreSQL" grep -q 'database postgresql://' "$T/ctl.log"
# every later curl of this test sends the admin's token ($CURL_HOME/.curlrc)
printf 'header = "Authorization: Bearer %s"\n' "$("$CTL" token --data "$DATA")" >"$T/.curlrc"
export CURL_HOME=$T

# ---- headers, host names ---------------------------------------------------
for path in / /api/health; do
	req GET "$path"
	check "$path: Content-Security-Policy without inline script" \
		grep -q "^Content-Security-Policy: default-src 'self'; script-src 'self';.*frame-ancestors 'none'" "$T/headers"
	check "$path: X-Content-Type-Options nosniff, once" test "$(grep -ci '^X-Content-Type-Options: nosniff' "$T/headers")" = 1
	check "$path: Referrer-Policy no-referrer" grep -qi '^Referrer-Policy: no-referrer' "$T/headers"
done
req GET /api/health -H 'Host: localhost'
expect 200 "Host: localhost is served"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: evil.example' "$BASE/api/health")
check "Host: evil.example gets no answer (DNS rebinding)" test "$code" = 000

# ---- nginx's own errors are JSON -------------------------------------------
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'BROKEN\r\n\r\n' >&3
timeout 5 cat <&3 >"$T/raw400"
exec 3>&-
tr -d '\r' <"$T/raw400" | sed '1,/^$/d' >"$T/body"
check "a malformed request line is 400" grep -q '^HTTP/1.1 400' "$T/raw400"
check "as JSON" error_shape
req GET "/api/$(head -c 20000 /dev/zero | tr '\0' a)"
expect 414 "a 20 000-byte URL"
check "as JSON" error_shape

# ---- 64 requests in progress per address -------------------------------------
fds=()
for i in $(seq 70); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
	# A request head whose body never comes: in progress until the
	# body timeout.
	printf 'POST /api/pipelines HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n' >&$fd
	fds+=("$fd")
done
sleep 0.5
req GET /api/health
expect 429 "the 71st request in progress from one address"
check "as JSON" error_shape
check "with Retry-After" test -n "$(header Retry-After)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.2 "$BASE/api/health")
check "another address is still served meanwhile" test "$code" = 200
for fd in "${fds[@]}"; do exec {fd}>&-; done

# ---- 2000 idle and slow connections ------------------------------------------
fds=()
for i in $(seq 2000); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
	# every other one starts a request head and never finishes it
	[ $((i % 2)) = 0 ] && printf 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n' >&$fd
	fds+=("$fd")
done
check "2000 connections held open from 127.0.0.1" test "${#fds[@]}" = 2000
out=$(curl -s -o "$T/body" -w '%{http_code} %{time_total}' --max-time 5 --interface 127.0.0.2 "$BASE/api/health")
check "another client (127.0.0.2) gets GET /api/health 200 meanwhile" test "${out% *}" = 200
check "within 2 s (took ${out#* } s)" awk -v t="${out#* }" 'BEGIN { exit !(t < 2) }'
echo "# 2000 held connections: GET /api/health from 127.0.0.2 -> $out s"
out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$BASE/")
check "and the UI from 127.0.0.1 too" test "${out% *}" != 000
for fd in "${fds[@]}"; do exec {fd}>&-; done
check "nginx never ran out of connections" sh -c "! grep -q 'worker_connections are not enough' '$DATA/log/nginx.log'"

# ---- the request rate per address --------------------------------------------
# Every answer is kept: the bucket drains at 50 a second, so on a loaded
# machine a late request can be served again, and the body checked must be
# one of a refused request, not simply the last one.
mkdir -p "$T/burst"
args=()
for i in $(seq 1000); do args+=(-o "$T/burst/$i" "$BASE/api/health"); done
curl -s -w '%{http_code}\n' "${args[@]}" >"$T/codes"
n429=$(grep -c '^429$' "$T/codes")
n200=$(grep -c '^200$' "$T/codes")
check "1000 requests at once: the first 400 or more served ($n200)" test "$n200" -ge 400
check "the rest refused with 429 ($n429)" test "$n429" -gt 0 -a $((n200 + n429)) = 1000
first429=$(grep -n -m1 '^429$' "$T/codes" | cut -d: -f1)
check "as JSON (answer $first429)" error_shape "$T/burst/$first429"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.2 "$BASE/api/health")
check "another address is not limited" test "$code" = 200

# ---- file modes ------------------------------------------------------------------
for f in dgen.db dgen.db-wal dgen.db-shm; do
	store_skip_pg "$f is not readable by others" "the server keeps the data" && continue
	mode=$(stat -c %a "$DATA/$f" 2>/dev/null)
	check "$f is not readable by others (mode $mode)" test -n "$mode" -a "${mode: -1}" = 0 -a "${mode: -2:1}" -le 4
done
# The programs set their own umask, whatever they inherit.
if ! store_skip_pg "dgen under umask 000 still makes its database 0640" "a database file's mode"; then
	(umask 000; DATABASE_PATH="$T/own.db" DGEN_CONFIG=/dev/null "$top_builddir/dgen" migrate >/dev/null 2>&1)
	mode=$(stat -c %a "$T/own.db" 2>/dev/null)
	check "dgen under umask 000 still makes its database 0640 (mode $mode)" test "$mode" = 640
fi

# ---- a cut export is an error the client sees -----------------------------------
sleep 2  # let the rate limit refill
req POST /api/pipelines -H 'Content-Type: application/json' \
	--data-binary '{"name":"export","blocks":[{"type":"ValidatorBlock","config":{}}]}'
P=$(jq -r .id "$T/body")
printf '[{"metadata":{"text":"a"}}]' >"$T/seeds.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/seeds.json;type=application/json"
J=$(jq -r .job_id "$T/body")
for _ in $(seq 100); do
	req GET "/api/jobs/$J"
	[ "$(jq -r .status "$T/body")" = completed ] && break
	sleep 0.1
done
# ---- JSON in is strict, JSON out parses strictly -------------------------------
req POST /api/pipelines -H 'Content-Type: application/json' --data-binary '{"name": NaN, "blocks": []}'
expect 400 "a body with NaN"
jqt '.detail.offset == 9' "the error names byte 9"
req POST /api/pipelines -H 'Content-Type: application/json' --data-binary '{"name": "a", "name": "b", "blocks": []}'
expect 400 "a body with a duplicate key"
printf '[{"metadata":{"text":"a\tb"}}]' >"$T/bad-seeds.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/bad-seeds.json;type=application/json"
check "a seed file with a raw tab in a string is refused ($STATUS)" test "$STATUS" = 400 -o "$STATUS" = 422
for path in "/api/jobs/$J" "/api/records?job_id=$J" "/api/pipelines/$P" /api/blocks; do
	req GET "$path"
	check "GET $path is strict JSON" "$STRICT" "$T/body"
done
req GET "/api/export?job_id=$J"
check "every exported line is strict JSON" "$STRICT" --lines "$T/body"

"$FAKE" "$STORE" fill "$J" 400 100000 >/dev/null
curl -s -o "$T/export.jsonl" --limit-rate 2M "$BASE/api/export?job_id=$J" &
CURL_PID=$!
sleep 1.5
api_master=$(cat "$DATA/run/api.pid")
for w in $(pgrep -P "$api_master"); do kill -9 "$w"; done
wait "$CURL_PID"
rc=$?
lines=$(wc -l <"$T/export.jsonl")
check "killing the worker mid-export: curl fails (exit $rc, $lines of 400 lines)" test "$rc" != 0
check "the export was really cut" test "$lines" -lt 400

# ---- orphans: kill -9 of a master, then down and up -----------------------------
ngx=$(cat "$DATA/run/nginx.pid")
kill -9 "$ngx"
sleep 0.3
check "after kill -9 of the nginx master its workers still hold the port" \
	test -n "$(group_live "$ngx")"
stack_down
check "down stops the orphaned nginx workers" test -z "$(group_live "$ngx")"
check "the port is free again" port_free "$PORT"
check "up again after an nginx kill -9" up
req GET /api/health
expect 200 "and it answers"

api_master=$(cat "$DATA/run/api.pid")
workers=$(pgrep -P "$api_master" | tr '\n' ' ')
kill -9 "$api_master"
for _ in $(seq 50); do
	[ -z "$(group_live "$api_master")" ] && break
	sleep 0.1
done
check "the API workers ($workers) exit when their master is killed" test -z "$(group_live "$api_master")"
stack_down
check "up again after an API master kill -9" up
req GET /api/health
expect 200 "and it answers"
stack_down
check "down leaves nothing on the port" port_free "$PORT"
CLEANUP_HOOKS=

done_testing
