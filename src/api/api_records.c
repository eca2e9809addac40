/*
 * api_records.c - /api/records: review the generated records (list, read,
 * edit, delete).
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "dgen/api.h"
#include "dgen/records.h"

static int record_fail(struct api_ctx *c)
{
	if (c->err.code == DGEN_ENOTFOUND && c->id) {
		dgen_err_set(&c->err, DGEN_ENOTFOUND, "Record %lld not found", (long long)c->id);
		dgen_err_detail_int(&c->err, "record_id", c->id);
	}
	return api_fail(c);
}

/* A status name that is no record status: 400 naming where it came from
 * (`kind` "parameter" or "field") and listing the allowed names. */
static int bad_status(struct api_ctx *c, const char *msg, const char *kind, const char *value)
{
	struct json_object *a = json_object_new_array();

	for (int s = DGEN_REC_PENDING; s <= DGEN_REC_EDITED; s++)
		json_object_array_add(a, json_object_new_string(
						 records_status_name((enum dgen_record_status)s)));
	dgen_err_set(&c->err, DGEN_EBADREQ, "%s", msg);
	dgen_err_detail_str(&c->err, kind, "status");
	dgen_err_detail_str(&c->err, "value", value);
	dgen_err_detail(&c->err, "allowed", a);
	return -1;
}

/* The filters shared by the list, delete and export endpoints: status,
 * job_id, pipeline_id. Bad values are 400 naming the parameter. */
int api_record_filter(struct api_ctx *c, struct dgen_record_filter *f)
{
	const char *s = request_param(c->req, "status");
	long long job, pid;

	memset(f, 0, sizeof *f);
	f->status = DGEN_REC_ANY;
	if (s && records_status_parse(s, &f->status) != 0)
		return bad_status(c, "Query parameter 'status' is not a record status", "parameter",
				  s);
	if (request_param_int(c->req, "job_id", 1, LLONG_MAX, 0, &job, &c->err) != 0 ||
	    request_param_int(c->req, "pipeline_id", 1, LLONG_MAX, 0, &pid, &c->err) != 0)
		return -1;
	f->job_id = job;
	f->pipeline_id = pid;
	return 0;
}

int api_records_list(struct api_ctx *c)
{
	struct dgen_record_filter f;
	struct dgen_db *db;
	struct json_object *arr;
	long long limit, offset;

	if (api_record_filter(c, &f) != 0 ||
	    request_param_int(c->req, "limit", 1, 1000, 100, &limit, &c->err) != 0 ||
	    request_param_int(c->req, "offset", 0, LLONG_MAX, 0, &offset, &c->err) != 0)
		return api_fail(c);
	f.limit = limit;
	f.offset = offset;
	if (!(db = api_db(c)) || records_list(db, c->who, &f, &arr, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, arr);
}

int api_records_get(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	struct json_object *o;

	if (!db || records_get(db, c->who, c->id, &o, &c->err) != 0)
		return record_fail(c);
	return api_ok(c, 200, o);
}

/*
 * The edit body: "output" (string), "status" (a record status),
 * "metadata" (object); every other key is set into the record's final
 * accumulated state. Changing content (output, metadata or state) without
 * naming a status marks the record "edited", so a reviewer can tell
 * generated text from corrected text.
 */
int api_records_update(struct api_ctx *c)
{
	struct json_object *body = NULL, *patch = NULL, *meta = NULL;
	struct dgen_record_update u = { NULL, DGEN_REC_ANY, NULL, NULL };
	struct dgen_json_limits lim;
	struct dgen_db *db;
	const char *status = NULL;
	int st;

	api_json_limits(c, &lim);
	if (request_json_body(c->req, &lim, false, &body, &c->err) != 0)
		goto fail;
	if (!json_object_is_type(body, json_type_object)) {
		dgen_err_set(&c->err, DGEN_EBADREQ, "Request body must be a JSON object");
		goto fail;
	}
	if (dgen_json_get_str(body, "", "output", false, &u.output, &c->err) != 0 ||
	    dgen_json_get_str(body, "", "status", false, &status, &c->err) != 0 ||
	    dgen_json_get_obj(body, "", "metadata", false, &meta, &c->err) != 0)
		goto fail;
	if (status && records_status_parse(status, &u.status) != 0) {
		bad_status(c, "'status' is not a record status", "field", status);
		goto fail;
	}
	u.metadata = meta;
	json_object_object_foreach(body, key, val) {
		if (strcmp(key, "output") == 0 || strcmp(key, "status") == 0 ||
		    strcmp(key, "metadata") == 0)
			continue;
		if (!patch)
			patch = json_object_new_object();
		json_object_object_add(patch, key, json_object_get(val));
	}
	u.state_patch = patch;
	if (!u.output && !u.metadata && !patch && u.status == DGEN_REC_ANY) {
		dgen_err_set(&c->err, DGEN_EBADREQ,
			     "Nothing to update: send output, status, metadata or state fields");
		goto fail;
	}
	if (u.status == DGEN_REC_ANY && (u.output || u.metadata || patch))
		u.status = DGEN_REC_EDITED;
	if (!(db = api_db(c)) || records_update(db, c->who, c->id, &u, &c->err) != 0) {
		st = record_fail(c);
		goto out;
	}
	st = api_ok_member(c, "success", json_object_new_boolean(true));
	goto out;
fail:
	st = api_fail(c);
out:
	json_object_put(patch);
	json_object_put(body);
	return st;
}

int api_records_delete(struct api_ctx *c)
{
	struct dgen_db *db;
	long long job;
	int64_t deleted = 0;

	if (request_param_int(c->req, "job_id", 1, LLONG_MAX, 0, &job, &c->err) != 0)
		return api_fail(c);
	if (!(db = api_db(c)) || records_delete(db, c->who, job, &deleted, &c->err) != 0)
		return api_fail(c);
	return api_ok_member(c, "deleted", json_object_new_int64(deleted));
}
