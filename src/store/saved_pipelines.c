/*
 * saved_pipelines.c - stored pipeline definitions.
 */
#include <stdlib.h>

#include "dgen/saved_pipelines.h"
#include "dgen/util.h"
#include "stmt.h"

/* 0 when a write by id changed its row, else -1 (unknown id: not found). */
static int changed(int64_t n, int64_t id, struct dgen_err *err)
{
	return db_changed_row(n, "Pipeline", "pipeline_id", id, err);
}

/* The row of pipeline id from STMT_PIPE_GET, st on it (see db_step_row). */
static struct dgen_stmt *get_row(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
			     struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_PIPE_GET, err, "ik", id, dgen_caller_scope(who));

	if (!st || db_step_row(db, st, "Pipeline", "pipeline_id", id, err) < 0)
		return NULL;
	return st;
}

int saved_pipelines_insert(struct dgen_db *db, const struct dgen_caller *who, const char *name, const char *definition,
		     int64_t *id, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];

	db_now(now);
	if (db_begin(db, err) < 0)
		return -1;
	return db_end(db, db_insert(db, STMT_PIPE_INSERT, id, err, "sssk", name, definition, now,
				    dgen_caller_owner(who)),
		      err);
}

int saved_pipelines_update(struct dgen_db *db, const struct dgen_caller *who, int64_t id, const char *name,
		     const char *definition, struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];

	db_now(now);
	return changed(db_write(db, STMT_PIPE_UPDATE, err, "isssk", id, name, definition, now,
				dgen_caller_scope(who)),
		       id, err);
}

int saved_pipelines_get(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct json_object **out,
		  struct dgen_err *err)
{
	struct dgen_stmt *st = get_row(db, who, id, err);
	struct json_object *o;

	if (!st)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(db_col_int(st, 0)));
	db_add_text(o, "name", st, 1);
	json_object_object_add(o, "definition", db_col_json(st, 2));
	json_object_object_add(o, "validation_config", db_col_json(st, 3));
	db_add_text(o, "created_at", st, 4);
	db_add_text(o, "updated_at", st, 5);
	db_reset(st);
	*out = o;
	return 0;
}

int saved_pipelines_get_definition(struct dgen_db *db, const struct dgen_caller *who, int64_t id, char **name,
			     char **definition, struct dgen_err *err)
{
	struct dgen_stmt *st = get_row(db, who, id, err);

	if (!st)
		return -1;
	if (name)
		*name = db_col_dup(st, 1);
	if (definition)
		*definition = db_col_dup(st, 2);
	db_reset(st);
	return 0;
}

/* A pipeline of the list (STMT_PIPE_LIST columns: no validation_config). */
static struct json_object *list_row_json(struct dgen_stmt *st)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(db_col_int(st, 0)));
	db_add_text(o, "name", st, 1);
	json_object_object_add(o, "definition", db_col_json(st, 2));
	db_add_text(o, "created_at", st, 3);
	db_add_text(o, "updated_at", st, 4);
	return o;
}

int saved_pipelines_list(struct dgen_db *db, const struct dgen_caller *who, struct json_object **out, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_PIPE_LIST, err, "k", dgen_caller_scope(who));

	if (!st)
		return -1;
	return db_rows_json(db, st, list_row_json, out, err);
}

/* Reads the count that STMT_PIPE_COUNT answers into *total. */
static int count_all(struct dgen_db *db, const struct dgen_caller *who, int64_t *total, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_PIPE_COUNT, err, "k", dgen_caller_scope(who));

	if (!st || db_step_must(db, st, DGEN_EIO, "count answered no row", err) < 0)
		return -1;
	*total = db_col_int(st, 0);
	db_reset(st);
	return 0;
}

int saved_pipelines_page(struct dgen_db *db, const struct dgen_caller *who, int64_t limit, int64_t offset, int64_t *total,
			 struct json_object **out, struct dgen_err *err)
{
	struct dgen_stmt *st = NULL;

	*out = NULL;
	if (db_begin_read(db, err) < 0)
		return -1;
	if (count_all(db, who, total, err) == 0)
		st = db_query(db, STMT_PIPE_PAGE, err, "iik", limit > 0 ? limit : (int64_t)100,
			      offset > 0 ? offset : (int64_t)0, dgen_caller_scope(who));
	if (db_end(db, st ? db_rows_json(db, st, list_row_json, out, err) : -1, err) == 0)
		return 0;
	json_object_put(*out);
	*out = NULL;
	return -1;
}

int saved_pipelines_delete(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct dgen_err *err)
{
	return changed(db_write(db, STMT_PIPE_DELETE, err, "ik", id, dgen_caller_scope(who)), id, err);
}

int saved_pipelines_set_validation_config(struct dgen_db *db, const struct dgen_caller *who, int64_t id, const char *config,
				    struct dgen_err *err)
{
	return changed(db_write(db, STMT_PIPE_SET_VALIDATION, err, "isk", id, config,
				    dgen_caller_scope(who)), id, err);
}

int saved_pipelines_exists(struct dgen_db *db, const struct dgen_caller *who, int64_t id, bool *exists, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_PIPE_EXISTS, err, "ik", id, dgen_caller_scope(who));
	int rc;

	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	*exists = rc == 1;
	db_reset(st);
	return 0;
}
