/*
 * test_pipeline.c - loading definitions (errors naming fields) and running
 * seeds: state merging, the trace, the pipeline_output rule, undeclared
 * outputs, block failures, multiplier fan-out, constraints, and many
 * threads executing one loaded pipeline.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/log.h"
#include "dgen/pipeline.h"
#include "dgen/util.h"
#include "tap.h"

/* ------------------------------------------------ test-only block types */

static struct json_object *cfg_get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

/* "Counter": n = state.n + step (config) */
static int counter_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
			struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	int64_t n = 0;
	struct json_object *v = cfg_get(in, "n");

	if (v)
		n = json_object_get_int64(v);
	*out = json_object_new_object();
	json_object_object_add(*out, "n",
			       json_object_new_int64(n + json_object_get_int64(cfg_get(cfg, "step"))));
	ctx->usage->input_tokens += 10;
	ctx->usage->output_tokens += 1;
	return 0;
}

/* "SetFields": outputs config.fields as they are ("*") */
static int set_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		    struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	*out = json_object_new_object();
	json_object_object_foreach(cfg_get(cfg, "fields"), k, v)
		json_object_object_add(*out, k, json_object_get(v));
	return 0;
}

/* "Greeter": assistant = "hello " + name */
static int greet_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		      struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	struct json_object *v = cfg_get(in, "name");
	char *s = dgen_xasprintf("hello %s", v ? json_object_get_string(v) : "nobody");

	*out = json_object_new_object();
	json_object_object_add(*out, "assistant", json_object_new_string(s));
	free(s);
	return 0;
}

/* "Leaky": declares "a" but also returns "b" and "c" */
static int leaky_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		      struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	*out = json_object_new_object();
	json_object_object_add(*out, "a", json_object_new_int(1));
	json_object_object_add(*out, "b", json_object_new_int(2));
	json_object_object_add(*out, "c", json_object_new_int(3));
	return 0;
}

/* "Boom": always fails */
static int boom_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		     struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	ctx->usage->input_tokens += 5;
	return dgen_err_set(err, DGEN_ELLM, "the provider said no");
}

/* "Splitter": multiplier; one chunk per comma-separated part of `text` */
static int split_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		      struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	struct json_object *v = cfg_get(in, "text");
	const char *s, *c;
	int idx = 0;

	if (!v)
		return dgen_err_set(err, DGEN_EINVALID, "no text to split");
	s = json_object_get_string(v);
	*out = json_object_new_array();
	while (*s) {
		struct json_object *chunk = json_object_new_object();

		c = strchr(s, ',');
		if (!c)
			c = s + strlen(s);
		json_object_object_add(chunk, "content",
				       json_object_new_string_len(s, (int)(c - s)));
		json_object_object_add(chunk, "chunk_index", json_object_new_int(idx++));
		json_object_array_add(*out, chunk);
		s = *c ? c + 1 : c;
	}
	return 0;
}

/* "Shout": assistant = content + "!" (reads chunk state) */
static int shout_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		      struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	struct json_object *v = cfg_get(in, "content");
	char *s;

	if (!v)
		return dgen_err_set(err, DGEN_EINVALID, "'content' is undefined");
	if (strcmp(json_object_get_string(v), "bad") == 0)
		return dgen_err_set(err, DGEN_EINVALID, "bad chunk");
	s = dgen_xasprintf("%s!", json_object_get_string(v));
	*out = json_object_new_object();
	json_object_object_add(*out, "assistant", json_object_new_string(s));
	free(s);
	return 0;
}

/* "NeedsInit": init fails when config.ok is false, naming the key */
static int needs_init(struct json_object *cfg, void **state, struct dgen_err *err)
{
	if (!json_object_get_boolean(cfg_get(cfg, "ok"))) {
		dgen_err_set(err, DGEN_EINVALID, "template syntax error at line 2: bad tag");
		dgen_err_detail_str(err, "field", "ok");
		return -1;
	}
	*state = dgen_xstrdup("initialised");
	return 0;
}

