/*
 * store_test.h - shared setup of the store's unit tests: a fresh temporary
 * directory holding real sqlite files, removed at the end, and small
 * helpers to fill the database. Header-only (each test is one translation
 * unit). Ownership: st_path() returns a malloc'd string.
 */
#ifndef DGEN_STORE_TEST_H
#define DGEN_STORE_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dgen/db.h"
#include "dgen/err.h"
#include "dgen/jobs.h"
#include "dgen/saved_pipelines.h"
#include "dgen/queue.h"
#include "dgen/util.h"
#include "tap.h"

static char st_dir[256];

/* Creates the temporary directory; exits (bail out) when it cannot. */
static inline void st_setup(void)
{
	const char *tmp = getenv("TMPDIR");

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

/* Removes the files of the temporary directory (flat) and the directory. */
static inline void st_teardown(void)
{
	DIR *d = opendir(st_dir);
	struct dirent *e;
	char *p;

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
	char *p = st_path(name);

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

/* Waits for a child and tells whether it exited 0. */
static inline bool st_wait_ok(pid_t pid)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif
