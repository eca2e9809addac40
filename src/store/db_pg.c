/*
 * db_pg.c - the PostgreSQL backend (backend.h), through libpq: the store
 * for many runners on many hosts (DESIGN.md section 8), selected by a
 * postgresql:// URL where sqlite takes a file path.
 *
 * Statements: the SQL of db_sql[] (or db_sql_pg[] where PostgreSQL needs
 * its own) with ?N written $N and LIKE written ILIKE (sqlite's LIKE
 * ignores ASCII case). Parameters go typed by their bind letter (int8,
 * float8, text, binary bytea), so no statement depends on the server
 * guessing a type; rows come back as text and are read like sqlite's
 * columns (bytea decoded on demand).
 *
 * Schema: migrate.c's steps, translated (INTEGER PRIMARY KEY to an
 * identity column, INTEGER to bigint, BLOB to bytea, REAL to double
 * precision) or replaced where sqlite's DDL has no mechanical spelling
 * (stmt_pg.c). The version lives in a one-row table, dgen_schema, since
 * PostgreSQL has no user_version; an advisory lock serializes migrations.
 *
 * Errors: SQLSTATE classes map to dgen_err codes; a lock wait past the
 * busy timeout (lock_timeout), a serialization failure, a deadlock and a
 * lost connection are DGEN_EBUSY (503 with Retry-After), which
 * db_retry_busy() retries. A lost connection is reopened at the next
 * statement outside a transaction.
 *
 * The password of the URL is never kept in db->path nor logged.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/buf.h"
#include "dgen/clock.h"
#include "dgen/config.h"
#include "dgen/log.h"
#include "dgen/util.h"
#include "backend.h"

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

/* The oldest server the store runs on: identity columns (10), EXECUTE
 * FUNCTION in triggers (11) and jsonb paths (12) are used, and 13 is the
 * oldest release still maintained by the PostgreSQL project when this
 * store was written, so nothing older is tested. */
#define PG_MIN_VERSION 130000
/* The advisory lock key that serializes migrations ('dgen'). */
#define PG_SCHEMA_LOCK 0x6467656eLL
/* libpq keeps its buffers as large as the largest message it sent or
 * received; past this size the connection is opened afresh once idle. */
#define PG_BIG_MESSAGE (1 << 20)
/* Parameters per statement (the record statements bind 35). */
#define PG_MAX_PARAMS 64

/* libpq's type OIDs (server/catalog/pg_type_d.h, stable since 8.x). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_TEXT 25
#define OID_FLOAT8 701

struct pg_conn {
	PGconn *conn;
	char *url;                 /* with its password: never logged */
	bool listening;            /* LISTEN dgen_jobs was sent on conn */
	bool bloated;              /* a message of PG_BIG_MESSAGE bytes went through */
	bool sync_off;             /* db_set_sync(NORMAL): kept across reconnects */
	unsigned gen;              /* counts connections: prepared statements are per connection */
};

struct pg_stmt {
	struct dgen_stmt base;
	char *sql;                 /* translated text */
	int nref;                  /* highest $n in sql */
	unsigned char ref[PG_MAX_PARAMS + 1]; /* $n appears in sql */
	int nparams;               /* highest bound parameter */
	Oid types[PG_MAX_PARAMS];
	char *values[PG_MAX_PARAMS];
	int lengths[PG_MAX_PARAMS];
	int formats[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][32];  /* text of int and double parameters */
	char *owned[PG_MAX_PARAMS];   /* copies of text and blob parameters */
	bool preparable;           /* a query of the queue (see pg_prepared) */
	unsigned prepared;         /* the connection (gen) it was prepared on, 0 = none */
	int prep_n;                /* its parameters and their types then */
	Oid prep_types[PG_MAX_PARAMS];
	size_t bytes;              /* of the text and blob parameters */
	PGresult *res;
	int row;                   /* current row; -1 before the first step */
	unsigned char *blob;       /* decoded bytea of blob_col on this row */
	size_t blob_len;
	int blob_col;
};

