/*
 * api_models.c - /api/llm-models and /api/embedding-models (SPEC.md §9):
 * the same handlers for both kinds, told apart by the route's path.
 * Keys are write-only: answers carry api_key_set and the last 4
 * characters; the key file is loaded on the worker's first models request,
 * which also makes the model "default" from the settings when a kind has
 * no model yet.
 */
#include "config.h"

#include <string.h>

#include "dgen/api.h"
#include "dgen/log.h"
#include "dgen/modelcfg.h"
#include "dgen/saved_models.h"
#include "dgen/util.h"

static enum dgen_model_kind kind_of(const struct api_ctx *c)
{
	return strncmp(c->req->path, "/api/embedding-models", 21) == 0 ? DGEN_MODEL_EMBEDDING
								       : DGEN_MODEL_LLM;
}

/* Makes the model of the settings for a kind without models. Settings
 * that do not describe a usable model leave the table empty (logged). */
static void bootstrap(struct api_ctx *c, struct dgen_db *db, enum dgen_model_kind kind)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_model m;
	bool made = false;

	memset(&m, 0, sizeof m);
	if (modelcfg_from_config(c->cfg, kind, &m, &err) == 0)
		saved_models_bootstrap(db, kind, &m, &c->w->key, &made, &err);
	if (err.code != DGEN_OK)
		dgen_warn("no %s model made from the settings: %s", model_kind_name(kind), err.msg);
	else if (made)
		dgen_info("saved the %s model 'default' from the settings", model_kind_name(kind));
	model_clear(&m);
	dgen_err_clear(&err);
}

struct dgen_db *api_models_db(struct api_ctx *c)
{
	struct api_worker *w = c->w;
	struct dgen_db *db = api_db(c);

	if (!db || w->models_ready)
		return db;
	if (secret_key_load_config(c->cfg, &w->key, &c->err) != 0) {
		dgen_error("%s", c->err.msg);
		dgen_err_set(&c->err, DGEN_EIO, "The key file of stored secrets cannot be read");
		return NULL;
	}
	bootstrap(c, db, DGEN_MODEL_LLM);
	bootstrap(c, db, DGEN_MODEL_EMBEDDING);
	w->models_ready = true;
	return db;
}

static int json_body(struct api_ctx *c, struct json_object **out)
{
	struct dgen_json_limits lim;

	api_json_limits(c, &lim);
	return request_json_body(c->req, &lim, false, out, &c->err);
}

int api_models_list(struct api_ctx *c)
{
	struct dgen_db *db = api_models_db(c);
	struct json_object *arr;

	if (!db || saved_models_list(db, kind_of(c), &arr, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, arr);
}

int api_models_get(struct api_ctx *c)
{
	struct dgen_db *db = api_models_db(c);
	struct json_object *o;

	if (!db || saved_models_get(db, kind_of(c), c->name, &o, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, o);
}

/* POST and PUT: read, validate, write, answer the stored public form. */
static int save(struct api_ctx *c, const char *old_name)
{
	enum dgen_model_kind kind = kind_of(c);
	struct json_object *body = NULL, *o = NULL;
	struct dgen_model m;
	struct dgen_db *db;
	bool key_given;
	int st;

	memset(&m, 0, sizeof m);
	if (json_body(c, &body) != 0 || model_from_json(body, kind, &m, &key_given, &c->err) != 0 ||
	    !(db = api_models_db(c)) ||
	    (old_name ? saved_models_update(db, kind, old_name, &m, !key_given, &c->w->key, &c->err)
		      : saved_models_insert(db, kind, &m, &c->w->key, &c->err)) != 0 ||
	    saved_models_get(db, kind, m.name, &o, &c->err) != 0) {
		st = api_fail(c);
		goto out;
	}
	st = api_ok(c, old_name ? 200 : 201, o);
out:
	model_clear(&m);
	json_object_put(body);
	return st;
}

int api_models_create(struct api_ctx *c)
{
	return save(c, NULL);
}

int api_models_update(struct api_ctx *c)
{
	return save(c, c->name);
}

int api_models_delete(struct api_ctx *c)
{
	struct dgen_db *db = api_models_db(c);

	if (!db || saved_models_delete(db, kind_of(c), c->name, &c->err) != 0)
		return api_fail(c);
	return api_ok_member(c, "success", json_object_new_boolean(1));
}

/* The body is a model as POST takes it; without api_key, the key stored
 * under that name (if any) is used, so a saved model can be tested again
 * without sending its key. Only success, a short reason and the latency
 * are answered. */
int api_models_test(struct api_ctx *c)
{
	enum dgen_model_kind kind = kind_of(c);
	struct json_object *body = NULL, *o;
	struct dgen_model m, stored;
	struct dgen_db *db;
	char msg[256];
	long ms = 0;
	bool key_given, okay;
	int st;

	memset(&m, 0, sizeof m);
	memset(&stored, 0, sizeof stored);
	if (json_body(c, &body) != 0 || model_from_json(body, kind, &m, &key_given, &c->err) != 0 ||
	    !(db = api_models_db(c))) {
		st = api_fail(c);
		goto out;
	}
	if (!key_given &&
	    saved_models_get_full(db, kind, m.name, &c->w->key, &stored, &c->err) == 0 &&
	    stored.api_key) {
		m.api_key = stored.api_key;
		stored.api_key = NULL;
	}
	dgen_err_clear(&c->err);
	okay = modelcfg_test(c->cfg, &m, kind, msg, sizeof msg, &ms);
	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(okay));
	dgen_json_add_str(o, "message", msg);
	json_object_object_add(o, "latency_ms", json_object_new_int64(ms));
	st = api_ok(c, 200, o);
out:
	model_clear(&stored);
	model_clear(&m);
	json_object_put(body);
	return st;
}
