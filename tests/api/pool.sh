# tests/api/pool.sh - the serving stack for a test or a benchmark (sourced
# after lib.sh): the mock LLM, the dgen-api pool and nginx configured from
# the site sample conf/nginx-dgen.conf, all as the current user under $T,
# stopped by the cleanup hook. Needs nginx and curl; the caller checks.
#
#   pool_mock [mock-llm options]   sets MOCK_PORT, MOCK_BASE
#   pool_api WORKERS               (re)starts the pool; env passes through
#   pool_nginx                     sets BASE; returns 1 when nginx fails
POOL_API_PID=
POOL_NGINX_PID=
POOL_MOCK_PID=
pool_stop() {
	local p
	for p in "$POOL_MOCK_PID" "$POOL_NGINX_PID" "$POOL_API_PID"; do
		[ -n "$p" ] || continue
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	POOL_MOCK_PID= POOL_NGINX_PID= POOL_API_PID=
}
CLEANUP_HOOKS="$CLEANUP_HOOKS pool_stop"

pool_mock() {
	"$top_builddir/tests/mock-llm/mock-llm" --port 0 --port-file "$T/mock.port" "$@" \
		>/dev/null 2>&1 &
	POOL_MOCK_PID=$!
	for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
	MOCK_PORT=$(cat "$T/mock.port")
	MOCK_BASE="http://127.0.0.1:$MOCK_PORT"
}

# Waits for the socket and every worker (a socket file left by an earlier
# server must not count).
pool_api() {
	local n=$1
	if [ -n "$POOL_API_PID" ]; then
		kill "$POOL_API_PID" 2>/dev/null
		wait "$POOL_API_PID" 2>/dev/null
	fi
	rm -f "$T/api.sock"
	"$top_builddir/dgen-api" --socket "$T/api.sock" --workers "$n" 2>>"$T/api.log" &
	POOL_API_PID=$!
	for _ in $(seq 200); do
		[ -S "$T/api.sock" ] && [ "$(pgrep -P "$POOL_API_PID" | wc -l)" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

pool_nginx() {
	local nginx user_line= port
	nginx=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
	mkdir -p "$T/www" "$T/nginx/tmp"
	printf '<!doctype html><title>dgen</title>\n' >"$T/www/index.html"
	if [ -f /etc/nginx/fastcgi_params ]; then
		cp /etc/nginx/fastcgi_params "$T/nginx/fastcgi_params"
	else
		for p in QUERY_STRING:query_string REQUEST_METHOD:request_method \
			CONTENT_TYPE:content_type CONTENT_LENGTH:content_length \
			SCRIPT_NAME:fastcgi_script_name REQUEST_URI:request_uri \
			DOCUMENT_URI:document_uri SERVER_PROTOCOL:server_protocol; do
			printf 'fastcgi_param %s $%s;\n' "${p%%:*}" "${p#*:}"
		done >"$T/nginx/fastcgi_params"
		printf 'fastcgi_param GATEWAY_INTERFACE CGI/1.1;\n' >>"$T/nginx/fastcgi_params"
	fi
	[ "$(id -u)" = 0 ] && user_line="user root $(id -gn);"
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + (RANDOM * 7 + attempt * 131) % 40000))
		sed -e "s|listen 80;|listen 127.0.0.1:$port;|" -e '/listen \[::\]:80/d' \
			-e "s|listen 80 default_server;|listen 127.0.0.1:$port default_server;|" \
			-e "s|server_name dgen.example.org;|server_name dgen.example.org 127.0.0.1;|" \
			-e "s|root /usr/share/dgen/www;|root $T/www;|" \
			-e "s|unix:/run/dgen/api.sock|unix:$T/api.sock|" \
			"$top_srcdir/conf/nginx-dgen.conf" >"$T/nginx/site.conf"
		cat >"$T/nginx/nginx.conf" <<NGINX
$user_line
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 1024; }
http {
	types { text/html html; }
	default_type application/octet-stream;
	access_log off;
	client_body_temp_path $T/nginx/tmp/body;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	proxy_temp_path $T/nginx/tmp/proxy;
	scgi_temp_path $T/nginx/tmp/scgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	include $T/nginx/site.conf;
}
NGINX
		"$nginx" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>>"$T/nginx/start.log" &
		POOL_NGINX_PID=$!
		for _ in $(seq 50); do
			if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
				BASE="http://127.0.0.1:$port"
				return 0
			fi
			kill -0 "$POOL_NGINX_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$POOL_NGINX_PID" 2>/dev/null
		wait "$POOL_NGINX_PID" 2>/dev/null
		POOL_NGINX_PID=
	done
	return 1
}
