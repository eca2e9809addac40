/*
 * db.c - one connection, whatever its engine: the lazily prepared
 * statement cache, typed binds, the step helpers, transactions and the
 * busy retry policy. The engine behind a connection is a backend
 * (backend.h): db_sqlite.c for a file path, db_pg.c for a postgresql://
 * URL. It knows no table and no schema step: migrate.c builds on it, and
 * open.c joins the two.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dgen/clock.h"
#include "dgen/config.h"
#include "dgen/db.h"
#include "dgen/log.h"
#include "dgen/util.h"
#include "backend.h"

/* The busy policy of callers that must not give up (db_retry_busy): how
 * many more tries after the first, and the pause between two. */
#define DB_BUSY_RETRIES 20
#define DB_BUSY_PAUSE_US 50000
/* How long a storage fault seen by a write of this connection keeps
 * db_storage_state() from answering "ok" without a write succeeding. */
#define DB_FAULT_MEMORY_S 10.0

const char *db_path(const struct dgen_db *db)
{
	return db->path;
}

void db_now(char out[DGEN_ISO_LEN])
{
	dgen_clock_iso_now(out);
}

const char *db_storage_name(enum db_storage s)
{
	switch (s) {
	case DB_STORAGE_FULL:
		return "full";
	case DB_STORAGE_READONLY:
		return "read-only";
	case DB_STORAGE_ERROR:
		return "error";
	case DB_STORAGE_UNAVAILABLE:
		return "unavailable";
	default:
		return "ok";
	}
}

enum db_storage db_err_storage(const struct dgen_err *err)
{
	struct json_object *v;
	const char *s;

	if (err->code != DGEN_EBUSY || !err->detail ||
	    !json_object_object_get_ex(err->detail, "database", &v))
		return DB_STORAGE_OK;
	s = json_object_get_string(v);
	if (!s)
		return DB_STORAGE_OK;
	if (!strcmp(s, "full"))
		return DB_STORAGE_FULL;
	if (!strcmp(s, "read-only"))
		return DB_STORAGE_READONLY;
	if (!strcmp(s, "unavailable"))
		return DB_STORAGE_UNAVAILABLE;
	return !strcmp(s, "error") ? DB_STORAGE_ERROR : DB_STORAGE_OK;
}

enum db_storage db_storage_state(struct dgen_db *db)
{
	enum db_storage fs = db->be->storage_state(db);

	if (fs != DB_STORAGE_OK)
		return fs;
	if (db->fault != DB_STORAGE_OK && dgen_clock_mono() - db->fault_at < DB_FAULT_MEMORY_S)
		return db->fault;
	return DB_STORAGE_OK;
}

/* A storage fault: 503 + Retry-After (DGEN_EBUSY) naming the fault in
 * the detail, remembered for db_storage_state(). */
int db_fail_storage(struct dgen_db *db, enum db_storage fault, const char *msg,
		    struct dgen_err *err)
{
	static const char *const what[] = {
		[DB_STORAGE_FULL] = "The disk holding the database is full",
		[DB_STORAGE_READONLY] = "The database cannot be written (read-only)",
		[DB_STORAGE_ERROR] = "The database's storage failed",
	};

	if (db) {
		db->fault = fault;
		db->fault_at = dgen_clock_mono();
	}
	dgen_err_set(err, DGEN_EBUSY, "%s: %s; retry once an operator has fixed it",
		     what[fault], msg);
	dgen_err_detail_str(err, "database", db_storage_name(fault));
	return -1;
}

/* This process's id, without a system call each statement: read once,
 * and again in the child of a fork() (pthread_atfork). */
static pid_t db_cached_pid;
static pthread_once_t db_pid_once = PTHREAD_ONCE_INIT;

static void db_pid_reset(void)
{
	__atomic_store_n(&db_cached_pid, getpid(), __ATOMIC_RELAXED);
}

static void db_pid_init(void)
{
	db_pid_reset();
	pthread_atfork(NULL, NULL, db_pid_reset);
}

static pid_t db_pid(void)
{
	pthread_once(&db_pid_once, db_pid_init);
	return __atomic_load_n(&db_cached_pid, __ATOMIC_RELAXED);
}

/* A connection carried across fork() shares the parent's file locks
 * (sqlite) or its socket (PostgreSQL) and corrupts them; refuse to use one. */
