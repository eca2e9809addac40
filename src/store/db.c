/*
 * db.c - one sqlite connection: pragmas, the lazily prepared statement
 * cache, typed binds, busy handling and transactions. It knows no table
 * and no schema step: migrate.c builds on it, and open.c joins the two.
 */
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "dgen/clock.h"
#include "dgen/db.h"
#include "dgen/log.h"
#include "dgen/util.h"
#include "stmt.h"

/* The busy policy of callers that must not give up (db_retry_busy): how
 * many more tries after the first, and the pause between two. */
#define DB_BUSY_RETRIES 20
#define DB_BUSY_PAUSE_US 50000
/* How long a storage fault seen by a write of this connection keeps
 * db_storage_state() from answering "ok" without a write succeeding. */
#define DB_FAULT_MEMORY_S 10.0

struct dgen_db {
	sqlite3 *h;
	char *path;
	pid_t pid;                       /* process that opened it */
	int busy_timeout_ms;
	int bind_rc;                     /* first failing bind since the last step */
	int depth;                       /* nesting of db_begin/db_begin_read */
	bool doomed;                     /* an inner rollback happened */
	enum db_storage fault;           /* last storage fault of a write */
	double fault_at;                 /* when (monotonic seconds) */
	sqlite3_stmt *stmts[STMT__COUNT];
};

const char *db_path(const struct dgen_db *db)
{
	return db->path;
}

void db_now(char out[DGEN_ISO_LEN])
{
	dgen_clock_iso_now(out);
}

/* What the filesystem holding path says: read-only, nearly full, or
 * fine (also when it cannot be asked). */
static enum db_storage fs_state(const char *path)
{
	char *dir = dgen_xstrdup(path);
	struct statvfs sv;
	enum db_storage st = DB_STORAGE_OK;

	if (statvfs(dirname(dir), &sv) == 0) {
		if (sv.f_flag & ST_RDONLY)
			st = DB_STORAGE_READONLY;
		else if ((long long)sv.f_bavail * (long long)sv.f_frsize < DGEN_DB_FREE_MIN)
			st = DB_STORAGE_FULL;
	}
	free(dir);
	return st;
}

/* The storage fault behind a sqlite result code, or DB_STORAGE_OK when
 * rc is not about storage. An I/O error or a file that cannot be opened
 * is named by what the filesystem says, when it says something. */
static enum db_storage db_fault_of(struct dgen_db *db, int rc)
{
	enum db_storage fs;

	switch (rc & 0xff) {
	case SQLITE_FULL:
		return DB_STORAGE_FULL;
	case SQLITE_READONLY:
		return DB_STORAGE_READONLY;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		fs = db ? fs_state(db->path) : DB_STORAGE_OK;
		return fs != DB_STORAGE_OK ? fs : DB_STORAGE_ERROR;
	default:
		return DB_STORAGE_OK;
	}
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
	return !strcmp(s, "error") ? DB_STORAGE_ERROR : DB_STORAGE_OK;
}

enum db_storage db_storage_state(struct dgen_db *db)
{
	enum db_storage fs = fs_state(db->path);

	if (fs != DB_STORAGE_OK)
		return fs;
	if (db->fault != DB_STORAGE_OK && dgen_clock_mono() - db->fault_at < DB_FAULT_MEMORY_S)
		return db->fault;
	return DB_STORAGE_OK;
}

/* A storage fault: 503 + Retry-After (DGEN_EBUSY) naming the fault in
 * the detail, remembered for db_storage_state(). */
