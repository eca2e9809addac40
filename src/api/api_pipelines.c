/*
 * api_pipelines.c - /api/pipelines: create (from a body or a template), list,
 * read, replace, delete, run one seed synchronously, the accumulated state
 * schema and the review layout.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/api.h"
#include "dgen/buf.h"
#include "dgen/clock.h"
#include "dgen/log.h"
#include "dgen/pipeline.h"
#include "dgen/saved_pipelines.h"

#define NAME_MAX_BYTES 256

int api_load_pipeline(struct api_ctx *c, int64_t id, struct dgen_pipeline **out)
{
	struct dgen_db *db = api_db(c);
	char *def_text = NULL;
	struct json_object *def = NULL;
	struct dgen_registry *reg;
	int rc = -1;

	*out = NULL;
	if (!db)
		return -1;
	if (saved_pipelines_get_definition(db, c->who, id, NULL, &def_text, &c->err) != 0) {
		if (c->err.code == DGEN_ENOTFOUND) {
			dgen_err_set(&c->err, DGEN_ENOTFOUND, "Pipeline %lld not found", (long long)id);
			dgen_err_detail_int(&c->err, "pipeline_id", id);
		}
		goto out;
	}
	def = json_tokener_parse(def_text);
	reg = api_registry(c);
	if (pipeline_load(reg, def, out, &c->err) != 0) {
		struct dgen_buf msg = DGEN_BUF_INIT;
		size_t room;

		dgen_buf_printf(&msg, "Stored pipeline %lld no longer loads: %s", (long long)id,
				c->err.msg);
		room = msg.len < sizeof c->err.msg ? msg.len : sizeof c->err.msg - 1;
		memcpy(c->err.msg, msg.data, room);
		c->err.msg[room] = '\0';
		dgen_buf_free(&msg);
		if (c->err.code == DGEN_EBADREQ)
			c->err.code = DGEN_EINVALID;
		goto out;
	}
	rc = 0;
out:
	json_object_put(def);
	free(def_text);
	return rc;
}

/* Checks a definition body (POST and PUT): an object with exactly name,
 * blocks and optional constraints, which the engine can load. Missing or
 * wrong-typed fields are 400, a definition the engine refuses is 422. */
static int check_definition(struct api_ctx *c, struct json_object *body, const char **name)
{
	static const char *const allowed[] = { "name", "blocks", "constraints", NULL };
	struct json_object *blocks = NULL;
	struct dgen_pipeline *p = NULL;

	if (!json_object_is_type(body, json_type_object)) {
		dgen_err_set(&c->err, DGEN_EBADREQ,
			     "Request body must be a JSON object {name, blocks, constraints?}");
		return -1;
	}
	if (dgen_json_get_str(body, "", "name", true, name, &c->err) != 0 ||
	    dgen_json_get_arr(body, "", "blocks", true, &blocks, &c->err) != 0 ||
	    dgen_json_only_keys(body, "", allowed, &c->err) != 0)
		return -1;
	if (!**name || strlen(*name) > NAME_MAX_BYTES) {
		dgen_err_set(&c->err, DGEN_EBADREQ, "'name' must be 1 to %d bytes", NAME_MAX_BYTES);
		dgen_err_detail_str(&c->err, "field", "name");
		dgen_err_detail_int(&c->err, "limit", NAME_MAX_BYTES);
		return -1;
	}
	if (pipeline_load(api_registry(c), body, &p, &c->err) != 0)
		return -1;
	pipeline_free(p);
	return api_models_check(c, body);
}

static struct json_object *id_name(int64_t id, const char *name)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "name", json_object_new_string(name));
	return o;
}

/* Reads the JSON body with the configured limits; a handler's first step. */
static int json_body(struct api_ctx *c, bool allow_empty, struct json_object **out)
{
	struct dgen_json_limits lim;

	api_json_limits(c, &lim);
	return request_json_body(c->req, &lim, allow_empty, out, &c->err);
}

int api_pipelines_create(struct api_ctx *c)
{
	struct json_object *body = NULL;
	struct dgen_db *db;
	const char *name;
	int64_t id;
	int st;

	if (json_body(c, false, &body) != 0 || check_definition(c, body, &name) != 0 ||
	    !(db = api_db(c)) ||
	    saved_pipelines_insert(db, c->who, name, dgen_json_compact(body), &id, &c->err) != 0) {
		st = api_fail(c);
		goto out;
	}
	st = api_ok(c, 200, id_name(id, name));
out:
	json_object_put(body);
	return st;
}

int api_pipelines_update(struct api_ctx *c)
{
	struct json_object *body = NULL;
	struct dgen_db *db;
	const char *name;
	int st;

	if (json_body(c, false, &body) != 0 || check_definition(c, body, &name) != 0 ||
	    !(db = api_db(c)) ||
	    saved_pipelines_update(db, c->who, c->id, name, dgen_json_compact(body), &c->err) != 0) {
		if (c->err.code == DGEN_ENOTFOUND) {
			dgen_err_set(&c->err, DGEN_ENOTFOUND, "Pipeline %lld not found",
				     (long long)c->id);
			dgen_err_detail_int(&c->err, "pipeline_id", c->id);
		}
		st = api_fail(c);
		goto out;
	}
	st = api_ok(c, 200, id_name(c->id, name));
out:
	json_object_put(body);
	return st;
}

