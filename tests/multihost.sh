#!/bin/bash
# multihost.sh - many hosts against one PostgreSQL, simulated with network
# namespaces (root only, DGEN_TEST_PG_SUITES=1: contrib/dgenctl test).
#
# A "hub" namespace of this run holds a bridge (198.18.0.1/24, the
# benchmarking range; no default route anywhere, so nothing leaves the
# machine) and nginx; each other namespace is a host joined to the bridge
# by a veth pair: "pg" (PostgreSQL on TCP with a password, and the mock
# LLM), "api1" and "api2" (a dgen-api FastCGI pool each, on TCP through
# systemd-socket-activate), "r1".."r3" (a dgen-runner each, with a host
# name of its own, so no runner takes another's job as a dead local
# process: only the lease tells). A 2000-unit job goes in through nginx;
# mid-job the runner holding it is killed (SIGKILL, then restarted), the
# next holder is killed (not restarted), and the third holder's host is
# cut off (its veth down) until the job completed elsewhere; then it is
# joined again and must not change the job. Checks: one record per unit,
# the counters match the records, LLM calls <= units + the units in
# flight of the three lost holders, both pools answered through nginx,
# the password is in no log. Everything (namespaces, processes, files)
# goes at exit, even on failure.
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
B=$top_builddir

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ "${DGEN_TEST_PG_SUITES:-}" = 1 ] ||
	skip_all "set DGEN_TEST_PG_SUITES=1 to run it (contrib/dgenctl test does; needs root and PostgreSQL)"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "ip (iproute2) is not installed"
for tool in curl jq systemd-socket-activate unshare runuser; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is not installed"
done
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed"
PG_BIN=$(pg_find_bin) || skip_all "PostgreSQL is not installed"

UNITS=2000
C=8                                    # units in flight per runner
P=dgen-mh-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-$$
NET=198.18.0
declare -A IP=([pg]=$NET.2 [api1]=$NET.3 [api2]=$NET.4 [r1]=$NET.11 [r2]=$NET.12 [r3]=$NET.13)
T=$(mktemp -d "${TMPDIR:-/tmp}/dgen-mh.XXXXXX")
chmod 755 "$T"
NSES=
declare -A RPID

