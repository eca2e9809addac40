/*
 * pipeline.c - a pipeline definition checked and compiled once, then run
 * over many seeds from many threads.
 *
 * Each execution keeps its state as a chain of immutable snapshots: the
 * state after a block is a new object sharing (by reference) the values
 * of the state before it and of the block's output. Nothing is modified
 * after it is built, so trace entries can point at the snapshots instead
 * of deep-copying the whole state twice per block; only the seed metadata
 * is deep-copied, because the caller may share it between threads.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/clock.h"
#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/pipeline.h"
#include "dgen/util.h"

struct pblock {
	const struct dgen_block_type *type;
	struct json_object *config; /* checked, defaults filled */
	void *state;                /* from type->init */
	bool inited;
};

struct dgen_pipeline {
	char *name;
	struct pblock *b;
	size_t n;
	struct dgen_constraints cons;
};

static void free_blocks(struct pblock *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i].inited && b[i].type->free)
			b[i].type->free(b[i].state);
		json_object_put(b[i].config);
	}
	free(b);
}

void pipeline_free(struct dgen_pipeline *p)
{
	if (!p)
		return;
	free_blocks(p->b, p->n);
	free(p->name);
	free(p);
}

/*
 * A block's init() knows its config keys, not where the block sits in the
 * pipeline: put the position in front of its message and field.
 */
static void init_error(struct dgen_err *err, size_t i, const char *type,
		       struct dgen_err *e)
{
	struct json_object *detail = e->detail ? json_object_get(e->detail) : NULL;
	struct json_object *field = NULL;
	enum dgen_errcode code = e->code != DGEN_OK ? e->code : DGEN_EINVALID;
	char *msg = dgen_xstrdup(e->msg[0] ? e->msg : "initialisation failed");

	dgen_err_set(err, code, "blocks[%zu] (%s): %s", i, type, msg);
	if (detail) {
		json_object_object_foreach(detail, k, v)
			dgen_err_detail(err, k, json_object_get(v));
		json_object_put(detail);
	}
	if (err->detail && json_object_object_get_ex(err->detail, "field", &field) &&
	    json_object_is_type(field, json_type_string) &&
	    strncmp(json_object_get_string(field), "blocks[", 7) != 0) {
		char *f = dgen_xasprintf("blocks[%zu].config.%s", i, json_object_get_string(field));

		dgen_err_detail_str(err, "field", f);
		free(f);
	} else if (!field) {
		char *f = dgen_xasprintf("blocks[%zu].config", i);

		dgen_err_detail_str(err, "field", f);
		free(f);
	}
	dgen_err_detail_str(err, "block_type", type);
	free(msg);
}

static int not_found(struct dgen_err *err, const struct dgen_registry *reg, const char *type,
		     const char *field)
{
	dgen_err_set(err, DGEN_EINVALID, "Block '%s' not found", type);
	dgen_err_detail_str(err, "block_type", type);
	dgen_err_detail(err, "available_blocks", registry_type_ids(reg));
	dgen_err_detail_str(err, "field", field);
	return -1;
}

/* The definition's own fields: a non-empty name and a list of at most
 * DGEN_PIPELINE_MAX_BLOCKS blocks (borrowed from def). */
static int read_outline(struct json_object *def, const char **name, struct json_object **blocks,
			struct dgen_err *err)
{
	size_t n;

	if (!def || !json_object_is_type(def, json_type_object))
		return dgen_err_set(err, DGEN_EBADREQ, "the pipeline definition must be a JSON object");
	if (dgen_json_get_str(def, "", "name", true, name, err) != 0 ||
	    dgen_json_get_arr(def, "", "blocks", true, blocks, err) != 0)
		return -1;
	if (!**name) {
		dgen_err_set(err, DGEN_EBADREQ, "'name' must not be empty");
		dgen_err_detail_str(err, "field", "name");
		return -1;
	}
	n = json_object_array_length(*blocks);
	if (n > DGEN_PIPELINE_MAX_BLOCKS) {
		dgen_err_set(err, DGEN_EINVALID, "'blocks' has %zu blocks; at most %d are allowed",
			     n, DGEN_PIPELINE_MAX_BLOCKS);
		dgen_err_detail_str(err, "field", "blocks");
		dgen_err_detail_int(err, "limit", DGEN_PIPELINE_MAX_BLOCKS);
		return -1;
	}
	return 0;
}

