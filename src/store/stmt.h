/*
 * stmt.h - inside the store only: the statement table and the typed
 * helpers every store module uses to run SQL.
 *
 * Every SQL text of dgen (besides the schema steps of migrate.c) is one
 * entry of db_sql[] in stmt.c, named by an id below. A connection
 * prepares each statement the first time it is used and keeps it until
 * db_close(), so a hot path (claim, finish unit) never re-parses SQL.
 *
 * Ownership: a statement from db_stmt() or db_query() belongs to the
 * connection; the caller must db_reset() it when done (a statement left
 * mid-step would hold a read snapshot open), which the stepping helpers
 * below do on every path but "on a row". Strings from db_col_dup() are
 * malloc'd; JSON from db_col_json() and db_rows_json() is a new reference.
 *
 * Nothing here names an engine: a statement is a struct dgen_stmt, which
 * db.c hands to the connection's backend (backend.h: sqlite or
 * PostgreSQL), and each id has one SQL text per engine (db_sql[] where it
 * serves both, db_sql_pg[] where PostgreSQL needs its own).
 */
#ifndef DGEN_STORE_STMT_H
#define DGEN_STORE_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/clock.h"
#include "dgen/db.h"
#include "dgen/err.h"

enum db_stmt_id {
	/* connection */
	STMT_BEGIN_IMMEDIATE,
	STMT_BEGIN_READ,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_PING,
	STMT_USER_VERSION,
	STMT_INTEGRITY,
	/* pipelines */
	STMT_PIPE_INSERT,
	STMT_PIPE_UPDATE,
	STMT_PIPE_GET,
	STMT_PIPE_LIST,
	STMT_PIPE_DELETE,
	STMT_PIPE_SET_VALIDATION,
	STMT_PIPE_EXISTS,
	STMT_PIPE_PAGE,
	STMT_PIPE_COUNT,
	/* jobs */
	STMT_JOB_INSERT,
	STMT_JOB_INPUT_INSERT,
	STMT_JOB_INPUT_COPY,
	STMT_JOB_INPUT_GET,
	STMT_JOB_BY_IDEM,
	STMT_JOB_GET,
	STMT_JOB_LIST,
	STMT_JOB_COUNT,
	STMT_JOB_ACTIVE,
	STMT_JOB_STATE,
	STMT_JOB_CANCEL_QUEUED,
	STMT_JOB_CANCEL_RUNNING,
	STMT_JOB_DELETE,
	STMT_JOB_RETRY_INSERT,
	STMT_FAIL_LIST,
	STMT_FAIL_UNITS,
	/* queue */
	STMT_Q_ANY_QUEUED,
	STMT_Q_CLAIM,
	STMT_Q_CLAIM_PIPELINE,
	STMT_Q_RENEW,
	STMT_Q_RELEASE,
	STMT_Q_RESCUE_CANCELLED,
	STMT_Q_RESCUE_BLAME,
	STMT_Q_RESCUE_POISON_COUNT,
	STMT_Q_RESCUE_POISON_FAIL,
	STMT_Q_RESCUE_POISON_CLEAR,
	STMT_Q_RESCUE_UNBLAME,
	STMT_Q_RESCUE_EXHAUSTED,
	STMT_Q_RESCUE_REQUEUE,
	STMT_Q_RELEASE_STARTS,
	STMT_Q_JOB_HELD,
	STMT_Q_UNIT_START,
	STMT_Q_UNIT_STARTED_JOB,
	STMT_Q_UNIT_DONE,
	STMT_Q_SUSPECTS,
	STMT_Q_DONE_UNITS,
	STMT_Q_RECORD_SOURCE,
	STMT_Q_RECORD_INSERT,
	STMT_Q_FAILURE_INSERT,
	STMT_Q_COUNT_UNIT,
	STMT_Q_SET_TOTAL,
	STMT_Q_PROGRESS,
	STMT_Q_FINISH_JOB,
	STMT_Q_COUNTERS,
	STMT_Q_HEARTBEAT,
	STMT_Q_RUNNER_LAST,
	STMT_Q_RUNNERS_OTHERS,
	STMT_Q_RUNNERS_PRUNE,
	STMT_Q_RUNNING_RUNNERS,
	/* records */
	STMT_REC_GET,
	STMT_REC_LIST_JOB,
	STMT_REC_LIST_PIPELINE,
	STMT_REC_LIST_ANY,
	STMT_REC_STATE,
	STMT_REC_UPDATE,
	STMT_REC_DELETE_JOB,
	STMT_REC_DELETE_ALL,
	STMT_REC_COUNT_JOB,
	STMT_REC_COUNT_PIPELINE,
	STMT_REC_COUNT_ANY,
	STMT_REC_PAGE_JOB,
	STMT_REC_PAGE_PIPELINE,
	STMT_REC_PAGE_ANY,
	/* records: review at scale (sorts laid out JOB, PIPELINE, ANY) */
	STMT_REC_LIST_OLD_JOB,
	STMT_REC_LIST_OLD_PIPELINE,
	STMT_REC_LIST_OLD_ANY,
	STMT_REC_LIST_FIELD_JOB,
	STMT_REC_LIST_FIELD_PIPELINE,
	STMT_REC_LIST_FIELD_ANY,
	STMT_REC_STATS_FIELDS,
	STMT_REC_STATS_VALUES,
	STMT_REC_BULK_STATUS,
	/* near-duplicate index (neardup.c) */
	STMT_ND_OWN,
	STMT_ND_CANDIDATES,
	STMT_ND_SIG_INSERT,
	STMT_ND_BAND_INSERT,
	STMT_ND_RECORD,
	/* accounts */
	STMT_USER_INSERT,
	STMT_USER_BY_NAME,
	STMT_USER_BY_ID,
	STMT_USER_LIST,
	STMT_USER_UPDATE,
	STMT_USER_PASSWORD,
	STMT_TOKEN_INSERT,
	STMT_TOKEN_AUTH,
	STMT_TOKEN_TOUCH,
	STMT_TOKEN_LIST,
	STMT_TOKEN_DELETE,
	STMT_SESSION_INSERT,
	STMT_SESSION_AUTH,
	STMT_SESSION_TOUCH,
	STMT_SESSION_DELETE,
	STMT_SESSION_DELETE_USER,
	STMT_SESSION_PRUNE,
	STMT_LOGIN_FAIL_GET,
	STMT_LOGIN_FAIL_ADD,
	STMT_LOGIN_FAIL_CLEAR,
	STMT_QUOTA_ACTIVE_JOBS,
	/* named models (saved_models.c): ?1 kind */
	STMT_MODEL_LIST,
	STMT_MODEL_LIST_ALL,
	STMT_MODEL_GET,
	STMT_MODEL_GLOBAL_NAMED,
	STMT_MODEL_INSERT,
	STMT_MODEL_UPDATE,
	STMT_MODEL_DELETE,
	STMT_MODEL_COUNT,
	STMT_MODEL_CLEAR_DEFAULT,
	STMT_MODEL_FIX_DEFAULT,
	STMT_MODEL_KEYS,
	STMT_MODEL_SET_KEY,
	STMT__COUNT
};

