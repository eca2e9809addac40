#!/usr/bin/env bash
# api_access.sh - who may do what (SPEC.md §8), through dgen-api as a CGI
# program: every route x {no credentials, bad token, revoked token, another
# member, the owner, an admin} answers the status the contract implies, and
# a refused request changes nothing in the database; then every
# state-changing route under the cross-site rule (session cookie without
# X-Requested-With, a foreign Origin: 403; same origin with the header, or
# a bearer token: allowed); then logins (wrong password, unknown name, the
# rate limit, a 1025-byte password, a NUL in a name) and secrets in logs.
# Prints TAP.
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

API="$top_builddir/dgen-api"
DGEN="$top_builddir/dgen"
FAKE="$top_builddir/tests/api/fake_runner"
skip_without jq sqlite3
store_init "$T" # DATABASE_PATH, or DATABASE_URL with DGEN_TEST_STORE=pg
DB=$(store_target "$DATABASE_PATH")
: >"$T/dgen.conf"
export DGEN_CONFIG="$T/dgen.conf"
export DGEN_TEMPLATES_DIR="${DGEN_TEMPLATES_DIR:-$top_srcdir/templates}"
export LLM_ENDPOINT="http://127.0.0.1:9/v1/chat/completions" LLM_TIMEOUT=2

# The data, without the accounts' own bookkeeping (a token's last use).
dbsum() {
	store_dump pipelines jobs job_inputs records failures users | sha256sum | cut -d' ' -f1
}
PW=correct-horse-battery
for u in alice bob; do
	printf '%s\n' "$PW" | "$DGEN" users add $u --password-file - >/dev/null
done
admin_token
ADMIN=$TOKEN
ALICE=$("$DGEN" tokens create alice --name a)
BOB=$("$DGEN" tokens create bob --name b)
REVOKED=$("$DGEN" tokens create alice --name gone)
RID=$("$DGEN" tokens list alice | jq '.[] | select(.name == "gone") | .id')
"$DGEN" tokens revoke "$RID"
check "the CLI made the users and tokens" test -n "$ALICE" -a -n "$BOB"

# as WHO ...: a request with WHO's credentials (none, bad, revoked, alice,
# bob, admin).
as() {
	local who=$1
	shift
	case $who in
	none) TOKEN= ;;
	bad) TOKEN=dgen_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ;;
	revoked) TOKEN=$REVOKED ;;
	alice) TOKEN=$ALICE ;;
	bob) TOKEN=$BOB ;;
	admin) TOKEN=$ADMIN ;;
	esac
	"$@"
	TOKEN=$ADMIN
}

# alice's objects: a pipeline, a job with a record and a failure
as alice json POST /api/pipelines '{"name":"alice-p","blocks":[{"type":"ValidatorBlock","config":{}}]}'
P=$(jqv .id)
printf '[{"metadata":{"x":"1"}},{"metadata":{"x":"2"}}]' >"$T/seeds.json"
multipart "$T/form" "$P" "$T/seeds.json" seeds.json
as alice cgi POST /api/generate "$MP_TYPE" "$T/form"
J=$(jqv .job_id)
"$FAKE" "$DB" claim >/dev/null
"$FAKE" "$DB" record "$J" 0 "out 0" >/dev/null
"$FAKE" "$DB" fail "$J" 1 "boom" >/dev/null 2>&1 || :
"$FAKE" "$DB" end "$J" completed >/dev/null
as alice cgi GET "/api/records?job_id=$J"
R=$(jqv '.[0].id')
check "alice has a pipeline, a job and a record" test -n "$P" -a -n "$J" -a "$R" != null
printf '{"pipeline_id":%s,"seeds":[{"metadata":{}}]}' "$P" >"$T/validate.json"
printf '{"name":"t2"}' >"$T/token.json"

