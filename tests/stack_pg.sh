#!/bin/bash
# The local stack on PostgreSQL, as a user moves to it. A stack on sqlite
# gets a user, an API token, a browser session, a model with a sealed key
# (the mock LLM insists on that key), a pipeline naming it and a finished
# job; `dgen migrate --to postgresql://...` copies all of it into an empty
# PostgreSQL database; the stack then runs on the URL: the same token logs
# in, the export is the same byte for byte, the model's key still opens
# (a new job completes), new ids come after the copied ones. A second copy
# into the now filled database is refused. Then `dgenctl up --postgres`
# runs a stack on a cluster of its own in the data directory, `down` stops
# that cluster too, and a later `up` finds the data again.
# Skips when nginx, the binaries or PostgreSQL are missing.
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
for b in dgen dgen-api dgen-runner tests/mock-llm/mock-llm; do
	[ -x "$build/$b" ] || skip_all "$build/$b is not built"
done
. "$top/tests/lib/pg.sh"
pg_find_bin >/dev/null || skip_all "no PostgreSQL installed (Debian: postgresql)"

T=$(mktemp -d "${TMPDIR:-/tmp}/dgen-stack-pg.XXXXXX")
# PostgreSQL runs as nobody under root: it must pass through $T.
chmod 711 "$T"
a=$T/a
b=$T/b
cleanup() {
	"$ctl" down --data "$a" >/dev/null 2>&1
	"$ctl" down --data "$b" >/dev/null 2>&1
	pg_stop
	rm -rf "$T"
}
trap cleanup EXIT

. "$top/tests/lib/tap.sh"
. "$top/tests/lib/port.sh"

port=$(free_port) || { echo "Bail out! no free port found"; exit 1; }
base=http://127.0.0.1:$port

get() { curl -sS -o - -w '%{stderr}%{http_code}' "$@" 2>"$T/code"; }
code() { tail -c 3 "$T/code"; }
post_json() { get -X POST -H 'Content-Type: application/json' --data-binary "$2" "$base$1"; }

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

# A job of pipeline $1 over the example seeds; prints its id.
submit() {
	get -F "pipeline_id=$1" \
		-F "file=@$top/templates/seeds/seed_json_generation.json;type=application/json" \
		"$base/api/generate" | jq -r .job_id
}

up() {
	local d=$1; shift
	if ! "$ctl" up --data "$d" --port "$port" --mock-llm --workers 2 "$@" >"$T/up.out" 2>"$T/up.err"; then
		diag "$(tail -20 "$T/up.err")"
		return 1
	fi
	printf 'header = "Authorization: Bearer %s"\n' "$("$ctl" token --data "$d")" >"$T/.curlrc"
	export CURL_HOME=$T
	mport=$(cat "$d/run/mock-llm.port")
}

# --- a stack on sqlite, with something of everything ------------------------
check "dgenctl up on sqlite" up "$a"
curl -s -X POST -d '{"expect_key":"sk-moved-4321"}' "http://127.0.0.1:$mport/mock/config" >/dev/null
murl="http://127.0.0.1:$mport/v1/chat/completions"
m=$(post_json /api/llm-models "{\"name\":\"moved\",\"provider\":\"openai\",\"endpoint\":\"$murl\",\"model_name\":\"mock\",\"api_key\":\"sk-moved-4321\"}")
check "a model with a sealed key is stored ($(code))" test "$(code)" = 201
p=$(post_json /api/pipelines '{"name":"moving","blocks":[{"type":"TextGenerator","config":{"model":"moved","user_prompt":"Say something about {{ content }}"}}]}')
pipeline=$(jq -r .id <<<"$p")
check "a pipeline naming the model ($pipeline)" test "$(code)" = 200 -a -n "$pipeline"
# the runner picks up new models at its heartbeat (every 2 s)
sleep 2.5
job=$(submit "$pipeline")
s=$(wait_job "$job")
check "its job completes on sqlite (the key opens: $s)" test "$s" = completed
[ "$s" = completed ] || diag "$(curl -s "$base/api/jobs/$job")" "$(curl -s "$base/api/jobs/$job/failures" | head -c 600)"
pw=$(cat "$a/admin.password")
login=$(printf '{"name":"admin","password":"%s"}' "$pw")
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary "$login" "$base/api/auth/login"
get "$base/api/export/download?job_id=$job" >"$T/export.sqlite"
nrec=$(wc -l <"$T/export.sqlite")
check "the job has records ($nrec)" test "$nrec" -gt 0
"$ctl" down --data "$a" >/dev/null 2>&1

