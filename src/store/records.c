/*
 * records.c - generated records: review, counts, export pages.
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/export_line.h"
#include "dgen/json.h"
#include "dgen/records.h"
#include "dgen/util.h"
#include "stmt.h"

static const char *const status_names[] = {
	[DGEN_REC_PENDING] = "pending",
	[DGEN_REC_ACCEPTED] = "accepted",
	[DGEN_REC_REJECTED] = "rejected",
	[DGEN_REC_EDITED] = "edited",
};

const char *records_status_name(enum dgen_record_status st)
{
	return dgen_name_of(status_names, DGEN_ARRAY_LEN(status_names), (int)st);
}

int records_status_parse(const char *s, enum dgen_record_status *out)
{
	int v = dgen_name_find(status_names, DGEN_ARRAY_LEN(status_names), s);

	if (v < 0)
		return -1;
	*out = (enum dgen_record_status)v;
	return 0;
}

/* The statement variant of a family (LIST, COUNT, PAGE are laid out as
 * JOB, PIPELINE, ANY) whose index fits the filter best: a job's records
 * are fewest, then a pipeline's. */
static enum db_stmt_id pick(enum db_stmt_id job_variant, const struct dgen_record_filter *f)
{
	if (f->job_id > 0)
		return job_variant;
	if (f->pipeline_id > 0)
		return (enum db_stmt_id)(job_variant + 1);
	return (enum db_stmt_id)(job_variant + 2);
}

/* The LIST or PAGE variant for f, bound: ?1 job_id and ?2 pipeline_id
 * (0 = any), ?3 status (NULL = any), ?4 and ?5 as the family says. */
static sqlite3_stmt *query_filtered(struct dgen_db *db, const struct dgen_caller *who,
				    enum db_stmt_id job_variant,
				    const struct dgen_record_filter *f, int64_t p4, int64_t p5,
				    struct dgen_err *err)
{
	return db_query(db, pick(job_variant, f), err, "kksiik", f->job_id, f->pipeline_id,
			records_status_name(f->status), p4, p5, dgen_caller_scope(who));
}

/* The record JSON of SPEC.md §4 from a row of the REC_COLS columns. */
static struct json_object *record_row_json(sqlite3_stmt *st)
{
	struct json_object *o = json_object_new_object();
	struct json_object *meta = db_col_json(st, 2);

	json_object_object_add(o, "id", json_object_new_int64(db_col_int(st, 0)));
	db_add_text(o, "output", st, 1);
	json_object_object_add(o, "metadata", meta ? meta : json_object_new_object());
	db_add_text(o, "status", st, 3);
	json_object_object_add(o, "trace", db_col_json(st, 4));
	db_add_text(o, "trace_id", st, 5);
	json_object_object_add(o, "job_id", json_object_new_int64(db_col_int(st, 6)));
	json_object_object_add(o, "pipeline_id", json_object_new_int64(db_col_int(st, 7)));
	db_add_text(o, "created_at", st, 8);
	db_add_text(o, "updated_at", st, 9);
	db_add_text(o, "reviewed_by", st, 10);
	db_add_text(o, "reviewed_at", st, 11);
	return o;
}

int records_get(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		struct json_object **out, struct dgen_err *err)
{
	sqlite3_stmt *st = db_query(db, STMT_REC_GET, err, "ik", id, dgen_caller_scope(who));

	if (!st || db_step_row(db, st, "Record", "record_id", id, err) < 0)
		return -1;
	*out = record_row_json(st);
	db_reset(st);
	return 0;
}

int records_list(struct dgen_db *db, const struct dgen_caller *who,
		 const struct dgen_record_filter *f, struct json_object **out,
		 struct dgen_err *err)
{
	sqlite3_stmt *st = query_filtered(db, who, STMT_REC_LIST_JOB, f,
					  f->limit > 0 ? f->limit : 100,
					  f->offset > 0 ? f->offset : 0, err);

	if (!st)
		return -1;
	return db_rows_json(db, st, record_row_json, out, err);
}

/* Reads metadata (col 0) or accumulated_state (col 1) of record id inside
 * the caller's transaction. */
