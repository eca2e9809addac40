#!/bin/sh
# test_cli.sh - the `dgen` command as a user drives it: listing blocks and
# templates, validating pipelines, running the builtin templates against
# the mock LLM server, and failing with a JSON error when a run cannot start.
# Prints TAP.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
DGEN="$top_builddir/dgen"
MOCK="$top_builddir/tests/mock-llm/mock-llm"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dgen-cli.XXXXXX") || exit 1
MOCK_PID=

cleanup() {
	if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; fi
	store_stop
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# A clean environment: no config file, builtin templates, no plugins.
export DGEN_CONFIG=/dev/null
export DGEN_TEMPLATES_DIR="$top_srcdir/templates"
export DGEN_USER_TEMPLATES_DIR=
export DGEN_BLOCKS_DIR=
unset DEBUG LLM_API_KEY LLM_PROVIDER LLM_MODEL

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/store.sh"
# DATABASE_PATH=$TMP/dgen.db, or a database of the PostgreSQL server
# (DATABASE_URL) with DGEN_TEST_STORE=pg; the key file is in $TMP either way
store_init "$TMP"
notok() { not_ok "$@"; }
# A check's output is shown only when it fails.
TAP_CHECK_LOG=$TMP/check.out

# JSON questions answered by jq, else python3 (both read stdin).
if command -v jq >/dev/null 2>&1; then JSONQ=jq; elif command -v python3 >/dev/null 2>&1; then JSONQ=py; else JSONQ=; fi
# jtrue FILE JQ-EXPR PY-EXPR: true when the expression holds for the document
jtrue() {
	case $JSONQ in
	jq) jq -e "$2" "$1" >/dev/null 2>&1 ;;
	py) python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$1" 2>/dev/null ;;
	*) return 0 ;;
	esac
}
# jlines FILE JQ-EXPR PY-EXPR: the expression holds for every JSONL line
jlines() {
	case $JSONQ in
	jq) [ "$(jq -c "$2" "$1" 2>/dev/null | grep -c -v '^true$')" = 0 ] && [ -s "$1" ] ;;
	py) python3 -c "
import json,sys
ls=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if ls and all(($3) for d in ls) else 1)" "$1" 2>/dev/null ;;
	*) grep -q '"status":"pending"' "$1" ;;
	esac
}

# --- no LLM needed -------------------------------------------------------
check "dgen --version" "$DGEN" --version
"$DGEN" --help >"$TMP/help" 2>&1 && grep -q "run PIPELINE SEEDS" "$TMP/help" && ok "dgen --help lists the commands" || notok "dgen --help lists the commands"

"$DGEN" nosuchcommand >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "an unknown command exits 2" || notok "an unknown command exits 2 (got $rc)"

"$DGEN" blocks --json >"$TMP/blocks.json" 2>"$TMP/blocks.err"; rc=$?
[ $rc = 0 ] && ok "dgen blocks --json exits 0" || notok "dgen blocks --json exits 0 (got $rc)"
jtrue "$TMP/blocks.json" 'length == 16' 'len(d) == 16' \
	&& ok "dgen blocks --json lists the 16 builtin types" || notok "dgen blocks --json lists the 16 builtin types"
jtrue "$TMP/blocks.json" \
	'all(.[]; (.config_schema.type == "object") and (.config_schema.properties | type == "object") and has("is_multiplier") and has("inputs") and has("outputs") and has("category"))' \
	'all(b["config_schema"]["type"] == "object" and isinstance(b["config_schema"]["properties"], dict) and "is_multiplier" in b for b in d)' \
	&& ok "every block has a config_schema" || notok "every block has a config_schema"
