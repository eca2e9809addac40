/*
 * template_render.c - renders a compiled template over a json-c context.
 *
 * Values follow Python/Jinja2 semantics (truthiness, ==, arithmetic,
 * str() and repr() printing) with Jinja2's StrictUndefined: a missing
 * variable is carried as an "undefined" value and becomes an error the
 * moment it is printed, tested for truth, iterated or computed with.
 *
 * A render keeps all its state in one struct on the caller's stack, so
 * any number of renders of the same template run at once. Temporary
 * values live in an arena released statement by statement; a render
 * that only prints variables allocates nothing but output.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/template.h"
#include "dgen/util.h"
#include "template_int.h"

struct tpl_bind {
	const char *name;
	size_t n;
	struct tpl_val v;
};

/* A for loop's items: a borrowed sequence or a materialised array. */
struct iterv {
	const struct tpl_val *arr; /* NULL: read src lazily */
	struct tpl_val src;
	size_t n;
};

struct tpl_loop {
	const struct iterv *it;
	const size_t *sel; /* indices kept by the loop's `if`, or NULL */
	size_t pos, length;
};

struct tpl_rs {
	struct json_object *ctx;
	struct dgen_buf *out;
	size_t out_left;
	size_t max_output;
	long iters_left;
	long max_iterations;
	struct tpl_arena mem;
	struct tpl_bind *binds;
	size_t nbinds, cap, frame;
	struct tpl_bind local[16];
	struct dgen_buf scratch;
	struct dgen_err *err;
	int depth;
};

/* ---- errors ---- */

int tpl_error(struct tpl_rs *s, int line, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	dgen_err_set(s->err, DGEN_EINVALID, "template error at line %d: %s", line, what);
	dgen_err_detail_int(s->err, "line", line);
	return -1;
}

int tpl_limit(struct tpl_rs *s, int line, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	dgen_err_set(s->err, DGEN_ELIMIT, "template limit reached at line %d: %s", line, what);
	dgen_err_detail_int(s->err, "line", line);
	return -1;
}

long tpl_max_iterations(const struct tpl_rs *s)
{
	return s->max_iterations;
}

int tpl_limit_error(struct tpl_rs *s, int line)
{
	dgen_err_set(s->err, DGEN_ELIMIT,
		     "template rendering needs too much memory (limit %zu bytes) at line %d",
		     s->mem.budget, line);
	dgen_err_detail_int(s->err, "line", line);
	dgen_err_detail_int(s->err, "limit", (long long)s->mem.budget);
	return -1;
}

static const char *owner_name(int owner)
{
	switch (owner) {
	case VT_NONE: return "None";
	case VT_BOOL: return "bool object";
	case VT_INT: return "int object";
	case VT_FLOAT: return "float object";
	case VT_STR: return "str object";
	case VT_LIST: return "list object";
	case VT_JLIST: return "list object";
	case VT_DICT: return "dict object";
	case VT_RANGE: return "range object";
	case VT_LOOP: return "LoopContext object";
	case 100: return "tuple object";
	default: return "object";
	}
}

static void py_str_repr(struct dgen_buf *b, const char *p, size_t n);

int tpl_undef_error(struct tpl_rs *s, int line, const struct tpl_val *v)
{
	struct dgen_buf b = DGEN_BUF_INIT;

	switch (v->ukind) {
	case U_NAME:
		py_str_repr(&b, v->u.u.name, v->u.u.n);
		dgen_buf_puts(&b, " is undefined");
		break;
	case U_ATTR:
		py_str_repr(&b, owner_name(v->uowner), strlen(owner_name(v->uowner)));
		dgen_buf_puts(&b, " has no attribute ");
		py_str_repr(&b, v->u.u.name, v->u.u.n);
		break;
	case U_ELEM:
		dgen_buf_printf(&b, "%s has no element %.*s", owner_name(v->uowner),
				(int)v->u.u.n, v->u.u.name);
		break;
	case U_HINT:
		dgen_buf_append(&b, v->u.u.name, v->u.u.n);
		break;
	default:
		dgen_buf_puts(&b, "a required argument is missing");
	}
	if (b.len > 300)
		dgen_buf_truncate(&b, 300);
	dgen_err_set(s->err, DGEN_EINVALID, "undefined variable in template: %s", dgen_buf_str(&b));
	dgen_err_detail_int(s->err, "line", line);
	dgen_buf_free(&b);
	return -1;
}

/* ---- memory ---- */

void *tpl_ralloc(struct tpl_rs *s, int line, size_t n)
{
	void *p = tpl_alloc(&s->mem, n);

	if (!p)
		tpl_limit_error(s, line);
	return p;
}

int tpl_mkstr(struct tpl_rs *s, int line, const char *p, size_t n, struct tpl_val *out)
{
	char *d = tpl_ralloc(s, line, n + 1);

	if (!d)
		return -1;
	memcpy(d, p, n);
	d[n] = '\0';
	memset(out, 0, sizeof *out);
	out->t = VT_STR;
	out->u.s.p = d;
	out->u.s.n = n;
	return 0;
}

struct dgen_buf *tpl_scratch(struct tpl_rs *s)
{
	return &s->scratch;
}

int tpl_room(struct tpl_rs *s, int line, const struct dgen_buf *b)
{
	if (b->len > s->mem.budget - (s->mem.spent < s->mem.budget ? s->mem.spent : s->mem.budget))
		return tpl_limit_error(s, line);
	return 0;
}

int tpl_scratch_str(struct tpl_rs *s, int line, size_t from, struct tpl_val *out)
{
	int rc = tpl_mkstr(s, line, s->scratch.data ? s->scratch.data + from : "",
			   s->scratch.len - from, out);

	dgen_buf_truncate(&s->scratch, from);
	return rc;
}

bool tpl_is_absent(const struct tpl_val *v)
{
	return v->t == VT_UNDEF && v->ukind == U_ABSENT;
}

/* ---- numbers ---- */

/* Python's float repr: the shortest digits that read back to the same
 * double, in fixed notation for exponents -4..15, else scientific. */
