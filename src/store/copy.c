/*
 * copy.c - a sqlite store copied into an empty PostgreSQL one, table by
 * table, driven by the schema itself: the tables and their columns come
 * from sqlite (sqlite_master, pragma_table_info, pragma_foreign_key_list),
 * so a schema step added later is copied without a change here.
 *
 * Each value is bound with the type sqlite holds it in (sqlite's columns
 * are dynamically typed: jobs.current_step holds a number or a note, text
 * on PostgreSQL); PostgreSQL's assignment casts do the rest. The ad hoc
 * statements go straight to the backends (prepare_text), never into the
 * connection's statement cache.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "dgen/buf.h"
#include "dgen/copy.h"
#include "dgen/log.h"
#include "dgen/migrate.h"
#include "dgen/util.h"

struct copy_table {
	char *name;
	char **cols;
	int ncols;
	bool *key;          /* column is (part of) the primary key */
	int nkey;
	bool int_key;       /* one INTEGER primary key column: an identity on PostgreSQL */
	char **refs;        /* tables its foreign keys name */
	int nrefs;
	int64_t rows;
	bool placed;
};

struct copy_schema {
	struct copy_table *t;
	int n;
};

/* An uncached statement of sql on db; NULL with err set. */
static struct dgen_stmt *copy_prepare(struct dgen_db *db, const char *sql, struct dgen_err *err)
{
	struct dgen_stmt *st;

	if (db_check_owner(db, err) < 0)
		return NULL;
	st = db->be->prepare_text(db, sql, err);
	if (!st)
		return NULL;
	st->db = db;
	st->id = STMT__COUNT;
	return st;
}

static void copy_free(struct dgen_stmt *st)
{
	if (st)
		st->db->be->finalize(st);
}

static int copy_step(struct dgen_stmt *st, struct dgen_err *err)
{
	return st->db->be->step(st, err);
}

/* Binds column col of src's current row to parameter idx of dst. */
static int copy_bind(struct dgen_stmt *dst, int idx, struct dgen_stmt *src, int col,
		     struct dgen_err *err)
{
	const struct db_backend *be = src->db->be;
	struct db_value v;

	memset(&v, 0, sizeof(v));
	v.kind = be->col_type(src, col);
	switch (v.kind) {
	case DB_V_INT:
		v.i = be->col_int(src, col);
		break;
	case DB_V_DOUBLE:
		v.d = be->col_double(src, col);
		break;
	case DB_V_TEXT:
		v.p = be->col_text(src, col);
		v.n = be->col_len(src, col);
		break;
	case DB_V_BLOB:
		v.p = be->col_blob(src, col);
		v.n = be->col_len(src, col);
		break;
	default:
		v.null = true;
		break;
	}
	return dst->db->be->bind(dst, idx, &v, err);
}

static void copy_ident(struct dgen_buf *b, const char *name)
{
	dgen_buf_putc(b, '"');
	for (; *name; name++) {
		if (*name == '"')
			dgen_buf_putc(b, '"');
		dgen_buf_putc(b, *name);
	}
	dgen_buf_putc(b, '"');
}

static void copy_col_list(struct dgen_buf *b, const struct copy_table *t)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		if (i)
			dgen_buf_puts(b, ", ");
		copy_ident(b, t->cols[i]);
	}
}

/* "SELECT <every column> FROM <t>" */
static void copy_select(struct dgen_buf *b, const struct copy_table *t)
{
	dgen_buf_puts(b, "SELECT ");
	copy_col_list(b, t);
	dgen_buf_puts(b, " FROM ");
	copy_ident(b, t->name);
}

static void copy_schema_free(struct copy_schema *s)
{
	int i, j;

	for (i = 0; i < s->n; i++) {
		for (j = 0; j < s->t[i].ncols; j++)
			free(s->t[i].cols[j]);
		for (j = 0; j < s->t[i].nrefs; j++)
			free(s->t[i].refs[j]);
		free(s->t[i].cols);
		free(s->t[i].key);
		free(s->t[i].refs);
		free(s->t[i].name);
	}
	free(s->t);
	s->t = NULL;
	s->n = 0;
}

