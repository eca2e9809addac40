/*
 * fuzz_block_configs.c - the configs and states of the blocks beyond the
 * first eight (FieldMapper, StructureSampler, SemanticInfiller,
 * DuplicateRemover, RagasMetrics, LLMJudge, Sampler, NearDuplicate) come
 * from saved pipelines and seeds: any JSON. The first byte picks the block
 * (low 3 bits) or, with its high bit set, an embeddings reply for
 * embed_parse; the rest is a config and a state split at the first 0x00.
 * The config goes through the registry's check and init() as a save would;
 * execute() runs without an LLM (those blocks must fail cleanly) and with
 * an in-memory job state. Promises: a refused config names its field; a
 * failure has a message; an output is an object whose keys are declared.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dgen/blocks.h"
#include "dgen/embed.h"
#include "dgen/jobstate.h"
#include "dgen/json.h"
#include "dgen/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct dgen_block_type *const types[] = {
	&field_mapper_block, &structure_sampler_block, &semantic_infiller_block,
	&duplicate_remover_block, &ragas_metrics_block, &llm_judge_block, &sampler_block,
	&near_duplicate_block,
};

static struct json_object *parse(const char *s, size_t n)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v = NULL;

	if (dgen_json_parse(s, n, &dgen_json_default_limits, &v, &e) != 0)
		v = NULL;
	dgen_err_clear(&e);
	return v;
}

static bool declared(const struct dgen_block_type *t, const char *key)
{
	for (size_t i = 0; t->outputs[i]; i++)
		if (strcmp(t->outputs[i], "*") == 0 || strcmp(t->outputs[i], key) == 0)
			return true;
	return false;
}

static void run_block(const struct dgen_block_type *t, const char *a, size_t la, const char *b,
		      size_t lb)
{
	struct json_object *raw = parse(a, la), *in = parse(b, lb), *cfg = NULL, *out = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_jobstate_mem *m = jobstate_mem_new();
	struct dgen_block_ctx ctx;
	struct dgen_template_limits tl = template_default_limits;
	void *st = NULL;

	memset(&ctx, 0, sizeof ctx);
	tl.max_output = 1 << 16;
	tl.max_iterations = 10000;
	ctx.tlim = &tl;
	ctx.jobstate = &jobstate_mem_ops;
	ctx.jobstate_arg = m;
	ctx.unit = 1;
	if (!in || !json_object_is_type(in, json_type_object))
		goto out;
	if (registry_check_config(t, raw, "config", &cfg, &err) != 0)
		goto out;
	if (t->init && t->init(cfg, &st, &err) != 0) {
		struct json_object *f = NULL;

		if (!err.detail || !json_object_object_get_ex(err.detail, "field", &f))
			abort(); /* a refused config must name its field */
		goto out;
	}
	if (t->execute(st, cfg, &ctx, in, &out, &err) != 0) {
		if (!err.msg[0] || out)
			abort();
	} else {
		if (!json_object_is_type(out, json_type_object))
			abort();
		json_object_object_foreach(out, k, v) {
			(void)v;
			if (!declared(t, k))
				abort();
		}
	}
	if (t->free)
		t->free(st);
out:
	json_object_put(out);
	json_object_put(cfg);
	json_object_put(raw);
	json_object_put(in);
	jobstate_mem_free(m);
	dgen_err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *a, *b, *z;
	size_t la, lb;

	if (size < 1 || size > 65536)
		return 0;
	a = (const char *)data + 1;
	z = memchr(a, 0, size - 1);
	la = z ? (size_t)(z - a) : size - 1;
	b = z ? z + 1 : a + la;
	lb = size - 1 - la - (z ? 1 : 0);
	if (data[0] & 0x80) {
		double *v = NULL;
		size_t dim = 0;
		struct dgen_llm_usage u = { 0 };
		struct dgen_err e = DGEN_ERR_INIT;
		enum dgen_llm_provider p = (data[0] & 1) ? DGEN_LLM_OLLAMA : DGEN_LLM_OPENAI;

		if (embed_parse(p, a, size - 1, (data[0] >> 1) & 7, 0, &v, &dim, &u, &e) == 0 &&
		    ((data[0] >> 1) & 7) > 0 && (dim == 0 || !v))
			abort();
		free(v);
		dgen_err_clear(&e);
		return 0;
	}
	run_block(types[data[0] & 7], a, la, b, lb);
	return 0;
}
