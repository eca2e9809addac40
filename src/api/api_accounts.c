/*
 * api_accounts.c - who is asking (SPEC.md §8): the authentication step of
 * the dispatcher, the cross-site rule, the quotas, and the auth, users
 * and tokens resources.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dgen/accounts.h"
#include "dgen/api.h"
#include "dgen/log.h"
#include "dgen/route.h"
#include "dgen/util.h"

#define COOKIE_NAME "dgen_session"

/* ---- authentication ---------------------------------------------------- */

/* 401 with the challenge SPEC.md §8 asks for. */
static int unauthorized(struct api_ctx *c, const char *msg, bool invalid)
{
	respond_header(c->resp, "WWW-Authenticate",
		       invalid ? "Bearer error=\"invalid_token\"" : "Bearer");
	if (msg)
		dgen_err_set(&c->err, DGEN_EAUTH, "%s", msg);
	return 401;
}

/* The value of cookie name in a Cookie header ("a=1; b=2"), copied into
 * the request arena; NULL when absent. */
static const char *cookie_value(struct api_ctx *c, const char *header, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = header; p && *p;) {
		const char *end;

		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=')
			return arena_strndup(&c->req->arena, p + n + 1, (size_t)(end - p) - n - 1);
		p = end;
	}
	return NULL;
}

/* The host[:port] of an Origin ("https://example.org:8443"); NULL for
 * "null" or anything without a scheme. */
static const char *origin_host(const char *origin)
{
	const char *p = strstr(origin, "://");

	return p && p[3] ? p + 3 : NULL;
}

/* The site's own host[:port] as the client reached it: nginx's
 * X-Forwarded-Host when a proxy in front sets it, else Host. */
static const char *site_host(struct api_ctx *c, size_t *len)
{
	const char *h = request_env(c->req, "HTTP_X_FORWARDED_HOST");

	if (!h)
		h = request_env(c->req, "HTTP_HOST");
	if (!h)
		return NULL;
	*len = strcspn(h, ", ");
	return h;
}

/*
 * SPEC.md §8's cross-site rule: a state-changing request carried by the
 * session cookie must carry X-Requested-With (a cross-site form cannot
 * set it, and a cross-site script that sets it needs a CORS preflight we
 * never grant), and when it says where it comes from (Origin), that must
 * be this site. Bearer requests are not cookie-bound: the browser never
 * adds a token by itself.
 */
