/*
 * dispatch.c - one request from parse to response: parse, authenticate,
 * route, run the handler, answer (see api.h). Kept apart from api.c, whose
 * helpers the handlers use, so that the handlers (api_accounts.c among
 * them) and the dispatcher that calls them do not depend on each other.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#ifdef __GLIBC__ /* known once a libc header is in */
#include <malloc.h>
#endif

#include "dgen/api.h"
#include "dgen/clock.h"
#include "dgen/log.h"
#include "dgen/route.h"

/* A request with a large body (an upload up to DGEN_MAX_UPLOAD) leaves
 * freed memory that glibc keeps in the worker's heap; a pooled worker lives
 * long, so it is handed back to the kernel at once. */
static void give_back_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* Parse, route, run, answer; whatever the handler leaves unsaid becomes an
 * error response here, so every request gets exactly one response. */
int api_handle(struct api_worker *w, const struct req_io *io, bool is_cgi)
{
	struct api_ctx c;
	struct route_match m;
	double t0 = dgen_clock_mono();
	int status;
	bool big;

	memset(&c, 0, sizeof(c));
	c.w = w;
	c.req = &w->req;
	c.resp = &w->resp;
	c.cfg = w->cfg;
	dgen_err_init(&c.err);
	w->req.is_cgi = is_cgi;
	respond_reset(&w->resp, io);

	if (request_parse(&w->req, io, &c.err) != 0) {
		status = api_fail(&c);
		goto out;
	}
	/* HEAD is GET without the body; the web server drops the body. */
	if (route_match(strcmp(w->req.method, "HEAD") == 0 ? "GET" : w->req.method, w->req.path,
			&w->req.arena, &m, &c.err) != 0) {
		if (c.err.code == DGEN_EMETHOD)
			respond_header(&w->resp, "Allow", m.allow);
		status = api_fail(&c);
		goto out;
	}
	c.id = m.id;
	c.name = m.name;
	if ((status = api_authenticate(&c, m.route->flags)) != 0)
		goto out;
	status = m.route->handler(&c);
out:
	if (!w->resp.started) {
		if (status < 400 || c.err.code == DGEN_OK) {
			/* a handler that neither answered nor said why: a bug */
			dgen_error("%s %s: handler returned %d without a response",
				   w->req.method ? w->req.method : "-",
				   w->req.path ? w->req.path : "-", status);
			status = respond_error_msg(&w->resp, 500, "Internal error");
		} else {
			/* a database that will not write says why when permissions
			 * are the cause (a shared host's usual mistake) */
			if (db_err_storage(&c.err) != DB_STORAGE_OK)
				api_db_hint(&c.err, w->cfg->database_path);
			status = respond_error(&w->resp, &c.err);
		}
	}
	if (status >= 500)
		dgen_error("%s %s -> %d: %s", w->req.method ? w->req.method : "-",
			   w->req.path ? w->req.path : "-", status, c.err.msg);
	else
		dgen_debug("%s %s -> %d (%.1f ms)", w->req.method ? w->req.method : "-",
			   w->req.path ? w->req.path : "-", status,
			   (dgen_clock_mono() - t0) * 1000.0);
	dgen_err_clear(&c.err);
	api_forget_secrets(&c);
	big = w->req.body.len >= API_TRIM_BYTES;
	request_reset(&w->req);
	if (big)
		give_back_memory();
	w->requests++;
	return status;
}