#define PGC(db) ((struct pg_conn *)(db)->impl)
#define PST(st) ((struct pg_stmt *)(st))

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Copies a quoted run ('...' or "...", doubled quotes inside) starting at
 * *p to b and advances *p past it. */
static void copy_quoted(struct dgen_buf *b, const char **p)
{
	const char *s = *p;
	char q = *s;

	dgen_buf_putc(b, *s++);
	while (*s) {
		if (*s == q && s[1] == q) {
			dgen_buf_append(b, s, 2);
			s += 2;
			continue;
		}
		dgen_buf_putc(b, *s);
		if (*s++ == q)
			break;
	}
	*p = s;
}

/* Whether the word w starts at p (whole word, not inside an identifier). */
static bool word_at(const char *start, const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncmp(p, w, n) == 0 && !is_ident(p[n]) && (p == start || !is_ident(p[-1]));
}

/*
 * The statement text for PostgreSQL: ?N becomes $N and LIKE becomes
 * ILIKE, outside quotes. ref[] receives the parameters used, *nref the
 * highest. A malloc'd string.
 */
static char *pg_translate(const char *sql, unsigned char ref[PG_MAX_PARAMS + 1], int *nref)
{
	struct dgen_buf b;
	const char *p = sql;
	long n;
	char *end;

	dgen_buf_init(&b);
	*nref = 0;
	while (*p) {
		if (*p == '\'' || *p == '"') {
			copy_quoted(&b, &p);
		} else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
			n = strtol(p + 1, &end, 10);
			if (n > 0 && n <= PG_MAX_PARAMS) {
				ref[n] = 1;
				if (n > *nref)
					*nref = (int)n;
			}
			dgen_buf_printf(&b, "$%ld", n);
			p = end;
		} else if (word_at(sql, p, "LIKE")) {
			dgen_buf_puts(&b, "ILIKE");
			p += 4;
		} else {
			dgen_buf_putc(&b, *p++);
		}
	}
	return dgen_buf_steal(&b);
}

/* The DDL of a schema step for PostgreSQL: sqlite's types spelled as
 * PostgreSQL's (see the file comment). A malloc'd string. */
static char *pg_translate_ddl(const char *sql)
{
	static const struct { const char *from, *to; } words[] = {
		{ "INTEGER PRIMARY KEY", "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" },
		{ "INTEGER", "bigint" },
		{ "BLOB", "bytea" },
		{ "REAL", "double precision" },
	};
	struct dgen_buf b;
	const char *p = sql;
	size_t i;

	dgen_buf_init(&b);
	while (*p) {
		if (*p == '\'' || *p == '"') {
			copy_quoted(&b, &p);
			continue;
		}
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (word_at(sql, p, words[i].from))
				break;
		if (i < sizeof(words) / sizeof(words[0])) {
			dgen_buf_puts(&b, words[i].to);
			p += strlen(words[i].from);
		} else {
			dgen_buf_putc(&b, *p++);
		}
	}
	return dgen_buf_steal(&b);
}

/* An SQLSTATE class or code test. */
static bool state_is(const char *state, const char *prefix)
{
	return state && strncmp(state, prefix, strlen(prefix)) == 0;
}

/* The lost or refused connection: DGEN_EBUSY (503 with Retry-After) naming
 * it in the detail. libpq's words go to the log only: they name the
 * server's host and address, which an API caller has no business knowing.
 * Returns -1. */
static int pg_unavailable(struct dgen_db *db, const char *msg, struct dgen_err *err)
{
	dgen_warn("database %s unavailable: %s", db->path, msg && *msg ? msg : "no connection");
	dgen_err_set(err, DGEN_EBUSY, "The database is unavailable; retry in a moment");
	dgen_err_detail_str(err, "database", "unavailable");
	return -1;
}

/* libpq's messages span lines (a newline, then tab-indented hints): one
 * line, each run of white space a single space, none at the end. */