static int cross_site_check(struct api_ctx *c)
{
	const char *m = c->req->method, *origin, *oh, *sh;
	size_t sn = 0;

	if (!c->by_cookie || strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return 0;
	if (!request_env(c->req, "HTTP_X_REQUESTED_WITH")) {
		dgen_err_set(&c->err, DGEN_EFORBIDDEN,
			     "A request with the session cookie that changes something needs "
			     "the X-Requested-With header");
		dgen_err_detail_str(&c->err, "reason", "cross-site");
		return 403;
	}
	origin = request_env(c->req, "HTTP_ORIGIN");
	if (!origin)
		return 0;
	oh = origin_host(origin);
	sh = site_host(c, &sn);
	if (oh && sh && strlen(oh) == sn && strncasecmp(oh, sh, sn) == 0)
		return 0;
	dgen_err_set(&c->err, DGEN_EFORBIDDEN, "Cross-site request refused: Origin is not this site");
	dgen_err_detail_str(&c->err, "reason", "cross-site");
	return 403;
}

/* Who a bearer token or the session cookie says the caller is; 0, or 401
 * with c->err set. The secret is registered with the logger for the
 * length of the request (api_forget_secrets). */
static int identify(struct api_ctx *c)
{
	const char *auth = request_env(c->req, "HTTP_AUTHORIZATION");
	/* Apache with a .htaccess only: the header handed over by the api
	 * rewrite (contrib/apache/htaccess.in) */
	if (!auth && c->req->is_cgi)
		auth = request_env(c->req, "REDIRECT_HTTP_AUTHORIZATION");
	const char *cookies = request_env(c->req, "HTTP_COOKIE");
	struct dgen_db *db;

	if (auth) {
		const char *tok = auth;

		if (strncasecmp(tok, "Bearer ", 7) != 0)
			return unauthorized(c, "Authorization must be 'Bearer <token>'", true);
		tok += 7;
		while (*tok == ' ')
			tok++;
		c->secret = arena_strdup(&c->req->arena, tok);
		dgen_log_secret(tok);
		if (!(db = api_db(c)))
			return api_fail(c);
		if (tokens_authenticate(db, tok, &c->caller, &c->err) != 0)
			return c->err.code == DGEN_EAUTH ? unauthorized(c, NULL, true) : api_fail(c);
		return 0;
	}
	c->session = cookies ? cookie_value(c, cookies, COOKIE_NAME) : NULL;
	if (!c->session)
		return unauthorized(c, "Authentication required: log in, or send "
				       "'Authorization: Bearer <token>'", false);
	c->secret = arena_strdup(&c->req->arena, c->session);
	dgen_log_secret(c->session);
	if (!(db = api_db(c)))
		return api_fail(c);
	if (sessions_authenticate(db, c->session, c->cfg->session_idle_s, c->cfg->session_max_s,
				  &c->caller, &c->err) != 0)
		return c->err.code == DGEN_EAUTH ? unauthorized(c, NULL, false) : api_fail(c);
	c->by_cookie = true;
	return 0;
}

int api_authenticate(struct api_ctx *c, unsigned flags)
{
	int st;

	if (flags & ROUTE_PUBLIC)
		return 0;
	if ((st = identify(c)) != 0)
		return st;
	c->who = &c->caller;
	if ((flags & ROUTE_ADMIN) && !c->caller.admin) {
		dgen_err_set(&c->err, DGEN_EFORBIDDEN, "Only an admin may do this");
		return 403;
	}
	if ((st = cross_site_check(c)) != 0)
		return st;
	/* An admin's reads may narrow to one owner (lists, counts, exports). */
	if (strcmp(c->req->method, "GET") == 0 && api_list_scope(c) != 0)
		return api_fail(c);
	return 0;
}

void api_forget_secrets(struct api_ctx *c)
{
	if (c->secret)
		dgen_log_secret_forget(c->secret);
	if (c->password)
		dgen_log_secret_forget(c->password);
}

int api_list_scope(struct api_ctx *c)
{
	const char *owner = request_param(c->req, "owner");
	struct dgen_user u;
	struct dgen_db *db;

	if (!owner || !c->who || !c->who->admin)
		return 0;
	if (!(db = api_db(c)))
		return -1;
	if (users_get(db, owner, &u, &c->err) != 0)
		return -1;
	c->scoped.user_id = u.id;
	c->scoped.admin = false;
	c->who = &c->scoped;
	return 0;
}

/* ---- quotas ------------------------------------------------------------ */

void api_quota_defaults(const struct api_ctx *c, struct dgen_quotas *q)
{
	q->jobs = c->cfg->quota_jobs;
	q->executions = c->cfg->quota_executions;
	q->inflight = c->cfg->quota_inflight > 0 ? c->cfg->quota_inflight
						 : c->cfg->runner_concurrency;
}

static int quota_fail(struct api_ctx *c, const char *quota, int64_t limit, const char *what)
{
	dgen_err_set(&c->err, DGEN_EQUOTA, "Quota reached: %s (%lld)", what, (long long)limit);
	dgen_err_detail_str(&c->err, "quota", quota);
	dgen_err_detail_int(&c->err, "limit", limit);
	respond_header(c->resp, "Retry-After", "60");
	return -1;
}

int api_job_quota(struct api_ctx *c, int64_t executions)
{
	struct dgen_quotas def;
	struct dgen_user u;
	struct dgen_db *db = api_db(c);
	int64_t active = 0, max_jobs, max_exec;

	if (!db)
		return -1;
	if (!c->who)
		return 0;
	api_quota_defaults(c, &def);
	if (users_get_id(db, c->caller.user_id, &u, &c->err) != 0)
		return -1;
	max_jobs = u.quotas.jobs > 0 ? u.quotas.jobs : def.jobs;
	max_exec = u.quotas.executions > 0 ? u.quotas.executions : def.executions;
	if (executions > max_exec)
		return quota_fail(c, "executions", max_exec, "executions per job");
	if (accounts_active_jobs(db, c->caller.user_id, &active, &c->err) != 0)
		return -1;
	if (active >= max_jobs)
		return quota_fail(c, "jobs", max_jobs, "jobs queued or running");
	return 0;
}

/* ---- request bodies ---------------------------------------------------- */

static int body_json(struct api_ctx *c, struct json_object **out)
{
	struct dgen_json_limits lim;

	api_json_limits(c, &lim);
	return request_json_body(c->req, &lim, false, out, &c->err);
}

/* A string member with its length (so a NUL inside is seen); *s stays
 * NULL when absent and not required. */
static int get_text(struct api_ctx *c, struct json_object *body, const char *key,
		    bool required, const char **s, size_t *len)
{
	struct json_object *v;

	*s = NULL;
	*len = 0;
	if (dgen_json_get_str(body, "", key, required, s, &c->err) != 0)
		return -1;
	if (*s && json_object_object_get_ex(body, key, &v))
		*len = (size_t)json_object_get_string_len(v);
	return 0;
}

/* The password member: checked, and kept out of the logs. */
static int get_password(struct api_ctx *c, struct json_object *body, bool required,
			const char **pw, bool check)
{
	size_t len;

	if (get_text(c, body, "password", required, pw, &len) != 0)
		return -1;
	if (!*pw)
		return 0;
	if (len > ACCOUNTS_PASSWORD_MAX || strlen(*pw) != len || check)
		if (accounts_check_password(*pw, len, &c->err) != 0)
			return -1;
	/* a copy that lives as long as the request, not as the body's JSON,
	 * so it can be forgotten by the logger when the request ends */
	c->password = arena_strdup(&c->req->arena, *pw);
	dgen_log_secret(*pw);
	return 0;
}

/* ---- /api/auth --------------------------------------------------------- */

static bool behind_https(struct api_ctx *c)
{
	const char *https = request_env(c->req, "HTTPS");
	const char *proto = request_env(c->req, "HTTP_X_FORWARDED_PROTO");

	return (https && strcasecmp(https, "on") == 0) || (proto && strcasecmp(proto, "https") == 0);
}

static void set_cookie(struct api_ctx *c, const char *value, long max_age)
{
	char *v = dgen_xasprintf("%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%ld%s",
				 COOKIE_NAME, value, max_age, behind_https(c) ? "; Secure" : "");

	respond_header(c->resp, "Set-Cookie", v);
	free(v);
}

/* 429 for a spent login budget (the key's failures within the window). */
static int throttled(struct api_ctx *c, struct dgen_db *db, const char *key, int64_t limit)
{
	int64_t retry = 0;
	char n[24];

	if (accounts_throttle_check(db, key, limit, &retry, &c->err) == 0)
		return 0;
	if (c->err.code == DGEN_EQUOTA) {
		snprintf(n, sizeof n, "%lld", (long long)retry);
		respond_header(c->resp, "Retry-After", n);
	}
	return -1;
}

/*
 * POST /api/auth/login. Both budgets (the name's and the client
 * address's) are checked before the password is; a failure counts
 * against both. Unknown name, wrong password and disabled user answer the
 * same 401 after the same Argon2id work.
 */
int api_auth_login(struct api_ctx *c)
{
	struct json_object *body = NULL, *user;
	struct dgen_db *db;
	struct dgen_user u;
	struct dgen_err ferr = DGEN_ERR_INIT;
	const char *name, *pw, *addr = request_env(c->req, "REMOTE_ADDR");
	char *kname = NULL, *kaddr = NULL, sid[ACCOUNTS_SESSION_LEN + 1];
	size_t nlen;
	int st = -1;

	if (body_json(c, &body) != 0 || get_text(c, body, "name", true, &name, &nlen) != 0 ||
	    get_password(c, body, true, &pw, false) != 0)
		goto out;
	if (nlen > ACCOUNTS_NAME_MAX || strlen(name) != nlen) {
		accounts_check_name(name, nlen, "name", &c->err);
		goto out;
	}
	if (!(db = api_db(c)))
		goto out;
	kname = dgen_xasprintf("name:%s", name);
	kaddr = dgen_xasprintf("addr:%s", addr ? addr : "-");
	if (throttled(c, db, kname, ACCOUNTS_FAIL_PER_NAME) != 0 ||
	    throttled(c, db, kaddr, ACCOUNTS_FAIL_PER_ADDR) != 0)
		goto out;
	if (users_verify(db, name, pw, &u, &c->err) != 0) {
		if (c->err.code == DGEN_EAUTH) {
			accounts_throttle_fail(db, kname, &ferr);
			accounts_throttle_fail(db, kaddr, &ferr);
			dgen_err_clear(&ferr);
			dgen_info("login refused for a name from %s", addr ? addr : "-");
		}
		goto out;
	}
	accounts_throttle_clear(db, kname, &ferr);
	dgen_err_clear(&ferr);
	if (sessions_create(db, u.id, c->cfg->session_max_s, sid, &c->err) != 0)
		goto out;
	set_cookie(c, sid, c->cfg->session_max_s);
	explicit_bzero(sid, sizeof sid);
	user = json_object_new_object();
	json_object_object_add(user, "name", json_object_new_string(u.name));
	json_object_object_add(user, "role", json_object_new_string(u.admin ? "admin" : "member"));
	st = api_ok_member(c, "user", user);
out:
	free(kname);
	free(kaddr);
	json_object_put(body);
	if (st < 0)
		return c->err.code == DGEN_EAUTH ? unauthorized(c, NULL, false) : api_fail(c);
	return st;
}

int api_auth_logout(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);

	if (!db)
		return api_fail(c);
	if (c->by_cookie && c->session && sessions_end(db, c->session, &c->err) != 0)
		return api_fail(c);
	if (c->by_cookie)
		set_cookie(c, "", 0);
	return api_ok_member(c, "success", json_object_new_boolean(true));
}

