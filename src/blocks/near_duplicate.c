/*
 * near_duplicate.c - NearDuplicate: MinHash over word shingles of a field,
 * checked against every earlier record of the same job.
 *
 * The field's text gives a MinHash signature (num_perm entries over
 * shingles of shingle_size words, minhash.h) and LSH band keys (the band
 * count is chosen from the threshold). The job-wide state of the context
 * (the runner's store index, `dgen run`'s memory) compares it with the
 * records checked before it and adds it in one atomic step. Outputs:
 * is_duplicate (estimated Jaccard >= threshold), duplicate_of (the earlier
 * record's id once stored, else null), duplicate_of_unit (its unit),
 * duplicate_similarity (the estimate; 0 when none) and duplicate_scope:
 * "job", or "execution" when the run keeps no job-wide state (the API's
 * one-seed execute): then nothing earlier exists and no record is a
 * duplicate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/json.h"
#include "dgen/minhash.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "is_duplicate", "duplicate_of", "duplicate_of_unit",
				       "duplicate_similarity", "duplicate_scope", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM_FIELD("field", "assistant",
			      "Field whose text is compared"),
	BLOCKUTIL_PARAM("threshold", DGEN_PARAM_NUMBER, "0.8",
			"Estimated Jaccard similarity (0 to 1) at or above which a record is a duplicate"),
	BLOCKUTIL_PARAM("shingle_size", DGEN_PARAM_INTEGER, "3",
			"Words per shingle (1 to 16)"),
	BLOCKUTIL_PARAM("num_perm", DGEN_PARAM_INTEGER, "128",
			"MinHash signature length (16 to 1024); longer is more exact and slower"),
};

static int nd_init(struct json_object *config, void **state, struct dgen_err *err)
{
	double t = blockutil_cfg_num(config, "threshold", 0.8);
	long long k = blockutil_cfg_int(config, "shingle_size", 3);
	long long n = blockutil_cfg_int(config, "num_perm", 128);

	*state = NULL;
	if (!(t > 0 && t <= 1))
		return blockutil_config_error(err, "threshold", "threshold must be above 0 and at most 1");
	if (k < 1 || k > 16)
		return blockutil_config_error(err, "shingle_size", "shingle_size must be from 1 to 16");
	if (n < 16 || n > MINHASH_PERM_MAX)
		return blockutil_config_error(err, "num_perm", "num_perm must be from 16 to %d",
					      MINHASH_PERM_MAX);
	return 0;
}

static int nd_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		      struct json_object *input, struct json_object **output,
		      struct dgen_err *err)
{
	const char *field = blockutil_cfg_str(config, "field");
	double thr = blockutil_cfg_num(config, "threshold", 0.8), sim = 0;
	size_t n = (size_t)blockutil_cfg_int(config, "num_perm", 128), bands, len;
	struct json_object *v = blockutil_field(input, field ? field : "assistant");
	uint32_t sig[MINHASH_PERM_MAX];
	uint64_t keys[MINHASH_PERM_MAX];
	int64_t dup_unit = -1, dup_rec = -1;
	char *owned;
	const char *text;
	size_t words;

	(void)state;
	if (!v) {
		dgen_err_set(err, DGEN_EBLOCK, "the field to compare, '%s', is missing",
			     field ? field : "assistant");
		dgen_err_detail_str(err, "field", field ? field : "assistant");
		return -1;
	}
	text = blockutil_text(v, &len, &owned);
	words = minhash_signature(text, len, (int)blockutil_cfg_int(config, "shingle_size", 3), sig, n);
	free(owned);
	if (words == 0) {
		dgen_err_set(err, DGEN_EBLOCK, "the field to compare, '%s', has no words",
			     field ? field : "assistant");
		dgen_err_detail_str(err, "field", field ? field : "assistant");
		return -1;
	}
	bands = minhash_bands_for(n, thr);
	minhash_band_keys(sig, n, bands, keys);
	if (ctx->jobstate && ctx->jobstate->near_dup_check &&
	    ctx->jobstate->near_dup_check(ctx->jobstate_arg, ctx->job_id, ctx->unit, sig, n, keys,
					  bands, thr, &dup_unit, &dup_rec, &sim, err) != 0)
		return -1;
	return blockutil_output(output, "is_duplicate", json_object_new_boolean(dup_unit >= 0),
				"duplicate_of", dup_rec >= 0 ? json_object_new_int64(dup_rec) : NULL,
				"duplicate_of_unit", dup_unit >= 0 ? json_object_new_int64(dup_unit) : NULL,
				"duplicate_similarity", dgen_json_new_double(sim),
				"duplicate_scope", json_object_new_string(ctx->jobstate ? "job" : "execution"),
				NULL);
}

const struct dgen_block_type near_duplicate_block = {
	BLOCKUTIL_TYPE("NearDuplicate", "Near Duplicate", "validators",
		       "MinHash over word shingles of a field: marks is_duplicate and "
		       "duplicate_of when an earlier record of the same job is at least "
		       "`threshold` similar (Jaccard)"),
	.init = nd_init,
	.execute = nd_execute,
};
