#!/bin/bash
# api_cgi.sh - dgen-api end to end as a plain CGI program: every endpoint
# of SPEC.md §4 and its error paths, run as a web server would run it
# (GATEWAY_INTERFACE, REQUEST_METHOD, PATH_INFO, QUERY_STRING,
# CONTENT_TYPE, CONTENT_LENGTH, body on stdin) against a temporary
# database. The bad-input table also checks that the database is
# unchanged after each refused request. The runner's side of the queue is
# played by tests/api/fake_runner (store functions only). Prints TAP.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

API="$top_builddir/dgen-api"
FAKE="$top_builddir/tests/api/fake_runner"
skip_without jq sqlite3

store_init "$T" # DATABASE_PATH, or DATABASE_URL with DGEN_TEST_STORE=pg
DB=$(store_target "$DATABASE_PATH")
: >"$T/dgen.conf"
export DGEN_CONFIG="$T/dgen.conf"
admin_token
export DGEN_TEMPLATES_DIR="${DGEN_TEMPLATES_DIR:-$top_srcdir/templates}"
export LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions" LLM_TIMEOUT=2
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy

# The data (a token's last use is not data: it may move within a test).
dbsum() {
	store_dump pipelines jobs job_inputs records failures | sha256sum | cut -d' ' -f1
}

# ---- health, blocks, templates --------------------------------------------
cgi GET /api/health
expect 200 "GET /api/health"
jqt '.status == "healthy" and .database == "ok"' "health reports the database"
jqt '.runner.alive == false and .runner.last_seen == null' "no runner has ever beaten"
jqt '.limits.max_body == 1048576 and .limits.max_upload == 10485760' "health tells the size limits"
check "JSON content type" grep -qi '^Content-Type: application/json' "$T/headers"
"$FAKE" "$DB" heartbeat
cgi GET /api/health
jqt '.runner.alive == true and (.runner.last_seen | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$"))' \
	"runner alive after a heartbeat, last_seen ISO 8601"

cgi GET /api/blocks
expect 200 "GET /api/blocks"
jqt 'type == "array" and length >= 8' "at least the eight builtin blocks"
jqt '[.[].type] | contains(["TextGenerator","StructuredGenerator","MarkdownMultiplierBlock",
	"ValidatorBlock","JSONValidatorBlock","DiversityScore","CoherenceScore","RougeScore"])' \
	"every builtin type listed"
jqt 'all(.[]; has("name") and has("description") and has("category") and has("inputs")
	and has("outputs") and has("is_multiplier") and .config_schema.type == "object")' \
	"each block has the SPEC fields and a JSON Schema"

cgi GET /api/templates
expect 200 "GET /api/templates"
jqt '[.[].id] | contains(["json_generation","text_classification","qa_generation"])' \
	"the three builtin templates"
jqt 'all(.[]; has("id") and has("name") and has("description") and has("example_seed"))' \
	"template fields"

# ---- pipelines --------------------------------------------------------------
cgi POST /api/pipelines/from_template/json_generation
expect 200 "POST /api/pipelines/from_template/json_generation"
jqt '(.id | type == "number") and .template_id == "json_generation" and (.name | length > 0)' \
	"id, name and template_id"
TPL_ID=$(jqv .id)
cgi POST /api/pipelines/from_template/no_such_template
expect 404 "unknown template"
jqt '.detail.template_id == "no_such_template"' "detail names the template"

VALID='{"name":"check","blocks":[{"type":"ValidatorBlock","config":{"min_length":3,"forbidden_words":["spam"]}},{"type":"JSONValidatorBlock","config":{"field_name":"text"}}]}'
json POST /api/pipelines "$VALID"
expect 200 "POST /api/pipelines"
jqt '.name == "check" and (.id | type == "number")' "id and name"
P1=$(jqv .id)

MULTI='{"name":"chunks","blocks":[{"type":"MarkdownMultiplierBlock","config":{}},{"type":"CoherenceScore","config":{"field_name":"content"}}]}'
json POST /api/pipelines "$MULTI"
expect 200 "POST a multiplier pipeline"
P2=$(jqv .id)

STRICT='{"name":"strict","blocks":[{"type":"JSONValidatorBlock","config":{"field_name":"text","strict":true}}]}'
json POST /api/pipelines "$STRICT"
P3=$(jqv .id)

json POST /api/pipelines '{"blocks":[]}'
expect 400 "missing name"
jqt '.error | test("name")' "the error names the field"
json POST /api/pipelines '{"name":"x"}'
expect 400 "missing blocks"
json POST /api/pipelines '{"name":"x","blocks":[{"type":"NoSuchBlock","config":{}}]}'
expect 422 "unknown block type"
jqt '.error == "Block '"'NoSuchBlock'"' not found" and .detail.block_type == "NoSuchBlock"
	and (.detail.available_blocks | index("ValidatorBlock") != null)' \
	"names the type and the available ones"
