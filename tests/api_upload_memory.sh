#!/bin/bash
# api_upload_memory.sh - what an upload costs the API process. The worst
# case of the limits: a 10 MiB seed file (DGEN_MAX_UPLOAD) of 100 000 tiny
# seeds (DGEN_MAX_SEEDS). Checking it must peak at no more than 4 times
# the file's size above the process's idle size (a json-c tree of the
# whole file took 20 times and more), measured as the peak RSS of the CGI
# program (/usr/bin/time); and a pooled worker must give the memory back
# once the request is answered (its RSS read from /proc after the upload).
# Prints TAP; skips without /usr/bin/time, jq or awk.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"
. "$top_srcdir/tests/api/pool.sh"

API="$top_builddir/dgen-api"
skip_without jq awk
if [ ! -x /usr/bin/time ] || ! /usr/bin/time -f %M true >/dev/null 2>&1; then
	echo "1..0 # SKIP /usr/bin/time (GNU time) is not installed"
	exit 0
fi
# Under AddressSanitizer the figures are the sanitizer's (shadow memory,
# a quarantine that keeps freed blocks): the bound is checked by the normal
# build, which the CI runs too.
if ldd "$API" 2>/dev/null | grep -q libasan; then
	echo "1..0 # SKIP memory figures under AddressSanitizer are the sanitizer's"
	exit 0
fi
: >"$T/dgen.conf"
store_init "$T"
export DGEN_CONFIG="$T/dgen.conf"
admin_token
# every curl of this test sends the token (curl reads $CURL_HOME/.curlrc)
printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" >"$T/.curlrc"
export CURL_HOME="$T"
export DGEN_TEMPLATES_DIR="${DGEN_TEMPLATES_DIR:-$top_srcdir/templates}"
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy no_proxy NO_PROXY

# 100 000 seeds of 103 bytes: 10 400 001 bytes, the form just under 10 MiB
awk 'BEGIN {
	pad = sprintf("%76s", ""); gsub(/ /, "x", pad)
	printf "["
	for (i = 0; i < 100000; i++)
		printf "%s{\"metadata\":{\"t\":\"%s%06d\"}}", (i ? "," : ""), pad, i
	printf "]"
}' >"$T/seeds.json"
FILE_KB=$(( $(wc -c <"$T/seeds.json") / 1024 ))

json POST /api/pipelines '{"name":"p","blocks":[{"type":"ValidatorBlock","config":{}}]}'
P=$(jqv .id)
multipart "$T/form" "$P" "$T/seeds.json" seeds.json
check "the form is within the 10 MiB upload limit" test "$(wc -c <"$T/form")" -le 10485760

# ---- CGI: the peak of one process --------------------------------------------
CGI_WRAP=(/usr/bin/time -f %M -o "$T/rss")
cgi GET /api/health
IDLE_KB=$(tail -n 1 "$T/rss")
cgi POST /api/generate "$MP_TYPE" "$T/form"
PEAK_KB=$(tail -n 1 "$T/rss")
CGI_WRAP=()
expect 200 "the upload is taken"
J=$(jqv .job_id)
cgi GET "/api/jobs/$J"
jqt '.total_seeds == 100000' "with its 100 000 units"
diag "file ${FILE_KB} KiB, idle ${IDLE_KB} KiB, peak ${PEAK_KB} KiB: $(( (PEAK_KB - IDLE_KB) * 10 / FILE_KB )) tenths of the file above idle"
check "checking it peaks at no more than 4x the file above idle ($PEAK_KB - $IDLE_KB KiB <= 4 x $FILE_KB KiB)" \
	test $((PEAK_KB - IDLE_KB)) -le $((4 * FILE_KB))

# a bad seed at the very end is found, still within the bound
sed 's/}}]$/},"x":1}]/' "$T/seeds.json" >"$T/bad.json"
multipart "$T/form" "$P" "$T/bad.json" seeds.json
CGI_WRAP=(/usr/bin/time -f %M -o "$T/rss")
cgi POST /api/generate "$MP_TYPE" "$T/form"
PEAK_KB=$(tail -n 1 "$T/rss")
CGI_WRAP=()
expect 422 "a bad last seed is refused"
jqt '.detail.seed_index == 99999' "naming seed 99999"
check "within the same bound ($PEAK_KB KiB)" test $((PEAK_KB - IDLE_KB)) -le $((4 * FILE_KB))

# ---- a pooled worker gives the memory back ------------------------------------
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ] || ! command -v curl >/dev/null 2>&1; then
	ok "# SKIP nginx or curl is not installed"
	done_testing
	exit 0
fi
pool_api 1 || { echo "Bail out! dgen-api did not start"; exit 1; }
pool_nginx || { echo "Bail out! nginx did not start"; exit 1; }
W=$(pgrep -P "$POOL_API_PID" | head -n 1)
# the worker's own memory (not the database file's pages it has mapped)
rss() { awk '/^RssAnon:/ { print $2 }' "/proc/$W/status"; }
multipart "$T/form" "$P" "$T/seeds.json" seeds.json
# warm up: the worker opens the database and loads what it keeps
for _ in 1 2 3; do curl -s -o /dev/null "$BASE/api/pipelines"; done
BEFORE=$(rss)
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Content-Type: $MP_TYPE" \
	--data-binary @"$T/form" "$BASE/api/generate")
check "the upload through nginx is taken ($code)" test "$code" = 200
AFTER=$(rss)
diag "worker anonymous RSS before ${BEFORE} KiB, after ${AFTER} KiB"
check "and the worker gives the memory back: RSS after ($AFTER KiB) within a quarter of the file of before ($BEFORE KiB)" \
	test $((AFTER - BEFORE)) -le $((FILE_KB / 4))

done_testing
