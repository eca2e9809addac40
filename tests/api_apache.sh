#!/bin/bash
# api_apache.sh - dgen-api as plain CGI under a real Apache httpd from
# Debian (event MPM + mod_cgid, its default), configured from the shipped
# contrib/apache files: the site (dgen.conf.in) on one port, the shared
# hosting .htaccess (htaccess.in) on another. Covers the normal flow
# (health, pipelines, execute against the mock LLM, upload with an
# Idempotency-Key, records made by dgen-runner --once, export), refused
# bodies answered whole (over 1 MiB up to the upload limit, wrong content
# type, unknown route, wrong method: curl exits 0, 30 times each), Apache's
# own errors as JSON, the UI's rewrite (a missing asset is a 404), and the
# Authorization header reaching a CGI program of the site (CGIPassAuth).
# As root, Apache's children run as www-data, which owns the data
# directory. Prints TAP; skips when apache2, curl or jq is missing.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/api/lib.sh"

HTTPD=
for c in apache2 httpd /usr/sbin/apache2 /usr/sbin/httpd; do
	if command -v "$c" >/dev/null 2>&1; then
		HTTPD=$(command -v "$c")
		break
	fi
done
MODS=
for d in /usr/lib/apache2/modules /usr/lib64/httpd/modules /usr/lib/httpd/modules; do
	[ -f "$d/mod_cgid.so" ] && MODS=$d && break
done
if [ -z "$HTTPD" ] || [ -z "$MODS" ]; then
	echo "1..0 # SKIP apache2 (with mod_cgid) is not installed"
	exit 0
fi
skip_without curl jq
store_sqlite_only "a shared host's deployment: the database file owned by the web server's user, set by .htaccess"
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy no_proxy NO_PROXY

# Apache's children: www-data when we are root (as on a real server), else
# ourselves. They must reach everything below $T.
RUN_USER=$(id -un)
RUN_GROUP=$(id -gn)
if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then
	RUN_USER=www-data
	RUN_GROUP=$(id -gn www-data)
fi
as_web_user() {
	if [ "$RUN_USER" != "$(id -un)" ]; then
		setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups -- "$@"
	else
		"$@"
	fi
}
chmod 0755 "$T"

# ---- an installation under $T, laid out as make install does -------------
# make install gives programs 0755 and data 0644 whatever the builder's
# umask (contrib/dgenctl runs the suites under 027): do the same here, so
# the web server user can read and run what it serves.
umask 022
SH=$T/share          # $pkgdatadir
SB=$T/sbin           # $sbindir
ETC=$T/etc           # $sysconfdir
DATA=$T/data         # /var/lib/dgen
mkdir -p "$SH/ui/assets" "$SH/apache" "$SB" "$ETC/dgen" "$DATA" "$T/apache" "$T/home/www"
install -m 0755 "$top_builddir/dgen-api" "$SB/dgen-api"
install -m 0755 "$top_builddir/dgen-runner" "$SB/dgen-runner"
install -m 0755 "$top_builddir/dgen" "$SB/dgen"
cp -R "$top_srcdir/templates" "$SH/templates"
cp -R "$top_srcdir/contrib/apache/errors" "$SH/apache/errors"
chmod -R a+rX "$SH"
printf '<!doctype html><title>dgen</title><div id="root">dgen ui</div>\n' >"$SH/ui/index.html"
printf 'console.log("dgen");\n' >"$SH/ui/assets/app.js"
# A trivial CGI program beside dgen-api: prints what Apache handed it.
cat >"$SB/env.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nauthorization=%s\n' "${HTTP_AUTHORIZATION:-}"
EOF
chmod 0755 "$SB/env.cgi"

MOCK="$top_builddir/tests/mock-llm/mock-llm"
MOCK_PID=
HTTPD_CONF=$T/apache/httpd.conf
stop_httpd() {
	if [ -f "$T/apache/httpd.pid" ]; then
		local pid
		pid=$(cat "$T/apache/httpd.pid")
		"$HTTPD" -f "$HTTPD_CONF" -k stop 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
}
stop_all() {
	stop_httpd
	if [ -n "$MOCK_PID" ]; then
		kill "$MOCK_PID" 2>/dev/null
		wait "$MOCK_PID" 2>/dev/null
	fi
}
CLEANUP_HOOKS="stop_all"

: >"$ETC/dgen/dgen.conf"
if [ -x "$MOCK" ]; then
	"$MOCK" --port 0 --port-file "$T/mock.port" >/dev/null 2>&1 &
	MOCK_PID=$!
	for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
	cat >"$ETC/dgen/dgen.conf" <<EOF
