/*
 * fuzz_multipart.c - the multipart/form-data parser on arbitrary bytes.
 *
 * Input layout: line 1 = the Content-Type header value, the rest = body.
 * Checks: no crash, no leak, every part's data lies inside the body, names
 * are non-empty UTF-8, and the part count respects the limit.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/arena.h"
#include "dgen/multipart.h"
#include "dgen/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ct_len = nl ? (size_t)(nl - data) : size;
	char *ct = dgen_xstrndup((const char *)data, ct_len);
	const char *body = nl ? (const char *)nl + 1 : "";
	size_t body_len = nl ? size - ct_len - 1 : 0;
	struct arena a = ARENA_INIT;
	struct dgen_err err = DGEN_ERR_INIT;
	struct multipart_limits lim = { 4, 4, 256 };
	struct multipart_part *parts;
	const char *boundary;
	size_t n;

	/* a copy exactly the size of the body, so ASan sees any overread */
	char *copy = dgen_xmalloc(body_len ? body_len : 1);

	memcpy(copy, body, body_len);
	if (multipart_boundary(ct, &a, &boundary, &err) == 0 &&
	    multipart_parse(copy, body_len, boundary, &lim, &a, &parts, &n, &err) == 0) {
		if (n > lim.max_parts)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (parts[i].data < copy || parts[i].data + parts[i].len > copy + body_len)
				abort();
			if (!parts[i].name[0] || !dgen_utf8_valid(parts[i].name, strlen(parts[i].name)))
				abort();
		}
	}
	dgen_err_clear(&err);
	/* the same body under a fixed boundary, to reach deep states quickly */
	arena_reset(&a);
	if (multipart_parse(copy, body_len, "b", &lim, &a, &parts, &n, &err) == 0 && n > lim.max_parts)
		abort();
	dgen_err_clear(&err);
	arena_free(&a);
	free(copy);
	free(ct);
	return 0;
}