static int needs_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		      struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	*out = json_object_new_object();
	json_object_object_add(*out, "init_state", json_object_new_string(st));
	return 0;
}

static const char *const out_n[] = { "n", NULL };
static const char *const out_any[] = { "*", NULL };
static const char *const out_assistant[] = { "assistant", NULL };
static const char *const out_a[] = { "a", NULL };
static const char *const out_x[] = { "x", NULL };
static const char *const out_chunk[] = { "content", "chunk_index", NULL };
static const char *const out_init[] = { "init_state", NULL };
static const char *const in_text[] = { "text", NULL };

static const struct dgen_block_param counter_params[] = {
	{ .name = "step", .type = DGEN_PARAM_INTEGER, .default_json = "1" },
};
static const struct dgen_block_param set_params[] = {
	{ .name = "fields", .type = DGEN_PARAM_SCHEMA, .default_json = "{}" },
};
static const struct dgen_block_param init_params[] = {
	{ .name = "ok", .type = DGEN_PARAM_BOOLEAN, .default_json = "true" },
};

static const struct dgen_block_type test_types[] = {
	{ .abi = DGEN_BLOCK_ABI, .type = "Counter", .outputs = out_n, .params = counter_params,
	  .n_params = 1, .execute = counter_exec },
	{ .abi = DGEN_BLOCK_ABI, .type = "SetFields", .outputs = out_any, .params = set_params,
	  .n_params = 1, .execute = set_exec },
	{ .abi = DGEN_BLOCK_ABI, .type = "Greeter", .outputs = out_assistant,
	  .execute = greet_exec },
	{ .abi = DGEN_BLOCK_ABI, .type = "Leaky", .outputs = out_a, .execute = leaky_exec },
	{ .abi = DGEN_BLOCK_ABI, .type = "Boom", .outputs = out_x, .execute = boom_exec },
	{ .abi = DGEN_BLOCK_ABI, .type = "Splitter", .inputs = in_text, .outputs = out_chunk,
	  .is_multiplier = true, .execute = split_exec },
	{ .abi = DGEN_BLOCK_ABI, .type = "Shout", .outputs = out_assistant,
	  .execute = shout_exec },
	{ .abi = DGEN_BLOCK_ABI, .type = "NeedsInit", .outputs = out_init, .params = init_params,
	  .n_params = 1, .init = needs_init, .execute = needs_exec, .free = free },
};

/* ------------------------------------------------------------- helpers */

static struct dgen_registry *reg;
static struct dgen_block_ctx ctx0;

static struct json_object *J(const char *s)
{
	struct json_object *v = json_tokener_parse(s);

	if (!v)
		diag("bad test JSON: %s", s);
	return v;
}

static struct dgen_pipeline *load(const char *def, struct dgen_err *e)
{
	struct json_object *d = J(def);
	struct dgen_pipeline *p = NULL;

	if (pipeline_load(reg, d, &p, e) != 0)
		p = NULL;
	json_object_put(d);
	return p;
}

