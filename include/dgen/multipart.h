/*
 * multipart.h - multipart/form-data bodies (RFC 7578 on RFC 2046 §5.1.1),
 * as POST /api/generate receives them.
 *
 * The whole body is already in memory (read bounded by the upload limit),
 * so parsing is one pass over it: parts point into the body, nothing is
 * copied but the part names. Every malformed input is DGEN_EBADREQ with a
 * message that says what is wrong (no boundary, unterminated part, bad
 * Content-Disposition, too many parts ...); the detail carries the part
 * index and the limit where one applies.
 *
 * Ownership: names, filenames and content types are allocated in the
 * caller's arena; data pointers borrow the body. Both live as long as the
 * request.
 */
#ifndef DGEN_MULTIPART_H
#define DGEN_MULTIPART_H

#include <stddef.h>

#include "dgen/arena.h"
#include "dgen/err.h"

struct multipart_part {
	const char *name;         /* form field name: non-empty UTF-8 */
	const char *filename;     /* as sent (may be ""), or NULL when not a file */
	const char *content_type; /* the part's Content-Type, or NULL */
	const char *data;         /* the part's bytes, inside the body */
	size_t len;
};

struct multipart_limits {
	size_t max_parts;        /* parts in the body */
	size_t max_headers;      /* header lines in one part */
	size_t max_header_bytes; /* bytes of one part's header block */
};

/* 16 parts, 16 headers per part, 8 KiB of headers per part. */
extern const struct multipart_limits multipart_default_limits;

/* The boundary parameter of a multipart/form-data Content-Type, unquoted,
 * checked against RFC 2046 (1..70 characters of the allowed set). Errors:
 * DGEN_EMEDIA when the type is not multipart/form-data, DGEN_EBADREQ when
 * the boundary is missing or malformed. */
int multipart_boundary(const char *content_type, struct arena *a, const char **boundary,
		       struct dgen_err *err);

/* The value of parameter `param` (case-insensitive) in a header value of
 * the form `type; a=b; c="quoted \" string"`, unquoted, in the arena; NULL
 * when absent. A malformed parameter list or the same parameter twice is
 * DGEN_EBADREQ. */
int multipart_header_param(const char *value, size_t len, const char *param, struct arena *a,
			   const char **out, struct dgen_err *err);

/* Splits body[0..len) at boundary into *parts (arena array of *n_parts).
 * The preamble before the first boundary and the epilogue after the
 * closing one are ignored; every part needs a Content-Disposition of type
 * form-data with a name. */
int multipart_parse(const char *body, size_t len, const char *boundary,
		    const struct multipart_limits *lim, struct arena *a,
		    struct multipart_part **parts, size_t *n_parts, struct dgen_err *err);

/* The first part named name, or NULL. */
const struct multipart_part *multipart_find(const struct multipart_part *parts, size_t n,
					    const char *name);
/* How many parts are named name. */
size_t multipart_count(const struct multipart_part *parts, size_t n, const char *name);

#endif