static void pg_msg(char *out, size_t size, const char *msg)
{
	size_t n = 0;
	bool space = false;

	for (; msg && *msg && n + 1 < size; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			out[n++] = ' ';
		space = false;
		out[n++] = *msg;
	}
	out[n] = '\0';
}

/*
 * Maps a failed result (or none: res NULL) to dgen's error codes by its
 * SQLSTATE, the way db_sqlite.c maps sqlite's codes: locks and
 * serialization failures are DGEN_EBUSY, a missing foreign row
 * DGEN_ENOTFOUND, other constraints DGEN_ECONFLICT, a full disk or a
 * read-only server storage faults. Always returns -1.
 */
static int pg_fail(struct dgen_db *db, const PGresult *res, struct dgen_err *err)
{
	PGconn *conn = PGC(db)->conn;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[DGEN_ERR_MSG_MAX];

	pg_msg(msg, sizeof(msg), res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
								     : PQerrorMessage(conn));
	if (!state || PQstatus(conn) != CONNECTION_OK || state_is(state, "08") ||
	    state_is(state, "57P"))
		return pg_unavailable(db, msg, err);
	if (state_is(state, "53100"))
		return db_fail_storage(db, DB_STORAGE_FULL, msg, err);
	if (state_is(state, "25006"))
		return db_fail_storage(db, DB_STORAGE_READONLY, msg, err);
	if (state_is(state, "40") || state_is(state, "55P03") || state_is(state, "57014") ||
	    state_is(state, "53"))
		return dgen_err_set(err, DGEN_EBUSY, "The database is busy; retry in a moment");
	if (state_is(state, "23503"))
		return dgen_err_set(err, DGEN_ENOTFOUND, "A referenced item does not exist");
	if (state_is(state, "23"))
		return dgen_err_set(err, DGEN_ECONFLICT, "Conflicts with stored data: %s", msg);
	if (state_is(state, "54"))
		return dgen_err_set(err, DGEN_ETOOBIG, "Value too large to store");
	return dgen_err_set(err, DGEN_EIO, "Database error: %s", msg);
}

/* Runs sql (no parameters) and checks it succeeded; the result is freed. */
static int pg_exec(struct dgen_db *db, const char *sql, struct dgen_err *err)
{
	PGresult *res = PQexec(PGC(db)->conn, sql);
	ExecStatusType s = PQresultStatus(res);
	int rc = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = pg_fail(db, res, err);
	PQclear(res);
	return rc;
}

/* Notices ("relation already exists, skipping") are not errors: debug. */
static void pg_notice(void *arg, const char *msg)
{
	dgen_debug("postgresql: %s", msg);
}

/*
 * The session every connection starts with: lock waits bounded by the busy
 * timeout (then DGEN_EBUSY, as with sqlite's busy_timeout), commits that
 * wait for the WAL flush (synchronous_commit=on: what the API acknowledged
 * survives a crash of the server), UTC, and the dgen_schema table that
 * holds the schema version, created once under the migration lock.
 */
static int pg_session(struct dgen_db *db, struct dgen_err *err)
{
	char sql[384];
	PGresult *res;
	bool have;

	/* The server's side of pg_conn_keys: a client cut off inside a
	 * transaction (a partition, a host gone) would keep its row locks (a
	 * job's lease) for the kernel's two hours (keepalives) or quarter of
	 * an hour (an answer never acknowledged); this ends it within ~20 s. */
	snprintf(sql, sizeof(sql),
		 "SET lock_timeout = %d; SET synchronous_commit = %s; SET TIME ZONE 'UTC';"
		 "SET client_min_messages = warning; SET tcp_keepalives_idle = 10;"
		 "SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 2;"
		 "SET tcp_user_timeout = 10000",
		 db->busy_timeout_ms, PGC(db)->sync_off ? "off" : "on");
	if (pg_exec(db, sql, err) < 0)
		return -1;
	res = PQexec(PGC(db)->conn, "SELECT to_regclass('dgen_schema') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pg_fail(db, res, err);
		PQclear(res);
		return -1;
	}
	have = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (have)
		return 0;
	snprintf(sql, sizeof(sql),
		 "BEGIN; SELECT pg_advisory_xact_lock(%lld);"
		 "CREATE TABLE IF NOT EXISTS dgen_schema (version integer NOT NULL);"
		 "INSERT INTO dgen_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM dgen_schema);"
		 "COMMIT",
		 PG_SCHEMA_LOCK);
	if (pg_exec(db, sql, err) < 0) {
		PQclear(PQexec(PGC(db)->conn, "ROLLBACK"));
		return -1;
	}
	return 0;
}

