/*
 * test_route.c - the route table of dgen-api (every row reachable, 404,
 * 405 with Allow, malformed ids) and the dispatcher on requests that are
 * answered before any database is needed.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dgen/api.h"
#include "dgen/arena.h"
#include "dgen/request.h"
#include "dgen/respond.h"
#include "dgen/route.h"
#include "tap.h"

static const char *detail_str(const struct dgen_err *e, const char *key)
{
	struct json_object *v;

	if (!e->detail || !json_object_object_get_ex(e->detail, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int route(const char *method, const char *path, struct route_match *m,
		 struct dgen_err *err)
{
	static struct arena a;

	arena_reset(&a);
	dgen_err_clear(err);
	if (route_match(method, path, &a, m, err) != 0)
		return respond_http_status(err->code);
	return 0;
}

static void test_routes(void)
{
	struct route_match m;
	struct dgen_err err = DGEN_ERR_INIT;
	int64_t id;

	/* every row of the table answers its own method and pattern */
	for (size_t i = 0; i < route_count; i++) {
		char path[256];
		const char *s = route_table[i].pattern;
		size_t o = 0;

		while (*s && o < sizeof path - 8) {
			if (strncmp(s, "{id}", 4) == 0) {
				memcpy(path + o, "42", 2);
				o += 2;
				s += 4;
			} else if (strncmp(s, "{name}", 6) == 0) {
				memcpy(path + o, "tmpl", 4);
				o += 4;
				s += 6;
			} else {
				path[o++] = *s++;
			}
		}
		path[o] = '\0';
		ok(route(route_table[i].method, path, &m, &err) == 0 &&
			   m.route == &route_table[i],
		   "%s %s routes to its own handler", route_table[i].method, path);
		for (size_t k = 0; k < i; k++)
			if (strcmp(route_table[k].pattern, route_table[i].pattern) == 0 &&
			    strcmp(route_table[k].method, route_table[i].method) == 0)
				ok(0, "duplicate route %s %s", route_table[i].method,
				   route_table[i].pattern);
	}
	is_int(route("GET", "/api/pipelines/17", &m, &err), 0, "GET /api/pipelines/17");
	ok(m.route && m.route->handler == api_pipelines_get && m.id == 17, "id captured");
	is_int(route("GET", "/api/pipelines/17/", &m, &err), 0, "one trailing slash ignored");
	is_int(route("GET", "/api/jobs/active", &m, &err), 0, "GET /api/jobs/active");
	ok(m.route && m.route->handler == api_jobs_active, "the literal beats {id}");
	is_int(route("POST", "/api/pipelines/from_template/qa_generation", &m, &err), 0,
	       "from_template");
	is_str(m.name, "qa_generation", "template id captured as a name");
	is_int(route("GET", "/api/nope", &m, &err), 404, "unknown path is 404");
	is_int(route("GET", "/api", &m, &err), 404, "/api alone is 404");
	is_int(route("GET", "/api/pipelines/1/2", &m, &err), 404, "extra segment is 404");
	is_int(route("GET", "/api//pipelines", &m, &err), 404, "empty segment is 404");
	is_int(route("PATCH", "/api/pipelines/3", &m, &err), 405, "wrong method is 405");
	is_str(m.allow, "GET, PUT, DELETE", "Allow lists the methods of the path");
	is_int(route("POST", "/api/records", &m, &err), 405, "POST /api/records is 405");
	is_str(m.allow, "GET, DELETE", "Allow: GET, DELETE");
	ok(err.detail && json_object_object_get_ex(err.detail, "allowed", NULL),
	   "detail lists the allowed methods");
	is_int(route("GET", "/api/pipelines/abc", &m, &err), 400, "non-numeric id is 400");
	is_str(detail_str(&err, "value"), "abc", "detail gives the value");
	is_int(route("GET", "/api/pipelines/0", &m, &err), 400, "id 0 is 400");
	is_int(route("GET", "/api/pipelines/-3", &m, &err), 400, "negative id is 400");
	is_int(route("GET", "/api/pipelines/99999999999999999999", &m, &err), 400,
	       "id beyond int64 is 400");
	is_int(route("GET", "/api/records/1e3", &m, &err), 400, "1e3 is not an id");
	ok(route_parse_id("9223372036854775807", &id) == 0 && id == INT64_MAX, "INT64_MAX parses");
	ok(route_parse_id("9223372036854775808", &id) != 0, "INT64_MAX + 1 does not");
	ok(route_parse_id("", &id) != 0, "empty id refused");
	dgen_err_clear(&err);
}