int db_check_owner(struct dgen_db *db, struct dgen_err *err)
{
	if (db->pid != db_pid())
		return dgen_err_set(err, DGEN_EINTERNAL,
				    "Database connection used in a child process; open one after fork");
	return 0;
}

struct dgen_stmt *db_stmt(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err)
{
	struct dgen_stmt *st;

	if (db_check_owner(db, err) < 0)
		return NULL;
	st = db->stmts[id];
	if (!st) {
		st = db->be->prepare(db, id, err);
		if (!st)
			return NULL;
		st->db = db;
		st->id = id;
		db->stmts[id] = st;
	}
	db->be->reset(st);
	dgen_err_clear(&db->bind_err);
	return st;
}

void db_reset(struct dgen_stmt *st)
{
	if (st)
		st->db->be->reset(st);
}

static void db_bind(struct dgen_stmt *st, int idx, const struct db_value *v)
{
	struct dgen_db *db = st->db;
	struct dgen_err e = DGEN_ERR_INIT;

	if (db->be->bind(st, idx, v, &e) < 0 && db->bind_err.code == DGEN_OK)
		dgen_err_move(&db->bind_err, &e);
	dgen_err_clear(&e);
}

/*
 * Binds the arguments ap to ?1, ?2, ... of st by the letters of types
 * (stmt.h lists them). Parameters left alone stay NULL, since db_stmt()
 * cleared the bindings. A bad letter cannot be told apart from the
 * arguments that follow it, so binding stops there and the statement
 * fails at its step.
 */
static void db_vbind(struct dgen_stmt *st, const char *types, va_list ap, bool held)
{
	struct db_value v;
	int idx;

	for (idx = 1; *types; types++, idx++) {
		memset(&v, 0, sizeof(v));
		v.held = held;
		switch (*types) {
		case 'i':
			v.kind = DB_V_INT;
			v.i = va_arg(ap, int64_t);
			break;
		case 'u':
		case 'k':
			v.kind = DB_V_INT;
			v.i = va_arg(ap, int64_t);
			v.null = !(v.i > 0 || (v.i == 0 && *types == 'u'));
			break;
		case 's':
			v.kind = DB_V_TEXT;
			v.p = va_arg(ap, const char *);
			v.n = v.p ? strlen(v.p) : 0;
			v.null = !v.p;
			break;
		case 'S':
		case 'b':
			v.kind = *types == 'S' ? DB_V_TEXT : DB_V_BLOB;
			v.p = va_arg(ap, const void *);
			v.n = va_arg(ap, size_t);
			v.null = !v.p;
			break;
		case 'd':
			v.kind = DB_V_DOUBLE;
			v.d = va_arg(ap, double);
			break;
		case '-':
			v.null = true;
			break;
		default:
			dgen_error("bind letter '%c' is not one of stmt.h", *types);
			if (st->db->bind_err.code == DGEN_OK)
				dgen_err_set(&st->db->bind_err, DGEN_EIO,
					     "Database error: bad parameter type '%c'", *types);
			return;
		}
		db_bind(st, idx, &v);
	}
}

/* held: the caller steps and resets st before it returns, so the
 * arguments outlive every use sqlite makes of them and are bound without
 * a copy (db_run, db_write, db_insert); a statement handed back to the
 * caller to step (db_query) gets copies. */
static struct dgen_stmt *db_vquery(struct dgen_db *db, enum db_stmt_id id,
				   struct dgen_err *err, const char *types, va_list ap, bool held)
{
	struct dgen_stmt *st = db_stmt(db, id, err);

	if (st)
		db_vbind(st, types, ap, held);
	return st;
}

struct dgen_stmt *db_query(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
			   const char *types, ...)
{
	struct dgen_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_vquery(db, id, err, types, ap, false);
	va_end(ap);
	return st;
}

static int64_t db_vrun(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
		       const char *types, va_list ap)
{
	struct dgen_stmt *st = db_vquery(db, id, err, types, ap, true);
	int64_t n;

	if (!st || db_exec(db, st, &n, err) < 0)
		return -1;
	return n;
}

int64_t db_run(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
	       const char *types, ...)
{
	va_list ap;
	int64_t n;

	va_start(ap, types);
	n = db_vrun(db, id, err, types, ap);
	va_end(ap);
	return n;
}

int64_t db_write(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
		 const char *types, ...)
{
	va_list ap;
	int64_t n;

	if (db_begin(db, err) < 0)
		return -1;
	va_start(ap, types);
	n = db_vrun(db, id, err, types, ap);
	va_end(ap);
	if (db_end(db, n < 0 ? -1 : 0, err) < 0)
		return -1;
	return n;
}

