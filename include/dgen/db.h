/*
 * db.h - one sqlite connection: open with dgen's pragmas, transactions,
 * health checks. Every table and every SQL text lives in src/store; the
 * rest of dgen calls the functions of saved_pipelines.h, jobs.h, queue.h and
 * records.h and never names a table.
 *
 * Ownership: db_open() hands the caller a connection that it releases with
 * db_close(). JSON objects returned by any store function are new
 * references the caller releases with json_object_put(); strings returned
 * are malloc'd and released with free(). Input pointers are only read
 * during the call.
 *
 * Threads and processes: a connection belongs to the one thread that opened
 * it. Open it after fork(), never before (db_open refuses a connection
 * inherited across fork with DGEN_EINTERNAL). Each thread that needs the
 * database opens its own connection.
 *
 * Busy: a lock held by another process is waited for up to the busy
 * timeout; past it every function fails with DGEN_EBUSY (HTTP 503 with
 * Retry-After), never with a generic error. A caller that must not give
 * up (the runner storing a unit it already paid for) retries by
 * db_retry_busy(), the one retry policy of dgen.
 */
#ifndef DGEN_DB_H
#define DGEN_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "dgen/err.h"

#define DGEN_DB_BUSY_TIMEOUT_DEFAULT 5000 /* ms */

struct dgen_db;

/* Opens (creating if needed) the database at path, sets the pragmas
 * (WAL, busy_timeout, foreign_keys, synchronous=NORMAL) and runs the
 * migrations (migrate.h). busy_timeout_ms <= 0 means the default.
 * Errors: DGEN_EIO (cannot open, not a database, newer schema),
 * DGEN_EBUSY. */
int db_open(struct dgen_db **out, const char *path, int busy_timeout_ms,
	    struct dgen_err *err);
/* Closes the connection (finalizes cached statements). NULL is fine. */
void db_close(struct dgen_db *db);

/* The path the connection was opened with (owned by db). */
const char *db_path(const struct dgen_db *db);

/* Write transaction: BEGIN IMMEDIATE, so the write lock is taken up front
 * and a transaction never fails half way with a lock upgrade error.
 * Transactions nest by counting: only the outermost begin/commit talk to
 * sqlite. A rollback at any depth dooms the whole transaction; the
 * outermost db_commit() then rolls back and fails with DGEN_EIO. */
int db_begin(struct dgen_db *db, struct dgen_err *err);
/* Read transaction (deferred BEGIN): one consistent snapshot for several
 * reads. Ended with db_commit() or db_rollback(). */
int db_begin_read(struct dgen_db *db, struct dgen_err *err);
int db_commit(struct dgen_db *db, struct dgen_err *err);
/* Never fails from the caller's point of view (errors are logged). */
void db_rollback(struct dgen_db *db);
/* True while a transaction is open on this connection. */
bool db_in_transaction(const struct dgen_db *db);

/* The busy retry policy, for a loop around one store call:
 *     int attempt = 0;
 *     do { dgen_err_clear(err); rc = store_call(..., err); }
 *     while (rc < 0 && db_retry_busy(&attempt, err));
 * True (after a short pause) when err is DGEN_EBUSY and the policy allows
 * another try; false for any other error or once the tries are used up. */
bool db_retry_busy(int *attempt, const struct dgen_err *err);

/* A cheap read that proves the database answers (GET /api/health). */
int db_ping(struct dgen_db *db, struct dgen_err *err);
/* PRAGMA integrity_check; 0 when it reports "ok", else DGEN_EIO with the
 * first problem in the message. */
int db_integrity_check(struct dgen_db *db, struct dgen_err *err);

#endif