/*
 * A server behind a network that went silent (a cable, a partition) would
 * hold a statement for the kernel's TCP retry time, a quarter of an hour:
 * the runner frozen in a lease renewal. These defaults make such a
 * connection fail within seconds, as a dead server does (unavailable: the
 * storage pause). They come before the URL, so its own settings win;
 * libpq ignores them on a unix socket.
 */
static const char *const pg_conn_keys[] = {
	"connect_timeout", "tcp_user_timeout", "keepalives_idle", "keepalives_interval",
	"keepalives_count", "dbname", NULL
};

/* Opens the connection of db (again, after a loss) and checks the server. */
static int pg_open(struct dgen_db *db, struct dgen_err *err)
{
	struct pg_conn *c = PGC(db);
	const char *vals[] = { "10", "10000", "10", "5", "2", c->url, NULL };
	char msg[DGEN_ERR_MSG_MAX];
	int v;

	if (c->conn)
		PQfinish(c->conn);
	c->listening = false;
	c->gen++;
	c->conn = PQconnectdbParams(pg_conn_keys, vals, 1);
	if (!c->conn)
		return pg_unavailable(db, "out of memory", err);
	if (PQstatus(c->conn) != CONNECTION_OK) {
		pg_msg(msg, sizeof(msg), PQerrorMessage(c->conn));
		dgen_err_set(err, DGEN_EBUSY, "Cannot connect to the database %s: %s", db->path,
			     msg);
		dgen_err_detail_str(err, "database", "unavailable");
		return -1;
	}
	PQsetNoticeProcessor(c->conn, pg_notice, NULL);
	v = PQserverVersion(c->conn);
	if (v < PG_MIN_VERSION)
		return dgen_err_set(err, DGEN_EIO,
				    "PostgreSQL %d.%d at %s is older than %d, the oldest dgen runs on",
				    v / 10000, v % 10000, db->path, PG_MIN_VERSION / 10000);
	return pg_session(db, err);
}

static int pg_connect(struct dgen_db *db, const char *target, struct dgen_err *err)
{
	struct pg_conn *c = dgen_xcalloc(1, sizeof(*c));

	db->impl = c;
	c->url = dgen_xstrdup(target);
	free(db->path);
	db->path = dgen_config_redact_url(target, true);
	return pg_open(db, err);
}

static void pg_close(struct dgen_db *db)
{
	struct pg_conn *c = PGC(db);

	if (!c)
		return;
	/* A connection inherited across fork shares its socket with the
	 * parent: closing it would send the server a goodbye for both. */
	if (c->conn && db->pid == getpid())
		PQfinish(c->conn);
	free(c->url);
	free(c);
}

static struct dgen_stmt *pg_prepare_text(struct dgen_db *db, const char *sql,
					 struct dgen_err *err)
{
	struct pg_stmt *st = dgen_xcalloc(1, sizeof(*st));

	(void)db;
	(void)err;
	st->sql = pg_translate(sql, st->ref, &st->nref);
	st->row = -1;
	st->blob_col = -1;
	return &st->base;
}

static struct dgen_stmt *pg_prepare(struct dgen_db *db, enum db_stmt_id id, struct dgen_err *err)
{
	struct dgen_stmt *st = pg_prepare_text(db, db_sql_pg[id] ? db_sql_pg[id] : db_sql[id], err);

	PST(st)->preparable = id >= STMT_Q_CLAIM && id <= STMT_Q_RUNNING_RUNNERS;
	return st;
}

