/*
 * test_request.c - the request layer of dgen-api: percent-decoding, query
 * parameters, path selection, bounded bodies, JSON bodies, the per-request
 * arena and responses.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/arena.h"
#include "dgen/request.h"
#include "dgen/respond.h"
#include "tap.h"

static void test_percent(void)
{
	char out[64];
	size_t n;

	ok(request_percent_decode("a%20b", 5, false, out, &n) == 0 && strcmp(out, "a b") == 0,
	   "%%20 decodes to a space");
	ok(request_percent_decode("%41%6a", 6, false, out, &n) == 0 && strcmp(out, "Aj") == 0,
	   "upper and lower case hex digits");
	ok(request_percent_decode("a+b", 3, true, out, &n) == 0 && strcmp(out, "a b") == 0,
	   "'+' is a space in a query");
	ok(request_percent_decode("a+b", 3, false, out, &n) == 0 && strcmp(out, "a+b") == 0,
	   "'+' stays '+' in a path");
	ok(request_percent_decode("%2B", 3, true, out, &n) == 0 && strcmp(out, "+") == 0,
	   "%%2B is a literal plus");
	ok(request_percent_decode("%4", 2, false, out, &n) != 0, "truncated escape refused");
	ok(request_percent_decode("%", 1, false, out, &n) != 0, "lone %% refused");
	ok(request_percent_decode("%zz", 3, false, out, &n) != 0, "non-hex escape refused");
	ok(request_percent_decode("x%00y", 5, false, out, &n) == 0 && n == 3 && out[1] == '\0',
	   "%%00 decodes to a NUL byte the caller must check");
	ok(request_percent_decode("", 0, false, out, &n) == 0 && n == 0 && out[0] == '\0',
	   "empty input");
}

/* Parses qs into a fresh request; returns the status code of the error or
 * 0, and leaves the request for inspection. */
static int query(struct req *r, const char *qs, struct dgen_err *err)
{
	request_reset(r);
	dgen_err_clear(err);
	if (request_parse_query(r, qs, strlen(qs), err) != 0)
		return respond_http_status(err->code);
	return 0;
}