LLM_PROVIDER=openai
LLM_ENDPOINT=http://127.0.0.1:$(cat "$T/mock.port")/v1/chat/completions
LLM_MODEL=mock
LLM_TIMEOUT=10
EOF
fi
chmod 0640 "$ETC/dgen/dgen.conf"
chown -R "$RUN_USER:$RUN_GROUP" "$DATA" "$T/home/www"
chgrp "$RUN_GROUP" "$ETC/dgen/dgen.conf"

# The shared-hosting document root: the UI, api.cgi, the error documents
# and the shipped .htaccess.
SHARED=$T/home/www
cp -R "$SH/ui/." "$SHARED/"
install -m 0755 "$top_builddir/dgen-api" "$SHARED/api.cgi"
cp -R "$SH/apache/errors" "$SHARED/dgen-errors"
mkdir -p "$T/home/data"
chown -R "$RUN_USER:$RUN_GROUP" "$SHARED" "$T/home/data"
# site_token DB: the admin and an API token in DB, made with the CLI as the
# web server user (who owns the database), as an administrator would.
site_token() {
	as_web_user env DATABASE_PATH="$1" DGEN_CONFIG=/dev/null "$SB/dgen" users add admin \
		--admin >/dev/null 2>&1
	as_web_user env DATABASE_PATH="$1" DGEN_CONFIG=/dev/null "$SB/dgen" tokens create admin \
		--name tests
}
TOKEN=$(site_token "$DATA/dgen.db")
subst() { # the shipped file, with this directory's paths
	sed -e "s|@pkgdatadir@|$SH|g" -e "s|@sbindir@|$SB|g" -e "s|@sysconfdir@|$ETC|g" \
		-e "s|@localstatedir@/lib/dgen|$T/home/data|g" -e "s|/var/lib/dgen|$DATA|g" "$1"
}
subst "$top_srcdir/contrib/apache/htaccess.in" >"$SHARED/.htaccess"

started=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	PORT=$((20000 + (RANDOM * 7 + attempt * 131) % 40000))
	PORT2=$((PORT + 1))
	# the site, plus a trivial CGI program in dgen-api's directory
	subst "$top_srcdir/contrib/apache/dgen.conf.in" |
		sed -e "s|<VirtualHost \*:80>|<VirtualHost 127.0.0.1:$PORT>|" \
			-e "s|^</VirtualHost>|ScriptAlias /env.cgi $SB/env.cgi\\n<Files env.cgi>\\nRequire all granted\\n</Files>\\n</VirtualHost>|" \
		>"$T/apache/site.conf"
	cat >"$HTTPD_CONF" <<EOF
ServerRoot $T/apache
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
Listen 127.0.0.1:$PORT2
PidFile $T/apache/httpd.pid
ErrorLog $T/apache/error.log
LogLevel warn
User $RUN_USER
Group $RUN_GROUP
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule env_module $MODS/mod_env.so
LoadModule headers_module $MODS/mod_headers.so
LoadModule rewrite_module $MODS/mod_rewrite.so
LoadModule dir_module $MODS/mod_dir.so
ScriptSock $T/apache/cgid.sock
TypesConfig /etc/mime.types
DirectoryIndex index.html
StartServers 1
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
<Directory />
	AllowOverride None
	Require all denied
</Directory>
Include $T/apache/site.conf
# shared hosting: a document root configured by its .htaccess alone
<VirtualHost 127.0.0.1:$PORT2>
	DocumentRoot $SHARED
	<Directory $SHARED>
		AllowOverride Options FileInfo
		Require all granted
	</Directory>
</VirtualHost>
EOF
	[ -f /etc/mime.types ] || sed -i '/^TypesConfig/d' "$HTTPD_CONF"
	rm -f "$T/apache/httpd.pid"
	"$HTTPD" -f "$HTTPD_CONF" -k start >>"$T/apache/start.log" 2>&1
	for _ in $(seq 50); do
		if curl -s -o /dev/null "http://127.0.0.1:$PORT/" &&
			curl -s -o /dev/null "http://127.0.0.1:$PORT2/"; then
			started=1
			break
		fi
		sleep 0.1
	done
	[ -n "$started" ] && break
	stop_httpd
done
if [ -z "$started" ]; then
	echo "Bail out! apache2 did not start"
	cat "$T/apache/start.log" "$T/apache/error.log" 2>/dev/null | sed 's/^/# /'
	exit 1
fi
SITE="http://127.0.0.1:$PORT"
HOSTED="http://127.0.0.1:$PORT2"
BASE=$SITE
check "apache2 runs the event MPM" grep -q 'mpm_event' "$HTTPD_CONF"