/* The columns (with the primary key's) and the referenced tables of t. */
static int copy_describe(struct dgen_db *src, struct copy_table *t, struct dgen_err *err)
{
	struct dgen_stmt *st = NULL;
	struct db_value v = { .kind = DB_V_TEXT };
	int rc = -1, r;

	v.p = t->name;
	v.n = strlen(t->name);
	st = copy_prepare(src, "SELECT name, pk, upper(type) = 'INTEGER' FROM pragma_table_info(?1) ORDER BY cid", err);
	if (!st || src->be->bind(st, 1, &v, err) < 0)
		goto out;
	while ((r = copy_step(st, err)) == DB_ROW) {
		t->cols = dgen_xrealloc(t->cols, (size_t)(t->ncols + 1) * sizeof(*t->cols));
		t->key = dgen_xrealloc(t->key, (size_t)(t->ncols + 1) * sizeof(*t->key));
		t->cols[t->ncols] = dgen_xstrdup(src->be->col_text(st, 0));
		t->key[t->ncols] = src->be->col_int(st, 1) > 0;
		t->nkey += t->key[t->ncols];
		if (t->key[t->ncols])
			t->int_key = src->be->col_int(st, 2) != 0;
		t->ncols++;
	}
	if (r < 0)
		goto out;
	copy_free(st);
	st = copy_prepare(src, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)", err);
	if (!st || src->be->bind(st, 1, &v, err) < 0)
		goto out;
	while ((r = copy_step(st, err)) == DB_ROW) {
		t->refs = dgen_xrealloc(t->refs, (size_t)(t->nrefs + 1) * sizeof(*t->refs));
		t->refs[t->nrefs++] = dgen_xstrdup(src->be->col_text(st, 0));
	}
	rc = r < 0 ? -1 : 0;
out:
	copy_free(st);
	return rc;
}

static bool copy_placed(const struct copy_schema *s, int upto, const char *name)
{
	int i;

	for (i = 0; i < upto; i++)
		if (strcmp(s->t[i].name, name) == 0)
			return true;
	return false;
}

/*
 * Orders the tables so that every table comes after the tables its
 * foreign keys name (a reference to itself is met by copying in rowid
 * order: a parent row is older than its children).
 */
static int copy_order(struct copy_schema *s, struct dgen_err *err)
{
	int done = 0, i, j;
	bool moved;

	while (done < s->n) {
		moved = false;
		for (i = done; i < s->n; i++) {
			for (j = 0; j < s->t[i].nrefs; j++)
				if (strcmp(s->t[i].refs[j], s->t[i].name) != 0 &&
				    !copy_placed(s, done, s->t[i].refs[j]))
					break;
			if (j == s->t[i].nrefs) {
				struct copy_table tmp = s->t[done];

				s->t[done] = s->t[i];
				s->t[i] = tmp;
				done++;
				moved = true;
			}
		}
		if (!moved)
			return dgen_err_set(err, DGEN_EINTERNAL,
					    "Tables reference each other in a cycle (%s)",
					    s->t[done].name);
	}
	return 0;
}

static int copy_load_schema(struct dgen_db *src, struct copy_schema *s, struct dgen_err *err)
{
	struct dgen_stmt *st;
	int r, i;

	st = copy_prepare(src,
			  "SELECT name FROM sqlite_master WHERE type = 'table' "
			  "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name",
			  err);
	if (!st)
		return -1;
	while ((r = copy_step(st, err)) == DB_ROW) {
		s->t = dgen_xrealloc(s->t, (size_t)(s->n + 1) * sizeof(*s->t));
		memset(&s->t[s->n], 0, sizeof(*s->t));
		s->t[s->n++].name = dgen_xstrdup(src->be->col_text(st, 0));
	}
	copy_free(st);
	if (r < 0)
		return -1;
	for (i = 0; i < s->n; i++)
		if (copy_describe(src, &s->t[i], err) < 0)
			return -1;
	return copy_order(s, err);
}

