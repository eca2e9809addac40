/*
 * err.h - the error every library function reports.
 *
 * Ownership: a struct dgen_err lives where the caller puts it (usually the
 * stack), starts zeroed (DGEN_ERR_INIT or dgen_err_init), and owns its
 * `detail` JSON object. dgen_err_clear() releases it; setting an error again
 * replaces the previous one. Functions that fail return -1 (or NULL) and fill
 * the error; they leave it untouched on success.
 */
#ifndef DGEN_ERR_H
#define DGEN_ERR_H

#include <json-c/json.h>

/* What went wrong, in terms a caller can act on; the API maps each to one
 * HTTP status (respond_http_status, in the API). */
enum dgen_errcode {
	DGEN_OK = 0,
	DGEN_EBADREQ,     /* 400: malformed input (bad JSON, wrong type, bad query) */
	DGEN_ENOTFOUND,   /* 404: unknown id, route, template, block */
	DGEN_EMETHOD,     /* 405: wrong method for the route */
	DGEN_ECONFLICT,   /* 409: state conflict (job already finished ...) */
	DGEN_ETOOBIG,     /* 413: over a size limit */
	DGEN_EMEDIA,      /* 415: wrong content type */
	DGEN_EINVALID,    /* 422: well-formed but invalid (config, seeds, pipeline) */
	DGEN_EBUSY,       /* 503: the database stayed locked past its timeout */
	DGEN_EBLOCK,      /* a block failed while running (400 on execute) */
	DGEN_ELLM,        /* the LLM provider failed or answered badly */
	DGEN_ECANCELLED,  /* the work was cancelled from elsewhere */
	DGEN_ELIMIT,      /* a template or run limit was hit */
	DGEN_EIO,         /* 500: I/O, database or system failure */
	DGEN_EINTERNAL,   /* 500: a bug */
	DGEN_EAUTH,       /* 401: no caller, or a bad, expired or revoked credential */
	DGEN_EFORBIDDEN,  /* 403: an admin-only route, or a cross-site request */
	DGEN_EQUOTA,      /* 429: past a per-user quota or the login rate limit */
};

#define DGEN_ERR_MSG_MAX 512

struct dgen_err {
	enum dgen_errcode code;
	char msg[DGEN_ERR_MSG_MAX];
	struct json_object *detail; /* object or NULL; owned */
};

#define DGEN_ERR_INIT { DGEN_OK, { 0 }, NULL }

void dgen_err_init(struct dgen_err *e);
void dgen_err_clear(struct dgen_err *e);

/* Sets code and message (printf-style), drops any previous detail. Always
 * returns -1 so a caller can write `return dgen_err_set(...)`. */
int dgen_err_set(struct dgen_err *e, enum dgen_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Adds key=val to the detail object (creating it); takes ownership of val. */
void dgen_err_detail(struct dgen_err *e, const char *key, struct json_object *val);
void dgen_err_detail_str(struct dgen_err *e, const char *key, const char *val);
void dgen_err_detail_int(struct dgen_err *e, const char *key, long long val);

/* Moves src into dst (dst cleared first, src left empty). */
void dgen_err_move(struct dgen_err *dst, struct dgen_err *src);

/* A new {"error": msg, "detail": {...}} object; caller puts it. */
struct json_object *dgen_err_to_json(const struct dgen_err *e);

#endif
