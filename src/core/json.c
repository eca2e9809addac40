/*
 * json.c - JSON at the edge of dgen. Every byte that arrives from outside
 * (request bodies, seed files, LLM replies) is parsed here with hard caps
 * on size, nesting, element count and string length, so code past this
 * point can trust the shape of what it holds.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/util.h"

const struct dgen_json_limits dgen_json_default_limits = {
	.max_bytes = 1 << 20,
	.max_depth = 64,
	.max_elements = 1 << 20,
	.max_string = 1 << 20,
};

/* Counts values and checks string lengths; depth is already bounded by the
 * tokener, so the recursion is too. */
static int check_tree(struct json_object *v, const struct dgen_json_limits *lim,
		      size_t *count, struct dgen_err *err)
{
	if (++*count > lim->max_elements) {
		dgen_err_set(err, DGEN_ETOOBIG, "JSON document has more than %zu values",
			     lim->max_elements);
		dgen_err_detail_int(err, "limit", (long long)lim->max_elements);
		return -1;
	}
	switch (json_object_get_type(v)) {
	case json_type_int: {
		/* json-c saturates what does not fit in 64 bits; a silently
		 * changed number is worse than a refused one. */
		int64_t n = json_object_get_int64(v);

		if (n == INT64_MAX || n == INT64_MIN) {
			dgen_err_set(err, DGEN_EBADREQ,
				     "a JSON integer is out of range (at most 19 digits: "
				     "-9223372036854775807 to 9223372036854775806)");
			return -1;
		}
		break;
	}
	case json_type_string:
		if ((size_t)json_object_get_string_len(v) > lim->max_string) {
			dgen_err_set(err, DGEN_ETOOBIG, "a JSON string is longer than %zu bytes",
				     lim->max_string);
			dgen_err_detail_int(err, "limit", (long long)lim->max_string);
			return -1;
		}
		break;
	case json_type_array: {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			if (check_tree(json_object_array_get_idx(v, i), lim, count, err))
				return -1;
		break;
	}
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			if (strlen(key) > lim->max_string) {
				dgen_err_set(err, DGEN_ETOOBIG, "a JSON key is longer than %zu bytes",
					     lim->max_string);
				return -1;
			}
			if (check_tree(val, lim, count, err))
				return -1;
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool all_ws(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_ws(s[i]))
			return false;
	return true;
}

/*
 * True when the text escapes a NUL character (\u0000): json-c would cut
 * the string (or key) there without a word, so a stored value would not
 * be what was sent. An escaped backslash before "u0000" does not count.
 */
static bool has_escaped_nul(const char *s, size_t len)
{
	for (size_t i = 0; i + 5 < len; i++) {
		size_t nb = 0;

		if (s[i + 1] != 'u' || memcmp(s + i + 1, "u0000", 5) != 0 || s[i] != '\\')
			continue;
		while (nb <= i && s[i - nb] == '\\')
			nb++;
		if (nb % 2 == 1)
			return true;
	}
	return false;
}

/* Line and column (1-based) of byte offset off, for error messages. */
static void position(const char *s, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

int dgen_json_parse(const char *s, size_t len, const struct dgen_json_limits *lim,
		    struct json_object **out, struct dgen_err *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *v = NULL;
	enum json_tokener_error jerr;
	size_t end, count = 0;
	bool at_end = false;
	int line, col, rc = -1;

	*out = NULL;
	if (!lim)
		lim = &dgen_json_default_limits;
	if (len > lim->max_bytes) {
		dgen_err_set(err, DGEN_ETOOBIG, "JSON body is larger than the limit of %zu bytes",
			     lim->max_bytes);
		dgen_err_detail_int(err, "limit", (long long)lim->max_bytes);
		goto out;
	}
	if (memchr(s, '\0', len)) {
		dgen_err_set(err, DGEN_EBADREQ, "JSON text contains a NUL byte");
		goto out;
	}
	if (!dgen_utf8_valid(s, len)) {
		dgen_err_set(err, DGEN_EBADREQ, "JSON text is not valid UTF-8");
		goto out;
	}
	if (has_escaped_nul(s, len)) {
		dgen_err_set(err, DGEN_EBADREQ, "JSON text contains a NUL character (\\u0000)");
		goto out;
	}
	if (len > (size_t)0x7fffffff) {
		dgen_err_set(err, DGEN_ETOOBIG, "JSON body is too large");
		goto out;
	}
	tok = json_tokener_new_ex(lim->max_depth);
	if (!tok) {
		dgen_err_set(err, DGEN_EINTERNAL, "cannot allocate a JSON parser");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, s, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* Flush a trailing number such as "12" that needs an end marker;
		 * an error now is at the end of the text (an unclosed value). */
		v = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
		at_end = true;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	if (jerr == json_tokener_error_depth) {
		dgen_err_set(err, DGEN_EBADREQ, "JSON is nested deeper than %d levels",
			     lim->max_depth);
		dgen_err_detail_int(err, "limit", lim->max_depth);
		goto out;
	}
	if (jerr != json_tokener_success || (!v && len == 0)) {
		size_t off = at_end ? len : json_tokener_get_parse_end(tok);

		if (off > len)
			off = len;
		position(s, off, &line, &col);
		if (all_ws(s, len))
			dgen_err_set(err, DGEN_EBADREQ, "JSON body is empty");
		else
			dgen_err_set(err, DGEN_EBADREQ, "malformed JSON at line %d, column %d: %s",
				     line, col, json_tokener_error_desc(jerr));
		dgen_err_detail_int(err, "line", line);
		dgen_err_detail_int(err, "column", col);
		goto out;
	}
	for (size_t i = end; i < len; i++) {
		if (!is_ws(s[i])) {
			position(s, i, &line, &col);
			dgen_err_set(err, DGEN_EBADREQ,
				     "malformed JSON at line %d, column %d: unexpected text after the value",
				     line, col);
			dgen_err_detail_int(err, "line", line);
			dgen_err_detail_int(err, "column", col);
			goto out;
		}
	}
	if (check_tree(v, lim, &count, err))
		goto out;
	*out = v;
	v = NULL;
	rc = 0;
out:
	if (v)
		json_object_put(v);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

const char *dgen_json_compact(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *dgen_json_pretty(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_SPACED |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
}

struct json_object *dgen_json_copy(struct json_object *v)
{
	struct json_object *c = NULL;

	if (!v)
		return NULL;
	if (json_object_deep_copy(v, &c, NULL) != 0)
		abort(); /* only fails on allocation */
	return c;
}

/*
 * Shortest round-trip text: try increasing precision until the text reads
 * back to the same double. Integral values keep a ".0" so the number stays
 * a float to a reader, as Python prints it.
 */
struct json_object *dgen_json_new_double(double v)
{
	char txt[40];

	if (!isfinite(v))
		return json_object_new_double(v);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(txt, sizeof txt, "%.*g", prec, v);
		if (strtod(txt, NULL) == v)
			break;
	}
	if (!strpbrk(txt, ".eEn"))
		strcat(txt, ".0");
	return json_object_new_double_s(v, txt);
}

char *dgen_json_path_key(const char *path, const char *key)
{
	if (!path || !*path)
		return dgen_xstrdup(key);
	return dgen_xasprintf("%s.%s", path, key);
}

char *dgen_json_path_idx(const char *path, size_t idx)
{
	return dgen_xasprintf("%s[%zu]", path ? path : "", idx);
}

int dgen_json_type_error(struct dgen_err *err, enum dgen_errcode code,
			 const char *path, const char *key, const char *what)
{
	char *field = key ? dgen_json_path_key(path, key) : dgen_xstrdup(path ? path : "");

	dgen_err_set(err, code, "'%s' must be %s", field, what);
	dgen_err_detail_str(err, "field", field);
	free(field);
	return -1;
}

/* Looks key up; returns 1 when present and not null, 0 when absent, and
 * sets the "required" error when absent and required (-1). */
static int lookup(struct json_object *obj, const char *path, const char *key,
		  bool required, struct json_object **v, struct dgen_err *err)
{
	*v = NULL;
	if (obj && json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, key, v) && *v)
		return 1;
	if (required) {
		char *field = dgen_json_path_key(path, key);

		dgen_err_set(err, DGEN_EBADREQ, "'%s' is required", field);
		dgen_err_detail_str(err, "field", field);
		free(field);
		return -1;
	}
	return 0;
}

int dgen_json_get_str(struct json_object *obj, const char *path, const char *key,
		      bool required, const char **out, struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup(obj, path, key, required, &v, err);

	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_string))
		return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "a string");
	*out = json_object_get_string(v);
	return 0;
}