# The matrix: METHOD PATH BODY_KIND | none bad revoked bob alice admin
# (bob is "another member"; alice owns everything; "*" = any 2xx/4xx the
# handler itself gives, checked only for not being 401/403/404 by access).
matrix() {
	cat <<ROWS
GET /api/health - 200 200 200 200 200 200
GET /api/blocks - 401 401 401 200 200 200
GET /api/templates - 401 401 401 200 200 200
GET /api/auth/me - 401 401 401 200 200 200
GET /api/pipelines - 401 401 401 200 200 200
GET /api/pipelines/$P - 401 401 401 404 200 200
GET /api/pipelines/$P/accumulated_state_schema - 401 401 401 404 200 200
PUT /api/pipelines/$P/validation_config vc 401 401 401 404 200 200
PUT /api/pipelines/$P pipe 401 401 401 404 200 200
POST /api/pipelines/$P/execute exec 401 401 401 404 * *
POST /api/seeds/validate validate 401 401 401 404 200 200
POST /api/generate form 401 401 401 404 * *
GET /api/jobs - 401 401 401 200 200 200
GET /api/jobs/$J - 401 401 401 404 200 200
GET /api/jobs/$J/failures - 401 401 401 404 200 200
POST /api/jobs/$J/retry_failed - 401 401 401 404 * *
DELETE /api/jobs/$J - 401 401 401 404 409 409
GET /api/records - 401 401 401 200 200 200
GET /api/records/$R - 401 401 401 404 200 200
PUT /api/records/$R rec 401 401 401 404 200 200
GET /api/export?job_id=$J - 401 401 401 200 200 200
GET /api/export/download?job_id=$J - 401 401 401 200 200 200
GET /api/users - 401 401 401 403 403 200
POST /api/users user 401 401 401 403 403 *
PUT /api/users/alice useru 401 401 401 403 403 200
GET /api/tokens - 401 401 401 200 200 200
POST /api/tokens token 401 401 401 * * *
DELETE /api/tokens/999999 - 401 401 401 404 404 404
DELETE /api/records?job_id=$J - 401 401 401 200 * *
DELETE /api/pipelines/$P - 401 401 401 404 * *
ROWS
}
body_of() {
	case $1 in
	vc) printf '{"field_order":{"primary":[],"secondary":[],"hidden":[]}}' ;;
	pipe) printf '{"name":"alice-p","blocks":[{"type":"ValidatorBlock","config":{}}]}' ;;
	exec) printf '{}' ;;
	validate) cat "$T/validate.json" ;;
	rec) printf '{"status":"accepted"}' ;;
	user) printf '{"name":"carol%s","password":"%s","role":"member"}' "$RANDOM" "$PW" ;;
	useru) printf '{"disabled":false}' ;;
	token) cat "$T/token.json" ;;
	esac
}
# send METHOD PATH KIND: one request of the matrix as the current $TOKEN.
send() {
	case $3 in
	-) cgi "$1" "$2" ;;
	form) cgi "$1" "$2" "$MP_TYPE" "$T/form" ;;
	*) body_of "$3" >"$T/req"; cgi "$1" "$2" application/json "$T/req" ;;
	esac
}
whos=(none bad revoked bob alice admin)
bad=0 cells=0 unchanged=0 refused=0
while read -r method path kind want_none want_bad want_rev want_bob want_alice want_admin; do
	wants=("$want_none" "$want_bad" "$want_rev" "$want_bob" "$want_alice" "$want_admin")
	for i in 0 1 2 3; do   # the refusals first: they must change nothing
		before=$(dbsum)
		as "${whos[$i]}" send "$method" "$path" "$kind"
		cells=$((cells + 1))
		if [ "${wants[$i]}" != '*' ] && [ "$STATUS" != "${wants[$i]}" ]; then
			bad=$((bad + 1))
			diag "$method $path as ${whos[$i]}: $STATUS, want ${wants[$i]}: $(head -c 200 "$T/body")"
		fi
		if [ "$STATUS" -ge 400 ] 2>/dev/null && [ "$kind" != user ] && [ "$kind" != token ]; then
			refused=$((refused + 1))
			if [ "$before" != "$(dbsum)" ]; then
				unchanged=$((unchanged + 1))
				diag "$method $path as ${whos[$i]} ($STATUS) changed the database"
			fi
		fi
		if [ "$STATUS" = 401 ] && ! grep -q '^WWW-Authenticate: Bearer' "$T/headers"; then
			bad=$((bad + 1))
			diag "$method $path as ${whos[$i]}: 401 without WWW-Authenticate"
		fi
		if [ "$STATUS" -ge 400 ] 2>/dev/null && ! error_shape; then
			bad=$((bad + 1))
			diag "$method $path as ${whos[$i]}: not a SPEC error body"
		fi
	done