jtrue "$TMP/blocks.json" \
	'[.[] | .type] == ["TextGenerator","StructuredGenerator","MarkdownMultiplierBlock","ValidatorBlock","JSONValidatorBlock","DiversityScore","CoherenceScore","RougeScore","FieldMapper","StructureSampler","SemanticInfiller","DuplicateRemover","RagasMetrics","LLMJudge","Sampler","NearDuplicate"] or ([.[] | .type] | sort) == (["TextGenerator","StructuredGenerator","MarkdownMultiplierBlock","ValidatorBlock","JSONValidatorBlock","DiversityScore","CoherenceScore","RougeScore","FieldMapper","StructureSampler","SemanticInfiller","DuplicateRemover","RagasMetrics","LLMJudge","Sampler","NearDuplicate"] | sort)' \
	'sorted(b["type"] for b in d) == sorted(["TextGenerator","StructuredGenerator","MarkdownMultiplierBlock","ValidatorBlock","JSONValidatorBlock","DiversityScore","CoherenceScore","RougeScore","FieldMapper","StructureSampler","SemanticInfiller","DuplicateRemover","RagasMetrics","LLMJudge","Sampler","NearDuplicate"])' \
	&& ok "the builtin type ids are the SPEC's" || notok "the builtin type ids are the SPEC's"
"$DGEN" blocks >"$TMP/blocks.txt" 2>&1 && grep -q "^RougeScore " "$TMP/blocks.txt" \
	&& ok "dgen blocks prints a table" || notok "dgen blocks prints a table"

"$DGEN" templates >"$TMP/tpl.txt" 2>&1
for id in json_generation text_classification qa_generation data_augmentation ragas_evaluation; do
	grep -q "^$id " "$TMP/tpl.txt" && ok "dgen templates lists $id" || notok "dgen templates lists $id"
done
"$DGEN" templates --json >"$TMP/tpl.json" 2>/dev/null
jtrue "$TMP/tpl.json" 'length == 5 and all(.[]; has("id") and has("name") and has("description") and has("example_seed"))' \
	'len(d) == 5 and all(set(["id","name","description","example_seed"]) <= set(t) for t in d)' \
	&& ok "dgen templates --json has the GET /api/templates shape" || notok "dgen templates --json has the GET /api/templates shape"

for id in json_generation text_classification qa_generation data_augmentation ragas_evaluation; do
	check "dgen validate $id" "$DGEN" validate "$id"
done

# Run from the build tree before `make install`, with no DGEN_TEMPLATES_DIR:
# the tree's templates stand in for the missing installed ones.
(unset DGEN_TEMPLATES_DIR; "$DGEN" templates) >"$TMP/tpl-default.txt" 2>&1
grep -q "^json_generation " "$TMP/tpl-default.txt" \
	&& ok "dgen templates without DGEN_TEMPLATES_DIR finds the templates" \
	|| { notok "dgen templates without DGEN_TEMPLATES_DIR finds the templates"; sed 's/^/# /' "$TMP/tpl-default.txt"; }
(unset DGEN_TEMPLATES_DIR; "$DGEN" validate json_generation) >/dev/null 2>&1 \
	&& ok "... and a builtin template is found by name" || notok "... and a builtin template is found by name"

printf '{"name":"bad","blocks":[{"type":"TextGenerator"},{"type":"NoSuchBlock"}]}' >"$TMP/bad.json"
"$DGEN" validate "$TMP/bad.json" >/dev/null 2>"$TMP/bad.err"; rc=$?
[ $rc = 1 ] && ok "an invalid pipeline exits 1" || notok "an invalid pipeline exits 1 (got $rc)"
jtrue "$TMP/bad.err" '.error == "Block '"'"'NoSuchBlock'"'"' not found" and .detail.field == "blocks[1].type" and (.detail.available_blocks | length) == 16' \
	'd["error"] == "Block '"'"'NoSuchBlock'"'"' not found" and d["detail"]["field"] == "blocks[1].type"' \
	&& ok "... with the structured error JSON on stderr" || { notok "... with the structured error JSON on stderr"; sed 's/^/# /' "$TMP/bad.err"; }

printf '[{"metadata":{"content":"x"}},{"repetitions":0,"metadata":{}}]' >"$TMP/badseeds.json"
"$DGEN" validate json_generation "$TMP/badseeds.json" >"$TMP/vs.json" 2>&1; rc=$?
[ $rc = 1 ] && jtrue "$TMP/vs.json" '.valid == false and (.errors | length) == 1' 'd["valid"] is False and len(d["errors"]) == 1' \
	&& ok "dgen validate PIPELINE SEEDS reports the bad seed" || { notok "dgen validate PIPELINE SEEDS reports the bad seed"; sed 's/^/# /' "$TMP/vs.json"; }