json POST /api/pipelines '{"name":"x","blocks":[{"type":"ValidatorBlock","config":{"min_length":"three"}}]}'
expect 422 "wrong config type"
jqt '.detail.field == "blocks[0].config.min_length"' "field path of the bad config key"
json POST /api/pipelines '{"name":"x","blocks":[{"type":"RougeScore","config":{"rouge_type":"rouge9"}}]}'
expect 422 "value outside the enum"
jqt '.detail.field == "blocks[0].config.rouge_type"' "field path names rouge_type"
json POST /api/pipelines '{"name":"x","blocks":[{"type":"ValidatorBlock","config":{}},{"type":"MarkdownMultiplierBlock","config":{}}]}'
expect 422 "multiplier not first"
jqt '.detail.field == "blocks[1].type"' "names the misplaced block"

cgi GET /api/pipelines
expect 200 "GET /api/pipelines"
jqt 'length == 4 and .[0].id == '"$P3"' and .[3].id == '"$TPL_ID" "newest first"
jqt 'all(.[]; has("id") and has("name") and (.definition | type == "object")
	and has("created_at") and has("updated_at"))' "list fields"

cgi GET /api/pipelines/$P1
expect 200 "GET /api/pipelines/{id}"
jqt '.first_block_is_multiplier == false and .definition.blocks[0].type == "ValidatorBlock"' \
	"plain pipeline"
cgi GET /api/pipelines/$P2
jqt '.first_block_is_multiplier == true' "multiplier pipeline flagged"
cgi GET /api/pipelines/999999
expect 404 "unknown pipeline"

json PUT /api/pipelines/$P1 "${VALID/\"check\"/\"renamed\"}"
expect 200 "PUT /api/pipelines/{id}"
jqt '.id == '"$P1"' and .name == "renamed"' "renamed"
cgi GET /api/pipelines/$P1
jqt '.name == "renamed" and .definition.name == "renamed"' "the rename is stored"
json PUT /api/pipelines/999999 "$VALID"
expect 404 "PUT unknown pipeline"
json PUT /api/pipelines/$P1 '{"name":"x","blocks":[{"type":"Nope"}]}'
expect 422 "PUT an invalid definition"

# execute: synchronous, nothing stored
before=$(dbsum)
json POST /api/pipelines/$P1/execute '{"text":"{\"a\": 1}","assistant":"unused"}'
expect 200 "POST /api/pipelines/{id}/execute"
jqt '.result.valid == true and .result.parsed_json.a == 1' "result is the final state"
jqt '(.trace | length) == 2 and .trace[0].block_type == "ValidatorBlock"
	and (.trace[0] | has("input") and has("output") and has("accumulated_state") and has("execution_time"))' \
	"a trace entry per block"
jqt '(.trace_id | test("^[0-9a-f-]{36}$")) and (.usage | type == "object")' "trace_id and usage"
check "execute stores nothing" test "$before" = "$(dbsum)"
json POST /api/pipelines/$P2/execute '{"file_content":"# One\nfirst part.\n# Two\nsecond part. more."}'
expect 200 "execute a multiplier pipeline"
jqt '(.results | length) == 2 and .results[1].result.chunk_index == 1
	and (.results[0].result | has("coherence_score"))' "one result per chunk"
json POST /api/pipelines/$P3/execute '{"text":"not json"}'
expect 400 "a failing block is 400"
jqt '.detail.block_type == "JSONValidatorBlock" and .detail.step == 1 and (.error | test("failed at step 1"))' \
	"error names the block and step"
check "error has the SPEC shape" error_shape
cgi POST /api/pipelines/$P1/execute
expect 200 "execute with an empty body starts from {}"
json POST /api/pipelines/$P1/execute '[1,2]'
expect 400 "execute with a non-object body"
json POST /api/pipelines/999999/execute '{}'
expect 404 "execute an unknown pipeline"

cgi GET /api/pipelines/$P1/accumulated_state_schema
expect 200 "GET accumulated_state_schema"
jqt '.fields | index("valid") != null and index("parsed_json") != null' "union of outputs"
cgi GET /api/pipelines/999999/accumulated_state_schema
expect 404 "schema of an unknown pipeline"

json PUT /api/pipelines/$P1/validation_config '{"field_order":{"primary":["assistant"],"secondary":["valid"],"hidden":[]}}'
expect 200 "PUT validation_config"
jqt '.success == true' "success"
cgi GET /api/pipelines/$P1
jqt '.validation_config.field_order.primary == ["assistant"]' "layout stored"
json PUT /api/pipelines/$P1/validation_config '{"field_order":{"primary":"assistant"}}'
expect 400 "layout list of the wrong type"
json PUT /api/pipelines/999999/validation_config '{"field_order":{}}'
expect 404 "layout of an unknown pipeline"