done < <(matrix)
check "access matrix: $cells refusal cells (none, bad, revoked, another member) as SPEC §8 says" \
	test "$bad" = 0
check "none of the $refused refused requests changed the database" test "$unchanged" = 0

# The owner and the admin, on the rows where the status is fixed; the
# destructive rows last.
bad=0 cells=0
while read -r method path kind w0 w1 w2 w3 want_alice want_admin; do
	for who in alice admin; do
		want=$want_alice
		[ $who = admin ] && want=$want_admin
		as $who send "$method" "$path" "$kind"
		cells=$((cells + 1))
		case $method in DELETE) [ "$path" = "/api/tokens/999999" ] || continue ;; esac
		if [ "$want" != '*' ] && [ "$STATUS" != "$want" ]; then
			bad=$((bad + 1))
			diag "$method $path as $who: $STATUS, want $want: $(head -c 200 "$T/body")"
		fi
	done
done < <(matrix | grep -v '^DELETE /api/\(records\|pipelines\)')
check "access matrix: the owner and the admin ($cells cells)" test "$bad" = 0

# lists, counts and exports leave out what is not yours
as bob cgi GET /api/pipelines
jqt 'length == 0' "bob's pipeline list leaves out alice's"
check "X-Total-Count counts only bob's" test "$(header X-Total-Count)" = 0
as bob cgi GET "/api/jobs?pipeline_id=$P"
jqt 'length == 0' "and so does his job list filtered by her pipeline"
as bob cgi GET /api/jobs/active
expect 404 "jobs/active shows no one else's job"
as bob cgi GET "/api/export?job_id=$J"
check "bob's export of her job is empty" test ! -s "$T/body"
as alice cgi GET "/api/export?job_id=$J"
jqs 'length == 1 and (.[0] | has("reviewed_by") and has("reviewed_at"))' "alice's export line names the reviewer"
jqs '.[0].reviewed_by == "admin"' "the last review was the admin's"
as admin cgi GET "/api/pipelines?owner=bob"
jqt 'length == 0' "an admin's ?owner=bob leaves out alice's pipeline"
as admin cgi GET "/api/pipelines?owner=alice"
jqt 'length >= 1 and all(.[]; .name == "alice-p")' "and ?owner=alice shows hers"
before=$(dbsum)
as bob cgi DELETE /api/records
as alice cgi GET "/api/records?job_id=$J"
jqt 'length == 1' "bob's DELETE /api/records leaves alice's records alone"

# ---- the session cookie and the cross-site rule -------------------------------
printf '{"name":"alice","password":"%s"}' "$PW" >"$T/login.json"
NOAUTH=1 cgi POST /api/auth/login application/json "$T/login.json"
expect 200 "alice logs in"
jqt '.user.name == "alice" and .user.role == "member"' "login answers the user"
cookie=$(header Set-Cookie)
check "the cookie is HttpOnly; SameSite=Strict; Path=/" \
	grep -q 'HttpOnly; SameSite=Strict; Path=/' <<<"$cookie"