/*
 * blocks[i] of the definition: its type, found in the registry (only the
 * first block may be a multiplier), and its config checked against the
 * type's parameters with defaults filled in. Errors name the field as
 * "blocks[i].type" / "blocks[i].config...".
 */
static int load_block(const struct dgen_registry *reg, struct json_object *bd, size_t i,
		      struct pblock *b, struct dgen_err *err)
{
	struct json_object *cfg = NULL;
	const struct dgen_block_type *t;
	const char *type = NULL;
	char *path = dgen_xasprintf("blocks[%zu]", i), *field = NULL;
	int rc = -1;

	if (!bd || !json_object_is_type(bd, json_type_object)) {
		dgen_json_type_error(err, DGEN_EBADREQ, path, NULL, "an object");
		goto out;
	}
	if (dgen_json_get_str(bd, path, "type", true, &type, err) != 0)
		goto out;
	field = dgen_xasprintf("%s.type", path);
	if (!(t = registry_find(reg, type))) {
		not_found(err, reg, type, field);
		goto out;
	}
	if (t->is_multiplier && i != 0) {
		dgen_err_set(err, DGEN_EINVALID,
			     "'%s': %s is a multiplier block; a pipeline may have one, "
			     "and only as its first block", field, type);
		dgen_err_detail_str(err, "field", field);
		dgen_err_detail_str(err, "block_type", type);
		goto out;
	}
	json_object_object_get_ex(bd, "config", &cfg);
	free(field);
	field = dgen_xasprintf("%s.config", path);
	b->type = t;
	if (registry_check_config(t, cfg, field, &b->config, err) != 0) {
		dgen_err_detail_str(err, "block_type", type);
		goto out;
	}
	rc = 0;
out:
	free(path);
	free(field);
	return rc;
}

/* Runs every block's init() in order; the first failure is reported with
 * the block's position (init_error). Blocks inited so far are marked so
 * that pipeline_free() releases exactly those. */
static int init_blocks(struct dgen_pipeline *p, struct dgen_err *err)
{
	for (size_t i = 0; i < p->n; i++) {
		struct pblock *b = &p->b[i];
		struct dgen_err e = DGEN_ERR_INIT;

		if (b->type->init && b->type->init(b->config, &b->state, &e) != 0) {
			init_error(err, i, b->type->type, &e);
			dgen_err_clear(&e);
			return -1;
		}
		b->inited = true;
	}
	return 0;
}

/* Every block's type and config is checked before any init() runs, so a
 * bad later block is reported without side effects of the earlier ones. */
int pipeline_load(const struct dgen_registry *reg, struct json_object *def,
		  struct dgen_pipeline **out, struct dgen_err *err)
{
	struct dgen_pipeline *p = NULL;
	struct json_object *blocks = NULL, *cons = NULL;
	const char *name = NULL;
	size_t n;

	*out = NULL;
	if (read_outline(def, &name, &blocks, err) != 0)
		return -1;
	n = json_object_array_length(blocks);
	p = dgen_xcalloc(1, sizeof *p);
	p->name = dgen_xstrdup(name);
	p->b = dgen_xcalloc(n ? n : 1, sizeof *p->b);
	p->n = n;
	for (size_t i = 0; i < n; i++)
		if (load_block(reg, json_object_array_get_idx(blocks, i), i, &p->b[i], err) != 0)
			goto fail;
	if (json_object_object_get_ex(def, "constraints", &cons) &&
	    constraints_parse(cons, "constraints", &p->cons, err) != 0)
		goto fail;
	if (!cons)
		constraints_init(&p->cons);
	if (init_blocks(p, err) != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	pipeline_free(p);
	return -1;
}

const char *pipeline_name(const struct dgen_pipeline *p)
{
	return p->name;
}

size_t pipeline_n_blocks(const struct dgen_pipeline *p)
{
	return p->n;
}

const struct dgen_block_type *pipeline_block_type(const struct dgen_pipeline *p, size_t i)
{
	return i < p->n ? p->b[i].type : NULL;
}

struct json_object *pipeline_block_config(const struct dgen_pipeline *p, size_t i)
{
	return i < p->n ? p->b[i].config : NULL;
}

bool pipeline_is_multiplier(const struct dgen_pipeline *p)
{
	return p->n > 0 && p->b[0].type->is_multiplier;
}

const struct dgen_constraints *pipeline_constraints(const struct dgen_pipeline *p)
{
	return &p->cons;
}

static bool array_has_str(struct json_object *a, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
			return true;
	return false;
}

struct json_object *pipeline_accumulated_fields(const struct dgen_pipeline *p)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < p->n; i++) {
		const char *const *o = p->b[i].type->outputs;

