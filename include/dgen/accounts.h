/*
 * accounts.h - users, API tokens, browser sessions and the login failure
 * budget (SPEC.md §8). Secrets never rest in the clear: passwords are
 * Argon2id strings (libsodium crypto_pwhash_str), tokens and session ids
 * are 256 random bits of which only a BLAKE2b hash is stored; comparisons
 * of secrets are constant-time. Every fact lives in the store, so any
 * worker on any host answers the same.
 *
 * Ownership: struct dgen_user is caller-owned, filled by value. JSON from
 * the list functions is a new reference; secrets written into caller
 * buffers (a new token, a session id) are the caller's to show once and
 * forget. Input pointers are only read during the call.
 */
#ifndef DGEN_ACCOUNTS_H
#define DGEN_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/caller.h"
#include "dgen/clock.h"
#include "dgen/db.h"
#include "dgen/err.h"

#define ACCOUNTS_NAME_MAX 64          /* bytes of a user or token name */
#define ACCOUNTS_PASSWORD_MIN 12      /* characters (bytes) */
#define ACCOUNTS_PASSWORD_MAX 1024    /* bytes */
#define ACCOUNTS_TOKEN_PREFIX "dgen_"
#define ACCOUNTS_TOKEN_LEN 48         /* "dgen_" + 43 base64url characters */
#define ACCOUNTS_SESSION_LEN 64       /* hex characters of a session id */
/* last_used_at is written at most this often (a token lookup stays one
 * indexed SELECT on almost every request). */
#define ACCOUNTS_TOUCH_MS 60000
/* Login failures: this many per name, or per client address, within the
 * window, and further attempts answer 429 until the window ends. */
#define ACCOUNTS_FAIL_PER_NAME 5
#define ACCOUNTS_FAIL_PER_ADDR 30
#define ACCOUNTS_FAIL_WINDOW_MS (15 * 60 * 1000)

/* Initialises libsodium once per process (thread-safe); -1 when it
 * cannot (no randomness). Every function below calls it. */
int accounts_init(void);

/* A new random password: 24 base64url characters (144 bits). */
#define ACCOUNTS_RANDOM_PASSWORD_LEN 24
int accounts_random_password(char out[ACCOUNTS_RANDOM_PASSWORD_LEN + 1]);

/* Per-user quotas; 0 means "the configured default". */
struct dgen_quotas {
	int64_t jobs;        /* jobs queued or running */
	int64_t executions;  /* executions per job */
	int64_t inflight;    /* LLM requests in flight across the user's jobs */
};

struct dgen_user {
	int64_t id;
	char name[ACCOUNTS_NAME_MAX + 1];
	bool admin;
	bool disabled;
	struct dgen_quotas quotas;  /* as stored: 0 = default */
	char created_at[DGEN_ISO_LEN];
};

/* A user name: 1..ACCOUNTS_NAME_MAX of [A-Za-z0-9._-] (len given, so an
 * embedded NUL is caught). DGEN_EINVALID naming the rule otherwise. */
int accounts_check_name(const char *name, size_t len, const char *what,
			struct dgen_err *err);
/* A password: ACCOUNTS_PASSWORD_MIN..MAX bytes, no NUL; DGEN_EINVALID. */
int accounts_check_password(const char *pw, size_t len, struct dgen_err *err);

/* Adds a user; *id (may be NULL) receives the id. Name taken:
 * DGEN_ECONFLICT; bad name or weak password: DGEN_EINVALID. */
int users_add(struct dgen_db *db, const char *name, const char *password, bool admin,
	      int64_t *id, struct dgen_err *err);
/* The user by name / by id; DGEN_ENOTFOUND. */
int users_get(struct dgen_db *db, const char *name, struct dgen_user *out,
	      struct dgen_err *err);
int users_get_id(struct dgen_db *db, int64_t id, struct dgen_user *out, struct dgen_err *err);
/* [{"name","role","disabled","created_at","quotas":{...}}] in id order;
 * defaults fill unset quotas. */
int users_list(struct dgen_db *db, const struct dgen_quotas *defaults,
	       struct json_object **out, struct dgen_err *err);
/* The user JSON of the list. */
struct json_object *users_json(const struct dgen_user *u, const struct dgen_quotas *defaults);

/* Changes a user: every field of u as given (read it with users_get
 * first), and the password when password is not NULL. Disabling a user
 * or changing the password ends their sessions. */
int users_update(struct dgen_db *db, const struct dgen_user *u, const char *password,
		 struct dgen_err *err);

/* Checks name and password. Unknown name, wrong password and disabled
 * user all answer DGEN_EAUTH with one message, after the same work (an
 * unknown name is verified against a dummy hash). */
int users_verify(struct dgen_db *db, const char *name, const char *password,
		 struct dgen_user *out, struct dgen_err *err);

/* The login failure budget of key ("name:..." / "addr:..."): 0 when
 * attempts may go on, else DGEN_EQUOTA with *retry_after in seconds. */
int accounts_throttle_check(struct dgen_db *db, const char *key, int64_t limit,
			    int64_t *retry_after, struct dgen_err *err);
/* Counts one failure against key / forgets key's failures. */
int accounts_throttle_fail(struct dgen_db *db, const char *key, struct dgen_err *err);
int accounts_throttle_clear(struct dgen_db *db, const char *key, struct dgen_err *err);

/* Creates a token for user_id: token receives "dgen_..." (shown once),
 * *id its id. expires_in_days <= 0: never expires. */
int tokens_create(struct dgen_db *db, int64_t user_id, const char *name,
		  int64_t expires_in_days, char token[ACCOUNTS_TOKEN_LEN + 1], int64_t *id,
		  struct dgen_err *err);
/* Who a bearer token is: DGEN_EAUTH for a malformed, unknown (revoked),
 * expired token or a disabled user. Writes last_used_at at most once per
 * ACCOUNTS_TOUCH_MS. */
int tokens_authenticate(struct dgen_db *db, const char *token, struct dgen_caller *out,
			struct dgen_err *err);
/* [{"id","name","user","created_at","last_used_at","expires_at"}] of
 * user_id (0: everyone's). */
int tokens_list(struct dgen_db *db, int64_t user_id, struct json_object **out,
		struct dgen_err *err);
/* Revokes token id, scoped by who (a member only their own): unknown or
 * foreign is DGEN_ENOTFOUND. */
int tokens_revoke(struct dgen_db *db, const struct dgen_caller *who, int64_t id,
		  struct dgen_err *err);

/* A new session of user_id: sid receives its id (the cookie value). */
int sessions_create(struct dgen_db *db, int64_t user_id, int64_t max_age_s,
		    char sid[ACCOUNTS_SESSION_LEN + 1], struct dgen_err *err);
/* Who a session id is: DGEN_EAUTH when unknown, idle longer than idle_s,
 * older than max_s, or its user is disabled. */
int sessions_authenticate(struct dgen_db *db, const char *sid, int64_t idle_s, int64_t max_s,
			  struct dgen_caller *out, struct dgen_err *err);
/* Ends a session (unknown is fine). */
int sessions_end(struct dgen_db *db, const char *sid, struct dgen_err *err);

/* Jobs of user_id queued or running (the jobs quota). */
int accounts_active_jobs(struct dgen_db *db, int64_t user_id, int64_t *n,
			 struct dgen_err *err);

#endif