# Every process of every namespace of this run, then the namespaces (the
# hub's goes last: the veths and the bridge go with it).
cleanup() {
	local ns pids
	exec 2>/dev/null # no "Killed" notices
	for ns in $NSES; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	wait 2>/dev/null
	for ns in $NSES; do ip netns del "$ns" 2>/dev/null; done
	if [ "$tap_failed" -ne 0 ]; then
		for f in "$T"/r*.log "$T"/api*.log "$T/pg/server.log"; do
			[ -f "$f" ] && { diag "--- tail of $f"; tail -15 "$f" | sed 's/^/# /'; }
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! ip netns add "$P-hub" 2>"$T/netns.err"; then
	skip_all "ip netns add fails here: $(head -1 "$T/netns.err")"
fi
NSES="$P-hub"
ip -n "$P-hub" link set lo up
ip -n "$P-hub" link add br0 type bridge
ip -n "$P-hub" addr add "$NET.1/24" dev br0
ip -n "$P-hub" link set br0 up

# host NAME: a namespace joined to the hub's bridge, at ${IP[NAME]}.
host() {
	local ns=$P-$1
	ip netns add "$ns" || return 1
	NSES="$ns $NSES"
	ip -n "$P-hub" link add "v-$1" type veth peer name eth0 netns "$ns" &&
		ip -n "$P-hub" link set "v-$1" master br0 up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "${IP[$1]}/24" dev eth0 &&
		ip -n "$ns" link set eth0 up
}
on() { local h=$1; shift; ip netns exec "$P-$h" "$@"; }

ok_hosts=1
for h in pg api1 api2 r1 r2 r3; do host "$h" || ok_hosts=0; done
check "seven namespaces joined by a bridge" test "$ok_hosts" = 1
routes=$(for ns in $NSES; do ip -n "$ns" route show default; done)
check "no default route in any namespace: nothing leaves the machine" test -z "$routes"

# ---- PostgreSQL on TCP, with a password ---------------------------------------
PW=mh$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$T/pg" "$T/data"
chown nobody "$T/pg"
printf '%s\n' "$PW" >"$T/pg/pw"
chown nobody "$T/pg/pw"
pg_ok=0
if runuser -u nobody -- "$PG_BIN/initdb" -D "$T/pg/data" -U dgen --auth-local=trust \
	--auth-host=scram-sha-256 --pwfile="$T/pg/pw" --no-sync -E UTF8 --locale=C \
	>"$T/pg/initdb.log" 2>&1; then
	rm -f "$T/pg/pw"
	echo "host all all $NET.0/24 scram-sha-256" >>"$T/pg/data/pg_hba.conf"
	on pg runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/server.log" -w -t 30 \
		-o "-k $T/pg -c listen_addresses=${IP[pg]} -c port=5432 -c fsync=off -c full_page_writes=off -c max_connections=200 -c log_connections=on -c log_disconnections=on" \
		start >/dev/null 2>&1 &&
		runuser -u nobody -- "$PG_BIN/createdb" -h "$T/pg" -U dgen dgen >/dev/null 2>&1 && pg_ok=1
fi
rm -f "$T/pg/pw"
if [ "$pg_ok" != 1 ]; then
	echo "Bail out! PostgreSQL did not start"
	cat "$T/pg/initdb.log" "$T/pg/server.log" 2>/dev/null | tail -20 | sed 's/^/# /'
	exit 1
fi
ok "PostgreSQL listens on ${IP[pg]}:5432 only, password authentication"

# ---- the environment every dgen process gets ----------------------------------
on pg "$B/tests/mock-llm/mock-llm" --host "${IP[pg]}" --port 0 --port-file "$T/mock.port" \
	--latency-ms 35 >"$T/mock.log" 2>&1 &
for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
MOCK="http://${IP[pg]}:$(cat "$T/mock.port")"
export DATABASE_URL="postgresql://dgen:$PW@${IP[pg]}:5432/dgen"
export DATABASE_PATH="$T/data/dgen.db" # the data directory: the key file
export LLM_ENDPOINT="$MOCK/v1/chat/completions" LLM_PROVIDER=openai LLM_MODEL=mock-model LLM_API_KEY=
export LLM_TIMEOUT=10 LLM_MAX_RETRIES=4
export DGEN_LEASE_SECONDS=2 DGEN_RUNNER_POLL_MS=50 DGEN_RUNNER_GRACE_SECONDS=5
export DGEN_RUNNER_CONCURRENCY=$C
ENVS=(DATABASE_URL DATABASE_PATH LLM_ENDPOINT LLM_PROVIDER LLM_MODEL LLM_API_KEY LLM_TIMEOUT
	LLM_MAX_RETRIES DGEN_LEASE_SECONDS DGEN_RUNNER_POLL_MS DGEN_RUNNER_GRACE_SECONDS
	DGEN_RUNNER_CONCURRENCY)

mock_llm_calls() { on pg curl -s "$MOCK/mock/stats" | jq '.by_path["/v1/chat/completions"] // 0'; }
PSQL=$PG_BIN/psql
[ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -h "$T/pg" -U dgen -d dgen -XAtq -c "$1"; }

migrate() { on hub "$B/dgen" migrate >"$T/migrate.log" 2>&1; }
check "dgen migrate over TCP from the hub" migrate
on hub "$B/dgen" users add admin --admin >/dev/null 2>&1
TOKEN=$(on hub "$B/dgen" tokens create admin --name multihost 2>/dev/null)
check "an admin token" test -n "$TOKEN"

# ---- two API pools, nginx in front --------------------------------------------
for h in api1 api2; do
	args=()
	for v in "${ENVS[@]}"; do args+=(-E "$v"); done
	on "$h" systemd-socket-activate -l "${IP[$h]}:9000" "${args[@]}" \
		"$B/dgen-api" --workers 3 >>"$T/$h.log" 2>&1 &
done
mkdir -p "$T/nginx/tmp" "$T/www"
printf '<!doctype html><title>dgen</title>\n' >"$T/www/index.html"
cp /etc/nginx/fastcgi_params "$T/nginx/fastcgi_params" 2>/dev/null ||
	printf 'fastcgi_param REQUEST_METHOD $request_method;\nfastcgi_param REQUEST_URI $request_uri;\nfastcgi_param QUERY_STRING $query_string;\nfastcgi_param CONTENT_TYPE $content_type;\nfastcgi_param CONTENT_LENGTH $content_length;\n' >"$T/nginx/fastcgi_params"
sed -e "s|listen 80;|listen $NET.1:8080;|" -e '/listen \[::\]:80/d' \
	-e "s|listen 80 default_server;|listen $NET.1:8080 default_server;|" \
	-e "s|server_name dgen.example.org;|server_name dgen.example.org $NET.1;|" \
	-e "s|root /usr/share/dgen/www;|root $T/www;|" \
	-e "s|server unix:/run/dgen/api.sock;|server ${IP[api1]}:9000; server ${IP[api2]}:9000;|" \
	"$top_srcdir/conf/nginx-dgen.conf" >"$T/nginx/site.conf"
cat >"$T/nginx/nginx.conf" <<NGINX
user root $(id -gn);
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 1024; }
http {
	types { text/html html; }
	default_type application/octet-stream;
	log_format pools '\$upstream_addr \$status \$request_method \$uri';
	access_log $T/nginx/access.log pools;
	client_body_temp_path $T/nginx/tmp/body;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	proxy_temp_path $T/nginx/tmp/proxy;
	scgi_temp_path $T/nginx/tmp/scgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	include $T/nginx/site.conf;
}
NGINX
on hub "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>>"$T/nginx/start.log" &
BASE="http://$NET.1:8080"
api() { # api METHOD PATH [curl args...]: the body on stdout, the status in $T/status
	local m=$1 p=$2
	shift 2
	rm -f "$T/body"
	on hub curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
		"$@" "$BASE$p" >"$T/status"
	cat "$T/body" 2>/dev/null
}
for _ in $(seq 100); do
	api GET /api/health >/dev/null
	[ "$(cat "$T/status")" = 200 ] && break
	sleep 0.1
