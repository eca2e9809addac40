#!/bin/bash
# api_models.sh - /api/llm-models and /api/embedding-models through
# dgen-api as a plain CGI program: the model "default" made from the
# settings, DataGenFlow's default rules, write-only keys sealed at rest
# under a 0600 key file, validation (409 / 422 naming the field) and the
# test endpoint against the mock LLM. Prints TAP.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

API="$top_builddir/dgen-api"
MOCK="$top_builddir/tests/mock-llm/mock-llm"
skip_without jq sqlite3 curl
store_init "$T" # DATABASE_PATH, or DATABASE_URL with DGEN_TEST_STORE=pg
DB=$(store_target "$DATABASE_PATH")
: >"$T/dgen.conf"
export DGEN_CONFIG="$T/dgen.conf"
admin_token
export LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions" LLM_MODEL=boot-model \
	LLM_API_KEY=sk-boot-key-9876 LLM_TIMEOUT=2 LLM_CONNECT_TIMEOUT=2
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy LLM_PROVIDER EMBEDDING_ENDPOINT

MOCK_PID=
stop_mock() { [ -z "$MOCK_PID" ] || { kill "$MOCK_PID"; wait "$MOCK_PID"; } 2>/dev/null; }
CLEANUP_HOOKS="$CLEANUP_HOOKS stop_mock"
"$MOCK" --port 0 --port-file "$T/mock.port" >/dev/null 2>"$T/mock.log" &
MOCK_PID=$!
for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
MPORT=$(cat "$T/mock.port")
MURL="http://127.0.0.1:$MPORT/v1/chat/completions"

# ---- bootstrap ---------------------------------------------------------------
cgi GET /api/llm-models
expect 200 "GET /api/llm-models"
jqt 'length == 1 and .[0].name == "default" and .[0].is_default == true
	and .[0].model_name == "boot-model" and .[0].provider == "openai"
	and .[0].endpoint == "http://127.0.0.1:9/v1/chat/completions"' \
	"an empty table gets the model 'default' from LLM_*"
jqt '.[0].api_key_set == true and .[0].api_key_last4 == "9876" and (.[0] | has("api_key") | not)' \
	"its key is write-only: api_key_set and the last 4 characters"
check "the key never appears in an answer" sh -c "! grep -q sk-boot-key '$T/body'"
check "the key file is made, mode 0600" test "$(stat -c %a "$T/dgen.key" 2>/dev/null)" = 600
if store_is_pg; then
	check "the key is not stored in plain text" test "$(sql "SELECT count(*) FROM models
		WHERE position('sk-boot-key'::bytea in api_key) > 0")" = 0
else
	check "the key is not stored in plain text" sh -c "! grep -qa sk-boot-key '$DB'"
fi
cgi GET /api/embedding-models
jqt 'length == 1 and .[0].name == "default" and .[0].endpoint == "http://127.0.0.1:9/v1/embeddings"
	and .[0].dimensions == 0' "embeddings get a 'default' from the LLM settings"

# ---- create, defaults -------------------------------------------------------
json POST /api/llm-models "{\"name\":\"fast\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock\",\"api_key\":\"sk-fast-1234\",\"max_in_flight\":4,\"price_per_mtok\":{\"input\":1,\"output\":2,\"cached\":0.5},\"currency\":\"USD\"}"
expect 201 "POST a model"
jqt '.name == "fast" and .is_default == false and .api_key_last4 == "1234" and .max_in_flight == 4
	and .price_per_mtok.output == 2 and .currency == "USD"' "answers the stored model without its key"
json POST /api/llm-models "{\"name\":\"fast\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"x\"}"
expect 409 "a name taken"
jqt '.detail.field == "name"' "names the field"
json PUT /api/llm-models/fast "{\"name\":\"fast\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock\",\"is_default\":true}"
expect 200 "PUT makes it the default"
jqt '.is_default == true and .api_key_set == true' "a PUT without api_key keeps the key"
cgi GET /api/llm-models
jqt '[.[] | select(.is_default)] | length == 1 and .[0].name == "fast"' \
	"setting one default clears the others"
cgi DELETE /api/llm-models/fast
expect 200 "DELETE the default"
jqt '.success == true' "success"
cgi GET /api/llm-models
jqt 'length == 1 and .[0].name == "default" and .[0].is_default' "the flag moved to the one left"
cgi DELETE /api/llm-models/fast
expect 404 "delete it again"
cgi GET /api/llm-models/nope
expect 404 "an unknown name"
check "error shape" error_shape