/* The SQL text of each statement (stmt.c). */
extern const char *const db_sql[STMT__COUNT];

/* A statement handle (backend.h); belongs to its connection. */
struct dgen_stmt;

/* What db_step() answers besides -1. */
#define DB_ROW 1
#define DB_DONE 0

/* The cached, reset statement id of db, bindings cleared; NULL with err
 * set when it cannot be prepared or db is used from a forked child. */
struct dgen_stmt *db_stmt(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err);
/* Resets st after use (NULL is fine). */
void db_reset(struct dgen_stmt *st);

/*
 * Typed binds. types holds one letter per parameter, bound to ?1, ?2, ...
 * in order; each letter takes the arguments named here, of exactly these
 * types (they travel through varargs, where C converts nothing: pass an
 * int64_t to 'i', never an int):
 *   'i'  int64_t
 *   'u'  int64_t, left NULL when negative (an optional index or count)
 *   'k'  int64_t row id, left NULL when 0 or less (a filter on "any")
 *   's'  const char *, text; NULL binds SQL NULL
 *   'S'  const char *, size_t: text of that length; NULL binds SQL NULL
 *   'd'  double
 *   'b'  const void *, size_t: a blob
 *   '-'  no argument: the parameter is left NULL
 * A failing bind (or an unknown letter) is remembered and reported by the
 * next db_step() on the connection, as DGEN_EIO.
 */