int api_auth_me(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	struct dgen_quotas def;
	struct dgen_user u;
	struct json_object *o;

	if (!db || users_get_id(db, c->caller.user_id, &u, &c->err) != 0)
		return api_fail(c);
	api_quota_defaults(c, &def);
	o = users_json(&u, &def);
	json_object_object_del(o, "disabled");
	json_object_object_del(o, "created_at");
	return api_ok(c, 200, o);
}

/* ---- /api/users (admin) ------------------------------------------------ */

static int parse_role(struct api_ctx *c, const char *role, bool *admin)
{
	if (strcmp(role, "admin") == 0 || strcmp(role, "member") == 0) {
		*admin = role[0] == 'a';
		return 0;
	}
	dgen_err_set(&c->err, DGEN_EINVALID, "role must be 'admin' or 'member'");
	dgen_err_detail_str(&c->err, "field", "role");
	return -1;
}

int api_users_list(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	struct dgen_quotas def;
	struct json_object *arr;

	api_quota_defaults(c, &def);
	if (!db || users_list(db, &def, &arr, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, arr);
}

/* The user JSON of name, answered with status. */
static int answer_user(struct api_ctx *c, struct dgen_db *db, const char *name, int status)
{
	struct dgen_quotas def;
	struct dgen_user u;

	api_quota_defaults(c, &def);
	if (users_get(db, name, &u, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, status, users_json(&u, &def));
}

int api_users_create(struct api_ctx *c)
{
	static const char *const keys[] = { "name", "password", "role", NULL };
	struct json_object *body = NULL;
	struct dgen_db *db;
	const char *name, *pw, *role = "member";
	size_t nlen, rlen;
	bool admin = false;
	int st;

	if (body_json(c, &body) != 0 || dgen_json_only_keys(body, "", keys, &c->err) != 0 ||
	    get_text(c, body, "name", true, &name, &nlen) != 0 ||
	    accounts_check_name(name, nlen, "name", &c->err) != 0 ||
	    get_password(c, body, true, &pw, true) != 0 ||
	    get_text(c, body, "role", false, &role, &rlen) != 0 ||
	    parse_role(c, role ? role : "member", &admin) != 0 || !(db = api_db(c)) ||
	    users_add(db, name, pw, admin, NULL, &c->err) != 0) {
		json_object_put(body);
		return api_fail(c);
	}
	st = answer_user(c, db, name, 201);
	json_object_put(body);
	return st;
}

/* The quotas member of PUT /api/users/{name}: each of jobs, executions,
 * llm_in_flight a positive integer, or null / 0 for the default. */
static int read_quotas(struct api_ctx *c, struct json_object *q, struct dgen_quotas *out)
{
	static const char *const keys[] = { "jobs", "executions", "llm_in_flight", NULL };
	static const char *const names[] = { "jobs", "executions", "llm_in_flight" };
	int64_t *fields[] = { &out->jobs, &out->executions, &out->inflight };

	if (dgen_json_only_keys(q, "quotas", keys, &c->err) != 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		struct json_object *v;

		if (!json_object_object_get_ex(q, names[i], &v))
			continue;
		*fields[i] = 0;
		if (v && dgen_json_get_int(q, "quotas", names[i], false, 0, 1000000000,
					   fields[i], &c->err) != 0) {
			c->err.code = DGEN_EINVALID;
			return -1;
		}
	}
	return 0;
}

int api_users_update(struct api_ctx *c)
{
	static const char *const keys[] = { "role", "disabled", "password", "quotas", NULL };
	struct json_object *body = NULL, *q = NULL;
	struct dgen_db *db;
	struct dgen_user u;
	const char *role = NULL, *pw = NULL;
	size_t rlen;
	int st;

	if (!(db = api_db(c)) || users_get(db, c->name, &u, &c->err) != 0)
		return api_fail(c);
	if (body_json(c, &body) != 0 || dgen_json_only_keys(body, "", keys, &c->err) != 0 ||
	    get_text(c, body, "role", false, &role, &rlen) != 0 ||
	    (role && parse_role(c, role, &u.admin) != 0) ||
	    dgen_json_get_bool(body, "", "disabled", false, &u.disabled, &c->err) != 0 ||
	    get_password(c, body, false, &pw, true) != 0 ||
	    dgen_json_get_obj(body, "", "quotas", false, &q, &c->err) != 0 ||
	    (q && read_quotas(c, q, &u.quotas) != 0) ||
	    users_update(db, &u, pw, &c->err) != 0) {
		json_object_put(body);
		return api_fail(c);
	}
	st = answer_user(c, db, u.name, 200);
	json_object_put(body);
	return st;
}

/* ---- /api/tokens ------------------------------------------------------- */

/* The user a tokens request is about: the caller, or for an admin the
 * user named by `name` (NULL: the caller). A member naming anyone else
 * is 403. */
static int token_user(struct api_ctx *c, struct dgen_db *db, const char *name, int64_t *id)
{
	struct dgen_user u;

	*id = c->caller.user_id;
	if (!name)
		return 0;
	if (!c->caller.admin) {
		if (users_get_id(db, c->caller.user_id, &u, &c->err) != 0)
			return -1;
		if (strcmp(u.name, name) == 0)
			return 0;
		return dgen_err_set(&c->err, DGEN_EFORBIDDEN,
				    "Only an admin may manage another user's tokens");
	}
	if (users_get(db, name, &u, &c->err) != 0)
		return -1;
	*id = u.id;
	return 0;
}

int api_tokens_list(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);
	struct json_object *arr;
	int64_t uid;

	if (!db || token_user(c, db, request_param(c->req, "user"), &uid) != 0 ||
	    tokens_list(db, uid, &arr, &c->err) != 0)
		return api_fail(c);
	return api_ok(c, 200, arr);
}

int api_tokens_create(struct api_ctx *c)
{
	static const char *const keys[] = { "name", "expires_in_days", "user", NULL };
	struct json_object *body = NULL, *o;
	struct dgen_db *db;
	const char *name, *user = NULL;
	char token[ACCOUNTS_TOKEN_LEN + 1];
	size_t nlen, ulen;
	int64_t days = 0, uid, id;

	if (body_json(c, &body) != 0 || dgen_json_only_keys(body, "", keys, &c->err) != 0 ||
	    get_text(c, body, "name", true, &name, &nlen) != 0 ||
	    accounts_check_name(name, nlen, "token name", &c->err) != 0 ||
	    dgen_json_get_int(body, "", "expires_in_days", false, 1, 36500, &days, &c->err) != 0 ||
	    get_text(c, body, "user", false, &user, &ulen) != 0 || !(db = api_db(c)) ||
	    token_user(c, db, user, &uid) != 0 ||
	    tokens_create(db, uid, name, days, token, &id, &c->err) != 0) {
		json_object_put(body);
		return api_fail(c);
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_put(body);
	return api_ok(c, 201, o);
}

int api_tokens_revoke(struct api_ctx *c)
{
	struct dgen_db *db = api_db(c);

	if (!db || tokens_revoke(db, c->who, c->id, &c->err) != 0)
		return api_fail(c);
	return api_ok_member(c, "success", json_object_new_boolean(true));
}
