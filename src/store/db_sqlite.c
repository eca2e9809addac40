/*
 * db_sqlite.c - the sqlite backend (backend.h): one file opened with
 * dgen's pragmas, statements prepared once per connection, sqlite's
 * result codes mapped to dgen_err codes, and the WAL and storage controls
 * of db.h. The embedded default store.
 */
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <sqlite3.h>

#include "dgen/log.h"
#include "dgen/util.h"
#include "backend.h"

struct sqlite_stmt {
	struct dgen_stmt base;
	sqlite3_stmt *h;
};

#define H(db) ((sqlite3 *)(db)->impl)
#define ST(st) (((struct sqlite_stmt *)(st))->h)

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

/*
 * Maps a sqlite result code to dgen's error codes. A lock still held when
 * the busy timeout ran out is DGEN_EBUSY, which the API answers with 503 and
 * Retry-After: the request is fine, the database is momentarily saturated.
 * Storage faults are DGEN_EBUSY as well (db_fail_storage). Always returns -1.
 */
static int db_fail(struct dgen_db *db, int rc, struct dgen_err *err)
{
	int prim = rc & 0xff;
	const char *msg = db && db->impl ? sqlite3_errmsg(H(db)) : sqlite3_errstr(rc);
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

static struct dgen_stmt *lite_prepare_text(struct dgen_db *db, const char *sql,
					   struct dgen_err *err)
{
	struct sqlite_stmt *st;
	sqlite3_stmt *h = NULL;
	int rc;

	rc = sqlite3_prepare_v3(H(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &h, NULL);
	if (rc != SQLITE_OK) {
		dgen_error("cannot prepare statement: %s", sqlite3_errmsg(H(db)));
		db_fail(db, rc, err);
		return NULL;
	}
	st = dgen_xcalloc(1, sizeof(*st));
	st->h = h;
	return &st->base;
}

static struct dgen_stmt *lite_prepare(struct dgen_db *db, enum db_stmt_id id,
				      struct dgen_err *err)
{
	return lite_prepare_text(db, db_sql[id], err);
}

static void lite_finalize(struct dgen_stmt *st)
{
	sqlite3_finalize(ST(st));
	free(st);
}

static void lite_reset(struct dgen_stmt *st)
{
	sqlite3_reset(ST(st));
	sqlite3_clear_bindings(ST(st));
}

static int lite_bind(struct dgen_stmt *st, int idx, const struct db_value *v,
		     struct dgen_err *err)
{
	sqlite3_stmt *h = ST(st);
	int rc;

	if (v->null)
		rc = sqlite3_bind_null(h, idx);
	else if (v->kind == DB_V_INT)
		rc = sqlite3_bind_int64(h, idx, v->i);
	else if (v->kind == DB_V_DOUBLE)
		rc = sqlite3_bind_double(h, idx, v->d);
	else if (v->kind == DB_V_TEXT)
		rc = sqlite3_bind_text64(h, idx, v->p, v->n,
					 v->held ? SQLITE_STATIC : SQLITE_TRANSIENT, SQLITE_UTF8);
	else if (v->kind == DB_V_BLOB)
		rc = sqlite3_bind_blob64(h, idx, v->p, v->n,
					 v->held ? SQLITE_STATIC : SQLITE_TRANSIENT);
	else
		rc = SQLITE_OK; /* '-': stays NULL */
	return rc == SQLITE_OK ? 0 : db_fail(st->db, rc, err);
}

/* sqlite's busy handler already waited up to busy_timeout for a lock, so a
 * BUSY or LOCKED here has outlived the timeout and becomes DGEN_EBUSY. */
static int lite_step(struct dgen_stmt *st, struct dgen_err *err)
{
	int rc = sqlite3_step(ST(st));

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	db_fail(st->db, sqlite3_extended_errcode(H(st->db)), err);
	sqlite3_reset(ST(st));
	return -1;
}

static int64_t lite_changes(struct dgen_stmt *st)
{
	return sqlite3_changes64(H(st->db));
}

static bool lite_col_is_null(struct dgen_stmt *st, int col)
{
	return sqlite3_column_type(ST(st), col) == SQLITE_NULL;
}

/* No notifications: the poll interval of old. */
static int lite_wait_jobs(struct dgen_db *db, int timeout_ms, struct dgen_err *err)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	return 0;
}

static bool lite_col_is_text(struct dgen_stmt *st, int col)
{
	return sqlite3_column_type(ST(st), col) == SQLITE_TEXT;
}

static enum db_value_kind lite_col_type(struct dgen_stmt *st, int col)
{
	switch (sqlite3_column_type(ST(st), col)) {
	case SQLITE_INTEGER:
		return DB_V_INT;
	case SQLITE_FLOAT:
		return DB_V_DOUBLE;
	case SQLITE_BLOB:
		return DB_V_BLOB;
	case SQLITE_TEXT:
		return DB_V_TEXT;
	default:
		return DB_V_NONE;
	}
}

static int64_t lite_col_int(struct dgen_stmt *st, int col)
{
	return sqlite3_column_int64(ST(st), col);
}

static double lite_col_double(struct dgen_stmt *st, int col)
{
	return sqlite3_column_double(ST(st), col);
}

static const char *lite_col_text(struct dgen_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(ST(st), col);
}

static const void *lite_col_blob(struct dgen_stmt *st, int col)
{
	return sqlite3_column_blob(ST(st), col);
}

static size_t lite_col_len(struct dgen_stmt *st, int col)
{
	return (size_t)sqlite3_column_bytes(ST(st), col);
}

static int lite_exec_script(struct dgen_db *db, const char *sql, struct dgen_err *err)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(H(db), sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		rc = sqlite3_extended_errcode(H(db));
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

/*
 * Every step moves schema_version on once more when it is done: that is
 * how every connection, this one too, learns to read the schema again,
 * and sqlite moves it by itself only for DDL, not for a step that edits
 * sqlite_schema in place (migrate.c step 8).
 */
static int lite_exec_step(struct dgen_db *db, int i, const char *sql, struct dgen_err *err)
{
	sqlite3_stmt *st = NULL;
	char bump[64];
	int rc;

	if (lite_exec_script(db, sql, err) < 0)
		return -1;
	rc = sqlite3_prepare_v2(H(db), "PRAGMA schema_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(bump, sizeof bump, "PRAGMA schema_version = %d",
			 sqlite3_column_int(st, 0) + 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return dgen_err_set(err, DGEN_EIO, "Database error: schema step %d: %s", i + 1,
				    sqlite3_errstr(rc));
	return lite_exec_script(db, bump, err);
}

/* BEGIN IMMEDIATE holds the write lock already. */
static int lite_lock_schema(struct dgen_db *db, struct dgen_err *err)
{
	return 0;
}

/* user_version is part of the database header: it changes in the
 * migration's transaction, so a crash leaves either all or none. */
static int lite_set_schema_version(struct dgen_db *db, int version, struct dgen_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	return lite_exec_script(db, sql, err);
}

/* BEGIN IMMEDIATE serializes every writer already. */
static int lite_lock(struct dgen_db *db, int64_t key, struct dgen_err *err)
{
	return 0;
}

static bool lite_txn_open(struct dgen_db *db)
{
	return !sqlite3_get_autocommit(H(db));
}

/* Runs a pragma that answers one row and checks its text (journal_mode
 * answers the mode it ended up in, which is not always the one asked). */
static int db_pragma(struct dgen_db *db, const char *sql, const char *want, struct dgen_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;
	int ret = -1;

	rc = sqlite3_prepare_v2(H(db), sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, err);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, sqlite3_extended_errcode(H(db)), err);
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

static int lite_set_sync(struct dgen_db *db, enum db_sync sync, struct dgen_err *err)
{
	return db_pragma(db, sync == DB_SYNC_FULL ? "PRAGMA synchronous=FULL"
						  : "PRAGMA synchronous=NORMAL", NULL, err);
}

static int lite_set_wal_limit(struct dgen_db *db, int64_t bytes, struct dgen_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%lld", (long long)bytes);
	return db_pragma(db, sql, NULL, err);
}

/* Puts a new file in WAL mode. The switch takes the file's exclusive lock
 * while the pragma holds its read lock already, a wait sqlite's busy
 * handler does not make, so two processes creating the database at once
 * (a runner and the first API request, or the CLI) see "database is
 * locked" at once: the switch is tried again, 10 ms apart, within the
 * busy timeout. On a file in WAL mode already it takes no lock. */
#define WAL_SWITCH_PAUSE_MS 10
static int lite_wal_mode(struct dgen_db *db, struct dgen_err *err)
{
	struct timespec pause = { 0, WAL_SWITCH_PAUSE_MS * 1000000L };
	int tries = db->busy_timeout_ms / WAL_SWITCH_PAUSE_MS;

	while (db_pragma(db, "PRAGMA journal_mode=WAL", "wal", err) < 0) {
		if (err->code != DGEN_EBUSY || db_err_storage(err) != DB_STORAGE_OK || tries-- <= 0)
			return -1;
		dgen_err_clear(err);
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* Before sqlite's first use in the process: no memory statistics (dgen
 * reads none), so an allocation inside sqlite takes no global mutex; the
 * runner's committer makes about a hundred of them a record. */
static void lite_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
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
 *    only a crash of a dgen process. The runner keeps FULL too: its
 *    group commit makes the fsync one a batch (dgen-runner(8) gives the
 *    figures);
 *  - journal_size_limit: a WAL that is reset shrinks back to the limit.
 * The schema is migrate.c's business (db_open in open.c runs it next).
 */
static int lite_connect(struct dgen_db *db, const char *path, struct dgen_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	sqlite3 *h = NULL;
	char sql[64];
	int rc;

	pthread_once(&once, lite_configure);
	rc = sqlite3_open_v2(path, &h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	db->impl = h;
	if (rc != SQLITE_OK)
		return dgen_err_set(err, DGEN_EIO, "Cannot open database '%s': %s", path,
				    h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, db->busy_timeout_ms);
	/* sqlite opens a file it may not write read-only, without a word, and
	 * the connection stays read-only after the filesystem comes back: refuse
	 * it as a storage fault (503), so the caller opens again later. */
	if (sqlite3_db_readonly(h, "main") == 1)
		return db_fail_storage(NULL, DB_STORAGE_READONLY,
				       "the database file or its filesystem is read-only", err);
	/* keep -wal/-shm when the last connection closes (a CGI request would
	 * otherwise create and delete both every time); with a size limit set,
	 * that close empties the WAL, so the next one has nothing to replay */
	sqlite3_file_control(h, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 });
	if (lite_wal_mode(db, err) < 0)
		return -1;
	if (db_pragma(db, "PRAGMA foreign_keys=ON", NULL, err) < 0)
		return -1;
	if (lite_set_sync(db, DB_SYNC_FULL, err) < 0 ||
	    lite_set_wal_limit(db, DGEN_DB_WAL_LIMIT_DEFAULT, err) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA busy_timeout=%d", db->busy_timeout_ms);
	return db_pragma(db, sql, NULL, err);
}

/* A connection inherited across fork must not be closed by the child:
 * closing releases POSIX locks the parent still relies on. */
static void lite_close(struct dgen_db *db)
{
	if (db->impl && db->pid == getpid())
		sqlite3_close_v2(H(db));
}

static int64_t lite_wal_size(const struct dgen_db *db)
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
static int lite_checkpoint(struct dgen_db *db, int wait_ms, int64_t *wal_after,
			   struct dgen_err *err)
{
	int rc;

	sqlite3_busy_timeout(H(db), wait_ms > 0 ? wait_ms : 1);
	rc = sqlite3_wal_checkpoint_v2(H(db), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(H(db), db->busy_timeout_ms);
	if (wal_after)
		*wal_after = lite_wal_size(db);
	if (rc != SQLITE_OK)
		return db_fail(db, sqlite3_extended_errcode(H(db)), err);
	return 0;
}

static enum db_storage lite_storage_state(struct dgen_db *db)
{
	return fs_state(db->path);
}

const struct db_backend db_backend_sqlite = {
	.name = "sqlite",
	.connect = lite_connect,
	.close = lite_close,
	.prepare = lite_prepare,
	.prepare_text = lite_prepare_text,
	.col_type = lite_col_type,
	.finalize = lite_finalize,
	.reset = lite_reset,
	.bind = lite_bind,
	.step = lite_step,
	.changes = lite_changes,
	.col_is_null = lite_col_is_null,
	.col_is_text = lite_col_is_text,
	.wait_jobs = lite_wait_jobs,
	.col_int = lite_col_int,
	.col_double = lite_col_double,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.col_len = lite_col_len,
	.exec_script = lite_exec_script,
	.exec_step = lite_exec_step,
	.lock_schema = lite_lock_schema,
	.set_schema_version = lite_set_schema_version,
	.lock = lite_lock,
	.txn_open = lite_txn_open,
	.set_sync = lite_set_sync,
	.set_wal_limit = lite_set_wal_limit,
	.wal_size = lite_wal_size,
	.checkpoint = lite_checkpoint,
	.storage_state = lite_storage_state,
};