/* The statement id, reset and bound, ready for db_step(); NULL with err
 * set when it cannot be prepared. */
struct dgen_stmt *db_query(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
		       const char *types, ...);
/* Binds and runs a statement whose rows (if any) nobody reads, inside the
 * caller's transaction: the rows it changed, or -1 with err set. */
int64_t db_run(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
	       const char *types, ...);
/* db_run() in its own BEGIN IMMEDIATE transaction (or inside the
 * caller's): every write of dgen takes the write lock up front. */
int64_t db_write(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err,
		 const char *types, ...);
/* Runs an INSERT ... RETURNING id; *row_id receives the new id. No row
 * (an INSERT ... SELECT whose source is gone) is DGEN_ENOTFOUND. */
int db_insert(struct dgen_db *db, enum db_stmt_id id, int64_t *row_id, struct dgen_err *err,
	      const char *types, ...);

/* Steps st: DB_ROW or DB_DONE, or -1 with err set: a lock held past
 * the busy timeout is DGEN_EBUSY, a missing foreign row DGEN_ENOTFOUND,
 * another constraint DGEN_ECONFLICT, anything else DGEN_EIO. On -1 the
 * statement is reset. */
int db_step(struct dgen_db *db, struct dgen_stmt *st, struct dgen_err *err);
/* Steps st for at most one row: 1 with st on the row (read it, then
 * db_reset), 0 when there is none, -1 with err set; on 0 and -1 st is
 * reset already. */
int db_step_one(struct dgen_db *db, struct dgen_stmt *st, struct dgen_err *err);
/* Steps st for the one row it must answer: 0 with st on the row (read it,
 * then db_reset), -1 with err set otherwise (no row: code and msg; st is
 * reset). */
int db_step_must(struct dgen_db *db, struct dgen_stmt *st, enum dgen_errcode code,
		 const char *msg, struct dgen_err *err);
/* Sets err to DGEN_ENOTFOUND "<what> <id> not found" with detail
 * {key: id}; returns -1. */
int db_not_found(struct dgen_err *err, const char *what, const char *key, int64_t id);
/* Steps st, which selects the one row of the <what> with this id: 0 with
 * st on the row (read it, then db_reset), -1 with err set otherwise (no
 * row: db_not_found; st is reset). */
int db_step_row(struct dgen_db *db, struct dgen_stmt *st, const char *what, const char *key,
		int64_t id, struct dgen_err *err);
/* For a write that must hit the one row of the <what> with this id:
 * changes is db_run()'s answer; 0 when it is 1 or more, -1 otherwise
 * (err set already for -1 in, db_not_found for 0). */
int db_changed_row(int64_t changes, const char *what, const char *key, int64_t id,
		   struct dgen_err *err);
/* Steps st to the end, calling row(st, arg) on each row; st is reset. */
int db_each(struct dgen_db *db, struct dgen_stmt *st, void (*row)(struct dgen_stmt *st, void *arg),
	    void *arg, struct dgen_err *err);
/* Steps st to the end, turning each row into a JSON value with row():
 * *out receives the array (new reference). st is reset. */
int db_rows_json(struct dgen_db *db, struct dgen_stmt *st,
		 struct json_object *(*row)(struct dgen_stmt *st), struct json_object **out,
		 struct dgen_err *err);
/* Steps st to the end and resets it; *changes (may be NULL) receives the
 * rows changed. */
int db_exec(struct dgen_db *db, struct dgen_stmt *st, int64_t *changes, struct dgen_err *err);
/* Ends the transaction the caller began: commits when rc is 0, else
 * rolls back. Returns 0, or -1 (rc was -1, or the commit failed). */