# ---- seeds ------------------------------------------------------------------
json POST /api/seeds/validate '{"pipeline_id":'"$P1"',"seeds":[{"metadata":{"text":"hello"}},{"repetitions":2,"metadata":{"text":"x"}}]}'
expect 200 "POST /api/seeds/validate"
jqt '.valid == true and .errors == [] and (.warnings | type == "array")' "valid seeds"
json POST /api/seeds/validate '{"pipeline_id":'"$P1"',"seeds":[{"metadata":{}},{"repetitions":0,"metadata":{}}]}'
expect 200 "validate bad seeds"
jqt '.valid == false and (.errors | length) >= 1' "invalid, with errors"
json POST /api/seeds/validate '{"pipeline_id":999999,"seeds":[]}'
expect 404 "validate against an unknown pipeline"
json POST /api/seeds/validate '{"seeds":[]}'
expect 400 "validate without pipeline_id"

# ---- generate ---------------------------------------------------------------
printf '[{"metadata":{"text":"one"}},{"repetitions":2,"metadata":{"text":"two"}}]' >"$T/seeds.json"
multipart "$T/mp" "$P1" "$T/seeds.json" seeds.json
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 200 "POST /api/generate"
jqt '.job_id | type == "number"' "job_id"
J1=$(jqv .job_id)
CGI_ENV=(HTTP_IDEMPOTENCY_KEY=upload-1)
cgi POST /api/generate "$MP_TYPE" "$T/mp"
J2=$(jqv .job_id)
cgi POST /api/generate "$MP_TYPE" "$T/mp"
CGI_ENV=()
check "Idempotency-Key: a retried upload returns the same job" test "$(jqv .job_id)" = "$J2"
check "and a new key made a new job" test "$J2" != "$J1"

printf '# Title\nsome text\n## Part\nmore text\n' >"$T/doc.md"
multipart "$T/mp" "$P2" "$T/doc.md" doc.md
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 200 "upload markdown to a multiplier pipeline"
JMD=$(jqv .job_id)
multipart "$T/mp" "$P1" "$T/doc.md" doc.md
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 422 "markdown for a pipeline without a multiplier"
printf '[{"metadata":{}},{"repetitions":0,"metadata":{}}]' >"$T/bad.json"
multipart "$T/mp" "$P1" "$T/bad.json" bad.json
before=$(dbsum)
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 422 "a bad seed"
jqt '.detail.seed_index == 1' "detail.seed_index is the 0-based index"
check "no job stored for a bad upload" test "$before" = "$(dbsum)"
printf '[{"metadata":{}}, {"metadata": ' >"$T/broken.json"
multipart "$T/mp" "$P1" "$T/broken.json" broken.json
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 400 "a seed file that is not JSON"
printf '[{"metadata":{"topic":"a\\u0000b"}}]' >"$T/nul.json"
multipart "$T/mp" "$P1" "$T/nul.json" nul.json
before=$(dbsum)
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 400 "a seed file with an escaped NUL (\\u0000)"
check "no job stored for it" test "$before" = "$(dbsum)"
multipart "$T/mp" 999999 "$T/seeds.json" seeds.json
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 404 "upload for an unknown pipeline"
multipart "$T/mp" abc "$T/seeds.json" seeds.json
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 400 "pipeline_id not a number"
printf -- '--dgenBoundary\r\nContent-Disposition: form-data; name="pipeline_id"\r\n\r\n1\r\n--dgenBoundary--\r\n' >"$T/mp"
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 400 "no file field"
jqt '.detail.field == "file"' "names the missing field"
head -c 11000000 /dev/zero | tr '\0' ' ' >"$T/huge.json"
multipart "$T/mp" "$P1" "$T/huge.json" huge.json
cgi POST /api/generate "$MP_TYPE" "$T/mp"
expect 413 "upload over 10 MiB"
jqt '.detail.limit == 10485760' "detail gives the limit"
json POST /api/generate '{"pipeline_id":1}'
expect 415 "generate with a JSON body"

# ---- jobs -------------------------------------------------------------------
cgi GET /api/jobs
expect 200 "GET /api/jobs"
jqt 'length == 3 and .[0].id == '"$JMD" "newest first"
jqt 'all(.[]; has("status") and has("total_seeds") and has("progress") and (.usage | has("total_tokens")))' \
	"job fields"
cgi GET "/api/jobs?pipeline_id=$P2"
jqt 'length == 1 and .[0].pipeline_id == '"$P2" "filter by pipeline_id"
cgi GET "/api/jobs?status=queued&limit=2"
jqt 'length == 2 and all(.[]; .status == "queued")' "filter by status with a limit"
cgi GET /api/jobs/$J1
expect 200 "GET /api/jobs/{id}"
jqt '.id == '"$J1"' and .status == "queued" and .total_seeds == 3 and .current_seed == 0' \
	"queued job counts seeds x repetitions"
