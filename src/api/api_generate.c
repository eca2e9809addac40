/*
 * api_generate.c - POST /api/generate: a multipart upload of a seed file (or a
 * markdown document) for a pipeline becomes a queued job. The upload is
 * checked completely here, so a job never fails for a reason the user
 * could have been told at upload time; the runner executes it later.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "dgen/api.h"
#include "dgen/jobs.h"
#include "dgen/multipart.h"
#include "dgen/pipeline.h"
#include "dgen/route.h"
#include "dgen/seeds.h"
#include "dgen/util.h"

static int field_error(struct api_ctx *c, enum dgen_errcode code, const char *field,
		       const char *msg)
{
	dgen_err_set(&c->err, code, "%s", msg);
	dgen_err_detail_str(&c->err, "field", field);
	return -1;
}

/* Exactly one pipeline_id and one file, nothing else. */
static int check_fields(struct api_ctx *c, const struct multipart_part *parts, size_t n)
{
	static const char *const fields[] = { "pipeline_id", "file" };

	for (size_t i = 0; i < n; i++) {
		if (strcmp(parts[i].name, "pipeline_id") != 0 && strcmp(parts[i].name, "file") != 0) {
			struct json_object *allowed = json_object_new_array();

			json_object_array_add(allowed, json_object_new_string("pipeline_id"));
			json_object_array_add(allowed, json_object_new_string("file"));
			dgen_err_set(&c->err, DGEN_EBADREQ, "Unknown form field '%s'", parts[i].name);
			dgen_err_detail_str(&c->err, "field", parts[i].name);
			dgen_err_detail(&c->err, "allowed", allowed);
			return -1;
		}
	}
	for (size_t k = 0; k < 2; k++) {
		size_t count = multipart_count(parts, n, fields[k]);

		if (count == 0) {
			dgen_err_set(&c->err, DGEN_EBADREQ, "Form field '%s' is required", fields[k]);
			dgen_err_detail_str(&c->err, "field", fields[k]);
			return -1;
		}
		if (count > 1) {
			dgen_err_set(&c->err, DGEN_EBADREQ, "Form field '%s' appears more than once",
				     fields[k]);
			dgen_err_detail_str(&c->err, "field", fields[k]);
			return -1;
		}
	}
	return 0;
}

static bool has_ext(const char *filename, const char *ext)
{
	size_t n = filename ? strlen(filename) : 0, e = strlen(ext);

	return n > e && strcasecmp(filename + n - e, ext) == 0;
}

/* JSON or markdown: the extension decides when it is .json, .md or
 * .markdown; otherwise the content does (a JSON seed file starts with '['
 * or '{', after blanks and an optional UTF-8 byte order mark). */
static enum dgen_input_kind file_kind(const struct multipart_part *f, size_t *skip)
{
	const unsigned char *p = (const unsigned char *)f->data, *end = p + f->len;