"$DGEN" run json_generation "$TMP/nonexistent.json" >/dev/null 2>"$TMP/nf.err"; rc=$?
[ $rc = 1 ] && grep -q '"error"' "$TMP/nf.err" && ok "a run that cannot start exits 1 with a JSON error" \
	|| notok "a run that cannot start exits 1 with a JSON error (got $rc)"
"$DGEN" run json_generation "$TMP/badseeds.json" >/dev/null 2>"$TMP/bs.err"; rc=$?
[ $rc = 1 ] && jtrue "$TMP/bs.err" '.detail.seed_index == 1 and .detail.field == "repetitions"' \
	'd["detail"]["seed_index"] == 1 and d["detail"]["field"] == "repetitions"' \
	&& ok "a bad seed file names the seed index" || { notok "a bad seed file names the seed index"; sed 's/^/# /' "$TMP/bs.err"; }

check "dgen migrate creates the database" "$DGEN" migrate
store_skip_pg "the database file exists" "the server keeps the data, there is no file" ||
	{ [ -s "$DATABASE_PATH" ] && ok "the database file exists" || notok "the database file exists"; }
check "dgen migrate is idempotent" "$DGEN" migrate

# A run whose LLM cannot be reached: every execution fails, exit 1.
export LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions" LLM_MAX_RETRIES=0 LLM_CONNECT_TIMEOUT=2
"$DGEN" run json_generation "$top_srcdir/templates/seeds/seed_json_generation.json" -o "$TMP/none.jsonl" 2>"$TMP/none.err"; rc=$?
[ $rc = 1 ] && grep -q "failed at step 1" "$TMP/none.err" && [ ! -s "$TMP/none.jsonl" ] \
	&& ok "with the LLM unreachable every execution fails and is reported" \
	|| { notok "with the LLM unreachable every execution fails and is reported (got $rc)"; sed 's/^/# /' "$TMP/none.err"; }

# --- plugins ---------------------------------------------------------------
if [ -f "$top_builddir/tests/plugins/uppercase_block.so" ]; then
	DGEN_BLOCKS_DIR="$top_builddir/tests/plugins" "$DGEN" blocks --json >"$TMP/pb.json" 2>"$TMP/pb.err"; rc=$?
	[ $rc = 0 ] && jtrue "$TMP/pb.json" 'length == 17 and any(.[]; .type == "Uppercase")' \
		'len(d) == 17 and any(b["type"] == "Uppercase" for b in d)' \
		&& ok "a plugin directory adds the Uppercase block" || notok "a plugin directory adds the Uppercase block"
	[ "$(grep -c 'skipped' "$TMP/pb.err")" = 3 ] && ok "the three broken plugins are reported and skipped" \
		|| { notok "the three broken plugins are reported and skipped"; sed 's/^/# /' "$TMP/pb.err"; }
	printf '{"name":"up","blocks":[{"type":"Uppercase","config":{"field_name":"text"}}]}' >"$TMP/up.json"
	printf '[{"metadata":{"text":"shout this"}}]' >"$TMP/up-seeds.json"
	DGEN_BLOCKS_DIR="$top_builddir/tests/plugins" "$DGEN" run "$TMP/up.json" "$TMP/up-seeds.json" -o "$TMP/up.jsonl" 2>/dev/null
	grep -q '"output":"SHOUT THIS"' "$TMP/up.jsonl" && ok "a pipeline runs the plugin block" || notok "a pipeline runs the plugin block"
else
	ok "# SKIP plugins not built"
fi

# --- against the mock LLM --------------------------------------------------
if [ ! -x "$MOCK" ]; then
	ok "# SKIP mock-llm not built"
	done_testing; exit
fi
"$MOCK" --port 0 --port-file "$TMP/port" >/dev/null 2>"$TMP/mock.err" &
MOCK_PID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$TMP/port" 2>/dev/null)
if [ -z "$PORT" ]; then
	notok "mock-llm started"
	plan; exit 1