# ---- validation ---------------------------------------------------------------
bad() { # BODY FIELD STATUS DESCRIPTION
	json POST /api/llm-models "$1"
	if [ "$STATUS" = "$3" ] && jq -e --arg f "$2" '.detail.field == $f' "$T/body" >/dev/null 2>&1; then
		ok "$4 ($3, $2)"
	else
		not_ok "$4 (want $3 naming $2)"
	fi
}
bad '{"name":"x","provider":"openai","endpoint":"file:///etc/passwd","model_name":"m"}' endpoint 422 "endpoint must be http(s)"
bad '{"name":"x","provider":"acme","endpoint":"http://h/","model_name":"m"}' provider 422 "unknown provider"
bad '{"name":"a/b","provider":"openai","endpoint":"http://h/","model_name":"m"}' name 422 "a name with a slash"
bad '{"name":"x","provider":"openai","endpoint":"http://h/","model_name":"m","max_in_flight":-1}' max_in_flight 422 "a negative ceiling"
bad '{"name":"x","provider":"openai","endpoint":"http://h/","model_name":"m","price_per_mtok":{"input":-1,"output":1}}' price_per_mtok.input 422 "a negative price"
bad '{"name":"x","provider":"openai","endpoint":"http://h/","model_name":"m","price_per_mtok":{"input":1,"output":1}}' currency 422 "a price without a currency"
json POST /api/llm-models '{"name":"x","provider":"openai","endpoint":"http://h/"}'
expect 400 "model_name missing"
json POST /api/llm-models '{"name":"x","provider":"openai","endpoint":"http://h/","model_name":"m","dimensions":3}'
expect 400 "dimensions is for embedding models only"

# ---- test ------------------------------------------------------------------------
json POST /api/llm-models/test "{\"name\":\"t\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock\"}"
expect 200 "test a reachable model"
jqt '.success == true and (.latency_ms | type == "number") and (.message | type == "string")
	and (keys | sort == ["latency_ms","message","success"])' "success, message, latency_ms"
json POST /api/llm-models/test '{"name":"default","provider":"openai","endpoint":"http://127.0.0.1:9/v1/chat/completions","model_name":"m"}'
expect 200 "test an unreachable model"
jqt '.success == false and (.message | test("connect"))' "says it could not connect"
curl -s -X POST -d '{"error_rate":1,"error_status":401}' "http://127.0.0.1:$MPORT/mock/config" >/dev/null
json POST /api/llm-models/test "{\"name\":\"t\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock\",\"api_key\":\"bad\"}"
jqt '.success == false and (.message | test("401"))' "a refused key is a short reason"
check "never the remote body" sh -c "! grep -qi mock '$T/body' || jq -e '.message | test(\"mock\") | not' '$T/body' >/dev/null"
curl -s -X POST -d '{"error_rate":0}' "http://127.0.0.1:$MPORT/mock/config" >/dev/null
json POST /api/embedding-models "{\"name\":\"emb\",\"provider\":\"openai\",\"endpoint\":\"http://127.0.0.1:$MPORT/v1/embeddings\",\"model_name\":\"mock-embed\",\"dimensions\":8}"
expect 201 "POST an embedding model"
jqt '.dimensions == 8 and .is_default == false' "with its dimensions"
json POST /api/embedding-models/test "{\"name\":\"emb\",\"provider\":\"openai\",\"endpoint\":\"http://127.0.0.1:$MPORT/v1/embeddings\",\"model_name\":\"mock-embed\"}"
jqt '.success == true' "test an embedding model"

# ---- blocks pick models by name ----------------------------------------------------
json POST /api/llm-models "{\"name\":\"second\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"mock-second\"}"
expect 201 "POST a second LLM model"
cgi GET /api/blocks
jqt '(.[] | select(.type == "TextGenerator") | .config_schema.properties.model.enum) == ["default","second",null]' \
	"GET /api/blocks lists the model names (and null) as the enum of model"
jqt '(.[] | select(.type == "DuplicateRemover") | .config_schema.properties.embedding_model.enum) == ["default","emb",null]' \
	"and the embedding model names as the enum of embedding_model"
json POST /api/pipelines '{"name":"p","blocks":[{"type":"TextGenerator","config":{"user_prompt":"hi"}},{"type":"TextGenerator","config":{"model":"nope","user_prompt":"hi"}}]}'
expect 422 "an unknown model name at save"
jqt '.detail.field == "blocks[1].config.model" and (.detail.message // .error // tostring | test("nope"))' \
	"names the field and the model"