static int copy_count(struct dgen_db *db, const struct copy_table *t, int64_t *n,
		      struct dgen_err *err)
{
	struct dgen_buf sql = DGEN_BUF_INIT;
	struct dgen_stmt *st;
	int rc = -1;

	dgen_buf_puts(&sql, "SELECT count(*) FROM ");
	copy_ident(&sql, t->name);
	st = copy_prepare(db, dgen_buf_str(&sql), err);
	if (st && copy_step(st, err) == DB_ROW) {
		*n = db->be->col_int(st, 0);
		rc = 0;
	}
	copy_free(st);
	dgen_buf_free(&sql);
	return rc;
}

/* Copies every row of t from src into dst, in rowid order. */
static int copy_rows(struct dgen_db *src, struct dgen_db *dst, struct copy_table *t,
		     struct dgen_err *err)
{
	struct dgen_buf sql = DGEN_BUF_INIT;
	struct dgen_stmt *from = NULL, *to = NULL;
	int rc = -1, r, i;

	copy_select(&sql, t);
	dgen_buf_puts(&sql, " ORDER BY rowid");
	from = copy_prepare(src, dgen_buf_str(&sql), err);
	if (!from)
		goto out;
	dgen_buf_reset(&sql);
	dgen_buf_puts(&sql, "INSERT INTO ");
	copy_ident(&sql, t->name);
	dgen_buf_puts(&sql, " (");
	copy_col_list(&sql, t);
	dgen_buf_puts(&sql, ") OVERRIDING SYSTEM VALUE VALUES (");
	for (i = 0; i < t->ncols; i++)
		dgen_buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
	dgen_buf_puts(&sql, ")");
	to = copy_prepare(dst, dgen_buf_str(&sql), err);
	if (!to)
		goto out;
	t->rows = 0;
	while ((r = copy_step(from, err)) == DB_ROW) {
		dst->be->reset(to);
		for (i = 0; i < t->ncols; i++)
			if (copy_bind(to, i + 1, from, i, err) < 0)
				goto out;
		if (copy_step(to, err) < 0) {
			dgen_error("copy: table %s, row %lld refused: %s", t->name,
				   (long long)(t->rows + 1), err->msg);
			goto out;
		}
		t->rows++;
	}
	rc = r < 0 ? -1 : 0;
out:
	copy_free(from);
	copy_free(to);
	dgen_buf_free(&sql);
	return rc;
}

/* Sets the identity sequence of t's one-column primary key past its
 * largest id (NULL, and nothing done, when the column has none). */
static int copy_sequence(struct dgen_db *dst, const struct copy_table *t, struct dgen_err *err)
{
	struct dgen_buf sql = DGEN_BUF_INIT;
	struct dgen_stmt *st = NULL;
	struct db_value v[2];
	int rc = -1, k;

	if (t->nkey != 1 || !t->int_key)
		return 0;
	for (k = 0; !t->key[k]; k++)
		;
	dgen_buf_puts(&sql, "SELECT setval(pg_get_serial_sequence(?1, ?2), (SELECT coalesce(max(");
	copy_ident(&sql, t->cols[k]);
	dgen_buf_puts(&sql, "), 0) + 1 FROM ");
	copy_ident(&sql, t->name);
	dgen_buf_puts(&sql, "), false) WHERE pg_get_serial_sequence(?1, ?2) IS NOT NULL");
	st = copy_prepare(dst, dgen_buf_str(&sql), err);
	memset(v, 0, sizeof(v));
	v[0].kind = v[1].kind = DB_V_TEXT;
	v[0].p = t->name;
	v[0].n = strlen(t->name);
	v[1].p = t->cols[k];
	v[1].n = strlen(t->cols[k]);
	if (st && dst->be->bind(st, 1, &v[0], err) == 0 && dst->be->bind(st, 2, &v[1], err) == 0 &&
	    copy_step(st, err) >= 0)
		rc = 0;
	copy_free(st);
	dgen_buf_free(&sql);
	return rc;
}

