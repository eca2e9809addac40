/*
 * api_jobs.c - /api/jobs: read the queue and ask for changes (cancel, retry
 * the failed executions). The runner does the work; these handlers only
 * read and write the job rows through the store.
 */
#include "config.h"

#include <limits.h>

#include "dgen/api.h"
#include "dgen/jobs.h"

static int job_fail(struct api_ctx *c)
{
	if (c->err.code == DGEN_ENOTFOUND && c->id) {
		dgen_err_set(&c->err, DGEN_ENOTFOUND, "Job %lld not found", (long long)c->id);
		dgen_err_detail_int(&c->err, "job_id", c->id);
	}
	return api_fail(c);
}

int api_jobs_active(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	struct json_object *o;

	if (!db)
		return api_fail(c);
	if (jobs_active(db, c->who, &o, &c->err) != 0) {
		if (c->err.code == DGEN_ENOTFOUND)
			dgen_err_set(&c->err, DGEN_ENOTFOUND, "No job is running");
		return api_fail(c);
	}
	return api_ok(c, 200, o);
}

/* A status filter from the query; an unknown name lists the allowed ones. */
static int status_param(struct api_ctx *c, enum dgen_job_status *out)
{
	const char *s = request_param(c->req, "status");

	*out = DGEN_JOB_ANY;
	if (!s)
		return 0;
	if (jobs_status_parse(s, out) != 0) {
		struct json_object *allowed = json_object_new_array();

		for (int st = DGEN_JOB_QUEUED; st <= DGEN_JOB_STOPPED; st++)
			json_object_array_add(allowed, json_object_new_string(
							       jobs_status_name((enum dgen_job_status)st)));
		dgen_err_set(&c->err, DGEN_EBADREQ, "Query parameter 'status' is not a job status");
		dgen_err_detail_str(&c->err, "parameter", "status");
		dgen_err_detail_str(&c->err, "value", s);
		dgen_err_detail(&c->err, "allowed", allowed);
		return -1;
	}
	return 0;
}

int api_jobs_list(struct api_ctx *c)
{
	struct dgen_job_filter f = { 0, DGEN_JOB_ANY, API_PAGE_DEFAULT, 0 };
	struct dgen_db *db;
	struct json_object *arr;
	long long pid;
	int64_t total;

	if (request_param_int(c->req, "pipeline_id", 1, LLONG_MAX, 0, &pid, &c->err) != 0 ||
	    api_page_params(c, &f.limit, &f.offset) != 0 || status_param(c, &f.status) != 0)
		return api_fail(c);
	f.pipeline_id = pid;
	if (!(db = api_db(c)) || jobs_page(db, c->who, &f, &total, &arr, &c->err) != 0)
		return api_fail(c);
	return api_ok_page(c, total, arr);
}

/* Answers with what `read` gives for the route's job (404 naming an
 * unknown job). */
static int job_read(struct api_ctx *c,
		    int (*read)(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
				struct json_object **out, struct dgen_err *err))
{
	struct dgen_db *db = api_db(c);
	struct json_object *o;

	if (!db || read(db, c->who, c->id, &o, &c->err) != 0)
		return job_fail(c);
	return api_ok(c, 200, o);
}

int api_jobs_get(struct api_ctx *c)
{
	return job_read(c, jobs_get);
}

int api_jobs_cancel(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);

	if (!db || jobs_cancel(db, c->who, c->id, NULL, &c->err) != 0)
		return job_fail(c);
	return api_ok_member(c, "message", json_object_new_string("Job cancelled"));
}

int api_jobs_failures(struct api_ctx *c)
{
	return job_read(c, jobs_failures);
}

int api_jobs_retry_failed(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	int64_t new_id;
	bool existed = false;

	if (!db || api_job_quota(c, 0) != 0)
		return api_fail(c);
	if (jobs_retry_failed(db, c->who, c->id, c->req->idempotency_key, &new_id, &existed,
				     &c->err) != 0)
		return job_fail(c);
	return api_ok_member(c, "job_id", json_object_new_int64(new_id));
}
