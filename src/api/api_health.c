/*
 * api_health.c - GET /api/health: the database answers and can be
 * written, and is a runner alive.
 */
#include "config.h"

#include <string.h>

#include "dgen/api.h"
#include "dgen/queue.h"

/* A runner heartbeat older than this means no runner is working the
 * queue (runners beat every few seconds while idle or busy). */
#define RUNNER_ALIVE_WITHIN_S 30

/* The request size limits of this server, so a client can refuse a file
 * too large before sending it instead of learning it from a 413. */
static struct json_object *limits_json(const struct api_ctx *c)
{
	struct json_object *l = json_object_new_object();

	json_object_object_add(l, "max_body", json_object_new_int64((int64_t)c->cfg->max_body));
	json_object_object_add(l, "max_upload",
			       json_object_new_int64((int64_t)c->cfg->max_upload));
	return l;
}

/* The runner part of the answer; {"alive": false} when it cannot be read. */
static struct json_object *runner_json(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;
	char last_seen[DGEN_ISO_LEN] = "";
	bool alive = false;
	struct json_object *o = json_object_new_object();

	if (db)
		queue_runner_status(db, RUNNER_ALIVE_WITHIN_S, &alive, last_seen, &err);
	json_object_object_add(o, "alive", json_object_new_boolean(alive));
	json_object_object_add(o, "last_seen",
			       last_seen[0] ? json_object_new_string(last_seen) : NULL);
	dgen_err_clear(&err);
	return o;
}

/*
 * Healthy: 200 {"status":"healthy","database":"ok",...}. A database that
 * cannot be reached or written (full disk, read-only filesystem, I/O
 * errors) is 503 with Retry-After and {"status":"degraded","database":
 * "full" | "read-only" | "error", "reason": ...}: writes fail until an
 * operator acts, so a balancer or a monitor must see it. A runner that is
 * down is reported but still healthy: the API serves all but new results.
 */
int api_health_get(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	enum db_storage state = DB_STORAGE_OK;
	struct json_object *o;
	int status = 200;

	if (!db || db_ping(db, &c->err) != 0) {
		/* a lock held past the timeout is busy, not degraded */
		if (c->err.code == DGEN_EBUSY && db_err_storage(&c->err) == DB_STORAGE_OK)
			return api_fail(c);
		state = db_err_storage(&c->err);
		if (state == DB_STORAGE_OK)
			state = DB_STORAGE_ERROR;
		else
			api_db_hint(&c->err, c->w->cfg->database_path);
	} else {
		state = db_storage_state(db);
	}
	o = json_object_new_object();
	if (state != DB_STORAGE_OK) {
		status = 503;
		json_object_object_add(o, "status", json_object_new_string("degraded"));
	} else {
		json_object_object_add(o, "status", json_object_new_string("healthy"));
	}
	json_object_object_add(o, "database", json_object_new_string(db_storage_name(state)));
	if (c->err.code != DGEN_OK) {
		struct json_object *hint = NULL;

		json_object_object_add(o, "reason", json_object_new_string(c->err.msg));
		if (c->err.detail && json_object_object_get_ex(c->err.detail, "hint", &hint))
			json_object_object_add(o, "hint", json_object_get(hint));
	}
	json_object_object_add(o, "runner", runner_json(state == DB_STORAGE_OK ? db : NULL));
	json_object_object_add(o, "limits", limits_json(c));
	dgen_err_clear(&c->err);
	return api_ok(c, status, o);
}
