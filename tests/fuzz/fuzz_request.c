/*
 * fuzz_request.c - the request parser of dgen-api on arbitrary bytes.
 *
 * Input layout: line 1 = REQUEST_URI, line 2 = QUERY_STRING, line 3 =
 * CONTENT_TYPE, line 4 = CONTENT_LENGTH, the rest = body. Every parameter
 * may hold any byte but NUL (a CGI environment cannot carry NUL). Checks:
 * no crash, no leak, and what comes out decoded is UTF-8 without NUL.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/request.h"
#include "dgen/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *take_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl ? nl : end;
	char *s = dgen_xstrndup((const char *)*p, (size_t)(stop - *p));

	*p = nl ? nl + 1 : end;
	return s; /* strndup stops at an embedded NUL, as getenv would */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *uri = take_line(&p, end), *qs = take_line(&p, end), *ct = take_line(&p, end);
	char *cl = take_line(&p, end);
	const char *params[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", uri, "QUERY_STRING", qs,
				 "CONTENT_TYPE", ct, "CONTENT_LENGTH", cl, "HTTP_IDEMPOTENCY_KEY",
				 qs, NULL };
	struct req_mem m;
	struct req_io io;
	struct req r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_json_limits lim = dgen_json_default_limits;
	struct json_object *o = NULL;
	long long v;

	memset(&m, 0, sizeof m);
	m.params = params;
	m.body = (const char *)p;
	m.body_len = (size_t)(end - p);
	m.max_read = 7;
	request_mem_io(&m, &io);
	request_init(&r);
	for (int cgi = 0; cgi < 2; cgi++) {
		r.is_cgi = cgi;
		if (request_parse(&r, &io, &err) == 0) {
			if (!dgen_utf8_valid(r.path, strlen(r.path)) || r.path[0] != '/')
				abort();
			for (size_t i = 0; i < r.n_params; i++)
				if (!dgen_utf8_valid(r.params[i].key, strlen(r.params[i].key)) ||
				    !dgen_utf8_valid(r.params[i].val, strlen(r.params[i].val)))
					abort();
			request_param_int(&r, "limit", 1, 1000, 100, &v, &err);
			dgen_err_clear(&err);
			request_param_int(&r, "offset", 0, INT64_MAX, 0, &v, &err);
			dgen_err_clear(&err);
			request_content_type_is(&r, "application/json");
			lim.max_bytes = 4096;
			lim.max_depth = 16;
			if (request_json_body(&r, &lim, cgi, &o, &err) == 0) {
				if (!o)
					abort();
				json_object_put(o);
				o = NULL;
			}
		}
		dgen_err_clear(&err);
		request_reset(&r);
		m.pos = 0;
	}
	request_free(&r);
	dgen_buf_free(&m.out);
	free(uri);
	free(qs);
	free(ct);
	free(cl);
	return 0;
}