static int db_fail_storage(struct dgen_db *db, enum db_storage fault, const char *msg,
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

/*
 * Maps a sqlite result code to dgen's error codes. A lock still held when
 * the busy timeout ran out is DGEN_EBUSY, which the API answers with 503 and
 * Retry-After: the request is fine, the database is momentarily saturated.
 * Storage faults are DGEN_EBUSY as well (db_fail_storage). Always returns -1.
 */
static int db_fail(struct dgen_db *db, int rc, struct dgen_err *err)
{
	int prim = rc & 0xff;
	const char *msg = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	enum db_storage fault = db_fault_of(db, rc);

	if (fault != DB_STORAGE_OK)
		return db_fail_storage(db, fault, msg, err);
	switch (prim) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return dgen_err_set(err, DGEN_EBUSY,
				    "The database is busy; retry in a moment");
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return dgen_err_set(err, DGEN_ENOTFOUND,
					    "A referenced item does not exist");
		return dgen_err_set(err, DGEN_ECONFLICT, "Conflicts with stored data: %s", msg);
	case SQLITE_TOOBIG:
		return dgen_err_set(err, DGEN_ETOOBIG, "Value too large to store");
	default:
		return dgen_err_set(err, DGEN_EIO, "Database error: %s", msg);
	}
}

/* A connection carried across fork() shares sqlite's file locks with the
 * parent and corrupts them on close; refuse to use one. */
static int db_check_owner(struct dgen_db *db, struct dgen_err *err)
{
	if (db->pid != getpid())
		return dgen_err_set(err, DGEN_EINTERNAL,
				    "Database connection used in a child process; open one after fork");
	return 0;
}