# req METHOD PATH [curl options...]: one request; $STATUS, $CURL_RC,
# $T/headers, $T/body.
req() {
	local method=$1 path=$2
	shift 2
	auth_args
	STATUS=$(curl -sS -X "$method" -o "$T/body" -D "$T/headers.raw" -w '%{http_code}' \
		"${AUTH[@]}" "$@" "$BASE$path" 2>"$T/curl.err")
	CURL_RC=$?
	tr -d '\r' <"$T/headers.raw" >"$T/headers"
}
jreq() {
	req "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"
}
json_type() {
	grep -qi '^Content-Type: application/json' "$T/headers"
}

# ---- the UI ---------------------------------------------------------------------
req GET /
expect 200 "GET / serves the UI"
check "index.html" grep -q 'dgen ui' "$T/body"
req GET /pipelines/12/builder
expect 200 "a client-side route"
check "falls back to index.html" grep -q 'dgen ui' "$T/body"
req GET /assets/app.js
expect 200 "a static asset"
req GET /assets/missing.js
expect 404 "a missing asset is a 404, not the app"
check "not index.html" sh -c "! grep -q 'dgen ui' '$T/body'"

# ---- the normal flow -------------------------------------------------------------
req GET /api/health
expect 200 "GET /api/health"
jqt '.status == "healthy" and .database == "ok"' "health body"
check "the database was made by the web server user" \
	test "$(stat -c %U "$DATA/dgen.db")" = "$RUN_USER"
req GET /api/templates
jqt 'length >= 3' "templates listed (DGEN_TEMPLATES_DIR from the site)"
jreq POST /api/pipelines '{"name":"via apache","blocks":[{"type":"TextGenerator","config":{"user_prompt":"Say hi to {{ who }}"}}]}'
expect 200 "POST /api/pipelines"
P=$(jqv .id)
if [ -n "$MOCK_PID" ]; then
	jreq POST /api/pipelines/$P/execute '{"who":"apache"}'
	expect 200 "execute calls the LLM (libcurl loaded on demand)"
	jqt '.result.assistant == "Mock reply to: Say hi to apache"' "with the LLM's reply"
else
	ok "# SKIP no mock LLM built"
	ok "# SKIP no mock LLM built"
fi
printf '[{"metadata":{"who":"a"}},{"repetitions":2,"metadata":{"who":"b"}}]' >"$T/seeds.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/seeds.json;type=application/json" \
	-H 'Idempotency-Key: apache-1'
expect 200 "POST /api/generate"
J=$(jqv .job_id)
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/seeds.json" -H 'Idempotency-Key: apache-1'
check "same Idempotency-Key, same job" test "$(jqv .job_id)" = "$J"
if [ -n "$MOCK_PID" ]; then
	as_web_user env DATABASE_PATH="$DATA/dgen.db" DGEN_CONFIG="$ETC/dgen/dgen.conf" \
		"$SB/dgen-runner" --once >"$T/runner.log" 2>&1
	check "dgen-runner --once as the web server user" test $? -eq 0
else
	"$top_builddir/tests/api/fake_runner" "$DATA/dgen.db" claim >/dev/null
	for u in 0 1 2; do "$top_builddir/tests/api/fake_runner" "$DATA/dgen.db" record "$J" $u "out $u"; done
	"$top_builddir/tests/api/fake_runner" "$DATA/dgen.db" end "$J" completed
	ok "records by the fake runner"
fi
req GET /api/jobs/$J
jqt '.status == "completed"' "the job completed"
req GET "/api/records?job_id=$J"
expect 200 "GET /api/records"
jqt 'length == 3' "three records"
req GET "/api/export?job_id=$J"
expect 200 "GET /api/export"
check "three JSON lines" test "$(jq -c .id "$T/body" | wc -l)" -eq 3

# ---- refused bodies are answered whole ------------------------------------------
# repeat N DESCRIPTION STATUS curl-args...: the request N times; each must
# end with curl exit 0, the status and a JSON error of the SPEC shape.
repeat() {
	local n=$1 d=$2 want=$3 bad=0 why=
	shift 3
	for _ in $(seq "$n"); do
		req "$@"
		if [ "$CURL_RC" != 0 ] || [ "$STATUS" != "$want" ] || ! error_shape; then
			bad=$((bad + 1))
			why="curl $CURL_RC, status $STATUS: $(head -c 200 "$T/curl.err")"
		fi
	done
	if [ "$bad" = 0 ]; then ok "$d: $n of $n whole ($want)"; else
		not_ok "$d: $bad of $n broken"
		echo "#   last: $why"
	fi
}
big_json() { # bytes file
	{ printf '{"name":"'; head -c "$1" /dev/zero | tr '\0' 'a'; printf '","blocks":[]}'; } >"$2"
}
big_json 1600000 "$T/b1.5m"
big_json 2100000 "$T/b2m"
big_json 9500000 "$T/b9m"
repeat 30 "a 1.5 MiB JSON body" 413 POST /api/pipelines -H 'Content-Type: application/json' \
	--data-binary "@$T/b1.5m"