	*skip = 0;
	if (f->len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		*skip = 3; /* the byte order mark is not part of the JSON */
	if (has_ext(f->filename, ".json"))
		return DGEN_INPUT_JSON;
	if (has_ext(f->filename, ".md") || has_ext(f->filename, ".markdown"))
		return DGEN_INPUT_MARKDOWN;
	for (p += *skip; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return (*p == '[' || *p == '{') ? DGEN_INPUT_JSON : DGEN_INPUT_MARKDOWN;
	return DGEN_INPUT_MARKDOWN;
}

/* What the form sent: the pipeline id and the seed file. */
struct upload {
	int64_t pid;
	enum dgen_input_kind kind;
	const char *data; /* into the request body, after any byte order mark */
	size_t len;
};

/* Reads the multipart form into u. Refuses a pipeline_id that is not a
 * positive integer, an empty file and one that is not UTF-8 text, each
 * naming the form field. */
static int read_upload(struct api_ctx *c, struct upload *u)
{
	struct req *r = c->req;
	const char *boundary;
	struct multipart_part *parts;
	const struct multipart_part *pid_part, *file;
	char *pid_text;
	size_t n, skip;

	if (multipart_boundary(r->content_type, &r->arena, &boundary, &c->err) != 0 ||
	    request_read_body(r, c->cfg->max_upload, &c->err) != 0 ||
	    multipart_parse(r->body.data ? r->body.data : "", r->body.len, boundary,
			    &multipart_default_limits, &r->arena, &parts, &n, &c->err) != 0 ||
	    check_fields(c, parts, n) != 0)
		return -1;
	pid_part = multipart_find(parts, n, "pipeline_id");
	pid_text = arena_strndup(&r->arena, pid_part->data, pid_part->len);
	if (memchr(pid_part->data, '\0', pid_part->len) || route_parse_id(pid_text, &u->pid) != 0)
		return field_error(c, DGEN_EBADREQ, "pipeline_id",
				   "'pipeline_id' must be a positive integer");
	file = multipart_find(parts, n, "file");
	if (file->len == 0)
		return field_error(c, DGEN_EBADREQ, "file", "The uploaded file is empty");
	u->kind = file_kind(file, &skip);
	u->data = file->data + skip;
	u->len = file->len - skip;
	if (!dgen_utf8_valid(u->data, u->len))
		return field_error(c, DGEN_EBADREQ, "file",
				   "The uploaded file must be UTF-8 text without NUL bytes");
	return 0;
}

/* The seeds of the upload, checked now so that a bad file is refused
 * before a job exists; *units receives their units. A JSON file is checked
 * seed by seed (seeds_check), so the check costs one seed's memory, not a
 * tree of the whole file. A markdown file only makes sense for a pipeline
 * that starts with a multiplier, which cuts it into seeds. */
static int read_seeds(struct api_ctx *c, const struct upload *u, const struct dgen_pipeline *p,
		      long long *units)
{
	struct dgen_json_limits jlim;
	struct dgen_seed_limits slim;
	struct dgen_seeds md;
	int rc;

	api_json_limits(c, &jlim);
	jlim.max_bytes = c->cfg->max_upload;
	api_seed_limits(c, &slim);
	if (u->kind == DGEN_INPUT_JSON)
		return seeds_check(u->data, u->len, &jlim, &slim, units, &c->err);
	if (!pipeline_is_multiplier(p)) {
		dgen_err_set(&c->err, DGEN_EINVALID,
			     "A markdown file needs a pipeline whose first block is a "
			     "multiplier (MarkdownMultiplierBlock); upload a .json seed file "
			     "for this one");
		dgen_err_detail_str(&c->err, "field", "file");
		dgen_err_detail_int(&c->err, "pipeline_id", u->pid);
		return -1;
	}
	rc = seeds_from_markdown(u->data, u->len, &md, &c->err);
	*units = md.total_units;
	seeds_free(&md);
	return rc;
}

int api_generate(struct api_ctx *c)
{
	struct dgen_pipeline *p = NULL;
	long long units = 0;
	struct dgen_job_new job;
	struct dgen_db *db;
	struct upload u;
	int64_t job_id;
	bool existed = false;
	int st;

	if (read_upload(c, &u) != 0 || api_load_pipeline(c, u.pid, &p) != 0 ||
	    read_seeds(c, &u, p, &units) != 0 || api_job_quota(c, units) != 0)
		goto fail;
	memset(&job, 0, sizeof job);
	job.pipeline_id = u.pid;
	job.input_kind = u.kind;
	job.input = u.data;
	job.input_len = u.len;
	job.units = NULL;
	/* a multiplier's chunks are only known once it runs: the runner counts */
	job.total_seeds = pipeline_is_multiplier(p) ? 0 : units;
	job.idempotency_key = c->req->idempotency_key;
	if (!(db = api_db(c)) || jobs_insert(db, c->who, &job, &job_id, &existed, &c->err) != 0) {
		if (c->err.code == DGEN_ENOTFOUND) {
			dgen_err_set(&c->err, DGEN_ENOTFOUND, "Pipeline %lld not found",
				     (long long)u.pid);
			dgen_err_detail_int(&c->err, "pipeline_id", u.pid);
		}
		goto fail;
	}
	st = api_ok_member(c, "job_id", json_object_new_int64(job_id));
	goto out;
fail:
	st = api_fail(c);
out:
	pipeline_free(p);
	return st;
}
