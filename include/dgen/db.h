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
 *
 * Storage faults: a disk that is full, a filesystem that went read-only
 * and an I/O error (SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR,
 * SQLITE_CANTOPEN) are DGEN_EBUSY too, so the API answers 503 with
 * Retry-After: the request is fine, the service is not. The error carries
 * {"database": "full" | "read-only" | "error"} in its detail, which
 * db_err_storage() reads back; db_retry_busy() never retries them (they
 * last until an operator acts).
 *
 * Durability: a connection commits with synchronous=FULL (an fsync of the
 * WAL per commit), so whatever the API acknowledged survives a power loss
 * or an OS crash. The runner may lower its own connections to NORMAL
 * (db_set_sync) where a lost commit is only work to redo.
 */
#ifndef DGEN_DB_H
#define DGEN_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "dgen/err.h"

#define DGEN_DB_BUSY_TIMEOUT_DEFAULT 5000 /* ms */
/* The WAL file's bound: journal_size_limit of every connection, and the
 * size past which the runner checkpoints (DGEN_WAL_LIMIT). */
#define DGEN_DB_WAL_LIMIT_DEFAULT (64LL << 20)
/* Less free space than this on the database's filesystem is "full". */
#define DGEN_DB_FREE_MIN (1LL << 20)

/* The state of the storage under a database (db_storage_state). */
enum db_storage {
	DB_STORAGE_OK,
	DB_STORAGE_FULL,      /* no space left */
	DB_STORAGE_READONLY,  /* the filesystem (or the file) is read-only */
	DB_STORAGE_ERROR,     /* I/O errors */
	DB_STORAGE_UNAVAILABLE, /* the database server cannot be reached (PostgreSQL) */
};

/* How commits reach the disk (PRAGMA synchronous). */
enum db_sync {
	DB_SYNC_FULL,         /* fsync per commit: survives power loss */
	DB_SYNC_NORMAL,       /* survives a crash of the process only */
};

struct dgen_db;

/* Opens (creating if needed) the database at path, sets the pragmas
 * (WAL, busy_timeout, foreign_keys, synchronous=FULL,
 * journal_size_limit=DGEN_DB_WAL_LIMIT_DEFAULT) and runs the
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

/* Sets this connection's synchronous mode. */
int db_set_sync(struct dgen_db *db, enum db_sync sync, struct dgen_err *err);
/* Sets this connection's journal_size_limit (bytes, > 0): a WAL file that
 * is reset is truncated back to it. */
int db_set_wal_limit(struct dgen_db *db, int64_t bytes, struct dgen_err *err);
/* The size of the database's WAL file in bytes (0 when there is none). */
int64_t db_wal_size(const struct dgen_db *db);
/* Copies the WAL back into the database and truncates it to zero bytes
 * (wal_checkpoint(TRUNCATE)), waiting at most wait_ms for readers and
 * writers; DGEN_EBUSY when they outlast it. *wal_after (may be NULL)
 * receives the WAL size afterwards. */
int db_checkpoint(struct dgen_db *db, int wait_ms, int64_t *wal_after, struct dgen_err *err);

/* The storage fault an error of a store call carries, or DB_STORAGE_OK. */
enum db_storage db_err_storage(const struct dgen_err *err);
/* "ok", "full", "read-only" or "error". */
const char *db_storage_name(enum db_storage s);
/* Can the database be written: its filesystem is not read-only and has at
 * least DGEN_DB_FREE_MIN free, and this connection's last write did not
 * fail on storage within the last few seconds. */
enum db_storage db_storage_state(struct dgen_db *db);

#endif
