/*
 * request.h - one HTTP request as dgen-api sees it, from FastCGI or CGI.
 *
 * The transport is hidden behind struct req_io (parameters, body reads,
 * response writes): the FastCGI loop, plain CGI, the unit tests and the
 * fuzz targets all feed the same parser. Everything is validated here, at
 * the edge: the path and query are percent-decoded and must be UTF-8
 * without NUL bytes, the body is read bounded by a limit whatever
 * CONTENT_LENGTH claims, JSON bodies are parsed with depth and size caps.
 * Errors come back as struct dgen_err with the HTTP status in the code
 * (400, 413, 415) and a detail naming the parameter or limit.
 *
 * Ownership: struct req lives with the caller (one per worker, reused).
 * Every string it holds (method, path, parameters, headers) lives in
 * req->arena and stays valid until request_reset(); the body lives in
 * req->body (reset with the request). request_free() releases everything.
 * The req_io and its ctx are borrowed for the duration of the request.
 */
#ifndef DGEN_REQUEST_H
#define DGEN_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/arena.h"
#include "dgen/buf.h"
#include "dgen/err.h"
#include "dgen/json.h"

/* The transport: where parameters come from and where bytes go. */
struct req_io {
	void *ctx;
	/* A CGI/FastCGI parameter (REQUEST_METHOD, HTTP_IDEMPOTENCY_KEY ...),
	 * or NULL when absent. */
	const char *(*getparam)(void *ctx, const char *name);
	/* Reads up to n body bytes: count, 0 at the end, -1 on error. */
	long (*read)(void *ctx, char *buf, size_t n);
	/* Writes all n bytes of the response: 0, or -1 (client gone). */
	int (*write)(void *ctx, const char *buf, size_t n);
	/* Pushes buffered response bytes to the web server: 0 or -1. */
	int (*flush)(void *ctx);
	/* Optional: waits up to ms for body bytes to read: 1 when there are
	 * (or the end), 0 on timeout, -1 on error. Bounds the time spent
	 * dropping an unread CGI body; NULL when reads never wait long. */
	int (*wait)(void *ctx, int ms);
};

struct req_param {
	const char *key; /* percent-decoded, UTF-8, no NUL */
	const char *val;
};

/* Caps on what the request line may hold. */
#define REQ_MAX_PATH 4096     /* bytes of the decoded path */
#define REQ_MAX_QUERY 8192    /* bytes of the raw query string */
#define REQ_MAX_PARAMS 64     /* query parameters */
#define REQ_MAX_HEADER 1024   /* bytes of one header we read (idempotency key ...) */

struct req {
	struct arena arena;
	const struct req_io *io;

	const char *method;          /* "GET", "POST" ... (upper case as sent) */
	const char *path;            /* percent-decoded, starts with '/' */
	struct req_param *params;    /* query, in order */
	size_t n_params;
	const char *content_type;    /* CONTENT_TYPE or NULL */
	long long content_length;    /* CONTENT_LENGTH, -1 when absent */
	const char *idempotency_key; /* HTTP_IDEMPOTENCY_KEY or NULL */
	bool is_cgi;                 /* plain CGI (one request per process) */

	struct dgen_buf body;        /* after request_read_body */
	bool body_read;
};

/* Plain CGI: what request_reset reads of a body nobody read, at most. */
#define REQ_DRAIN_MAX (64LL << 20) /* bytes (the web server caps bodies lower) */
#define REQ_DRAIN_SECONDS 10.0

void request_init(struct req *r);
/* Forgets the request and keeps the memory for the next one (shrinking
 * anything a large request grew). In plain CGI it first reads and drops
 * the rest of a body the request did not read (refused: too big, wrong
 * content type, unknown route ...), within REQ_DRAIN_MAX bytes and
 * REQ_DRAIN_SECONDS: under Apache's mod_cgid a program that exits with
 * its body unread loses its response. */
void request_reset(struct req *r);
void request_free(struct req *r);

/* Reads method, path, query and the headers of interest through io.
 * Errors (DGEN_EBADREQ): missing method, a path or query that is not
 * valid percent-encoding, not UTF-8, has NUL bytes or is over a cap. */
int request_parse(struct req *r, const struct req_io *io, struct dgen_err *err);

/* Decodes %XX escapes of s[0..len) into out (room for len + 1 bytes);
 * with plus_space a '+' becomes a space (query strings). *out_len gets the
 * decoded length; out is NUL-terminated. -1 on a malformed escape. The
 * caller checks the result for NUL bytes and UTF-8. */
int request_percent_decode(const char *s, size_t len, bool plus_space, char *out,
			   size_t *out_len);

/* Parses a query string ("a=1&b=x%20y") into r->params (replacing them).
 * Empty pieces are skipped; a key without '=' has the value "". */
int request_parse_query(struct req *r, const char *qs, size_t len, struct dgen_err *err);

/* A CGI/FastCGI parameter of the request as the server passed it
 * (HTTP_AUTHORIZATION, HTTP_COOKIE, HTTP_ORIGIN, REMOTE_ADDR ...), or NULL
 * when absent or empty. Borrowed from the transport: valid until the
 * request ends. */
const char *request_env(const struct req *r, const char *name);

/* The value of query parameter key (the last one when repeated), or NULL. */
const char *request_param(const struct req *r, const char *key);

/* Query parameter key as an integer in [min,max]; *out keeps def when
 * absent. A present but empty, non-numeric or out-of-range value is
 * DGEN_EBADREQ naming the parameter and the allowed range. */
int request_param_int(const struct req *r, const char *key, long long min, long long max,
		      long long def, long long *out, struct dgen_err *err);

/* True when CONTENT_TYPE's media type (before any ';') equals mime,
 * compared case-insensitively. */
bool request_content_type_is(const struct req *r, const char *mime);

/* Reads the body into r->body, at most limit bytes: a CONTENT_LENGTH over
 * the limit, or more bytes than the limit, is DGEN_ETOOBIG (with the limit
 * in detail) and nothing more is read. With a CONTENT_LENGTH the body is
 * exactly that many bytes (fewer is DGEN_EBADREQ); without one, FastCGI
 * reads to the end of the stream and CGI reads nothing. Calling it again
 * returns the body already read. */
int request_read_body(struct req *r, size_t limit, struct dgen_err *err);

/* The request body as JSON: content type application/json (else
 * DGEN_EMEDIA, 415), body within lim->max_bytes (DGEN_ETOOBIG), parsed
 * under lim (DGEN_EBADREQ with the position). An empty body is
 * DGEN_EBADREQ unless allow_empty, where *out becomes an empty object.
 * *out is a new reference. */
int request_json_body(struct req *r, const struct dgen_json_limits *lim, bool allow_empty,
		      struct json_object **out, struct dgen_err *err);

/* An in-memory transport (tests, fuzz targets, benchmarks): parameters
 * from a NULL-terminated list of name, value pairs, the body from memory
 * (at most max_read bytes per read when non-zero, to exercise short
 * reads), the response into out. The pairs and body are borrowed; out is
 * owned by the struct (dgen_buf_free it). */
struct req_mem {
	const char *const *params;
	const char *body;
	size_t body_len;
	size_t pos;
	size_t max_read;
	struct dgen_buf out;
	int flushes;
};
void request_mem_io(struct req_mem *m, struct req_io *io);

#endif