cgi GET /api/jobs/999999
expect 404 "unknown job"
cgi GET /api/jobs/active
expect 404 "no active job"

# the runner claims J1 (oldest), finishes two units, fails one
claimed=$("$FAKE" "$DB" claim)
check "fake runner claims the oldest job" test "$claimed" = "$J1"
cgi GET /api/jobs/active
expect 200 "GET /api/jobs/active"
jqt '.id == '"$J1"' and .status == "running"' "the running job"
"$FAKE" "$DB" record "$J1" 0 "first output"
"$FAKE" "$DB" record "$J1" 1 "second output"
"$FAKE" "$DB" fail "$J1" 2 "too short"
"$FAKE" "$DB" end "$J1" completed
cgi GET /api/jobs/$J1
jqt '.status == "completed" and .records_generated == 2 and .records_failed == 1 and .progress == 1' \
	"progress after the runner"
cgi GET /api/jobs/$J1/failures
expect 200 "GET /api/jobs/{id}/failures"
jqt 'length == 1 and .[0].seed_index == 2 and .[0].block_type == "ValidatorBlock"
	and .[0].error == "too short" and (.[0] | has("repetition") and has("step") and has("trace"))' \
	"the failed execution"
cgi GET /api/jobs/999999/failures
expect 404 "failures of an unknown job"
cgi POST /api/jobs/$J1/retry_failed
expect 200 "POST /api/jobs/{id}/retry_failed"
JR=$(jqv .job_id)
cgi GET /api/jobs/$JR
jqt '.status == "queued" and .pipeline_id == '"$P1" "retry job queued for the same pipeline"
cgi POST /api/jobs/$J2/retry_failed
expect 409 "retry a job without failures"
cgi DELETE /api/jobs/$J1
expect 409 "cancel a finished job"
cgi DELETE /api/jobs/$JR
expect 200 "DELETE /api/jobs/{id}"
jqt '.message == "Job cancelled"' "cancel message"
cgi GET /api/jobs/$JR
jqt '.status == "cancelled"' "job cancelled"
cgi DELETE /api/jobs/999999
expect 404 "cancel an unknown job"

# ---- records ----------------------------------------------------------------
cgi GET "/api/records?job_id=$J1"
expect 200 "GET /api/records"
jqt 'length == 2 and .[0].output == "second output"' "newest first"
jqt 'all(.[]; has("id") and has("output") and has("metadata") and .status == "pending"
	and has("trace") and has("trace_id") and .job_id == '"$J1"' and .pipeline_id == '"$P1"'
	and has("created_at") and has("updated_at"))' "record fields"
R1=$(jq -r '.[1].id' "$T/body")
R2=$(jq -r '.[0].id' "$T/body")
cgi GET "/api/records?job_id=$J1&limit=1&offset=1"
jqt 'length == 1 and .[0].id == '"$R1" "limit and offset"
cgi GET "/api/records?pipeline_id=$P2"
jqt 'length == 0' "filter by pipeline_id"
cgi GET /api/records/$R1
expect 200 "GET /api/records/{id}"
jqt '.id == '"$R1"' and .output == "first output" and .metadata.content == "seed 0"' "the record"
cgi GET /api/records/999999
expect 404 "unknown record"

json PUT /api/records/$R1 '{"output":"fixed by hand"}'
expect 200 "PUT /api/records/{id} output"
jqt '.success == true' "success"
cgi GET /api/records/$R1
jqt '.output == "fixed by hand" and .status == "edited"' "content edit without status marks edited"
json PUT /api/records/$R2 '{"status":"accepted"}'
expect 200 "PUT status"
cgi GET "/api/records?status=accepted"
jqt 'length == 1 and .[0].id == '"$R2" "filter by status"
json PUT /api/records/$R2 '{"assistant":"changed state","status":"rejected"}'
expect 200 "PUT a state key with a status"
cgi GET /api/records/$R2
jqt '.status == "rejected"' "explicit status wins"
cgi GET "/api/export?job_id=$J1"
jqs 'map(select(.id == '"$R2"'))[0].accumulated_state.assistant == "changed state"' \
	"other keys edit the final accumulated state"
json PUT /api/records/$R2 '{"metadata":{"content":"new seed"}}'
cgi GET /api/records/$R2
jqt '.metadata.content == "new seed" and .status == "edited"' "metadata edit"
json PUT /api/records/$R2 '{"status":"bogus"}'
expect 400 "unknown record status"
jqt '.detail.allowed == ["pending","accepted","rejected","edited"]' "lists the allowed statuses"
json PUT /api/records/$R2 '{}'
expect 400 "nothing to update"
json PUT /api/records/999999 '{"status":"accepted"}'
expect 404 "PUT an unknown record"

