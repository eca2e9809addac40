/*
 * saved_models.c - stored named models (see saved_models.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/caller.h"
#include "dgen/saved_models.h"
#include "dgen/util.h"
#include "stmt.h"

static const char *kind_text(enum dgen_model_kind kind)
{
	return kind == DGEN_MODEL_EMBEDDING ? "embedding" : "llm";
}

static int not_found(struct dgen_err *err, enum dgen_model_kind kind, const char *name)
{
	dgen_err_set(err, DGEN_ENOTFOUND, "%s model '%s' not found",
		     kind == DGEN_MODEL_EMBEDDING ? "Embedding" : "LLM", name);
	dgen_err_detail_str(err, "model", name);
	return -1;
}

/* Whose models a write touches: a member's own, else (an admin, the
 * CLI) the global ones. */
static int64_t writer(const struct dgen_caller *who)
{
	return dgen_caller_scope(who);
}

static int name_taken(struct dgen_err *err, enum dgen_model_kind kind, const char *name)
{
	dgen_err_set(err, DGEN_ECONFLICT, "%s model '%s' already exists",
		     kind == DGEN_MODEL_EMBEDDING ? "An embedding" : "An LLM", name);
	dgen_err_detail_str(err, "field", "name");
	dgen_err_detail_str(err, "value", name);
	return -1;
}

/* Reads a MODEL_COLS row into m; the key is opened only when key is given. */
static int read_row(struct dgen_stmt *st, const struct dgen_secret_key *key, struct dgen_model *m,
		    struct dgen_err *err)
{
	memset(m, 0, sizeof *m);
	m->name = db_col_dup(st, 0);
	m->provider = db_col_dup(st, 1);
	m->endpoint = db_col_dup(st, 2);
	m->model_name = db_col_dup(st, 3);
	m->api_key_last4 = db_col_dup(st, 5);
	m->is_default = db_col_int(st, 6) != 0;
	m->dimensions = (long)db_col_int(st, 7);
	m->max_in_flight = (long)db_col_int(st, 8);
	m->requests_per_minute = (long)db_col_int(st, 9);
	m->tokens_per_minute = (long)db_col_int(st, 10);
	m->owner_id = db_col_int(st, 15);
	if (!db_col_is_null(st, 14)) { /* a currency comes with a price */
		m->has_price = true;
		m->price_input = db_col_double(st, 11);
		m->price_output = db_col_double(st, 12);
		m->price_cached = db_col_double(st, 13);
		m->currency = db_col_dup(st, 14);
	}
	if (key && !db_col_is_null(st, 4) &&
	    secret_open(key, db_col_blob(st, 4), db_col_len(st, 4), &m->api_key, err) != 0) {
		dgen_err_detail_str(err, "model", m->name);
		return -1;
	}
	return 0;
}

struct list_acc {
	enum dgen_model_kind kind;
	int64_t viewer; /* -1: every owner's models */
	const struct dgen_secret_key *key;
	struct json_object *arr;
	struct dgen_model_list *list;
	struct dgen_err *err;
	int rc;
};

static void list_row(struct dgen_stmt *st, void *arg)
{
	struct list_acc *a = arg;
	struct dgen_model m;

	if (a->rc != 0)
		return;
	if (read_row(st, a->key, &m, a->err) != 0) {
		model_clear(&m);
		a->rc = -1;
		return;
	}
	if (a->arr) {
		json_object_array_add(a->arr, model_to_json(&m, a->kind));
		model_clear(&m);
		return;
	}
	a->list->v = dgen_xrealloc(a->list->v, (a->list->n + 1) * sizeof *a->list->v);
	a->list->v[a->list->n++] = m;
}

static int list_all(struct dgen_db *db, struct list_acc *a)
{
	struct dgen_stmt *st = a->viewer < 0
		? db_query(db, STMT_MODEL_LIST_ALL, a->err, "s", kind_text(a->kind))
		: db_query(db, STMT_MODEL_LIST, a->err, "sk", kind_text(a->kind), a->viewer);

	if (!st || db_each(db, st, list_row, a, a->err) != 0)
		return -1;
	return a->rc;
}

int saved_models_list(struct dgen_db *db, const struct dgen_caller *who,
		      enum dgen_model_kind kind, struct json_object **out, struct dgen_err *err)
{
	struct list_acc a = { kind, dgen_caller_scope(who), NULL, json_object_new_array(), NULL, err, 0 };

