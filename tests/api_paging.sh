#!/bin/bash
# api_paging.sh - the list endpoints GET /api/pipelines and GET /api/jobs
# answer in pages, as GET /api/records does: ?limit=1..1000 (default 100),
# ?offset=0.., newest first, the array shape of SPEC.md, and the size of
# the whole list in X-Total-Count. Runs dgen-api as a CGI program against
# a temporary database. Prints TAP.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

API="$top_builddir/dgen-api"
skip_without jq sqlite3
store_init "$T" # DATABASE_PATH, or DATABASE_URL with DGEN_TEST_STORE=pg
DB=$(store_target "$DATABASE_PATH")
: >"$T/dgen.conf"
export DGEN_CONFIG="$T/dgen.conf"
admin_token
export DGEN_TEMPLATES_DIR="${DGEN_TEMPLATES_DIR:-$top_srcdir/templates}"

# 105 pipelines (one more page than the default), two of them with jobs
cgi GET /api/pipelines
expect 200 "an empty list"
jqt 'type == "array" and length == 0' "is an empty array"
check "with X-Total-Count: 0" test "$(header X-Total-Count)" = 0
json POST /api/pipelines '{"name":"p1","blocks":[{"type":"ValidatorBlock","config":{}}]}'
FIRST=$(jqv .id)
sql "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 105)
	INSERT INTO pipelines (name, definition, created_at, updated_at)
	SELECT 'p' || i, (SELECT definition FROM pipelines WHERE id = $FIRST),
	       '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z' FROM n;"
LAST=$((FIRST + 104))

cgi GET /api/pipelines
expect 200 "GET /api/pipelines"
jqt 'type == "array" and length == 100' "the default page is 100 pipelines"
jqt '.[0].id == '"$LAST"' and .[99].id == '"$((LAST - 99))" "newest first"
check "X-Total-Count counts all 105" test "$(header X-Total-Count)" = 105
cgi GET "/api/pipelines?limit=100&offset=100"
jqt 'length == 5 and .[0].id == '"$((LAST - 100))"' and .[4].id == '"$FIRST" \
	"offset 100: the last 5, oldest at the end"
check "the total does not depend on the page" test "$(header X-Total-Count)" = 105
cgi GET "/api/pipelines?limit=2&offset=3"
jqt '[.[].id] == ['"$((LAST - 3))"', '"$((LAST - 4))"']' "limit 2 offset 3"
jqt 'all(.[]; has("id") and has("name") and has("definition") and has("created_at"))' \
	"the rows keep their fields"
cgi GET "/api/pipelines?offset=1000"
expect 200 "an offset past the end"
jqt 'length == 0' "is an empty page"
cgi GET "/api/pipelines?limit=1000"
jqt 'length == 105' "limit 1000 is allowed"

# jobs: three of the first pipeline, one of the second
printf '[{"metadata":{"a":1}}]' >"$T/seeds.json"
for p in $FIRST $FIRST $FIRST $((FIRST + 1)); do
	multipart "$T/form" "$p" "$T/seeds.json" seeds.json
	cgi POST /api/generate "$MP_TYPE" "$T/form"
done
expect 200 "jobs queued"
J4=$(jqv .job_id)
cgi GET /api/jobs
expect 200 "GET /api/jobs"
jqt 'length == 4 and .[0].id == '"$J4" "all jobs, newest first"
check "X-Total-Count: 4" test "$(header X-Total-Count)" = 4
cgi GET "/api/jobs?limit=1&offset=1"
jqt 'length == 1 and .[0].id == '"$((J4 - 1))" "limit 1 offset 1"
check "the total of a page is the whole list's" test "$(header X-Total-Count)" = 4
cgi GET "/api/jobs?pipeline_id=$FIRST&limit=2"
jqt 'length == 2 and all(.[]; .pipeline_id == '"$FIRST"')' "a filtered page"
check "X-Total-Count counts the filtered list" test "$(header X-Total-Count)" = 3
cgi GET "/api/jobs?status=running"
jqt 'length == 0' "no running job"
check "X-Total-Count: 0 for an empty filter" test "$(header X-Total-Count)" = 0

# bad paging: 400 naming the parameter, for both lists
for path in /api/pipelines /api/jobs; do
	for q in limit=0 limit=1001 limit=abc limit= offset=-1 offset=x; do
		cgi GET "$path?$q"
		if [ "$STATUS" = 400 ] && error_shape &&
			jq -e --arg p "${q%%=*}" '.detail.parameter == $p' "$T/body" >/dev/null; then
			ok "$path?$q -> 400 naming '${q%%=*}'"
		else
			not_ok "$path?$q -> want 400 naming '${q%%=*}'"
		fi
	done
done

done_testing