done
check "nginx answers through the pools" test "$(cat "$T/status")" = 200

# ---- three runners, three hosts -----------------------------------------------
start_runner() { # start_runner rN: $! is the runner (ip, unshare and sh exec it)
	ip netns exec "$P-$1" unshare --uts sh -c 'hostname "$0"; exec "$@"' "mh-$1" "$B/dgen-runner" \
		>>"$T/$1.log" 2>&1 &
	RPID[$1]=$!
}
for h in r1 r2 r3; do start_runner "$h"; done

# ---- the job, through nginx ---------------------------------------------------
PIPE=$(api POST /api/pipelines -H 'Content-Type: application/json' -d \
	'{"name":"multihost","blocks":[{"type":"TextGenerator","config":{"user_prompt":"Write one sentence about {{ topic }}.","max_tokens":32}}]}' | jq -r .id)
check "a pipeline through nginx ($PIPE)" test "$(cat "$T/status")" = 200
jq -nc --argjson n "$UNITS" '[range($n) | {repetitions: 1, metadata: {topic: "topic \(.)"}}]' >"$T/seeds.json"
calls0=$(mock_llm_calls)
JOB=$(api POST /api/generate -F "pipeline_id=$PIPE" -F "file=@$T/seeds.json;filename=seeds.json" | jq -r .job_id)
check "a $UNITS-unit job through nginx ($JOB)" test "$(cat "$T/status")" = 200 -a "$JOB" -gt 0 2>/dev/null

job() { api GET "/api/jobs/$JOB" | jq -r "$1"; }
records() { sql "select count(*) from records where job_id=$JOB"; }
# holder: the host (r1..r3) whose runner holds the job now, or nothing.
# A runner's id is HOSTNAME:PID; the hosts share the pid namespace.
holder() {
	local rid h
	rid=$(sql "select runner_id from jobs where id=$JOB and status='running'")
	h=${rid%%:*}
	h=${h#mh-}
	[ -n "$h" ] && [ "${RPID[$h]:-}" = "${rid##*:}" ] || return 1
	echo "$h"
}
# wait_holder: waits (30 s) for a live runner to hold the job and store
# 150 units more; prints its host. A runner restarted on the host of a
# killed one takes the job back at once (the dead pid is its host's).
wait_holder() {
	local h n0 deadline=$(( $(date +%s) + 30 ))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		h=$(holder) && break
		h=
		sleep 0.1
	done
	[ -n "$h" ] || return 1
	n0=$(records)
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ $(( $(records) - n0 )) -ge 150 ] && { echo "$h"; return 0; }
		sleep 0.1
	done
	return 1
}