		for (size_t k = 0; o && o[k]; k++)
			if (strcmp(o[k], "*") != 0 && !array_has_str(a, o[k]))
				json_object_array_add(a, json_object_new_string(o[k]));
	}
	return a;
}

/* The non-empty prompt and schema templates of the pipeline, for
 * callers that show or check what will be sent. */
struct json_object *pipeline_prompts(const struct dgen_pipeline *p)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < p->n; i++) {
		const struct dgen_block_type *t = p->b[i].type;

		for (size_t k = 0; k < t->n_params; k++) {
			const struct dgen_block_param *pm = &t->params[k];
			struct json_object *v = NULL, *e;
			bool is_tpl = (pm->format && strcmp(pm->format, "prompt") == 0) ||
				      pm->type == DGEN_PARAM_SCHEMA;

			if (!is_tpl || !json_object_object_get_ex(p->b[i].config, pm->name, &v) ||
			    !json_object_is_type(v, json_type_string) ||
			    json_object_get_string_len(v) == 0)
				continue;
			e = json_object_new_object();
			json_object_object_add(e, "step", json_object_new_int64((int64_t)i));
			json_object_object_add(e, "block_type", json_object_new_string(t->type));
			json_object_object_add(e, "param", json_object_new_string(pm->name));
			json_object_object_add(e, "template", json_object_get(v));
			json_object_array_add(a, e);
		}
	}
	return a;
}

void pipeline_result_init(struct dgen_exec_result *r)
{
	memset(r, 0, sizeof *r);
}

void pipeline_result_free(struct dgen_exec_result *r)
{
	json_object_put(r->result);
	json_object_put(r->trace);
	pipeline_result_init(r);
}

struct json_object *pipeline_result_json(const struct dgen_exec_result *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "result", json_object_get(r->result));
	json_object_object_add(o, "trace", json_object_get(r->trace));
	json_object_object_add(o, "trace_id", json_object_new_string(r->trace_id));
	json_object_object_add(o, "usage", usage_to_json(&r->usage));
	return o;
}

/* A new object holding (shared) every value of a, then of b over it. */
static struct json_object *merged(struct json_object *a, struct json_object *b)
{
	struct json_object *m = json_object_new_object();

	json_object_object_foreach(a, ka, va)
		json_object_object_add(m, ka, json_object_get(va));
	if (b) {
		json_object_object_foreach(b, kb, vb)
			json_object_object_add(m, kb, json_object_get(vb));
	}
	return m;
}

static struct json_object *keys_of(struct json_object *o)
{
	struct json_object *a = json_object_new_array();

	json_object_object_foreach(o, k, v) {
		(void)v;
		json_object_array_add(a, json_object_new_string(k));
	}
	return a;
}

static bool declared(const struct dgen_block_type *t, const char *key)
{
	for (size_t i = 0; t->outputs[i]; i++)
		if (strcmp(t->outputs[i], "*") == 0 || strcmp(t->outputs[i], key) == 0)
			return true;
	return false;
}

/*
 * Checks that every key of out is a declared output; on failure fills err
 * (DGEN_EINVALID) with the three lists SPEC.md §1 names.
 */
static int check_outputs(const struct dgen_block_type *t, int step, struct json_object *out,
			 struct dgen_err *err)
{
	struct json_object *extra = NULL;
	struct dgen_buf names = DGEN_BUF_INIT;
	struct json_object *decl;

