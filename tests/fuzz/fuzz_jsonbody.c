/*
 * fuzz_jsonbody.c - a JSON request body from transport to typed values:
 * bounded read, media type check, bounded parse, the getters handlers use,
 * and a compact round trip that must parse again.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char cl[32];
	const char *params[] = { "REQUEST_METHOD", "POST", "REQUEST_URI", "/api/pipelines",
				 "CONTENT_TYPE", "application/json", "CONTENT_LENGTH", cl, NULL };
	struct req_mem m;
	struct req_io io;
	struct req r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_json_limits lim = dgen_json_default_limits;
	struct json_object *o = NULL, *again = NULL, *x = NULL;
	const char *s;
	int64_t i64;
	bool b;
	double d;

	snprintf(cl, sizeof cl, "%zu", size);
	memset(&m, 0, sizeof m);
	m.params = params;
	m.body = (const char *)data;
	m.body_len = size;
	request_mem_io(&m, &io);
	request_init(&r);
	lim.max_bytes = 65536;
	lim.max_depth = 32;
	lim.max_string = 8192;
	if (request_parse(&r, &io, &err) == 0 && request_json_body(&r, &lim, false, &o, &err) == 0) {
		const char *text = dgen_json_compact(o);

		if (json_object_is_type(o, json_type_object)) {
			static const char *const allowed[] = { "name", "blocks", "constraints", NULL };

			dgen_json_get_str(o, "", "name", true, &s, &err);
			dgen_err_clear(&err);
			dgen_json_get_arr(o, "", "blocks", false, &x, &err);
			dgen_err_clear(&err);
			dgen_json_get_int(o, "", "pipeline_id", false, 1, INT64_MAX, &i64, &err);
			dgen_err_clear(&err);
			dgen_json_get_bool(o, "", "strict", false, &b, &err);
			dgen_err_clear(&err);
			dgen_json_get_num(o, "", "temperature", false, &d, &err);
			dgen_err_clear(&err);
			dgen_json_only_keys(o, "", allowed, &err);
			dgen_err_clear(&err);
		}
		/* what we print we must be able to read back */
		lim.max_bytes = strlen(text) + 1;
		if (dgen_json_parse(text, strlen(text), &lim, &again, &err) != 0)
			abort();
		json_object_put(again);
		json_object_put(o);
	}
	dgen_err_clear(&err);
	request_free(&r);
	dgen_buf_free(&m.out);
	return 0;
}