int dgen_json_get_int(struct json_object *obj, const char *path, const char *key,
		      bool required, int64_t min, int64_t max, int64_t *out,
		      struct dgen_err *err)
{
	struct json_object *v;
	int64_t n;
	int r = lookup(obj, path, key, required, &v, err);

	if (r <= 0)
		return r;
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (d != floor(d) || d < -9e18 || d > 9e18)
			return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "an integer");
		n = (int64_t)d;
	} else if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
	} else {
		return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "an integer");
	}
	if (n < min || n > max) {
		char *field = dgen_json_path_key(path, key);

		dgen_err_set(err, DGEN_EBADREQ, "'%s' must be between %lld and %lld", field,
			     (long long)min, (long long)max);
		dgen_err_detail_str(err, "field", field);
		dgen_err_detail_int(err, "min", min);
		dgen_err_detail_int(err, "max", max);
		free(field);
		return -1;
	}
	*out = n;
	return 0;
}

int dgen_json_get_num(struct json_object *obj, const char *path, const char *key,
		      bool required, double *out, struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup(obj, path, key, required, &v, err);

	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "a number");
	*out = json_object_get_double(v);
	return 0;
}

int dgen_json_get_bool(struct json_object *obj, const char *path, const char *key,
		       bool required, bool *out, struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup(obj, path, key, required, &v, err);

	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_boolean))
		return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

int dgen_json_get_obj(struct json_object *obj, const char *path, const char *key,
		      bool required, struct json_object **out, struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup(obj, path, key, required, &v, err);

	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_object))
		return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "an object");
	*out = v;
	return 0;
}

int dgen_json_get_arr(struct json_object *obj, const char *path, const char *key,
		      bool required, struct json_object **out, struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup(obj, path, key, required, &v, err);

	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_array))
		return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "an array");
	*out = v;
	return 0;
}

int dgen_json_only_keys(struct json_object *obj, const char *path,
			const char *const *allowed, struct dgen_err *err)
{
	json_object_object_foreach(obj, key, val) {
		bool found = false;

		(void)val;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], key) == 0)
				found = true;
		if (!found) {
			struct json_object *list = json_object_new_array();
			char *field = dgen_json_path_key(path, key);

			for (size_t i = 0; allowed[i]; i++)
				json_object_array_add(list, json_object_new_string(allowed[i]));
			dgen_err_set(err, DGEN_EBADREQ, "unknown field '%s'", field);
			dgen_err_detail_str(err, "field", field);
			dgen_err_detail(err, "allowed", list);
			free(field);
			return -1;
		}
	}
	return 0;
}

void dgen_json_add_str(struct json_object *obj, const char *key, const char *val)
{
	json_object_object_add(obj, key, val ? json_object_new_string(val) : NULL);
}