	json_object_object_foreach(out, k, v) {
		(void)v;
		if (declared(t, k))
			continue;
		if (!extra)
			extra = json_object_new_array();
		json_object_array_add(extra, json_object_new_string(k));
		if (names.len)
			dgen_buf_puts(&names, ", ");
		dgen_buf_puts(&names, k);
	}
	if (!extra)
		return 0;
	decl = json_object_new_array();
	for (size_t i = 0; t->outputs[i]; i++)
		json_object_array_add(decl, json_object_new_string(t->outputs[i]));
	dgen_err_set(err, DGEN_EINVALID, "Block '%s' returned undeclared fields: %s", t->type,
		     dgen_buf_str(&names));
	dgen_err_detail_str(err, "block_type", t->type);
	dgen_err_detail_int(err, "step", step);
	dgen_err_detail(err, "declared_outputs", decl);
	dgen_err_detail(err, "actual_outputs", keys_of(out));
	dgen_err_detail(err, "extra_fields", extra);
	dgen_buf_free(&names);
	return -1;
}

/* The error of a block that failed (or was cancelled) at a step. */
static void block_failed(struct dgen_err *err, const struct dgen_block_type *t, int step,
			 struct json_object *input, struct dgen_err *e)
{
	enum dgen_errcode code = e->code == DGEN_ECANCELLED ? DGEN_ECANCELLED : DGEN_EBLOCK;
	const char *why = e->msg[0] ? e->msg : "unknown error";
	struct json_object *cause = e->detail ? json_object_get(e->detail) : NULL;
	char *msg = dgen_xstrdup(why);

	dgen_err_set(err, code, "Block '%s' failed at step %d: %s", t->type, step, msg);
	dgen_err_detail_str(err, "block_type", t->type);
	dgen_err_detail_int(err, "step", step);
	dgen_err_detail_str(err, "error", msg);
	dgen_err_detail(err, "input", json_object_get(input));
	if (cause)
		dgen_err_detail(err, "cause", cause);
	free(msg);
}

static struct json_object *trace_entry(const char *type, struct json_object *input,
				       struct json_object *output, struct json_object *acc,
				       double dt, const char *error)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "block_type", json_object_new_string(type));
	json_object_object_add(e, "input", json_object_get(input));
	json_object_object_add(e, "output", json_object_get(output));
	if (!error)
		json_object_object_add(e, "accumulated_state", json_object_get(acc));
	/* to the microsecond: finer is noise, and such a number prints fast */
	json_object_object_add(e, "execution_time", dgen_json_new_double(round(dt * 1e6) / 1e6));
	if (error)
		json_object_object_add(e, "error", json_object_new_string(error));
	return e;
}

static int stop_requested(const struct dgen_block_ctx *ctx, const struct dgen_block_type *t,
			  int step, struct dgen_err *err)
{
	const char *why = NULL;

	if (ctx->cancel && atomic_load(ctx->cancel))
		why = "cancelled";
	else if (ctx->deadline > 0 && dgen_clock_mono() > ctx->deadline)
		why = "deadline passed";
	if (!why)
		return 0;
	dgen_err_set(err, DGEN_ECANCELLED, "Execution %s before step %d (%s)", why, step,
		     t->type);
	dgen_err_detail_str(err, "block_type", t->type);
	dgen_err_detail_int(err, "step", step);
	return -1;
}

/* pipeline_output (SPEC.md §2): assistant, else the last block's first output. */
static void set_pipeline_output(struct json_object *state, const struct dgen_block_type *last)
{
	struct json_object *v = NULL;

	if (json_object_object_get_ex(state, "pipeline_output", NULL))
		return;
	if (json_object_object_get_ex(state, "assistant", &v)) {
		json_object_object_add(state, "pipeline_output", json_object_get(v));
		return;
	}
	if (last->outputs[0] && strcmp(last->outputs[0], "*") != 0 &&
	    json_object_object_get_ex(state, last->outputs[0], &v))
		json_object_object_add(state, "pipeline_output", json_object_get(v));
}

/*
 * Runs blocks [from, n) over `state` (a new object owned by this call) as
 * one execution. The heart of the engine: see the header for the contract.
 */
static int run_blocks(const struct dgen_pipeline *p, size_t from, struct json_object *state,
		      const struct dgen_block_ctx *ctx, struct dgen_exec_result *res,
		      struct dgen_err *err)
{
	struct dgen_block_ctx bctx = *ctx;
	struct json_object *cur = state;
	int rc = -1;

	pipeline_result_init(res);
	dgen_uuid4(res->trace_id);
	res->trace = json_object_new_array();
	bctx.usage = &res->usage;
	bctx.trace_id = res->trace_id;
	if (dgen_log_debug_enabled())
		dgen_log(DGEN_LOG_DEBUG, res->trace_id, "pipeline '%s': %zu block(s) from step %zu",
			 p->name, p->n - from, from + 1);