static void pg_clear_row(struct pg_stmt *st)
{
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = NULL;
	st->blob_col = -1;
}

static void pg_reset(struct dgen_stmt *s)
{
	struct pg_stmt *st = PST(s);
	int i;

	pg_clear_row(st);
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	for (i = 0; i < st->nparams; i++) {
		free(st->owned[i]);
		st->owned[i] = NULL;
		st->values[i] = NULL;
		st->types[i] = 0;
	}
	st->nparams = 0;
	st->bytes = 0;
}

static void pg_finalize(struct dgen_stmt *s)
{
	pg_reset(s);
	free(PST(s)->sql);
	free(s);
}

static int pg_bind(struct dgen_stmt *s, int idx, const struct db_value *v, struct dgen_err *err)
{
	struct pg_stmt *st = PST(s);
	int i = idx - 1;

	if (idx < 1 || idx > PG_MAX_PARAMS)
		return dgen_err_set(err, DGEN_EIO, "Database error: parameter %d out of range", idx);
	while (st->nparams < idx) {
		st->types[st->nparams] = 0;
		st->values[st->nparams] = NULL;
		st->formats[st->nparams] = 0;
		st->lengths[st->nparams] = 0;
		st->nparams++;
	}
	st->formats[i] = 0;
	switch (v->kind) {
	case DB_V_INT:
		st->types[i] = OID_INT8;
		snprintf(st->num[i], sizeof(st->num[i]), "%lld", (long long)v->i);
		break;
	case DB_V_DOUBLE:
		st->types[i] = OID_FLOAT8;
		snprintf(st->num[i], sizeof(st->num[i]), "%.17g", v->d);
		break;
	case DB_V_TEXT:
		st->types[i] = OID_TEXT;
		break;
	case DB_V_BLOB:
		st->types[i] = OID_BYTEA;
		st->formats[i] = 1;
		break;
	default:
		st->types[i] = 0;
		break;
	}
	if (v->null || v->kind == DB_V_NONE) {
		st->values[i] = NULL;
	} else if (v->kind == DB_V_TEXT || v->kind == DB_V_BLOB) {
		free(st->owned[i]);
		st->owned[i] = dgen_xmalloc(v->n + 1);
		if (v->n)
			memcpy(st->owned[i], v->p, v->n);
		st->owned[i][v->n] = '\0';
		st->values[i] = st->owned[i];
		st->lengths[i] = (int)v->n;
		st->bytes += v->n;
	} else {
		st->values[i] = st->num[i];
	}
	return 0;
}

/* A connection lost between two transactions is opened again before the
 * next statement; inside a transaction the loss is the statement's error
 * (the transaction is gone with it). */
static int pg_alive(struct dgen_db *db, struct dgen_err *err)
{
	if (PQstatus(PGC(db)->conn) == CONNECTION_OK)
		return 0;
	if (db->depth > 0)
		return pg_unavailable(db, "the connection was lost", err);
	return pg_open(db, err);
}

/* A connection that carried a big message (an upload's seeds, a claim's
 * input) would keep libpq's buffers at that size for good: once it is
 * idle (no transaction open) it is opened afresh, which gives the memory
 * back. A failure is left to the next statement (pg_alive). */
static void pg_shrink(struct dgen_db *db)
{
	struct pg_conn *c = PGC(db);
	struct dgen_err e = DGEN_ERR_INIT;

	if (!c->bloated || PQtransactionStatus(c->conn) != PQTRANS_IDLE)
		return;
	c->bloated = false;
	if (pg_open(db, &e) < 0)
		dgen_debug("reopening the database connection: %s", e.msg);
	dgen_err_clear(&e);
}

/*
 * Whether the statement runs as a statement prepared on this connection:
 * the first run of a queue statement on a connection prepares it under
 * its id, with the parameter types of that run, so the server parses it
 * once (the claim and the group commit's statements run thousands of
 * times; the others, records' filters above all, keep a plan made for
 * their values). A later run with other types goes unprepared.
 * 1 prepared, 0 not, -1 when preparing failed (a lock it waited for).
 */
