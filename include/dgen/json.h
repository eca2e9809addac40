/*
 * json.h - JSON at the edge: bounded parsing and typed getters over json-c.
 *
 * Ownership: dgen_json_parse() hands the caller one reference to the parsed
 * value (release with json_object_put). Getters return borrowed pointers
 * that live as long as the object they were read from. Strings returned by
 * dgen_json_compact() belong to the object (json-c's own buffer).
 *
 * Every getter takes the path of the object it reads ("blocks[1].config") so
 * an error names the exact field: "blocks[1].config.temperature".
 */
#ifndef DGEN_JSON_H
#define DGEN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/err.h"

struct dgen_json_limits {
	size_t max_bytes;    /* whole text */
	int max_depth;       /* nesting of arrays/objects */
	size_t max_elements; /* values in the whole document */
	size_t max_string;   /* bytes in one string */
};

/* Defaults of SPEC.md: 1 MiB body, depth 64, 1 MiB strings. */
extern const struct dgen_json_limits dgen_json_default_limits;

/* Parses exactly one JSON value from s[0..len), strictly RFC 8259 (see
 * json_parse.c for everything refused: NaN, "2.", leading zeros, single
 * quotes, comments, trailing commas, raw control characters, invalid UTF-8,
 * lone surrogates, escaped NULs, duplicate keys), within limits. Trailing
 * non-space bytes are an error. Errors: DGEN_EBADREQ (syntax, with the
 * byte "offset", "line" and "column" in detail) or DGEN_ETOOBIG. */
int dgen_json_parse(const char *s, size_t len, const struct dgen_json_limits *lim,
		    struct json_object **out, struct dgen_err *err);

/* Compact text of v ("null" for NULL), owned by v. */
const char *dgen_json_compact(struct json_object *v);
/* Pretty text, 2-space indent, keys in insertion order, '/' unescaped. */
const char *dgen_json_pretty(struct json_object *v);

/* A new reference to a deep copy of v (NULL stays NULL). */
struct json_object *dgen_json_copy(struct json_object *v);

/* Field readers. `path` names obj in messages ("" for the top level).
 * Missing field: with required=true an error (DGEN_EBADREQ, "field is
 * required"), else *out is left as the caller's default and 0 returned.
 * A JSON null counts as missing. Wrong type is DGEN_EBADREQ. */
int dgen_json_get_str(struct json_object *obj, const char *path, const char *key,
		      bool required, const char **out, struct dgen_err *err);
int dgen_json_get_int(struct json_object *obj, const char *path, const char *key,
		      bool required, int64_t min, int64_t max, int64_t *out,
		      struct dgen_err *err);
int dgen_json_get_num(struct json_object *obj, const char *path, const char *key,
		      bool required, double *out, struct dgen_err *err);
int dgen_json_get_bool(struct json_object *obj, const char *path, const char *key,
		       bool required, bool *out, struct dgen_err *err);
int dgen_json_get_obj(struct json_object *obj, const char *path, const char *key,
		      bool required, struct json_object **out, struct dgen_err *err);
int dgen_json_get_arr(struct json_object *obj, const char *path, const char *key,
		      bool required, struct json_object **out, struct dgen_err *err);

/* Sets err to a type error for path.key ("'<path>' must be <what>"). */
int dgen_json_type_error(struct dgen_err *err, enum dgen_errcode code,
			 const char *path, const char *key, const char *what);
/* Writes "path.key" or "path[idx]" into a malloc'd string. */
char *dgen_json_path_key(const char *path, const char *key);
char *dgen_json_path_idx(const char *path, size_t idx);

/* Rejects any key of obj not in the NULL-terminated list (DGEN_EBADREQ). */
int dgen_json_only_keys(struct json_object *obj, const char *path,
			const char *const *allowed, struct dgen_err *err);

/* A JSON number that prints as the shortest text reading back to v, the
 * way Python prints floats (0.1, 0.6666666666666666, 3.0), not json-c's
 * default %.17g. Use it for every computed double (scores, timings).
 * NaN and +-Infinity, which JSON cannot carry, become JSON null (NULL):
 * a metric that cannot be computed reads as "no value", not as an error.
 * dgen_json_compact() and dgen_json_pretty() print every double this way,
 * whatever made it. */
struct json_object *dgen_json_new_double(double v);
/* The shortest round-trip text of v into txt; false for NaN/Infinity. */
bool dgen_json_double_text(double v, char txt[40]);

/* Appends s[0..n) to b as a JSON string, quotes included, escaped as
 * dgen_json_compact() escapes it (control characters, '"' and '\\'; '/'
 * and UTF-8 as they are): for bodies written without a json_object. */
struct dgen_buf;
void dgen_json_put_string(struct dgen_buf *b, const char *s, size_t n);
/* Appends v as dgen_json_compact() prints it (v is not changed). */
void dgen_json_put_compact(struct dgen_buf *b, struct json_object *v);

/* Adds a string (or JSON null for NULL) to obj. */
void dgen_json_add_str(struct json_object *obj, const char *key, const char *val);

#endif