static const char *detail_str(const struct dgen_err *e, const char *key)
{
	struct json_object *v;

	if (!e->detail || !json_object_object_get_ex(e->detail, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static void test_query(void)
{
	struct req r;
	struct dgen_err err = DGEN_ERR_INIT;
	long long v;
	char big[REQ_MAX_QUERY + 10];
	struct dgen_buf many = DGEN_BUF_INIT;

	request_init(&r);
	is_int(query(&r, "a=1&b=x%20y", &err), 0, "simple query");
	is_int(r.n_params, 2, "two parameters");
	is_str(request_param(&r, "b"), "x y", "value percent-decoded");
	is_int(query(&r, "flag&&x=1&", &err), 0, "empty pieces skipped");
	is_int(r.n_params, 2, "flag and x");
	is_str(request_param(&r, "flag"), "", "key without '=' has an empty value");
	ok(request_param(&r, "nope") == NULL, "absent parameter is NULL");
	is_int(query(&r, "a=1&a=2", &err), 0, "repeated parameter");
	is_str(request_param(&r, "a"), "2", "the last repeated value wins");
	is_int(query(&r, "k%C3%A9y=v%C3%A9", &err), 0, "UTF-8 in key and value");
	is_str(request_param(&r, "k\xc3\xa9y"), "v\xc3\xa9", "UTF-8 decoded");
	is_int(query(&r, "a=%ff", &err), 400, "invalid UTF-8 value refused");
	is_str(detail_str(&err, "parameter"), "a", "error names the parameter");
	is_int(query(&r, "a=x%00y", &err), 400, "NUL byte in a value refused");
	is_int(query(&r, "%00=1", &err), 400, "NUL byte in a name refused");
	is_int(query(&r, "a=%zz", &err), 400, "bad escape refused");
	is_int(query(&r, "a=%e2%82", &err), 400, "truncated UTF-8 sequence refused");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	is_int(query(&r, big, &err), 400, "query longer than the cap refused");
	for (int i = 0; i < REQ_MAX_PARAMS + 1; i++)
		dgen_buf_printf(&many, "p%d=1&", i);
	is_int(query(&r, dgen_buf_str(&many), &err), 400, "more than %d parameters refused",
	       REQ_MAX_PARAMS);
	dgen_buf_free(&many);

	/* integers */
	query(&r, "limit=50&offset=0&neg=-1&bad=12x&empty=&huge=99999999999999999999&plus=+5",
	      &err);
	ok(request_param_int(&r, "limit", 1, 1000, 100, &v, &err) == 0 && v == 50, "limit=50");
	ok(request_param_int(&r, "absent", 1, 1000, 100, &v, &err) == 0 && v == 100,
	   "absent parameter keeps its default");
	ok(request_param_int(&r, "offset", 0, LLONG_MAX, 0, &v, &err) == 0 && v == 0, "offset=0");
	ok(request_param_int(&r, "neg", 0, LLONG_MAX, 0, &v, &err) != 0 &&
		   err.code == DGEN_EBADREQ,
	   "negative offset refused");
	is_str(detail_str(&err, "parameter"), "neg", "the error names the parameter");
	ok(strstr(err.msg, "'neg'") != NULL, "the message names the parameter: %s", err.msg);
	dgen_err_clear(&err);
	ok(request_param_int(&r, "bad", 0, 10, 0, &v, &err) != 0, "trailing junk refused");
	dgen_err_clear(&err);
	ok(request_param_int(&r, "empty", 0, 10, 0, &v, &err) != 0, "empty value refused");
	dgen_err_clear(&err);
	ok(request_param_int(&r, "huge", 0, LLONG_MAX, 0, &v, &err) != 0, "overflow refused");
	dgen_err_clear(&err);
	ok(request_param_int(&r, "plus", 0, 10, 0, &v, &err) != 0, "'+5' (a space and 5) refused");
	dgen_err_clear(&err);
	ok(request_param_int(&r, "limit", 1, 10, 0, &v, &err) != 0, "50 is over a max of 10");
	ok(strstr(err.msg, "1 to 10") != NULL, "message gives the range: %s", err.msg);
	dgen_err_clear(&err);
	request_free(&r);
}

/* Runs request_parse over a list of parameters. */
static int parse(struct req *r, const char *const *params, struct dgen_err *err)
{
	static struct req_mem m;
	static struct req_io io;

	memset(&m, 0, sizeof m);
	m.params = params;
	request_mem_io(&m, &io);
	request_reset(r);
	dgen_err_clear(err);
	if (request_parse(r, &io, err) != 0)
		return respond_http_status(err->code);
	return 0;
}

static void test_parse(void)
{
	struct req r;
	struct dgen_err err = DGEN_ERR_INIT;

	request_init(&r);
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI",
				    "/api/pipelines/3?limit=5&x=%41", "QUERY_STRING", "limit=5&x=%41",
				    "CONTENT_LENGTH", "", NULL };

		is_int(parse(&r, p, &err), 0, "nginx style request");
		is_str(r.method, "GET", "method");
		is_str(r.path, "/api/pipelines/3", "path from REQUEST_URI without the query");
		is_str(request_param(&r, "x"), "A", "query from QUERY_STRING");
		is_int(r.content_length, -1, "empty CONTENT_LENGTH means none");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/api/a%20b?q=1", NULL };

		is_int(parse(&r, p, &err), 0, "REQUEST_URI only");
		is_str(r.path, "/api/a b", "path percent-decoded");
		is_str(request_param(&r, "q"), "1", "query taken from REQUEST_URI");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "POST", "SCRIPT_NAME", "/api",
				    "PATH_INFO", "/jobs/7", "CONTENT_LENGTH", "12", "CONTENT_TYPE",
				    "application/json", "HTTP_IDEMPOTENCY_KEY", "abc-1", NULL };

		is_int(parse(&r, p, &err), 0, "CGI with ScriptAlias /api");
		is_str(r.path, "/api/jobs/7", "SCRIPT_NAME + PATH_INFO");
		is_int(r.content_length, 12, "CONTENT_LENGTH");
		is_str(r.content_type, "application/json", "CONTENT_TYPE");
		is_str(r.idempotency_key, "abc-1", "Idempotency-Key header");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "SCRIPT_NAME", "/cgi-bin/dgen-api",
				    "PATH_INFO", "/api/health", "REQUEST_URI",
				    "/cgi-bin/dgen-api/api/health", NULL };

		is_int(parse(&r, p, &err), 0, "CGI script with the API in PATH_INFO");
		is_str(r.path, "/api/health", "PATH_INFO names the API");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "PATH_INFO", "/api/blocks", NULL };

		is_int(parse(&r, p, &err), 0, "PATH_INFO only");
		is_str(r.path, "/api/blocks", "path from PATH_INFO");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/api/x%00y", NULL };

		is_int(parse(&r, p, &err), 400, "NUL in the path refused");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/api/%C3%28", NULL };

		is_int(parse(&r, p, &err), 400, "invalid UTF-8 in the path refused");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/api/%G1", NULL };

		is_int(parse(&r, p, &err), 400, "bad escape in the path refused");
	}
	{
		const char *p[] = { "REQUEST_URI", "/api/health", NULL };

		is_int(parse(&r, p, &err), 400, "missing method refused");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "get", "REQUEST_URI", "/api/health", NULL };

		is_int(parse(&r, p, &err), 400, "lower-case method refused");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
				    "CONTENT_LENGTH", "12abc", NULL };

		is_int(parse(&r, p, &err), 400, "malformed CONTENT_LENGTH refused");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
				    "CONTENT_LENGTH", "-1", NULL };

		is_int(parse(&r, p, &err), 400, "negative CONTENT_LENGTH refused");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
				    "HTTP_IDEMPOTENCY_KEY", "\xff\xfe", NULL };

		is_int(parse(&r, p, &err), 400, "non-UTF-8 Idempotency-Key refused");
	}
	{
		const char *p[] = { "REQUEST_METHOD", "GET", "REQUEST_URI", "/", NULL };

		is_int(parse(&r, p, &err), 0, "a path outside the API still parses");
		is_str(r.path, "/", "and keeps its path (the router says 404)");
	}
	request_free(&r);
	dgen_err_clear(&err);
}

