/*
 * api_records.c - /api/records: review the generated records (list, read,
 * edit, delete).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
 * (`kind` "parameter" or "field", called `name`) and listing the allowed
 * names. */
static int bad_status(struct api_ctx *c, const char *msg, const char *kind, const char *name,
		      const char *value)
{
	struct json_object *a = json_object_new_array();

	for (int s = DGEN_REC_PENDING; s <= DGEN_REC_EDITED; s++)
		json_object_array_add(a, json_object_new_string(
						 records_status_name((enum dgen_record_status)s)));
	dgen_err_set(&c->err, DGEN_EBADREQ, "%s", msg);
	dgen_err_detail_str(&c->err, kind, name);
	dgen_err_detail_str(&c->err, "value", value);
	dgen_err_detail(&c->err, "allowed", a);
	return -1;
}

/* Names the offending parameter or field (as the client wrote it) in an
 * error the store or a parser set already. */
static int name_it(struct api_ctx *c, const char *kind, const char *name)
{
	dgen_err_detail_str(&c->err, kind, name);
	return -1;
}

/* A finite number written in full ("0.5", "-3", "1e3"). */
static int parse_number(const char *s, double *out)
{
	char *end;

	if (!*s || strlen(s) > 64)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return *end || errno == ERANGE || !isfinite(*out) ? -1 : 0;
}

/*
 * The criteria beyond status, job and pipeline: q=<substring of output>
 * and min.<field>= / max.<field>= on numbers of the final state. 1 when
 * key is none of them; -1 with a 400 naming `name` (the parameter, or
 * the body field "filter.<key>") when the value is bad.
 */
static int filter_more(struct api_ctx *c, struct dgen_record_filter *f, const char *key,
		       const char *val, const char *kind, const char *name)
{
	bool is_max = strncmp(key, "max.", 4) == 0;
	double v;

	if (strcmp(key, "q") == 0) {
		if (strlen(val) > DGEN_REC_MAX_Q) {
			dgen_err_set(&c->err, DGEN_EBADREQ, "'%s' is longer than %d bytes", name,
				     DGEN_REC_MAX_Q);
			dgen_err_detail_int(&c->err, "max_bytes", DGEN_REC_MAX_Q);
			return name_it(c, kind, name);
		}
		f->q = val;
		return 0;
	}
	if (!is_max && strncmp(key, "min.", 4) != 0)
		return 1;
	if (parse_number(val, &v) != 0) {
		dgen_err_set(&c->err, DGEN_EBADREQ, "'%s' must be a number", name);
		dgen_err_detail_str(&c->err, "value", val);
		return name_it(c, kind, name);
	}
	if (records_filter_range(f, key + 4, is_max, v, &c->err) != 0)
		return name_it(c, kind, name);
	return 0;
}

/* The filters shared by the list, stats, delete and export endpoints:
 * status, job_id, pipeline_id, q, min.<field>, max.<field>. Bad values
 * are 400 naming the parameter; other parameters are left to the caller. */
int api_record_filter(struct api_ctx *c, struct dgen_record_filter *f)
{
	const char *s = request_param(c->req, "status");
	long long job, pid;

	memset(f, 0, sizeof *f);
	f->status = DGEN_REC_ANY;
	f->owner = dgen_caller_scope(c->who); /* a member's own records only */
	if (s && records_status_parse(s, &f->status) != 0)
		return bad_status(c, "Query parameter 'status' is not a record status", "parameter",
				  "status", s);
	if (request_param_int(c->req, "job_id", 1, LLONG_MAX, 0, &job, &c->err) != 0 ||
	    request_param_int(c->req, "pipeline_id", 1, LLONG_MAX, 0, &pid, &c->err) != 0)
		return -1;
	f->job_id = job;
	f->pipeline_id = pid;
	for (size_t i = 0; i < c->req->n_params; i++) {
		const struct req_param *p = &c->req->params[i];

		if (filter_more(c, f, p->key, p->val, "parameter", p->key) < 0)
			return -1;
	}
	return 0;
}

int api_records_list(struct api_ctx *c)
{
	struct dgen_record_filter f;
	struct dgen_db *db;
	struct json_object *arr;
	const char *sort = request_param(c->req, "sort");
	long long limit, offset;
	int64_t total;
	char buf[24];

	if (api_record_filter(c, &f) != 0 ||
	    request_param_int(c->req, "limit", 1, 1000, 100, &limit, &c->err) != 0 ||
	    request_param_int(c->req, "offset", 0, LLONG_MAX, 0, &offset, &c->err) != 0)
		return api_fail(c);
	if (sort && records_filter_sort(&f, sort, &c->err) != 0) {
		name_it(c, "parameter", "sort");
		return api_fail(c);
	}
	f.limit = limit;
	f.offset = offset;
	if (!(db = api_db(c)) || records_list_total(db, &f, &arr, &total, &c->err) != 0)
		return api_fail(c);
	snprintf(buf, sizeof buf, "%lld", (long long)total);
	respond_header(c->resp, "X-Total-Count", buf);
	return api_ok(c, 200, arr);
}

