#!/bin/sh
# The blocks of SPEC.md §10 end to end against the mock LLM: the templates
# data_augmentation and ragas_evaluation through `dgen run` and through the
# API (dgen-api as CGI: from_template, then execute), and NearDuplicate
# across a whole job in the runner: records of one job compared with every
# earlier one, whichever unit and worker they ran on.
. "$top_srcdir/tests/runner/lib.sh"

for tool in jq sqlite3; do
	command -v $tool >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
start_mock
export DGEN_TEMPLATES_DIR="$top_srcdir/templates" DGEN_CONFIG="$T/dgen.conf"
: >"$T/dgen.conf"
SEEDS="$top_srcdir/templates/seeds"
jqe() { jq -e "$@" >/dev/null; }

# ---- dgen run ---------------------------------------------------------------
"$B/dgen" run data_augmentation "$SEEDS/seed_data_augmentation.json" >"$T/aug.jsonl" 2>"$T/aug.err"
check "dgen run data_augmentation exits 0" test $? = 0
check "one record per seed" test "$(wc -l <"$T/aug.jsonl")" = 1
check "4 samples, each with its similarity scores" jqe '.accumulated_state.generated_samples |
	length == 4 and all(.[]; (.similarity_to_seeds | type == "number") and
	(.similarity_to_generated | type == "number") and (.is_duplicate | type == "boolean") and
	(.plan | type == "string") and (.bio | type == "string") and (has("_hints") | not))' "$T/aug.jsonl"
check "skeletons follow the learned dependencies (no free developer)" jqe \
	'[.accumulated_state.skeletons[] | select(.plan == "free" and .role == "developer")] | length == 0' "$T/aug.jsonl"
check "embedding usage is counted" grep -q 'tokens: [1-9]' "$T/aug.err"

"$B/dgen" run ragas_evaluation "$SEEDS/seed_ragas_evaluation.json" >"$T/ragas.jsonl" 2>"$T/ragas.err"
check "dgen run ragas_evaluation exits 0" test $? = 0
check "two records with the four RAGAS scores and passed" jqe -s 'length == 2 and all(.[];
	.accumulated_state.ragas_scores | (.faithfulness | type == "number") and
	(.answer_relevancy | type == "number") and (.context_precision | type == "number") and
	(.context_recall | type == "number") and (.passed | type == "boolean"))' "$T/ragas.jsonl"
check "FieldMapper stored contexts parsed (a list)" jqe -s \
	'all(.[]; .accumulated_state.contexts | type == "array")' "$T/ragas.jsonl"

# ---- the API (CGI) ------------------------------------------------------------
# the caller: an admin token made with the CLI (SPEC.md §8)
"$B/dgen" users add admin --admin >/dev/null
TOKEN=$("$B/dgen" tokens create admin --name tests)
cgi() { # cgi METHOD PATH [BODY]: body of the answer in $T/body, status in $STATUS
	printf '%s' "${3-}" >"$T/req"
	env GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD="$1" SCRIPT_NAME= \
		PATH_INFO="$2" QUERY_STRING= CONTENT_TYPE=application/json \
		HTTP_AUTHORIZATION="Bearer $TOKEN" \
		CONTENT_LENGTH="$(wc -c <"$T/req")" "$B/dgen-api" <"$T/req" >"$T/out" 2>"$T/stderr"
	STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/out" | head -1)
	awk 'h { print } /^\r?$/ { h = 1 }' "$T/out" >"$T/body"
}
cgi GET /api/blocks
check "GET /api/blocks lists the new blocks" jqe '[.[].type] | contains(["FieldMapper",
	"StructureSampler","SemanticInfiller","DuplicateRemover","RagasMetrics","LLMJudge",
	"Sampler","NearDuplicate"])' "$T/body"
check "target_count is an integer or a template" jqe '.[] | select(.type == "StructureSampler") |
	.config_schema.properties.target_count.type == ["integer","string"]' "$T/body"