void template_format_number(struct dgen_buf *out, double v, int is_int, long long iv)
{
	char tmp[40], digits[24];
	int p, exp10, nd = 0, decpt;
	const char *q;

	if (is_int) {
		dgen_buf_printf(out, "%lld", iv);
		return;
	}
	if (isnan(v)) {
		dgen_buf_puts(out, "nan");
		return;
	}
	if (isinf(v)) {
		dgen_buf_puts(out, v < 0 ? "-inf" : "inf");
		return;
	}
	if (v == 0) {
		dgen_buf_puts(out, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	q = tmp;
	if (*q == '-') {
		dgen_buf_putc(out, '-');
		q++;
	}
	while (*q && *q != 'e') {
		if (*q >= '0' && *q <= '9')
			digits[nd++] = *q;
		q++;
	}
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	exp10 = atoi(q + 1);
	decpt = exp10 + 1;
	if (decpt <= -4 || decpt > 16) {
		dgen_buf_putc(out, digits[0]);
		if (nd > 1) {
			dgen_buf_putc(out, '.');
			dgen_buf_append(out, digits + 1, (size_t)nd - 1);
		}
		dgen_buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	} else if (decpt <= 0) {
		dgen_buf_puts(out, "0.");
		for (int i = 0; i < -decpt; i++)
			dgen_buf_putc(out, '0');
		dgen_buf_append(out, digits, (size_t)nd);
	} else if (decpt >= nd) {
		dgen_buf_append(out, digits, (size_t)nd);
		for (int i = nd; i < decpt; i++)
			dgen_buf_putc(out, '0');
		dgen_buf_puts(out, ".0");
	} else {
		dgen_buf_append(out, digits, (size_t)decpt);
		dgen_buf_putc(out, '.');
		dgen_buf_append(out, digits + decpt, (size_t)(nd - decpt));
	}
}

/* ---- value basics ---- */

void tpl_from_json(struct json_object *j, struct tpl_val *out)
{
	memset(out, 0, sizeof *out);
	switch (json_object_get_type(j)) {
	case json_type_null:
		out->t = VT_NONE;
		break;
	case json_type_boolean:
		out->t = VT_BOOL;
		out->u.b = json_object_get_boolean(j) ? 1 : 0;
		break;
	case json_type_int:
		out->t = VT_INT;
		out->u.i = json_object_get_int64(j);
		if (out->u.i == INT64_MAX && json_object_get_uint64(j) > (uint64_t)INT64_MAX) {
			/* past 64-bit signed: the nearest float, not a clamped int */
			out->t = VT_FLOAT;
			out->u.d = (double)json_object_get_uint64(j);
		}
		break;
	case json_type_double:
		out->t = VT_FLOAT;
		out->u.d = json_object_get_double(j);
		break;
	case json_type_string:
		out->t = VT_STR;
		out->u.s.p = json_object_get_string(j);
		out->u.s.n = (size_t)json_object_get_string_len(j);
		break;
	case json_type_array:
		out->t = VT_JLIST;
		out->u.j = j;
		break;
	case json_type_object:
		out->t = VT_DICT;
		out->u.j = j;
		break;
	}
}

const char *tpl_type_name(const struct tpl_val *v)
{
	switch (v->t) {
	case VT_UNDEF: return "Undefined";
	case VT_NONE: return "NoneType";
	case VT_BOOL: return "bool";
	case VT_INT: return "int";
	case VT_FLOAT: return "float";
	case VT_STR: return "str";
	case VT_LIST: return v->tuple ? "tuple" : "list";
	case VT_JLIST: return "list";
	case VT_DICT: return "dict";
	case VT_RANGE: return "range";
	case VT_LOOP: return "LoopContext";
	}
	return "object";
}

static void set_undef(struct tpl_val *v, int kind, int owner, const char *name, size_t n)
{
	memset(v, 0, sizeof *v);
	v->t = VT_UNDEF;
	v->ukind = (unsigned char)kind;
	v->uowner = (unsigned char)owner;
	v->u.u.name = name;
	v->u.u.n = n;
}

static int owner_of(const struct tpl_val *v)
{
	return v->t == VT_LIST && v->tuple ? 100 : v->t;
}

static size_t list_len(const struct tpl_val *v)
{
	switch (v->t) {
	case VT_LIST: return v->u.l.n;
	case VT_JLIST: return json_object_array_length(v->u.j);
	case VT_RANGE: return (size_t)v->u.r.n;
	default: return 0;
	}
}

/* Element i of a list, tuple, JSON array or range (i < list_len). */
static void list_get(const struct tpl_val *v, size_t i, struct tpl_val *out)
{
	if (v->t == VT_LIST)
		*out = v->u.l.v[i];
	else if (v->t == VT_JLIST)
		tpl_from_json(json_object_array_get_idx(v->u.j, i), out);
	else /* in range by construction; unsigned arithmetic avoids UB on the way */
		tpl_set_int(out, (long long)((unsigned long long)v->u.r.start +
					 (unsigned long long)i * (unsigned long long)v->u.r.step));
}

static bool is_listlike(const struct tpl_val *v)
{
	return v->t == VT_LIST || v->t == VT_JLIST || v->t == VT_RANGE;
}

bool tpl_is_seq(const struct tpl_val *v)
{
	return is_listlike(v) || v->t == VT_STR || v->t == VT_DICT;
}

int tpl_truthy(struct tpl_rs *s, int line, const struct tpl_val *v, bool *out)
{
	switch (v->t) {
	case VT_UNDEF: return tpl_undef_error(s, line, v);
	case VT_NONE: *out = false; break;
	case VT_BOOL: *out = v->u.b; break;
	case VT_INT: *out = v->u.i != 0; break;
	case VT_FLOAT: *out = v->u.d != 0; break;
	case VT_STR: *out = v->u.s.n > 0; break;
	case VT_LIST: case VT_JLIST: case VT_RANGE: *out = list_len(v) > 0; break;
	case VT_DICT: *out = json_object_object_length(v->u.j) > 0; break;
	default: *out = true;
	}
	return 0;
}

/* ---- printing ---- */

/* Characters Python's repr() escapes: controls, separators, format
 * characters and private use (the common ones; not the whole database). */
static bool py_printable(unsigned c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad)
		return false;
	if (c < 0x300)
		return true;
	if (c == 0x1680 || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	    (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe000 && c <= 0xf8ff) || c == 0x180e ||
	    (c >= 0x600 && c <= 0x605) || c == 0x61c || c == 0x6dd || c == 0x70f ||
	    c >= 0xf0000 || (c >= 0xd800 && c <= 0xdfff))
		return false;
	return true;
}

static void py_str_repr(struct dgen_buf *b, const char *p, size_t n)
{
	char q = '\'';
	size_t i = 0, adv;

	if (memchr(p, '\'', n) && !memchr(p, '"', n))
		q = '"';
	dgen_buf_putc(b, q);
	while (i < n) {
		unsigned c = tpl_utf8_decode(p + i, n - i, &adv);

		if (c == (unsigned char)q || c == '\\') {
			dgen_buf_putc(b, '\\');
			dgen_buf_putc(b, (char)c);
		} else if (c == '\n') {
			dgen_buf_puts(b, "\\n");
		} else if (c == '\r') {
			dgen_buf_puts(b, "\\r");
		} else if (c == '\t') {
			dgen_buf_puts(b, "\\t");
		} else if (!py_printable(c)) {
			if (c < 0x100)
				dgen_buf_printf(b, "\\x%02x", c);
			else if (c < 0x10000)
				dgen_buf_printf(b, "\\u%04x", c);
			else
				dgen_buf_printf(b, "\\U%08x", c);
		} else {
			dgen_buf_append(b, p + i, adv);
		}
		i += adv;
	}
	dgen_buf_putc(b, q);
}

static int repr_rec(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b,
		    bool top);

static int repr_items(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b)
{
	size_t n = list_len(v);
	bool tuple = v->t == VT_LIST && v->tuple;

	dgen_buf_putc(b, tuple ? '(' : '[');
	for (size_t i = 0; i < n; i++) {
		struct tpl_val x;

		if (i)
			dgen_buf_puts(b, ", ");
		list_get(v, i, &x);
		if (repr_rec(s, line, &x, b, false) < 0 || tpl_room(s, line, b) < 0)
			return -1;
	}
	if (tuple && n == 1)
		dgen_buf_putc(b, ',');
	dgen_buf_putc(b, tuple ? ')' : ']');
	return 0;
}

static int repr_rec(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b,
		    bool top)
{
	int rc = 0;

	switch (v->t) {
	case VT_UNDEF:
		return tpl_undef_error(s, line, v);
	case VT_NONE:
		dgen_buf_puts(b, "None");
		return 0;
	case VT_BOOL:
		dgen_buf_puts(b, v->u.b ? "True" : "False");
		return 0;
	case VT_INT:
		template_format_number(b, 0, 1, v->u.i);
		return 0;
	case VT_FLOAT:
		template_format_number(b, v->u.d, 0, 0);
		return 0;
	case VT_STR:
		if (top)
			dgen_buf_append(b, v->u.s.p, v->u.s.n);
		else
			py_str_repr(b, v->u.s.p, v->u.s.n);
		return 0;
	case VT_RANGE:
		if (v->u.r.step == 1)
			dgen_buf_printf(b, "range(%lld, %lld)", v->u.r.start, v->u.r.stop);
		else
			dgen_buf_printf(b, "range(%lld, %lld, %lld)", v->u.r.start, v->u.r.stop,
					v->u.r.step);
		return 0;
	case VT_LOOP:
		dgen_buf_printf(b, "<LoopContext %zu/%zu>", v->u.loop->pos + 1, v->u.loop->length);
		return 0;
	default:
		break;
	}
	if (++s->depth > TPL_MAX_DEPTH) {
		s->depth--;
		return tpl_error(s, line, "value nested too deeply to print");
	}
	if (v->t == VT_DICT) {
		bool first = true;

		dgen_buf_putc(b, '{');
		json_object_object_foreach(v->u.j, key, val) {
			struct tpl_val x;

			if (!first)
				dgen_buf_puts(b, ", ");
			first = false;
			py_str_repr(b, key, strlen(key));
			dgen_buf_puts(b, ": ");
			tpl_from_json(val, &x);
			if ((rc = repr_rec(s, line, &x, b, false)) < 0 ||
			    (rc = tpl_room(s, line, b)) < 0)
				break;
		}
		dgen_buf_putc(b, '}');
	} else {
		rc = repr_items(s, line, v, b);
	}
	s->depth--;
	return rc;
}

int tpl_str_append(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b)
{
	return repr_rec(s, line, v, b, true);
}

int tpl_repr_append(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b)
{
	return repr_rec(s, line, v, b, false);
}

int tpl_to_str(struct tpl_rs *s, int line, const struct tpl_val *v, struct tpl_val *out)
{
	size_t from = s->scratch.len;

	if (v->t == VT_STR) {
		*out = *v;
		return 0;
	}
	if (tpl_str_append(s, line, v, &s->scratch) < 0) {
		dgen_buf_truncate(&s->scratch, from);
		return -1;
	}
	return tpl_scratch_str(s, line, from, out);
}

static void json_str(struct dgen_buf *b, const char *p, size_t n)
{
	size_t run = 0;

	dgen_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		const char *esc = NULL;
		char u[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		dgen_buf_append(b, p + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			snprintf(u, sizeof u, "\\u%04x", c);
			esc = u;
		}
		dgen_buf_puts(b, esc);
	}
	dgen_buf_append(b, p + run, n - run);
	dgen_buf_putc(b, '"');
}

static void json_nl(struct dgen_buf *b, int indent, int level)
{
	dgen_buf_putc(b, '\n');
	for (int i = 0; i < indent * level; i++)
		dgen_buf_putc(b, ' ');
}

static int json_rec(struct tpl_rs *s, int line, const struct tpl_val *v, int indent, int level,
		    struct dgen_buf *b)
{
	int rc = 0;
	size_t n;

	switch (v->t) {
	case VT_UNDEF:
		return tpl_undef_error(s, line, v);
	case VT_NONE:
		dgen_buf_puts(b, "null");
		return 0;
	case VT_BOOL:
		dgen_buf_puts(b, v->u.b ? "true" : "false");
		return 0;
	case VT_INT:
		template_format_number(b, 0, 1, v->u.i);
		return 0;
	case VT_FLOAT:
		if (isnan(v->u.d))
			dgen_buf_puts(b, "NaN");
		else if (isinf(v->u.d))
			dgen_buf_puts(b, v->u.d < 0 ? "-Infinity" : "Infinity");
		else
			template_format_number(b, v->u.d, 0, 0);
		return 0;
	case VT_STR:
		json_str(b, v->u.s.p, v->u.s.n);
		return 0;
	case VT_RANGE:
	case VT_LOOP:
		return tpl_error(s, line, "Object of type %s is not JSON serializable",
				 tpl_type_name(v));
	default:
		break;
	}
	if (++s->depth > TPL_MAX_DEPTH) {
		s->depth--;
		return tpl_error(s, line, "value nested too deeply for tojson");
	}
	if (v->t == VT_DICT) {
		bool first = true;

		dgen_buf_putc(b, '{');
		json_object_object_foreach(v->u.j, key, val) {
			struct tpl_val x;

			if (!first)
				dgen_buf_puts(b, indent >= 0 ? "," : ", ");
			if (indent >= 0)
				json_nl(b, indent, level + 1);
			first = false;
			json_str(b, key, strlen(key));
			dgen_buf_puts(b, ": ");
			tpl_from_json(val, &x);
			if ((rc = json_rec(s, line, &x, indent, level + 1, b)) < 0 ||
			    (rc = tpl_room(s, line, b)) < 0)
				goto out;
		}
		if (!first && indent >= 0)
			json_nl(b, indent, level);
		dgen_buf_putc(b, '}');
	} else {
		n = list_len(v);
		dgen_buf_putc(b, '[');
		for (size_t i = 0; i < n; i++) {
			struct tpl_val x;

			if (i)
				dgen_buf_puts(b, indent >= 0 ? "," : ", ");
			if (indent >= 0)
				json_nl(b, indent, level + 1);
			list_get(v, i, &x);
			if ((rc = json_rec(s, line, &x, indent, level + 1, b)) < 0 ||
			    (rc = tpl_room(s, line, b)) < 0)
				goto out;
		}
		if (n && indent >= 0)
			json_nl(b, indent, level);
		dgen_buf_putc(b, ']');
	}
out:
	s->depth--;
	return rc;
}

int tpl_json_append(struct tpl_rs *s, int line, const struct tpl_val *v, int indent,
		    struct dgen_buf *b)
{
	return json_rec(s, line, v, indent, 0, b);
}

/* ---- comparison ---- */

static bool is_num(const struct tpl_val *v)
{
	return v->t == VT_INT || v->t == VT_FLOAT || v->t == VT_BOOL;
}

static long long as_int(const struct tpl_val *v)
{
	return v->t == VT_BOOL ? v->u.b : v->u.i;
}

static double as_double(const struct tpl_val *v)
{
	return v->t == VT_FLOAT ? v->u.d : (double)as_int(v);
}

/* Compares an int and a float exactly, as Python does. */
static int cmp_int_float(long long i, double d)
{
	if (isnan(d))
		return 2; /* unordered */
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	{
		double fl = floor(d);
		long long di = (long long)fl;

		if (i < di)
			return -1;
		if (i > di)
			return 1;
		return fl < d ? -1 : 0;
	}
}

/* <0, 0, >0, or 2 when unordered (NaN). */
static int num_cmp(const struct tpl_val *a, const struct tpl_val *b)
{
	if (a->t != VT_FLOAT && b->t != VT_FLOAT) {
		long long x = as_int(a), y = as_int(b);

		return x < y ? -1 : x > y;
	}
	if (a->t == VT_FLOAT && b->t == VT_FLOAT) {
		if (isnan(a->u.d) || isnan(b->u.d))
			return 2;
		return a->u.d < b->u.d ? -1 : a->u.d > b->u.d;
	}
	if (a->t == VT_FLOAT) {
		int r = cmp_int_float(as_int(b), a->u.d);

		return r == 2 ? 2 : -r;
	}
	return cmp_int_float(as_int(a), b->u.d);
}

static int seq_kind(const struct tpl_val *v)
{
	if (v->t == VT_LIST)
		return v->tuple ? 2 : 1;
	if (v->t == VT_JLIST)
		return 1;
	if (v->t == VT_RANGE)
		return 3;
	return 0;
}

int tpl_equal(struct tpl_rs *s, int line, const struct tpl_val *a, const struct tpl_val *b,
	      bool *out)
{
	int rc = 0;

	if (a->t == VT_UNDEF)
		return tpl_undef_error(s, line, a);
	if (b->t == VT_UNDEF)
		return tpl_undef_error(s, line, b);
	*out = false;
	if (is_num(a) && is_num(b)) {
		*out = num_cmp(a, b) == 0;
		return 0;
	}
	if (a->t != b->t && !(seq_kind(a) && seq_kind(a) == seq_kind(b)))
		return 0;
	switch (a->t) {
	case VT_NONE:
		*out = true;
		return 0;
	case VT_STR:
		*out = a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
		return 0;
	case VT_LOOP:
		*out = a->u.loop == b->u.loop;
		return 0;
	default:
		break;
	}
	if (++s->depth > TPL_MAX_DEPTH) {
		s->depth--;
		return tpl_error(s, line, "values nested too deeply to compare");
	}
	if (a->t == VT_DICT) {
		*out = json_object_object_length(a->u.j) == json_object_object_length(b->u.j);
		json_object_object_foreach(a->u.j, key, val) {
			struct json_object *other;
			struct tpl_val x, y;

			if (!*out)
				break;
			if (!json_object_object_get_ex(b->u.j, key, &other)) {
				*out = false;
				break;
			}
			tpl_from_json(val, &x);
			tpl_from_json(other, &y);
			if ((rc = tpl_equal(s, line, &x, &y, out)) < 0)
				break;
		}
	} else {
		size_t n = list_len(a);

		*out = n == list_len(b);
		for (size_t i = 0; *out && i < n; i++) {
			struct tpl_val x, y;

			list_get(a, i, &x);
			list_get(b, i, &y);
			if ((rc = tpl_equal(s, line, &x, &y, out)) < 0)
				break;
		}
	}
	s->depth--;
	return rc;
}

int tpl_compare(struct tpl_rs *s, int line, const char *op, const struct tpl_val *a,
		const struct tpl_val *b, int *out)
{
	if (a->t == VT_UNDEF)
		return tpl_undef_error(s, line, a);
	if (b->t == VT_UNDEF)
		return tpl_undef_error(s, line, b);
	if (is_num(a) && is_num(b)) {
		*out = num_cmp(a, b);
		return 0;
	}
	if (a->t == VT_STR && b->t == VT_STR) {
		size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
		int c = memcmp(a->u.s.p, b->u.s.p, n);

		*out = c ? (c < 0 ? -1 : 1) : (a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n);
		return 0;
	}
	if (seq_kind(a) && seq_kind(a) == seq_kind(b) && a->t != VT_RANGE) {
		size_t na = list_len(a), nb = list_len(b), i;
		int rc = 0;

		if (++s->depth > TPL_MAX_DEPTH) {
			s->depth--;
			return tpl_error(s, line, "values nested too deeply to compare");
		}
		*out = 0;
		for (i = 0; i < na && i < nb; i++) {
			struct tpl_val x, y;
			bool eq;

			list_get(a, i, &x);
			list_get(b, i, &y);
			if ((rc = tpl_equal(s, line, &x, &y, &eq)) < 0)
				break;
			if (!eq) {
				rc = tpl_compare(s, line, op, &x, &y, out);
				break;
			}
		}
		if (rc == 0 && (i == na || i == nb))
			*out = na < nb ? -1 : na > nb;
		s->depth--;
		return rc;
	}
	return tpl_error(s, line, "'%s' not supported between instances of '%s' and '%s'", op,
			 tpl_type_name(a), tpl_type_name(b));
}

/* ---- iteration ---- */

int tpl_iter_len(struct tpl_rs *s, int line, const struct tpl_val *v, size_t *n)
{
	switch (v->t) {
	case VT_UNDEF:
		return tpl_undef_error(s, line, v);
	case VT_LIST:
	case VT_JLIST:
	case VT_RANGE:
		*n = list_len(v);
		return 0;
	case VT_STR:
		*n = tpl_utf8_len(v->u.s.p, v->u.s.n);
		return 0;
	case VT_DICT:
		*n = (size_t)json_object_object_length(v->u.j);
		return 0;
	default:
		return tpl_error(s, line, "'%s' object is not iterable", tpl_type_name(v));
	}
}

int tpl_iter_all(struct tpl_rs *s, int line, const struct tpl_val *v, struct tpl_val **items,
		 size_t *n)
{
	struct tpl_val *arr;
	size_t k = 0;

	if (tpl_iter_len(s, line, v, n) < 0)
		return -1;
	if (v->t == VT_LIST) {
		*items = (struct tpl_val *)v->u.l.v;
		return 0;
	}
	if (*n > SIZE_MAX / sizeof *arr || !(arr = tpl_ralloc(s, line, (*n ? *n : 1) * sizeof *arr)))
		return *n > SIZE_MAX / sizeof *arr ? tpl_limit_error(s, line) : -1;
	if (v->t == VT_STR) {
		size_t i = 0, adv;

		while (i < v->u.s.n && k < *n) {
			char *c;

			tpl_utf8_decode(v->u.s.p + i, v->u.s.n - i, &adv);
			if (!(c = tpl_ralloc(s, line, adv + 1)))
				return -1;
			memcpy(c, v->u.s.p + i, adv);
			c[adv] = '\0';
			memset(&arr[k], 0, sizeof arr[k]);
			arr[k].t = VT_STR;
			arr[k].u.s.p = c;
			arr[k].u.s.n = adv;
			k++;
			i += adv;
		}
	} else if (v->t == VT_DICT) {
		json_object_object_foreach(v->u.j, key, val) {
			(void)val;
			if (k == *n)
				break;
			memset(&arr[k], 0, sizeof arr[k]);
			arr[k].t = VT_STR;
			arr[k].u.s.p = key;
			arr[k].u.s.n = strlen(key);
			k++;
		}
	} else {
		for (k = 0; k < *n; k++)
			list_get(v, k, &arr[k]);
	}
	*n = k;
	*items = arr;
	return 0;
}

int tpl_iter_get(struct tpl_rs *s, int line, const struct tpl_val *v, size_t i,
		 struct tpl_val *out)
{
	struct tpl_val *all;
	size_t n;

	if (is_listlike(v)) {
		list_get(v, i, out);
		return 0;
	}
	if (tpl_iter_all(s, line, v, &all, &n) < 0)
		return -1;
	*out = all[i];
	return 0;
}

/* ---- attribute and item access ---- */

static int loop_item(const struct tpl_loop *lp, size_t pos, struct tpl_val *out)
{
	size_t i = lp->sel ? lp->sel[pos] : pos;

	if (lp->it->arr)
		*out = lp->it->arr[i];
	else
		list_get(&lp->it->src, i, out);
	return 0;
}

static bool loop_attr(const struct tpl_loop *lp, const char *name, struct tpl_val *out)
{
	size_t pos = lp->pos, len = lp->length;

	if (!strcmp(name, "index"))
		tpl_set_int(out, (long long)pos + 1);
	else if (!strcmp(name, "index0"))
		tpl_set_int(out, (long long)pos);
	else if (!strcmp(name, "revindex"))
		tpl_set_int(out, (long long)(len - pos));
	else if (!strcmp(name, "revindex0"))
		tpl_set_int(out, (long long)(len - pos - 1));
	else if (!strcmp(name, "first"))
		tpl_set_bool(out, pos == 0);
	else if (!strcmp(name, "last"))
		tpl_set_bool(out, pos + 1 == len);
	else if (!strcmp(name, "length"))
		tpl_set_int(out, (long long)len);
	else if (!strcmp(name, "depth"))
		tpl_set_int(out, 1);
	else if (!strcmp(name, "depth0"))
		tpl_set_int(out, 0);
	else if (!strcmp(name, "previtem")) {
		if (pos == 0)
			set_undef(out, U_HINT, 0, "there is no previous item", 25);
		else
			loop_item(lp, pos - 1, out);
	} else if (!strcmp(name, "nextitem")) {
		if (pos + 1 >= len)
			set_undef(out, U_HINT, 0, "there is no next item", 21);
		else
			loop_item(lp, pos + 1, out);
	} else
		return false;
	return true;
}

int tpl_getattr(struct tpl_rs *s, int line, const struct tpl_val *obj, const char *name, size_t n,
		struct tpl_val *out)
{
	struct json_object *j;

	if (obj->t == VT_UNDEF)
		return tpl_undef_error(s, line, obj);
	if (obj->t == VT_DICT && json_object_object_get_ex(obj->u.j, name, &j)) {
		tpl_from_json(j, out);
		return 0;
	}
	if (obj->t == VT_LOOP && loop_attr(obj->u.loop, name, out))
		return 0;
	set_undef(out, U_ATTR, owner_of(obj), name, n);
	return 0;
}

/* Python's index normalisation; false when out of range. */
static bool norm_index(long long i, size_t n, size_t *out)
{
	if (i < 0)
		i += (long long)n;
	if (i < 0 || (unsigned long long)i >= n)
		return false;
	*out = (size_t)i;
	return true;
}

static int elem_undef(struct tpl_rs *s, int line, const struct tpl_val *obj,
		      const struct tpl_val *key, struct tpl_val *out)
{
	size_t from = s->scratch.len;
	struct tpl_val k;

	if (tpl_repr_append(s, line, key, &s->scratch) < 0 ||
	    tpl_scratch_str(s, line, from, &k) < 0)
		return -1;
	set_undef(out, U_ELEM, owner_of(obj), k.u.s.p, k.u.s.n);
	return 0;
}

int tpl_getitem(struct tpl_rs *s, int line, const struct tpl_val *obj, const struct tpl_val *key,
		struct tpl_val *out)
{
	size_t i;

	if (obj->t == VT_UNDEF)
		return tpl_undef_error(s, line, obj);
	if (key->t == VT_UNDEF)
		return tpl_undef_error(s, line, key);
	if (key->t == VT_STR)
		return tpl_getattr(s, line, obj, key->u.s.p, key->u.s.n, out);
	if (key->t == VT_INT || key->t == VT_BOOL) {
		long long k = as_int(key);

		if (is_listlike(obj) && norm_index(k, list_len(obj), &i)) {
			list_get(obj, i, out);
			return 0;
		}
		if (obj->t == VT_STR) {
			size_t n = tpl_utf8_len(obj->u.s.p, obj->u.s.n);

			if (norm_index(k, n, &i)) {
				size_t off = tpl_utf8_offset(obj->u.s.p, obj->u.s.n, i), adv;

				tpl_utf8_decode(obj->u.s.p + off, obj->u.s.n - off, &adv);
				return tpl_mkstr(s, line, obj->u.s.p + off, adv, out);
			}
		}
	}
	return elem_undef(s, line, obj, key, out);
}

static int slice_bound(struct tpl_rs *s, int line, const struct tpl_val *v, long long def,
		       long long *out)
{
	if (!v || v->t == VT_NONE) {
		*out = def;
		return 0;
	}
	if (v->t == VT_UNDEF)
		return tpl_undef_error(s, line, v);
	if (v->t != VT_INT && v->t != VT_BOOL)
		return tpl_error(s, line, "slice indices must be integers or None");
	*out = as_int(v);
	return 0;
}

/* Python's slice arithmetic (PySlice_AdjustIndices). */
static long long adjust(long long i, long long len, long long step, bool is_start)
{
	(void)is_start;
	if (i < 0) {
		i += len;
		if (i < 0)
			i = step < 0 ? -1 : 0;
	} else if (i >= len) {
		i = step < 0 ? len - 1 : len;
	}
	return i;
}

static int do_slice(struct tpl_rs *s, int line, const struct tpl_val *obj,
		    const struct tpl_val *parts, struct tpl_val *out)
{
	long long step, start, stop, len, count;
	const size_t *offs = NULL;
	size_t *ofs = NULL;

	if (obj->t == VT_UNDEF)
		return tpl_undef_error(s, line, obj);
	if (slice_bound(s, line, &parts[2], 1, &step) < 0)
		return -1;
	if (step == 0)
		return tpl_error(s, line, "slice step cannot be zero");
	if (step == LLONG_MIN)
		step = -LLONG_MAX;
	if (is_listlike(obj)) {
		len = (long long)list_len(obj);
	} else if (obj->t == VT_STR) {
		size_t i = 0, k = 0, adv;

		len = (long long)tpl_utf8_len(obj->u.s.p, obj->u.s.n);
		if (!(ofs = tpl_ralloc(s, line, ((size_t)len + 1) * sizeof *ofs)))
			return -1;
		while (i < obj->u.s.n) {
			ofs[k++] = i;
			tpl_utf8_decode(obj->u.s.p + i, obj->u.s.n - i, &adv);
			i += adv;
		}
		ofs[k] = i;
		offs = ofs;
	} else {
		return tpl_error(s, line, "'%s' object is not subscriptable", tpl_type_name(obj));
	}
	if (slice_bound(s, line, &parts[0], step < 0 ? len - 1 : 0, &start) < 0 ||
	    slice_bound(s, line, &parts[1], step < 0 ? -1 : len, &stop) < 0)
		return -1;
	if (parts[0].t != VT_NONE && parts[0].t != VT_UNDEF)
		start = adjust(start, len, step, true);
	if (parts[1].t != VT_NONE && parts[1].t != VT_UNDEF)
		stop = adjust(stop, len, step, false);
	if (step > 0)
		count = start < stop ? (stop - start - 1) / step + 1 : 0;
	else
		count = stop < start ? (start - stop - 1) / (-step) + 1 : 0;
	if (obj->t == VT_STR) {
		size_t from = s->scratch.len;

		if (step == 1)
			return tpl_mkstr(s, line, obj->u.s.p + offs[start],
					 count ? offs[start + count] - offs[start] : 0, out);
		for (long long k = 0; k < count; k++) {
			long long i = start + k * step;

			dgen_buf_append(&s->scratch, obj->u.s.p + offs[i], offs[i + 1] - offs[i]);
		}
		return tpl_scratch_str(s, line, from, out);
	}
	if (obj->t == VT_RANGE) {
		struct tpl_val first;
		long long nstep;

		if (__builtin_mul_overflow(obj->u.r.step, step, &nstep))
			return tpl_error(s, line, "integer overflow");
		list_get(obj, (size_t)(start < len ? start : 0), &first);
		memset(out, 0, sizeof *out);
		out->t = VT_RANGE;
		out->u.r.start = first.u.i;
		out->u.r.step = nstep;
		out->u.r.n = count;
		out->u.r.stop = (long long)((unsigned long long)first.u.i +
					    (unsigned long long)count * (unsigned long long)nstep);
		return 0;
	} else {
		struct tpl_val *arr = tpl_ralloc(s, line, (size_t)(count ? count : 1) * sizeof *arr);

		if (!arr)
			return -1;
		for (long long k = 0; k < count; k++)
			list_get(obj, (size_t)(start + k * step), &arr[k]);
		memset(out, 0, sizeof *out);
		out->t = VT_LIST;
		out->tuple = obj->t == VT_LIST && obj->tuple;
		out->u.l.v = arr;
		out->u.l.n = (size_t)count;
		return 0;
	}
}

/* ---- arithmetic ---- */

static int check_defined(struct tpl_rs *s, int line, const struct tpl_val *a,
			 const struct tpl_val *b)
{
	if (a->t == VT_UNDEF)
		return tpl_undef_error(s, line, a);
	if (b && b->t == VT_UNDEF)
		return tpl_undef_error(s, line, b);
	return 0;
}

static const char *op_sym(int op)
{
	static const char *const syms[] = { "+", "-", "*", "/", "//", "%", "**", "~",
					    "==", "!=", "<", "<=", ">", ">=", "in", "not in" };

	return syms[op];
}

static int unsupported(struct tpl_rs *s, int line, int op, const struct tpl_val *a,
		       const struct tpl_val *b)
{
	return tpl_error(s, line, "unsupported operand type(s) for %s: '%s' and '%s'", op_sym(op),
			 tpl_type_name(a), tpl_type_name(b));
}

static int repeat(struct tpl_rs *s, int line, const struct tpl_val *seq, long long times,
		  struct tpl_val *out)
{
	size_t n, total;

	if (times < 0)
		times = 0;
	if (seq->t == VT_STR) {
		char *d;

		n = seq->u.s.n;
		if (n == 0)
			times = 0; /* "" * 10**12 is "", at once */
		if (n && (unsigned long long)times > (SIZE_MAX - 1) / n)
			return tpl_limit_error(s, line);
		total = n * (size_t)times;
		if (!(d = tpl_ralloc(s, line, total + 1)))
			return -1;
		for (long long k = 0; k < times; k++)
			memcpy(d + (size_t)k * n, seq->u.s.p, n);
		d[total] = '\0';
		memset(out, 0, sizeof *out);
		out->t = VT_STR;
		out->u.s.p = d;
		out->u.s.n = total;
		return 0;
	} else {
		struct tpl_val *arr;

		n = list_len(seq);
		if (n && (unsigned long long)times > SIZE_MAX / sizeof *arr / n)
			return tpl_limit_error(s, line);
		total = n * (size_t)times;
		if (!(arr = tpl_ralloc(s, line, (total ? total : 1) * sizeof *arr)))
			return -1;
		for (size_t k = 0; k < total; k++)
			list_get(seq, k % n, &arr[k]);
		memset(out, 0, sizeof *out);
		out->t = VT_LIST;
		out->tuple = seq->t == VT_LIST && seq->tuple;
		out->u.l.v = arr;
		out->u.l.n = total;
		return 0;
	}
}

static int concat_lists(struct tpl_rs *s, int line, const struct tpl_val *a,
			const struct tpl_val *b, struct tpl_val *out)
{
	size_t na = list_len(a), nb = list_len(b);
	struct tpl_val *arr = tpl_ralloc(s, line, (na + nb + 1) * sizeof *arr);

	if (!arr)
		return -1;
	for (size_t i = 0; i < na; i++)
		list_get(a, i, &arr[i]);
	for (size_t i = 0; i < nb; i++)
		list_get(b, i, &arr[na + i]);
	memset(out, 0, sizeof *out);
	out->t = VT_LIST;
	out->tuple = a->t == VT_LIST && a->tuple;
	out->u.l.v = arr;
	out->u.l.n = na + nb;
	return 0;
}

/* Python's float divmod: returns floor quotient and modulo. */
static void float_divmod(double vx, double wx, double *floordiv, double *mod)
{
	double m = fmod(vx, wx), div = (vx - m) / wx;

	if (m != 0) {
		if ((wx < 0) != (m < 0)) {
			m += wx;
			div -= 1.0;
		}
	} else {
		m = copysign(0.0, wx);
	}
	if (div != 0) {
		double fd = floor(div);

		if (div - fd > 0.5)
			fd += 1.0;
		div = fd;
	} else {
		div = copysign(0.0, vx / wx);
	}
	*floordiv = div;
	*mod = m;
}

static int int_pow(struct tpl_rs *s, int line, long long base, long long exp, long long *out)
{
	long long r = 1;

	while (exp > 0) {
		if (exp & 1) {
			if (__builtin_mul_overflow(r, base, &r))
				return tpl_error(s, line, "integer overflow");
		}
		exp >>= 1;
		if (exp && __builtin_mul_overflow(base, base, &base))
			return tpl_error(s, line, "integer overflow");
	}
	*out = r;
	return 0;
}

static int arith(struct tpl_rs *s, int line, int op, const struct tpl_val *a,
		 const struct tpl_val *b, struct tpl_val *out)
{
	if (check_defined(s, line, a, b) < 0)
		return -1;
	if (op == OP_CONCAT) {
		size_t from = s->scratch.len;

		if (tpl_str_append(s, line, a, &s->scratch) < 0 ||
		    tpl_str_append(s, line, b, &s->scratch) < 0) {
			dgen_buf_truncate(&s->scratch, from);
			return -1;
		}
		return tpl_scratch_str(s, line, from, out);
	}
	if (is_num(a) && is_num(b)) {
		bool flt = a->t == VT_FLOAT || b->t == VT_FLOAT;
		long long x = as_int(a), y = as_int(b), r = 0;
		double dx = as_double(a), dy = as_double(b), fd, fm;

		switch (op) {
		case OP_ADD:
		case OP_SUB:
		case OP_MUL:
			if (flt) {
				tpl_set_float(out, op == OP_ADD ? dx + dy : op == OP_SUB ? dx - dy : dx * dy);
				return 0;
			}
			if (op == OP_ADD ? __builtin_add_overflow(x, y, &r) :
			    op == OP_SUB ? __builtin_sub_overflow(x, y, &r) :
			    __builtin_mul_overflow(x, y, &r))
				return tpl_error(s, line, "integer overflow");
			tpl_set_int(out, r);
			return 0;
		case OP_DIV:
			if (dy == 0)
				return tpl_error(s, line, "division by zero");
			tpl_set_float(out, dx / dy);
			return 0;
		case OP_FLOORDIV:
		case OP_MOD:
			if (flt ? dy == 0 : y == 0)
				return tpl_error(s, line, "division by zero");
			if (flt) {
				float_divmod(dx, dy, &fd, &fm);
				tpl_set_float(out, op == OP_FLOORDIV ? fd : fm);
				return 0;
			}
			if (x == LLONG_MIN && y == -1) {
				if (op == OP_MOD) {
					tpl_set_int(out, 0);
					return 0;
				}
				return tpl_error(s, line, "integer overflow");
			}
			{
				long long q = x / y, m = x % y;

				if (m != 0 && ((m < 0) != (y < 0))) {
					m += y;
					q -= 1;
				}
				tpl_set_int(out, op == OP_FLOORDIV ? q : m);
			}
			return 0;
		case OP_POW:
			if (!flt && y >= 0) {
				if (int_pow(s, line, x, y, &r) < 0)
					return -1;
				tpl_set_int(out, r);
				return 0;
			}
			if (dx == 0 && dy < 0)
				return tpl_error(s, line, "0.0 cannot be raised to a negative power");
			if (dx < 0 && dy != floor(dy))
				return tpl_error(s, line, "negative number cannot be raised to a fractional power");
			tpl_set_float(out, pow(dx, dy));
			return 0;
		default:
			break;
		}
	}
	if (op == OP_ADD && a->t == VT_STR && b->t == VT_STR) {
		char *d;
		size_t n = a->u.s.n + b->u.s.n;

		if (!(d = tpl_ralloc(s, line, n + 1)))
			return -1;
		memcpy(d, a->u.s.p, a->u.s.n);
		memcpy(d + a->u.s.n, b->u.s.p, b->u.s.n);
		d[n] = '\0';
		memset(out, 0, sizeof *out);
		out->t = VT_STR;
		out->u.s.p = d;
		out->u.s.n = n;
		return 0;
	}
	if (op == OP_ADD && seq_kind(a) && seq_kind(a) == seq_kind(b) && a->t != VT_RANGE)
		return concat_lists(s, line, a, b, out);
	if (op == OP_MUL) {
		const struct tpl_val *seq = NULL, *k = NULL;

		if ((a->t == VT_STR || (seq_kind(a) && a->t != VT_RANGE)) &&
		    (b->t == VT_INT || b->t == VT_BOOL)) {
			seq = a;
			k = b;
		} else if ((b->t == VT_STR || (seq_kind(b) && b->t != VT_RANGE)) &&
			   (a->t == VT_INT || a->t == VT_BOOL)) {
			seq = b;
			k = a;
		}
		if (seq)
			return repeat(s, line, seq, as_int(k), out);
	}
	if (op == OP_MOD && a->t == VT_STR)
		return tpl_error(s, line, "string formatting with %% is not supported; use ~ or filters");
	return unsupported(s, line, op, a, b);
}

/* ---- expressions ---- */

static int lookup(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct json_object *j;

	for (size_t i = s->nbinds; i-- > 0;) {
		if (s->binds[i].n == e->nlen && memcmp(s->binds[i].name, e->name, e->nlen) == 0) {
			*out = s->binds[i].v;
			return 0;
		}
	}
	if (s->ctx && json_object_object_get_ex(s->ctx, e->name, &j)) {
		tpl_from_json(j, out);
		return 0;
	}
	set_undef(out, U_NAME, 0, e->name, e->nlen);
	return 0;
}

static int eval(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out);

static int contains(struct tpl_rs *s, int line, const struct tpl_val *needle,
		    const struct tpl_val *hay, bool *out)
{
	if (check_defined(s, line, needle, hay) < 0)
		return -1;
	*out = false;
	if (hay->t == VT_STR) {
		if (needle->t != VT_STR)
			return tpl_error(s, line, "'in <string>' requires string as left operand, not %s",
					 tpl_type_name(needle));
		if (needle->u.s.n == 0) {
			*out = true;
			return 0;
		}
		*out = needle->u.s.n <= hay->u.s.n &&
		       memmem(hay->u.s.p, hay->u.s.n, needle->u.s.p, needle->u.s.n) != NULL;
		return 0;
	}
	if (hay->t == VT_DICT) {
		if (needle->t == VT_LIST || needle->t == VT_JLIST || needle->t == VT_DICT)
			return tpl_error(s, line, "unhashable type: '%s'", tpl_type_name(needle));
		*out = needle->t == VT_STR &&
		       json_object_object_get_ex(hay->u.j, needle->u.s.p, NULL);
		return 0;
	}
	if (is_listlike(hay)) {
		size_t n = list_len(hay);

		for (size_t i = 0; i < n; i++) {
			struct tpl_val x;

			list_get(hay, i, &x);
			if (tpl_equal(s, line, needle, &x, out) < 0)
				return -1;
			if (*out)
				return 0;
		}
		return 0;
	}
	return tpl_error(s, line, "argument of type '%s' is not iterable", tpl_type_name(hay));
}

static int compare_op(struct tpl_rs *s, int line, int op, const struct tpl_val *a,
		      const struct tpl_val *b, bool *out)
{
	int c;

	switch (op) {
	case OP_EQ:
	case OP_NE:
		if (tpl_equal(s, line, a, b, out) < 0)
			return -1;
		if (op == OP_NE)
			*out = !*out;
		return 0;
	case OP_IN:
	case OP_NOTIN:
		if (contains(s, line, a, b, out) < 0)
			return -1;
		if (op == OP_NOTIN)
			*out = !*out;
		return 0;
	default:
		if (tpl_compare(s, line, op_sym(op), a, b, &c) < 0)
			return -1;
		if (c == 2)
			*out = false;
		else
			*out = op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
		return 0;
	}
}

static int call(struct tpl_rs *s, const struct tpl_expr *e, const struct tpl_callable *c,
		struct tpl_val *in, struct tpl_val *out)
{
	struct tpl_val args[TPL_MAX_PARAMS];

	for (int i = 0; i < e->nargs && i < TPL_MAX_PARAMS; i++) {
		if (!e->args[i]) {
			set_undef(&args[i], U_ABSENT, 0, "", 0);
			continue;
		}
		if (eval(s, e->args[i], &args[i]) < 0)
			return -1;
		if (!c->raw && args[i].t == VT_UNDEF)
			return tpl_undef_error(s, e->args[i]->line, &args[i]);
	}
	if (in && !c->raw && in->t == VT_UNDEF)
		return tpl_undef_error(s, e->line, in);
	memset(out, 0, sizeof *out);
	return c->fn(s, e, in, args, out);
}

int tpl_call_filter(struct tpl_rs *s, const struct tpl_expr *e, int fn, struct tpl_val *in,
		    struct tpl_val *args, struct tpl_val *out)
{
	if (!tpl_filters[fn].raw && in->t == VT_UNDEF)
		return tpl_undef_error(s, e->line, in);
	memset(out, 0, sizeof *out);
	return tpl_filters[fn].fn(s, e, in, args, out);
}

static int eval(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val a, b;
	bool t;

	switch (e->kind) {
	case EK_LIT:
		*out = e->lit;
		return 0;
	case EK_NAME:
		return lookup(s, e, out);
	case EK_ATTR:
		if (eval(s, e->a, &a) < 0)
			return -1;
		return tpl_getattr(s, e->line, &a, e->name, e->nlen, out);
	case EK_ITEM:
		if (eval(s, e->a, &a) < 0 || eval(s, e->b, &b) < 0)
			return -1;
		return tpl_getitem(s, e->line, &a, &b, out);
	case EK_SLICE: {
		struct tpl_val parts[3];

		if (eval(s, e->a, &a) < 0)
			return -1;
		for (int i = 0; i < 3; i++) {
			memset(&parts[i], 0, sizeof parts[i]);
			parts[i].t = VT_NONE;
			if (e->args[i] && eval(s, e->args[i], &parts[i]) < 0)
				return -1;
		}
		return do_slice(s, e->line, &a, parts, out);
	}
	case EK_LIST: {
		struct tpl_val *arr = tpl_ralloc(s, e->line, (size_t)(e->nargs + 1) * sizeof *arr);

		if (!arr)
			return -1;
		for (int i = 0; i < e->nargs; i++)
			if (eval(s, e->args[i], &arr[i]) < 0)
				return -1;
		memset(out, 0, sizeof *out);
		out->t = VT_LIST;
		out->tuple = e->tuple;
		out->u.l.v = arr;
		out->u.l.n = (size_t)e->nargs;
		return 0;
	}
	case EK_NEG:
	case EK_POS:
		if (eval(s, e->a, &a) < 0 || check_defined(s, e->line, &a, NULL) < 0)
			return -1;
		if (!is_num(&a))
			return tpl_error(s, e->line, "bad operand type for unary %s: '%s'",
					 e->kind == EK_NEG ? "-" : "+", tpl_type_name(&a));
		if (a.t == VT_FLOAT) {
			tpl_set_float(out, e->kind == EK_NEG ? -a.u.d : a.u.d);
		} else {
			if (e->kind == EK_NEG && as_int(&a) == LLONG_MIN)
				return tpl_error(s, e->line, "integer overflow");
			tpl_set_int(out, e->kind == EK_NEG ? -as_int(&a) : as_int(&a));
		}
		return 0;
	case EK_NOT:
		if (eval(s, e->a, &a) < 0 || tpl_truthy(s, e->line, &a, &t) < 0)
			return -1;
		tpl_set_bool(out, !t);
		return 0;
	case EK_BIN:
		if (eval(s, e->a, &a) < 0 || eval(s, e->b, &b) < 0)
			return -1;
		return arith(s, e->line, e->op, &a, &b, out);
	case EK_AND:
	case EK_OR:
		if (eval(s, e->a, &a) < 0 || tpl_truthy(s, e->line, &a, &t) < 0)
			return -1;
		if (t == (e->kind == EK_OR)) {
			*out = a;
			return 0;
		}
		return eval(s, e->b, out);
	case EK_CMP:
		if (eval(s, e->a, &a) < 0)
			return -1;
		for (int i = 0; i < e->nargs; i++) {
			if (eval(s, e->args[i], &b) < 0 ||
			    compare_op(s, e->line, e->ops[i], &a, &b, &t) < 0)
				return -1;
			if (!t)
				break;
			a = b;
		}
		tpl_set_bool(out, t);
		return 0;
	case EK_COND:
		if (eval(s, e->b, &b) < 0 || tpl_truthy(s, e->line, &b, &t) < 0)
			return -1;
		if (t)
			return eval(s, e->a, out);
		if (e->c)
			return eval(s, e->c, out);
		set_undef(out, U_HINT, 0, "the inline if-expression evaluated to false and no else section was defined", 75);
		return 0;
	case EK_FILTER:
		if (eval(s, e->a, &a) < 0)
			return -1;
		return call(s, e, &tpl_filters[e->fn], &a, out);
	case EK_TEST:
		if (eval(s, e->a, &a) < 0 || call(s, e, &tpl_tests[e->fn], &a, &b) < 0)
			return -1;
		tpl_set_bool(out, b.u.b != e->negate);
		return 0;
	case EK_METHOD:
		if (eval(s, e->a, &a) < 0)
			return -1;
		if (a.t == VT_UNDEF)
			return tpl_undef_error(s, e->line, &a);
		return call(s, e, &tpl_methods[e->fn], &a, out);
	case EK_CALL:
		return call(s, e, &tpl_globals[e->fn], NULL, out);
	}
	return tpl_error(s, e->line, "internal error: unknown expression");
}

/* ---- statements ---- */

static int emit(struct tpl_rs *s, int line, const char *p, size_t n)
{
	if (n > s->out_left) {
		dgen_err_set(s->err, DGEN_ELIMIT,
			     "template output exceeds the limit of %zu bytes (line %d)",
			     s->max_output, line);
		dgen_err_detail_int(s->err, "line", line);
		dgen_err_detail_int(s->err, "limit", (long long)s->max_output);
		return -1;
	}
	s->out_left -= n;
	dgen_buf_append(s->out, p, n);
	return 0;
}

static int print_val(struct tpl_rs *s, int line, const struct tpl_val *v)
{
	size_t before = s->out->len, added;

	if (v->t == VT_STR)
		return emit(s, line, v->u.s.p, v->u.s.n);
	if (tpl_str_append(s, line, v, s->out) < 0)
		return -1;
	added = s->out->len - before;
	if (added > s->out_left) {
		dgen_buf_truncate(s->out, before);
		return emit(s, line, "", added);
	}
	s->out_left -= added;
	return 0;
}

static int bind(struct tpl_rs *s, const char *name, size_t n, const struct tpl_val *v)
{
	for (size_t i = s->frame; i < s->nbinds; i++) {
		if (s->binds[i].n == n && memcmp(s->binds[i].name, name, n) == 0) {
			s->binds[i].v = *v;
			return 0;
		}
	}
	if (s->nbinds == s->cap) {
		size_t cap = s->cap * 2;

		if (s->binds == s->local) {
			s->binds = dgen_xmalloc(cap * sizeof *s->binds);
			memcpy(s->binds, s->local, s->nbinds * sizeof *s->binds);
		} else {
			s->binds = dgen_xrealloc(s->binds, cap * sizeof *s->binds);
		}
		s->cap = cap;
	}
	s->binds[s->nbinds].name = name;
	s->binds[s->nbinds].n = n;
	s->binds[s->nbinds].v = *v;
	s->nbinds++;
	return 0;
}

/* Binds `a, b = value` (or a single name). */
static int assign(struct tpl_rs *s, int line, const char *const *names, const size_t *lens,
		  int n, const struct tpl_val *v)
{
	size_t have;

	if (n == 1)
		return bind(s, names[0], lens[0], v);
	if (tpl_iter_len(s, line, v, &have) < 0)
		return -1;
	if (have < (size_t)n)
		return tpl_error(s, line, "not enough values to unpack (expected %d, got %zu)", n,
				 have);
	if (have > (size_t)n)
		return tpl_error(s, line, "too many values to unpack (expected %d)", n);
	for (int i = 0; i < n; i++) {
		struct tpl_val x;

		if (tpl_iter_get(s, line, v, (size_t)i, &x) < 0 || bind(s, names[i], lens[i], &x) < 0)
			return -1;
	}
	return 0;
}

static int render_body(struct tpl_rs *s, const struct tpl_stmt *st);

static int count_iteration(struct tpl_rs *s, int line)
{
	if (s->iters_left <= 0) {
		dgen_err_set(s->err, DGEN_ELIMIT,
			     "template loops exceed the limit of %ld iterations (line %d)",
			     s->max_iterations, line);
		dgen_err_detail_int(s->err, "line", line);
		dgen_err_detail_int(s->err, "limit", s->max_iterations);
		return -1;
	}
	s->iters_left--;
	return 0;
}

static int render_for(struct tpl_rs *s, const struct tpl_stmt *st)
{
	struct tpl_val seq, loopv, item;
	struct iterv it;
	struct tpl_loop lp;
	size_t *sel = NULL, nsel;
	size_t saved_frame = s->frame, saved_n = s->nbinds;
	int rc = -1;

	if (eval(s, st->e, &seq) < 0)
		return -1;
	memset(&it, 0, sizeof it);
	if (is_listlike(&seq)) {
		it.src = seq;
		it.n = list_len(&seq);
	} else {
		struct tpl_val *arr;

		if (tpl_iter_all(s, st->line, &seq, &arr, &it.n) < 0)
			return -1;
		it.arr = arr;
	}
	memset(&lp, 0, sizeof lp);
	lp.it = &it;
	lp.length = it.n;
	memset(&loopv, 0, sizeof loopv);
	loopv.t = VT_LOOP;
	loopv.u.loop = &lp;
	s->frame = s->nbinds;
	if (st->cond) {
		if (!(sel = tpl_ralloc(s, st->line, (it.n + 1) * sizeof *sel)))
			goto out;
		nsel = 0;
		for (size_t i = 0; i < it.n; i++) {
			struct tpl_mark m = tpl_mark(&s->mem);
			struct tpl_val c;
			bool keep;

			if (count_iteration(s, st->line) < 0)
				goto out;
			if (it.arr)
				item = it.arr[i];
			else
				list_get(&it.src, i, &item);
			if (assign(s, st->line, st->names, st->nlens, st->nnames, &item) < 0 ||
			    eval(s, st->cond, &c) < 0 || tpl_truthy(s, st->cond->line, &c, &keep) < 0)
				goto out;
			tpl_release(&s->mem, m);
			if (keep)
				sel[nsel++] = i;
		}
		lp.sel = sel;
		lp.length = nsel;
		s->nbinds = s->frame;
	}
	bind(s, "loop", 4, &loopv);
	for (lp.pos = 0; lp.pos < lp.length; lp.pos++) {
		struct tpl_mark m = tpl_mark(&s->mem);

		if (count_iteration(s, st->line) < 0)
			goto out;
		loop_item(&lp, lp.pos, &item);
		if (assign(s, st->line, st->names, st->nlens, st->nnames, &item) < 0 ||
		    render_body(s, st->body) < 0)
			goto out;
		if (!st->body_sets)
			tpl_release(&s->mem, m);
	}
	s->nbinds = saved_n;
	s->frame = saved_frame;
	if (lp.length == 0 && st->orelse && render_body(s, st->orelse) < 0)
		goto out;
	rc = 0;
out:
	s->nbinds = saved_n;
	s->frame = saved_frame;
	return rc;
}

static int render_stmt(struct tpl_rs *s, const struct tpl_stmt *st)
{
	struct tpl_mark m;
	struct tpl_val v;
	bool t;
	int rc;

	switch (st->kind) {
	case SK_TEXT:
		return emit(s, st->line, st->text, st->tlen);
	case SK_OUT:
		m = tpl_mark(&s->mem);
		rc = eval(s, st->e, &v);
		if (rc == 0)
			rc = print_val(s, st->e->line, &v);
		tpl_release(&s->mem, m);
		return rc;
	case SK_IF:
		for (;;) {
			m = tpl_mark(&s->mem);
			if (eval(s, st->e, &v) < 0 || tpl_truthy(s, st->e->line, &v, &t) < 0)
				return -1;
			tpl_release(&s->mem, m);
			if (t)
				return render_body(s, st->body);
			if (st->orelse && st->orelse->kind == SK_IF && !st->orelse->next) {
				/* elif chains render iteratively */
				st = st->orelse;
				continue;
			}
			return render_body(s, st->orelse);
		}
	case SK_FOR:
		m = tpl_mark(&s->mem);
		rc = render_for(s, st);
		if (!rc)
			tpl_release(&s->mem, m);
		return rc;
	case SK_SET:
		if (eval(s, st->e, &v) < 0)
			return -1;
		return assign(s, st->line, st->names, st->nlens, st->nnames, &v);
	case SK_SETBLOCK: {
		size_t before = s->out->len;

		if (render_body(s, st->body) < 0)
			return -1;
		rc = tpl_mkstr(s, st->line, s->out->data ? s->out->data + before : "",
			       s->out->len - before, &v);
		dgen_buf_truncate(s->out, before);
		if (rc < 0)
			return -1;
		return bind(s, st->names[0], st->nlens[0], &v);
	}
	}
	return 0;
}

static int render_body(struct tpl_rs *s, const struct tpl_stmt *st)
{
	for (; st; st = st->next)
		if (render_stmt(s, st) < 0)
			return -1;
	return 0;
}

int template_render(const struct dgen_template *t, struct json_object *ctx,
		    const struct dgen_template_limits *lim, struct dgen_buf *out,
		    struct dgen_err *err)
{
	struct tpl_rs s;
	int rc;

	if (!lim)
		lim = &template_default_limits;
	memset(&s, 0, sizeof s);
	s.ctx = ctx && json_object_is_type(ctx, json_type_object) ? ctx : NULL;
	s.out = out;
	s.max_output = lim->max_output;
	s.out_left = lim->max_output;
	s.max_iterations = lim->max_iterations;
	s.iters_left = lim->max_iterations;
	s.mem.budget = lim->max_output > SIZE_MAX / 64 ? SIZE_MAX / 2 : lim->max_output * 64;
	if (s.mem.budget < 1024 * 1024)
		s.mem.budget = 1024 * 1024;
	s.binds = s.local;
	s.cap = DGEN_ARRAY_LEN(s.local);
	s.err = err;
	rc = render_body(&s, t->body);
	tpl_arena_free(&s.mem);
	if (s.binds != s.local)
		free(s.binds);
	dgen_buf_free(&s.scratch);
	return rc;
}
