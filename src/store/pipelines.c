/*
 * pipelines.c - stored pipeline definitions.
 */
#include <stdlib.h>

#include "dgen/pipelines.h"
#include "dgen/util.h"
#include "stmt.h"

static int not_found(struct dgen_err *err, int64_t id)
{
	return db_not_found(err, "Pipeline", "pipeline_id", id);
}

int pipelines_insert(struct dgen_db *db, const char *name, const char *definition,
		     int64_t *id, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_INSERT, err);
	char now[DGEN_ISO_LEN];

	if (!st)
		return -1;
	db_now(now);
	db_bind_text(db, st, 1, name);
	db_bind_text(db, st, 2, definition);
	db_bind_text(db, st, 3, now);
	if (db_begin(db, err) < 0)
		goto fail;
	if (db_step(db, st, err) != SQLITE_ROW) {
		db_rollback(db);
		goto fail;
	}
	*id = db_col_int(st, 0);
	db_reset(st);
	return db_commit(db, err);
fail:
	db_reset(st);
	return -1;
}

/* Runs a one-row update by id; 0 rows changed means the id is unknown. */
static int update_one(struct dgen_db *db, sqlite3_stmt *st, int64_t id, struct dgen_err *err)
{
	int64_t n;

	if (db_exec_write(db, st, &n, err) < 0)
		return -1;
	if (n == 0)
		return not_found(err, id);
	return 0;
}

int pipelines_update(struct dgen_db *db, int64_t id, const char *name,
		     const char *definition, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_UPDATE, err);
	char now[DGEN_ISO_LEN];

	if (!st)
		return -1;
	db_now(now);
	db_bind_int(db, st, 1, id);
	db_bind_text(db, st, 2, name);
	db_bind_text(db, st, 3, definition);
	db_bind_text(db, st, 4, now);
	return update_one(db, st, id, err);
}

int pipelines_get(struct dgen_db *db, int64_t id, struct json_object **out,
		  struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_GET, err);
	struct json_object *o;

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	if (db_step_row(db, st, "Pipeline", "pipeline_id", id, err))
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

int pipelines_get_definition(struct dgen_db *db, int64_t id, char **name,
			     char **definition, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_GET, err);

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	if (db_step_row(db, st, "Pipeline", "pipeline_id", id, err))
		return -1;
	if (name)
		*name = db_col_dup(st, 1);
	if (definition)
		*definition = db_col_dup(st, 2);
	db_reset(st);
	return 0;
}

int pipelines_list(struct dgen_db *db, struct json_object **out, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_LIST, err);
	struct json_object *arr, *o;
	int rc;

	if (!st)
		return -1;
	arr = json_object_new_array();
	while ((rc = db_step(db, st, err)) == SQLITE_ROW) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(db_col_int(st, 0)));
		db_add_text(o, "name", st, 1);
		json_object_object_add(o, "definition", db_col_json(st, 2));
		db_add_text(o, "created_at", st, 3);
		db_add_text(o, "updated_at", st, 4);
		json_object_array_add(arr, o);
	}
	if (rc < 0) {
		json_object_put(arr);
		return -1;
	}
	db_reset(st);
	*out = arr;
	return 0;
}

int pipelines_delete(struct dgen_db *db, int64_t id, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_DELETE, err);

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	return update_one(db, st, id, err);
}

int pipelines_set_validation_config(struct dgen_db *db, int64_t id, const char *config,
				    struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_SET_VALIDATION, err);

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	db_bind_text(db, st, 2, config);
	return update_one(db, st, id, err);
}

int pipelines_exists(struct dgen_db *db, int64_t id, bool *exists, struct dgen_err *err)
{
	sqlite3_stmt *st = db_stmt(db, STMT_PIPE_EXISTS, err);
	int rc;

	if (!st)
		return -1;
	db_bind_int(db, st, 1, id);
	rc = db_step(db, st, err);
	if (rc < 0)
		return -1;
	*exists = rc == SQLITE_ROW;
	db_reset(st);
	return 0;
}