# ---- export -----------------------------------------------------------------
cgi GET "/api/export?job_id=$J1"
expect 200 "GET /api/export"
check "ndjson content type" grep -qi '^Content-Type: application/x-ndjson' "$T/headers"
check "two lines, each JSON" test "$(jq -c . "$T/body" | wc -l)" -eq 2
jqs 'all(.[]; has("accumulated_state") and has("trace_id") and (has("trace") | not))' "export line fields"
jqs 'map(select(.id == '"$R1"'))[0] | (.accumulated_state | has("content") | not) and .accumulated_state.valid == true' \
	"accumulated_state drops keys equal to metadata"
check "every line ends in a newline" test "$(tail -c 1 "$T/body" | od -An -c | tr -d ' ')" = '\n'
cgi GET "/api/export/download?status=edited"
expect 200 "GET /api/export/download"
check "Content-Disposition attachment" \
	grep -qi '^Content-Disposition: attachment; filename="dgen_export.jsonl"' "$T/headers"
check "filtered by status" test "$(jq -c . "$T/body" | wc -l)" -eq 2
cgi GET "/api/export?status=bogus"
expect 400 "export with a bad status"

# ---- review at scale: q, sort, ranges, totals, stats, bulk ------------------
# 200 records of J2: score = (unit % 100) / 100, length 10..16, a needle
# in the output of every tenth.
"$FAKE" "$DB" scored "$J2" 200
cgi GET "/api/records?job_id=$J2&limit=5"
expect 200 "list a page"
check "X-Total-Count counts every match" test "$(header X-Total-Count)" = 200
jqt 'length == 5' "but answers one page"
cgi GET "/api/records?job_id=$J2&q=NEEDLE&limit=1000"
check "q: 20 records mention a needle" test "$(header X-Total-Count)" = 20
jqt 'length == 20 and all(.[]; .output | test("needle"))' "q matches output, case folded"
cgi GET "/api/records?job_id=$J2&q=100%25"
check "q: % is literal" test "$(header X-Total-Count)" = 0
cgi GET "/api/records?job_id=$J2&sort=-score&limit=3"
expect 200 "sort by a state field"
cgi GET "/api/export?job_id=$J2&min.score=0.99"
jqs 'length == 2 and all(.[]; .accumulated_state.score == 0.99)' "export: min.score=0.99 leaves two"
TOP=$(jq -s -r '[.[].id] | sort | join(",")' "$T/body")
cgi GET "/api/records?job_id=$J2&sort=-score&limit=2"
check "-score puts the best first" test "$(jq -r '[.[].id] | sort | join(",")' "$T/body")" = "$TOP"
cgi GET "/api/records?job_id=$J2&sort=score&limit=2"
jqt 'all(.[]; .output | test("needle"))' "score ascending: units 0 and 100 first"
cgi GET "/api/records?job_id=$J2&sort=created_at&limit=1"
jqt '.[0].output == "scored record 0 with a needle"' "created_at: oldest first"
cgi GET "/api/records?job_id=$J2&min.score=0.5&max.score=0.595&max.length=12"
check "two ranges on one field, one on another" test "$(header X-Total-Count)" = 8
cgi GET "/api/records/stats?job_id=$J2&min.score=0.9"
expect 200 "GET /api/records/stats"
jqt '.total == 20 and .by_status.pending == 20 and .by_status.accepted == 0' "total and by_status"
jqt '.fields.score.min == 0.9 and .fields.score.max == 0.99 and (.fields.score.mean * 1000 | round) == 945' \
	"score min, max, mean"
jqt '(.fields.score.histogram | length) == 10 and ([.fields.score.histogram[].count] | add) == 20
	and .fields.score.histogram[0].from == 0.9 and .fields.score.histogram[9].to == 0.99' \
	"ten bins holding every value"
jqt '(.fields | has("length")) and (.fields | has("label") | not)' "numeric fields only"
json POST /api/records/bulk '{"filter":{"job_id":'"$J2"',"min.score":0.9},"set":{"status":"accepted"}}'
expect 200 "POST /api/records/bulk"
jqt '.updated == 20' "20 updated"
json POST /api/records/bulk '{"filter":{"job_id":'"$J2"',"status":"pending","q":"needle"},"set":{"status":"rejected"}}'
jqt '.updated == 18' "bulk reject of the pending needles"
cgi GET "/api/records/stats?job_id=$J2"
jqt '.total == 200 and .by_status.accepted == 20 and .by_status.rejected == 18 and .by_status.pending == 162' \
	"stats after bulk review"