static int pg_prepared(struct pg_stmt *st, int n, char name[16], struct dgen_err *err)
{
	struct dgen_db *db = st->base.db;
	struct pg_conn *c = PGC(db);
	PGresult *res;

	if (!st->preparable)
		return 0;
	snprintf(name, 16, "dgen%d", (int)st->base.id);
	if (st->prepared == c->gen)
		return st->prep_n == n && !memcmp(st->prep_types, st->types, (size_t)n * sizeof(Oid));
	res = PQprepare(c->conn, name, st->sql, n, st->types);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_fail(db, res, err);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	st->prepared = c->gen;
	st->prep_n = n;
	memcpy(st->prep_types, st->types, (size_t)n * sizeof(Oid));
	return 1;
}

/* Runs the statement with its parameters: a parameter the text never
 * names is declared text, so the server need not guess its type. */
static int pg_run(struct pg_stmt *st, struct dgen_err *err)
{
	struct dgen_db *db = st->base.db;
	ExecStatusType s;
	int n = st->nparams > st->nref ? st->nparams : st->nref;
	int i, prepared;
	char name[16];

	if (pg_alive(db, err) < 0)
		return -1;
	for (i = st->nparams; i < n; i++) {
		st->types[i] = 0;
		st->values[i] = NULL;
		st->formats[i] = 0;
		st->lengths[i] = 0;
	}
	for (i = 0; i < n; i++)
		if (!st->ref[i + 1] && !st->types[i])
			st->types[i] = OID_TEXT;
	prepared = pg_prepared(st, n, name, err);
	if (prepared < 0) {
		pg_reset(&st->base);
		return -1;
	}
	if (prepared)
		st->res = PQexecPrepared(PGC(db)->conn, name, n, (const char *const *)st->values,
					 st->lengths, st->formats, 0);
	else
		st->res = PQexecParams(PGC(db)->conn, st->sql, n, st->types,
				       (const char *const *)st->values, st->lengths, st->formats,
				       0);
	s = PQresultStatus(st->res);
	if (st->bytes >= PG_BIG_MESSAGE || PQresultMemorySize(st->res) >= PG_BIG_MESSAGE)
		PGC(db)->bloated = true;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		pg_fail(db, st->res, err);
		pg_reset(&st->base);
		pg_shrink(db);
		return -1;
	}
	pg_shrink(db);
	return 0;
}

