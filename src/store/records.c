/*
 * records.c - generated records: review, counts, export pages.
 */
#include <math.h>
#include <stdio.h>
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

bool records_field_valid(const char *name)
{
	size_t n = 0;

	if (!name || !((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') ||
		       *name == '_'))
		return false;
	for (const char *p = name; *p; p++, n++) {
		bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			  (*p >= '0' && *p <= '9') || *p == '_';

		if (!ok || n >= DGEN_REC_FIELD_MAX)
			return false;
	}
	return true;
}

static int bad_field(struct dgen_err *err, const char *field)
{
	dgen_err_set(err, DGEN_EBADREQ,
		     "'%.64s' is not a state field name ([A-Za-z_][A-Za-z0-9_]{0,63})", field);
	dgen_err_detail_str(err, "value", field);
	return -1;
}

int records_filter_range(struct dgen_record_filter *f, const char *field, bool is_max,
			 double v, struct dgen_err *err)
{
	struct dgen_record_range *r = NULL;
	size_t used = 0;

	if (!records_field_valid(field))
		return bad_field(err, field);
	for (size_t i = 0; i < f->n_ranges; i++) {
		used += (f->ranges[i].min != -INFINITY) + (f->ranges[i].max != INFINITY);
		if (strcmp(f->ranges[i].field, field) == 0)
			r = &f->ranges[i];
	}
	if (used >= DGEN_REC_MAX_RANGES) {
		dgen_err_set(err, DGEN_EBADREQ, "At most %d range filters (min.<field>, max.<field>)",
			     DGEN_REC_MAX_RANGES);
		return -1;
	}
	if (!r) {
		r = &f->ranges[f->n_ranges++];
		snprintf(r->field, sizeof r->field, "%s", field);
		r->min = -INFINITY;
		r->max = INFINITY;
	}
	if (is_max)
		r->max = v;
	else
		r->min = v;
	return 0;
}

int records_filter_sort(struct dgen_record_filter *f, const char *spec, struct dgen_err *err)
{
	bool desc = spec[0] == '-';
	const char *name = desc ? spec + 1 : spec;

	if (strcmp(name, "created_at") == 0) {
		f->sort = desc ? DGEN_SORT_NEWEST : DGEN_SORT_OLDEST;
		return 0;
	}
	if (!records_field_valid(name)) {
		dgen_err_set(err, DGEN_EBADREQ,
			     "Sort by created_at, -created_at, or a numeric state field "
			     "(-field for descending)");
		dgen_err_detail_str(err, "value", spec);
		return -1;
	}
	f->sort = desc ? DGEN_SORT_FIELD_DESC : DGEN_SORT_FIELD_ASC;
	snprintf(f->sort_field, sizeof f->sort_field, "%s", name);
	return 0;
}

/* The statement variant of a family (laid out JOB, PIPELINE, ANY) whose
 * index fits the filter best: a job's records are fewest, then a
 * pipeline's. */
static enum db_stmt_id pick(enum db_stmt_id job_variant, const struct dgen_record_filter *f)
{
	if (f->job_id > 0)
		return job_variant;
	if (f->pipeline_id > 0)
		return (enum db_stmt_id)(job_variant + 1);
	return (enum db_stmt_id)(job_variant + 2);
}

/* The JSON path argument of STATE_AT (stmt.c) for a valid field name: the
 * one place that knows how a state field is addressed. */
static void state_path(char out[DGEN_REC_FIELD_MAX + 3], const char *field)
{
	snprintf(out, DGEN_REC_FIELD_MAX + 3, "$.%s", field);
}

/* What a statement binds besides the filter (stmt.c's numbering). */
struct rec_args {
	int64_t p4, p5;        /* as the family says */
	const char *field;     /* ?7: a state field, or NULL */
	int64_t dir;           /* ?8: sort direction */
	const char *set_status, *now; /* ?9, ?10: what a write sets */
};

/* A LIKE pattern matching q anywhere, its wildcards escaped with '\'. */
static void like_pattern(char *out, const char *q)
{
	*out++ = '%';
	for (; *q; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			*out++ = '\\';
		*out++ = *q;
	}
	*out++ = '%';
	*out = '\0';
}

/*
 * Statement id, reset and bound with the whole filter f and the extra
 * arguments a: every record statement numbers its parameters the same way
 * (stmt.c), so one bind serves them all. A filter that bypassed the API's
 * checks (long q, bad field) is refused here rather than sent to SQL.
 */
static struct dgen_stmt *query_filtered(struct dgen_db *db, enum db_stmt_id id,
				    const struct dgen_record_filter *f, const struct rec_args *a,
				    struct dgen_err *err)
{
	char like[2 * DGEN_REC_MAX_Q + 3];
	char paths[DGEN_REC_MAX_RANGES][DGEN_REC_FIELD_MAX + 3];
	char field[DGEN_REC_FIELD_MAX + 3];
	const char *p[DGEN_REC_MAX_RANGES] = { NULL };
	double lo[DGEN_REC_MAX_RANGES] = { 0 }, hi[DGEN_REC_MAX_RANGES] = { 0 };
	bool has_q = f->q && *f->q;

	if (has_q && strlen(f->q) > DGEN_REC_MAX_Q) {
		dgen_err_set(err, DGEN_EBADREQ, "The search is longer than %d bytes",
			     DGEN_REC_MAX_Q);
		return NULL;
	}
	if (f->n_ranges > DGEN_REC_MAX_RANGES || (a->field && !records_field_valid(a->field))) {
		dgen_err_set(err, DGEN_EBADREQ, "Bad record filter");
		return NULL;
	}
	if (has_q)
		like_pattern(like, f->q);
	for (size_t i = 0; i < f->n_ranges; i++) {
		if (!records_field_valid(f->ranges[i].field))
			return bad_field(err, f->ranges[i].field), NULL;
		state_path(paths[i], f->ranges[i].field);
		p[i] = paths[i];
		lo[i] = f->ranges[i].min;
		hi[i] = f->ranges[i].max;
	}
	if (a->field)
		state_path(field, a->field);
	return db_query(db, id, err, "kksiississ" "sddsddsddsdd" "sddsddsddsdd" "k",
			f->job_id, f->pipeline_id, records_status_name(f->status), a->p4, a->p5,
			has_q ? like : NULL, a->field ? field : NULL, a->dir, a->set_status,
			a->now, p[0], lo[0], hi[0], p[1], lo[1], hi[1], p[2], lo[2], hi[2], p[3],
			lo[3], hi[3], p[4], lo[4], hi[4], p[5], lo[5], hi[5], p[6], lo[6], hi[6],
			p[7], lo[7], hi[7], f->owner);
}

/* The record JSON of SPEC.md §4 from a row of the REC_COLS columns. */
static struct json_object *record_row_json(struct dgen_stmt *st)
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
	/* null for a record stored before usage was kept */
	json_object_object_add(o, "usage", db_col_json(st, 12));
	return o;
}