jqt '.detail.limit == 1048576' "the API's own answer (its limit)"
repeat 30 "a 2 MiB JSON body" 413 POST /api/pipelines -H 'Content-Type: application/json' \
	--data-binary "@$T/b2m"
repeat 10 "a 9.5 MiB JSON body" 413 POST /api/pipelines -H 'Content-Type: application/json' \
	--data-binary "@$T/b9m"
repeat 30 "a wrong content type" 415 POST /api/pipelines -H 'Content-Type: text/plain' \
	--data-binary "@$T/b2m"
repeat 30 "an unknown route with a body" 404 POST /api/nothing -H 'Content-Type: application/json' \
	--data-binary "@$T/b1.5m"
repeat 30 "a wrong method with a body" 405 PATCH /api/pipelines/$P \
	-H 'Content-Type: application/json' --data-binary "@$T/b1.5m"
check "Allow header through Apache" test "$(header Allow)" = "GET, PUT, DELETE"

# ---- Apache's own errors are JSON ----------------------------------------------
head -c 11000000 /dev/zero | tr '\0' ' ' >"$T/huge.json"
req POST /api/generate -F "pipeline_id=$P" -F "file=@$T/huge.json"
expect 413 "an 11 MB upload is refused by Apache"
check "as JSON in the API's error shape" error_shape
check "with a JSON content type" json_type
jqt '.detail.max_upload == 10485760' "Apache's document, naming the limits"
req GET /nothing/here.txt -H 'Content-Length: x'
expect 400 "a request Apache cannot read"
check "as JSON" error_shape

# ---- the Authorization header reaches CGI programs (CGIPassAuth On) --------------
NOAUTH=1 req GET /env.cgi -H 'Authorization: Bearer dgen-token-1'
expect 200 "a CGI program of the site"
check "sees HTTP_AUTHORIZATION" grep -qx 'authorization=Bearer dgen-token-1' "$T/body"
NOAUTH=1 req GET /api/health -H 'Authorization: Bearer dgen-token-1'
expect 200 "GET /api/health is public, whatever the Authorization header"
NOAUTH=1 req GET /api/pipelines -H 'Authorization: Bearer dgen-token-1'
expect 401 "through CGIPassAuth, dgen-api sees a bad token"
check "with WWW-Authenticate: Bearer" grep -q '^WWW-Authenticate: Bearer' "$T/headers"
req GET /api/pipelines
expect 200 "and accepts the site's token"

# ---- shared hosting: the .htaccess alone -------------------------------------------
BASE=$HOSTED
req GET /api/health
expect 200 ".htaccess: GET /api/health"
check "its database where the .htaccess says" test -f "$T/home/data/dgen.db"
TOKEN=$(site_token "$T/home/data/dgen.db")
req GET /api/templates
jqt 'length >= 3' ".htaccess: templates listed"
jreq POST /api/pipelines '{"name":"hosted","blocks":[{"type":"ValidatorBlock","config":{}}]}'
expect 200 ".htaccess: POST /api/pipelines"
repeat 30 ".htaccess: a 2 MiB JSON body" 413 POST /api/pipelines \
	-H 'Content-Type: application/json' --data-binary "@$T/b2m"
req GET /pipelines/3
check ".htaccess: a client-side route gets the UI" grep -q 'dgen ui' "$T/body"
req GET /assets/missing.js
expect 404 ".htaccess: a missing asset is a 404"
check "as JSON" error_shape

# ---- a database file the web server user may write, in a directory it may not --------
mkdir -p "$T/rodata"
cp "$T/home/data/dgen.db" "$T/rodata/dgen.db"
chown "$RUN_USER:$RUN_GROUP" "$T/rodata/dgen.db"
chmod 0555 "$T/rodata"
sed -i "s|^SetEnv DATABASE_PATH .*|SetEnv DATABASE_PATH $T/rodata/dgen.db|" "$SHARED/.htaccess"
req GET /api/health
expect 503 "a database directory the web server cannot write: health"
jqt '.status == "degraded" and (.hint | test("directory of the database must exist and be writable"))' \
	"health is degraded and says why"
req GET /api/pipelines
expect 503 "a database directory the web server cannot write"
check "as JSON" error_shape
jqt '.detail.hint | test("directory of the database must exist and be writable")' \
	"the answer says why (not only Apache's log)"
chmod 0755 "$T/rodata"

check "no sanitizer report in Apache's error log" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$T/apache/error.log'"
[ "$tap_failed" -gt 0 ] && tail -n 20 "$T/apache/error.log" | sed 's/^/# /'
done_testing
