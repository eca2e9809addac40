/*
 * store_test.h - shared setup of the store's unit tests: a fresh temporary
 * directory holding real sqlite files, removed at the end, and small
 * helpers to fill the database. Header-only (each test is one translation
 * unit). Ownership: st_path() and st_target() return a malloc'd string.
 *
 * Both stores: with DGEN_TEST_PG_URL set (tests/store_pg.sh starts a
 * throwaway server and sets it), every database a test opens by name is a
 * PostgreSQL schema of that server instead of a file (st_target), private
 * to the test process and dropped at st_teardown(). st_pg() tells a test
 * which store it runs against, for the few checks only one engine has.
 */
#ifndef DGEN_STORE_TEST_H
#define DGEN_STORE_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "config.h"
#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "dgen/db.h"
#include "dgen/err.h"
#include "dgen/jobs.h"
#include "dgen/saved_pipelines.h"
#include "dgen/queue.h"
#include "dgen/util.h"
#include "tap.h"

static char st_dir[256];
static pid_t st_pid;

/* The PostgreSQL server the store tests run against, or NULL (sqlite). */
static inline const char *st_pg(void)
{
	const char *u = getenv("DGEN_TEST_PG_URL");

	return u && *u ? u : NULL;
}

#ifdef HAVE_LIBPQ
static inline void st_pg_quiet(void *arg, const char *msg)
{
}

/* A libpq connection to url whose notices ("schema already exists,
 * skipping") stay out of the TAP output. */
static inline PGconn *st_pg_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);

	PQsetNoticeProcessor(c, st_pg_quiet, NULL);
	return c;
}
#endif

/* Runs sql on the database at target (a sqlite path or a PostgreSQL URL)
 * through the engine's own client, beside the store; bails out when it
 * fails. */
static inline void st_raw_exec(const char *target, const char *sql)
{
	sqlite3 *raw = NULL;

	if (!strncmp(target, "postgresql://", 13)) {
#ifdef HAVE_LIBPQ
		PGconn *c = st_pg_connect(target);
		PGresult *r = PQexec(c, sql);
		ExecStatusType s = PQresultStatus(r);

		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			printf("Bail out! raw exec '%s' failed: %s\n", sql, PQerrorMessage(c));
			exit(1);
		}
		PQclear(r);
		PQfinish(c);
		return;
#endif
	}
	if (sqlite3_open(target, &raw) != SQLITE_OK ||
	    sqlite3_exec(raw, sql, NULL, NULL, NULL) != SQLITE_OK) {
		printf("Bail out! raw exec failed: %s\n", raw ? sqlite3_errmsg(raw) : "");
		exit(1);
	}
	sqlite3_close(raw);
}

/* The first column of the first row of sql at target, as an integer (-1
 * when there is no row). */
