/*
 * backend.h - inside the store only: the seam between db.c, which every
 * store module talks to, and the engine behind a connection (db_sqlite.c,
 * db_pg.c). db.c owns what is the same for both (the statement cache, the
 * typed binds, transaction nesting, the busy retry policy, the step
 * helpers); a backend only prepares, binds, steps and reads columns, and
 * maps its engine's errors to dgen_err codes.
 *
 * Ownership: a backend's connect() fills db->impl, which its close()
 * releases. A statement from prepare() belongs to the connection (db.c
 * keeps it in db->stmts[] and hands it to finalize() at db_close()).
 * Pointers read from a row (col_text, col_blob) stay valid until the next
 * step or reset of that statement.
 */
#ifndef DGEN_STORE_BACKEND_H
#define DGEN_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stmt.h"

/* The value of one parameter (db.c turns the bind letters into these).
 * kind says the SQL type even for a NULL, so an engine that types its
 * parameters (PostgreSQL) declares them all; DB_V_NONE is a '-' slot. */
enum db_value_kind { DB_V_NONE, DB_V_INT, DB_V_DOUBLE, DB_V_TEXT, DB_V_BLOB };

struct db_value {
	enum db_value_kind kind;
	bool null;
	int64_t i;
	double d;
	const void *p;   /* text or blob bytes (borrowed for the bind call) */
	size_t n;
	bool held;       /* p stays valid until the statement is reset: the
			  * backend may keep the pointer instead of a copy */
};

/* The part of a statement every backend shares; a backend's own statement
 * struct starts with it. */
struct dgen_stmt {
	struct dgen_db *db;
	enum db_stmt_id id;
};

struct db_backend;

/* One connection. The fields up to impl are db.c's; impl is the backend's. */
struct dgen_db {
	const struct db_backend *be;
	char *path;                      /* the sqlite file, or the URL without its password */
	pid_t pid;                       /* process that opened it */
	int busy_timeout_ms;
	struct dgen_err bind_err;        /* first failing bind since the last step */
	int depth;                       /* nesting of db_begin/db_begin_read */
	bool doomed;                     /* an inner rollback happened */
	enum db_storage fault;           /* last storage fault of a write */
	double fault_at;                 /* when (monotonic seconds) */
	struct dgen_stmt *stmts[STMT__COUNT];
	void *impl;
};

/*
 * What an engine provides. Every function that can fail returns -1 with
 * err set (mapped to dgen_err codes: busy or lost connection DGEN_EBUSY,
 * missing foreign row DGEN_ENOTFOUND, other constraints DGEN_ECONFLICT,
 * the rest DGEN_EIO) and 0 on success, unless said otherwise.
 */
struct db_backend {
	const char *name;
	/* Opens target (a path or a URL) into db->impl and sets the connection
	 * up; db->path and db->busy_timeout_ms are set already. */
	int (*connect)(struct dgen_db *db, const char *target, struct dgen_err *err);
	/* Closes db->impl (the statements are finalized already). */
	void (*close)(struct dgen_db *db);
	/* A new statement for id (db_sql_text gives its SQL), or NULL. */
	struct dgen_stmt *(*prepare)(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err);
	/* A new statement of the SQL text sql (written for this engine, ?N
	 * parameters), not cached: db_stmt_text(). */
	struct dgen_stmt *(*prepare_text)(struct dgen_db *db, const char *sql, struct dgen_err *err);
	void (*finalize)(struct dgen_stmt *st);
	/* Back to before its first step, bindings cleared. */
	void (*reset)(struct dgen_stmt *st);
	/* Binds parameter idx (1-based); -1 with err set when the engine
	 * refuses (db.c reports it at the next step). */
	int (*bind)(struct dgen_stmt *st, int idx, const struct db_value *v,
		    struct dgen_err *err);
	/* DB_ROW or DB_DONE, or -1 with err set (the statement is reset). */
	int (*step)(struct dgen_stmt *st, struct dgen_err *err);
	/* Rows changed by the statement's last run. */
	int64_t (*changes)(struct dgen_stmt *st);
	bool (*col_is_null)(struct dgen_stmt *st, int col);
	/* A value that is text and not a whole number (a column that holds
	 * either, as jobs.current_step). */
	bool (*col_is_text)(struct dgen_stmt *st, int col);
	/* The type of the value in col on this row (DB_V_NONE for NULL). */
	enum db_value_kind (*col_type)(struct dgen_stmt *st, int col);
	int64_t (*col_int)(struct dgen_stmt *st, int col);
	double (*col_double)(struct dgen_stmt *st, int col);
	const char *(*col_text)(struct dgen_stmt *st, int col);
	const void *(*col_blob)(struct dgen_stmt *st, int col);
	size_t (*col_len)(struct dgen_stmt *st, int col);
	/* Runs SQL text of several statements, no parameters, no rows. */
	int (*exec_script)(struct dgen_db *db, const char *sql, struct dgen_err *err);
	/* Runs schema step i (0-based) whose sqlite text is sql. */
	int (*exec_step)(struct dgen_db *db, int i, const char *sql, struct dgen_err *err);
	/* Inside the migration's write transaction: waits until no other
	 * process migrates, then writes the schema version. */
	int (*lock_schema)(struct dgen_db *db, struct dgen_err *err);
	int (*set_schema_version)(struct dgen_db *db, int version, struct dgen_err *err);
	/* Inside a write transaction: waits until no other transaction holds
	 * key, and holds it to the end (db_lock). */
	int (*lock)(struct dgen_db *db, int64_t key, struct dgen_err *err);
	/* Waits up to timeout_ms for a queued-job notification: 1 when one
	 * came, 0 when the time passed (db_wait_jobs). */
	int (*wait_jobs)(struct dgen_db *db, int timeout_ms, struct dgen_err *err);
	/* False when the engine ended the transaction by itself (after some
	 * errors), so ROLLBACK must not be sent. */
	bool (*txn_open)(struct dgen_db *db);
	/* The durability and storage controls of db.h. */
	int (*set_sync)(struct dgen_db *db, enum db_sync sync, struct dgen_err *err);
	int (*set_wal_limit)(struct dgen_db *db, int64_t bytes, struct dgen_err *err);
	int64_t (*wal_size)(const struct dgen_db *db);
	int (*checkpoint)(struct dgen_db *db, int wait_ms, int64_t *wal_after,
			  struct dgen_err *err);
	enum db_storage (*storage_state)(struct dgen_db *db);
};

extern const struct db_backend db_backend_sqlite;
extern const struct db_backend db_backend_pg;

/* The SQL text of id for the PostgreSQL store, or NULL where the text of
 * db_sql[] serves both engines (stmt_pg.c). */
extern const char *const db_sql_pg[STMT__COUNT];
/* The PostgreSQL text of schema step i, or NULL where the mechanical
 * translation of the sqlite text serves (stmt_pg.c). */
const char *db_step_pg(int i);
/* What PostgreSQL runs after schema step i besides the step (functions
 * standing in for sqlite's), or NULL. */
const char *db_step_pg_extra(int i);

/* A storage fault: DGEN_EBUSY naming the fault in the detail, remembered
 * for db_storage_state() when db is not NULL. Returns -1. */
int db_fail_storage(struct dgen_db *db, enum db_storage fault, const char *msg,
		    struct dgen_err *err);
/* DGEN_EINTERNAL when db is used from another process than its opener. */
int db_check_owner(struct dgen_db *db, struct dgen_err *err);

#endif