	for (size_t i = from; i < p->n; i++) {
		const struct pblock *b = &p->b[i];
		const struct dgen_block_type *t = b->type;
		int step = (int)i + 1;
		struct json_object *out = NULL, *next;
		struct dgen_err e = DGEN_ERR_INIT;
		double t0, dt;

		if (stop_requested(&bctx, t, step, err) != 0) {
			res->failed_step = step;
			res->failed_block = t->type;
			goto out;
		}
		if (bctx.on_block)
			bctx.on_block(bctx.on_block_arg, t->type, step);
		t0 = dgen_clock_mono();
		if (t->execute(b->state, b->config, &bctx, cur, &out, &e) != 0 ||
		    !out || !json_object_is_type(out, json_type_object)) {
			dt = dgen_clock_mono() - t0;
			if (e.code == DGEN_OK)
				dgen_err_set(&e, DGEN_EINTERNAL, "returned %s instead of an object",
					     out ? json_type_to_name(json_object_get_type(out))
						 : "nothing");
			block_failed(err, t, step, cur, &e);
			json_object_array_add(res->trace,
					      trace_entry(t->type, cur, NULL, NULL, dt, e.msg));
			dgen_err_clear(&e);
			json_object_put(out);
			res->failed_step = step;
			res->failed_block = t->type;
			if (dgen_log_debug_enabled())
				dgen_log(DGEN_LOG_DEBUG, res->trace_id, "step %d %s failed in %.3fs: %s",
					 step, t->type, dt, err->msg);
			goto out;
		}
		dt = dgen_clock_mono() - t0;
		if (check_outputs(t, step, out, err) != 0) {
			json_object_array_add(res->trace,
					      trace_entry(t->type, cur, out, NULL, dt, err->msg));
			json_object_put(out);
			res->failed_step = step;
			res->failed_block = t->type;
			goto out;
		}
		next = merged(cur, out);
		if (i + 1 == p->n)
			set_pipeline_output(next, t);
		json_object_array_add(res->trace, trace_entry(t->type, cur, out, next, dt, NULL));
		json_object_put(out);
		json_object_put(cur);
		cur = next;
		if (dgen_log_debug_enabled())
			dgen_log(DGEN_LOG_DEBUG, res->trace_id, "step %d/%zu %s done in %.3fs", step,
				 p->n, t->type, dt);
	}
	res->result = cur;
	cur = NULL;
	rc = 0;
out:
	json_object_put(cur);
	return rc;
}

/* A thread-private copy of the caller's metadata (which may be shared). */
static int start_state(struct json_object *metadata, struct json_object **state,
		       struct dgen_err *err)
{
	if (metadata && !json_object_is_type(metadata, json_type_object))
		return dgen_err_set(err, DGEN_EBADREQ, "the initial state must be a JSON object");
	*state = metadata ? dgen_json_copy(metadata) : json_object_new_object();
	return 0;
}

int pipeline_execute(const struct dgen_pipeline *p, struct json_object *metadata,
		     const struct dgen_block_ctx *ctx, struct dgen_exec_result *res,
		     struct dgen_err *err)
{
	struct json_object *state = NULL;

	pipeline_result_init(res);
	if (pipeline_is_multiplier(p)) {
		dgen_uuid4(res->trace_id);
		res->trace = json_object_new_array();
		return dgen_err_set(err, DGEN_EINTERNAL,
				    "pipeline '%s' starts with a multiplier: run it per chunk",
				    p->name);
	}
	if (start_state(metadata, &state, err) != 0) {
		dgen_uuid4(res->trace_id);
		res->trace = json_object_new_array();
		return -1;
	}
	return run_blocks(p, 0, state, ctx, res, err);
}

int pipeline_execute_chunk(const struct dgen_pipeline *p, struct json_object *chunk,
			   const struct dgen_block_ctx *ctx, struct dgen_exec_result *res,
			   struct dgen_err *err)
{
	struct json_object *state = NULL;

