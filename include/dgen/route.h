/*
 * route.h - the one route table of dgen-api: (method, pattern, handler).
 *
 * A pattern is a path of literal segments and placeholders: `{id}` matches
 * one segment that must be a positive integer (else 400, not 404, so a
 * client learns its id is malformed), `{name}` matches any one segment.
 * The first route whose pattern and method match wins; a path that some
 * pattern matches with another method is 405 with the Allow list; any
 * other path is 404. One trailing slash is ignored.
 *
 * Ownership: the table is static. route_match() allocates the captured
 * name in the caller's arena and writes the Allow list into the caller's
 * buffer.
 */
#ifndef DGEN_ROUTE_H
#define DGEN_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "dgen/api.h"
#include "dgen/arena.h"
#include "dgen/err.h"

/* Who may call a route (SPEC.md §8): every route needs a caller unless
 * ROUTE_PUBLIC; ROUTE_ADMIN routes need an admin. */
#define ROUTE_PUBLIC 1u
#define ROUTE_ADMIN 2u

struct route {
	const char *method;
	const char *pattern;
	api_handler handler;
	unsigned flags;      /* 0: any authenticated caller */
};

extern const struct route route_table[];
extern const size_t route_count;

struct route_match {
	const struct route *route; /* NULL unless matched */
	int64_t id;                /* {id}, 0 when the pattern has none */
	const char *name;          /* {name}, NULL when the pattern has none */
	char allow[128];           /* "GET, DELETE" for a 405 */
};

/* Finds the route for method and path. Returns 0 with m->route set, or -1
 * with err: DGEN_ENOTFOUND (no such path), DGEN_EMETHOD (m->allow holds
 * the allowed methods), DGEN_EBADREQ (an {id} that is not a positive
 * integer, detail {"parameter": "id", "value": ...}). */
int route_match(const char *method, const char *path, struct arena *a, struct route_match *m,
		struct dgen_err *err);

/* Parses a positive decimal id (1 .. INT64_MAX); -1 on anything else. */
int route_parse_id(const char *s, int64_t *out);

#endif