cgi GET "/api/records?job_id=$J2&status=accepted&limit=1"
check "X-Total-Count with a status" test "$(header X-Total-Count)" = 20
cgi GET "/api/export?job_id=$J2&status=rejected&q=needle"
check "export takes the same filters" test "$(jq -c . "$T/body" | wc -l)" -eq 18
cgi GET "/api/records?sort=bad-name"
expect 400 "sort by a bad name"
jqt '.detail.parameter == "sort"' "names the parameter"
cgi GET "/api/records?min.sc%20ore=1"
expect 400 "range on a bad field name"
jqt '.detail.parameter == "min.sc ore"' "names the parameter"
cgi GET "/api/records?min.score=abc"
expect 400 "range bound not a number"
jqt '.detail.parameter == "min.score"' "names it"
cgi GET "/api/records/stats?max.score=nan"
expect 400 "nan is no bound"
cgi GET "/api/records?$(printf 'min.f%d=1&' 1 2 3 4 5 6 7 8 9)"
expect 400 "nine range filters"
jqt '.detail.parameter == "min.f9"' "the ninth is named"
cgi GET "/api/records?q=$(head -c 257 /dev/zero | tr '\0' a)"
expect 400 "q over 256 bytes"
jqt '.detail.parameter == "q" and .detail.max_bytes == 256' "names q and the limit"
json POST /api/records/bulk '{"filter":{"job_id":'"$J2"'},"set":{"status":"bogus"}}'
expect 400 "bulk to an unknown status"
jqt '.detail.field == "set.status"' "names set.status"
json POST /api/records/bulk '{"filter":{"min.1x":1},"set":{"status":"accepted"}}'
expect 400 "bulk with a bad field"
jqt '.detail.field == "filter.min.1x"' "names the filter field"
json POST /api/records/bulk '{"filter":{"owner":1},"set":{"status":"accepted"}}'
expect 400 "bulk with an unknown filter key"
jqt '.detail.field == "filter.owner"' "names it"
json POST /api/records/bulk '{"filter":{"status":"nope"},"set":{"status":"accepted"}}'
expect 400 "bulk with a bad status filter"
json POST /api/records/bulk '{"set":{"status":"accepted"}}'
expect 400 "bulk without a filter"
json POST /api/records/bulk '{"filter":{},"set":{"status":"accepted","output":"x"}}'
expect 400 "bulk sets only the status"
cgi GET "/api/records/stats?job_id=$J2"
jqt '.by_status.accepted == 20 and .by_status.rejected == 18' "refused bulk requests changed nothing"
cgi DELETE "/api/records?job_id=$J2"
jqt '.deleted == 200' "clean up"

# ---- deletes ----------------------------------------------------------------
cgi DELETE "/api/records?job_id=$J1"
expect 200 "DELETE /api/records?job_id="
jqt '.deleted == 2' "two records deleted"
cgi GET /api/jobs/$J1
expect 404 "and the job with them"
cgi DELETE /api/pipelines/$P2
expect 200 "DELETE /api/pipelines/{id}"
jqt '.success == true' "success"
cgi GET /api/pipelines/$P2
expect 404 "pipeline gone"
cgi GET /api/jobs/$JMD
expect 404 "its jobs gone too"
cgi DELETE /api/pipelines/$P2
expect 404 "delete it again"

