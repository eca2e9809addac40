/*
 * accounts.c - users, API tokens, browser sessions, login failure budgets
 * (see accounts.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "dgen/accounts.h"
#include "dgen/log.h"
#include "dgen/util.h"
#include "stmt.h"

#define HASH_LEN 32 /* BLAKE2b-256 of a token or session id */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_rc = -1;

static void sodium_start(void)
{
	sodium_rc = sodium_init() < 0 ? -1 : 0;
}

int accounts_init(void)
{
	pthread_once(&sodium_once, sodium_start);
	return sodium_rc;
}

static int init_or_fail(struct dgen_err *err)
{
	if (accounts_init() == 0)
		return 0;
	return dgen_err_set(err, DGEN_EINTERNAL, "libsodium cannot start");
}

int accounts_random_password(char out[ACCOUNTS_RANDOM_PASSWORD_LEN + 1])
{
	unsigned char raw[18];

	if (accounts_init() < 0)
		return -1;
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, ACCOUNTS_RANDOM_PASSWORD_LEN + 1, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	return 0;
}

static void hash_secret(const char *secret, unsigned char out[HASH_LEN])
{
	crypto_generichash(out, HASH_LEN, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

int accounts_check_name(const char *name, size_t len, const char *what,
			struct dgen_err *err)
{
	bool ok = len >= 1 && len <= ACCOUNTS_NAME_MAX && strlen(name) == len;

	for (size_t i = 0; ok && i < len; i++) {
		char ch = name[i];

		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		     (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
	}
	if (ok)
		return 0;
	dgen_err_set(err, DGEN_EINVALID,
		     "A %s is 1 to %d characters of letters, digits, '.', '_' and '-'", what,
		     ACCOUNTS_NAME_MAX);
	dgen_err_detail_str(err, "field", what);
	return -1;
}

int accounts_check_password(const char *pw, size_t len, struct dgen_err *err)
{
	if (len > ACCOUNTS_PASSWORD_MAX) {
		dgen_err_set(err, DGEN_EINVALID, "A password is at most %d bytes",
			     ACCOUNTS_PASSWORD_MAX);
		dgen_err_detail_int(err, "max", ACCOUNTS_PASSWORD_MAX);
	} else if (strlen(pw) != len) {
		dgen_err_set(err, DGEN_EINVALID, "A password must not contain NUL bytes");
	} else if (len < ACCOUNTS_PASSWORD_MIN) {
		dgen_err_set(err, DGEN_EINVALID, "A password needs at least %d characters",
			     ACCOUNTS_PASSWORD_MIN);
		dgen_err_detail_int(err, "min", ACCOUNTS_PASSWORD_MIN);
	} else {
		return 0;
	}
	dgen_err_detail_str(err, "field", "password");
	return -1;
}

/* Argon2id with libsodium's interactive limits (~0.1 s, 64 MiB). */
static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES],
			 struct dgen_err *err)
{
	if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return dgen_err_set(err, DGEN_EIO, "Cannot hash the password (out of memory)");
	return 0;
}

int users_add(struct dgen_db *db, const char *name, const char *password, bool admin,
	      int64_t *id, struct dgen_err *err)
{
	char hash[crypto_pwhash_STRBYTES], now[DGEN_ISO_LEN];
	int64_t new_id = 0;

	if (init_or_fail(err) < 0 || accounts_check_name(name, strlen(name), "name", err) < 0 ||
	    accounts_check_password(password, strlen(password), err) < 0 ||
	    hash_password(password, hash, err) < 0)
		return -1;
	db_now(now);
	if (db_begin(db, err) < 0)
		return -1;
	if (db_end(db, db_insert(db, STMT_USER_INSERT, &new_id, err, "ssss", name,
				 admin ? "admin" : "member", hash, now), err) < 0) {
		if (err->code == DGEN_ECONFLICT) {
			dgen_err_set(err, DGEN_ECONFLICT, "The name %s is taken", name);
			dgen_err_detail_str(err, "name", name);
		}
		return -1;
	}
	if (id)
		*id = new_id;
	return 0;
}

/* A struct dgen_user from a USER_COLS row. */
static void user_row(struct dgen_stmt *st, struct dgen_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = db_col_int(st, 0);
	snprintf(u->name, sizeof u->name, "%s", db_col_text(st, 1));
	u->admin = strcmp(db_col_text(st, 2), "admin") == 0;
	u->disabled = db_col_int(st, 3) != 0;
	u->quotas.jobs = db_col_int(st, 4);
	u->quotas.executions = db_col_int(st, 5);
	u->quotas.inflight = db_col_int(st, 6);
	snprintf(u->created_at, sizeof u->created_at, "%s", db_col_text(st, 7));
}

/* The user row by name, st left on it (password hash in column 8). */
static struct dgen_stmt *user_by_name(struct dgen_db *db, const char *name, int *found,
				  struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_USER_BY_NAME, err, "s", name);

	if (!st || (*found = db_step_one(db, st, err)) < 0)
		return NULL;
	return st;
}