t0=$(date +%s)
events=()
h1=$(wait_holder) || h1=
check "a runner holds the job and works ($h1)" test -n "$h1"
[ -n "$h1" ] || { echo "Bail out! the job never ran"; exit 1; }
kill -9 "${RPID[$h1]}"; wait "${RPID[$h1]}" 2>/dev/null
events+=("SIGKILL $h1 at $(records) records, restarted")
start_runner "$h1"

h2=$(wait_holder) || h2=
check "after the first kill a live runner holds the job ($h2)" test -n "$h2"
if [ -n "$h2" ]; then
	kill -9 "${RPID[$h2]}"; wait "${RPID[$h2]}" 2>/dev/null
	RPID[$h2]=dead
fi
events+=("SIGKILL $h2 at $(records) records, not restarted")

h3=$(wait_holder) || h3=
check "after the second kill a live runner holds the job ($h3)" test -n "$h3"
# Its host is cut off: the runner lives on without PostgreSQL or the LLM.
[ -n "$h3" ] && ip -n "$P-hub" link set "v-$h3" down
events+=("host $h3 cut off at $(records) records")
diag "${events[@]}"

# Polls through nginx while the last runner finishes the job.
deadline=$(( $(date +%s) + 90 ))
st=
while [ "$(date +%s)" -lt "$deadline" ]; do
	st=$(job .status)
	[ "$st" = completed ] || [ "$st" = failed ] && break
	sleep 0.2
done
if [ "$st" != completed ]; then
	diag "sessions:" "$(sql "select client_addr, state, wait_event_type, wait_event, left(query, 60) from pg_stat_activity where datname='dgen'")"
fi
check "the job completes ($st, $(( $(date +%s) - t0 )) s)" test "$st" = completed

calls=$(( $(mock_llm_calls) - calls0 ))

# The cut-off host comes back: its runner lost the lease and its late
# results must change nothing.
before=$(sql "select count(*), sum(length(output)) from records where job_id=$JOB")
if [ -n "$h3" ]; then
	ip -n "$P-hub" link set "v-$h3" up
	sleep 4
fi
after=$(sql "select count(*), sum(length(output)) from records where job_id=$JOB")
check "the cut-off runner, joined again, changes no record ($before / $after)" test "$before" = "$after"
if [ -n "$h3" ]; then
	check "the cut-off runner is still alive (it was cut off, not killed)" kill -0 "${RPID[$h3]}"
fi

# ---- the checks ----------------------------------------------------------------
check "exactly one record per unit: count = distinct = $UNITS, units 0..$((UNITS - 1))" \
	test "$(sql "select count(*)||'/'||count(distinct unit)||'/'||min(unit)||'/'||max(unit) from records where job_id=$JOB")" = "$UNITS/$UNITS/0/$((UNITS - 1))"
check "no failures" test "$(sql "select count(*) from failures where job_id=$JOB")" = 0
counters=$(job '"\(.records_generated)/\(.records_failed)/\(.current_seed)"')
check "the job's counters match the records ($counters)" test "$counters" = "$UNITS/0/$UNITS"
check "no unit start is left behind" test "$(sql "select count(*) from unit_starts where job_id=$JOB")" = 0
bound=$(( UNITS + 3 * C ))
diag "$calls LLM calls for $UNITS units (bound $bound: units + $C in flight at each of 3 lost holders)"
check "LLM calls $calls <= units + in flight of the lost holders ($bound)" test "$calls" -le "$bound"
# Back on the network, the cut-off runner's retries of its C units in
# flight may reach the LLM before it learns the lease is gone.
late=$(( $(mock_llm_calls) - calls0 - calls ))
check "the joined-again runner asked the LLM at most its $C units in flight ($late)" test "$late" -le "$C"
hosts=$(sql "select count(distinct hostname) from runners where hostname like 'mh-r%'")
check "three hosts' runners seen by the store ($hosts)" test "$hosts" = 3
served1=$(grep -c "^${IP[api1]}:9000 200 " "$T/nginx/access.log")
served2=$(grep -c "^${IP[api2]}:9000 200 " "$T/nginx/access.log")
check "both API pools answered through nginx ($served1 / $served2)" test "$served1" -gt 0 -a "$served2" -gt 0
check "the lost holder ${h3:-?} logged that it lost the lease" grep -q "lease lost" "$T/${h3:-none}.log"
leaks=$(grep -rlF -- "$PW" "$T" 2>/dev/null | grep -v "^$T/pg/data/" || true)
check "the password is in no log" test -z "$leaks"
[ -z "$leaks" ] || diag "password found in: $leaks"
done_testing
