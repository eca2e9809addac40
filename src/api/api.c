/*
 * api.c - what every handler shares: the worker's resources (database,
 * execution environment, templates, the execute allowance) and the
 * answering helpers (see api.h). The dispatcher is dispatch.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dgen/api.h"
#include "dgen/blocks.h"
#include "dgen/clock.h"
#include "dgen/log.h"
#include "dgen/route.h"
#include "dgen/util.h"

void api_worker_init(struct api_worker *w, const struct dgen_config *cfg)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->execute_slots = API_EXECUTE_CGI;
	w->execute_fd = -1;
	request_init(&w->req);
	respond_init(&w->resp);
}

int api_execute_allowance(int workers)
{
	return workers / 2 > 1 ? workers / 2 : 1;
}

void api_worker_set_workers(struct api_worker *w, int workers)
{
	w->execute_slots = api_execute_allowance(workers);
}

/* One byte-range lock on the slot file: F_OFD_SETLK, so the lock belongs
 * to this open file (never shared with another worker, never dropped by
 * closing some other descriptor of the file). */
static int slot_lock(int fd, int slot, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = slot;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

int api_execute_enter(struct api_ctx *c)
{
	struct api_worker *w = c->w;
	static bool warned;

	if (w->execute_fd < 0) {
		char *path = dgen_config_store_file(w->cfg, "execute");

		w->execute_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (w->execute_fd < 0 && !warned) {
			dgen_warn("cannot open %s (%s): executes run without an allowance", path,
				  strerror(errno));
			warned = true;
		}
		free(path);
		if (w->execute_fd < 0)
			return -2;
	}
	for (int i = 0; i < w->execute_slots; i++)
		if (slot_lock(w->execute_fd, i, F_WRLCK) == 0)
			return i;
	dgen_err_set(&c->err, DGEN_EBUSY,
		     "Too many pipeline executions at once (%d); try again later",
		     w->execute_slots);
	dgen_err_detail_int(&c->err, "limit", w->execute_slots);
	return -1;
}

void api_execute_leave(struct api_ctx *c, int slot)
{
	if (slot >= 0 && c->w->execute_fd >= 0)
		slot_lock(c->w->execute_fd, slot, F_UNLCK);
}

void api_worker_free(struct api_worker *w)
{
	if (w->execute_fd >= 0)
		close(w->execute_fd);
	exec_handle_free(w->llm);
	exec_free(w->exec);
	if (w->templates_loaded)
		catalog_free(&w->templates);
	db_close(w->db);
	request_free(&w->req);
	respond_free(&w->resp);
	memset(w, 0, sizeof(*w));
}

/* The database is opened on first use, in the process that uses it (a
 * worker after fork, or the CGI process). A failed open is retried by the
 * next request: the database may have been locked or missing only briefly. */
struct dgen_db *api_db(struct api_ctx *c)
{
	struct api_worker *w = c->w;

	if (!w->db && db_open(&w->db, w->cfg->database_path, w->cfg->db_busy_timeout_ms,
			      &c->err) != 0) {
		w->db = NULL;
		dgen_error("cannot open database %s: %s", w->cfg->database_path, c->err.msg);
		/* Not the client's fault and not a bug: the service is unavailable
		 * until an operator fixes the database (503 + Retry-After). The
		 * answer says so and what to check, but not where the database is
		 * nor the driver's words (a server's host, user and address):
		 * those are for the log above, not for any caller. */
		if (c->err.code != DGEN_EBUSY) {
			dgen_err_set(&c->err, DGEN_EBUSY,
				     "The database is unavailable; try again later");
			dgen_err_detail_str(&c->err, "reason", "database cannot be opened");
		} else if (db_err_storage(&c->err) == DB_STORAGE_UNAVAILABLE) {
			snprintf(c->err.msg, sizeof c->err.msg,
				 "The database is unavailable; retry in a moment");
		} else {
			return NULL; /* busy: its own message says so */
		}
		api_db_hint(&c->err, w->cfg->database_path);
		return NULL;
	}
	return w->db;
}

struct dgen_exec *api_exec(struct api_ctx *c)
{
	struct api_worker *w = c->w;

	if (!w->exec)
		w->exec = exec_new(w->cfg, blocks_registry());
	return w->exec;
}

struct dgen_registry *api_registry(struct api_ctx *c)
{
	return exec_registry(api_exec(c));
}

struct dgen_catalog *api_templates(struct api_ctx *c)
{
	struct api_worker *w = c->w;

	if (!w->templates_loaded) {
		catalog_load(w->cfg->templates_dir, w->cfg->user_templates_dir, &w->templates);
		w->templates_loaded = true;
	}
	return &w->templates;
}

void api_json_limits(const struct api_ctx *c, struct dgen_json_limits *lim)
{
	*lim = dgen_json_default_limits;
	lim->max_bytes = c->cfg->max_body;
	if (c->cfg->json_depth > 0)
		lim->max_depth = c->cfg->json_depth;
	if (c->cfg->max_string > 0)
		lim->max_string = c->cfg->max_string;
}

int api_page_params(struct api_ctx *c, int64_t *limit, int64_t *offset)
{
	long long l, o;

	if (request_param_int(c->req, "limit", 1, API_PAGE_MAX, API_PAGE_DEFAULT, &l, &c->err) != 0 ||
	    request_param_int(c->req, "offset", 0, INT64_MAX, 0, &o, &c->err) != 0)
		return -1;
	*limit = l;
	*offset = o;
	return 0;
}

int api_ok_page(struct api_ctx *c, int64_t total, struct json_object *arr)
{
	char n[24];

	snprintf(n, sizeof n, "%lld", (long long)total);
	respond_header(c->resp, "X-Total-Count", n);
	return api_ok(c, 200, arr);
}

int api_ok(struct api_ctx *c, int status, struct json_object *body)
{
	respond_json(c->resp, status, body);
	json_object_put(body);
	return status;
}

int api_ok_member(struct api_ctx *c, const char *key, struct json_object *val)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, key, val);
	return api_ok(c, 200, o);
}

int api_fail(struct api_ctx *c)
{
	int st = respond_http_status(c->err.code);

	return st < 400 ? 500 : st;
}

int api_failf(struct api_ctx *c, enum dgen_errcode code, const char *fmt, ...)
{
	va_list ap;
	char msg[DGEN_ERR_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dgen_err_set(&c->err, code, "%s", msg);
	return api_fail(c);
}