	if (list_all(db, &a) != 0) {
		json_object_put(a.arr);
		*out = NULL;
		return -1;
	}
	*out = a.arr;
	return 0;
}

int saved_models_load(struct dgen_db *db, enum dgen_model_kind kind,
		      const struct dgen_secret_key *key, struct dgen_model_list *out,
		      struct dgen_err *err)
{
	struct list_acc a = { kind, -1, key, NULL, out, err, 0 };

	memset(out, 0, sizeof *out);
	if (list_all(db, &a) != 0) {
		model_list_free(out);
		return -1;
	}
	return 0;
}

int saved_models_load_all(struct dgen_db *db, const struct dgen_config *cfg,
			  struct dgen_model_list *llm, struct dgen_model_list *emb,
			  struct dgen_err *err)
{
	struct dgen_secret_key key;

	memset(llm, 0, sizeof *llm);
	memset(emb, 0, sizeof *emb);
	if (secret_key_load_config(cfg, &key, err) != 0 ||
	    saved_models_load(db, DGEN_MODEL_LLM, &key, llm, err) != 0)
		return -1;
	if (saved_models_load(db, DGEN_MODEL_EMBEDDING, &key, emb, err) != 0) {
		model_list_free(llm);
		return -1;
	}
	return 0;
}

int saved_models_get_full(struct dgen_db *db, const struct dgen_caller *who,
			  enum dgen_model_kind kind, const char *name,
			  const struct dgen_secret_key *key, struct dgen_model *out,
			  struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_MODEL_GET, err, "ssk", kind_text(kind), name,
				       dgen_caller_scope(who));
	int rc;

	memset(out, 0, sizeof *out);
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	if (rc == 0)
		return not_found(err, kind, name);
	rc = read_row(st, key, out, err);
	db_reset(st);
	return rc;
}

int saved_models_get(struct dgen_db *db, const struct dgen_caller *who,
		     enum dgen_model_kind kind, const char *name, struct json_object **out,
		     struct dgen_err *err)
{
	struct dgen_model m;

	*out = NULL;
	if (saved_models_get_full(db, who, kind, name, NULL, &m, err) != 0) {
		model_clear(&m);
		return -1;
	}
	*out = model_to_json(&m, kind);
	model_clear(&m);
	return 0;
}

/* The default rules after a write, inside its transaction: a new default
 * clears the others, and a kind left without one gets its oldest. Only
 * global models take part (owner 0). */
static int fix_defaults(struct dgen_db *db, enum dgen_model_kind kind, int64_t owner,
			const struct dgen_model *m, struct dgen_err *err)
{
	if (owner)
		return 0;
	if (m && m->is_default &&
	    db_run(db, STMT_MODEL_CLEAR_DEFAULT, err, "ss", kind_text(kind), m->name) < 0)
		return -1;
	return db_run(db, STMT_MODEL_FIX_DEFAULT, err, "s", kind_text(kind)) < 0 ? -1 : 0;
}

static int count(struct dgen_db *db, enum dgen_model_kind kind, int64_t *n, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_MODEL_COUNT, err, "s", kind_text(kind));

	if (!st || db_step_must(db, st, DGEN_EIO, "count answered no row", err) < 0)
		return -1;
	*n = db_col_int(st, 0);
	db_reset(st);
	return 0;
}

/* A member's model may not take a global model's name (their pipelines
 * would silently stop using the global one): DGEN_ECONFLICT, inside the
 * write's transaction. Global writes (owner 0) pass. */
static int check_global_name(struct dgen_db *db, enum dgen_model_kind kind, int64_t owner,
			     const char *name, struct dgen_err *err)
{
	struct dgen_stmt *st;
	int64_t n;

	if (!owner)
		return 0;
	st = db_query(db, STMT_MODEL_GLOBAL_NAMED, err, "ss", kind_text(kind), name);
	if (!st || db_step_must(db, st, DGEN_EIO, "count answered no row", err) < 0)
		return -1;
	n = db_col_int(st, 0);
	db_reset(st);
	if (n == 0)
		return 0;
	name_taken(err, kind, name);
	snprintf(err->msg, sizeof err->msg, "'name': %s is the name of a global %s model",
		 name, model_kind_name(kind));
	return -1;
}

