#!/bin/bash
# The local stack end to end, as a user drives it: `dgenctl up` starts nginx,
# the API pool, the runner and the mock LLM under one data directory; a
# pipeline made from a template runs a seed file through the queue; the
# records and the export come back over HTTP; `up` again starts nothing; a
# killed runner is restarted alone; `down` leaves no process behind.
# Skips only when nginx or the binaries are missing.
set -u

top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
build=${top_builddir:-$top/build}
ctl=$top/contrib/dgenctl
export DGEN_BUILDDIR=$build

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip_all "nginx is not installed"
for b in dgen-api dgen-runner tests/mock-llm/mock-llm; do
	[ -x "$build/$b" ] || skip_all "$build/$b is not built"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/dgen-stack.XXXXXX")
data=$T/data
cleanup() {
	"$ctl" down --data "$data" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

. "$top/tests/lib/tap.sh"
. "$top/tests/lib/port.sh"

port=$(free_port) || { echo "Bail out! no free port found"; exit 1; }
base=http://127.0.0.1:$port

# HTTP helpers: body to stdout, status code to $T/code.
get() { curl -sS -o - -w '%{stderr}%{http_code}' "$@" 2>"$T/code"; }
code() { tail -c 3 "$T/code"; }

pid_of() { cat "$data/run/$1.pid" 2>/dev/null; }
# Alive and not a zombie (a stopped orphan waits for init to reap it).
alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st:0:1}" != Z ]
}
all_pids() {
	# every process of the stack: each started process leads its own group
	local name p
	for name in nginx api runner mock-llm; do
		p=$(pid_of "$name") && [ -n "$p" ] && pgrep -g "$p"
	done
}

# Waits (a hang guard, not a speed check) until job $1 has ended.
wait_job() {
	local s
	for _ in $(seq 1200); do
		s=$(curl -s "$base/api/jobs/$1" | jq -r .status 2>/dev/null)
		case $s in
		completed|failed|cancelled|stopped) echo "$s"; return 0 ;;
		queued|running) ;;
		*) echo "no such job ($s)"; return 1 ;;
		esac
		sleep 0.25
	done
	echo "$s"
}

# --- up -------------------------------------------------------------------
out=$("$ctl" up --data "$data" --port "$port" --mock-llm --workers 2 2>"$T/up.err")
rc=$?
check "dgenctl up succeeds" test $rc -eq 0
[ $rc -eq 0 ] || { diag "$(cat "$T/up.err")"; plan; exit 1; }
check "it prints the URL ($out)" test "$out" = "$base/"
check "every process has a pid file" \
	test -s "$data/run/nginx.pid" -a -s "$data/run/api.pid" -a -s "$data/run/runner.pid" -a -s "$data/run/mock-llm.pid"
check "logs are under the data directory" test -f "$data/log/api.log" -a -f "$data/log/nginx.log"
token=$("$ctl" token --data "$data")
check "dgenctl token prints the admin's token on one line" \
	test "$(printf '%s\n' "$token" | wc -l)" = 1 -a "${token:0:5}" = dgen_
check "the admin's password and token are private to the owner (0600)" \
	test "$(stat -c %a "$data/admin.password" "$data/admin.token" | sort -u)" = 600
check "the API refuses a request without the token" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/pipelines")" = 401
# every later curl of this test sends the token (curl reads $CURL_HOME/.curlrc)
printf 'header = "Authorization: Bearer %s"\n' "$token" >"$T/.curlrc"
export CURL_HOME=$T

h=$(get "$base/api/health")
check "GET /api/health answers 200" test "$(code)" = 200
check "the database is ok" test "$(jq -r .database <<<"$h")" = ok
check "the database lives in the data directory" test -f "$data/dgen.db"

st=$("$ctl" status --data "$data" 2>&1)
check "status shows the runner running" grep -q '^runner *running' <<<"$st"
check "status shows the health answer" grep -q 'api/health -> 200' <<<"$st"

# --- the demo flow over HTTP ---------------------------------------------
p=$(get -X POST "$base/api/pipelines/from_template/json_generation")
check "a pipeline is made from the json_generation template" test "$(code)" = 200 -o "$(code)" = 201
pipeline=$(jq -r .id <<<"$p")
check "it has an id ($pipeline)" test -n "$pipeline" -a "$pipeline" != null

j=$(get -F "pipeline_id=$pipeline" \
	-F "file=@$top/templates/seeds/seed_json_generation.json;type=application/json" \
	"$base/api/generate")
check "the example seeds are accepted as a job" test "$(code)" = 200 -o "$(code)" = 201
job=$(jq -r .job_id <<<"$j")
check "the job has an id ($job)" test -n "$job" -a "$job" != null

