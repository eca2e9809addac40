/*
 * fuzz_blocks.c - the text the metric, validator and Markdown blocks read
 * comes from seeds and LLM replies: any bytes. The first byte picks the
 * operation (and a chunk size); the rest is split in two texts at its
 * first 0x00 byte. Beyond not crashing, each result must keep its
 * promises: scores in [0,1], matches no longer than the shorter text,
 * chunks non-empty pieces of the document numbered from 0.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/textmetrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_unit(double v)
{
	if (!(v >= 0.0 && v <= 1.0))
		abort();
}

static void markdown(const char *doc, size_t len, int size, int overlap)
{
	struct json_object *cfg = json_object_new_object(), *in = json_object_new_object();
	struct json_object *out = NULL;
	struct dgen_block_ctx ctx;
	struct dgen_err err = DGEN_ERR_INIT;
	void *st = NULL;

	memset(&ctx, 0, sizeof(ctx));
	json_object_object_add(cfg, "chunk_size", json_object_new_int(size));
	json_object_object_add(cfg, "chunk_overlap", json_object_new_int(overlap));
	json_object_object_add(in, "file_content", json_object_new_string_len(doc, (int)len));
	if (markdown_multiplier_block.init(cfg, &st, &err) == 0 &&
	    markdown_multiplier_block.execute(st, cfg, &ctx, in, &out, &err) == 0) {
		size_t n = json_object_array_length(out);

		for (size_t i = 0; i < n; i++) {
			struct json_object *c = json_object_array_get_idx(out, i), *v, *k;
			const char *s;
			size_t sl;

			if (!json_object_object_get_ex(c, "content", &v) ||
			    !json_object_object_get_ex(c, "chunk_index", &k) ||
			    json_object_get_int64(k) != (int64_t)i)
				abort();
			s = json_object_get_string(v);
			sl = (size_t)json_object_get_string_len(v);
			if (sl == 0 || !memmem(doc, len, s, sl))
				abort();
		}
	}
	json_object_put(out);
	json_object_put(cfg);
	json_object_put(in);
	dgen_err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *a, *b, *z;
	size_t la, lb, na, nb;
	uint32_t *ca, *cb;
	struct textmetrics_prf prf;

	if (size < 1 || size > 65536)
		return 0;
	a = (const char *)data + 1;
	z = memchr(a, 0, size - 1);
	la = z ? (size_t)(z - a) : size - 1;
	b = z ? z + 1 : a + la;
	lb = size - 1 - la - (z ? 1 : 0);
	switch (data[0] % 6) {
	case 0: {
		size_t m;

		ca = textmetrics_codepoints(a, la, &na);
		cb = textmetrics_codepoints(b, lb, &nb);
		m = textmetrics_seq_matches(ca, na, cb, nb);
		if (m > na || m > nb || textmetrics_lcs(ca, na, cb, nb) < m)
			abort();
		check_unit(textmetrics_seq_ratio(ca, na, cb, nb));
		free(ca);
		free(cb);
		break;
	}
	case 1:
	case 2:
	case 3:
		textmetrics_rouge(a, la, b, lb, (enum textmetrics_rouge)(data[0] % 6 - 1), &prf);
		check_unit(prf.precision);
		check_unit(prf.recall);
		check_unit(prf.fmeasure);
		break;
	case 4: {
		char *t = malloc(la + 1);
		size_t n;
		const char *s;
		struct json_object *o;

		check_unit(textmetrics_word_diversity(a, la));
		check_unit(textmetrics_coherence(a, la));
		s = blockutil_strip_fence(a, la, &n);
		if (s < a || s + n > a + la)
			abort();
		memcpy(t, a, la);
		t[la] = '\0';
		o = blockutil_json_reply(t);
		if (!json_object_is_type(o, json_type_object))
			abort();
		json_object_put(o);
		free(t);
		break;
	}
	default: {
		int sz = (data[0] / 6) % 8, ov = sz > 1 ? (data[0] / 48) % sz : 0;

		markdown(a, size - 1, sz, ov);
		break;
	}
	}
	return 0;
}