int records_get(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		struct json_object **out, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_REC_GET, err, "ik", id, dgen_caller_scope(who));

	if (!st || db_step_row(db, st, "Record", "record_id", id, err) < 0)
		return -1;
	*out = record_row_json(st);
	db_reset(st);
	return 0;
}

/* The LIST statement of f's order, bound. */
static struct dgen_stmt *query_list(struct dgen_db *db, const struct dgen_record_filter *f,
				struct dgen_err *err)
{
	struct rec_args a = { .p4 = f->limit > 0 ? f->limit : 100,
			      .p5 = f->offset > 0 ? f->offset : 0 };
	enum db_stmt_id family = STMT_REC_LIST_JOB;

	if (f->sort == DGEN_SORT_OLDEST) {
		family = STMT_REC_LIST_OLD_JOB;
	} else if (f->sort == DGEN_SORT_FIELD_ASC || f->sort == DGEN_SORT_FIELD_DESC) {
		family = STMT_REC_LIST_FIELD_JOB;
		a.field = f->sort_field;
		a.dir = f->sort == DGEN_SORT_FIELD_ASC ? 1 : -1;
	}
	return query_filtered(db, pick(family, f), f, &a, err);
}

/* f with the owner scope of who (who NULL: f's own). */
static struct dgen_record_filter scoped(const struct dgen_caller *who,
				       const struct dgen_record_filter *f)
{
	struct dgen_record_filter g = *f;

	if (who)
		g.owner = dgen_caller_scope(who);
	return g;
}

int records_list(struct dgen_db *db, const struct dgen_caller *who,
		 const struct dgen_record_filter *f, struct json_object **out,
		 struct dgen_err *err)
{
	struct dgen_record_filter g = scoped(who, f);
	struct dgen_stmt *st = query_list(db, &g, err);

