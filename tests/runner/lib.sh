# lib.sh - shared pieces of the runner tests (sourced, POSIX sh + jq).
# Each test gets a temp dir, a mock LLM on a free port, and helpers to
# start/kill runners and wait for job states. Output is TAP. The store is
# tests/lib/store.sh's (sqlite, or PostgreSQL with DGEN_TEST_STORE=pg).

: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"
B=$top_builddir
T=$(mktemp -d "${TMPDIR:-/tmp}/dgen-runner-test.XXXXXX")
mock_pid=
runner_pids=

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/store.sh"

# The runners' log goes with the temp dir; what it says when a check
# fails is what tells a flake apart. So each failing check shows the lines
# the runners wrote since the last ones shown (at most the last 40), and
# when something failed the last lines and a copy of the whole log
# (tests/SUITE.runner.log in the build tree) outlive the suite.
log_shown=0
runner_log_news() { # runner_log_news WHY: the lines not shown yet, as diag
	local n
	[ -f "$T/runner.log" ] || return 0
	n=$(wc -l <"$T/runner.log")
	[ "$n" -gt "$log_shown" ] || return 0
	diag "runner log ($1), lines $((log_shown + 1))-$n:"
	tail -n +"$((log_shown + 1))" "$T/runner.log" | tail -40 | sed 's/^/#   /'
	log_shown=$n
}
not_ok() {
	tap_not_ok "$@"
	runner_log_news "after the failed check"
}
runner_log_keep() {
	local keep
	[ "$tap_failed" -ne 0 ] && [ -f "$T/runner.log" ] || return 0
	runner_log_news "at the end"
	keep="$B/tests/$(basename "$0" .sh).runner.log"
	cp "$T/runner.log" "$keep" 2>/dev/null && diag "the whole runner log: $keep"
}
finish() { done_testing; }

cleanup() {
	for p in $runner_pids $mock_pid; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	store_stop
	runner_log_keep
	rm -rf "$T"
}
trap cleanup EXIT

# start_mock [mock-llm flags...]: sets $mock_port and the LLM settings.
start_mock() {
	"$B/tests/mock-llm/mock-llm" --port 0 --port-file "$T/mock.port" "$@" >"$T/mock.log" 2>&1 &
	mock_pid=$!
	i=0
	while [ ! -s "$T/mock.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	mock_port=$(cat "$T/mock.port")
	export LLM_ENDPOINT="http://127.0.0.1:$mock_port/v1/chat/completions"
	export LLM_PROVIDER=openai LLM_MODEL=mock-model LLM_API_KEY=
	export LLM_TIMEOUT=20 LLM_MAX_RETRIES=4
	store_init "$T" # DATABASE_PATH, or DATABASE_URL with DGEN_TEST_STORE=pg
	export DGEN_LEASE_SECONDS=2 DGEN_RUNNER_POLL_MS=50 DGEN_RUNNER_GRACE_SECONDS=5
	export DGEN_RUNNER_CONCURRENCY=${DGEN_RUNNER_CONCURRENCY:-16}
}

mock() { # mock METHOD PATH [JSON]
	if [ -n "${3:-}" ]; then
		curl -s -X "$1" -H 'Content-Type: application/json' -d "$3" "http://127.0.0.1:$mock_port$2"
	else
		curl -s -X "$1" "http://127.0.0.1:$mock_port$2"
	fi
}
mock_requests() { mock GET /mock/stats | jq '.by_path["/v1/chat/completions"] // 0'; }

start_runner() { # start_runner [args]: appends to $runner_pids, sets $runner_pid
	"$B/dgen-runner" "$@" >>"$T/runner.log" 2>&1 &
	runner_pid=$!
	runner_pids="$runner_pids $runner_pid"
}

qtool() { # qtool CMD DB ARGS...: DB is $DATABASE_PATH, or the store's URL
	local cmd=$1 db=$2
	shift 2
	"$B/tests/runner/qtool" "$cmd" "$(store_target "$db")" "$@"
}
job_field() { qtool job "$DATABASE_PATH" "$1" | jq -r ".$2"; }

# wait_status [-t SECONDS] JOB STATUS...: 0 when the job reaches one of
# the statuses (default patience 60 s).
wait_status() {
	limit=60
	if [ "$1" = -t ]; then limit=$2; shift 2; fi
	job=$1; shift
	if [ -z "$job" ]; then # qtool said why on stderr
		diag "no job to wait for: the enqueue before failed"
		return 1
	fi
	deadline=$(( $(date +%s) + limit ))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		st=$(job_field "$job" status 2>/dev/null)
		for want in "$@"; do [ "$st" = "$want" ] && return 0; done
		sleep 0.1
	done
	diag "job $job is '$st', wanted: $*"
	return 1
}

# A one-block TextGenerator pipeline and a seed file of $1 seeds x $2 reps.
write_pipeline() { # write_pipeline FILE [constraints JSON]
	cat >"$1" <<JSON
{"name": "runner test", "blocks": [{"type": "TextGenerator",
  "config": {"user_prompt": "Write one sentence about {{ topic }}.", "max_tokens": 64}}],
 "constraints": ${2:-{\}}}
JSON
}
write_seeds() { # write_seeds FILE SEEDS REPS
	i=0
	{
		printf '['
		while [ $i -lt "$2" ]; do
			[ $i -gt 0 ] && printf ','
			printf '{"repetitions": %d, "metadata": {"topic": "topic %d"}}' "$3" $i
			i=$((i + 1))
		done
		printf ']\n'
	} >"$1"
}