int db_insert(struct dgen_db *db, enum db_stmt_id id, int64_t *row_id, struct dgen_err *err,
	      const char *types, ...)
{
	struct dgen_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_vquery(db, id, err, types, ap, true);
	va_end(ap);
	if (!st || db_step_must(db, st, DGEN_ENOTFOUND, "A referenced item does not exist",
				err) < 0)
		return -1;
	*row_id = db_col_int(st, 0);
	db_reset(st);
	return 0;
}

/* The one place a statement is stepped. The backend has waited for
 * locks already (sqlite's busy timeout, PostgreSQL's lock_timeout), so a
 * lock here has outlived the wait and is DGEN_EBUSY. */
int db_step(struct dgen_db *db, struct dgen_stmt *st, struct dgen_err *err)
{
	if (db->bind_err.code != DGEN_OK) {
		dgen_err_move(err, &db->bind_err);
		db->be->reset(st);
		return -1;
	}
	return db->be->step(st, err);
}

int db_step_one(struct dgen_db *db, struct dgen_stmt *st, struct dgen_err *err)
{
	int rc = db_step(db, st, err);

	if (rc < 0)
		return -1;
	if (rc != DB_ROW) {
		db_reset(st);
		return 0;
	}
	return 1;
}

int db_exec(struct dgen_db *db, struct dgen_stmt *st, int64_t *changes, struct dgen_err *err)
{
	int rc;

	while ((rc = db_step(db, st, err)) == DB_ROW)
		;
	if (rc < 0)
		return -1;
	if (changes)
		*changes = db->be->changes(st);
	db_reset(st);
	return 0;
}

int db_each(struct dgen_db *db, struct dgen_stmt *st, void (*row)(struct dgen_stmt *st, void *arg),
	    void *arg, struct dgen_err *err)
{
	int rc;

	while ((rc = db_step(db, st, err)) == DB_ROW)
		row(st, arg);
	if (rc < 0)
		return -1;
	db_reset(st);
	return 0;
}

struct rows_json {
	struct json_object *(*row)(struct dgen_stmt *st);
	struct json_object *arr;
};

static void rows_json_add(struct dgen_stmt *st, void *arg)
{
	struct rows_json *r = arg;

	json_object_array_add(r->arr, r->row(st));
}

int db_rows_json(struct dgen_db *db, struct dgen_stmt *st,
		 struct json_object *(*row)(struct dgen_stmt *st), struct json_object **out,
		 struct dgen_err *err)
{
	struct rows_json r = { row, json_object_new_array() };

	if (db_each(db, st, rows_json_add, &r, err) < 0) {
		json_object_put(r.arr);
		return -1;
	}
	*out = r.arr;
	return 0;
}

int64_t db_col_int(struct dgen_stmt *st, int col)
{
	return st->db->be->col_int(st, col);
}

double db_col_double(struct dgen_stmt *st, int col)
{
	return st->db->be->col_double(st, col);
}

bool db_col_is_null(struct dgen_stmt *st, int col)
{
	return st->db->be->col_is_null(st, col);
}

bool db_col_is_text(struct dgen_stmt *st, int col)
{
	return st->db->be->col_is_text(st, col);
}

const char *db_col_text(struct dgen_stmt *st, int col)
{
	return st->db->be->col_text(st, col);
}

const void *db_col_blob(struct dgen_stmt *st, int col)
{
	return st->db->be->col_blob(st, col);
}

size_t db_col_len(struct dgen_stmt *st, int col)
{
	return st->db->be->col_len(st, col);
}

char *db_col_dup(struct dgen_stmt *st, int col)
{
	const char *s = db_col_text(st, col);

	if (!s)
		return NULL;
	return dgen_xstrndup(s, db_col_len(st, col));
}

struct json_object *db_col_json(struct dgen_stmt *st, int col)
{
	const char *s = db_col_text(st, col);
	struct json_tokener *tok;
	struct json_object *v;

	if (!s)
		return NULL;
	/* Stored JSON went through the bounded parser on its way in; a deep
	 * depth here only guards against a hand-edited database. */
	tok = json_tokener_new_ex(1024);
	if (!tok)
		return NULL;
	v = json_tokener_parse_ex(tok, s, (int)db_col_len(st, col));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	return v;
}

void db_add_text(struct json_object *obj, const char *key, struct dgen_stmt *st, int col)
{
	const char *s = db_col_text(st, col);

	json_object_object_add(obj, key,
			       s ? json_object_new_string_len(s, (int)db_col_len(st, col)) : NULL);
}

void db_add_int(struct json_object *obj, const char *key, struct dgen_stmt *st, int col)
{
	json_object_object_add(obj, key,
			       db_col_is_null(st, col) ? NULL
						       : json_object_new_int64(db_col_int(st, col)));
}

int db_exec_script(struct dgen_db *db, const char *sql, struct dgen_err *err)
{
	if (db_check_owner(db, err) < 0)
		return -1;
	return db->be->exec_script(db, sql, err);
}

int db_exec_step(struct dgen_db *db, int i, const char *sql, struct dgen_err *err)
{
	if (db_check_owner(db, err) < 0)
		return -1;
	return db->be->exec_step(db, i, sql, err);
}

int db_lock_schema(struct dgen_db *db, struct dgen_err *err)
{
	return db->be->lock_schema(db, err);
}

int db_lock(struct dgen_db *db, enum db_lock_kind kind, int64_t id, struct dgen_err *err)
{
	if (db->depth <= 0)
		return dgen_err_set(err, DGEN_EINTERNAL, "Lock without a transaction");
	return db->be->lock(db, ((int64_t)kind << 56) ^ id, err);
}

int db_set_schema_version(struct dgen_db *db, int version, struct dgen_err *err)
{
	return db->be->set_schema_version(db, version, err);
}

/* A postgresql:// (or postgres://) URL selects PostgreSQL; anything else
 * is the path of a sqlite file. */
static const struct db_backend *backend_of(const char *target)
{
	if (dgen_config_is_url(target))
		return &db_backend_pg;
	return &db_backend_sqlite;
}

/* Opens target with the backend it names and sets the connection up the
 * same way in every process (each backend says how). The schema is
 * migrate.c's business (db_open in open.c runs it next). */
int db_connect(struct dgen_db **out, const char *path, int busy_timeout_ms,
	       struct dgen_err *err)
{
	struct dgen_db *db;

	*out = NULL;
	db = dgen_xcalloc(1, sizeof(*db));
	db->be = backend_of(path);
	db->path = dgen_xstrdup(path);
	db->pid = db_pid();
	db->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : DGEN_DB_BUSY_TIMEOUT_DEFAULT;
	if (db->be->connect(db, path, err) < 0) {
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int db_set_sync(struct dgen_db *db, enum db_sync sync, struct dgen_err *err)
{
	return db->be->set_sync(db, sync, err);
}

int db_set_wal_limit(struct dgen_db *db, int64_t bytes, struct dgen_err *err)
{
	return db->be->set_wal_limit(db, bytes, err);
}

int64_t db_wal_size(const struct dgen_db *db)
{
	return db->be->wal_size(db);
}

int db_checkpoint(struct dgen_db *db, int wait_ms, int64_t *wal_after, struct dgen_err *err)
{
	if (db_check_owner(db, err) < 0)
		return -1;
	return db->be->checkpoint(db, wait_ms, wal_after, err);
}

/* Sleeps ms milliseconds (a signal cuts it short). */
static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

bool db_wait_jobs(struct dgen_db *db, int timeout_ms)
{
	struct dgen_err err = DGEN_ERR_INIT;
	double t0 = dgen_clock_mono();
	int rc = -1, left;

	if (db->depth == 0 && db_check_owner(db, &err) == 0)
		rc = db->be->wait_jobs(db, timeout_ms, &err);
	if (rc < 0) {
		/* keep the caller's pace while the server is away */
		dgen_debug("waiting for jobs: %s", err.msg);
		left = timeout_ms - (int)((dgen_clock_mono() - t0) * 1000.0);
		if (left > 0)
			sleep_ms(left);
	}
	dgen_err_clear(&err);
	return rc > 0;
}

void db_close(struct dgen_db *db)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < STMT__COUNT; i++)
		if (db->stmts[i])
			db->be->finalize(db->stmts[i]);
	db->be->close(db);
	dgen_err_clear(&db->bind_err);
	free(db->path);
	free(db);
}

static int db_begin_kind(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err)
{
	struct dgen_stmt *st;

	if (db->depth > 0) {
		db->depth++;
		return 0;
	}
	st = db_stmt(db, id, err);
	if (!st || db_exec(db, st, NULL, err) < 0)
		return -1;
	db->depth = 1;
	db->doomed = false;
	return 0;
}