static int read_state_col(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
			  int col, struct json_object **out, struct dgen_err *err)
{
	sqlite3_stmt *st = db_query(db, STMT_REC_STATE, err, "ik", id, dgen_caller_scope(who));
	struct json_object *v;

	if (!st || db_step_row(db, st, "Record", "record_id", id, err) < 0)
		return -1;
	v = db_col_json(st, col);
	db_reset(st);
	if (!json_object_is_type(v, json_type_object)) {
		json_object_put(v);
		v = json_object_new_object();
	}
	*out = v;
	return 0;
}

int records_get_state(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		      struct json_object **out, struct dgen_err *err)
{
	return read_state_col(db, who, id, 1, out, err);
}

/* Inside the write transaction: applies edit u to record id, the state
 * patch merged into the stored state. */
static int update_record(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
			 const struct dgen_record_update *u, struct dgen_err *err)
{
	struct json_object *state = NULL;
	char now[DGEN_ISO_LEN];
	int64_t n;

	if (u->state_patch) {
		if (read_state_col(db, who, id, 1, &state, err) < 0)
			return -1;
		json_object_object_foreach(u->state_patch, key, val) {
			json_object_object_add(state, key, dgen_json_copy(val));
		}
	}
	db_now(now);
	n = db_run(db, STMT_REC_UPDATE, err, "issssskk", id, u->output,
		   records_status_name(u->status),
		   u->metadata ? dgen_json_compact(u->metadata) : NULL,
		   state ? dgen_json_compact(state) : NULL, now, dgen_caller_scope(who),
		   dgen_caller_owner(who));
	json_object_put(state);
	return db_changed_row(n, "Record", "record_id", id, err);
}

/*
 * Applies an edit in one write transaction: the accumulated state patch is
 * a read-modify-write, so it must not interleave with another edit of the
 * same record.
 */
int records_update(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		   const struct dgen_record_update *u, struct dgen_err *err)
{
	if (db_begin(db, err) < 0)
		return -1;
	return db_end(db, update_record(db, who, id, u, err), err);
}

/* Inside the write transaction: the records of job_id (0: all records
 * who may see) and then the job itself. A job who may not see is left
 * alone, like an unknown one. */
static int delete_records(struct dgen_db *db, const struct dgen_caller *who, int64_t job_id,
			  int64_t *n, struct dgen_err *err)
{
	int64_t scope = dgen_caller_scope(who);
	sqlite3_stmt *st;
	int rc;

	if (job_id <= 0)
		return (*n = db_run(db, STMT_REC_DELETE_ALL, err, "k", scope)) < 0 ? -1 : 0;
	st = db_query(db, STMT_JOB_STATE, err, "ik", job_id, scope);
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	if (rc == 0)
		return 0;
	db_reset(st);
	if ((*n = db_run(db, STMT_REC_DELETE_JOB, err, "i", job_id)) < 0)
		return -1;
	return db_run(db, STMT_JOB_DELETE, err, "ik", job_id, scope) < 0 ? -1 : 0;
}

int records_delete(struct dgen_db *db, const struct dgen_caller *who, int64_t job_id,
		   int64_t *deleted, struct dgen_err *err)
{
	int64_t n = 0;

	if (deleted)
		*deleted = 0;
	if (db_begin(db, err) < 0 || db_end(db, delete_records(db, who, job_id, &n, err), err) < 0)
		return -1;
	if (deleted)
		*deleted = n;
	return 0;
}

/* Adds one (status, count) row of the COUNT family to the counts. */
static void count_row(sqlite3_stmt *st, void *arg)
{
	struct dgen_record_counts *out = arg;
	enum dgen_record_status s;
	int64_t n = db_col_int(st, 1);

	out->total += n;
	if (records_status_parse(db_col_text(st, 0), &s) < 0)
		return;
	switch (s) {
	case DGEN_REC_PENDING: out->pending = n; break;
	case DGEN_REC_ACCEPTED: out->accepted = n; break;
	case DGEN_REC_REJECTED: out->rejected = n; break;
	case DGEN_REC_EDITED: out->edited = n; break;
	default: break;
	}
}

