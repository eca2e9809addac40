/*
 * api_export.c - GET /api/export and /api/export/download: every matching
 * record as one JSON line, streamed. The store reads keyset pages in short
 * read transactions; each page goes out and is flushed before the next is
 * read, so memory stays flat whatever the record count and writers are
 * never held up for the length of a download.
 */
#include "config.h"

#include <string.h>

#include "dgen/api.h"
#include "dgen/log.h"
#include "dgen/records.h"

#define PAGE 500
#define FLUSH_BYTES (64 * 1024)

/* The first line is read before the headers go out, so a failure to start
 * (busy database, bad filter) still gets a real error status; a failure
 * later can only cut the stream short, and is logged. */
static int stream(struct api_ctx *c, bool download)
{
	struct dgen_record_filter f;
	struct dgen_records_iter *it = NULL;
	struct json_object *line = NULL;
	struct dgen_db *db;
	size_t pending = 0;
	long long lines = 0;
	int rc, st;

	if (api_record_filter(c, &f) != 0 || !(db = api_db(c)) ||
	    records_iter_open(db, c->who, &f, PAGE, &it, &c->err) != 0)
		return api_fail(c);
	rc = records_iter_next(it, &line, &c->err);
	if (rc < 0) {
		st = api_fail(c);
		goto out;
	}
	if (download)
		respond_header(c->resp, "Content-Disposition",
			       "attachment; filename=\"dgen_export.jsonl\"");
	st = 200;
	if (respond_start(c->resp, 200, "application/x-ndjson") != 0)
		goto out;
	while (rc == 1) {
		const char *text = dgen_json_compact(line);
		size_t n = strlen(text);

		if (respond_write(c->resp, text, n) != 0 || respond_write(c->resp, "\n", 1) != 0)
			goto out; /* the client went away */
		json_object_put(line);
		line = NULL;
		lines++;
		pending += n + 1;
		if (pending >= FLUSH_BYTES) {
			if (respond_flush(c->resp) != 0)
				goto out;
			pending = 0;
		}
		rc = records_iter_next(it, &line, &c->err);
	}
	if (rc < 0)
		dgen_error("export stopped after %lld lines: %s", lines, c->err.msg);
	respond_flush(c->resp);
out:
	json_object_put(line);
	records_iter_free(it);
	return st;
}

int api_export(struct api_ctx *c)
{
	return stream(c, false);
}

int api_export_download(struct api_ctx *c)
{
	return stream(c, true);
}