/* Reads a body of text through a transport that returns at most max_read
 * bytes per call; returns the status of the error or 0. */
static int body(struct req *r, struct req_mem *m, const char *cl, const char *text, bool cgi,
		size_t limit, struct dgen_err *err)
{
	static const char *p[8];
	static struct req_io io;

	p[0] = "REQUEST_METHOD";
	p[1] = "POST";
	p[2] = "REQUEST_URI";
	p[3] = "/api/x";
	p[4] = cl ? "CONTENT_LENGTH" : NULL;
	p[5] = cl;
	p[6] = NULL;
	memset(m, 0, sizeof *m);
	m->params = p;
	m->body = text;
	m->body_len = strlen(text);
	m->max_read = 3;
	request_mem_io(m, &io);
	request_reset(r);
	r->is_cgi = cgi;
	dgen_err_clear(err);
	if (request_parse(r, &io, err) != 0 || request_read_body(r, limit, err) != 0)
		return respond_http_status(err->code);
	return 0;
}

static void test_body(void)
{
	struct req r;
	struct req_mem m;
	struct dgen_err err = DGEN_ERR_INIT;

	request_init(&r);
	is_int(body(&r, &m, "5", "hello world", false, 10, &err), 0, "body of CONTENT_LENGTH");
	is_str(dgen_buf_str(&r.body), "hello", "exactly CONTENT_LENGTH bytes are read");
	is_int(body(&r, &m, "11", "hello world", false, 10, &err), 413,
	       "CONTENT_LENGTH over the limit is 413");
	is_int(m.pos, 0, "and nothing was read");
	is_int(body(&r, &m, NULL, "hello world", false, 10, &err), 413,
	       "FastCGI body without CONTENT_LENGTH over the limit is 413");
	ok(m.pos <= 11, "reading stopped right after the limit (%zu bytes)", m.pos);
	is_int(body(&r, &m, NULL, "0123456789", false, 10, &err), 0,
	       "FastCGI body of exactly the limit");
	is_int(r.body.len, 10, "all of it");
	is_int(body(&r, &m, NULL, "hello", true, 10, &err), 0, "CGI without CONTENT_LENGTH");
	is_int(r.body.len, 0, "reads no body");
	is_int(body(&r, &m, "20", "short", false, 100, &err), 400,
	       "body shorter than CONTENT_LENGTH is 400");
	is_int(body(&r, &m, "0", "ignored", false, 100, &err), 0, "CONTENT_LENGTH 0");
	is_int(r.body.len, 0, "empty body");
	request_free(&r);
	dgen_err_clear(&err);
}

static int wait_never(void *ctx, int ms)
{
	(void)ctx;
	(void)ms;
	return 0;
}

/* A CGI body the request refused is read to its end when the request is
 * reset (Apache's mod_cgid loses the response of a program that exits
 * with its body unread), unless no byte arrives in time. */