/* The sealed key of m, or NULL/0 without one; *blob is the caller's. */
static void seal(const struct dgen_secret_key *key, const struct dgen_model *m,
		 unsigned char **blob, size_t *len)
{
	*blob = NULL;
	*len = 0;
	if (m->api_key && *m->api_key)
		secret_seal(key, m->api_key, strlen(m->api_key), blob, len);
}

/* Inside the caller's transaction; owner 0 = a global model. A member's
 * model is never the default. */
static int insert(struct dgen_db *db, int64_t owner, enum dgen_model_kind kind,
		  const struct dgen_model *m, const struct dgen_secret_key *key,
		  struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	unsigned char *blob;
	size_t len;
	int64_t id;
	int rc;

	if (check_global_name(db, kind, owner, m->name, err) != 0)
		return -1;
	db_now(now);
	seal(key, m, &blob, &len);
	rc = db_insert(db, STMT_MODEL_INSERT, &id, err,
		       "sssssbsiiiiidddssk",
		       kind_text(kind), m->name, m->provider, m->endpoint, m->model_name,
		       (const void *)blob, len, blob ? m->api_key_last4 : NULL,
		       (int64_t)(m->is_default && !owner), (int64_t)m->dimensions,
		       (int64_t)m->max_in_flight,
		       (int64_t)m->requests_per_minute, (int64_t)m->tokens_per_minute,
		       m->has_price ? m->price_input : 0.0, m->has_price ? m->price_output : 0.0,
		       m->has_price ? m->price_cached : 0.0, m->has_price ? m->currency : NULL, now,
		       owner);
	free(blob);
	if (rc != 0 && err->code == DGEN_ECONFLICT)
		return name_taken(err, kind, m->name);
	return rc != 0 ? -1 : fix_defaults(db, kind, owner, m, err);
}

/* The write transaction of the models of a kind: its reads (the default
 * flag, a global name a member's model may not take, the count of an
 * empty table) hold until it ends, also where writers do not exclude each
 * other (PostgreSQL). */