for id in data_augmentation ragas_evaluation; do
	cgi POST "/api/pipelines/from_template/$id"
	pid=$(jq -r '.id // .pipeline_id // empty' "$T/body")
	check "POST /api/pipelines/from_template/$id ($STATUS)" test -n "$pid"
	meta=$(jq -c '.[0].metadata' "$SEEDS/seed_$id.json")
	cgi POST "/api/pipelines/$pid/execute" "$meta"
	check "execute $id answers 200 ($STATUS)" test "$STATUS" = 200
	cp "$T/body" "$T/exec_$id.json"
done
check "execute data_augmentation: generated_samples scored" jqe \
	'.result.generated_samples | length == 4 and all(.[]; .is_duplicate | type == "boolean")' \
	"$T/exec_data_augmentation.json"
check "execute ragas_evaluation: ragas_scores" jqe \
	'.result.ragas_scores | has("faithfulness") and has("context_recall") and has("passed")' \
	"$T/exec_ragas_evaluation.json"
printf '{"name":"bad","blocks":[{"type":"Sampler","config":{"columns":{"t":{"type":"category","values":["a"],"weights":[0]}}}}]}' >"$T/bad.json"
cgi POST /api/pipelines "$(cat "$T/bad.json")"
check "a sampler whose weights sum to 0 is refused at save (422)" test "$STATUS" = 422
check "... naming the field" jqe '.detail.field == "blocks[0].config.columns.t.weights"' "$T/body"

# ---- NearDuplicate across a job in the runner ----------------------------------
cat >"$T/nd.json" <<'JSON'
{"name": "near duplicates", "blocks": [
 {"type": "LLMJudge", "config": {"rubric": {"criteria": "on topic", "scale": 5}, "field": "text"}},
 {"type": "NearDuplicate", "config": {"field": "text", "threshold": 0.8}}]}
JSON
{
	printf '['
	i=0
	while [ $i -lt 40 ]; do
		[ $i -gt 0 ] && printf ','
		# seeds 0..19 distinct; 20..39 repeat them with other punctuation and case
		n=$((i % 20))
		if [ $i -lt 20 ]; then t="record number $n talks about subject $n in plain words today"
		else t="Record number $n talks about subject $n, in plain words today!"; fi
		printf '{"metadata": {"text": "%s"}}' "$t"
		i=$((i + 1))
	done
	printf ',{"repetitions": 8, "metadata": {"text": "eight identical copies run by many workers at once"}}]\n'
} >"$T/nd_seeds.json"
job=$(qtool enqueue "$DATABASE_PATH" "$T/nd.json" "$T/nd_seeds.json")
DGEN_RUNNER_CONCURRENCY=16 start_runner
check "the NearDuplicate job completes" wait_status "$job" completed
# (json_type and CAST read the same on sqlite and PostgreSQL: tests/lib/store.sh)
dups=$(sql "select count(*) from records where job_id=$job and json_type(accumulated_state,'$.is_duplicate') = 'true'")
check "20 + 7 = 27 of 48 records are duplicates ($dups)" test "$dups" = 27
firsts=$(sql "select count(*) from records where job_id=$job and json_extract(metadata,'$.text') like 'eight identical%' and json_type(accumulated_state,'$.is_duplicate') = 'false'")
check "of 8 identical records exactly one is first ($firsts)" test "$firsts" = 1
check "each duplicate points at an earlier unit of the job" test "$(sql "select count(*) from records r
	join records o on o.job_id = r.job_id
		and o.unit = CAST(json_extract(r.accumulated_state,'$.duplicate_of_unit') AS INTEGER)
	where r.job_id=$job and json_type(r.accumulated_state,'$.is_duplicate') = 'true'")" = 27
check "judge_score lands as a number in the final state" test "$(sql "select count(*) from records
	where job_id=$job and json_type(accumulated_state,'$.judge_score') = 'integer'")" = 48
check "integrity_check is ok" test "$(sql 'pragma integrity_check')" = ok
finish