int db_begin(struct dgen_db *db, struct dgen_err *err)
{
	return db_begin_kind(db, STMT_BEGIN_IMMEDIATE, err);
}

int db_begin_read(struct dgen_db *db, struct dgen_err *err)
{
	return db_begin_kind(db, STMT_BEGIN_READ, err);
}

int db_commit(struct dgen_db *db, struct dgen_err *err)
{
	struct dgen_stmt *st;

	if (db->depth <= 0)
		return dgen_err_set(err, DGEN_EINTERNAL, "Commit without a transaction");
	if (--db->depth > 0)
		return 0;
	if (db->doomed) {
		db->depth = 1;
		db_rollback(db);
		return dgen_err_set(err, DGEN_EIO, "The transaction was rolled back");
	}
	st = db_stmt(db, STMT_COMMIT, err);
	if (!st || db_exec(db, st, NULL, err) < 0) {
		/* A failed COMMIT leaves the transaction open: end it. */
		db->depth = 1;
		db_rollback(db);
		return -1;
	}
	db->fault = DB_STORAGE_OK;
	return 0;
}

void db_rollback(struct dgen_db *db)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_stmt *st;

	if (db->depth <= 0)
		return;
	if (--db->depth > 0) {
		db->doomed = true;
		return;
	}
	db->doomed = false;
	if (!db->be->txn_open(db))
		return; /* the engine rolled back already (some errors do) */
	st = db_stmt(db, STMT_ROLLBACK, &e);
	if (!st || db_exec(db, st, NULL, &e) < 0)
		dgen_error("rollback failed: %s", e.msg);
	dgen_err_clear(&e);
}

bool db_in_transaction(const struct dgen_db *db)
{
	return db->depth > 0;
}

/* Ends a transaction from the outcome of the work done inside it. */
int db_end(struct dgen_db *db, int rc, struct dgen_err *err)
{
	if (rc < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, err);
}

/*
 * The one busy policy for work that is already paid for (a unit whose LLM
 * tokens are spent): sqlite's busy handler has waited busy_timeout, and
 * this gives the lock a few more chances, a short pause apart, before the
 * caller gives up. Any other error is final at once, storage faults too
 * (they last until an operator acts: the caller decides how to wait).
 */
bool db_retry_busy(int *attempt, const struct dgen_err *err)
{
	if (err->code != DGEN_EBUSY || *attempt >= DB_BUSY_RETRIES ||
	    db_err_storage(err) != DB_STORAGE_OK)
		return false;
	(*attempt)++;
	usleep(DB_BUSY_PAUSE_US);
	return true;
}

int db_ping(struct dgen_db *db, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_PING, err, "");

	if (!st || db_step_must(db, st, DGEN_EIO, "The database did not answer", err) < 0)
		return -1;
	db_reset(st);
	return 0;
}

int db_integrity_check(struct dgen_db *db, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_INTEGRITY, err, "");
	const char *s;
	int rc, ret = 0;

	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	s = rc ? db_col_text(st, 0) : NULL;
	if (!s || strcmp(s, "ok") != 0)
		ret = dgen_err_set(err, DGEN_EIO, "Database integrity check failed: %s",
				   s ? s : "no answer");
	db_reset(st);
	return ret;
}

int db_not_found(struct dgen_err *err, const char *what, const char *key, int64_t id)
{
	dgen_err_set(err, DGEN_ENOTFOUND, "%s %lld not found", what, (long long)id);
	dgen_err_detail_int(err, key, id);
	return -1;
}

int db_step_must(struct dgen_db *db, struct dgen_stmt *st, enum dgen_errcode code,
		 const char *msg, struct dgen_err *err)
{
	int rc = db_step_one(db, st, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return dgen_err_set(err, code, "%s", msg);
	return 0;
}

int db_step_row(struct dgen_db *db, struct dgen_stmt *st, const char *what, const char *key,
		int64_t id, struct dgen_err *err)
{
	int rc = db_step_one(db, st, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return db_not_found(err, what, key, id);
	return 0;
}

int db_changed_row(int64_t changes, const char *what, const char *key, int64_t id,
		   struct dgen_err *err)
{
	if (changes < 0)
		return -1;
	if (changes == 0)
		return db_not_found(err, what, key, id);
	return 0;
}