s=$(wait_job "$job")
check "the job completes ($s)" test "$s" = completed
jj=$(curl -s "$base/api/jobs/$job")
total=$(jq -r .total_seeds <<<"$jj")
recs=$(curl -s "$base/api/records?job_id=$job&limit=1000")
nrec=$(jq 'if type == "array" then length else -1 end' <<<"$recs")
check "records exist ($nrec)" test "$nrec" -gt 0
check "one record per execution ($nrec of $total)" test "$nrec" = "$total"
check "records carry an output" test "$(jq '[.[] | select((.output // "") == "")] | length' <<<"$recs")" = 0

get "$base/api/export/download?job_id=$job" >"$T/export.jsonl"
check "the export answers 200" test "$(code)" = 200
check "the export has one line per record" test "$(wc -l <"$T/export.jsonl")" = "$nrec"
check "every export line is a JSON object with an id" \
	test "$(jq -c 'select(type == "object" and has("id"))' "$T/export.jsonl" | wc -l)" = "$nrec"

# --- what nginx answers itself -------------------------------------------
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
e=$(get -X POST -H 'Content-Type: application/json' --data-binary @"$T/big" "$base/api/pipelines")
check "a body over 1 MiB gets 413" test "$(code)" = 413
check "... as JSON in the API's error shape" test "$(jq -r '(.error | type) + "/" + (.detail | type)' <<<"$e")" = string/object
e=$(get "$base/api/no-such-route")
check "an unknown API route is a JSON 404" test "$(code)/$(jq -r '.error | type' <<<"$e")" = 404/string
if [ -f "$top/static/dist/index.html" ]; then
	get "$base/pipelines/some/route" >"$T/page"
	check "a UI route falls back to index.html" cmp -s "$T/page" "$top/static/dist/index.html"
fi

# --- up again is a no-op ---------------------------------------------------
declare -A pid_before
for x in nginx api runner mock-llm; do pid_before[$x]=$(pid_of $x); done
before=$(for x in nginx api runner mock-llm; do pid_of $x; done | tr '\n' ' ')
out2=$("$ctl" up --data "$data" 2>&1)
check "a second up succeeds" test $? -eq 0
check "... and starts nothing" grep -q 'nothing to start' <<<"$out2"
after=$(for x in nginx api runner mock-llm; do pid_of $x; done | tr '\n' ' ')
check "... every pid is unchanged" test "$before" = "$after"

# --- a killed runner comes back alone ---------------------------------------
old_runner=$(pid_of runner)
kill -9 "$old_runner"
while alive "$old_runner"; do sleep 0.1; done
out3=$("$ctl" up --data "$data" 2>&1)
check "up after a killed runner succeeds" test $? -eq 0
check "... it starts only the runner" grep -q 'started: runner$' <<<"$out3"
new_runner=$(pid_of runner)
check "... the runner has a new pid" test -n "$new_runner" -a "$new_runner" != "$old_runner"
check "... and runs" alive "$new_runner"
for x in nginx api mock-llm; do
	check "... $x kept its pid" test "$(pid_of $x)" = "${pid_before[$x]}"
done
j=$(get -F "pipeline_id=$pipeline" \
	-F "file=@$top/templates/seeds/seed_json_generation.json;type=application/json" \
	"$base/api/generate")
job2=$(jq -r .job_id <<<"$j")
check "the restarted runner completes a new job" test "$(wait_job "$job2")" = completed

# --- down ------------------------------------------------------------------
pids=$(all_pids | sort -u)
check "the stack has processes to stop ($(wc -w <<<"$pids"))" test "$(wc -w <<<"$pids")" -ge 4
"$ctl" down --data "$data" >"$T/down.out" 2>&1
check "dgenctl down succeeds" test $? -eq 0
left=
for p in $pids; do
	alive "$p" && left="$left $p"
done
check "no process is left behind${left:+ (still there:$left)}" test -z "$left"
check "the pid files are gone" test -z "$(ls "$data/run/"*.pid 2>/dev/null)"
check "the port is free again" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
st=$("$ctl" status --data "$data" 2>&1)
check "status says nothing runs" test "$(grep -c 'not running' <<<"$st")" = 4

# Under ASan/UBSan the programs report into their logs: none may.
bad=$(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$data"/log/*.log 2>/dev/null)
check "no sanitizer report in the logs${bad:+ ($bad)}" test -z "$bad"
# shellcheck disable=SC2086 # one file name per word
[ -z "$bad" ] || grep -h -A15 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $bad | head -40 | sed 's/^/# /'

done_testing