int records_count(struct dgen_db *db, const struct dgen_caller *who,
		  const struct dgen_record_filter *f, struct dgen_record_counts *out,
		  struct dgen_err *err)
{
	sqlite3_stmt *st = db_query(db, pick(STMT_REC_COUNT_JOB, f), err, "kk---k", f->job_id,
				    f->pipeline_id, dgen_caller_scope(who));

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	return db_each(db, st, count_row, out, err);
}

struct dgen_records_iter {
	struct dgen_db *db;
	struct dgen_caller who;
	bool scoped;                /* who applies (else: every owner) */
	struct dgen_record_filter f;
	int page_size;
	int64_t last_id;            /* keyset cursor: the last id read */
	struct json_object *page;   /* export lines of the current page */
	size_t pos;
	bool last_page;             /* the current page was short: no more */
};

int records_iter_open(struct dgen_db *db, const struct dgen_caller *who,
		      const struct dgen_record_filter *f, int page_size,
		      struct dgen_records_iter **out, struct dgen_err *err)
{
	struct dgen_records_iter *it = dgen_xcalloc(1, sizeof(*it));

	(void)err;
	it->db = db;
	if (who) {
		it->who = *who;
		it->scoped = true;
	}
	it->f = *f;
	it->page_size = page_size > 0 ? page_size : 500;
	*out = it;
	return 0;
}

void records_iter_free(struct dgen_records_iter *it)
{
	if (!it)
		return;
	json_object_put(it->page);
	free(it);
}

/* The export line (export_line.h) of a REC_COLS row followed by
 * accumulated_state. */
static struct json_object *export_line(sqlite3_stmt *st)
{
	struct dgen_export_fields f = {
		.id = db_col_int(st, 0),
		.output = db_col_text(st, 1),
		.metadata = db_col_json(st, 2),
		.status = db_col_text(st, 3),
		.state = db_col_json(st, 12),
		.trace_id = db_col_text(st, 5),
		.job_id = db_col_int(st, 6),
		.pipeline_id = db_col_int(st, 7),
		.created_at = db_col_text(st, 8),
		.updated_at = db_col_text(st, 9),
		.reviewed_by = db_col_text(st, 10),
		.reviewed_at = db_col_text(st, 11),
	};
	struct json_object *o = export_line_new(&f);

	json_object_put(f.metadata);
	json_object_put(f.state);
	return o;
}

/*
 * Reads the next page: ids after the cursor, in id order, in a short read
 * transaction of its own. Between pages no snapshot is held, so a long
 * download neither blocks checkpoints nor sees a half-written unit (each
 * unit commits atomically); records inserted meanwhile with higher ids
 * are included, deleted ones skipped.
 */
static int iter_fill(struct dgen_records_iter *it, struct dgen_err *err)
{
	struct dgen_db *db = it->db;
	struct json_object *page;
	sqlite3_stmt *st;
	int rc;

	json_object_put(it->page);
	it->page = NULL;
	it->pos = 0;
	if (db_begin_read(db, err) < 0)
		return -1;
	st = query_filtered(db, it->scoped ? &it->who : NULL, STMT_REC_PAGE_JOB, &it->f,
			    it->last_id, it->page_size, err);
	if (!st) {
		db_rollback(db);
		return -1;
	}
	page = json_object_new_array();
	while ((rc = db_step(db, st, err)) == SQLITE_ROW) {
		it->last_id = db_col_int(st, 0);
		json_object_array_add(page, export_line(st));
	}
	if (rc < 0) {
		json_object_put(page);
		db_rollback(db);
		return -1;
	}
	db_reset(st);
	if (db_commit(db, err) < 0) {
		json_object_put(page);
		return -1;
	}
	it->page = page;
	it->last_page = json_object_array_length(page) < (size_t)it->page_size;
	return 0;
}

int records_iter_next(struct dgen_records_iter *it, struct json_object **line,
		      struct dgen_err *err)
{
	*line = NULL;
	if (!it->page || it->pos >= json_object_array_length(it->page)) {
		if (it->page && it->last_page)
			return 0;
		if (iter_fill(it, err) < 0)
			return -1;
		if (json_object_array_length(it->page) == 0)
			return 0;
	}
	*line = json_object_get(json_object_array_get_idx(it->page, it->pos++));
	return 1;
}