static int begin_models(struct dgen_db *db, enum dgen_model_kind kind, struct dgen_err *err)
{
	if (db_begin(db, err) < 0)
		return -1;
	if (db_lock(db, DB_LOCK_MODELS, (int64_t)kind, err) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int saved_models_insert(struct dgen_db *db, const struct dgen_caller *who,
			enum dgen_model_kind kind, const struct dgen_model *m,
			const struct dgen_secret_key *key, struct dgen_err *err)
{
	if (begin_models(db, kind, err) < 0)
		return -1;
	return db_end(db, insert(db, writer(who), kind, m, key, err), err);
}

static int update(struct dgen_db *db, int64_t owner, enum dgen_model_kind kind,
		  const char *name, const struct dgen_model *m, bool keep_key,
		  const struct dgen_secret_key *key, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	unsigned char *blob;
	size_t len;
	int64_t n;

	if (strcmp(name, m->name) != 0 && check_global_name(db, kind, owner, m->name, err) != 0)
		return -1;
	db_now(now);
	seal(key, m, &blob, &len);
	n = db_run(db, STMT_MODEL_UPDATE, err,
		   "ssssssbsiiiiidddsisk",
		   kind_text(kind), name, m->name, m->provider, m->endpoint, m->model_name,
		   (const void *)blob, len, blob ? m->api_key_last4 : NULL,
		   (int64_t)(m->is_default && !owner), (int64_t)m->dimensions,
		   (int64_t)m->max_in_flight,
		   (int64_t)m->requests_per_minute, (int64_t)m->tokens_per_minute,
		   m->has_price ? m->price_input : 0.0, m->has_price ? m->price_output : 0.0,
		   m->has_price ? m->price_cached : 0.0, m->has_price ? m->currency : NULL,
		   (int64_t)!keep_key, now, owner);
	free(blob);
	if (n < 0 && err->code == DGEN_ECONFLICT)
		return name_taken(err, kind, m->name);
	if (n < 0)
		return -1;
	if (n == 0)
		return not_found(err, kind, name);
	return fix_defaults(db, kind, owner, m, err);
}

int saved_models_update(struct dgen_db *db, const struct dgen_caller *who,
			enum dgen_model_kind kind, const char *name, const struct dgen_model *m,
			bool keep_key, const struct dgen_secret_key *key, struct dgen_err *err)
{
	if (begin_models(db, kind, err) < 0)
		return -1;
	return db_end(db, update(db, writer(who), kind, name, m, keep_key, key, err), err);
}

static int delete(struct dgen_db *db, int64_t owner, enum dgen_model_kind kind,
		  const char *name, struct dgen_err *err)
{
	int64_t n = db_run(db, STMT_MODEL_DELETE, err, "ssk", kind_text(kind), name, owner);

	if (n < 0)
		return -1;
	if (n == 0)
		return not_found(err, kind, name);
	return fix_defaults(db, kind, owner, NULL, err);
}

int saved_models_delete(struct dgen_db *db, const struct dgen_caller *who,
			enum dgen_model_kind kind, const char *name, struct dgen_err *err)
{
	if (begin_models(db, kind, err) < 0)
		return -1;
	return db_end(db, delete(db, writer(who), kind, name, err), err);
}

struct rekey_acc {
	struct dgen_db *db;
	const struct dgen_secret_key *old_key, *new_key;
	int64_t n;
	struct dgen_err *err;
	int rc;
	/* the re-sealed keys, written once the read is done */
	int64_t *ids;
	unsigned char **blobs;
	size_t *lens;
};

static void rekey_row(struct dgen_stmt *st, void *arg)
{
	struct rekey_acc *a = arg;
	char *plain = NULL;

	if (a->rc != 0)
		return;
	if (secret_open(a->old_key, db_col_blob(st, 1), db_col_len(st, 1), &plain,
			a->err) != 0) {
		a->rc = -1;
		return;
	}
	a->ids = dgen_xrealloc(a->ids, (size_t)(a->n + 1) * sizeof *a->ids);
	a->blobs = dgen_xrealloc(a->blobs, (size_t)(a->n + 1) * sizeof *a->blobs);
	a->lens = dgen_xrealloc(a->lens, (size_t)(a->n + 1) * sizeof *a->lens);
	a->ids[a->n] = db_col_int(st, 0);
	secret_seal(a->new_key, plain, strlen(plain), &a->blobs[a->n], &a->lens[a->n]);
	memset(plain, 0, strlen(plain));
	free(plain);
	a->n++;
}

/* Reads every sealed key, then writes each re-sealed: all inside one
 * write transaction, so a failure (a key the old key file does not open)
 * changes nothing. */
static int rekey(struct rekey_acc *a)
{
	struct dgen_stmt *st = db_query(a->db, STMT_MODEL_KEYS, a->err, "");

	if (!st || db_each(a->db, st, rekey_row, a, a->err) != 0 || a->rc != 0)
		return -1;
	for (int64_t i = 0; i < a->n; i++)
		if (db_run(a->db, STMT_MODEL_SET_KEY, a->err, "ib", a->ids[i],
			   (const void *)a->blobs[i], a->lens[i]) < 0)
			return -1;
	return 0;
}

int saved_models_rekey(struct dgen_db *db, const struct dgen_secret_key *old_key,
		       const struct dgen_secret_key *new_key, int64_t *n, struct dgen_err *err)
{
	struct rekey_acc a = { db, old_key, new_key, 0, err, 0, NULL, NULL, NULL };
	int rc;

	*n = 0;
	if (db_begin(db, err) < 0)
		return -1;
	rc = db_end(db, rekey(&a), err);
	if (rc == 0)
		*n = a.n;
	for (int64_t i = 0; i < a.n; i++)
		free(a.blobs[i]);
	free(a.ids);
	free(a.blobs);
	free(a.lens);
	return rc;
}

/* Counts first without the write lock: every start of every process (and
 * every CGI request) pays one read, not a write transaction. */
int saved_models_bootstrap(struct dgen_db *db, enum dgen_model_kind kind,
			   const struct dgen_model *m, const struct dgen_secret_key *key,
			   bool *made, struct dgen_err *err)
{
	int64_t n = 0;
	int rc = 0;

	*made = false;
	if (count(db, kind, &n, err) != 0)
		return -1;
	if (n > 0)
		return 0;
	if (begin_models(db, kind, err) < 0)
		return -1;
	if (count(db, kind, &n, err) != 0)
		rc = -1;
	else if (n == 0 && (rc = insert(db, 0, kind, m, key, err)) == 0)
		*made = true;
	return db_end(db, rc, err);
}
