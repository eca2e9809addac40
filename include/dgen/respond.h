/*
 * respond.h - writing one HTTP response through the request's transport:
 * a CGI/FastCGI "Status:" line, headers, then a JSON document or a stream.
 *
 * Every error leaves as {"error": "...", "detail": {...}} built by
 * dgen_err_to_json(), with the status respond_http_status() gives its
 * code; a busy database (DGEN_EBUSY, 503) adds Retry-After: 1.
 *
 * Ownership: struct resp lives with the caller (one per worker, reused;
 * respond_reset() between requests). JSON bodies passed in are borrowed.
 * The req_io is borrowed for the duration of the request.
 */
#ifndef DGEN_RESPOND_H
#define DGEN_RESPOND_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "dgen/buf.h"
#include "dgen/err.h"
#include "dgen/request.h"

struct resp {
	const struct req_io *io;
	bool started;         /* status and headers are out */
	bool failed;          /* a write failed: the client went away */
	int status;           /* the status sent (0 before respond_start) */
	struct dgen_buf hdr;  /* extra headers queued for respond_start */
	size_t bytes;         /* body bytes written */
};

void respond_init(struct resp *r);
void respond_reset(struct resp *r, const struct req_io *io);
void respond_free(struct resp *r);

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *respond_reason(int status);
/* The HTTP status an error class is answered with. */
int respond_http_status(enum dgen_errcode code);

/* Queues a header for respond_start (name and value must not hold CR/LF:
 * they are dropped if they do). */
void respond_header(struct resp *r, const char *name, const char *value);

/* Writes the status line and headers (with the queued ones). Returns 0, or
 * -1 when the client is gone or headers were already sent. */
int respond_start(struct resp *r, int status, const char *content_type);
/* Body bytes after respond_start: 0 or -1 (client gone). */
int respond_write(struct resp *r, const char *p, size_t n);
/* Pushes what is buffered to the web server (streaming). */
int respond_flush(struct resp *r);

/* A whole JSON response (compact). Returns status. */
int respond_json(struct resp *r, int status, struct json_object *body);
/* The error response for e (status from its code). Returns the status. */
int respond_error(struct resp *r, const struct dgen_err *e);
/* The error response for e with a status chosen by the caller. */
int respond_error_as(struct resp *r, int status, const struct dgen_err *e);
/* An error response from a status and message, empty detail. */
int respond_error_msg(struct resp *r, int status, const char *msg);

#endif
