/*
 * fuzz_template.c - compiles arbitrary bytes as a template and renders it
 * over a small fixed context with tight limits. Anything but a clean
 * success or a DGEN_EINVALID / DGEN_ELIMIT error is a bug; sanitizers
 * catch the rest.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/err.h"
#include "dgen/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ctx_text[] =
	"{\"name\": \"Ada\", \"n\": 3, \"x\": 2.5, \"flag\": true, \"none\": null,"
	" \"items\": [\"a\", \"b\", 1, 2.0, null, [1, 2], {\"k\": \"v\"}],"
	" \"user\": {\"name\": \"Bob\", \"tags\": [\"x\", \"y\"], \"age\": 41},"
	" \"text\": \"h\\u00e9llo {{ name }} w\\u00f6rld\", \"empty\": \"\", \"list\": []}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dgen_template_limits lim = { 4096, 500 };
	struct json_object *ctx = json_tokener_parse(ctx_text);
	struct dgen_template *t = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_buf out = DGEN_BUF_INIT;

	if (size > 8192)
		size = 8192;
	if (template_compile((const char *)data, size, &t, &err) == 0) {
		struct json_object *names = json_object_new_array();

		template_variables(t, names);
		json_object_put(names);
		if (template_render(t, ctx, &lim, &out, &err) == 0) {
			if (out.len > lim.max_output)
				abort();
		} else if (err.code != DGEN_EINVALID && err.code != DGEN_ELIMIT) {
			abort();
		}
		template_free(t);
	} else if (err.code != DGEN_EINVALID) {
		abort();
	}
	dgen_err_clear(&err);
	dgen_buf_free(&out);
	json_object_put(ctx);
	return 0;
}
