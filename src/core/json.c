/*
 * json.c - JSON at the edge of dgen. Every byte that arrives from outside
 * (request bodies, seed files, LLM replies) is parsed here with hard caps
 * on size, nesting, element count and string length, so code past this
 * point can trust the shape of what it holds.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/json.h"
#include "dgen/util.h"

const struct dgen_json_limits dgen_json_default_limits = {
	.max_bytes = 1 << 20,
	.max_depth = 64,
	.max_elements = 1 << 20,
	.max_string = 1 << 20,
};

/* Prints a double the way dgen_json_new_double() does, and a non-finite
 * one (which only arithmetic can make) as null: never NaN or Infinity. */
static int double_serializer(struct json_object *jso, struct printbuf *pb, int level,
			     int flags)
{
	char txt[40];

	(void)level;
	(void)flags;
	if (!dgen_json_double_text(json_object_get_double(jso), txt))
		return printbuf_strappend(pb, "null");
	return printbuf_memappend(pb, txt, (int)strlen(txt));
}

/*
 * Before dgen writes a value, every double in it gets the serializer
 * above, so whatever made the number (json-c's %.17g default, the text
 * it was parsed from) it prints in one strict, shortest form.
 */
static void normalize_doubles(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		json_object_set_serializer(v, double_serializer, NULL, NULL);
		break;
	case json_type_array: {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			normalize_doubles(json_object_array_get_idx(v, i));
		break;
	}
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			(void)key;
			normalize_doubles(val);
		}
		break;
	}
	default:
		break;
	}
}

