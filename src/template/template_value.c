/*
 * template_value.c - the state of a render and the values it computes
 * with, following Python/Jinja2 semantics: truthiness, ==, ordering,
 * str(), repr() and JSON printing, iteration, attribute and item access,
 * with Jinja2's StrictUndefined: a missing variable is carried as an
 * "undefined" value and becomes an error the moment it is printed, tested
 * for truth, iterated or computed with.
 *
 * Everything here takes the render state for its errors and memory, and
 * nothing here evaluates expressions: the filters and the evaluator build
 * on it, never the other way round.
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
#include "dgen/utf8.h"
#include "template_value.h"

/* ---- errors ---- */

int tpl_fail(struct tpl_rs *s, enum dgen_errcode code, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tpl_verror(s->err, code, code == DGEN_ELIMIT ? "limit reached" : "error", line, fmt, ap);
	va_end(ap);
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

/* Words the error like Jinja2's StrictUndefined: 'x' is undefined,
 * 'dict object' has no attribute 'y', list object has no element 3. */
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
	void *p = arena_try_alloc(&s->mem, n);

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

int tpl_check_defined(struct tpl_rs *s, int line, const struct tpl_val *a,
		      const struct tpl_val *b)
{
	if (a->t == VT_UNDEF)
		return tpl_undef_error(s, line, a);
	if (b && b->t == VT_UNDEF)
		return tpl_undef_error(s, line, b);
	return 0;
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

/* A context value as a template value: strings, arrays and objects are
 * borrowed from the JSON, not copied. */
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

static int owner_of(const struct tpl_val *v)
{
	return v->t == VT_LIST && v->tuple ? 100 : v->t;
}

size_t tpl_list_len(const struct tpl_val *v)
{
	switch (v->t) {
	case VT_LIST: return v->u.l.n;
	case VT_JLIST: return json_object_array_length(v->u.j);
	case VT_RANGE: return (size_t)v->u.r.n;
	default: return 0;
	}
}

/* Element i of a list, tuple, JSON array or range (i < list_len). */
void tpl_list_get(const struct tpl_val *v, size_t i, struct tpl_val *out)
{
	if (v->t == VT_LIST)
		*out = v->u.l.v[i];
	else if (v->t == VT_JLIST)
		tpl_from_json(json_object_array_get_idx(v->u.j, i), out);
	else /* in range by construction; unsigned arithmetic avoids UB on the way */
		tpl_set_int(out, (long long)((unsigned long long)v->u.r.start +
					 (unsigned long long)i * (unsigned long long)v->u.r.step));
}

bool tpl_is_listlike(const struct tpl_val *v)
{
	return v->t == VT_LIST || v->t == VT_JLIST || v->t == VT_RANGE;
}

bool tpl_is_seq(const struct tpl_val *v)
{
	return tpl_is_listlike(v) || v->t == VT_STR || v->t == VT_DICT;
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
	case VT_LIST: case VT_JLIST: case VT_RANGE: *out = tpl_list_len(v) > 0; break;
	case VT_DICT: *out = json_object_object_length(v->u.j) > 0; break;
	default: *out = true;
	}
	return 0;
}

/* ---- printing: str(), repr() and JSON ---- */

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

/* Python's repr() of a string: single quotes unless it holds only
 * single ones, escapes for quotes, backslashes and unprintable code points. */
static void py_str_repr(struct dgen_buf *b, const char *p, size_t n)
{
	char q = '\'';
	size_t i = 0, adv;

	if (memchr(p, '\'', n) && !memchr(p, '"', n))
		q = '"';
	dgen_buf_putc(b, q);
	while (i < n) {
		unsigned c = utf8_decode(p + i, n - i, &adv);

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

/* A JSON string as json.dumps(ensure_ascii=False) writes it: only quotes,
 * backslashes and control characters are escaped. */
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

/* The three ways a value prints: Python's str() (a string bare at the
 * top, as repr() inside containers), repr(), and json.dumps(). */
enum print_mode { PRINT_STR, PRINT_REPR, PRINT_JSON };

struct printer {
	enum print_mode mode;
	int indent; /* PRINT_JSON: spaces per level; < 0: all on one line */
};

static void print_string(enum print_mode mode, const char *p, size_t n, struct dgen_buf *b)
{
	if (mode == PRINT_JSON)
		json_str(b, p, n);
	else if (mode == PRINT_STR)
		dgen_buf_append(b, p, n);
	else
		py_str_repr(b, p, n);
}

/* Prints anything but a list or dict; 1 when v is one (nothing printed). */
static int print_leaf(struct tpl_rs *s, int line, const struct tpl_val *v, enum print_mode mode,
		      struct dgen_buf *b)
{
	bool json = mode == PRINT_JSON;

	switch (v->t) {
	case VT_UNDEF:
		return tpl_undef_error(s, line, v);
	case VT_NONE:
		dgen_buf_puts(b, json ? "null" : "None");
		return 0;
	case VT_BOOL:
		dgen_buf_puts(b, json ? (v->u.b ? "true" : "false") : (v->u.b ? "True" : "False"));
		return 0;
	case VT_INT:
		template_format_number(b, 0, 1, v->u.i);
		return 0;
	case VT_FLOAT:
		if (json && isnan(v->u.d))
			dgen_buf_puts(b, "NaN");
		else if (json && isinf(v->u.d))
			dgen_buf_puts(b, v->u.d < 0 ? "-Infinity" : "Infinity");
		else
			template_format_number(b, v->u.d, 0, 0);
		return 0;
	case VT_STR:
		print_string(mode, v->u.s.p, v->u.s.n, b);
		return 0;
	case VT_RANGE:
	case VT_LOOP:
		if (json)
			return tpl_error(s, line, "Object of type %s is not JSON serializable",
					 tpl_type_name(v));
		if (v->t == VT_LOOP)
			dgen_buf_printf(b, "<LoopContext %zu/%zu>", v->u.loop->pos + 1,
					v->u.loop->length);
		else if (v->u.r.step == 1)
			dgen_buf_printf(b, "range(%lld, %lld)", v->u.r.start, v->u.r.stop);
		else
			dgen_buf_printf(b, "range(%lld, %lld, %lld)", v->u.r.start, v->u.r.stop,
					v->u.r.step);
		return 0;
	default:
		return 1;
	}
}

static void json_newline(struct dgen_buf *b, int indent, int level)
{
	dgen_buf_putc(b, '\n');
	for (int i = 0; i < indent * level; i++)
		dgen_buf_putc(b, ' ');
}

static int print_rec(struct tpl_rs *s, int line, const struct tpl_val *v,
		     const struct printer *pr, int level, struct dgen_buf *b);

/* Item number i of a container at `level`: the separator, for indented
 * JSON a new line, the key of a dict entry, the value; then checks the
 * text against the render's memory budget. */
static int print_item(struct tpl_rs *s, int line, const struct printer *pr, int level, size_t i,
		      const char *key, const struct tpl_val *x, struct dgen_buf *b)
{
	bool lines = pr->mode == PRINT_JSON && pr->indent >= 0;

	if (i)
		dgen_buf_puts(b, lines ? "," : ", ");
	if (lines)
		json_newline(b, pr->indent, level + 1);
	if (key) {
		print_string(pr->mode, key, strlen(key), b);
		dgen_buf_puts(b, ": ");
	}
	if (print_rec(s, line, x, pr, level + 1, b) < 0)
		return -1;
	return tpl_room(s, line, b);
}

/* One printer for all three modes: leaves print by mode, lists, tuples
 * and dicts are walked here (a tuple is a list in JSON; an indented JSON
 * container closes on its own line). Nesting is bounded like evaluation. */
static int print_rec(struct tpl_rs *s, int line, const struct tpl_val *v,
		     const struct printer *pr, int level, struct dgen_buf *b)
{
	struct printer inner = *pr;
	bool tuple = pr->mode != PRINT_JSON && v->t == VT_LIST && v->tuple;
	size_t i = 0;
	int rc = print_leaf(s, line, v, pr->mode, b);

	if (rc <= 0)
		return rc;
	if (inner.mode == PRINT_STR)
		inner.mode = PRINT_REPR;
	if (++s->depth > TPL_MAX_DEPTH) {
		s->depth--;
		return tpl_error(s, line, pr->mode == PRINT_JSON ? "value nested too deeply for tojson" :
				 "value nested too deeply to print");
	}
	rc = 0;
	if (v->t == VT_DICT) {
		dgen_buf_putc(b, '{');
		json_object_object_foreach(v->u.j, key, val) {
			struct tpl_val x;

			tpl_from_json(val, &x);
			if ((rc = print_item(s, line, &inner, level, i++, key, &x, b)) < 0)
				break;
		}
	} else {
		size_t n = tpl_list_len(v);

		dgen_buf_putc(b, tuple ? '(' : '[');
		for (i = 0; i < n && rc == 0; i++) {
			struct tpl_val x;

			tpl_list_get(v, i, &x);
			rc = print_item(s, line, &inner, level, i, NULL, &x, b);
		}
		if (tuple && n == 1)
			dgen_buf_putc(b, ',');
	}
	if (rc == 0) {
		if (i && inner.mode == PRINT_JSON && inner.indent >= 0)
			json_newline(b, inner.indent, level);
		dgen_buf_putc(b, v->t == VT_DICT ? '}' : tuple ? ')' : ']');
	}
	s->depth--;
	return rc;
}

int tpl_str_append(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b)
{
	struct printer pr = { PRINT_STR, -1 };

	return print_rec(s, line, v, &pr, 0, b);
}

int tpl_repr_append(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b)
{
	struct printer pr = { PRINT_REPR, -1 };

	return print_rec(s, line, v, &pr, 0, b);
}

int tpl_json_append(struct tpl_rs *s, int line, const struct tpl_val *v, int indent,
		    struct dgen_buf *b)
{
	struct printer pr = { PRINT_JSON, indent };

	return print_rec(s, line, v, &pr, 0, b);
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

/* ---- comparison ---- */

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
		long long x = tpl_as_int(a), y = tpl_as_int(b);

		return x < y ? -1 : x > y;
	}
	if (a->t == VT_FLOAT && b->t == VT_FLOAT) {
		if (isnan(a->u.d) || isnan(b->u.d))
			return 2;
		return a->u.d < b->u.d ? -1 : a->u.d > b->u.d;
	}
	if (a->t == VT_FLOAT) {
		int r = cmp_int_float(tpl_as_int(b), a->u.d);

		return r == 2 ? 2 : -r;
	}
	return cmp_int_float(tpl_as_int(a), b->u.d);
}

int tpl_seq_kind(const struct tpl_val *v)
{
	if (v->t == VT_LIST)
		return v->tuple ? 2 : 1;
	if (v->t == VT_JLIST)
		return 1;
	if (v->t == VT_RANGE)
		return 3;
	return 0;
}

/* Python's ==: numbers by value across int/float/bool, lists and tuples
 * item by item (a list never equals a tuple), dicts by keys and values. */
int tpl_equal(struct tpl_rs *s, int line, const struct tpl_val *a, const struct tpl_val *b,
	      bool *out)
{
	int rc = 0;

	if (tpl_check_defined(s, line, a, b) < 0)
		return -1;
	*out = false;
	if (tpl_is_num(a) && tpl_is_num(b)) {
		*out = num_cmp(a, b) == 0;
		return 0;
	}
	if (a->t != b->t && !(tpl_seq_kind(a) && tpl_seq_kind(a) == tpl_seq_kind(b)))
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
		size_t n = tpl_list_len(a);

		*out = n == tpl_list_len(b);
		for (size_t i = 0; *out && i < n; i++) {
			struct tpl_val x, y;

			tpl_list_get(a, i, &x);
			tpl_list_get(b, i, &y);
			if ((rc = tpl_equal(s, line, &x, &y, out)) < 0)
				break;
		}
	}
	s->depth--;
	return rc;
}

/* Python's ordering: numbers, strings (by bytes, which for UTF-8 is by
 * code point), and lists or tuples item by item. */
int tpl_compare(struct tpl_rs *s, int line, const char *op, const struct tpl_val *a,
		const struct tpl_val *b, int *out)
{
	if (tpl_check_defined(s, line, a, b) < 0)
		return -1;
	if (tpl_is_num(a) && tpl_is_num(b)) {
		*out = num_cmp(a, b);
		return 0;
	}
	if (a->t == VT_STR && b->t == VT_STR) {
		size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
		int c = memcmp(a->u.s.p, b->u.s.p, n);

		*out = c ? (c < 0 ? -1 : 1) : (a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n);
		return 0;
	}
	if (tpl_seq_kind(a) && tpl_seq_kind(a) == tpl_seq_kind(b) && a->t != VT_RANGE) {
		size_t na = tpl_list_len(a), nb = tpl_list_len(b), i;
		int rc = 0;

		if (++s->depth > TPL_MAX_DEPTH) {
			s->depth--;
			return tpl_error(s, line, "values nested too deeply to compare");
		}
		*out = 0;
		for (i = 0; i < na && i < nb; i++) {
			struct tpl_val x, y;
			bool eq;

			tpl_list_get(a, i, &x);
			tpl_list_get(b, i, &y);
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
		*n = tpl_list_len(v);
		return 0;
	case VT_STR:
		*n = utf8_len(v->u.s.p, v->u.s.n);
		return 0;
	case VT_DICT:
		*n = (size_t)json_object_object_length(v->u.j);
		return 0;
	default:
		return tpl_error(s, line, "'%s' object is not iterable", tpl_type_name(v));
	}
}

/* Materialises any iterable as an arena array: a string's code points
 * as strings, a dict's keys, a list-like's items (lists as they are). */
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

			utf8_decode(v->u.s.p + i, v->u.s.n - i, &adv);
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
			tpl_list_get(v, k, &arr[k]);
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

	if (tpl_is_listlike(v)) {
		tpl_list_get(v, i, out);
		return 0;
	}
	if (tpl_iter_all(s, line, v, &all, &n) < 0)
		return -1;
	*out = all[i];
	return 0;
}

/* ---- attribute and item access ---- */

void tpl_loop_item(const struct tpl_loop *lp, size_t pos, struct tpl_val *out)
{
	size_t i = lp->sel ? lp->sel[pos] : pos;

	if (lp->it->arr)
		*out = lp->it->arr[i];
	else
		tpl_list_get(&lp->it->src, i, out);
}

/* loop.index, loop.first, loop.previtem ... of the current iteration;
 * false for a name loop does not have. */
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
			tpl_set_undef(out, U_HINT, 0, "there is no previous item", 25);
		else
			tpl_loop_item(lp, pos - 1, out);
	} else if (!strcmp(name, "nextitem")) {
		if (pos + 1 >= len)
			tpl_set_undef(out, U_HINT, 0, "there is no next item", 21);
		else
			tpl_loop_item(lp, pos + 1, out);
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
	tpl_set_undef(out, U_ATTR, owner_of(obj), name, n);
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
	tpl_set_undef(out, U_ELEM, owner_of(obj), k.u.s.p, k.u.s.n);
	return 0;
}

/* obj[key]: a string key is an attribute, an int indexes lists, tuples,
 * ranges and strings (negative from the end); anything else is an
 * undefined value naming the element. */
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
		long long k = tpl_as_int(key);

		if (tpl_is_listlike(obj) && norm_index(k, tpl_list_len(obj), &i)) {
			tpl_list_get(obj, i, out);
			return 0;
		}
		if (obj->t == VT_STR) {
			size_t n = utf8_len(obj->u.s.p, obj->u.s.n);

			if (norm_index(k, n, &i)) {
				size_t off = utf8_offset(obj->u.s.p, obj->u.s.n, i), adv;

				utf8_decode(obj->u.s.p + off, obj->u.s.n - off, &adv);
				return tpl_mkstr(s, line, obj->u.s.p + off, adv, out);
			}
		}
	}
	return elem_undef(s, line, obj, key, out);
}