json POST /api/pipelines '{"name":"p","blocks":[{"type":"TextGenerator","config":{"model":"second","user_prompt":"hi"}}]}'
expect 200 "save a pipeline naming a stored model"
PID=$(jq -r .id "$T/body")
json PUT "/api/pipelines/$PID" '{"name":"p","blocks":[{"type":"DuplicateRemover","config":{"embedding_model":"gone"}}]}'
expect 422 "PUT with an unknown embedding model"
jqt '.detail.field == "blocks[0].config.embedding_model"' "names the field"
json POST "/api/pipelines/$PID/execute" '{}'
expect 200 "execute with the named model"
jqt '.result.assistant | test("Mock reply")' "the reply comes from the model's endpoint"
curl -s "http://127.0.0.1:$MPORT/mock/requests?n=1" >"$T/body"
jqt '.requests[-1].body.model == "mock-second"' "the request carried the model's model_name"
cgi DELETE /api/llm-models/second
expect 200 "delete the model"
json POST "/api/pipelines/$PID/execute" '{}'
expect 400 "execute after the model was deleted"
jqt 'tostring | test("second")' "the failure names the missing model"

# ---- redirects are never followed ---------------------------------------------
chat_count() { curl -s "http://127.0.0.1:$MPORT/mock/stats" | jq '.by_path["/v1/chat/completions"] // 0'; }
before=$(chat_count)
json POST /api/llm-models/test "{\"name\":\"r\",\"provider\":\"openai\",\"endpoint\":\"http://127.0.0.1:$MPORT/mock/redirect\",\"model_name\":\"mock\"}"
jqt '.success == false and (.message | test("302"))' "a 302 from the endpoint is a failure naming it"
check "the redirect was not followed" test "$(chat_count)" = "$before"

# ---- members' own models (SPEC.md §8, §9) ----------------------------------------
ADMIN=$TOKEN
for u in ann bob; do
	printf 'correct-horse-battery\n' | "$top_builddir/dgen" users add $u --password-file - >/dev/null
done
ANN=$("$top_builddir/dgen" tokens create ann --name a)
BOB=$("$top_builddir/dgen" tokens create bob --name b)
own() { # NAME ENDPOINT MODEL_NAME
	printf '{"name":"%s","provider":"openai","endpoint":"%s","model_name":"%s","api_key":"sk-own-%s-5555"}' \
		"$1" "$2" "$3" "$1"
}
TOKEN=$ANN
unset LLM_ENDPOINT_ALLOW
json POST /api/llm-models "$(own mine "$MURL" ann-model)"
expect 422 "a member's model on a private IP literal (allowed host by default, not by name)"
jqt '.detail.field == "endpoint"' "names endpoint"
export LLM_ENDPOINT_ALLOW="api.example.com,*.localhost"
json POST /api/llm-models "$(own mine http://evil.example.net/v1/chat/completions m)"
expect 422 "an endpoint outside LLM_ENDPOINT_ALLOW"
jqt '.detail.field == "endpoint" and (.error | test("evil.example.net"))' "names endpoint and the host"
export LLM_ENDPOINT_ALLOW="*"
json POST /api/llm-models "$(own mine http://10.1.2.3/v1/chat/completions m)"
expect 422 "a private address literal, even with LLM_ENDPOINT_ALLOW=*"
json POST /api/llm-models "$(own mine http://[fe80::1]/v1/chat/completions m)"
expect 422 "a link-local IPv6 literal"
json POST /api/llm-models/test "{\"name\":\"t\",\"provider\":\"openai\",\"endpoint\":\"http://169.254.169.254/latest\",\"model_name\":\"m\"}"
expect 422 "the test route checks a member's endpoint too"

export LLM_ENDPOINT_ALLOW="*.localhost"
json POST /api/llm-models "$(own sneaky "http://mock.localhost:$MPORT/v1/chat/completions" sneaky-model)"
expect 201 "a member saves a host allowed by pattern"
jqt '.scope == "own" and .is_default == false and .api_key_last4 == "5555"' "scope own, never the default"
json POST /api/llm-models/test "{\"name\":\"sneaky\",\"provider\":\"openai\",\"endpoint\":\"http://mock.localhost:$MPORT/v1/chat/completions\",\"model_name\":\"m\"}"
jqt '.success == false and (.message | test("refused")) and (.message | test("loopback"))' \
	"it resolves to loopback: refused at connect time in the test route"
json POST /api/pipelines '{"name":"sneak","blocks":[{"type":"TextGenerator","config":{"model":"sneaky","user_prompt":"hi"}}]}'
expect 200 "a member's pipeline naming their own model"
SPID=$(jq -r .id "$T/body")
before=$(chat_count)
json POST "/api/pipelines/$SPID/execute" '{}'
expect 400 "running it fails"
jqt 'tostring | test("refused") and test("127.0.0.1|::1")' "with a clear error naming the refused address"
check "and nothing reached the mock" test "$(chat_count)" = "$before"

