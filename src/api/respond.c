/*
 * respond.c - status line, headers and JSON bodies (see respond.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/respond.h"

#define HDR_KEEP 4096

/* The one mapping from an error class to the HTTP status the API answers
 * it with (SPEC.md conventions). */
int respond_http_status(enum dgen_errcode code)
{
	switch (code) {
	case DGEN_OK:
		return 200;
	case DGEN_EBADREQ:
	case DGEN_EBLOCK:
		return 400;
	case DGEN_ENOTFOUND:
		return 404;
	case DGEN_EMETHOD:
		return 405;
	case DGEN_ECONFLICT:
		return 409;
	case DGEN_ETOOBIG:
		return 413;
	case DGEN_EMEDIA:
		return 415;
	case DGEN_EINVALID:
	case DGEN_ELIMIT:
		return 422;
	case DGEN_EBUSY:
		return 503;
	case DGEN_ELLM:
		return 502;
	case DGEN_ECANCELLED:
		return 409;
	case DGEN_EIO:
	case DGEN_EINTERNAL:
		return 500;
	case DGEN_EAUTH:
		return 401;
	case DGEN_EFORBIDDEN:
		return 403;
	case DGEN_EQUOTA:
		return 429;
	}
	return 500;
}

void respond_init(struct resp *r)
{
	memset(r, 0, sizeof(*r));
	dgen_buf_init(&r->hdr);
}

void respond_reset(struct resp *r, const struct req_io *io)
{
	struct dgen_buf hdr = r->hdr;

	dgen_buf_reset_keep(&hdr, HDR_KEEP);
	memset(r, 0, sizeof(*r));
	r->hdr = hdr;
	r->io = io;
}

void respond_free(struct resp *r)
{
	dgen_buf_free(&r->hdr);
	memset(r, 0, sizeof(*r));
}

const char *respond_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static bool header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

void respond_header(struct resp *r, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value))
		return;
	dgen_buf_printf(&r->hdr, "%s: %s\r\n", name, value);
}

static int out(struct resp *r, const char *p, size_t n)
{
	if (r->failed)
		return -1;
	if (n && r->io->write(r->io->ctx, p, n) != 0) {
		r->failed = true;
		return -1;
	}
	return 0;
}

int respond_start(struct resp *r, int status, const char *content_type)
{
	struct dgen_buf h = DGEN_BUF_INIT;
	int rc;

	if (r->started)
		return -1;
	r->started = true;
	r->status = status;
	dgen_buf_printf(&h, "Status: %d %s\r\n", status, respond_reason(status));
	dgen_buf_printf(&h, "Content-Type: %s\r\n", content_type);
	dgen_buf_puts(&h, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
	dgen_buf_append(&h, r->hdr.data ? r->hdr.data : "", r->hdr.len);
	dgen_buf_puts(&h, "\r\n");
	rc = out(r, h.data, h.len);
	dgen_buf_free(&h);
	return rc;
}

int respond_write(struct resp *r, const char *p, size_t n)
{
	if (out(r, p, n) != 0)
		return -1;
	r->bytes += n;
	return 0;
}

int respond_flush(struct resp *r)
{
	if (r->failed)
		return -1;
	if (r->io->flush && r->io->flush(r->io->ctx) != 0) {
		r->failed = true;
		return -1;
	}
	return 0;
}

int respond_json(struct resp *r, int status, struct json_object *body)
{
	const char *text = dgen_json_compact(body);

	if (respond_start(r, status, "application/json") == 0) {
		respond_write(r, text, strlen(text));
		respond_write(r, "\n", 1);
	}
	return status;
}

int respond_error(struct resp *r, const struct dgen_err *e)
{
	int status = respond_http_status(e->code);

	if (status < 400)
		status = 500; /* an error without a code is a bug */
	return respond_error_as(r, status, e);
}

int respond_error_as(struct resp *r, int status, const struct dgen_err *e)
{
	struct json_object *o;

	if (status == 503)
		respond_header(r, "Retry-After", "1");
	o = dgen_err_to_json(e);
	respond_json(r, status, o);
	json_object_put(o);
	return status;
}

int respond_error_msg(struct resp *r, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "detail", json_object_new_object());
	if (status == 503)
		respond_header(r, "Retry-After", "1");
	respond_json(r, status, o);
	json_object_put(o);
	return status;
}
