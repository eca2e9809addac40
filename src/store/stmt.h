/*
 * stmt.h - inside the store only: the statement table and the typed
 * helpers every store module uses to run SQL.
 *
 * Every SQL text of dgen (besides the schema steps of migrate.c) is one
 * entry of db_sql[] in stmt.c, named by an id below. A connection
 * prepares each statement the first time it is used and keeps it until
 * db_close(), so a hot path (claim, finish unit) never re-parses SQL.
 *
 * Ownership: a statement from db_stmt() belongs to the connection; the
 * caller must db_reset() it when done (a statement left mid-step would hold
 * a read snapshot open). Strings from db_col_dup() are malloc'd; JSON from
 * db_col_json() is a new reference.
 */
#ifndef DGEN_STORE_STMT_H
#define DGEN_STORE_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
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
	/* jobs */
	STMT_JOB_INSERT,
	STMT_JOB_INPUT_INSERT,
	STMT_JOB_INPUT_COPY,
	STMT_JOB_INPUT_GET,
	STMT_JOB_BY_IDEM,
	STMT_JOB_GET,
	STMT_JOB_LIST,
	STMT_JOB_ACTIVE,
	STMT_JOB_STATE,
	STMT_JOB_CANCEL_QUEUED,
	STMT_JOB_CANCEL_RUNNING,
	STMT_JOB_DELETE,
	STMT_JOB_RETRY_INSERT,
	STMT_FAIL_LIST,
	STMT_FAIL_UNITS,
	/* queue */
	STMT_Q_CLAIM,
	STMT_Q_CLAIM_PIPELINE,
	STMT_Q_RENEW,
	STMT_Q_RELEASE,
	STMT_Q_RESCUE_CANCELLED,
	STMT_Q_RESCUE_EXHAUSTED,
	STMT_Q_RESCUE_REQUEUE,
	STMT_Q_DONE_UNITS,
	STMT_Q_RECORD_INSERT,
	STMT_Q_FAILURE_INSERT,
	STMT_Q_COUNT_UNIT,
	STMT_Q_SET_TOTAL,
	STMT_Q_PROGRESS,
	STMT_Q_FINISH_JOB,
	STMT_Q_COUNTERS,
	STMT_Q_HEARTBEAT,
	STMT_Q_RUNNER_LAST,
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
	STMT__COUNT
};

/* The SQL text of each statement (stmt.c). */
extern const char *const db_sql[STMT__COUNT];

/* The cached, reset statement id of db, bindings cleared; NULL with err
 * set when it cannot be prepared or db is used from a forked child. */
sqlite3_stmt *db_stmt(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err);
/* Resets st after use (NULL is fine). */
void db_reset(sqlite3_stmt *st);

/* Typed binds (1-based index). A failing bind is remembered and reported
 * by the next db_step() on the connection. */
void db_bind_int(struct dgen_db *db, sqlite3_stmt *st, int idx, int64_t v);
/* NULL binds SQL NULL. */
void db_bind_text(struct dgen_db *db, sqlite3_stmt *st, int idx, const char *s);
void db_bind_textn(struct dgen_db *db, sqlite3_stmt *st, int idx, const char *s, size_t n);
void db_bind_null(struct dgen_db *db, sqlite3_stmt *st, int idx);

/* Steps st: SQLITE_ROW or SQLITE_DONE, or -1 with err set: a lock held past
 * the busy timeout is DGEN_EBUSY, a missing foreign row DGEN_ENOTFOUND,
 * another constraint DGEN_ECONFLICT, anything else DGEN_EIO. On -1 the
 * statement is reset. */
int db_step(struct dgen_db *db, sqlite3_stmt *st, struct dgen_err *err);
/* Sets err to DGEN_ENOTFOUND "<what> <id> not found" with detail
 * {key: id}; returns -1. */
int db_not_found(struct dgen_err *err, const char *what, const char *key, int64_t id);
/* Steps st, which selects the one row of the <what> with this id: 0 with
 * st on the row (read it, then db_reset), -1 with err set otherwise (no
 * row: db_not_found; st is reset). */
int db_step_row(struct dgen_db *db, sqlite3_stmt *st, const char *what, const char *key,
		int64_t id, struct dgen_err *err);
/* Prepares, steps to the end and resets a statement that returns no rows
 * the caller needs; *changes (may be NULL) receives the rows changed. */
int db_exec(struct dgen_db *db, sqlite3_stmt *st, int64_t *changes, struct dgen_err *err);
/* db_exec() inside its own BEGIN IMMEDIATE transaction (or the caller's):
 * every write of dgen takes the write lock up front. */
int db_exec_write(struct dgen_db *db, sqlite3_stmt *st, int64_t *changes,
		  struct dgen_err *err);
/* Rows changed by the last statement on db. */
int64_t db_changes(struct dgen_db *db);

/* Column readers. */
int64_t db_col_int(sqlite3_stmt *st, int col);
bool db_col_is_null(sqlite3_stmt *st, int col);
/* Borrowed text ("" never NULL for NOT NULL columns; NULL for SQL NULL). */
const char *db_col_text(sqlite3_stmt *st, int col);
/* malloc'd copy or NULL for SQL NULL. */
char *db_col_dup(sqlite3_stmt *st, int col);
/* Parsed JSON (new reference); SQL NULL or text that is not JSON gives
 * NULL (JSON null). Stored JSON was validated before it was stored. */
struct json_object *db_col_json(sqlite3_stmt *st, int col);
/* Adds column col to obj under key: text or null. */
void db_add_text(struct json_object *obj, const char *key, sqlite3_stmt *st, int col);
/* Adds column col as an integer, or null when SQL NULL. */
void db_add_int(struct json_object *obj, const char *key, sqlite3_stmt *st, int col);

/* For db.c and migrate.c: the raw handle and a one-off multi-statement
 * exec (schema steps). */
sqlite3 *db_handle(struct dgen_db *db);
int db_exec_script(struct dgen_db *db, const char *sql, struct dgen_err *err);
/* Maps a sqlite result code of db to an error (see db_step). */
int db_fail(struct dgen_db *db, int rc, struct dgen_err *err);
/* ISO 8601 now, for created_at/updated_at binds. */
void db_now(char out[DGEN_ISO_LEN]);

#endif