static inline int64_t st_raw_int(const char *target, const char *sql)
{
	sqlite3 *raw = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (!strncmp(target, "postgresql://", 13)) {
#ifdef HAVE_LIBPQ
		PGconn *c = st_pg_connect(target);
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
#endif
		return n;
	}
	if (sqlite3_open(target, &raw) == SQLITE_OK &&
	    sqlite3_prepare_v2(raw, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(raw);
	return n;
}

/* Runs sql on the database behind db (a test's URLs carry no password, so
 * db_path() is the URL itself). */
static inline void st_exec(struct dgen_db *db, const char *sql)
{
	st_raw_exec(db_path(db), sql);
}

/* Creates the temporary directory; exits (bail out) when it cannot. */
static inline void st_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	st_pid = getpid();
	snprintf(st_dir, sizeof(st_dir), "%s/dgen-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(st_dir)) {
		printf("Bail out! mkdtemp failed\n");
		exit(1);
	}
}

/* A file name inside the temporary directory. */
static inline char *st_path(const char *name)
{
	return dgen_xasprintf("%s/%s", st_dir, name);
}

/* The schema (PostgreSQL) of the database called name: its name made of
 * the test process's pid and the letters and digits of name. */
static inline void st_schema(char out[96], const char *name)
{
	size_t n = (size_t)snprintf(out, 96, "t%ld_", (long)st_pid);

	for (; *name && n < 95; name++)
		if ((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9'))
			out[n++] = *name;
	out[n] = '\0';
}

/* What db_open() takes for the database called name: a file of the
 * temporary directory, or a schema of the PostgreSQL server (created
 * here) that the URL makes the connection's search path. */
static inline char *st_target(const char *name)
{
	char schema[96], *sql;
	const char *url = st_pg();

	if (!url)
		return st_path(name);
	st_schema(schema, name);
	/* forked children open the same name at once: one creates it */
	sql = dgen_xasprintf("BEGIN; SELECT pg_advisory_xact_lock(7); "
			     "CREATE SCHEMA IF NOT EXISTS %s; COMMIT", schema);
	st_raw_exec(url, sql);
	free(sql);
	return dgen_xasprintf("%s%soptions=-csearch_path%%3D%s", url,
			      strchr(url, '?') ? "&" : "?", schema);
}

/* Drops the schemas of this test process (PostgreSQL). */
static inline void st_drop_schemas(void)
{
	char *sql;

	if (!st_pg() || getpid() != st_pid)
		return;
	sql = dgen_xasprintf("DO $$DECLARE s text; BEGIN FOR s IN SELECT nspname FROM "
			     "pg_namespace WHERE nspname LIKE 't%ld\\_%%' LOOP "
			     "EXECUTE 'DROP SCHEMA ' || s || ' CASCADE'; END LOOP; END$$",
			     (long)st_pid);
	st_raw_exec(st_pg(), sql);
	free(sql);
}

/* Removes the files of the temporary directory (flat) and the directory. */
static inline void st_teardown(void)
{
	DIR *d = opendir(st_dir);
	struct dirent *e;
	char *p;

	st_drop_schemas();
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = st_path(e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(st_dir);
}

/* Opens name in the temporary directory or bails out. */
static inline struct dgen_db *st_open(const char *name)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db = NULL;
	char *p = st_target(name);

	if (db_open(&db, p, 0, &err) < 0) {
		printf("Bail out! db_open %s: %s\n", p, err.msg);
		exit(1);
	}
	free(p);
	return db;
}

/* Checks PRAGMA integrity_check (every test file ends with it). */
static inline void st_integrity(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;

	ok(db_integrity_check(db, &err) == 0, "integrity_check is ok %s", err.msg);
	dgen_err_clear(&err);
}

/* A pipeline with a small definition; returns its id. */
static inline int64_t st_pipeline(struct dgen_db *db, const char *name)
{
	struct dgen_err err = DGEN_ERR_INIT;
	int64_t id = 0;

	if (saved_pipelines_insert(db, NULL, name,
			     "{\"name\":\"p\",\"blocks\":[{\"type\":\"TextGenerator\",\"config\":{}}]}",
			     &id, &err) < 0) {
		printf("Bail out! saved_pipelines_insert: %s\n", err.msg);
		exit(1);
	}
	return id;
}

/* A queued job of pipeline pid with a JSON seed input; returns its id. */
static inline int64_t st_job(struct dgen_db *db, int64_t pid, const char *idem)
{
	struct dgen_err err = DGEN_ERR_INIT;
	static const char input[] = "[{\"repetitions\":2,\"metadata\":{\"topic\":\"tea\"}}]";
	struct dgen_job_new j = {
		.pipeline_id = pid,
		.input_kind = DGEN_INPUT_JSON,
		.input = input,
		.input_len = sizeof(input) - 1,
		.total_seeds = 2,
		.idempotency_key = idem,
	};
	int64_t id = 0;

	if (jobs_insert(db, NULL, &j, &id, NULL, &err) < 0) {
		printf("Bail out! jobs_insert: %s\n", err.msg);
		exit(1);
	}
	return id;
}

/* Stores a record for unit of job (seed = unit, repetition 0) through the
 * queue; returns whether it was inserted. */
static inline bool st_record(struct dgen_db *db, int64_t job, int64_t unit, const char *output)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_unit_result r = {
		.unit = unit,
		.seed_index = unit,
		.repetition = 0,
		.chunk_index = -1,
		.output = output,
		.metadata = "{\"topic\":\"tea\"}",
		.accumulated_state = "{\"topic\":\"tea\",\"assistant\":\"hello\"}",
		.trace = "[]",
		.trace_id = "00000000-0000-4000-8000-000000000000",
		.input_tokens = 10,
		.output_tokens = 5,
	};
	bool inserted = false;

	if (queue_finish_unit(db, job, &r, &inserted, NULL, &err) < 0) {
		printf("Bail out! queue_finish_unit: %s\n", err.msg);
		exit(1);
	}
	return inserted;
}

/* A start line for racing children: st_gate_open() makes it (before the
 * forks), each child calls st_gate_wait() once it is ready (connected),
 * and st_gate_go() in the parent lets them all run at once. */
static inline void st_gate_open(int gate[2])
{
	if (pipe(gate) != 0) {
		printf("Bail out! pipe\n");
		exit(1);
	}
}

static inline void st_gate_wait(int gate[2])
{
	char c;

	close(gate[1]);
	while (read(gate[0], &c, 1) < 0)
		;
	close(gate[0]);
}

static inline void st_gate_go(int gate[2])
{
	close(gate[0]);
	close(gate[1]);
}

/* Waits for a child and tells whether it exited 0. */
static inline bool st_wait_ok(pid_t pid)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif
