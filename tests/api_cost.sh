#!/bin/bash
# api_cost.sh - what LLM calls cost (SPEC.md §9 "Cost") through dgen-api as
# a CGI program and a real dgen-runner against the mock LLM: a model with
# a price gives usage.cost in the execute answer, on each record, in the
# job and on each export line, and seeds/validate estimates it before a
# run; a model without a price gives "cost": null everywhere. Prints TAP.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

API="$top_builddir/dgen-api"
MOCK="$top_builddir/tests/mock-llm/mock-llm"
skip_without jq sqlite3 curl python3
store_init "$T" # DATABASE_PATH, or DATABASE_URL with DGEN_TEST_STORE=pg
DB=$(store_target "$DATABASE_PATH")
: >"$T/dgen.conf"
export DGEN_CONFIG="$T/dgen.conf"
admin_token
export LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions" LLM_MODEL=boot LLM_API_KEY=
export LLM_TIMEOUT=10 DGEN_RUNNER_POLL_MS=50
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy LLM_PROVIDER EMBEDDING_ENDPOINT

PIDS=
stop_all() { for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_all"
"$MOCK" --port 0 --port-file "$T/mock.port" >/dev/null 2>"$T/mock.log" &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
MURL="http://127.0.0.1:$(cat "$T/mock.port")/v1/chat/completions"

# py EXPR: evaluates EXPR in Python with the last body as d; prints it.
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/body"; }

# ---- models: one priced (per token, so amounts are exact), one not ------------
json POST /api/llm-models "{\"name\":\"priced\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock\",\"price_per_mtok\":{\"input\":1000000,\"output\":2000000,\"cached\":500000},\"currency\":\"USD\"}"
expect 201 "a model with a price"
json POST /api/llm-models "{\"name\":\"dear\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock\",\"price_per_mtok\":{\"input\":3,\"output\":15},\"currency\":\"EUR\"}"
expect 201 "a model with a price and no cached price"
jqt '.price_per_mtok.cached == null' "its cached price reads null"
json POST /api/llm-models "{\"name\":\"free\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock\"}"
expect 201 "a model without a price"

pipeline() { # pipeline MODEL: a TextGenerator with a system prompt (cached by the mock)
	json POST /api/pipelines "{\"name\":\"cost $1\",\"blocks\":[{\"type\":\"TextGenerator\",\"config\":{\"model\":\"$1\",\"system_prompt\":\"You are a terse writer of one sentence.\",\"user_prompt\":\"Write about {{ topic }}.\",\"max_tokens\":64}}]}"
	jqv .id
}
P=$(pipeline priced)
PD=$(pipeline dear)
PF=$(pipeline free)
SEEDS='[{"repetitions":2,"metadata":{"topic":"ants"}},{"metadata":{"topic":"bees"}}]'

# ---- the estimate --------------------------------------------------------------
# prompt: (system 39 + user 24 + first seed {"topic":"ants"} 16 bytes) / 4 -> 20
# tokens; each call at most 20 + 64; three executions of one LLM block.
json POST /api/seeds/validate "{\"pipeline_id\":$P,\"seeds\":$SEEDS}"
expect 200 "seeds/validate"
jqt '.valid == true and (.estimate | keys) == ["cost","executions","llm_calls","max_tokens"]' \
	"validate adds an estimate"
jqt '.estimate.executions == 3 and .estimate.llm_calls == 3 and .estimate.max_tokens == 252' \
	"3 executions, 3 calls, at most 3 x (20 + 64) tokens"
jqt '.estimate.cost == {"amount": 444.0, "currency": "USD"}' \
	"the upper bound: 3 x (20 x 1 + 64 x 2) USD"
json POST /api/seeds/validate "{\"pipeline_id\":$PD,\"seeds\":$SEEDS}"
check "the estimate at a real price: (20 x 3 + 64 x 15) / 1e6 x 3 EUR" \
	test "$(py 'd["estimate"]["cost"] == {"amount": (20 * 3.0 + 64 * 15.0) / 1e6 * 3, "currency": "EUR"}')" = True
json POST /api/seeds/validate "{\"pipeline_id\":$PF,\"seeds\":$SEEDS}"
jqt '.estimate.cost == null and .estimate.llm_calls == 3' "a model without a price: the estimate's cost is null"

# ---- execute ---------------------------------------------------------------------
# per_token: the cost at the priced model's prices (1, 2 and 0.5 per token)
PER_TOKEN='(.input_tokens - .cached_tokens) + .cached_tokens * 0.5 + .output_tokens * 2'
json POST /api/pipelines/$P/execute '{"topic":"wasps"}'
expect 200 "execute"
jqt ".usage.input_tokens > 0 and .usage.cost.currency == \"USD\" and .usage.cost.amount == (.usage | $PER_TOKEN)" \
	"the execute answer's usage has its cost from the mock's token counts"
json POST /api/pipelines/$P/execute '{"topic":"wasps"}'
jqt ".usage.cached_tokens > 0 and .usage.cost.amount == (.usage | $PER_TOKEN)" \
	"a cached prompt costs the cached price"
json POST /api/pipelines/$PD/execute '{"topic":"wasps"}'
check "no cached price: cached input costs input's price" \
	test "$(py 'd["usage"]["cost"] == {"amount": (d["usage"]["input_tokens"] * 3.0 + d["usage"]["output_tokens"] * 15.0) / 1e6, "currency": "EUR"}')" = True
json POST /api/pipelines/$PF/execute '{"topic":"wasps"}'
jqt '.usage.input_tokens > 0 and .usage.cost == null' "a model without a price: cost null, not 0"

# ---- a job through the runner --------------------------------------------------
run_job() { # run_job PIPELINE: uploads the seeds, waits until the job ends; prints its id
	printf '%s' "$SEEDS" >"$T/seeds.json"
	multipart "$T/mp" "$1" "$T/seeds.json" seeds.json
	cgi POST /api/generate "$MP_TYPE" "$T/mp"
	local j
	j=$(jqv .job_id)
	for _ in $(seq 300); do
		cgi GET "/api/jobs/$j"
		[ "$(jqv .status)" = completed ] && break
		sleep 0.1
	done
	echo "$j"
}
"$top_builddir/dgen-runner" >"$T/runner.log" 2>&1 &
PIDS="$PIDS $!"
J=$(run_job "$P")
cgi GET "/api/jobs/$J"
jqt '.status == "completed" and .records_generated == 3' "the priced job completes"
jqt '.usage.cost.currency == "USD" and .usage.cost.amount ==
	(.usage | (.total_input_tokens - .total_cached_tokens) + .total_cached_tokens * 0.5 + .total_output_tokens * 2)' \
	"the job's usage.cost sums its calls"
JOB_AMOUNT=$(jqv .usage.cost.amount)
cgi GET "/api/records?job_id=$J"
jqt "length == 3 and all(.[]; .usage.cost.currency == \"USD\" and .usage.cost.amount == (.usage | $PER_TOKEN))" \
	"each record keeps its execution's usage and cost"
jqt "([.[].usage.cost.amount] | add) == $JOB_AMOUNT" "the records' costs add up to the job's"
cgi GET "/api/export?job_id=$J"
check "each export line carries its usage and cost" test "$(jq -s "length == 3 and all(.[]; .usage.cost.amount == (.usage | $PER_TOKEN)) and ([.[].usage.cost.amount] | add) == $JOB_AMOUNT" "$T/body")" = true

JF=$(run_job "$PF")
cgi GET "/api/jobs/$JF"
jqt '.status == "completed" and .usage.total_input_tokens > 0 and .usage.cost == null' \
	"a job on a model without a price: usage.cost null"
cgi GET "/api/records?job_id=$JF"
jqt 'length == 3 and all(.[]; .usage.input_tokens > 0 and .usage.cost == null)' "its records: cost null"
cgi GET "/api/export?job_id=$JF"
check "its export lines: cost null" test "$(jq -s 'length == 3 and all(.[]; has("usage") and .usage.cost == null)' "$T/body")" = true
done_testing