static void test_cgi_drain(void)
{
	static const char *p[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
				   "CONTENT_LENGTH", "20", NULL };
	struct req r;
	struct req_mem m;
	struct req_io io;
	struct dgen_err err = DGEN_ERR_INIT;

	memset(&m, 0, sizeof m);
	m.params = p;
	m.body = "01234567890123456789";
	m.body_len = 20;
	m.max_read = 3;
	request_mem_io(&m, &io);
	request_init(&r);
	r.is_cgi = true;
	ok(request_parse(&r, &io, &err) == 0 && request_read_body(&r, 10, &err) != 0,
	   "CGI body over the limit refused");
	is_int(m.pos, 0, "unread");
	request_reset(&r);
	is_int(m.pos, 20, "reset reads the refused body to its end");
	dgen_err_clear(&err);

	m.pos = 0;
	io.wait = wait_never;
	request_parse(&r, &io, &err);
	request_reset(&r);
	is_int(m.pos, 0, "nothing read when no byte arrives in time");

	m.pos = 0;
	io.wait = NULL;
	p[1] = "GET";
	p[3] = "/api/nothing";
	request_parse(&r, &io, &err);
	r.is_cgi = false;
	request_reset(&r);
	is_int(m.pos, 0, "FastCGI bodies are left to libfcgi");
	request_free(&r);
	dgen_err_clear(&err);
}

static int json(struct req *r, const char *ct, const char *text, bool allow_empty,
		struct json_object **out, struct dgen_err *err)
{
	static const char *p[10];
	static struct req_mem m;
	static struct req_io io;
	static char cl[32];
	struct dgen_json_limits lim = dgen_json_default_limits;

	lim.max_bytes = 4096;
	lim.max_depth = 64;
	snprintf(cl, sizeof cl, "%zu", strlen(text));
	p[0] = "REQUEST_METHOD";
	p[1] = "POST";
	p[2] = "REQUEST_URI";
	p[3] = "/api/x";
	p[4] = "CONTENT_LENGTH";
	p[5] = cl;
	p[6] = ct ? "CONTENT_TYPE" : NULL;
	p[7] = ct;
	p[8] = NULL;
	memset(&m, 0, sizeof m);
	m.params = p;
	m.body = text;
	m.body_len = strlen(text);
	request_mem_io(&m, &io);
	request_reset(r);
	dgen_err_clear(err);
	*out = NULL;
	if (request_parse(r, &io, err) != 0 ||
	    request_json_body(r, &lim, allow_empty, out, err) != 0)
		return respond_http_status(err->code);
	return 0;
}

static void test_json(void)
{
	struct req r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o;
	struct dgen_buf deep = DGEN_BUF_INIT;

	request_init(&r);
	is_int(json(&r, "application/json", "{\"a\":1}", false, &o, &err), 0, "JSON object");
	ok(o && json_object_is_type(o, json_type_object), "parsed");
	json_object_put(o);
	is_int(json(&r, "Application/JSON; charset=UTF-8", "[1]", false, &o, &err), 0,
	       "media type and charset compared case-insensitively");
	json_object_put(o);
	is_int(json(&r, "text/plain", "{}", false, &o, &err), 415, "text/plain is 415");
	is_int(json(&r, "application/json; charset=latin1", "{}", false, &o, &err), 415,
	       "a charset other than UTF-8 is 415");
	is_int(json(&r, NULL, "{}", false, &o, &err), 415, "a body without Content-Type is 415");
	is_int(json(&r, "application/json", "{\"a\":", false, &o, &err), 400,
	       "malformed JSON is 400");
	ok(err.msg[0] != '\0', "with a message: %s", err.msg);
	is_int(json(&r, "application/json", "{\"a\":\"\xff\"}", false, &o, &err), 400,
	       "invalid UTF-8 inside JSON is 400");
	is_int(json(&r, "application/json", "", false, &o, &err), 400, "empty body is 400");
	is_int(json(&r, NULL, "", true, &o, &err), 0, "empty body allowed where it means {}");
	ok(o && json_object_is_type(o, json_type_object) && json_object_object_length(o) == 0,
	   "an empty object");
	json_object_put(o);
	for (int i = 0; i < 1000; i++)
		dgen_buf_putc(&deep, '[');
	is_int(json(&r, "application/json", dgen_buf_str(&deep), false, &o, &err), 400,
	       "1000-deep unclosed nesting is 400");
	dgen_buf_reset(&deep);
	for (int i = 0; i < 100; i++)
		dgen_buf_putc(&deep, '[');
	for (int i = 0; i < 100; i++)
		dgen_buf_putc(&deep, ']');
	is_int(json(&r, "application/json", dgen_buf_str(&deep), false, &o, &err), 400,
	       "nesting deeper than 64 is 400");
	is_int(json(&r, "application/json", "{\"a\":\"x\\u0000y\"}", false, &o, &err), 400,
	       "an escaped NUL character in a string is 400");
	is_int(json(&r, "application/json", "{\"a\\u0000b\":1}", false, &o, &err), 400,
	       "an escaped NUL character in a key is 400");
	is_int(json(&r, "application/json", "{\"a\":\"\\\\u0000\"}", false, &o, &err), 0,
	       "an escaped backslash before u0000 is text");
	ok(o && strcmp(json_object_get_string(json_object_object_get(o, "a")), "\\u0000") == 0,
	   "and reads as backslash u0000");
	json_object_put(o);
	is_int(json(&r, "application/json", "[\"\\u0001\"]", false, &o, &err), 0,
	       "other control escapes are fine");
	json_object_put(o);
	dgen_buf_reset(&deep);
	for (int i = 0; i < 5000; i++)
		dgen_buf_putc(&deep, ' ');
	is_int(json(&r, "application/json", dgen_buf_str(&deep), false, &o, &err), 413,
	       "body over max_bytes is 413");
	dgen_buf_free(&deep);
	request_free(&r);
	dgen_err_clear(&err);
}