int api_pipelines_from_template(struct api_ctx *c)
{
	struct dgen_catalog *ts = api_templates(c);
	const struct dgen_pipeline_template *t = catalog_find(ts, c->name);
	struct dgen_pipeline *p = NULL;
	struct dgen_db *db;
	struct json_object *o;
	int64_t id;

	if (!t) {
		struct json_object *ids = json_object_new_array();

		for (size_t i = 0; i < ts->n; i++)
			json_object_array_add(ids, json_object_new_string(ts->v[i].id));
		dgen_err_set(&c->err, DGEN_ENOTFOUND, "Template '%s' not found", c->name);
		dgen_err_detail_str(&c->err, "template_id", c->name);
		dgen_err_detail(&c->err, "available_templates", ids);
		return api_fail(c);
	}
	if (pipeline_load(api_registry(c), t->definition, &p, &c->err) != 0)
		return api_fail(c);
	pipeline_free(p);
	if (api_models_check(c, t->definition) != 0)
		return api_fail(c);
	if (!(db = api_db(c)) ||
	    saved_pipelines_insert(db, c->who, t->name, dgen_json_compact(t->definition), &id, &c->err) != 0)
		return api_fail(c);
	o = id_name(id, t->name);
	json_object_object_add(o, "template_id", json_object_new_string(t->id));
	return api_ok(c, 200, o);
}

int api_pipelines_list(struct api_ctx *c)
{
	struct dgen_db *db;
	struct json_object *arr;
	int64_t limit, offset, total;

	if (api_page_params(c, &limit, &offset) != 0 || !(db = api_db(c)) ||
	    saved_pipelines_page(db, c->who, limit, offset, &total, &arr, &c->err) != 0)
		return api_fail(c);
	return api_ok_page(c, total, arr);
}

static int not_found(struct api_ctx *c)
{
	if (c->err.code == DGEN_ENOTFOUND) {
		dgen_err_set(&c->err, DGEN_ENOTFOUND, "Pipeline %lld not found", (long long)c->id);
		dgen_err_detail_int(&c->err, "pipeline_id", c->id);
	}
	return api_fail(c);
}

/* first_block_is_multiplier comes from the registry, not the stored
 * text: a plugin block may be the multiplier. */
int api_pipelines_get(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	struct json_object *o, *def, *blocks, *first, *type;
	bool multi = false;

	if (!db || saved_pipelines_get(db, c->who, c->id, &o, &c->err) != 0)
		return not_found(c);
	if (json_object_object_get_ex(o, "definition", &def) &&
	    json_object_object_get_ex(def, "blocks", &blocks) &&
	    json_object_is_type(blocks, json_type_array) &&
	    json_object_array_length(blocks) > 0 &&
	    (first = json_object_array_get_idx(blocks, 0)) &&
	    json_object_object_get_ex(first, "type", &type)) {
		const struct dgen_block_type *t =
			registry_find(api_registry(c), json_object_get_string(type));

		multi = t && t->is_multiplier;
	}
	json_object_object_add(o, "first_block_is_multiplier", json_object_new_boolean(multi));
	return api_ok(c, 200, o);
}

int api_pipelines_delete(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	struct json_object *o;

	if (!db || saved_pipelines_delete(db, c->who, c->id, &c->err) != 0)
		return not_found(c);
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(true));
	return api_ok(c, 200, o);
}

/* The block context of an execute request, from the worker's execution
 * environment. The stored models are handed over on every request (an
 * unchanged set keeps its clients), so a model deleted since fails the
 * blocks that name it. The LLM handle is made on the first execute
 * request of a worker and kept: it holds connections worth reusing, and
 * most workers never need one. Without it, blocks that need an LLM say so
 * themselves. */
static struct dgen_block_ctx execute_ctx(struct api_ctx *c, double deadline)
{
	struct api_worker *w = c->w;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_model_list llm, emb;
	struct dgen_block_ctx ctx;

	if (api_models_load(c, &llm, &emb) == 0)
		exec_set_models(api_exec(c), &llm, &emb);
	else
		dgen_warn("execute without the stored models: %s", c->err.msg);
	dgen_err_clear(&c->err);
	model_list_free(&llm);
	model_list_free(&emb);

	if (!w->llm && !(w->llm = exec_handle_new(api_exec(c), &err)))
		dgen_warn("no LLM client for execute: %s", err.msg);
	dgen_err_clear(&err);
	ctx = exec_block_ctx(api_exec(c), w->llm, NULL, deadline);
	ctx.owner_id = dgen_caller_owner(c->who); /* the caller's own models, then global */
	return ctx;
}