	if (!st)
		return -1;
	return db_rows_json(db, st, record_row_json, out, err);
}

/* The count of f's status (all of them for DGEN_REC_ANY). */
static int64_t count_of(const struct dgen_record_counts *c, enum dgen_record_status s)
{
	switch (s) {
	case DGEN_REC_PENDING: return c->pending;
	case DGEN_REC_ACCEPTED: return c->accepted;
	case DGEN_REC_REJECTED: return c->rejected;
	case DGEN_REC_EDITED: return c->edited;
	default: return c->total;
	}
}

/* Inside the read transaction: the page, then the count. */
static int list_total(struct dgen_db *db, const struct dgen_record_filter *f,
		      struct json_object **out, int64_t *total, struct dgen_err *err)
{
	struct dgen_record_counts c;

	if (records_list(db, NULL, f, out, err) < 0 || records_count(db, NULL, f, &c, err) < 0)
		return -1;
	*total = count_of(&c, f->status);
	return 0;
}

int records_list_total(struct dgen_db *db, const struct dgen_record_filter *f,
		       struct json_object **out, int64_t *total, struct dgen_err *err)
{
	*out = NULL;
	*total = 0;
	if (db_begin_read(db, err) < 0 || db_end(db, list_total(db, f, out, total, err), err) < 0) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Equal-width bins over [lo, hi] being filled. */
struct bins {
	int64_t counts[DGEN_REC_STATS_BINS];
	int n;
	double lo, width;
};

static void bin_row(struct dgen_stmt *st, void *arg)
{
	struct bins *h = arg;
	int b = h->width > 0 ? (int)((db_col_double(st, 0) - h->lo) / h->width) : 0;

	h->counts[b < 0 ? 0 : b >= h->n ? h->n - 1 : b]++;
}

/* One field's histogram: DGEN_REC_STATS_BINS equal-width bins over
 * [lo, hi] (one bin when every value is the same), filled from the
 * values of the matching records. */
static int field_histogram(struct dgen_db *db, const struct dgen_record_filter *f,
			   const char *field, double lo, double hi, struct json_object **out,
			   struct dgen_err *err)
{
	struct bins h = { .n = hi > lo ? DGEN_REC_STATS_BINS : 1, .lo = lo };
	struct dgen_stmt *st = query_filtered(db, STMT_REC_STATS_VALUES, f,
					  &(struct rec_args){ .field = field }, err);

	h.width = hi > lo ? (hi - lo) / h.n : 0;
	if (!st || db_each(db, st, bin_row, &h, err) < 0)
		return -1;
	*out = json_object_new_array();
	for (int b = 0; b < h.n; b++) {
		struct json_object *bin = json_object_new_object();

		json_object_object_add(bin, "from", json_object_new_double(lo + b * h.width));
		json_object_object_add(bin, "to", json_object_new_double(
						  b == h.n - 1 ? hi : lo + (b + 1) * h.width));
		json_object_object_add(bin, "count", json_object_new_int64(h.counts[b]));
		json_object_array_add(*out, bin);
	}
	return 0;
}

/* A row of STATS_FIELDS (key, count, min, max, mean) into fields. */
static void field_row(struct dgen_stmt *st, void *arg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "count", json_object_new_int64(db_col_int(st, 1)));
	json_object_object_add(o, "min", json_object_new_double(db_col_double(st, 2)));
	json_object_object_add(o, "max", json_object_new_double(db_col_double(st, 3)));
	json_object_object_add(o, "mean", json_object_new_double(db_col_double(st, 4)));
	json_object_object_add(arg, db_col_text(st, 0), o);
}

/* Inside the read transaction: the numeric fields of the matching final
 * states, each with its histogram. */
static int stats_fields(struct dgen_db *db, const struct dgen_record_filter *f,
			struct json_object *fields, struct dgen_err *err)
{
	struct dgen_stmt *st = query_filtered(db, STMT_REC_STATS_FIELDS, f,
					  &(struct rec_args){ .p4 = DGEN_REC_STATS_FIELDS }, err);

	if (!st || db_each(db, st, field_row, fields, err) < 0)
		return -1;
	json_object_object_foreach(fields, name, o) {
		struct json_object *h = NULL;

		if (!records_field_valid(name)) /* not addressable by a filter either */
			continue;
		if (field_histogram(db, f, name,
				    json_object_get_double(json_object_object_get(o, "min")),
				    json_object_get_double(json_object_object_get(o, "max")), &h,
				    err) < 0)
			return -1;
		json_object_object_add(o, "histogram", h);
	}
	return 0;
}