/* The dispatcher on requests that never reach the database. */
static void test_dispatch(void)
{
	struct dgen_config cfg;
	struct api_worker w;
	struct req_mem m;
	struct req_io io;

	memset(&cfg, 0, sizeof cfg);
	cfg.max_body = 1024;
	cfg.max_upload = 4096;
	cfg.json_depth = 64;
	cfg.database_path = (char *)"/nonexistent/dir/db.sqlite";
	api_worker_init(&w, &cfg);
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/api/nothing", NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		is_int(api_handle(&w, &io, false), 404, "unknown route answers 404");
		ok(strstr(dgen_buf_str(&m.out), "Status: 404 Not Found\r\n") != NULL, "status line");
		ok(strstr(dgen_buf_str(&m.out), "\"error\":\"No API route for GET /api/nothing\"") !=
			   NULL,
		   "error names the route");
		dgen_buf_free(&m.out);
	}
	{
		const char *p[] = { "REQUEST_METHOD", "DELETE", "REQUEST_URI", "/api/blocks", NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		is_int(api_handle(&w, &io, false), 405, "wrong method answers 405");
		ok(strstr(dgen_buf_str(&m.out), "Allow: GET\r\n") != NULL, "with an Allow header");
		dgen_buf_free(&m.out);
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/api/jobs/x1", NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		is_int(api_handle(&w, &io, false), 400, "non-numeric id answers 400");
		dgen_buf_free(&m.out);
	}
	{
		/* the login route: public, so the body limit answers before any
		 * credential is asked for (a 10 MB "password" is never read) */
		const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/auth/login",
				    "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "5000",
				    NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		is_int(api_handle(&w, &io, false), 413, "body over max_body answers 413");
		dgen_buf_free(&m.out);
	}
	{
		const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/pipelines",
				    "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "5000",
				    NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		is_int(api_handle(&w, &io, false), 401, "no credentials answers 401 first");
		ok(strstr(dgen_buf_str(&m.out), "WWW-Authenticate: Bearer\r\n") != NULL,
		   "with WWW-Authenticate: Bearer");
		dgen_buf_free(&m.out);
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/api/health", NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		is_int(api_handle(&w, &io, false), 503, "health with no database answers 503");
		ok(strstr(dgen_buf_str(&m.out), "Retry-After: 1\r\n") != NULL, "with Retry-After");
		dgen_buf_free(&m.out);
	}
	{
		const char *p[] = { "REQUEST_METHOD", "HEAD", "REQUEST_URI", "/api/nothing", NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		is_int(api_handle(&w, &io, false), 404, "HEAD is routed like GET");
		dgen_buf_free(&m.out);
	}
	{
		const char *p[] = { "REQUEST_METHOD", "HEAD", "REQUEST_URI", "/api/health", NULL };

		memset(&m, 0, sizeof m);
		m.params = p;
		request_mem_io(&m, &io);
		ok(api_handle(&w, &io, false) != 405, "HEAD /api/health is not a wrong method");
		dgen_buf_free(&m.out);
	}
	is_int(w.requests, 8, "eight requests counted");
	api_worker_free(&w);
}

int main(void)
{
	test_routes();
	test_dispatch();
	return done_testing();
}