static int user_not_found(const char *name, struct dgen_err *err)
{
	dgen_err_set(err, DGEN_ENOTFOUND, "User %s not found", name);
	dgen_err_detail_str(err, "name", name);
	return -1;
}

int users_get(struct dgen_db *db, const char *name, struct dgen_user *out,
	      struct dgen_err *err)
{
	int found = 0;
	struct dgen_stmt *st = user_by_name(db, name, &found, err);

	if (!st)
		return -1;
	if (!found)
		return user_not_found(name, err);
	user_row(st, out);
	db_reset(st);
	return 0;
}

int users_get_id(struct dgen_db *db, int64_t id, struct dgen_user *out, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_USER_BY_ID, err, "i", id);

	if (!st || db_step_row(db, st, "User", "user_id", id, err) < 0)
		return -1;
	user_row(st, out);
	db_reset(st);
	return 0;
}

static int64_t or_default(int64_t v, int64_t def)
{
	return v > 0 ? v : def;
}

struct json_object *users_json(const struct dgen_user *u, const struct dgen_quotas *defaults)
{
	struct json_object *o = json_object_new_object(), *q = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(u->name));
	json_object_object_add(o, "role", json_object_new_string(u->admin ? "admin" : "member"));
	json_object_object_add(o, "disabled", json_object_new_boolean(u->disabled));
	json_object_object_add(o, "created_at", json_object_new_string(u->created_at));
	json_object_object_add(q, "jobs",
			       json_object_new_int64(or_default(u->quotas.jobs, defaults->jobs)));
	json_object_object_add(q, "executions",
			       json_object_new_int64(or_default(u->quotas.executions,
								defaults->executions)));
	json_object_object_add(q, "llm_in_flight",
			       json_object_new_int64(or_default(u->quotas.inflight,
								defaults->inflight)));
	json_object_object_add(o, "quotas", q);
	return o;
}

struct list_ctx {
	struct json_object *arr;
	const struct dgen_quotas *defaults;
};

static void list_row(struct dgen_stmt *st, void *arg)
{
	struct list_ctx *lc = arg;
	struct dgen_user u;

	user_row(st, &u);
	json_object_array_add(lc->arr, users_json(&u, lc->defaults));
}

int users_list(struct dgen_db *db, const struct dgen_quotas *defaults,
	       struct json_object **out, struct dgen_err *err)
{
	struct list_ctx lc = { json_object_new_array(), defaults };
	struct dgen_stmt *st = db_query(db, STMT_USER_LIST, err, "");

	if (!st || db_each(db, st, list_row, &lc, err) < 0) {
		json_object_put(lc.arr);
		return -1;
	}
	*out = lc.arr;
	return 0;
}

/* Inside the write transaction: the row, the password, and the end of
 * the sessions a disabled user or a new password must not keep. */
static int update_user(struct dgen_db *db, const struct dgen_user *u, const char *hash,
		       struct dgen_err *err)
{
	int64_t n = db_run(db, STMT_USER_UPDATE, err, "isikkk", u->id,
			   u->admin ? "admin" : "member", (int64_t)u->disabled, u->quotas.jobs,
			   u->quotas.executions, u->quotas.inflight);