static int stats(struct dgen_db *db, const struct dgen_record_filter *f, struct json_object *o,
		 struct dgen_err *err)
{
	struct dgen_record_counts c;
	struct json_object *by = json_object_new_object(), *fields = json_object_new_object();

	json_object_object_add(o, "by_status", by);
	json_object_object_add(o, "fields", fields);
	if (records_count(db, NULL, f, &c, err) < 0)
		return -1;
	json_object_object_add(o, "total", json_object_new_int64(count_of(&c, f->status)));
	for (int s = DGEN_REC_PENDING; s <= DGEN_REC_EDITED; s++)
		json_object_object_add(by, records_status_name((enum dgen_record_status)s),
				       json_object_new_int64(
					       count_of(&c, (enum dgen_record_status)s)));
	return stats_fields(db, f, fields, err);
}

int records_stats(struct dgen_db *db, const struct dgen_record_filter *f,
		  struct json_object **out, struct dgen_err *err)
{
	struct json_object *o = json_object_new_object();

	*out = NULL;
	if (db_begin_read(db, err) < 0 || db_end(db, stats(db, f, o, err), err) < 0) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}

int records_bulk_status(struct dgen_db *db, const struct dgen_record_filter *f,
			enum dgen_record_status status, int64_t *updated,
			struct dgen_err *err)
{
	char now[DGEN_ISO_LEN];
	struct rec_args a = { .set_status = records_status_name(status), .now = now };
	struct dgen_stmt *st;
	int rc;

	*updated = 0;
	if (!a.set_status) {
		dgen_err_set(err, DGEN_EBADREQ, "No status to set");
		return -1;
	}
	db_now(now);
	if (db_begin(db, err) < 0)
		return -1;
	st = query_filtered(db, STMT_REC_BULK_STATUS, f, &a, err);
	rc = st ? db_exec(db, st, updated, err) : -1;
	return db_end(db, rc, err);
}

/* Reads metadata (col 0) or accumulated_state (col 1) of record id inside
 * the caller's transaction. */
static int read_state_col(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
			  int col, struct json_object **out, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_REC_STATE, err, "ik", id, dgen_caller_scope(who));
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
		if (db_lock(db, DB_LOCK_RECORD, id, err) < 0 ||
		    read_state_col(db, who, id, 1, &state, err) < 0)
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
	struct dgen_stmt *st;
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
static void count_row(struct dgen_stmt *st, void *arg)
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
	struct rec_args a = { 0 };
	struct dgen_record_filter g = scoped(who, f);
	struct dgen_stmt *st = query_filtered(db, pick(STMT_REC_COUNT_JOB, f), &g, &a, err);

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	return db_each(db, st, count_row, out, err);
}

struct dgen_records_iter {
	struct dgen_db *db;
	struct dgen_record_filter f; /* with the caller's owner scope */
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
	it->f = scoped(who, f);
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
static struct json_object *export_line(struct dgen_stmt *st)
{
	struct dgen_export_fields f = {
		.id = db_col_int(st, 0),
		.output = db_col_text(st, 1),
		.metadata = db_col_json(st, 2),
		.status = db_col_text(st, 3),
		.state = db_col_json(st, 13),
		.trace_id = db_col_text(st, 5),
		.job_id = db_col_int(st, 6),
		.pipeline_id = db_col_int(st, 7),
		.created_at = db_col_text(st, 8),
		.updated_at = db_col_text(st, 9),
		.reviewed_by = db_col_text(st, 10),
		.reviewed_at = db_col_text(st, 11),
		.usage = db_col_json(st, 12),
	};
	struct json_object *o = export_line_new(&f);

	json_object_put(f.metadata);
	json_object_put(f.state);
	json_object_put(f.usage);
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
	struct dgen_stmt *st;
	int rc;

	json_object_put(it->page);
	it->page = NULL;
	it->pos = 0;
	if (db_begin_read(db, err) < 0)
		return -1;
	st = query_filtered(db, pick(STMT_REC_PAGE_JOB, &it->f), &it->f,
			    &(struct rec_args){ .p4 = it->last_id, .p5 = it->page_size }, err);
	if (!st) {
		db_rollback(db);
		return -1;
	}
	page = json_object_new_array();
	while ((rc = db_step(db, st, err)) == DB_ROW) {
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