static const char *sget(struct json_object *o, const char *k)
{
	struct json_object *v = cfg_get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t iget(struct json_object *o, const char *k)
{
	struct json_object *v = cfg_get(o, k);

	return v ? json_object_get_int64(v) : -999;
}

static const char *jtext(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* --------------------------------------------------------------- tests */

static void test_merge_and_trace(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_pipeline *p = load(
		"{\"name\":\"merge\",\"blocks\":["
		"{\"type\":\"Counter\"},"
		"{\"type\":\"SetFields\",\"config\":{\"fields\":{\"topic\":\"new\",\"extra\":[1,2]}}},"
		"{\"type\":\"Counter\",\"config\":{\"step\":10}}]}", &e);
	struct json_object *meta = J("{\"n\":5,\"topic\":\"old\",\"keep\":true}");
	struct dgen_exec_result res;
	struct json_object *t0, *t2, *v;

	ok(p != NULL, "a pipeline of three blocks loads (%s)", e.msg);
	if (!p)
		return;
	ok(pipeline_execute(p, meta, &ctx0, &res, &e) == 0, "it executes");
	is_int(iget(res.result, "n"), 16, "each block reads the state the previous one left (5+1+10)");
	is_str(sget(res.result, "topic"), "new", "the last writer wins");
	ok(json_object_get_boolean(cfg_get(res.result, "keep")), "metadata keys nobody wrote stay");
	ok(cfg_get(res.result, "extra") != NULL, "outputs of a '*' block are merged");
	is_int(iget(meta, "n"), 5, "the caller's metadata is not modified");
	is_int(strlen(res.trace_id), 36, "the execution has a UUID trace_id");
	is_int(res.usage.input_tokens, 20, "usage is summed over the blocks' LLM calls");
	is_int(res.usage.output_tokens, 2, "... output tokens too");
	is_int(json_object_array_length(res.trace), 3, "one trace entry per block");
	t0 = json_object_array_get_idx(res.trace, 0);
	t2 = json_object_array_get_idx(res.trace, 2);
	is_str(sget(t0, "block_type"), "Counter", "a trace entry names its block type");
	is_int(iget(cfg_get(t0, "input"), "n"), 5, "... holds the input state");
	is_int(iget(cfg_get(t0, "output"), "n"), 6, "... the block's output");
	is_int(iget(cfg_get(t0, "accumulated_state"), "n"), 6, "... and the state after it");
	ok(cfg_get(cfg_get(t0, "accumulated_state"), "keep") != NULL,
	   "the accumulated state is the whole state, not only the output");
	v = cfg_get(t2, "execution_time");
	ok(v && json_object_is_type(v, json_type_double) && json_object_get_double(v) >= 0,
	   "execution_time is a number of seconds");
	is_int(iget(cfg_get(t2, "input"), "n"), 6, "step 3 saw the state after step 2");
	ok(cfg_get(res.result, "pipeline_output") != NULL &&
	   iget(res.result, "pipeline_output") == 16,
	   "without assistant, pipeline_output is the last block's first output");
	{
		struct json_object *rj = pipeline_result_json(&res);

		ok(cfg_get(rj, "result") && cfg_get(rj, "trace") && sget(rj, "trace_id") &&
		   iget(cfg_get(rj, "usage"), "input_tokens") == 20 &&
		   iget(cfg_get(rj, "usage"), "cached_tokens") == 0,
		   "the execute response has result, trace, trace_id and usage");
		json_object_put(rj);
	}
	pipeline_result_free(&res);
	json_object_put(meta);
	pipeline_free(p);
}

static void test_pipeline_output(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_exec_result res;
	struct json_object *meta = J("{\"name\":\"ada\"}");
	struct dgen_pipeline *p;

	p = load("{\"name\":\"po\",\"blocks\":[{\"type\":\"Greeter\"},{\"type\":\"Counter\"}]}", &e);
	ok(p && pipeline_execute(p, meta, &ctx0, &res, &e) == 0, "greet then count");
	if (p) {
		is_str(sget(res.result, "pipeline_output"), "hello ada",
		       "pipeline_output comes from assistant when there is one");
		ok(cfg_get(cfg_get(json_object_array_get_idx(res.trace, 1), "accumulated_state"),
			   "pipeline_output") != NULL,
		   "the last trace entry's state includes pipeline_output");
		ok(cfg_get(cfg_get(json_object_array_get_idx(res.trace, 0), "accumulated_state"),
			   "pipeline_output") == NULL, "earlier entries do not");
		pipeline_result_free(&res);
		pipeline_free(p);
	}
	p = load("{\"name\":\"po2\",\"blocks\":[{\"type\":\"SetFields\",\"config\":{\"fields\":"
		 "{\"pipeline_output\":\"mine\"}}},{\"type\":\"Greeter\"}]}", &e);
	ok(p && pipeline_execute(p, meta, &ctx0, &res, &e) == 0, "a block sets pipeline_output");
	if (p) {
		is_str(sget(res.result, "pipeline_output"), "mine",
		       "a pipeline_output set by a block is kept");
		pipeline_result_free(&res);
		pipeline_free(p);
	}
	p = load("{\"name\":\"po3\",\"blocks\":[{\"type\":\"SetFields\",\"config\":{\"fields\":"
		 "{\"z\":1}}}]}", &e);
	ok(p && pipeline_execute(p, meta, &ctx0, &res, &e) == 0, "a lone '*' block");
	if (p) {
		ok(!json_object_object_get_ex(res.result, "pipeline_output", NULL),
		   "a '*' first output gives no pipeline_output");
		pipeline_result_free(&res);
		pipeline_free(p);
	}
	p = load("{\"name\":\"empty\",\"blocks\":[]}", &e);
	ok(p && pipeline_execute(p, meta, &ctx0, &res, &e) == 0, "an empty pipeline runs");
	if (p) {
		is_str(jtext(res.result), "{\"name\":\"ada\"}", "... and returns the metadata");
		is_int(json_object_array_length(res.trace), 0, "... with an empty trace");
		pipeline_result_free(&res);
		pipeline_free(p);
	}
	json_object_put(meta);
}

static void test_undeclared(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_exec_result res;
	struct dgen_pipeline *p = load(
		"{\"name\":\"leak\",\"blocks\":[{\"type\":\"Counter\"},{\"type\":\"Leaky\"}]}", &e);
	struct json_object *v, *last;

	if (!ok(p != NULL, "a pipeline with a leaky block loads"))
		return;
	ok(pipeline_execute(p, NULL, &ctx0, &res, &e) == -1, "undeclared output keys fail the run");
	is_int(e.code, DGEN_EINVALID, "... as a validation error");
	ok(strstr(e.msg, "Leaky") && strstr(e.msg, "b, c"), "... naming the block and keys: %s",
	   e.msg);
	ok(e.detail && json_object_object_get_ex(e.detail, "extra_fields", &v) &&
	   strcmp(jtext(v), "[\"b\",\"c\"]") == 0, "detail.extra_fields lists the extra keys");
	ok(e.detail && json_object_object_get_ex(e.detail, "declared_outputs", &v) &&
	   strcmp(jtext(v), "[\"a\"]") == 0, "detail.declared_outputs");
	ok(e.detail && json_object_object_get_ex(e.detail, "actual_outputs", &v) &&
	   strcmp(jtext(v), "[\"a\",\"b\",\"c\"]") == 0, "detail.actual_outputs");
	is_int(res.failed_step, 2, "the failed step is recorded");
	ok(res.result == NULL, "a failed execution has no result");
	is_int(json_object_array_length(res.trace), 2, "the trace keeps the blocks up to the failure");
	last = json_object_array_get_idx(res.trace, 1);
	ok(sget(last, "error") != NULL && cfg_get(last, "input") != NULL,
	   "the failing entry carries the error and its input");
	pipeline_result_free(&res);
	dgen_err_clear(&e);
	pipeline_free(p);
}

static void test_failure(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_exec_result res;
	struct dgen_pipeline *p = load(
		"{\"name\":\"boom\",\"blocks\":[{\"type\":\"Counter\"},{\"type\":\"Boom\"},"
		"{\"type\":\"Counter\"}]}", &e);
	struct json_object *meta = J("{\"n\":1}"), *v;

	if (!ok(p != NULL, "a pipeline with a failing block loads"))
		return;
	ok(pipeline_execute(p, meta, &ctx0, &res, &e) == -1, "a block failure fails the run");
	is_str(e.msg, "Block 'Boom' failed at step 2: the provider said no",
	       "the message names the block and the 1-based step");
	is_int(e.code, DGEN_EBLOCK, "the code is a block error");
	is_str(sget(e.detail, "block_type"), "Boom", "detail.block_type");
	is_int(iget(e.detail, "step"), 2, "detail.step is 1-based");
	is_str(sget(e.detail, "error"), "the provider said no", "detail.error");
	ok(json_object_object_get_ex(e.detail, "input", &v) && iget(v, "n") == 2,
	   "detail.input is the state the block saw");
	is_int(res.failed_step, 2, "failed_step");
	is_str(res.failed_block, "Boom", "failed_block");
	is_int(json_object_array_length(res.trace), 2, "partial trace: step 1 and the failure");
	is_int(res.usage.input_tokens, 15, "usage spent before the failure is kept");
	pipeline_result_free(&res);
	dgen_err_clear(&e);
	json_object_put(meta);
	pipeline_free(p);
}

static void test_cancel(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_exec_result res;
	struct dgen_pipeline *p = load("{\"name\":\"c\",\"blocks\":[{\"type\":\"Counter\"}]}", &e);
	atomic_int cancel = 1;
	struct dgen_block_ctx c = ctx0;

	if (!p)
		return;
	c.cancel = &cancel;
	ok(pipeline_execute(p, NULL, &c, &res, &e) == -1 && e.code == DGEN_ECANCELLED,
	   "a cancelled execution stops before the next block");
	pipeline_result_free(&res);
	dgen_err_clear(&e);
	pipeline_free(p);
}

static void test_load_errors(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_pipeline *p;
	struct json_object *v;

	p = load("{\"name\":\"nf\",\"blocks\":[{\"type\":\"Counter\"},{\"type\":\"Nope\"}]}", &e);
	ok(p == NULL, "an unknown block type is refused");
	is_str(e.msg, "Block 'Nope' not found", "... with the SPEC message");
	is_int(e.code, DGEN_EINVALID, "... as 422");
	is_str(sget(e.detail, "block_type"), "Nope", "detail.block_type");
	is_str(sget(e.detail, "field"), "blocks[1].type", "detail.field");
	ok(json_object_object_get_ex(e.detail, "available_blocks", &v) &&
	   strstr(jtext(v), "\"Counter\"") && strstr(jtext(v), "\"RougeScore\""),
	   "detail.available_blocks lists the known types");
	dgen_err_clear(&e);

	p = load("{\"name\":\"cfg\",\"blocks\":[{\"type\":\"Counter\"},"
		 "{\"type\":\"RougeScore\",\"config\":{\"rouge_type\":\"rougeX\"}}]}", &e);
	ok(p == NULL, "a bad enum value in a config is refused");
	is_str(sget(e.detail, "field"), "blocks[1].config.rouge_type",
	       "the field path names the block index and key");
	dgen_err_clear(&e);

	p = load("{\"name\":\"m\",\"blocks\":[{\"type\":\"Counter\"},{\"type\":\"Splitter\"}]}", &e);
	ok(p == NULL && e.code == DGEN_EINVALID, "a multiplier that is not first is refused");
	is_str(sget(e.detail, "field"), "blocks[1].type", "... naming its position");
	dgen_err_clear(&e);

	p = load("{\"name\":\"m2\",\"blocks\":[{\"type\":\"Splitter\"},{\"type\":\"Splitter\"}]}", &e);
	ok(p == NULL && e.code == DGEN_EINVALID, "two multipliers are refused");
	dgen_err_clear(&e);

	p = load("{\"blocks\":[]}", &e);
	ok(p == NULL && e.code == DGEN_EBADREQ, "a definition without a name is a bad request");
	is_str(sget(e.detail, "field"), "name", "... naming the field");
	dgen_err_clear(&e);

	p = load("{\"name\":\"x\"}", &e);
	ok(p == NULL && e.code == DGEN_EBADREQ, "a definition without blocks is a bad request");
	dgen_err_clear(&e);

	p = load("{\"name\":\"x\",\"blocks\":[\"Counter\"]}", &e);
	ok(p == NULL && e.code == DGEN_EBADREQ, "a block that is not an object is a bad request");
	is_str(sget(e.detail, "field"), "blocks[0]", "... naming it");
	dgen_err_clear(&e);

	p = load("{\"name\":\"x\",\"blocks\":[],\"constraints\":{\"max_total_tokens\":-5}}", &e);
	ok(p == NULL && e.code == DGEN_EINVALID, "a constraint below -1 is refused");
	is_str(sget(e.detail, "field"), "constraints.max_total_tokens", "... naming it");
	dgen_err_clear(&e);

	p = load("{\"name\":\"x\",\"blocks\":[],\"constraints\":{\"max_tokens\":5}}", &e);
	ok(p == NULL && e.code == DGEN_EINVALID, "an unknown constraint is refused");
	dgen_err_clear(&e);

	p = load("{\"name\":\"x\",\"blocks\":[{\"type\":\"Counter\"},"
		 "{\"type\":\"NeedsInit\",\"config\":{\"ok\":false}}]}", &e);
	ok(p == NULL && e.code == DGEN_EINVALID, "a block whose init fails is refused");
	ok(strstr(e.msg, "blocks[1] (NeedsInit)") && strstr(e.msg, "line 2"),
	   "... the message says where: %s", e.msg);
	is_str(sget(e.detail, "field"), "blocks[1].config.ok", "... and the field path is completed");
	dgen_err_clear(&e);

	p = load("{\"name\":\"x\",\"blocks\":[{\"type\":\"NeedsInit\"}]}", &e);
	ok(p != NULL, "init state is kept for execute");
	if (p) {
		struct dgen_exec_result res;

		ok(pipeline_execute(p, NULL, &ctx0, &res, &e) == 0 &&
		   strcmp(sget(res.result, "init_state"), "initialised") == 0,
		   "execute receives the state init made");
		pipeline_result_free(&res);
		pipeline_free(p);
	}
}

static void test_constraints(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_pipeline *p = load(
		"{\"name\":\"c\",\"blocks\":[],\"constraints\":{\"max_total_tokens\":100,"
		"\"max_total_output_tokens\":-1,\"max_total_execution_time\":2.5}}", &e);
	const struct dgen_constraints *c;
	struct dgen_llm_usage u = { .input_tokens = 50, .output_tokens = 40 };
	struct json_object *cj;

	if (!ok(p != NULL, "constraints load"))
		return;
	c = pipeline_constraints(p);
	is_int(c->max_total_tokens, 100, "max_total_tokens read");
	is_int(c->max_total_output_tokens, -1, "-1 is unlimited");
	is_int(c->max_total_input_tokens, -1, "absent is unlimited");
	ok(constraints_exceeded(c, &u, 1.0) == NULL, "90 tokens, 1 s: within limits");
	u.output_tokens = 50;
	is_str(constraints_exceeded(c, &u, 1.0), "max_total_tokens", "100 tokens: reached");
	u.output_tokens = 0;
	is_str(constraints_exceeded(c, &u, 3.0), "max_total_execution_time", "3 s: time is up");
	cj = constraints_to_json(c);
	is_str(jtext(cj), "{\"max_total_tokens\":100,\"max_total_execution_time\":2.5}",
	       "constraints_to_json lists only the limited ones");
	json_object_put(cj);
	pipeline_free(p);
}

static void test_multiplier(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_pipeline *p = load(
		"{\"name\":\"mul\",\"blocks\":[{\"type\":\"Splitter\"},{\"type\":\"Shout\"}]}", &e);
	struct json_object *meta = J("{\"text\":\"a,b,c\"}"), *chunks = NULL, *all = NULL, *v;
	struct dgen_exec_result res;
	struct dgen_llm_usage u = { 0 };

	if (!ok(p != NULL, "a multiplier pipeline loads"))
		return;
	ok(pipeline_is_multiplier(p), "it is a multiplier pipeline");
	ok(pipeline_execute(p, meta, &ctx0, &res, &e) == -1,
	   "pipeline_execute refuses a multiplier pipeline");
	pipeline_result_free(&res);
	dgen_err_clear(&e);
	ok(pipeline_expand(p, meta, &ctx0, &chunks, &u, &e) == 0, "expand runs the multiplier");
	is_int(chunks ? json_object_array_length(chunks) : 0, 3, "one chunk per part");
	if (chunks && json_object_array_length(chunks) == 3) {
		struct json_object *c1 = json_object_array_get_idx(chunks, 1);

		is_str(jtext(c1), "{\"content\":\"b\",\"chunk_index\":1}",
		       "a chunk state holds only the multiplier's outputs");
		ok(pipeline_execute_chunk(p, c1, &ctx0, &res, &e) == 0, "a chunk runs on its own");
		is_str(sget(res.result, "assistant"), "b!", "... through the rest of the pipeline");
		is_str(sget(res.result, "pipeline_output"), "b!", "... with its pipeline_output");
		is_int(json_object_array_length(res.trace), 1,
		       "its trace holds the blocks after the multiplier");
		pipeline_result_free(&res);
	}
	json_object_put(chunks);

	ok(pipeline_execute_all(p, meta, &ctx0, &all, &e) == 0, "execute_all runs every chunk");
	ok(all && json_object_object_get_ex(all, "results", &v) &&
	   json_object_array_length(v) == 3, "{results: [...]} has one entry per chunk");
	if (all && v && json_object_array_length(v) == 3) {
		struct json_object *r2 = json_object_array_get_idx(v, 2);

		is_str(sget(cfg_get(r2, "result"), "assistant"), "c!", "results keep chunk order");
		ok(sget(r2, "trace_id") && cfg_get(r2, "trace") && cfg_get(r2, "usage"),
		   "each result has trace, trace_id and usage");
		ok(strcmp(sget(json_object_array_get_idx(v, 0), "trace_id"),
			  sget(r2, "trace_id")) != 0, "each chunk has its own trace_id");
	}
	json_object_put(all);
	json_object_put(meta);

	meta = J("{\"text\":\"ok,bad\"}");
	ok(pipeline_expand(p, meta, &ctx0, &chunks, NULL, &e) == 0, "expand ok,bad");
	if (chunks) {
		ok(pipeline_execute_chunk(p, json_object_array_get_idx(chunks, 1), &ctx0, &res,
					  &e) == -1, "a failing chunk fails alone");
		is_int(iget(e.detail, "step"), 2,
		       "the step counts the multiplier (block after it is step 2)");
		pipeline_result_free(&res);
		dgen_err_clear(&e);
	}
	json_object_put(chunks);
	json_object_put(meta);

	meta = J("{\"other\":1}");
	ok(pipeline_expand(p, meta, &ctx0, &chunks, NULL, &e) == -1, "a failing multiplier");
	is_str(e.msg, "Block 'Splitter' failed at step 1: no text to split",
	       "... fails at step 1");
	dgen_err_clear(&e);
	json_object_put(meta);
	{
		struct json_object *f = pipeline_accumulated_fields(p);

		is_str(jtext(f), "[\"content\",\"chunk_index\",\"assistant\"]",
		       "accumulated fields: the union of declared outputs");
		json_object_put(f);
	}
	pipeline_free(p);
}

/* Builtin blocks without an LLM: validator then a metric. */
static void test_builtin_blocks(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_pipeline *p = load(
		"{\"name\":\"builtin\",\"blocks\":["
		"{\"type\":\"ValidatorBlock\",\"config\":{\"min_length\":5}},"
		"{\"type\":\"CoherenceScore\",\"config\":{\"field_name\":\"text\"}}]}", &e);
	struct json_object *meta = J("{\"text\":\"One two three four. Five six.\"}"), *v;
	struct dgen_exec_result res;

	if (!ok(p != NULL, "validator + coherence pipeline loads (%s)", e.msg)) {
		json_object_put(meta);
		return;
	}
	ok(pipeline_execute(p, meta, &ctx0, &res, &e) == 0, "it runs without an LLM (%s)", e.msg);
	ok(json_object_get_boolean(cfg_get(res.result, "valid")), "the validator passed the text");
	v = cfg_get(res.result, "coherence_score");
	ok(v != NULL, "the metric is in the state");
	if (v)
		is_dbl(json_object_get_double(v), 0.15, 1e-9, "3 words per sentence / 20 = 0.15");
	ok(json_object_object_get_ex(res.result, "assistant", NULL) &&
	   json_object_equal(cfg_get(res.result, "pipeline_output"),
			     cfg_get(res.result, "assistant")),
	   "ValidatorBlock passes assistant through, so pipeline_output is assistant");
	pipeline_result_free(&res);
	pipeline_free(p);

	p = load("{\"name\":\"metric\",\"blocks\":["
		 "{\"type\":\"CoherenceScore\",\"config\":{\"field_name\":\"text\"}}]}", &e);
	ok(p && pipeline_execute(p, meta, &ctx0, &res, &e) == 0, "a lone metric runs");
	if (p) {
		v = cfg_get(res.result, "coherence_score");
		ok(v && cfg_get(res.result, "pipeline_output") &&
		   json_object_get_double(cfg_get(res.result, "pipeline_output")) ==
		   json_object_get_double(v),
		   "without assistant, pipeline_output = coherence_score (first output)");
	}
	pipeline_result_free(&res);
	json_object_put(meta);
	pipeline_free(p);
}

struct worker {
	const struct dgen_pipeline *p;
	int id;
	int good;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		struct dgen_err e = DGEN_ERR_INIT;
		struct dgen_exec_result res;
		char *m = dgen_xasprintf("{\"n\":%d,\"name\":\"w%d\"}", w->id * 1000 + i, w->id);
		struct json_object *meta = json_tokener_parse(m);
		char *want = dgen_xasprintf("hello w%d", w->id);

		if (pipeline_execute(w->p, meta, &ctx0, &res, &e) == 0 &&
		    iget(res.result, "n") == w->id * 1000 + i + 11 &&
		    strcmp(sget(res.result, "assistant"), want) == 0 &&
		    json_object_array_length(res.trace) == 3)
			w->good++;
		(void)json_object_to_json_string(res.trace); /* serialise like a runner */
		pipeline_result_free(&res);
		dgen_err_clear(&e);
		json_object_put(meta);
		free(want);
		free(m);
	}
	return NULL;
}

static void test_threads(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_pipeline *p = load(
		"{\"name\":\"mt\",\"blocks\":[{\"type\":\"Counter\"},{\"type\":\"Greeter\"},"
		"{\"type\":\"Counter\",\"config\":{\"step\":10}}]}", &e);
	pthread_t th[4];
	struct worker w[4];
	int good = 0;

	if (!p)
		return;
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ p, i + 1, 0 };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		good += w[i].good;
	}
	is_int(good, 800, "four threads running one pipeline all get their own right results");
	pipeline_free(p);
}

int main(void)
{
	struct dgen_err e = DGEN_ERR_INIT;

	dgen_log_init("test_pipeline", false, 2);
	reg = blocks_registry();
	for (size_t i = 0; i < DGEN_ARRAY_LEN(test_types); i++)
		if (registry_add(reg, &test_types[i], &e) != 0)
			diag("cannot add %s: %s", test_types[i].type, e.msg);
	memset(&ctx0, 0, sizeof ctx0);
	ctx0.tlim = NULL; /* template defaults */

	test_merge_and_trace();
	test_pipeline_output();
	test_undeclared();
	test_failure();
	test_cancel();
	test_load_errors();
	test_constraints();
	test_multiplier();
	test_builtin_blocks();
	test_threads();
	registry_free(reg);
	return done_testing();
}