/* Takes every notification libpq has read; true when there was one. */
static bool pg_notified(PGconn *conn)
{
	PGnotify *n;
	bool any = false;

	while ((n = PQnotifies(conn))) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

/*
 * The trigger of step 1 notifies channel dgen_jobs when a job becomes
 * queued. The connection LISTENs once (again after a reconnect), then
 * waits on its socket: a notification read during an earlier statement is
 * already in libpq's queue, one that comes later makes the socket
 * readable. A lost connection is reported (the next statement reopens it).
 */
static int pg_wait_jobs(struct dgen_db *db, int timeout_ms, struct dgen_err *err)
{
	struct pg_conn *c = PGC(db);
	struct pollfd p;
	double end = dgen_clock_mono() + timeout_ms / 1000.0;
	int left, n;

	if (pg_alive(db, err) < 0)
		return -1;
	if (!c->listening) {
		if (pg_exec(db, "LISTEN dgen_jobs", err) < 0)
			return -1;
		c->listening = true;
	}
	for (;;) {
		if (!PQconsumeInput(c->conn))
			return pg_fail(db, NULL, err);
		if (pg_notified(c->conn))
			return 1;
		left = (int)((end - dgen_clock_mono()) * 1000.0);
		if (left <= 0)
			return 0;
		p.fd = PQsocket(c->conn);
		p.events = POLLIN;
		p.revents = 0;
		n = poll(&p, 1, left);
		if (n < 0 && errno != EINTR)
			return pg_unavailable(db, strerror(errno), err);
		if (n < 0)
			return 0; /* a signal: let the caller look */
	}
}

/* The first step runs the statement and keeps its rows; each step moves
 * to the next one. */
static int pg_step(struct dgen_stmt *s, struct dgen_err *err)
{
	struct pg_stmt *st = PST(s);

	pg_clear_row(st);
	if (!st->res && pg_run(st, err) < 0)
		return -1;
	st->row++;
	return st->row < PQntuples(st->res) ? DB_ROW : DB_DONE;
}

static int64_t pg_changes(struct dgen_stmt *s)
{
	const char *n = PST(s)->res ? PQcmdTuples(PST(s)->res) : "";

	return *n ? strtoll(n, NULL, 10) : 0;
}

static bool pg_col_is_null(struct dgen_stmt *s, int col)
{
	struct pg_stmt *st = PST(s);

	return !st->res || st->row < 0 || st->row >= PQntuples(st->res) ||
	       col >= PQnfields(st->res) || PQgetisnull(st->res, st->row, col);
}

static const char *pg_value(struct dgen_stmt *s, int col)
{
	return pg_col_is_null(s, col) ? NULL : PQgetvalue(PST(s)->res, PST(s)->row, col);
}

/* Every value arrives as text: text is what does not read as a whole
 * number (jobs.current_step holds a step number or a note). */
static bool pg_col_is_text(struct dgen_stmt *s, int col)
{
	const char *v = pg_value(s, col);

	if (!v)
		return false;
	if (*v == '-')
		v++;
	if (!*v)
		return true;
	for (; *v; v++)
		if (*v < '0' || *v > '9')
			return true;
	return false;
}

static enum db_value_kind pg_col_type(struct dgen_stmt *s, int col)
{
	if (pg_col_is_null(s, col))
		return DB_V_NONE;
	switch (PQftype(PST(s)->res, col)) {
	case OID_INT8:
	case OID_INT4:
	case OID_INT2:
	case OID_BOOL:
		return DB_V_INT;
	case OID_FLOAT8:
	case OID_FLOAT4:
		return DB_V_DOUBLE;
	case OID_BYTEA:
		return DB_V_BLOB;
	default:
		return DB_V_TEXT;
	}
}

static int64_t pg_col_int(struct dgen_stmt *s, int col)
{
	const char *v = pg_value(s, col);

	if (!v)
		return 0;
	if (PQftype(PST(s)->res, col) == OID_BOOL)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static double pg_col_double(struct dgen_stmt *s, int col)
{
	const char *v = pg_value(s, col);

	return v ? strtod(v, NULL) : 0.0;
}

/* A bytea column's bytes, decoded from the text answer once per row. */
static const unsigned char *pg_bytea(struct pg_stmt *st, int col)
{
	const char *v = pg_value(&st->base, col);

	if (!v)
		return NULL;
	if (st->blob_col != col) {
		pg_clear_row(st);
		st->blob = PQunescapeBytea((const unsigned char *)v, &st->blob_len);
		st->blob_col = st->blob ? col : -1;
	}
	return st->blob;
}

static bool pg_is_bytea(struct dgen_stmt *s, int col)
{
	return !pg_col_is_null(s, col) && PQftype(PST(s)->res, col) == OID_BYTEA;
}

static const char *pg_col_text(struct dgen_stmt *s, int col)
{
	if (pg_is_bytea(s, col))
		return (const char *)pg_bytea(PST(s), col);
	return pg_value(s, col);
}

static const void *pg_col_blob(struct dgen_stmt *s, int col)
{
	if (pg_is_bytea(s, col))
		return pg_bytea(PST(s), col);
	return pg_value(s, col);
}

static size_t pg_col_len(struct dgen_stmt *s, int col)
{
	if (pg_is_bytea(s, col))
		return pg_bytea(PST(s), col) ? PST(s)->blob_len : 0;
	return pg_col_is_null(s, col) ? 0 : (size_t)PQgetlength(PST(s)->res, PST(s)->row, col);
}

static int pg_exec_script(struct dgen_db *db, const char *sql, struct dgen_err *err)
{
	if (pg_alive(db, err) < 0)
		return -1;
	return pg_exec(db, sql, err);
}

static int pg_exec_step(struct dgen_db *db, int i, const char *sql, struct dgen_err *err)
{
	const char *own = db_step_pg(i);
	const char *extra = db_step_pg_extra(i);
	char *ddl = own ? dgen_xstrdup(own) : pg_translate_ddl(sql);
	int rc = pg_exec_script(db, ddl, err);

	if (rc == 0 && extra)
		rc = pg_exec_script(db, extra, err);
	free(ddl);
	return rc;
}

static int pg_lock_schema(struct dgen_db *db, struct dgen_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", PG_SCHEMA_LOCK);
	return pg_exec_script(db, sql, err);
}

static int pg_set_schema_version(struct dgen_db *db, int version, struct dgen_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "UPDATE dgen_schema SET version = %d", version);
	return pg_exec_script(db, sql, err);
}

static int pg_lock(struct dgen_db *db, int64_t key, struct dgen_err *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", (long long)key);
	return pg_exec_script(db, sql, err);
}

static bool pg_txn_open(struct dgen_db *db)
{
	PGTransactionStatusType t = PQtransactionStatus(PGC(db)->conn);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* synchronous_commit=off is PostgreSQL's NORMAL: a crash of the server may
 * lose the last commits, never corrupt. */
static int pg_set_sync(struct dgen_db *db, enum db_sync sync, struct dgen_err *err)
{
	PGC(db)->sync_off = sync != DB_SYNC_FULL;
	return pg_exec_script(db, sync == DB_SYNC_FULL ? "SET synchronous_commit = on"
						       : "SET synchronous_commit = off", err);
}

/* The server manages its own WAL: nothing to bound or checkpoint here. */
static int pg_set_wal_limit(struct dgen_db *db, int64_t bytes, struct dgen_err *err)
{
	return 0;
}

static int64_t pg_wal_size(const struct dgen_db *db)
{
	return 0;
}

static int pg_checkpoint(struct dgen_db *db, int wait_ms, int64_t *wal_after,
			 struct dgen_err *err)
{
	if (wal_after)
		*wal_after = 0;
	return 0;
}

static enum db_storage pg_storage_state(struct dgen_db *db)
{
	return DB_STORAGE_OK;
}

const struct db_backend db_backend_pg = {
	.name = "postgresql",
	.connect = pg_connect,
	.close = pg_close,
	.prepare = pg_prepare,
	.prepare_text = pg_prepare_text,
	.col_type = pg_col_type,
	.finalize = pg_finalize,
	.reset = pg_reset,
	.bind = pg_bind,
	.step = pg_step,
	.changes = pg_changes,
	.col_is_null = pg_col_is_null,
	.col_is_text = pg_col_is_text,
	.wait_jobs = pg_wait_jobs,
	.col_int = pg_col_int,
	.col_double = pg_col_double,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_len = pg_col_len,
	.exec_script = pg_exec_script,
	.exec_step = pg_exec_step,
	.lock_schema = pg_lock_schema,
	.set_schema_version = pg_set_schema_version,
	.lock = pg_lock,
	.txn_open = pg_txn_open,
	.set_sync = pg_set_sync,
	.set_wal_limit = pg_set_wal_limit,
	.wal_size = pg_wal_size,
	.checkpoint = pg_checkpoint,
	.storage_state = pg_storage_state,
};

#else /* !HAVE_LIBPQ */

static int pg_connect(struct dgen_db *db, const char *target, struct dgen_err *err)
{
	return dgen_err_set(err, DGEN_EIO,
			    "This dgen was built without PostgreSQL (configure found no libpq)");
}

static void pg_close(struct dgen_db *db)
{
}

const struct db_backend db_backend_pg = {
	.name = "postgresql",
	.connect = pg_connect,
	.close = pg_close,
};

#endif