sqlite3_stmt *db_stmt(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (db_check_owner(db, err) < 0)
		return NULL;
	st = db->stmts[id];
	if (!st) {
		rc = sqlite3_prepare_v3(db->h, db_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					&st, NULL);
		if (rc != SQLITE_OK) {
			dgen_error("cannot prepare statement %d: %s", (int)id, sqlite3_errmsg(db->h));
			db_fail(db, rc, err);
			return NULL;
		}
		db->stmts[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	db->bind_rc = SQLITE_OK;
	return st;
}

void db_reset(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

static void db_bind_rc(struct dgen_db *db, int rc)
{
	if (rc != SQLITE_OK && db->bind_rc == SQLITE_OK)
		db->bind_rc = rc;
}

static void db_bind_text(struct dgen_db *db, sqlite3_stmt *st, int idx, const char *s,
			 size_t n)
{
	if (!s)
		db_bind_rc(db, sqlite3_bind_null(st, idx));
	else
		db_bind_rc(db, sqlite3_bind_text64(st, idx, s, n, SQLITE_TRANSIENT, SQLITE_UTF8));
}

/*
 * Binds the arguments ap to ?1, ?2, ... of st by the letters of types
 * (stmt.h lists them). Parameters left alone stay NULL, since db_stmt()
 * cleared the bindings. A bad letter cannot be told apart from the
 * arguments that follow it, so binding stops there and the statement
 * fails at its step.
 */
static void db_vbind(struct dgen_db *db, sqlite3_stmt *st, const char *types, va_list ap)
{
	const char *s;
	const void *p;
	int64_t v;
	size_t n;
	int idx;

	for (idx = 1; *types; types++, idx++) {
		switch (*types) {
		case 'i':
			db_bind_rc(db, sqlite3_bind_int64(st, idx, va_arg(ap, int64_t)));
			break;
		case 'u':
		case 'k':
			v = va_arg(ap, int64_t);
			if (v > 0 || (v == 0 && *types == 'u'))
				db_bind_rc(db, sqlite3_bind_int64(st, idx, v));
			break;
		case 's':
			s = va_arg(ap, const char *);
			db_bind_text(db, st, idx, s, s ? strlen(s) : 0);
			break;
		case 'S':
			s = va_arg(ap, const char *);
			n = va_arg(ap, size_t);
			db_bind_text(db, st, idx, s, n);
			break;
		case 'd':
			db_bind_rc(db, sqlite3_bind_double(st, idx, va_arg(ap, double)));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			db_bind_rc(db, sqlite3_bind_blob64(st, idx, p, n, SQLITE_TRANSIENT));
			break;
		case '-':
			break;
		default:
			dgen_error("bind letter '%c' is not one of stmt.h", *types);
			db_bind_rc(db, SQLITE_MISUSE);
			return;
		}
	}
}

static sqlite3_stmt *db_vquery(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
			       const char *types, va_list ap)
{
	sqlite3_stmt *st = db_stmt(db, id, err);

	if (st)
		db_vbind(db, st, types, ap);
	return st;
}

sqlite3_stmt *db_query(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
		       const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_vquery(db, id, err, types, ap);
	va_end(ap);
	return st;
}

static int64_t db_vrun(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
		       const char *types, va_list ap)
{
	sqlite3_stmt *st = db_vquery(db, id, err, types, ap);
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
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_vquery(db, id, err, types, ap);
	va_end(ap);
	if (!st || db_step_must(db, st, DGEN_ENOTFOUND, "A referenced item does not exist",
				err) < 0)
		return -1;
	*row_id = db_col_int(st, 0);
	db_reset(st);
	return 0;
}

/*
 * The one place a statement is stepped. sqlite's busy handler already
 * waited up to busy_timeout for a lock, so a BUSY or LOCKED here has
 * outlived the timeout and becomes DGEN_EBUSY (via db_fail).
 */
int db_step(struct dgen_db *db, sqlite3_stmt *st, struct dgen_err *err)
{
	int rc;

	if (db->bind_rc != SQLITE_OK) {
		rc = db->bind_rc;
		db->bind_rc = SQLITE_OK;
		sqlite3_reset(st);
		return db_fail(db, rc, err);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	rc = sqlite3_extended_errcode(db->h);
	db_fail(db, rc, err);
	sqlite3_reset(st);
	return -1;
}

int db_step_one(struct dgen_db *db, sqlite3_stmt *st, struct dgen_err *err)
{
	int rc = db_step(db, st, err);

	if (rc < 0)
		return -1;
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	return 1;
}

int db_exec(struct dgen_db *db, sqlite3_stmt *st, int64_t *changes, struct dgen_err *err)
{
	int rc;

	while ((rc = db_step(db, st, err)) == SQLITE_ROW)
		;
	if (rc < 0)
		return -1;
	if (changes)
		*changes = sqlite3_changes64(db->h);
	sqlite3_reset(st);
	return 0;
}

int db_each(struct dgen_db *db, sqlite3_stmt *st, void (*row)(sqlite3_stmt *st, void *arg),
	    void *arg, struct dgen_err *err)
{
	int rc;

	while ((rc = db_step(db, st, err)) == SQLITE_ROW)
		row(st, arg);
	if (rc < 0)
		return -1;
	sqlite3_reset(st);
	return 0;
}

struct rows_json {
	struct json_object *(*row)(sqlite3_stmt *st);
	struct json_object *arr;
};

static void rows_json_add(sqlite3_stmt *st, void *arg)
{
	struct rows_json *r = arg;

	json_object_array_add(r->arr, r->row(st));
}

int db_rows_json(struct dgen_db *db, sqlite3_stmt *st,
		 struct json_object *(*row)(sqlite3_stmt *st), struct json_object **out,
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

int64_t db_col_int(sqlite3_stmt *st, int col)
{
	return sqlite3_column_int64(st, col);
}

bool db_col_is_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL;
}

const char *db_col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

size_t db_col_len(sqlite3_stmt *st, int col)
{
	return (size_t)sqlite3_column_bytes(st, col);
}

char *db_col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	if (!s)
		return NULL;
	return dgen_xstrndup((const char *)s, (size_t)sqlite3_column_bytes(st, col));
}

struct json_object *db_col_json(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	struct json_tokener *tok;
	struct json_object *v;

	if (!s)
		return NULL;
	/* Stored JSON went through the bounded parser on its way in; a deep
	 * depth here only guards against a hand-edited database. */
	tok = json_tokener_new_ex(1024);
	if (!tok)
		return NULL;
	v = json_tokener_parse_ex(tok, s, sqlite3_column_bytes(st, col));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	return v;
}

void db_add_text(struct json_object *obj, const char *key, sqlite3_stmt *st, int col)
{
	const char *s = db_col_text(st, col);

	json_object_object_add(obj, key,
			       s ? json_object_new_string_len(s, sqlite3_column_bytes(st, col))
				 : NULL);
}

void db_add_int(struct json_object *obj, const char *key, sqlite3_stmt *st, int col)
{
	json_object_object_add(obj, key,
			       db_col_is_null(st, col) ? NULL
						       : json_object_new_int64(db_col_int(st, col)));
}

int db_exec_script(struct dgen_db *db, const char *sql, struct dgen_err *err)
{
	char *msg = NULL;
	int rc;

	if (db_check_owner(db, err) < 0)
		return -1;
	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		rc = sqlite3_extended_errcode(db->h);
		if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ||
		    db_fault_of(db, rc) != DB_STORAGE_OK)
			db_fail(db, rc, err);
		else
			dgen_err_set(err, DGEN_EIO, "Database error: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Runs a pragma that answers one row and checks its text (journal_mode
 * answers the mode it ended up in, which is not always the one asked). */
static int db_pragma(struct dgen_db *db, const char *sql, const char *want, struct dgen_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;
	int ret = -1;

	rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, err);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, sqlite3_extended_errcode(db->h), err);
		goto out;
	}
	if (want && (rc != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
		     strcmp((const char *)sqlite3_column_text(st, 0), want) != 0)) {
		dgen_err_set(err, DGEN_EIO, "Database refused '%s' (answered '%s')", sql,
			     rc == SQLITE_ROW && sqlite3_column_text(st, 0)
				     ? (const char *)sqlite3_column_text(st, 0) : "");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/*
 * A statement that may fail halfway inside a transaction (an INSERT ...
 * SELECT with foreign keys, say) keeps the pages it changes in a
 * statement journal, in memory up to sqlite's 64 KiB and in a temporary
 * file past that; once spilled, every later statement of the transaction
 * writes there with two system calls a page. A group commit of the runner
 * (hundreds of records in one transaction) spilled at once. 4 MiB keeps
 * any ordinary statement in memory; only bulk ones spill. Process-wide:
 * set once, before the first connection initialises sqlite.
 */
#define STMT_JOURNAL_MEMORY (4 << 20)
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	/* SQLITE_MISUSE when the process started sqlite already: keep its. */
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_MEMORY);
}

