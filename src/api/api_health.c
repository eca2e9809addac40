/*
 * api_health.c - GET /api/health: the database answers, and is a runner alive.
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

/* A database that cannot be reached is 503, so a load balancer takes the
 * worker out; a runner that is down is reported but still healthy: the
 * API can serve everything but new results. */
int api_health_get(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	char last_seen[DGEN_ISO_LEN] = "";
	bool alive = false;
	struct json_object *o, *runner;

	if (!db || db_ping(db, &c->err) != 0) {
		/* the API cannot serve anything useful: tell the balancer */
		if (c->err.code != DGEN_EBUSY) {
			char why[DGEN_ERR_MSG_MAX];

			memcpy(why, c->err.msg, sizeof why);
			why[sizeof why - 1] = '\0';
			dgen_err_set(&c->err, DGEN_EBUSY, "Database is not available");
			dgen_err_detail_str(&c->err, "reason", why);
		}
		return api_fail(c);
	}
	if (queue_runner_status(db, RUNNER_ALIVE_WITHIN_S, &alive, last_seen, &c->err) != 0)
		return api_fail(c);
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("healthy"));
	json_object_object_add(o, "database", json_object_new_string("ok"));
	runner = json_object_new_object();
	json_object_object_add(runner, "alive", json_object_new_boolean(alive));
	json_object_object_add(runner, "last_seen",
			       last_seen[0] ? json_object_new_string(last_seen) : NULL);
	json_object_object_add(o, "runner", runner);
	json_object_object_add(o, "limits", limits_json(c));
	return api_ok(c, 200, o);
}
