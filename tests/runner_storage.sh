#!/bin/sh
# Storage faults (dgen-runner(8), dgen-api(8)): the database on a small
# tmpfs. Full disk: API writes are 503 + Retry-After, /api/health says
# degraded/full, the runner stops calling the LLM from the first write
# that fails (at most the units in flight wait), the job stays running,
# and it goes on by itself once space is freed. Read-only filesystem: the same with
# "read-only", and a runner started meanwhile waits for it.
# Needs root (mount); skipped otherwise.
. "$top_srcdir/tests/runner/lib.sh"
store_sqlite_only "its faults are those of the sqlite file's filesystem (a full tmpfs, read-only)"

M="$T/mnt"
mkdir -p "$M"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=32m,mode=0755 dgen-test "$M" 2>/dev/null; then
	echo "1..0 # SKIP needs root to mount a tmpfs"
	exit 0
fi
trap 'for p in $runner_pids $mock_pid; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null;
      umount "$M" 2>/dev/null || umount -l "$M"; cleanup' EXIT

C=8
export DGEN_RUNNER_CONCURRENCY=$C
start_mock --latency-ms 20
export DATABASE_PATH="$M/dgen.db"
API="$B/dgen-api"
# the API's caller: an admin token made with the CLI (SPEC.md §8)
"$B/dgen" users add admin --admin >/dev/null
TOKEN=$("$B/dgen" tokens create admin --name tests)

api() { # api METHOD PATH [BODYFILE]: sets STATUS, RETRY, BODY
	body=${3:-/dev/null}
	env GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD="$1" \
		PATH_INFO="$2" QUERY_STRING= CONTENT_TYPE=application/json \
		CONTENT_LENGTH="$(wc -c <"$body")" HTTP_AUTHORIZATION="Bearer $TOKEN" \
		"$API" <"$body" >"$T/out" 2>>"$T/api.log"
	STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/out")
	RETRY=$(sed -n 's/^Retry-After: \([0-9]*\).*/\1/p' "$T/out")
	BODY=$(sed '1,/^\r*$/d' "$T/out")
}
health() { # sets STATUS and HS (status/database)
	api GET /api/health
	HS=$(printf '%s' "$BODY" | jq -r '.status + "/" + .database')
}

write_pipeline "$T/p.json"
write_seeds "$T/s.json" 400 5
printf '{"name": "x", "blocks": [{"type": "TextGenerator", "config": {"user_prompt": "hi"}}]}' >"$T/new.json"
records() { sql "select count(*) from records where job_id=$1"; }

# --- full disk -----------------------------------------------------------------
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
health; check "healthy before ($HS)" test "$HS" = healthy/ok
start_runner
w=0
while [ "$(records "$job")" -lt 200 ] && [ $w -lt 300 ]; do sleep 0.05; w=$((w + 1)); done
dd if=/dev/zero of="$M/fill" bs=64k 2>/dev/null
# Records are read before calls at the start of the window and after them
# at its end: a unit asked for and stored between two readings (the runner
# goes on while a full disk still takes commits) then counts on both sides,
# never as a call without its record.
stored0=$(records "$job"); asked0=$(mock_requests)
sleep 4
asked1=$(mock_requests); stored1=$(records "$job")
sleep 2
asked2=$(mock_requests); stored2=$(records "$job")
diag "full disk: $((asked1 - asked0)) LLM calls and $((stored1 - stored0)) records in the first 4 s, then $((asked2 - asked1)) calls and $((stored2 - stored1)) records in 2 s"
check "full: the runner stopped calling the LLM (calls in 2 s: $((asked2 - asked1)))" test $((asked2 - asked1)) = 0
# Asked for and not stored yet: only the units whose calls were under way
# when the runner saw the first write fail (at most C); from then on no
# call starts, not even of a unit picked or started before, until the
# disk has room again. None is lost: they are stored once there is room
# (the check on all LLM calls below).
check "full: beyond what was stored, only units in flight were asked for ($((asked1 - asked0)) calls, $((stored1 - stored0)) records, <= $C more)" \
	test $((asked1 - asked0)) -le $((stored1 - stored0 + C))
check "full: the runner is still running" kill -0 "$runner_pid"
check "full: the job is still running" test "$(job_field "$job" status)" = running
health; check "full: health is degraded/full ($HS)" test "$HS" = degraded/full
check "full: ... with 503" test "$STATUS" = 503
api POST /api/pipelines "$T/new.json"
check "full: an API write is 503 ($STATUS)" test "$STATUS" = 503
check "full: ... with Retry-After" test -n "$RETRY"
check "full: ... naming the fault" test "$(printf '%s' "$BODY" | jq -r .detail.database)" = full
rm -f "$M/fill"
wait_status -t 120 "$job" completed
asked=$(mock_requests)
diag "full disk: $asked LLM calls for 2000 records ($(records "$job") stored)"
check "full: after space is freed the job completes by itself" test "$(job_field "$job" status)" = completed
check "full: 2000 records, each unit once" test "$(sql "select count(distinct unit)||'/'||count(*) from records where job_id=$job")" = 2000/2000
check "full: counters match the records" test "$(job_field "$job" records_generated)/$(job_field "$job" current_seed)" = 2000/2000
check "full: LLM calls <= units + in flight ($asked <= $((2000 + C)))" test "$asked" -le $((2000 + C))
health; check "full: healthy again ($HS)" test "$HS" = healthy/ok
api POST /api/pipelines "$T/new.json"
check "full: API writes work again ($STATUS)" test "$STATUS" = 200
check "full: the runner logged that it went on" grep -q "can be written again" "$T/runner.log"

# --- read-only filesystem ----------------------------------------------------------
# A filesystem with files open for writing cannot be remounted read-only,
# so the runner is stopped first; one started while it is read-only waits.
kill -TERM "$runner_pid"; wait "$runner_pid" 2>/dev/null
job=$(qtool enqueue "$DATABASE_PATH" "$T/p.json" "$T/s.json")
mount -o remount,ro "$M"
before=$(mock_requests)
start_runner
sleep 3
health; check "read-only: health is degraded/read-only ($HS)" test "$HS" = degraded/read-only
api POST /api/pipelines "$T/new.json"
check "read-only: an API write is 503 with Retry-After ($STATUS)" test "$STATUS/${RETRY:+y}" = 503/y
check "read-only: ... naming the fault" test "$(printf '%s' "$BODY" | jq -r .detail.database)" = read-only
check "read-only: the runner waits (still running)" kill -0 "$runner_pid"
check "read-only: no LLM call" test "$(mock_requests)" = "$before"
mount -o remount,rw "$M"
wait_status -t 120 "$job" completed
check "read-only: once writable the job completes by itself" test "$(job_field "$job" status)" = completed
check "read-only: 2000 records" test "$(records "$job")" = 2000
health; check "read-only: healthy again ($HS)" test "$HS" = healthy/ok
kill -TERM "$runner_pid"; wait "$runner_pid" 2>/dev/null
runner_pids=
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
