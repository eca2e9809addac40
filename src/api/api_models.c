/*
 * api_models.c - /api/llm-models and /api/embedding-models (SPEC.md §9):
 * the same handlers for both kinds, told apart by the route's path.
 * Keys are write-only: answers carry api_key_set and the last 4
 * characters; the key file is loaded on the worker's first models request,
 * which also makes the model "default" from the settings when a kind has
 * no model yet.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/api.h"
#include "dgen/log.h"
#include "dgen/modelcfg.h"
#include "dgen/netguard.h"
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

/* The key file is read again on every models request (one small read):
 * after `dgen models rekey` a long-lived worker must not seal new keys
 * under the old key. The bootstrap runs once per worker. */
struct dgen_db *api_models_db(struct api_ctx *c)
{
	struct api_worker *w = c->w;
	struct dgen_db *db = api_db(c);

	if (!db)
		return NULL;
	if (secret_key_load_config(c->cfg, &w->key, &c->err) != 0) {
		dgen_error("%s", c->err.msg);
		dgen_err_set(&c->err, DGEN_EIO, "The key file of stored secrets cannot be read");
		return NULL;
	}
	if (w->models_ready)
		return db;
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

/* The models database with who narrowed by an admin's ?owner=NAME (that
 * member's view and own models); NULL with c->err set. */
static struct dgen_db *models_db(struct api_ctx *c)
{
	return api_list_scope(c) == 0 ? api_models_db(c) : NULL;
}

static bool is_member(const struct api_ctx *c)
{
	return c->who && !c->who->admin;
}

int api_models_list(struct api_ctx *c)
{
	struct dgen_db *db = models_db(c);
	struct json_object *arr;

	if (!db || saved_models_list(db, c->who, kind_of(c), &arr, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, arr);
}

int api_models_get(struct api_ctx *c)
{
	struct dgen_db *db = models_db(c);
	struct json_object *o;

	if (!db || saved_models_get(db, c->who, kind_of(c), c->name, &o, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, o);
}

/* LLM_ENDPOINT_ALLOW, or by default the hosts of the global models of
 * both kinds, comma-separated, into b. */
static int endpoint_allow(struct api_ctx *c, struct dgen_db *db, struct dgen_buf *b)
{
	if (c->cfg->llm_endpoint_allow && *c->cfg->llm_endpoint_allow) {
		dgen_buf_puts(b, c->cfg->llm_endpoint_allow);
		return 0;
	}
	for (int k = DGEN_MODEL_LLM; k <= DGEN_MODEL_EMBEDDING; k++) {
		struct json_object *arr, *ep;

		if (saved_models_list(db, NULL, (enum dgen_model_kind)k, &arr, &c->err) != 0)
			return -1;
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			char host[NETGUARD_HOST_MAX];

			if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "endpoint",
						      &ep) &&
			    netguard_url_host(json_object_get_string(ep), host, sizeof host) == 0)
				dgen_buf_printf(b, "%s%s", b->len ? "," : "", host);
		}
		json_object_put(arr);
	}
	return 0;
}

/* A member's endpoint must be one their models may use (SPEC.md §9):
 * 422 naming endpoint. Admins' (global) models are trusted. */
static int check_endpoint(struct api_ctx *c, struct dgen_db *db, const struct dgen_model *m)
{
	struct dgen_buf allow = DGEN_BUF_INIT;
	int rc;

	if (!is_member(c))
		return 0;
	rc = endpoint_allow(c, db, &allow) != 0 ? -1
		: netguard_check_endpoint(dgen_buf_str(&allow), c->cfg->llm_endpoint_allow,
					  m->endpoint, &c->err);
	dgen_buf_free(&allow);
	return rc;
}

/* A member's write that found no model of theirs: a global model of that
 * name is theirs to read, not to change (403, no leak: they see it);
 * anything else stays the 404 of the store. */
static int write_failed(struct api_ctx *c, struct dgen_db *db, const char *name)
{
	struct json_object *o = NULL;
	struct dgen_err e = DGEN_ERR_INIT;

	if (db && is_member(c) && c->err.code == DGEN_ENOTFOUND &&
	    saved_models_get(db, NULL, kind_of(c), name, &o, &e) == 0) {
		json_object_put(o);
		dgen_err_set(&c->err, DGEN_EFORBIDDEN,
			     "'%s' is a global model: only admins change global models", name);
		dgen_err_detail_str(&c->err, "model", name);
	}
	dgen_err_clear(&e);
	return api_fail(c);
}