static void test_respond(void)
{
	struct req_mem m;
	struct req_io io;
	struct resp r;
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *o = json_object_new_object();

	memset(&m, 0, sizeof m);
	request_mem_io(&m, &io);
	respond_init(&r);
	respond_reset(&r, &io);
	json_object_object_add(o, "a", json_object_new_int(1));
	respond_header(&r, "X-Test", "yes");
	respond_header(&r, "X-Evil", "a\r\nSet-Cookie: x=1");
	is_int(respond_json(&r, 200, o), 200, "respond_json returns the status");
	ok(strncmp(dgen_buf_str(&m.out), "Status: 200 OK\r\nContent-Type: application/json\r\n",
		   48) == 0,
	   "status line and content type first");
	ok(strstr(dgen_buf_str(&m.out), "X-Test: yes\r\n") != NULL, "queued header sent");
	ok(strstr(dgen_buf_str(&m.out), "Set-Cookie") == NULL, "header with CR/LF dropped");
	ok(strstr(dgen_buf_str(&m.out), "\r\n\r\n{\"a\":1}\n") != NULL, "compact JSON body");
	is_int(respond_json(&r, 500, o), 500, "second response");
	ok(strstr(dgen_buf_str(&m.out), "Status: 500") == NULL, "is never written");
	json_object_put(o);

	dgen_buf_reset(&m.out);
	respond_reset(&r, &io);
	dgen_err_set(&e, DGEN_EBUSY, "Database is busy");
	is_int(respond_error(&r, &e), 503, "busy is 503");
	ok(strstr(dgen_buf_str(&m.out), "Retry-After: 1\r\n") != NULL, "with Retry-After");
	ok(strstr(dgen_buf_str(&m.out), "{\"error\":\"Database is busy\",\"detail\":{}}") != NULL,
	   "error body shape");

	dgen_buf_reset(&m.out);
	respond_reset(&r, &io);
	dgen_err_set(&e, DGEN_EINVALID, "Seed 3: bad");
	dgen_err_detail_int(&e, "seed_index", 3);
	is_int(respond_error(&r, &e), 422, "invalid is 422");
	ok(strstr(dgen_buf_str(&m.out), "\"detail\":{\"seed_index\":3}") != NULL,
	   "detail carried");
	ok(strstr(dgen_buf_str(&m.out), "Retry-After") == NULL, "no Retry-After on 422");
	dgen_err_clear(&e);
	respond_free(&r);
	dgen_buf_free(&m.out);
}

/* Each error class has one HTTP status (SPEC.md conventions). */
static void test_status_of_errors(void)
{
	is_int(respond_http_status(DGEN_EBADREQ), 400, "bad request is 400");
	is_int(respond_http_status(DGEN_ENOTFOUND), 404, "not found is 404");
	is_int(respond_http_status(DGEN_EMETHOD), 405, "wrong method is 405");
	is_int(respond_http_status(DGEN_ECONFLICT), 409, "conflict is 409");
	is_int(respond_http_status(DGEN_ETOOBIG), 413, "too big is 413");
	is_int(respond_http_status(DGEN_EMEDIA), 415, "wrong media type is 415");
	is_int(respond_http_status(DGEN_EINVALID), 422, "invalid is 422");
	is_int(respond_http_status(DGEN_EBUSY), 503, "busy database is 503");
	is_int(respond_http_status(DGEN_EINTERNAL), 500, "a bug is 500");
}

int main(void)
{
	test_status_of_errors();
	test_percent();
	test_query();
	test_parse();
	test_body();
	test_cgi_drain();
	test_json();
	test_respond();
	return done_testing();
}