/*
 * Opens the database and sets the connection up the same way in every
 * process:
 *  - busy_timeout first, so the pragmas below already wait for locks;
 *  - journal_mode=WAL: readers never block the writer nor the writer them,
 *    which the API pool and the runner need to share one file;
 *  - foreign_keys=ON: deleting a pipeline or a job cascades to its rows;
 *  - synchronous=FULL: every commit is fsync'd before it returns, so
 *    what the API acknowledged survives a power loss or an OS crash, not
 *    only a crash of a dgen process. The runner lowers its own
 *    connections to NORMAL (dgen-runner(8) says why and what it costs);
 *    an fsync of the shared WAL by any FULL commit makes everything
 *    before it durable too;
 *  - journal_size_limit: a WAL that is reset shrinks back to the limit.
 * The schema is migrate.c's business (db_open in open.c runs it next).
 */
int db_connect(struct dgen_db **out, const char *path, int busy_timeout_ms,
	       struct dgen_err *err)
{
	struct dgen_db *db;
	char sql[64];
	int rc;

	*out = NULL;
	pthread_once(&sqlite_setup_once, sqlite_setup);
	db = dgen_xcalloc(1, sizeof(*db));
	db->path = dgen_xstrdup(path);
	db->pid = getpid();
	db->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : DGEN_DB_BUSY_TIMEOUT_DEFAULT;