/* POST and PUT: read, validate, write, answer the stored public form. */
static int save(struct api_ctx *c, const char *old_name)
{
	enum dgen_model_kind kind = kind_of(c);
	struct json_object *body = NULL, *o = NULL;
	struct dgen_model m;
	struct dgen_db *db = NULL;
	bool key_given;
	int st;

	memset(&m, 0, sizeof m);
	if (json_body(c, &body) != 0 || model_from_json(body, kind, &m, &key_given, &c->err) != 0 ||
	    !(db = models_db(c)) || check_endpoint(c, db, &m) != 0) {
		st = api_fail(c);
		goto out;
	}
	if ((old_name ? saved_models_update(db, c->who, kind, old_name, &m, !key_given,
					    &c->w->key, &c->err)
		      : saved_models_insert(db, c->who, kind, &m, &c->w->key, &c->err)) != 0) {
		st = write_failed(c, db, old_name ? old_name : m.name);
		goto out;
	}
	if (saved_models_get(db, c->who, kind, m.name, &o, &c->err) != 0) {
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
	struct dgen_db *db = models_db(c);

	if (!db)
		return api_fail(c);
	if (saved_models_delete(db, c->who, kind_of(c), c->name, &c->err) != 0)
		return write_failed(c, db, c->name);
	return api_ok_member(c, "success", json_object_new_boolean(1));
}

/* The body is a model as POST takes it; without api_key, the key stored
 * under that name (if any) is used, so a saved model can be tested again
 * without sending its key; a member gets only the key of their own model
 * (a global key must not go to an endpoint of their choosing). A member's
 * test obeys their models' rules: the endpoint is checked as at save and
 * the call refuses inner addresses. Only success, a short reason and the
 * latency are answered. */
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
	    !(db = models_db(c)) || check_endpoint(c, db, &m) != 0) {
		st = api_fail(c);
		goto out;
	}
	if (!key_given &&
	    saved_models_get_full(db, c->who, kind, m.name, &c->w->key, &stored, &c->err) == 0 &&
	    stored.api_key && (!is_member(c) || stored.owner_id == c->who->user_id)) {
		m.api_key = stored.api_key;
		stored.api_key = NULL;
	}
	dgen_err_clear(&c->err);
	if (is_member(c))
		m.owner_id = c->who->user_id;
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

/* What is stored, without the start-up bootstrap of the models routes:
 * until a model is saved (or a models route made 'default'), running
 * follows the LLM_* settings as they are now. */
int api_models_load(struct api_ctx *c, struct dgen_model_list *llm, struct dgen_model_list *emb)
{
	struct dgen_db *db = api_db(c);

	memset(llm, 0, sizeof *llm);
	memset(emb, 0, sizeof *emb);
	return db ? saved_models_load_all(db, c->cfg, llm, emb, &c->err) : -1;
}

/* The config keys that name a model, and the kind each names. */
static const struct {
	const char *key;
	enum dgen_model_kind kind;
} model_keys[] = {
	{ "model", DGEN_MODEL_LLM },
	{ "embedding_model", DGEN_MODEL_EMBEDDING },
};

void api_models_enum(struct json_object *blocks, int64_t owner, const struct dgen_model_list *llm,
		     const struct dgen_model_list *emb)
{
	for (size_t i = 0; i < json_object_array_length(blocks); i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i), *s, *props, *p;

		if (!json_object_object_get_ex(b, "config_schema", &s) ||
		    !json_object_object_get_ex(s, "properties", &props))
			continue;
		for (size_t k = 0; k < DGEN_ARRAY_LEN(model_keys); k++) {
			const struct dgen_model_list *l =
				model_keys[k].kind == DGEN_MODEL_LLM ? llm : emb;
			struct json_object *names;

			if (l->n == 0 || !json_object_object_get_ex(props, model_keys[k].key, &p) ||
			    !json_object_is_type(p, json_type_object))
				continue;
			names = json_object_new_array();
			/* owner's view: each name once, as model_list_find resolves it */
			for (size_t m = 0; m < l->n; m++)
				if (model_list_find(l, owner, l->v[m].name) == &l->v[m])
					json_object_array_add(names,
							      json_object_new_string(l->v[m].name));
			json_object_array_add(names, NULL); /* null: the default model */
			json_object_object_add(p, "enum", names);
		}
	}
}

/* Every block's model names must name a stored model of their kind in
 * the view of the pipeline's owner (the caller: their own models, then
 * the global ones); a kind without stored models takes any name (the
 * configured endpoint serves them all). */
int api_models_check(struct api_ctx *c, struct json_object *def)
{
	struct dgen_model_list l[2];
	struct json_object *blocks = NULL;
	int rc = 0;

	if (api_models_load(c, &l[DGEN_MODEL_LLM], &l[DGEN_MODEL_EMBEDDING]) != 0)
		return -1;
	json_object_object_get_ex(def, "blocks", &blocks);
	for (size_t i = 0; rc == 0 && i < json_object_array_length(blocks); i++) {
		struct json_object *cfg = NULL, *v;

		if (!json_object_object_get_ex(json_object_array_get_idx(blocks, i), "config", &cfg))
			continue;
		for (size_t k = 0; rc == 0 && k < DGEN_ARRAY_LEN(model_keys); k++) {
			const struct dgen_model_list *ml = &l[model_keys[k].kind];
			const char *name;
			char *field;

			if (ml->n == 0 || !json_object_object_get_ex(cfg, model_keys[k].key, &v) ||
			    !json_object_is_type(v, json_type_string) ||
			    !*(name = json_object_get_string(v)) ||
			    model_list_find(ml, dgen_caller_owner(c->who), name))
				continue;
			field = dgen_xasprintf("blocks[%zu].config.%s", i, model_keys[k].key);
			rc = dgen_err_set(&c->err, DGEN_EINVALID, "'%s' names no stored %s model: %s",
					  field, model_kind_name(model_keys[k].kind), name);
			dgen_err_detail_str(&c->err, "field", field);
			dgen_err_detail_str(&c->err, "model", name);
			free(field);
		}
	}
	model_list_free(&l[0]);
	model_list_free(&l[1]);
	return rc;
}