/* Whether column col holds the same value in a (sqlite) and b. */
static bool copy_same(struct dgen_stmt *a, struct dgen_stmt *b, int col)
{
	const struct db_backend *ba = a->db->be, *bb = b->db->be;
	enum db_value_kind k = ba->col_type(a, col);
	size_t n;

	if (k == DB_V_NONE || bb->col_is_null(b, col))
		return k == DB_V_NONE && bb->col_is_null(b, col);
	switch (k) {
	case DB_V_INT:
		return ba->col_int(a, col) == bb->col_int(b, col);
	case DB_V_DOUBLE:
		return ba->col_double(a, col) == bb->col_double(b, col);
	case DB_V_BLOB:
		n = ba->col_len(a, col);
		return n == bb->col_len(b, col) &&
		       (n == 0 || memcmp(ba->col_blob(a, col), bb->col_blob(b, col), n) == 0);
	default:
		n = ba->col_len(a, col);
		return n == bb->col_len(b, col) &&
		       (n == 0 || memcmp(ba->col_text(a, col), bb->col_text(b, col), n) == 0);
	}
}

/*
 * Compares up to COPY_SAMPLE_ROWS random rows of t, column by column,
 * each found in dst by its primary key (by all its columns when it has
 * none). *checked receives the rows compared.
 */
static int copy_verify(struct dgen_db *src, struct dgen_db *dst, const struct copy_table *t,
		       int64_t *checked, struct dgen_err *err)
{
	struct dgen_buf sql = DGEN_BUF_INIT;
	struct dgen_stmt *a = NULL, *b = NULL;
	int rc = -1, r, i, p;
	bool all = t->nkey == 0;

	*checked = 0;
	copy_select(&sql, t);
	dgen_buf_printf(&sql, " ORDER BY random() LIMIT %d", COPY_SAMPLE_ROWS);
	a = copy_prepare(src, dgen_buf_str(&sql), err);
	if (!a)
		goto out;
	dgen_buf_reset(&sql);
	copy_select(&sql, t);
	for (i = 0, p = 0; i < t->ncols; i++) {
		if (!all && !t->key[i])
			continue;
		dgen_buf_puts(&sql, p ? " AND " : " WHERE ");
		copy_ident(&sql, t->cols[i]);
		dgen_buf_printf(&sql, " IS NOT DISTINCT FROM ?%d", ++p);
	}
	dgen_buf_puts(&sql, " LIMIT 1");
	b = copy_prepare(dst, dgen_buf_str(&sql), err);
	if (!b)
		goto out;
	while ((r = copy_step(a, err)) == DB_ROW) {
		dst->be->reset(b);
		for (i = 0, p = 0; i < t->ncols; i++)
			if ((all || t->key[i]) && copy_bind(b, ++p, a, i, err) < 0)
				goto out;
		r = copy_step(b, err);
		if (r < 0)
			goto out;
		if (r != DB_ROW) {
			dgen_err_set(err, DGEN_EIO, "Check failed: a row of %s is missing", t->name);
			goto out;
		}
		for (i = 0; i < t->ncols; i++)
			if (!copy_same(a, b, i)) {
				dgen_err_set(err, DGEN_EIO, "Check failed: %s.%s differs", t->name,
					     t->cols[i]);
				goto out;
			}
		(*checked)++;
	}
	rc = r < 0 ? -1 : 0;
out:
	copy_free(a);
	copy_free(b);
	dgen_buf_free(&sql);
	return rc;
}