fi
ok "mock-llm started on port $PORT"
export LLM_ENDPOINT="http://127.0.0.1:$PORT/v1/chat/completions" LLM_MAX_RETRIES=2

"$DGEN" llm test >"$TMP/llm.out" 2>&1 && grep -q "^latency:" "$TMP/llm.out" && grep -q "^usage:" "$TMP/llm.out" \
	&& ok "dgen llm test prints latency and usage" || { notok "dgen llm test prints latency and usage"; sed 's/^/# /' "$TMP/llm.out"; }
LLM_ENDPOINT="http://alice:pw-S3CRET@127.0.0.1:$PORT/v1/chat/completions?key=Q-S3CRET" \
	"$DGEN" llm test >"$TMP/llm-redact.out" 2>&1
if grep -q "^endpoint: http://\[redacted\]@127.0.0.1:$PORT/v1/chat/completions?\[redacted\]$" "$TMP/llm-redact.out" &&
   ! grep -q "S3CRET" "$TMP/llm-redact.out"; then
	ok "dgen llm test prints the endpoint without its userinfo and query"
else
	notok "dgen llm test prints the endpoint without its userinfo and query"; sed 's/^/# /' "$TMP/llm-redact.out"
fi

SEED="$top_srcdir/templates/seeds/seed_json_generation.json"
"$DGEN" run json_generation "$SEED" -o "$TMP/out.jsonl" 2>"$TMP/run.err"; rc=$?
[ $rc = 0 ] && ok "dgen run json_generation exits 0" || { notok "dgen run json_generation exits 0 (got $rc)"; sed 's/^/# /' "$TMP/run.err"; }
# one record per execution: seeds x repetitions
want=$(case $JSONQ in
	jq) jq '[.[] | (.repetitions // 1)] | add' "$SEED" ;;
	py) python3 -c "import json,sys; print(sum(s.get('repetitions',1) for s in json.load(open(sys.argv[1]))))" "$SEED" ;;
	*) echo 3 ;;
esac)
got=$(wc -l <"$TMP/out.jsonl" | tr -d ' ')
[ "$got" = "$want" ] && ok "one record per execution ($want)" || notok "one record per execution (want $want, got $got)"
jlines "$TMP/out.jsonl" \
	'(keys == (["accumulated_state","created_at","id","job_id","metadata","output","pipeline_id","status","trace_id","updated_at"])) and .status == "pending" and (.output | type == "string")' \
	'sorted(d) == ["accumulated_state","created_at","id","job_id","metadata","output","pipeline_id","status","trace_id","updated_at"] and d["status"] == "pending" and isinstance(d["output"], str)' \
	&& ok "every line has the export line keys" || { notok "every line has the export line keys"; head -c 600 "$TMP/out.jsonl" | sed 's/^/# /'; }
jlines "$TMP/out.jsonl" \
	'(.accumulated_state.generated | type == "object") and (.accumulated_state.generated | has("title") and has("description")) and .accumulated_state.valid == true and (.metadata.content | type == "string") and (.accumulated_state | has("content") | not)' \
	'isinstance(d["accumulated_state"]["generated"], dict) and "title" in d["accumulated_state"]["generated"] and d["accumulated_state"]["valid"] is True and "content" not in d["accumulated_state"]' \
	&& ok "records hold the generated object, validated, and the state minus the metadata" \
	|| { notok "records hold the generated object, validated, and the state minus the metadata"; head -c 800 "$TMP/out.jsonl" | sed 's/^/# /'; }
jlines "$TMP/out.jsonl" '(.output | fromjson | has("title") and has("description"))' \
	'"title" in json.loads(d["output"]) and "description" in json.loads(d["output"])' \
	&& ok "a record's output is the generated JSON, not the validator's flag" \
	|| { notok "a record's output is the generated JSON, not the validator's flag"; head -c 600 "$TMP/out.jsonl" | sed 's/^/# /'; }
jlines "$TMP/out.jsonl" '(.trace_id | test("^[0-9a-f-]{36}$")) and (.created_at | test("Z$"))' \
	'len(d["trace_id"]) == 36 and d["created_at"].endswith("Z")' \
	&& ok "records carry a trace_id and ISO timestamps" || notok "records carry a trace_id and ISO timestamps"

"$DGEN" run json_generation "$SEED" -c 3 --trace >"$TMP/out3.jsonl" 2>/dev/null; rc=$?
ids=$(case $JSONQ in jq) jq -r .id "$TMP/out3.jsonl" | tr '\n' ' ';; py) python3 -c "import json,sys; print(' '.join(str(json.loads(l)['id']) for l in open(sys.argv[1])) + ' ')" "$TMP/out3.jsonl";; *) echo "0 1 2 ";; esac)
[ $rc = 0 ] && [ "$ids" = "0 1 2 " ] && ok "-c 3 writes the same records in item order" || notok "-c 3 writes the same records in item order (got '$ids')"
jlines "$TMP/out3.jsonl" '(.trace | length) == 2 and .trace[0].block_type == "StructuredGenerator"' \
	'len(d["trace"]) == 2 and d["trace"][0]["block_type"] == "StructuredGenerator"' \
	&& ok "--trace adds each record's block trace" || notok "--trace adds each record's block trace"

"$DGEN" run text_classification "$top_srcdir/templates/seeds/seed_text_classification.json" -o "$TMP/tc.jsonl" 2>/dev/null; rc=$?
[ $rc = 0 ] && jlines "$TMP/tc.jsonl" '.accumulated_state.generated | has("category") and has("confidence")' \
	'"category" in d["accumulated_state"]["generated"] and "confidence" in d["accumulated_state"]["generated"]' \
	&& ok "text_classification runs and classifies" || notok "text_classification runs and classifies (rc $rc)"

"$DGEN" run qa_generation "$top_srcdir/templates/seeds/seed_qa_generation.md" -o "$TMP/qa.jsonl" 2>"$TMP/qa.err"; rc=$?
chunks=$(grep -c '^#' "$top_srcdir/templates/seeds/seed_qa_generation.md")
got=$(wc -l <"$TMP/qa.jsonl" | tr -d ' ')
[ $rc = 0 ] && [ "$got" = "$chunks" ] && ok "qa_generation writes one record per markdown section ($chunks)" \
	|| { notok "qa_generation writes one record per markdown section (want $chunks, got $got, rc $rc)"; sed 's/^/# /' "$TMP/qa.err"; }
jlines "$TMP/qa.jsonl" '(.metadata | has("content") and has("chunk_index")) and (.accumulated_state.generated | has("qa_pairs")) and (.output | length) > 0' \
	'"chunk_index" in d["metadata"] and "qa_pairs" in d["accumulated_state"]["generated"] and len(d["output"]) > 0' \
	&& ok "each chunk record has its chunk as metadata and generated qa_pairs" || notok "each chunk record has its chunk as metadata and generated qa_pairs"

# constraints stop a run: a one-token budget lets the first execution through only
printf '{"name":"c","blocks":[{"type":"TextGenerator","config":{"user_prompt":"{{ content }}"}}],"constraints":{"max_total_tokens":1}}' >"$TMP/c.json"
"$DGEN" run "$TMP/c.json" "$SEED" -o "$TMP/c.jsonl" 2>"$TMP/c.err"; rc=$?
[ $rc = 3 ] && grep -q "Constraint exceeded: max_total_tokens" "$TMP/c.err" && [ "$(wc -l <"$TMP/c.jsonl" | tr -d ' ')" = 1 ] \
	&& ok "a constraint stops the run (exit 3) after the budget is spent" || { notok "a constraint stops the run (rc $rc)"; sed 's/^/# /' "$TMP/c.err"; }

# --- blocks pick stored models by name ------------------------------------------
MEP="http://127.0.0.1:$PORT/v1/chat/completions"
printf '%s' '{"name":"named","blocks":[{"type":"TextGenerator","config":{"model":"second","user_prompt":"Say hi"}}]}' >"$TMP/named.json"
printf '%s' '[{"metadata":{"x":1}}]' >"$TMP/named-seeds.json"
"$DGEN" models add "{\"name\":\"first\",\"provider\":\"openai\",\"endpoint\":\"$MEP\",\"model_name\":\"mock-first\"}" >/dev/null 2>"$TMP/madd.err" &&
"$DGEN" models add "{\"name\":\"second\",\"provider\":\"openai\",\"endpoint\":\"$MEP\",\"model_name\":\"mock-second\"}" >/dev/null 2>>"$TMP/madd.err" \
	&& ok "dgen models add two models" || { notok "dgen models add two models"; sed 's/^/# /' "$TMP/madd.err"; }
LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions" \
	"$DGEN" run "$TMP/named.json" "$TMP/named-seeds.json" -o "$TMP/named.jsonl" 2>"$TMP/named.err"; rc=$?
[ $rc = 0 ] && grep -q "Mock reply to: Say hi" "$TMP/named.jsonl" \
	&& ok "dgen run: a block naming a stored model is served by it, not by LLM_ENDPOINT" \
	|| { notok "dgen run: a block naming a stored model (rc $rc)"; sed 's/^/# /' "$TMP/named.err"; }
"$DGEN" models rm second >/dev/null 2>&1
"$DGEN" run "$TMP/named.json" "$TMP/named-seeds.json" -o "$TMP/named2.jsonl" 2>"$TMP/named2.err"; rc=$?
[ $rc = 1 ] && grep -q "llm model 'second' not found" "$TMP/named2.err" \
	&& ok "dgen run: a model deleted since fails the execution naming it" \
	|| { notok "dgen run: a model deleted since (rc $rc)"; sed 's/^/# /' "$TMP/named2.err"; }

# --- dgen models rekey ------------------------------------------------------------
KEYF="$TMP/dgen.key"
"$DGEN" models add "{\"name\":\"keyed\",\"provider\":\"openai\",\"endpoint\":\"$MEP\",\"model_name\":\"mock-keyed\",\"api_key\":\"sk-keyed-4321\"}" >/dev/null 2>&1
"$DGEN" models --embedding add "{\"name\":\"ekeyed\",\"provider\":\"openai\",\"endpoint\":\"http://127.0.0.1:$PORT/v1/embeddings\",\"model_name\":\"mock-embed\",\"api_key\":\"sk-ekeyed-8765\"}" >/dev/null 2>&1
cp "$KEYF" "$TMP/before.key"
"$DGEN" models rekey >"$TMP/rekey.out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "re-sealed 2 keys" "$TMP/rekey.out" && ! cmp -s "$KEYF" "$TMP/before.key" \
	&& [ "$(stat -c %a "$KEYF")" = 600 ] && [ "$(stat -c %s "$KEYF")" = 32 ] \
	&& ok "dgen models rekey makes a new key file (0600) and re-seals every key" \
	|| { notok "dgen models rekey (rc $rc)"; sed 's/^/# /' "$TMP/rekey.out"; }
[ ! -e "$KEYF.old" ] && [ ! -e "$KEYF.new" ] && ok "the old key file is gone once committed" \
	|| notok "the old key file is gone once committed"
"$DGEN" models test keyed >"$TMP/kt.out" 2>&1 && grep -q '^ok' "$TMP/kt.out" \
	&& ok "the stored key still opens after rekey" || { notok "the stored key still opens after rekey"; sed 's/^/# /' "$TMP/kt.out"; }
DGEN_KEY_FILE="$TMP/before.key" "$DGEN" models test keyed >"$TMP/kt2.out" 2>&1
[ $? != 0 ] && grep -q "decrypt" "$TMP/kt2.out" && ok "the old key no longer opens it" \
	|| { notok "the old key no longer opens it"; sed 's/^/# /' "$TMP/kt2.out"; }
# a rekey that died before its commit left the old key as .old: the next one puts it back
cp "$KEYF" "$KEYF.old"
head -c 32 /dev/urandom >"$KEYF"
"$DGEN" models rekey >"$TMP/rekey2.out" 2>&1; rc=$?
[ $rc = 0 ] && [ ! -e "$KEYF.old" ] && "$DGEN" models test keyed >/dev/null 2>&1 \
	&& ok "a rekey after a crash before commit recovers the old key first" \
	|| { notok "rekey recovery (rc $rc)"; sed 's/^/# /' "$TMP/rekey2.out"; }

done_testing