export LLM_ENDPOINT_ALLOW="localhost"
json POST /api/llm-models "$(own mine "http://localhost:$MPORT/v1/chat/completions" ann-model)"
expect 201 "a host named in LLM_ENDPOINT_ALLOW may be loopback"
json POST /api/llm-models/test "{\"name\":\"mine\",\"provider\":\"openai\",\"endpoint\":\"http://localhost:$MPORT/v1/chat/completions\",\"model_name\":\"ann-model\"}"
jqt '.success == true' "and it answers"
json POST /api/llm-models "$(own mine "http://localhost:$MPORT/v1/chat/completions" x)"
expect 409 "a member's second model of one name"
jqt '.detail.field == "name"' "names name"
json POST /api/llm-models "$(own default "http://localhost:$MPORT/v1/chat/completions" x)"
expect 409 "a member's model named like a global one"
jqt '.detail.field == "name" and (.error | test("global"))' "names name, says global"
cgi GET /api/llm-models
jqt '[.[] | {name, scope}] == [{"name":"default","scope":"global"},{"name":"sneaky","scope":"own"},{"name":"mine","scope":"own"}]' \
	"a member sees the global models and their own"
jqt 'all(.[]; has("api_key") | not)' "without keys"
json PUT /api/llm-models/default '{"name":"default","provider":"openai","endpoint":"http://localhost:1/","model_name":"m"}'
expect 403 "a member cannot change a global model"
cgi DELETE /api/llm-models/default
expect 403 "nor delete one"
cgi GET /api/blocks
jqt '(.[] | select(.type == "TextGenerator") | .config_schema.properties.model.enum) == ["default","sneaky","mine",null]' \
	"GET /api/blocks lists the caller's own models and the global ones"

TOKEN=$BOB
cgi GET /api/llm-models
jqt '[.[].name] == ["default"]' "another member sees only the global models"
cgi GET /api/llm-models/mine
cp "$T/body" "$T/other"
STATUS_OTHER=$STATUS
cgi GET /api/llm-models/nosuch
check "another member's model answers 404 exactly like a missing one" \
	sh -c "[ '$STATUS_OTHER' = 404 ] && [ '$STATUS' = 404 ] && [ \"\$(sed s/mine/X/g '$T/other')\" = \"\$(sed s/nosuch/X/g '$T/body')\" ]"
json PUT /api/llm-models/mine "$(own mine "http://localhost:$MPORT/v1/chat/completions" x)"
expect 404 "another member cannot change it"
cgi DELETE /api/llm-models/mine
expect 404 "nor delete it"
json POST /api/pipelines '{"name":"p","blocks":[{"type":"TextGenerator","config":{"model":"mine","user_prompt":"hi"}}]}'
expect 422 "nor name it in a pipeline"
json POST /api/llm-models "$(own mine "http://localhost:$MPORT/v1/chat/completions" bob-model)"
expect 201 "two members may each have a model of one name"

# own before global: an admin's global model of the same name
TOKEN=$ADMIN
json POST /api/llm-models "{\"name\":\"mine\",\"provider\":\"openai\",\"endpoint\":\"$MURL\",\"model_name\":\"global-model\"}"
expect 201 "an admin's global model may share a member's name"
jqt '.scope == "global"' "scope global"
cgi GET '/api/llm-models?owner=ann'
jqt '[.[] | select(.name == "mine") | .scope] == ["global","own"]' "an admin sees a member's models with ?owner="
TOKEN=$ANN
json POST /api/pipelines '{"name":"mine","blocks":[{"type":"TextGenerator","config":{"model":"mine","user_prompt":"hi"}}]}'
APID=$(jq -r .id "$T/body")
json POST "/api/pipelines/$APID/execute" '{}'
expect 200 "a member's pipeline runs"
curl -s "http://127.0.0.1:$MPORT/mock/requests?n=1" >"$T/body"
jqt '.requests[-1].body.model == "ann-model"' "with the member's own model over the global one of the same name"
TOKEN=$ADMIN
json POST /api/pipelines '{"name":"theirs","blocks":[{"type":"TextGenerator","config":{"model":"mine","user_prompt":"hi"}}]}'
json POST "/api/pipelines/$(jq -r .id "$T/body")/execute" '{}'
expect 200 "an admin's pipeline naming it runs"
curl -s "http://127.0.0.1:$MPORT/mock/requests?n=1" >"$T/body"
jqt '.requests[-1].body.model == "global-model"' "with the global model"
TOKEN=$ANN
cgi DELETE /api/llm-models/mine
expect 200 "a member deletes their own model"
cgi GET /api/llm-models/mine
jqt '.scope == "global"' "the global one of that name is left"
unset LLM_ENDPOINT_ALLOW
TOKEN=$ADMIN

done_testing