	pipeline_result_init(res);
	if (!pipeline_is_multiplier(p) || start_state(chunk, &state, err) != 0) {
		dgen_uuid4(res->trace_id);
		res->trace = json_object_new_array();
		if (!pipeline_is_multiplier(p))
			dgen_err_set(err, DGEN_EINTERNAL,
				     "pipeline '%s' has no multiplier: run it per seed", p->name);
		return -1;
	}
	return run_blocks(p, 1, state, ctx, res, err);
}

/* Runs only the multiplier, so that the runner can queue its chunks as
 * seeds of their own; its usage is reported even when it fails. */
int pipeline_expand(const struct dgen_pipeline *p, struct json_object *metadata,
		    const struct dgen_block_ctx *ctx, struct json_object **chunks,
		    struct dgen_llm_usage *usage, struct dgen_err *err)
{
	const struct dgen_block_type *t;
	struct dgen_block_ctx bctx = *ctx;
	struct dgen_llm_usage u = { 0 };
	struct json_object *state = NULL, *out = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	char trace_id[DGEN_UUID_LEN];
	double t0;
	int rc = -1;

	*chunks = NULL;
	if (!pipeline_is_multiplier(p))
		return dgen_err_set(err, DGEN_EINTERNAL,
				    "pipeline '%s' has no multiplier to expand", p->name);
	t = p->b[0].type;
	if (start_state(metadata, &state, err) != 0 || stop_requested(ctx, t, 1, err) != 0)
		goto out;
	dgen_uuid4(trace_id);
	bctx.usage = &u;
	bctx.trace_id = trace_id;
	t0 = dgen_clock_mono();
	if (t->execute(p->b[0].state, p->b[0].config, &bctx, state, &out, &e) != 0 || !out ||
	    !json_object_is_type(out, json_type_array)) {
		if (e.code == DGEN_OK)
			dgen_err_set(&e, DGEN_EINTERNAL, "returned %s instead of an array of chunks",
				     out ? json_type_to_name(json_object_get_type(out)) : "nothing");
		block_failed(err, t, 1, state, &e);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(out); i++) {
		struct json_object *c = json_object_array_get_idx(out, i);

		if (!c || !json_object_is_type(c, json_type_object)) {
			dgen_err_set(&e, DGEN_EINTERNAL, "chunk %zu is not an object", i);
			block_failed(err, t, 1, state, &e);
			goto out;
		}
		if (check_outputs(t, 1, c, err) != 0)
			goto out;
	}
	if (dgen_log_debug_enabled())
		dgen_log(DGEN_LOG_DEBUG, trace_id, "step 1 %s made %zu chunk(s) in %.3fs", t->type,
			 json_object_array_length(out), dgen_clock_mono() - t0);
	*chunks = out;
	out = NULL;
	rc = 0;
out:
	if (usage)
		usage_add(usage, &u);
	dgen_err_clear(&e);
	json_object_put(out);
	json_object_put(state);
	return rc;
}

/* For the synchronous execute endpoint: a multiplier's chunks run one
 * after the other here, where the runner would queue them. */
int pipeline_execute_all(const struct dgen_pipeline *p, struct json_object *metadata,
			 const struct dgen_block_ctx *ctx, struct json_object **out,
			 struct dgen_err *err)
{
	struct dgen_exec_result res;
	struct json_object *chunks = NULL, *results;
	struct dgen_llm_usage u = { 0 };

	*out = NULL;
	if (!pipeline_is_multiplier(p)) {
		if (pipeline_execute(p, metadata, ctx, &res, err) != 0) {
			pipeline_result_free(&res);
			return -1;
		}
		*out = pipeline_result_json(&res);
		pipeline_result_free(&res);
		return 0;
	}
	if (pipeline_expand(p, metadata, ctx, &chunks, &u, err) != 0)
		return -1;
	results = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(chunks); i++) {
		if (pipeline_execute_chunk(p, json_object_array_get_idx(chunks, i), ctx, &res,
					   err) != 0) {
			pipeline_result_free(&res);
			json_object_put(results);
			json_object_put(chunks);
			return -1;
		}
		/* the multiplier's own LLM cost, if any, goes to the first chunk */
		if (i == 0)
			usage_add(&res.usage, &u);
		json_object_array_add(results, pipeline_result_json(&res));
		pipeline_result_free(&res);
	}
	json_object_put(chunks);
	*out = json_object_new_object();
	json_object_object_add(*out, "results", results);
	return 0;
}
