/*
 * qtool.c - the runner tests' hands on the queue: enqueue a job the way
 * POST /api/generate stores one, read a job back, cancel it. It calls the
 * store's public functions, so the tests exercise the same code the API
 * uses; no SQL here.
 *
 *   qtool enqueue DB PIPELINE.json SEEDS [USER_ID]
 *                                          prints the job id (owned by USER_ID)
 *   qtool user DB NAME [INFLIGHT]          adds a member (with that in-flight
 *                                          quota), prints its id
 *   qtool job DB ID                        prints the job JSON
 *   qtool cancel DB ID
 *   qtool failures DB ID                   prints the failures JSON
 *   qtool retry DB ID                      prints the new job id
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/accounts.h"
#include "dgen/caller.h"
#include "dgen/db.h"
#include "dgen/jobs.h"
#include "dgen/json.h"
#include "dgen/saved_pipelines.h"
#include "dgen/util.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(2);
	}
	buf = dgen_xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int main(int argc, char **argv)
{
	struct dgen_db *db = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL;
	int64_t id = 0, pid = 0;
	long long n;
	bool existed;
	int rc = 1;

	if (argc < 4) {
		fputs("usage: qtool enqueue|job|cancel|failures|retry|user DB ARG...\n", stderr);
		return 2;
	}
	if (db_open(&db, argv[2], 0, &err))
		goto out;
	if (!strcmp(argv[1], "enqueue") && (argc == 5 || argc == 6)) {
		size_t dlen, slen;
		char *def = slurp(argv[3], &dlen), *seeds = slurp(argv[4], &slen);
		size_t plen = strlen(argv[4]);
		struct dgen_job_new j = { 0 };
		struct dgen_caller me = { 0 }, *who = NULL;

		if (argc == 6) {
			if (dgen_parse_long(argv[5], 1, INT64_MAX, &n))
				goto bad;
			me.user_id = n;
			who = &me;
		}
		if (saved_pipelines_insert(db, who, "test pipeline", def, &pid, &err))
			goto out;
		j.pipeline_id = pid;
		j.input_kind = plen > 3 && !strcmp(argv[4] + plen - 3, ".md") ? DGEN_INPUT_MARKDOWN
									    : DGEN_INPUT_JSON;
		j.input = seeds;
		j.input_len = slen;
		if (jobs_insert(db, who, &j, &id, &existed, &err))
			goto out;
		printf("%lld\n", (long long)id);
		free(def);
		free(seeds);
	} else if (!strcmp(argv[1], "user") && (argc == 4 || argc == 5)) {
		struct dgen_user u;

		if (users_add(db, argv[3], "a password for tests", false, &id, &err) ||
		    users_get_id(db, id, &u, &err))
			goto out;
		if (argc == 5) {
			if (dgen_parse_long(argv[4], 1, INT64_MAX, &n))
				goto bad;
			u.quotas.inflight = n;
			if (users_update(db, &u, NULL, &err))
				goto out;
		}
		printf("%lld\n", (long long)id);
	} else if (dgen_parse_long(argv[3], 1, INT64_MAX, &n) == 0) {
		enum dgen_job_status st;

		if (!strcmp(argv[1], "job") && jobs_get(db, NULL, n, &o, &err) == 0)
			puts(dgen_json_compact(o));
		else if (!strcmp(argv[1], "failures") && jobs_failures(db, NULL, n, &o, &err) == 0)
			puts(dgen_json_compact(o));
		else if (!strcmp(argv[1], "cancel") && jobs_cancel(db, NULL, n, &st, &err) == 0)
			puts(jobs_status_name(st));
		else if (!strcmp(argv[1], "retry") &&
			 jobs_retry_failed(db, NULL, n, NULL, &id, &existed, &err) == 0)
			printf("%lld\n", (long long)id);
		if (err.code)
			goto out;
	} else {
bad:
		fputs("qtool: bad arguments\n", stderr);
		goto out;
	}
	rc = 0;
out:
	if (err.code)
		fprintf(stderr, "qtool: %s\n", err.msg);
	if (o)
		json_object_put(o);
	db_close(db);
	dgen_err_clear(&err);
	return rc;
}