	if (db_changed_row(n, "User", "user_id", u->id, err) < 0)
		return -1;
	if (hash && db_run(db, STMT_USER_PASSWORD, err, "is", u->id, hash) < 0)
		return -1;
	if ((hash || u->disabled) && db_run(db, STMT_SESSION_DELETE_USER, err, "i", u->id) < 0)
		return -1;
	return 0;
}

int users_update(struct dgen_db *db, const struct dgen_user *u, const char *password,
		 struct dgen_err *err)
{
	char hash[crypto_pwhash_STRBYTES];

	if (init_or_fail(err) < 0)
		return -1;
	if (password && (accounts_check_password(password, strlen(password), err) < 0 ||
			 hash_password(password, hash, err) < 0))
		return -1;
	if (db_begin(db, err) < 0)
		return -1;
	return db_end(db, update_user(db, u, password ? hash : NULL, err), err);
}

/* A valid Argon2id string of a password nobody knows: an unknown name
 * is verified against it, so it costs what a known one costs. */
static char dummy[crypto_pwhash_STRBYTES];

static void dummy_make(void)
{
	unsigned char raw[16];
	char pw[33];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(pw, sizeof pw, raw, sizeof raw);
	if (crypto_pwhash_str(dummy, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy[0] = '\0';
}

static const char *dummy_hash(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, dummy_make);
	return dummy;
}

int users_verify(struct dgen_db *db, const char *name, const char *password,
		 struct dgen_user *out, struct dgen_err *err)
{
	int found = 0;
	struct dgen_stmt *st;
	char hash[crypto_pwhash_STRBYTES];
	bool good;

	if (init_or_fail(err) < 0 || !(st = user_by_name(db, name, &found, err)))
		return -1;
	if (found) {
		user_row(st, out);
		snprintf(hash, sizeof hash, "%s", db_col_text(st, 8));
		db_reset(st);
	} else {
		snprintf(hash, sizeof hash, "%s", dummy_hash());
	}
	good = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	sodium_memzero(hash, sizeof hash);
	if (found && good && !out->disabled)
		return 0;
	return dgen_err_set(err, DGEN_EAUTH, "Wrong name or password");
}

int accounts_throttle_check(struct dgen_db *db, const char *key, int64_t limit,
			    int64_t *retry_after, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_LOGIN_FAIL_GET, err, "s", key);
	int64_t now = dgen_clock_now_ms(), failures, since;
	int rc;

	*retry_after = 0;
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	if (rc == 0)
		return 0;
	failures = db_col_int(st, 0);
	since = db_col_int(st, 1);
	db_reset(st);
	if (failures < limit || since + ACCOUNTS_FAIL_WINDOW_MS <= now)
		return 0;
	*retry_after = (since + ACCOUNTS_FAIL_WINDOW_MS - now + 999) / 1000;
	dgen_err_set(err, DGEN_EQUOTA, "Too many failed logins; try again in %lld s",
		     (long long)*retry_after);
	dgen_err_detail_str(err, "quota", "login_failures");
	dgen_err_detail_int(err, "retry_after", *retry_after);
	return -1;
}

int accounts_throttle_fail(struct dgen_db *db, const char *key, struct dgen_err *err)
{
	int64_t now = dgen_clock_now_ms();

	return db_write(db, STMT_LOGIN_FAIL_ADD, err, "sii", key, now,
			now - ACCOUNTS_FAIL_WINDOW_MS) < 0 ? -1 : 0;
}

int accounts_throttle_clear(struct dgen_db *db, const char *key, struct dgen_err *err)
{
	return db_write(db, STMT_LOGIN_FAIL_CLEAR, err, "s", key) < 0 ? -1 : 0;
}

int tokens_create(struct dgen_db *db, int64_t user_id, const char *name,
		  int64_t expires_in_days, char token[ACCOUNTS_TOKEN_LEN + 1], int64_t *id,
		  struct dgen_err *err)
{
	unsigned char raw[32], h[HASH_LEN];
	char now[DGEN_ISO_LEN], exp[DGEN_ISO_LEN];
	int64_t exp_ms = expires_in_days > 0 ? dgen_clock_now_ms() + expires_in_days * 86400000
					     : 0;
	int rc;