/*
 * Runs the pipeline on the body (the initial state) right here, stores
 * nothing. The whole run is bounded by the LLM timeout plus a margin, so
 * it ends before the web server's read timeout (conf/nginx-dgen.conf).
 * A failing block is the client's problem to fix (400 with the block's
 * detail); running out of time is 504.
 */
int api_pipelines_execute(struct api_ctx *c)
{
	struct json_object *body = NULL, *out = NULL;
	struct dgen_pipeline *p = NULL;
	struct dgen_block_ctx bctx;
	struct dgen_llm_usage usage = { 0 };
	double budget = (double)c->cfg->llm_timeout_ms / 1000.0;
	int st, slot, rc;

	if (json_body(c, true, &body) != 0) {
		st = api_fail(c);
		goto done;
	}
	if (!json_object_is_type(body, json_type_object)) {
		st = api_failf(c, DGEN_EBADREQ,
			       "Request body must be a JSON object: the initial state");
		goto done;
	}
	if (api_load_pipeline(c, c->id, &p) != 0) {
		st = api_fail(c);
		goto done;
	}
	if (budget <= 0)
		budget = 120;
	if ((slot = api_execute_enter(c)) == -1) {
		respond_header(c->resp, "Retry-After", API_EXECUTE_RETRY);
		st = respond_error_as(c->resp, 429, &c->err);
		goto done;
	}
	bctx = execute_ctx(c, dgen_clock_mono() + budget + 5);
	bctx.usage = &usage;
	rc = pipeline_execute_all(p, body, &bctx, &out, &c->err);
	api_execute_leave(c, slot);
	if (rc != 0) {
		if (c->err.code == DGEN_ECANCELLED) {
			snprintf(c->err.msg, sizeof c->err.msg,
				 "Execution took longer than %.0f seconds", budget + 5);
			st = respond_error_as(c->resp, 504, &c->err);
		} else if (c->err.code == DGEN_EBUSY || c->err.code == DGEN_EINTERNAL ||
			   c->err.code == DGEN_EIO) {
			st = api_fail(c);
		} else {
			/* block failures, undeclared outputs, template limits, LLM
			 * errors: all about this pipeline and this input */
			st = respond_error_as(c->resp, 400, &c->err);
		}
		goto done;
	}
	st = api_ok(c, 200, out);
	out = NULL;
done:
	json_object_put(out);
	json_object_put(body);
	pipeline_free(p);
	return st;
}

int api_pipelines_state_schema(struct api_ctx *c)
{
	struct dgen_pipeline *p = NULL;
	struct json_object *o;

	if (api_load_pipeline(c, c->id, &p) != 0)
		return api_fail(c);
	o = json_object_new_object();
	json_object_object_add(o, "fields", pipeline_accumulated_fields(p));
	pipeline_free(p);
	return api_ok(c, 200, o);
}

/* The review layout: {"field_order": {"primary": [..], "secondary": [..],
 * "hidden": [..]}}, each list of field names (strings), each optional. */
static int check_layout(struct api_ctx *c, struct json_object *body)
{
	static const char *const top[] = { "field_order", NULL };
	static const char *const lists[] = { "primary", "secondary", "hidden", NULL };
	struct json_object *fo = NULL;

	if (!json_object_is_type(body, json_type_object))
		return dgen_err_set(&c->err, DGEN_EBADREQ,
				    "Request body must be a JSON object {field_order}");
	if (dgen_json_only_keys(body, "", top, &c->err) != 0 ||
	    dgen_json_get_obj(body, "", "field_order", true, &fo, &c->err) != 0 ||
	    dgen_json_only_keys(fo, "field_order", lists, &c->err) != 0)
		return -1;
	for (size_t i = 0; lists[i]; i++) {
		struct json_object *arr = NULL;
		char *path;

		if (dgen_json_get_arr(fo, "field_order", lists[i], false, &arr, &c->err) != 0)
			return -1;
		if (!arr)
			continue;
		path = dgen_json_path_key("field_order", lists[i]);
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			if (!json_object_is_type(json_object_array_get_idx(arr, k),
						 json_type_string)) {
				char *ip = dgen_json_path_idx(path, k);

				dgen_json_type_error(&c->err, DGEN_EBADREQ, ip, NULL, "a string");
				free(ip);
				free(path);
				return -1;
			}
		}
		free(path);
	}
	return 0;
}

int api_pipelines_validation_config(struct api_ctx *c)
{
	struct json_object *body = NULL, *o;
	struct dgen_db *db;
	int st;

	if (json_body(c, false, &body) != 0 || check_layout(c, body) != 0) {
		st = api_fail(c);
		goto out;
	}
	if (!(db = api_db(c)) ||
	    saved_pipelines_set_validation_config(db, c->who, c->id, dgen_json_compact(body), &c->err) != 0) {
		st = not_found(c);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(true));
	st = api_ok(c, 200, o);
out:
	json_object_put(body);
	return st;
}