case $cookie in *Secure*) not_ok "and not Secure over plain http" ;; *) ok "and not Secure over plain http" ;; esac
SID=$(sed 's/^dgen_session=\([^;]*\).*/\1/' <<<"$cookie")
CGI_ENV=(HTTPS=on)
NOAUTH=1 cgi POST /api/auth/login application/json "$T/login.json"
check "behind https the cookie is Secure" grep -q '^Set-Cookie: .*; Secure' "$T/headers"
CGI_ENV=()
CK=(HTTP_COOKIE="dgen_session=$SID" HTTP_HOST=dgen.example)
CGI_ENV=("${CK[@]}")
NOAUTH=1 cgi GET /api/auth/me
expect 200 "the cookie authenticates a read"
jqt '.name == "alice" and (.quotas.jobs | type == "number")' "GET /api/auth/me"

# Every state-changing route, carried by the cookie.
xrows() {
	cat <<ROWS
POST /api/pipelines pipe
PUT /api/pipelines/$P pipe
PUT /api/pipelines/$P/validation_config vc
POST /api/pipelines/$P/execute exec
POST /api/pipelines/from_template/json_generation -
POST /api/seeds/validate validate
POST /api/generate form
POST /api/jobs/$J/retry_failed -
DELETE /api/jobs/$J -
PUT /api/records/$R rec
POST /api/tokens token
DELETE /api/tokens/999999 -
POST /api/users user
PUT /api/users/alice useru
DELETE /api/records?job_id=999999 -
DELETE /api/pipelines/999999 -
POST /api/auth/logout -
ROWS
}
bad=0 n=0
while read -r method path kind; do
	for variant in bare foreign; do
		before=$(dbsum)
		case $variant in
		bare) CGI_ENV=("${CK[@]}") ;;
		foreign) CGI_ENV=("${CK[@]}" HTTP_X_REQUESTED_WITH=XMLHttpRequest HTTP_ORIGIN=https://evil.example) ;;
		esac
		NOAUTH=1 send "$method" "$path" "$kind"
		n=$((n + 1))
		if [ "$STATUS" != 403 ] || [ "$before" != "$(dbsum)" ]; then
			bad=$((bad + 1))
			diag "$method $path ($variant cookie): $STATUS"
		fi
	done
done < <(xrows)
check "cross-site: $n cookie requests without X-Requested-With or from a foreign Origin: 403, nothing changed" \
	test "$bad" = 0
bad=0 n=0
while read -r method path kind; do
	[ "$method $path" = "POST /api/auth/logout" ] && continue
	for variant in same bearer; do
		case $variant in
		same) CGI_ENV=("${CK[@]}" HTTP_X_REQUESTED_WITH=XMLHttpRequest HTTP_ORIGIN=https://dgen.example)
		      NOAUTH=1 send "$method" "$path" "$kind" ;;
		bearer) CGI_ENV=(HTTP_ORIGIN=https://evil.example)
			as alice send "$method" "$path" "$kind" ;;
		esac
		n=$((n + 1))
		if [ "$STATUS" = 403 ] && [ "$path" != /api/users ] && [ "$path" != /api/users/alice ]; then
			bad=$((bad + 1))
			diag "$method $path ($variant): 403"
		fi
	done
done < <(xrows)
check "cross-site: $n same-origin cookie requests with the header, and bearer requests, pass the rule" \
	test "$bad" = 0
CGI_ENV=("${CK[@]}" HTTP_X_REQUESTED_WITH=1)
NOAUTH=1 cgi POST /api/auth/logout
expect 200 "logout"
CGI_ENV=("${CK[@]}")
NOAUTH=1 cgi GET /api/auth/me
expect 401 "the session ends with the logout"
CGI_ENV=()

# ---- logins, passwords, names ---------------------------------------------------
before=$(dbsum)
printf '{"name":"bob","password":"wrong-password-1"}' >"$T/l1.json"
NOAUTH=1 cgi POST /api/auth/login application/json "$T/l1.json"
expect 401 "a wrong password"
wrong=$(jqv .error)
printf '{"name":"nobody","password":"wrong-password-1"}' >"$T/l2.json"
NOAUTH=1 cgi POST /api/auth/login application/json "$T/l2.json"
expect 401 "an unknown name"
check "answers exactly like a wrong password" test "$(jqv .error)" = "$wrong"
for _ in 1 2 3 4 5; do NOAUTH=1 cgi POST /api/auth/login application/json "$T/l1.json"; done
expect 429 "past the failure budget of a name"
check "with Retry-After" test -n "$(header Retry-After)"
jqt '.detail.quota == "login_failures"' "the detail names the limit"
printf '{"name":"bob","password":"%s"}' "$PW" >"$T/l3.json"
NOAUTH=1 cgi POST /api/auth/login application/json "$T/l3.json"
expect 429 "even the right password waits"
head -c 1025 /dev/zero | tr '\0' a >"$T/long"
printf '{"name":"alice","password":"%s"}' "$(cat "$T/long")" >"$T/l4.json"
NOAUTH=1 cgi POST /api/auth/login application/json "$T/l4.json"
expect 422 "a 1025-byte password"
head -c 3000000 /dev/zero | tr '\0' a >"$T/huge"
{ printf '{"name":"alice","password":"'; cat "$T/huge"; printf '"}'; } >"$T/l5.json"
NOAUTH=1 cgi POST /api/auth/login application/json "$T/l5.json"
expect 413 "a 3 MB password: the body limit answers first"
printf '{"name":"al\\u0000ice","password":"%s"}' "$PW" >"$T/l6.json"
NOAUTH=1 cgi POST /api/auth/login application/json "$T/l6.json"
check "a NUL in a name is refused ($STATUS)" test "$STATUS" = 400 -o "$STATUS" = 422
printf '{"name":"dave\\u0000x","password":"%s"}' "$PW" >"$T/u1.json"
as admin cgi POST /api/users application/json "$T/u1.json"
check "a NUL in a new user's name is refused ($STATUS)" test "$STATUS" = 400 -o "$STATUS" = 422
printf '{"name":"dave","password":"short"}' >"$T/u2.json"
as admin cgi POST /api/users application/json "$T/u2.json"
expect 422 "a weak password"
printf '{"name":"alice","password":"%s"}' "$PW" >"$T/u3.json"
as admin cgi POST /api/users application/json "$T/u3.json"
expect 409 "a name taken"
check "no refused login or user changed the users" test "$before" = "$(dbsum)"
check "no password, token or session id in the log" \
	sh -c "! grep -rqF -e '$PW' -e '$ALICE' -e '$SID' -e 'wrong-password-1' '$T'/stderr"

# disabled users and expired tokens
as admin json PUT /api/users/bob '{"disabled":true}'
expect 200 "the admin disables bob"
as bob cgi GET /api/pipelines
expect 401 "a disabled user's token"
as admin json PUT /api/users/bob '{"disabled":false,"quotas":{"jobs":1}}'
jqt '.quotas.jobs == 1' "a per-user quota"
as bob json POST /api/pipelines '{"name":"bob-p","blocks":[{"type":"ValidatorBlock","config":{}}]}'
BP=$(jqv .id)
multipart "$T/bform" "$BP" "$T/seeds.json" seeds.json
as bob cgi POST /api/generate "$MP_TYPE" "$T/bform"
expect 200 "bob's first job"
before=$(dbsum)
as bob cgi POST /api/generate "$MP_TYPE" "$T/bform"
expect 429 "past bob's jobs quota"
jqt '.detail.quota == "jobs"' "the detail names the quota"
check "and nothing was queued" test "$before" = "$(dbsum)"
sql "UPDATE tokens SET expires_ms = 1 WHERE name = 'b'"
as bob cgi GET /api/pipelines
expect 401 "an expired token"
done_testing