const char *dgen_json_compact(struct json_object *v)
{
	normalize_doubles(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *dgen_json_pretty(struct json_object *v)
{
	normalize_doubles(v);
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

/* The significant digits of the "%.*e" text t, trailing zeros dropped
 * (at least one). */
static int e_digits(const char *t)
{
	int n = 0, last = 1;

	for (; *t && *t != 'e'; t++) {
		if (*t >= '0' && *t <= '9') {
			n++;
			if (*t != '0')
				last = n;
		}
	}
	return last;
}

/* The fewest significant digits (1..17) that read back to v. A normal
 * double is within half an ulp (< 1.2e-16 relative) of any shorter text
 * that reads back to it, nearer than half a unit of the 15th digit; so
 * when 15 digits read back, the shortest is those 15 without their
 * trailing zeros, and when they do not, no shorter text does either:
 * three conversions at most, not seventeen. Subnormals have fewer bits
 * and take the plain search. */
static int shortest_prec(double v, char txt[40])
{
	int prec;

	if (fabs(v) < DBL_MIN) {
		for (prec = 1; prec < 17; prec++) {
			snprintf(txt, 40, "%.*e", prec - 1, v);
			if (strtod(txt, NULL) == v)
				return prec;
		}
		return 17;
	}
	snprintf(txt, 40, "%.14e", v);
	if (strtod(txt, NULL) == v)
		return e_digits(txt);
	snprintf(txt, 40, "%.15e", v);
	return strtod(txt, NULL) == v ? 16 : 17;
}

/*
 * The fast path of double_text: v in [1e-4, 1e9) in magnitude that is the
 * double nearest a number with at most six decimals (a timing rounded to
 * the microsecond, a temperature, a 0.25 score) prints as that number,
 * trailing zeros dropped. It is the shortest text reading back to v: the
 * doubles there are less than 1.2e-7 apart, so no other number of six
 * decimals or fewer reads back to v. Integer arithmetic only, no printf
 * conversions of a double (double_text's search takes up to five).
 */
static bool micro_text(double v, char txt[40])
{
	double a = fabs(v);
	long long us;
	char *p = txt;
	int n;

	if (!(a >= 1e-4 && a < 1e9))
		return false;
	us = llround(a * 1e6);
	if ((double)us / 1e6 != a)
		return false;
	if (v < 0)
		*p++ = '-';
	n = snprintf(p, 38, "%lld.%06lld", us / 1000000, us % 1000000);
	while (n > 2 && p[n - 1] == '0' && p[n - 2] != '.')
		n--;
	p[n] = '\0';
	return true;
}

/*
 * Shortest round-trip text. Integral values keep a ".0" so the number
 * stays a float to a reader, as Python prints it. False (txt empty) when
 * v is NaN or infinite, which JSON cannot carry.
 */
static bool double_text(double v, char txt[40])
{
	int prec, exp;

	txt[0] = '\0';
	if (!isfinite(v))
		return false;
	/* Whole numbers below 1e15 print as their digits (-0.0 aside). */
	if (v == trunc(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
		snprintf(txt, 40, "%lld.0", (long long)v);
		return true;
	}
	if (micro_text(v, txt))
		return true;
	prec = shortest_prec(v, txt);
	snprintf(txt, 40, "%.*e", prec - 1, v);
	/* Python's repr: plain digits for exponents -4..15, else d.ddde+XX. */
	exp = atoi(strchr(txt, 'e') + 1);
	if (exp >= -4 && exp < 16) {
		snprintf(txt, 40, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
		if (!strchr(txt, '.'))
			strcat(txt, ".0");
	}
	return true;
}

/* Bytes a JSON string cannot carry as they are: control characters,
 * '"' and '\\'. */
static const unsigned char json_escaped[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* Plain runs are copied whole into room reserved once for the string;
 * only an escape asks the buffer for more. */
void dgen_json_put_string(struct dgen_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	dgen_buf_reserve(b, n + 2);
	b->data[b->len++] = '"';
	for (;;) {
		size_t from = i;
		char esc[6] = "\\u00";
		size_t el = 2;

		while (i < n && !json_escaped[u[i]])
			i++;
		memcpy(b->data + b->len, s + from, i - from);
		b->len += i - from;
		if (i == n)
			break;
		switch (u[i]) {
		case '\b': esc[1] = 'b'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\f': esc[1] = 'f'; break;
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		default:
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0x0F];
			el = 6;
		}
		/* room for the escape and the rest of the string, as plain */
		dgen_buf_reserve(b, el + (n - i - 1) + 1);
		memcpy(b->data + b->len, esc, el);
		b->len += el;
		i++;
	}
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
}

/*
 * What dgen_json_compact() prints, appended to b: json-c's plain form
 * (no spaces, members in their order, '/' unescaped, strings escaped by
 * dgen_json_put_string() the way json-c does) with every double in
 * dgen_json_double_text()'s form or null. Written straight into the
 * caller's buffer, in runs, without json-c's printbuf and per-byte
 * escaping, and without marking v's doubles.
 */
void dgen_json_put_compact(struct dgen_buf *b, struct json_object *v)
{
	char txt[40];

	switch (json_object_get_type(v)) {
	case json_type_null:
		dgen_buf_append(b, "null", 4);
		break;
	case json_type_boolean:
		if (json_object_get_boolean(v))
			dgen_buf_append(b, "true", 4);
		else
			dgen_buf_append(b, "false", 5);
		break;
	case json_type_double:
		if (dgen_json_double_text(json_object_get_double(v), txt))
			dgen_buf_puts(b, txt);
		else
			dgen_buf_append(b, "null", 4);
		break;
	case json_type_int: {
		int64_t n = json_object_get_int64(v);

		uint64_t u = n < 0 ? -(uint64_t)n : (uint64_t)n;
		char d[24], *e = d + sizeof d, *p = e;

		/* json-c keeps integers above INT64_MAX as unsigned */
		if (n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			u = json_object_get_uint64(v);
		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10) > 0);
		if (n < 0)
			*--p = '-';
		dgen_buf_append(b, p, (size_t)(e - p));
		break;
	}
	case json_type_string:
		dgen_json_put_string(b, json_object_get_string(v),
				     (size_t)json_object_get_string_len(v));
		break;
	case json_type_array: {
		size_t n = json_object_array_length(v);

		dgen_buf_putc(b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				dgen_buf_putc(b, ',');
			dgen_json_put_compact(b, json_object_array_get_idx(v, i));
		}
		dgen_buf_putc(b, ']');
		break;
	}
	case json_type_object: {
		bool first = true;

		dgen_buf_putc(b, '{');
		json_object_object_foreach(v, key, val) {
			if (!first)
				dgen_buf_putc(b, ',');
			first = false;
			dgen_json_put_string(b, key, strlen(key));
			dgen_buf_putc(b, ':');
			dgen_json_put_compact(b, val);
		}
		dgen_buf_putc(b, '}');
		break;
	}
	}
}

/*
 * The texts made last on this thread, by bit pattern. glibc's exact
 * conversions cost thousands of instructions a number, and the same
 * numbers come back: a double made with dgen_json_new_double() is printed
 * again by double_serializer() when its value is written, and every
 * request of a block carries the same temperature.
 */
#define TEXT_CACHE 8
static __thread struct {
	uint64_t bits;
	bool set;
	char txt[40];
} text_cache[TEXT_CACHE];

bool dgen_json_double_text(double v, char txt[40])
{
	uint64_t bits;
	size_t i;

	memcpy(&bits, &v, sizeof bits);
	i = (size_t)((bits ^ (bits >> 17) ^ (bits >> 41)) % TEXT_CACHE);
	if (text_cache[i].set && text_cache[i].bits == bits) {
		memcpy(txt, text_cache[i].txt, sizeof text_cache[i].txt);
		return true;
	}
	if (!double_text(v, txt))
		return false;
	text_cache[i].bits = bits;
	text_cache[i].set = true;
	memcpy(text_cache[i].txt, txt, sizeof text_cache[i].txt);
	return true;
}

struct json_object *dgen_json_new_double(double v)
{
	char txt[40];

	if (!dgen_json_double_text(v, txt))
		return NULL;
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

/* lookup() and a type check in one: 1 with the value in *out when it is
 * there and its json type is one of `types` (a mask of TYPE() bits), 0
 * when it is absent and optional (*out untouched: the caller's default),
 * -1 with "'<field>' must be <what>" or "is required". */
#define TYPE(t) (1u << (t))
static int lookup_as(struct json_object *obj, const char *path, const char *key, bool required,
		     unsigned types, const char *what, struct json_object **out,
		     struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup(obj, path, key, required, &v, err);

	if (r > 0 && !(types & TYPE(json_object_get_type(v))))
		return dgen_json_type_error(err, DGEN_EBADREQ, path, key, what);
	if (r > 0)
		*out = v;
	return r;
}

int dgen_json_get_str(struct json_object *obj, const char *path, const char *key,
		      bool required, const char **out, struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup_as(obj, path, key, required, TYPE(json_type_string), "a string", &v, err);

	if (r > 0)
		*out = json_object_get_string(v);
	return r < 0 ? -1 : 0;
}

/* An integer, also written as a double with no fraction (1.0, 1e3). */
int dgen_json_get_int(struct json_object *obj, const char *path, const char *key,
		      bool required, int64_t min, int64_t max, int64_t *out,
		      struct dgen_err *err)
{
	struct json_object *v;
	int64_t n;
	int r = lookup_as(obj, path, key, required, TYPE(json_type_double) | TYPE(json_type_int),
			  "an integer", &v, err);

	if (r <= 0)
		return r;
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (d != floor(d) || d < -9e18 || d > 9e18)
			return dgen_json_type_error(err, DGEN_EBADREQ, path, key, "an integer");
		n = (int64_t)d;
	} else {
		n = json_object_get_int64(v);
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
	int r = lookup_as(obj, path, key, required, TYPE(json_type_double) | TYPE(json_type_int),
			  "a number", &v, err);

	if (r > 0)
		*out = json_object_get_double(v);
	return r < 0 ? -1 : 0;
}

int dgen_json_get_bool(struct json_object *obj, const char *path, const char *key,
		       bool required, bool *out, struct dgen_err *err)
{
	struct json_object *v;
	int r = lookup_as(obj, path, key, required, TYPE(json_type_boolean), "true or false", &v,
			  err);

	if (r > 0)
		*out = json_object_get_boolean(v);
	return r < 0 ? -1 : 0;
}

int dgen_json_get_obj(struct json_object *obj, const char *path, const char *key,
		      bool required, struct json_object **out, struct dgen_err *err)
{
	return lookup_as(obj, path, key, required, TYPE(json_type_object), "an object", out,
			 err) < 0 ? -1 : 0;
}

int dgen_json_get_arr(struct json_object *obj, const char *path, const char *key,
		      bool required, struct json_object **out, struct dgen_err *err)
{
	return lookup_as(obj, path, key, required, TYPE(json_type_array), "an array", out,
			 err) < 0 ? -1 : 0;
}
#undef TYPE

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