int db_end(struct dgen_db *db, int rc, struct dgen_err *err);

/* Column readers. */
int64_t db_col_int(struct dgen_stmt *st, int col);
double db_col_double(struct dgen_stmt *st, int col);
/* Borrowed bytes of a blob column (NULL for SQL NULL; db_col_len). */
const void *db_col_blob(struct dgen_stmt *st, int col);
bool db_col_is_null(struct dgen_stmt *st, int col);
/* True for text that is not a whole number, in a column that holds
 * either (sqlite keeps each value's type; PostgreSQL's column is text). */
bool db_col_is_text(struct dgen_stmt *st, int col);
/* Borrowed text ("" never NULL for NOT NULL columns; NULL for SQL NULL). */
const char *db_col_text(struct dgen_stmt *st, int col);
/* malloc'd copy or NULL for SQL NULL. */
char *db_col_dup(struct dgen_stmt *st, int col);
/* Parsed JSON (new reference); SQL NULL or text that is not JSON gives
 * NULL (JSON null). Stored JSON was validated before it was stored. */
struct json_object *db_col_json(struct dgen_stmt *st, int col);
/* Adds column col to obj under key: text or null. */
void db_add_text(struct json_object *obj, const char *key, struct dgen_stmt *st, int col);
/* Adds column col as an integer, or null when SQL NULL. */
void db_add_int(struct json_object *obj, const char *key, struct dgen_stmt *st, int col);

/* Opens the database at path with dgen's pragmas, without touching the
 * schema (db_open() = db_connect() + migrate_run(); see open.c). */
int db_connect(struct dgen_db **out, const char *path, int busy_timeout_ms,
	       struct dgen_err *err);
/* A one-off multi-statement exec, no parameters, no rows. */
int db_exec_script(struct dgen_db *db, const char *sql, struct dgen_err *err);
/* Runs schema step i (0-based) of migrate.c, whose text is written for
 * sqlite; the connection's engine runs its own spelling of it. */
int db_exec_step(struct dgen_db *db, int i, const char *sql, struct dgen_err *err);
/* Inside migrate's write transaction: no other process migrates until it
 * ends (sqlite's BEGIN IMMEDIATE is that lock already). */
int db_lock_schema(struct dgen_db *db, struct dgen_err *err);
/* What db_lock() serializes; one kind per store module that needs it. */
enum db_lock_kind {
	DB_LOCK_NEARDUP = 1,             /* the near-duplicate checks of a job */
	DB_LOCK_MODELS,                  /* the models of a kind (defaults, names) */
	DB_LOCK_JOB_KEY,                 /* an idempotency key (a hash of it) */
	DB_LOCK_RECORD,                  /* a record's state patch (read, modify, write) */
};
/* Inside a write transaction: waits until no other transaction holds the
 * lock (kind, id), and holds it until this one ends. A store module takes
 * it where its reads and writes must see every earlier transaction's
 * (sqlite's BEGIN IMMEDIATE serializes all writers already: a no-op
 * there; PostgreSQL takes an advisory transaction lock). */
int db_lock(struct dgen_db *db, enum db_lock_kind kind, int64_t id, struct dgen_err *err);
/* Outside a transaction: waits up to timeout_ms for the notification a
 * job that becomes queued sends (PostgreSQL: LISTEN dgen_jobs, then the
 * connection's socket); sqlite has none and sleeps the whole time. True
 * when a notification came. A failure (the server gone) is left for the
 * next statement to report, after the time passed. */
bool db_wait_jobs(struct dgen_db *db, int timeout_ms);
/* Writes the schema version (inside the same transaction). */
int db_set_schema_version(struct dgen_db *db, int version, struct dgen_err *err);
/* Column bytes of a text or blob column. */
size_t db_col_len(struct dgen_stmt *st, int col);
/* ISO 8601 now, for created_at/updated_at binds. */
void db_now(char out[DGEN_ISO_LEN]);

#endif