	if (init_or_fail(err) < 0 || accounts_check_name(name, strlen(name), "token name", err) < 0)
		return -1;
	randombytes_buf(raw, sizeof raw);
	memcpy(token, ACCOUNTS_TOKEN_PREFIX, strlen(ACCOUNTS_TOKEN_PREFIX));
	sodium_bin2base64(token + strlen(ACCOUNTS_TOKEN_PREFIX),
			  ACCOUNTS_TOKEN_LEN + 1 - strlen(ACCOUNTS_TOKEN_PREFIX), raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	hash_secret(token, h);
	db_now(now);
	if (exp_ms)
		dgen_clock_iso(exp_ms, exp);
	if (db_begin(db, err) < 0)
		return -1;
	rc = db_end(db, db_insert(db, STMT_TOKEN_INSERT, id, err, "isbssk", user_id, name, h,
				  (size_t)HASH_LEN, now, exp_ms ? exp : NULL, exp_ms), err);
	if (rc < 0 && err->code == DGEN_ENOTFOUND)
		db_not_found(err, "User", "user_id", user_id);
	return rc;
}

static int bad_credential(struct dgen_err *err, const char *what)
{
	return dgen_err_set(err, DGEN_EAUTH, "%s", what);
}

/*
 * One indexed SELECT by the token's hash; the stored hash is compared
 * again in constant time (the index lookup is by equality of a hash of a
 * 256-bit random value, which tells an attacker nothing useful, but the
 * comparison that decides is sodium_memcmp). last_used_at is written at
 * most once per ACCOUNTS_TOUCH_MS; a failed touch never fails the request.
 */
int tokens_authenticate(struct dgen_db *db, const char *token, struct dgen_caller *out,
			struct dgen_err *err)
{
	unsigned char h[HASH_LEN];
	struct dgen_stmt *st;
	int64_t now = dgen_clock_now_ms(), tid, exp, used;
	bool disabled, match;
	int rc;

	if (init_or_fail(err) < 0)
		return -1;
	if (strlen(token) != ACCOUNTS_TOKEN_LEN ||
	    strncmp(token, ACCOUNTS_TOKEN_PREFIX, strlen(ACCOUNTS_TOKEN_PREFIX)) != 0)
		return bad_credential(err, "The token is not a dgen token");
	hash_secret(token, h);
	st = db_query(db, STMT_TOKEN_AUTH, err, "b", h, (size_t)HASH_LEN);
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	if (rc == 0)
		return bad_credential(err, "The token is unknown or revoked");
	tid = db_col_int(st, 0);
	out->user_id = db_col_int(st, 1);
	out->admin = strcmp(db_col_text(st, 2), "admin") == 0;
	disabled = db_col_int(st, 3) != 0;
	exp = db_col_is_null(st, 4) ? 0 : db_col_int(st, 4);
	used = db_col_int(st, 5);
	match = db_col_len(st, 6) == HASH_LEN &&
		sodium_memcmp(db_col_blob(st, 6), h, HASH_LEN) == 0;
	db_reset(st);
	if (!match)
		return bad_credential(err, "The token is unknown or revoked");
	if (disabled)
		return bad_credential(err, "The token's user is disabled");
	if (exp && exp <= now)
		return bad_credential(err, "The token has expired");
	if (now - used >= ACCOUNTS_TOUCH_MS) {
		struct dgen_err terr = DGEN_ERR_INIT;
		char iso[DGEN_ISO_LEN];

		dgen_clock_iso(now, iso);
		db_write(db, STMT_TOKEN_TOUCH, &terr, "isi", tid, iso, now);
		dgen_err_clear(&terr);
	}
	return 0;
}

static struct json_object *token_json(struct dgen_stmt *st)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(db_col_int(st, 0)));
	db_add_text(o, "name", st, 1);
	db_add_text(o, "user", st, 2);
	db_add_text(o, "created_at", st, 3);
	db_add_text(o, "last_used_at", st, 4);
	db_add_text(o, "expires_at", st, 5);
	return o;
}