int api_records_stats(struct api_ctx *c)
{
	struct dgen_record_filter f;
	struct dgen_db *db;
	struct json_object *o;

	if (api_record_filter(c, &f) != 0 || !(db = api_db(c)) ||
	    records_stats(db, &f, &o, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, o);
}

/* The request body, which must be a JSON object (*body is put by the
 * caller on every path). */
static int object_body(struct api_ctx *c, struct json_object **body)
{
	struct dgen_json_limits lim;

	api_json_limits(c, &lim);
	if (request_json_body(c->req, &lim, false, body, &c->err) != 0)
		return -1;
	if (!json_object_is_type(*body, json_type_object)) {
		dgen_err_set(&c->err, DGEN_EBADREQ, "Request body must be a JSON object");
		return -1;
	}
	return 0;
}

/* The bulk filter: the keys of the list's query parameters, as JSON
 * (ids as integers, bounds as numbers or numeric strings). */
static int body_filter(struct api_ctx *c, struct json_object *fo, struct dgen_record_filter *f)
{
	char name[DGEN_REC_FIELD_MAX + 16];

	memset(f, 0, sizeof *f);
	f->owner = dgen_caller_scope(c->who); /* a member's bulk touches only theirs */
	json_object_object_foreach(fo, key, val) {
		bool num = json_object_is_type(val, json_type_int) ||
			   json_object_is_type(val, json_type_double);
		const char *text = json_object_get_string(val);
		int64_t id = 0;
		int rc;

		snprintf(name, sizeof name, "filter.%.*s", DGEN_REC_FIELD_MAX + 4, key);
		if (strcmp(key, "job_id") == 0 || strcmp(key, "pipeline_id") == 0) {
			if (dgen_json_get_int(fo, "filter", key, false, 1, INT64_MAX, &id, &c->err))
				return -1;
			*(strcmp(key, "job_id") == 0 ? &f->job_id : &f->pipeline_id) = id;
			continue;
		}
		if (strcmp(key, "status") == 0) {
			if (!json_object_is_type(val, json_type_null) &&
			    (!json_object_is_type(val, json_type_string) ||
			     records_status_parse(text, &f->status) != 0))
				return bad_status(c, "'filter.status' is not a record status", "field",
						  name, text);
			continue;
		}
		if (!num && !json_object_is_type(val, json_type_string)) {
			dgen_err_set(&c->err, DGEN_EBADREQ, "'%s' must be a string or a number", name);
			return name_it(c, "field", name);
		}
		rc = filter_more(c, f, key, text, "field", name);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			dgen_err_set(&c->err, DGEN_EBADREQ,
				     "'%s' is not a filter: use status, job_id, pipeline_id, q, "
				     "min.<field> or max.<field>", name);
			return name_it(c, "field", name);
		}
	}
	return 0;
}

/*
 * POST /api/records/bulk {"filter": {...}, "set": {"status": ...}}: one
 * status for every record the filter matches, in one transaction. The
 * filter is required (an empty object means every record) so that a
 * body without it cannot touch everything by accident.
 */
static int bulk_request(struct api_ctx *c, struct json_object *body,
			struct dgen_record_filter *f, enum dgen_record_status *to)
{
	struct json_object *fo = NULL, *set = NULL;
	const char *status = NULL;

	if (dgen_json_get_obj(body, "", "filter", true, &fo, &c->err) != 0 ||
	    dgen_json_get_obj(body, "", "set", true, &set, &c->err) != 0 ||
	    dgen_json_get_str(set, "set", "status", true, &status, &c->err) != 0)
		return -1;
	if (records_status_parse(status, to) != 0)
		return bad_status(c, "'set.status' is not a record status", "field", "set.status",
				  status);
	if (json_object_object_length(set) != 1) {
		dgen_err_set(&c->err, DGEN_EBADREQ, "'set' takes only \"status\"");
		return name_it(c, "field", "set");
	}
	return body_filter(c, fo, f);
}

int api_records_bulk(struct api_ctx *c)
{
	struct json_object *body = NULL;
	struct dgen_record_filter f;
	enum dgen_record_status to = DGEN_REC_ANY;
	struct dgen_db *db;
	int64_t n = 0;
	bool done = object_body(c, &body) == 0 && bulk_request(c, body, &f, &to) == 0 &&
		    (db = api_db(c)) && records_bulk_status(db, &f, to, &n, &c->err) == 0;

	json_object_put(body);
	return done ? api_ok_member(c, "updated", json_object_new_int64(n)) : api_fail(c);
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
	struct dgen_db *db;
	const char *status = NULL;
	int st;

	if (object_body(c, &body) != 0)
		goto fail;
	if (dgen_json_get_str(body, "", "output", false, &u.output, &c->err) != 0 ||
	    dgen_json_get_str(body, "", "status", false, &status, &c->err) != 0 ||
	    dgen_json_get_obj(body, "", "metadata", false, &meta, &c->err) != 0)
		goto fail;
	if (status && records_status_parse(status, &u.status) != 0) {
		bad_status(c, "'status' is not a record status", "field", "status", status);
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
