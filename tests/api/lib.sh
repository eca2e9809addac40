# tests/api/lib.sh - shared by the API end-to-end tests (sourced).
#
# TAP output (ok/not ok, a plan at the end), a temporary directory removed
# on exit, and assertions over the last response: $STATUS, the headers in
# $T/headers (CRs removed) and the body in $T/body.

: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export top_builddir top_srcdir

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/port.sh"
. "$top_srcdir/tests/lib/store.sh"

# NGINX: the nginx binary (on PATH, else Debian's /usr/sbin/nginx); the
# suite is skipped without one.
find_nginx() {
	NGINX=$(command -v nginx 2>/dev/null || true)
	[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
	if [ -z "$NGINX" ]; then
		echo "1..0 # SKIP nginx is not installed"
		exit 0
	fi
}
T=$(mktemp -d "${TMPDIR:-/tmp}/dgen-api-test.XXXXXX")
CLEANUP_HOOKS=""
cleanup() {
	for h in $CLEANUP_HOOKS; do "$h" || :; done
	store_stop
	rm -rf "$T"
}
trap cleanup EXIT

# A failure shows the last response; a check's own output is not shown.
not_ok() {
	tap_not_ok "$@"
	echo "#   status: $STATUS"
	echo "#   body: $(head -c 600 "$T/body" 2>/dev/null | tr '\n' ' ')"
}
TAP_CHECK_LOG=/dev/null

# expect STATUS DESCRIPTION: the last response had this status.
expect() {
	if [ "$STATUS" = "$1" ]; then ok "$2 ($1)"; else not_ok "$2 (want $1)"; fi
}

# jqt FILTER DESCRIPTION: jq -e FILTER holds on the last body.
jqt() {
	if jq -e "$1" "$T/body" >/dev/null 2>&1; then ok "$2"; else
		not_ok "$2"
		echo "#   filter: $1"
	fi
}

# jqs FILTER DESCRIPTION: the same over a body of JSON lines (slurped).
jqs() {
	if jq -e -s "$1" "$T/body" >/dev/null 2>&1; then ok "$2"; else
		not_ok "$2"
		echo "#   filter: $1"
	fi
}

# jqv FILTER: prints a value of the last body.
jqv() {
	jq -r "$1" "$T/body"
}

# header NAME: the value of a response header of the last response.
header() {
	grep -i "^$1:" "$T/headers" | head -n 1 | sed 's/^[^:]*: *//'
}

# error_shape [FILE]: the body (FILE, or the last answer's $T/body) has
# the SPEC's error shape.
error_shape() {
	jq -e 'type == "object" and (.error | type == "string" and length > 0)
		and (.detail | type == "object") and (keys | sort == ["detail","error"])' \
		"${1:-$T/body}" >/dev/null 2>&1
}

# multipart FILE PIPELINE_ID UPLOAD_PATH UPLOAD_NAME: writes a form body
# with the two fields /api/generate takes; the boundary is "dgenBoundary".
multipart() {
	{
		printf -- '--dgenBoundary\r\n'
		printf 'Content-Disposition: form-data; name="pipeline_id"\r\n\r\n%s\r\n' "$2"
		printf -- '--dgenBoundary\r\n'
		printf 'Content-Disposition: form-data; name="file"; filename="%s"\r\n' "$4"
		printf 'Content-Type: application/octet-stream\r\n\r\n'
		cat "$3"
		printf '\r\n--dgenBoundary--\r\n'
	} >"$1"
}
MP_TYPE="multipart/form-data; boundary=dgenBoundary"

# admin_token: makes the user "admin" (an admin) in $DATABASE_PATH and an
# API token for it in $TOKEN, which every request helper sends
# (Authorization: Bearer); NOAUTH=1 sends none. The CLI opens the store
# directly, as an administrator would (SPEC.md §8).
TOKEN=
admin_token() {
	"$top_builddir/dgen" users add admin --admin >/dev/null 2>&1 || :
	TOKEN=$("$top_builddir/dgen" tokens create admin --name tests) || {
		echo "Bail out! cannot make an API token"
		exit 1
	}
}
# auth_args: sets AUTH to the curl arguments of the token (none with
# NOAUTH=1).
auth_args() {
	AUTH=()
	if [ -n "$TOKEN" ] && [ "${NOAUTH-}" != 1 ]; then
		AUTH=(-H "Authorization: Bearer $TOKEN")
	fi
}

# cgi METHOD URI [CONTENT_TYPE [BODY_FILE]]: one CGI run; extra request
# variables (HTTP_IDEMPOTENCY_KEY=...) come from the CGI_ENV array. With
# RAW=1 the URI goes in REQUEST_URI undecoded (as nginx passes it) instead
# of PATH_INFO and QUERY_STRING. A command in the CGI_WRAP array runs
# the program (/usr/bin/time ...).
CGI_ENV=()
CGI_WRAP=()
cgi() {
	local method=$1 uri=$2 ct=${3-} body=${4-/dev/null} path query=""
	local len
	path=${uri%%\?*}
	case $uri in *\?*) query=${uri#*\?} ;; esac
	len=$(wc -c <"$body")
	local loc=(PATH_INFO="$path" QUERY_STRING="$query") auth=()
	if [ "${RAW-}" = 1 ]; then loc=(REQUEST_URI="$uri"); fi
	if [ -n "$TOKEN" ] && [ "${NOAUTH-}" != 1 ]; then
		auth=(HTTP_AUTHORIZATION="Bearer $TOKEN")
	fi
	env GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD="$method" \
		SCRIPT_NAME= "${loc[@]}" CONTENT_TYPE="$ct" CONTENT_LENGTH="$len" "${auth[@]}" \
		"${CGI_ENV[@]}" "${CGI_WRAP[@]}" "$API" <"$body" >"$T/out" 2>"$T/stderr"
	local rc=$?
	# headers end at the first empty line; the rest is the body
	awk 'h==0 { sub(/\r$/, ""); if ($0 == "") { h=1; next } print > "/dev/stderr"; next }
	     { print }' "$T/out" >"$T/body" 2>"$T/headers"
	STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/headers")
	CGI_RC=$rc
	[ -n "$STATUS" ] || STATUS="exit$rc"
}

# json METHOD URI JSON_TEXT: a request with a JSON body.
json() {
	printf '%s' "$3" >"$T/req"
	cgi "$1" "$2" application/json "$T/req"
}