	rc = sqlite3_open_v2(path, &db->h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		dgen_err_set(err, DGEN_EIO, "Cannot open database '%s': %s", path,
			     db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, db->busy_timeout_ms);
	/* sqlite opens a file it may not write read-only, without a word, and
	 * the connection stays read-only after the filesystem comes back: refuse
	 * it as a storage fault (503), so the caller opens again later. */
	if (sqlite3_db_readonly(db->h, "main") == 1) {
		db_fail_storage(NULL, DB_STORAGE_READONLY,
				"the database file or its filesystem is read-only", err);
		goto fail;
	}
	/* keep -wal/-shm when the last connection closes (a CGI request would
	 * otherwise create and delete both every time); with a size limit set,
	 * that close empties the WAL, so the next one has nothing to replay */
	sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 });
	if (db_pragma(db, "PRAGMA journal_mode=WAL", "wal", err) < 0)
		goto fail;
	if (db_pragma(db, "PRAGMA foreign_keys=ON", NULL, err) < 0)
		goto fail;
	if (db_set_sync(db, DB_SYNC_FULL, err) < 0 ||
	    db_set_wal_limit(db, DGEN_DB_WAL_LIMIT_DEFAULT, err) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA busy_timeout=%d", db->busy_timeout_ms);
	if (db_pragma(db, sql, NULL, err) < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

int db_set_sync(struct dgen_db *db, enum db_sync sync, struct dgen_err *err)
{
	return db_pragma(db, sync == DB_SYNC_FULL ? "PRAGMA synchronous=FULL"
						  : "PRAGMA synchronous=NORMAL", NULL, err);
}

int db_set_wal_limit(struct dgen_db *db, int64_t bytes, struct dgen_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%lld", (long long)bytes);
	return db_pragma(db, sql, NULL, err);
}

int64_t db_wal_size(const struct dgen_db *db)
{
	char *wal = dgen_xasprintf("%s-wal", db->path);
	struct stat sb;
	int64_t n = stat(wal, &sb) == 0 ? (int64_t)sb.st_size : 0;

	free(wal);
	return n;
}

/*
 * wal_checkpoint(TRUNCATE) waits, through the busy handler, for the
 * writers and for the readers of older snapshots; new writers wait behind
 * it. So the wait is cut to wait_ms here (the API's writes keep their own
 * busy timeout, which must stay longer) and put back afterwards.
 */
int db_checkpoint(struct dgen_db *db, int wait_ms, int64_t *wal_after, struct dgen_err *err)
{
	int rc;

	if (db_check_owner(db, err) < 0)
		return -1;
	sqlite3_busy_timeout(db->h, wait_ms > 0 ? wait_ms : 1);
	rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(db->h, db->busy_timeout_ms);
	if (wal_after)
		*wal_after = db_wal_size(db);
	if (rc != SQLITE_OK)
		return db_fail(db, sqlite3_extended_errcode(db->h), err);
	return 0;
}

void db_close(struct dgen_db *db)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	/* A connection inherited across fork must not be closed by the child:
	 * closing releases POSIX locks the parent still relies on. */
	if (db->h && db->pid == getpid())
		sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}

static int db_begin_kind(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err)
{
	sqlite3_stmt *st;

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
	sqlite3_stmt *st;

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
	sqlite3_stmt *st;

	if (db->depth <= 0)
		return;
	if (--db->depth > 0) {
		db->doomed = true;
		return;
	}
	db->doomed = false;
	if (sqlite3_get_autocommit(db->h))
		return; /* sqlite already rolled back (some errors do) */
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
	sqlite3_stmt *st = db_query(db, STMT_PING, err, "");

	if (!st || db_step_must(db, st, DGEN_EIO, "The database did not answer", err) < 0)
		return -1;
	db_reset(st);
	return 0;
}

int db_integrity_check(struct dgen_db *db, struct dgen_err *err)
{
	sqlite3_stmt *st = db_query(db, STMT_INTEGRITY, err, "");
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

int db_step_must(struct dgen_db *db, sqlite3_stmt *st, enum dgen_errcode code,
		 const char *msg, struct dgen_err *err)
{
	int rc = db_step_one(db, st, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return dgen_err_set(err, code, "%s", msg);
	return 0;
}

int db_step_row(struct dgen_db *db, sqlite3_stmt *st, const char *what, const char *key,
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