# ---- execute with an LLM (the mock provider) --------------------------------
MOCK="$top_builddir/tests/mock-llm/mock-llm"
MOCK_PID=
stop_mock() { [ -z "$MOCK_PID" ] || { kill "$MOCK_PID"; wait "$MOCK_PID"; } 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_mock"
if [ -x "$MOCK" ] && command -v curl >/dev/null 2>&1; then
	"$MOCK" --port 0 --port-file "$T/mock.port" >/dev/null 2>"$T/mock.log" &
	MOCK_PID=$!
	for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
	MPORT=$(cat "$T/mock.port")
	export LLM_ENDPOINT="http://127.0.0.1:$MPORT/v1/chat/completions" LLM_PROVIDER=openai \
		LLM_MODEL=mock LLM_MAX_RETRIES=0
	json POST /api/pipelines '{"name":"llm","blocks":[{"type":"TextGenerator","config":{"user_prompt":"Say hi to {{ who }}"}}]}'
	PL=$(jqv .id)
	json POST /api/pipelines/$PL/execute '{"who":"Ada"}'
	expect 200 "execute a TextGenerator against the LLM"
	jqt '.result.assistant == "Mock reply to: Say hi to Ada" and .result.pipeline_output == .result.assistant
		and .usage.input_tokens > 0 and .usage.output_tokens > 0' "the reply, pipeline_output and usage"
	json POST /api/pipelines/$PL/execute '{}'
	expect 400 "a prompt variable the state lacks"
	jqt '.detail.block_type == "TextGenerator" and (.error | test("undefined variable"))' \
		"names the block and the variable"
	curl -s -X POST -d '{"error_rate":1,"error_status":400}' "http://127.0.0.1:$MPORT/mock/config" >/dev/null
	json POST /api/pipelines/$PL/execute '{"who":"Ada"}'
	expect 400 "the LLM provider refusing is a block error"
	jqt '.detail.block_type == "TextGenerator" and .detail.step == 1' "with the block's detail"
	stop_mock
	MOCK_PID=
	export LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions"
	unset LLM_PROVIDER LLM_MODEL
else
	ok "# SKIP no mock LLM built (or no curl)"
fi

# ---- routing ----------------------------------------------------------------
cgi GET /api/nothing/here
expect 404 "unknown route"
check "error shape on 404" error_shape
cgi PATCH /api/pipelines/$P1
expect 405 "wrong method"
check "Allow header" test "$(header Allow)" = "GET, PUT, DELETE"
RAW=1 cgi GET "/api/records?limit=5&status=pending"
expect 200 "nginx-style REQUEST_URI"

# ---- a database that stays locked: 503 + Retry-After -----------------------
mkfifo "$T/lock.fifo"
store_shell <"$T/lock.fifo" >"$T/lock.out" 2>&1 &
LOCK_PID=$!
exec 7>"$T/lock.fifo"
if store_is_pg; then
	echo "BEGIN; LOCK TABLE pipelines IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&7
else
	echo "BEGIN EXCLUSIVE; SELECT 'locked';" >&7
fi
for _ in $(seq 100); do grep -q locked "$T/lock.out" && break; sleep 0.05; done
DGEN_DB_BUSY_TIMEOUT_MS=200 json POST /api/pipelines "$VALID"
expect 503 "a write while another process holds the lock"
check "Retry-After: 1" test "$(header Retry-After)" = 1
check "error shape" error_shape
echo "COMMIT;" >&7
exec 7>&-
wait "$LOCK_PID"
json POST /api/pipelines "$VALID"
expect 200 "the same write once the lock is gone"
cgi HEAD /api/health
expect 200 "HEAD /api/health"

# ---- a database that cannot be opened: 503, never 500 ----------------------
if store_is_pg; then
	DATABASE_URL="postgresql:///dgen?host=/nonexistent/dir" cgi GET /api/pipelines
else
	DATABASE_PATH=/nonexistent/dir/dgen.db cgi GET /api/pipelines
fi
expect 503 "an unopenable database makes the service unavailable"
check "its Retry-After" test "$(header Retry-After)" = 1
check "its error shape" error_shape

# ---- bad input: status, error, database unchanged --------------------------
# bad NAME EXPECTED_STATUS METHOD URI CONTENT_TYPE BODY_FILE
bad() {
	local name=$1 want=$2
	shift 2
	local before
	before=$(dbsum)
	cgi "$@"
	if [ "$STATUS" = "$want" ] && error_shape && [ "$before" = "$(dbsum)" ]; then
		ok "bad input: $name -> $want, error body, database unchanged"
	else
		not_ok "bad input: $name -> want $want"
	fi
}
badjson() {
	local name=$1 want=$2 method=$3 uri=$4
	printf '%s' "$5" >"$T/badreq"
	bad "$name" "$want" "$method" "$uri" application/json "$T/badreq"
}
badjson "malformed JSON" 400 POST /api/pipelines '{"name": "x", "blocks": ['
badjson "trailing garbage" 400 POST /api/pipelines '{"name":"x","blocks":[]} x'
badjson "name of the wrong type" 400 POST /api/pipelines '{"name":5,"blocks":[]}'
badjson "blocks of the wrong type" 400 POST /api/pipelines '{"name":"x","blocks":{}}'
badjson "block config of the wrong type" 422 POST /api/pipelines '{"name":"x","blocks":[{"type":"ValidatorBlock","config":[]}]}'
badjson "unknown top-level field" 400 POST /api/pipelines '{"name":"x","blocks":[],"extra":1}'
badjson "unknown config key" 422 POST /api/pipelines '{"name":"x","blocks":[{"type":"ValidatorBlock","config":{"nope":1}}]}'
badjson "body not an object" 400 POST /api/pipelines '[]'
badjson "empty body" 400 POST /api/pipelines ''
printf '{"name":"\xff\xfe","blocks":[]}' >"$T/badreq"
bad "invalid UTF-8 in JSON" 400 POST /api/pipelines application/json "$T/badreq"
printf '{"name":"a\0b","blocks":[]}' >"$T/badreq"
bad "raw NUL byte in JSON" 400 POST /api/pipelines application/json "$T/badreq"
badjson "escaped NUL in a string" 400 POST /api/pipelines '{"name":"a\u0000b","blocks":[]}'
{ head -c 10000 /dev/zero | tr '\0' '['; head -c 10000 /dev/zero | tr '\0' ']'; } >"$T/badreq"
bad "10 000-deep nesting" 400 POST /api/pipelines application/json "$T/badreq"
{ printf '{"name":"'; head -c 1100000 /dev/zero | tr '\0' 'a'; printf '","blocks":[]}'; } >"$T/badreq"
bad "body over 1 MiB" 413 POST /api/pipelines application/json "$T/badreq"
{ printf '{"name":"x","blocks":[],"constraints":{"a":"'; head -c 2000 /dev/zero | tr '\0' 'a'; printf '"}}'; } >"$T/badreq"
DGEN_MAX_STRING=1000 bad "string field over DGEN_MAX_STRING" 413 POST /api/pipelines application/json "$T/badreq"
printf '{"name":"x","blocks":[]}' >"$T/badreq"
bad "text/plain body" 415 POST /api/pipelines text/plain "$T/badreq"
bad "no content type" 415 POST /api/pipelines "" "$T/badreq"
bad "latin1 charset" 415 POST /api/pipelines "application/json; charset=latin1" "$T/badreq"
badjson "record status of the wrong type" 400 PUT /api/records/$R2 '{"status":1}'
badjson "record output of the wrong type" 400 PUT /api/records/$R2 '{"output":{"a":1}}'
badjson "seed validation with a string id" 400 POST /api/seeds/validate '{"pipeline_id":"1","seeds":[]}'
badjson "layout with an unknown key" 400 PUT /api/pipelines/$P1/validation_config '{"field_order":{},"x":1}'
printf -- '--dgenBoundary\r\nContent-Disposition: form-data; name="pipeline_id"\r\n\r\n1' >"$T/badreq"
bad "multipart without a closing boundary" 400 POST /api/generate "$MP_TYPE" "$T/badreq"
printf -- '--other\r\nContent-Disposition: form-data; name="pipeline_id"\r\n\r\n1\r\n--other--\r\n' >"$T/badreq"
bad "multipart with another boundary" 400 POST /api/generate "$MP_TYPE" "$T/badreq"
printf -- '--dgenBoundary\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--dgenBoundary--\r\n' >"$T/badreq"
bad "multipart with an unknown field" 400 POST /api/generate "$MP_TYPE" "$T/badreq"
bad "multipart without a boundary" 400 POST /api/generate "multipart/form-data" "$T/badreq"
printf -- '--dgenBoundary\r\nContent-Disposition: form-data; name="pipeline_id"\r\n\r\n%s\r\n--dgenBoundary\r\nContent-Disposition: form-data; name="file"; filename="s.json"\r\n\r\n\xff\xfe\r\n--dgenBoundary--\r\n' "$P1" >"$T/badreq"
bad "uploaded file not UTF-8" 400 POST /api/generate "$MP_TYPE" "$T/badreq"
bad "non-numeric pipeline id" 400 GET /api/pipelines/abc
bad "zero id" 400 GET /api/records/0
bad "negative id" 400 DELETE /api/jobs/-1
bad "fractional id" 400 PUT /api/records/1.5 application/json "$T/badreq"
bad "id beyond 64 bits" 400 GET /api/jobs/99999999999999999999999
bad "limit=0" 400 GET "/api/records?limit=0"
bad "limit=1001" 400 GET "/api/records?limit=1001"
bad "limit=abc" 400 GET "/api/records?limit=abc"
bad "offset=-1" 400 GET "/api/records?offset=-1"
bad "jobs limit=0" 400 GET "/api/jobs?limit=0"
bad "job_id=x" 400 GET "/api/records?job_id=x"
bad "job status unknown" 400 GET "/api/jobs?status=done"
bad "DELETE records with job_id=0" 400 DELETE "/api/records?job_id=0"
RAW=1 bad "invalid UTF-8 in the query" 400 GET "/api/records?status=%ff"
RAW=1 bad "NUL in the path" 400 GET "/api/pipelines/1%00"
RAW=1 bad "bad escape in the query" 400 GET "/api/records?limit=%zz"
cgi GET "/api/records?limit=1000&offset=0"
expect 200 "limit=1000 is the maximum"

# the CGI program also answers when its configuration is broken
DGEN_MAX_BODY=nope cgi GET /api/health
expect 500 "a bad configuration is a 500 with a JSON error"
check "error shape on a configuration error" error_shape
check "and the program exits 1" test "$CGI_RC" = 1

# one statement over 10 000 rows: its journal outgrows memory and must
# spill to a temporary file, not fail as if the disk were full
multipart "$T/mp" "$P1" "$T/seeds.json" seeds.json
cgi POST /api/generate "$MP_TYPE" "$T/mp"
J3=$(jqv .job_id)
"$FAKE" "$DB" scored "$J3" 10000
json POST /api/records/bulk '{"filter":{"job_id":'"$J3"',"status":"pending"},"set":{"status":"accepted"}}'
expect 200 "bulk accept of 10 000 records (job $J3)"
jqt '.updated == 10000' "all 10 000 updated"

done_testing
