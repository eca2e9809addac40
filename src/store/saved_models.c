/*
 * saved_models.c - stored named models (see saved_models.h).
 */
#include <stdlib.h>
#include <string.h>

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
	struct dgen_stmt *st = db_query(db, STMT_MODEL_LIST, a->err, "s", kind_text(a->kind));

	if (!st || db_each(db, st, list_row, a, a->err) != 0)
		return -1;
	return a->rc;
}

int saved_models_list(struct dgen_db *db, enum dgen_model_kind kind, struct json_object **out,
		      struct dgen_err *err)
{
	struct list_acc a = { kind, NULL, json_object_new_array(), NULL, err, 0 };

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
	struct list_acc a = { kind, key, NULL, out, err, 0 };

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

int saved_models_get_full(struct dgen_db *db, enum dgen_model_kind kind, const char *name,
			  const struct dgen_secret_key *key, struct dgen_model *out,
			  struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_MODEL_GET, err, "ss", kind_text(kind), name);
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

int saved_models_get(struct dgen_db *db, enum dgen_model_kind kind, const char *name,
		     struct json_object **out, struct dgen_err *err)
{
	struct dgen_model m;

	*out = NULL;
	if (saved_models_get_full(db, kind, name, NULL, &m, err) != 0) {
		model_clear(&m);
		return -1;
	}
	*out = model_to_json(&m, kind);
	model_clear(&m);
	return 0;
}

/* The default rules after a write, inside its transaction: a new default
 * clears the others, and a kind left without one gets its oldest. */
static int fix_defaults(struct dgen_db *db, enum dgen_model_kind kind, const struct dgen_model *m,
			struct dgen_err *err)
{
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

/* The sealed key of m, or NULL/0 without one; *blob is the caller's. */
static void seal(const struct dgen_secret_key *key, const struct dgen_model *m,
		 unsigned char **blob, size_t *len)
{
	*blob = NULL;
	*len = 0;
	if (m->api_key && *m->api_key)
		secret_seal(key, m->api_key, strlen(m->api_key), blob, len);
}

/* Inside the caller's transaction. */
static int insert(struct dgen_db *db, enum dgen_model_kind kind, const struct dgen_model *m,
		  const struct dgen_secret_key *key, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	unsigned char *blob;
	size_t len;
	int64_t id;
	int rc;

	db_now(now);
	seal(key, m, &blob, &len);
	rc = db_insert(db, STMT_MODEL_INSERT, &id, err,
		       "sssssbsiiiiidddss",
		       kind_text(kind), m->name, m->provider, m->endpoint, m->model_name,
		       (const void *)blob, len, blob ? m->api_key_last4 : NULL,
		       (int64_t)m->is_default, (int64_t)m->dimensions, (int64_t)m->max_in_flight,
		       (int64_t)m->requests_per_minute, (int64_t)m->tokens_per_minute,
		       m->has_price ? m->price_input : 0.0, m->has_price ? m->price_output : 0.0,
		       m->has_price ? m->price_cached : 0.0, m->has_price ? m->currency : NULL, now);
	free(blob);
	if (rc != 0 && err->code == DGEN_ECONFLICT)
		return name_taken(err, kind, m->name);
	return rc != 0 ? -1 : fix_defaults(db, kind, m, err);
}

int saved_models_insert(struct dgen_db *db, enum dgen_model_kind kind, const struct dgen_model *m,
			const struct dgen_secret_key *key, struct dgen_err *err)
{
	if (db_begin(db, err) < 0)
		return -1;
	return db_end(db, insert(db, kind, m, key, err), err);
}

static int update(struct dgen_db *db, enum dgen_model_kind kind, const char *name,
		  const struct dgen_model *m, bool keep_key, const struct dgen_secret_key *key,
		  struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	unsigned char *blob;
	size_t len;
	int64_t n;

	db_now(now);
	seal(key, m, &blob, &len);
	n = db_run(db, STMT_MODEL_UPDATE, err,
		   "ssssssbsiiiiidddsis",
		   kind_text(kind), name, m->name, m->provider, m->endpoint, m->model_name,
		   (const void *)blob, len, blob ? m->api_key_last4 : NULL,
		   (int64_t)m->is_default, (int64_t)m->dimensions, (int64_t)m->max_in_flight,
		   (int64_t)m->requests_per_minute, (int64_t)m->tokens_per_minute,
		   m->has_price ? m->price_input : 0.0, m->has_price ? m->price_output : 0.0,
		   m->has_price ? m->price_cached : 0.0, m->has_price ? m->currency : NULL,
		   (int64_t)!keep_key, now);
	free(blob);
	if (n < 0 && err->code == DGEN_ECONFLICT)
		return name_taken(err, kind, m->name);
	if (n < 0)
		return -1;
	if (n == 0)
		return not_found(err, kind, name);
	return fix_defaults(db, kind, m, err);
}

int saved_models_update(struct dgen_db *db, enum dgen_model_kind kind, const char *name,
			const struct dgen_model *m, bool keep_key,
			const struct dgen_secret_key *key, struct dgen_err *err)
{
	if (db_begin(db, err) < 0)
		return -1;
	return db_end(db, update(db, kind, name, m, keep_key, key, err), err);
}

static int delete(struct dgen_db *db, enum dgen_model_kind kind, const char *name,
		  struct dgen_err *err)
{
	int64_t n = db_run(db, STMT_MODEL_DELETE, err, "ss", kind_text(kind), name);

	if (n < 0)
		return -1;
	if (n == 0)
		return not_found(err, kind, name);
	return fix_defaults(db, kind, NULL, err);
}

int saved_models_delete(struct dgen_db *db, enum dgen_model_kind kind, const char *name,
			struct dgen_err *err)
{
	if (db_begin(db, err) < 0)
		return -1;
	return db_end(db, delete(db, kind, name, err), err);
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
	if (db_begin(db, err) < 0)
		return -1;
	if (count(db, kind, &n, err) != 0)
		rc = -1;
	else if (n == 0 && (rc = insert(db, kind, m, key, err)) == 0)
		*made = true;
	return db_end(db, rc, err);
}