# --- the copy -----------------------------------------------------------------
PG_TRAP=no pg_start 2>"$T/pg.err" || { diag "$(cat "$T/pg.err")"; echo "Bail out! PostgreSQL did not start"; exit 1; }
url=$DGEN_TEST_PG_URL
out=$(DATABASE_PATH=$a/dgen.db "$build/dgen" migrate --to "$url" 2>&1)
rc=$?
check "dgen migrate --to copies the sqlite database" test $rc -eq 0
[ $rc -eq 0 ] || diag "$out"
check "... prints the rows per table" grep -Eq "^ +records +$nrec rows$" <<<"$out"
for t in users tokens sessions models pipelines jobs job_inputs; do
	check "... $t has rows" grep -Eq "^ +$t +[1-9][0-9]* rows$" <<<"$out"
done
check "... and says it checked counts and sampled rows" grep -q '^checked: row counts of [0-9]* tables equal' <<<"$out"

psql_n() { $PG_AS "$PG_BIN/psql" -h "$PG_DIR" -U dgen -d dgen -Atc "$1"; }
before=$(psql_n "SELECT count(*) FROM records")
out=$(DATABASE_PATH=$a/dgen.db "$build/dgen" migrate --to "$url" 2>&1)
rc=$?
check "a second copy into the filled database is refused" test $rc -ne 0
check "... saying the target is not empty" grep -q 'not empty' <<<"$out"
check "... and writes nothing" test "$(psql_n "SELECT count(*) FROM records")" = "$before"
out=$(DATABASE_PATH=$T/none.db "$build/dgen" migrate --to "$url" 2>&1)
check "a missing source file is an error" test $? -ne 0 -a ! -e "$T/none.db"

# --- the stack on the copy ------------------------------------------------------
export DATABASE_URL=$url
check "dgenctl up on the PostgreSQL copy" up "$a"
curl -s -X POST -d '{"expect_key":"sk-moved-4321"}' "http://127.0.0.1:$mport/mock/config" >/dev/null
h=$(get "$base/api/health")
check "the health answer names a working database" test "$(jq -r .database <<<"$h")" = ok
get "$base/api/pipelines/$pipeline" >/dev/null
check "the copied API token logs in" test "$(code)" = 200
r=$(curl -s -H 'Content-Type: application/json' --data-binary "$login" -o /dev/null -w '%{http_code}' \
	"$base/api/auth/login")
check "the copied password logs in ($r)" test "$r" = 200
get "$base/api/export/download?job_id=$job" >"$T/export.pg"
check "the export is the same byte for byte" cmp -s "$T/export.sqlite" "$T/export.pg"
ms=$(get "$base/api/llm-models")
check "the model is there with its key" \
	test "$(jq -r '.[] | select(.name == "moved") | .api_key_last4' <<<"$ms")" = 4321
job2=$(submit "$pipeline")
check "a new job's id comes after the copied ones ($job2 > $job)" test "$job2" -gt "$job"
check "... and completes with the copied key" test "$(wait_job "$job2")" = completed
"$ctl" down --data "$a" >/dev/null 2>&1
unset DATABASE_URL

# --- dgenctl up --postgres ---------------------------------------------------
check "dgenctl up --postgres" up "$b" --postgres
check "... says it started postgres" grep -q 'started: .*postgres' "$T/up.err"
check "... the cluster lives in the data directory" test -f "$b/pg/data/PG_VERSION"
check "... with its socket there" test -S "$b/pg/.s.PGSQL.5432"
check "... and no sqlite file" test ! -e "$b/dgen.db"
check "status lists postgres running" grep -q '^postgres *running' <<<"$("$ctl" status --data "$b" 2>&1)"
p=$(get -X POST "$base/api/pipelines/from_template/json_generation")
pb=$(jq -r .id <<<"$p")
jb=$(submit "$pb")
check "a job completes on it" test "$(wait_job "$jb")" = completed
pgpid=$(head -1 "$b/pg/data/postmaster.pid")
"$ctl" down --data "$b" >"$T/down.out" 2>&1
check "dgenctl down succeeds" test $? -eq 0
check "... says it stopped postgres" grep -q 'stopped postgres' "$T/down.out"
for _ in $(seq 50); do [ -e "/proc/$pgpid" ] || break; sleep 0.1; done
check "... the server is gone" test ! -e "/proc/$pgpid"
check "status says postgres is not running" grep -q '^postgres *not running' <<<"$("$ctl" status --data "$b" 2>&1)"
check "up again (without the flag) uses the cluster again" up "$b"
check "... it started postgres" grep -q 'started: .*postgres' "$T/up.err"
get "$base/api/jobs/$jb" >/dev/null
check "... and the job is still there" test "$(code)" = 200
"$ctl" down --data "$b" >/dev/null 2>&1

done_testing