/* Refuses a target where any table of the schema holds a row. */
static int copy_check_empty(struct dgen_db *dst, const struct copy_schema *s,
			    struct dgen_err *err)
{
	int64_t n;
	int i;

	for (i = 0; i < s->n; i++) {
		if (copy_count(dst, &s->t[i], &n, err) < 0)
			return -1;
		if (n > 0)
			return dgen_err_set(err, DGEN_ECONFLICT,
					    "The target database is not empty (table %s has %lld "
					    "row(s)); copy only into a new, empty database",
					    s->t[i].name, (long long)n);
	}
	return 0;
}

static int copy_all(struct dgen_db *src, struct dgen_db *dst, struct copy_schema *s,
		    FILE *report, struct dgen_err *err)
{
	int i, rc;

	if (db_begin_read(src, err) < 0)
		return -1;
	if (db_begin(dst, err) < 0) {
		db_rollback(src);
		return -1;
	}
	rc = copy_check_empty(dst, s, err);
	for (i = 0; rc == 0 && i < s->n; i++) {
		rc = copy_rows(src, dst, &s->t[i], err);
		if (rc == 0)
			rc = copy_sequence(dst, &s->t[i], err);
		if (rc == 0 && report)
			fprintf(report, "  %-16s %10lld rows\n", s->t[i].name,
				(long long)s->t[i].rows);
	}
	rc = db_end(dst, rc, err);
	db_rollback(src);
	if (report)
		fflush(report);
	return rc;
}

/* After the commit: both sides count the same rows per table, and a
 * sample of each table's rows is equal column by column. */
static int copy_check(struct dgen_db *src, struct dgen_db *dst, struct copy_schema *s,
		      FILE *report, struct dgen_err *err)
{
	int64_t a, b, checked, total = 0;
	int i;

	for (i = 0; i < s->n; i++) {
		if (copy_count(src, &s->t[i], &a, err) < 0 || copy_count(dst, &s->t[i], &b, err) < 0)
			return -1;
		if (a != b)
			return dgen_err_set(err, DGEN_EIO,
					    "Check failed: %s has %lld rows in the copy, %lld in "
					    "the source",
					    s->t[i].name, (long long)b, (long long)a);
		if (copy_verify(src, dst, &s->t[i], &checked, err) < 0)
			return -1;
		total += checked;
	}
	if (report)
		fprintf(report,
			"checked: row counts of %d tables equal; %lld sampled rows (up to %d "
			"per table) equal column by column\n",
			s->n, (long long)total, COPY_SAMPLE_ROWS);
	return 0;
}

int copy_database(const char *from, const char *to, int busy_timeout_ms, FILE *report,
		  struct dgen_err *err)
{
	struct dgen_db *src = NULL, *dst = NULL;
	struct copy_schema s = { NULL, 0 };
	int rc = -1;

	if (strncmp(to, "postgresql://", 13) != 0 && strncmp(to, "postgres://", 11) != 0) {
		dgen_err_set(err, DGEN_EINVALID,
			     "The target must be a postgresql:// URL, got \"%s\"", to);
		goto out;
	}
	if (strncmp(from, "postgresql://", 13) == 0 || strncmp(from, "postgres://", 11) == 0) {
		dgen_err_set(err, DGEN_EINVALID, "The source must be a sqlite database file");
		goto out;
	}
	if (db_open(&src, from, busy_timeout_ms, err) < 0 ||
	    db_open(&dst, to, busy_timeout_ms, err) < 0)
		goto out;
	if (copy_load_schema(src, &s, err) < 0)
		goto out;
	if (report)
		fprintf(report, "copying %s to %s (schema version %d)\n", db_path(src),
			db_path(dst), migrate_latest());
	if (copy_all(src, dst, &s, report, err) < 0 || copy_check(src, dst, &s, report, err) < 0)
		goto out;
	rc = 0;
out:
	copy_schema_free(&s);
	db_close(dst);
	db_close(src);
	return rc;
}