int tokens_list(struct dgen_db *db, int64_t user_id, struct json_object **out,
		struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_TOKEN_LIST, err, "k", user_id);

	if (!st)
		return -1;
	return db_rows_json(db, st, token_json, out, err);
}

int tokens_revoke(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		  struct dgen_err *err)
{
	return db_changed_row(db_write(db, STMT_TOKEN_DELETE, err, "ik", id,
				       dgen_caller_scope(who)),
			      "Token", "token_id", id, err);
}

int sessions_create(struct dgen_db *db, int64_t user_id, int64_t max_age_s,
		    char sid[ACCOUNTS_SESSION_LEN + 1], struct dgen_err *err)
{
	unsigned char raw[32], h[HASH_LEN];
	int64_t now = dgen_clock_now_ms();
	int rc;

	if (init_or_fail(err) < 0)
		return -1;
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(sid, ACCOUNTS_SESSION_LEN + 1, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
	hash_secret(sid, h);
	if (db_begin(db, err) < 0)
		return -1;
	/* Sessions past their absolute age go as new ones come. */
	rc = db_run(db, STMT_SESSION_PRUNE, err, "i", now - max_age_s * 1000) < 0 ||
			     db_run(db, STMT_SESSION_INSERT, err, "bii", h, (size_t)HASH_LEN,
				    user_id, now) < 0
		     ? -1
		     : 0;
	return db_end(db, rc, err);
}

int sessions_authenticate(struct dgen_db *db, const char *sid, int64_t idle_s, int64_t max_s,
			  struct dgen_caller *out, struct dgen_err *err)
{
	unsigned char h[HASH_LEN];
	struct dgen_stmt *st;
	int64_t now = dgen_clock_now_ms(), created, seen;
	bool disabled, match;
	int rc;

	if (init_or_fail(err) < 0)
		return -1;
	if (strlen(sid) != ACCOUNTS_SESSION_LEN)
		return bad_credential(err, "The session is unknown or has ended");
	hash_secret(sid, h);
	st = db_query(db, STMT_SESSION_AUTH, err, "b", h, (size_t)HASH_LEN);
	if (!st || (rc = db_step_one(db, st, err)) < 0)
		return -1;
	if (rc == 0)
		return bad_credential(err, "The session is unknown or has ended");
	out->user_id = db_col_int(st, 0);
	out->admin = strcmp(db_col_text(st, 1), "admin") == 0;
	disabled = db_col_int(st, 2) != 0;
	created = db_col_int(st, 3);
	seen = db_col_int(st, 4);
	match = db_col_len(st, 5) == HASH_LEN &&
		sodium_memcmp(db_col_blob(st, 5), h, HASH_LEN) == 0;
	db_reset(st);
	if (!match || disabled || now - seen > idle_s * 1000 || now - created > max_s * 1000)
		return bad_credential(err, "The session is unknown or has ended");
	if (now - seen >= ACCOUNTS_TOUCH_MS) {
		struct dgen_err terr = DGEN_ERR_INIT;

		db_write(db, STMT_SESSION_TOUCH, &terr, "bi", h, (size_t)HASH_LEN, now);
		dgen_err_clear(&terr);
	}
	return 0;
}

int sessions_end(struct dgen_db *db, const char *sid, struct dgen_err *err)
{
	unsigned char h[HASH_LEN];

	if (init_or_fail(err) < 0)
		return -1;
	hash_secret(sid, h);
	return db_write(db, STMT_SESSION_DELETE, err, "b", h, (size_t)HASH_LEN) < 0 ? -1 : 0;
}

int accounts_active_jobs(struct dgen_db *db, int64_t user_id, int64_t *n,
			 struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_QUOTA_ACTIVE_JOBS, err, "i", user_id);

	if (!st || db_step_must(db, st, DGEN_EIO, "count answered no row", err) < 0)
		return -1;
	*n = db_col_int(st, 0);
	db_reset(st);
	return 0;
}
