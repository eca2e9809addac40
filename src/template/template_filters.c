/*
 * template_filters.c - the filters, tests, methods and global functions a
 * template may call, each following its Jinja2 (or Python str/dict)
 * counterpart. Arguments arrive bound to parameter slots by the compiler;
 * an argument that was not given is an "absent" undefined value.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/template.h"
#include "dgen/utf8.h"
#include "dgen/util.h"
#include "template_filters.h"

#define LINE (e->line)

/* ---- small helpers ---- */

static void mk_hint(struct tpl_val *v, const char *hint)
{
	tpl_set_undef(v, U_HINT, 0, hint, strlen(hint));
}

/* Every parameter slot absent, as for a builtin called without arguments. */
static void absent_args(struct tpl_val *args)
{
	for (int k = 0; k < TPL_MAX_PARAMS; k++)
		tpl_set_undef(&args[k], U_ABSENT, 0, NULL, 0);
}

/* An integer argument (None/absent = def). */
static int arg_int(struct tpl_rs *s, int line, const struct tpl_val *v, const char *what,
		   long long def, long long *out)
{
	if (tpl_is_absent(v) || v->t == VT_NONE) {
		*out = def;
		return 0;
	}
	if (v->t == VT_INT || v->t == VT_BOOL) {
		*out = tpl_as_int(v);
		return 0;
	}
	return tpl_error(s, line, "%s must be an integer, not %s", what, tpl_type_name(v));
}

static int arg_bool(struct tpl_rs *s, int line, const struct tpl_val *v, bool def, bool *out)
{
	if (tpl_is_absent(v)) {
		*out = def;
		return 0;
	}
	return tpl_truthy(s, line, v, out);
}

/* Python str() of v (strings as they are). */
static int as_str(struct tpl_rs *s, int line, const struct tpl_val *v, const char **p, size_t *n)
{
	struct tpl_val t;

	if (tpl_to_str(s, line, v, &t) < 0)
		return -1;
	*p = t.u.s.p;
	*n = t.u.s.n;
	return 0;
}

static int need_str(struct tpl_rs *s, int line, const struct tpl_val *v, const char *what)
{
	if (v->t != VT_STR)
		return tpl_error(s, line, "%s must be a string, not %s", what, tpl_type_name(v));
	return 0;
}

/* ---- case mapping (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic) ---- */

static bool cp_cased(unsigned c)
{
	return utf8_upper(c) != c || utf8_lower(c) != c || c == 0xdf;
}

static void put_upper(struct dgen_buf *b, unsigned c)
{
	if (c == 0xdf) /* ß */
		dgen_buf_puts(b, "SS");
	else
		dgen_buf_put_utf8(b, utf8_upper(c));
}

enum { CASE_UPPER, CASE_LOWER, CASE_TITLE, CASE_CAPITALIZE, CASE_PYTITLE };

static bool title_sep(unsigned c)
{
	return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || c == ' ' ||
	       (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0;
}

/* Re-cases str(in) code point by code point: upper, lower, Jinja's title
 * (a capital after each separator), capitalize (first letter only) or
 * Python's title (a capital after each uncased character). A malformed
 * byte is copied as it is. */
static int recase(struct tpl_rs *s, int line, const struct tpl_val *in, int mode,
		  struct tpl_val *out)
{
	const char *p;
	size_t n, i = 0, adv, from = tpl_scratch(s)->len;
	struct dgen_buf *b = tpl_scratch(s);
	unsigned prev = 0;
	bool start = true;

	if (as_str(s, line, in, &p, &n) < 0)
		return -1;
	dgen_buf_reserve(b, n + 8);
	while (i < n) {
		unsigned c = utf8_decode(p + i, n - i, &adv);
		bool up;

		switch (mode) {
		case CASE_UPPER: up = true; break;
		case CASE_LOWER: up = false; break;
		case CASE_TITLE: up = start || title_sep(prev); break;
		case CASE_CAPITALIZE: up = start; break;
		default: up = !cp_cased(prev); break;
		}
		if (c == 0xfffd && adv == 1)
			dgen_buf_append(b, p + i, 1);
		else if (up)
			put_upper(b, c);
		else
			dgen_buf_put_utf8(b, utf8_lower(c));
		prev = c;
		start = false;
		i += adv;
	}
	return tpl_scratch_str(s, line, from, out);
}

/* The mode a builtin named upper, lower, capitalize or title wants;
 * title is Jinja's filter (after separators) or Python's method (after
 * uncased characters). */
static int case_mode(const char *name, int title)
{
	if (!strcmp(name, "upper"))
		return CASE_UPPER;
	if (!strcmp(name, "lower"))
		return CASE_LOWER;
	if (!strcmp(name, "capitalize"))
		return CASE_CAPITALIZE;
	return title;
}

static int f_case(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	(void)a;
	return recase(s, LINE, in, case_mode(e->name, CASE_TITLE), out);
}

/* ---- strip ---- */

static bool py_space(unsigned c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 ||
	       c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	       c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static bool in_chars(unsigned c, const struct tpl_val *chars)
{
	size_t i = 0, adv;

	if (!chars)
		return py_space(c);
	while (i < chars->u.s.n) {
		if (utf8_decode(chars->u.s.p + i, chars->u.s.n - i, &adv) == c)
			return true;
		i += adv;
	}
	return false;
}

/* Python's strip/lstrip/rstrip: removes whitespace, or any of the code
 * points in chars, from the chosen ends; returns the input itself when
 * nothing goes. */
static int strip(struct tpl_rs *s, int line, const struct tpl_val *in, const struct tpl_val *chars,
		 bool left, bool right, struct tpl_val *out)
{
	const char *p;
	size_t n, a = 0, b, adv;
	const struct tpl_val *cs = NULL;

	if (as_str(s, line, in, &p, &n) < 0)
		return -1;
	if (chars && !tpl_is_absent(chars) && chars->t != VT_NONE) {
		if (need_str(s, line, chars, "strip characters") < 0)
			return -1;
		cs = chars;
	}
	b = n;
	while (left && a < n) {
		unsigned c = utf8_decode(p + a, n - a, &adv);

		if (!in_chars(c, cs))
			break;
		a += adv;
	}
	while (right && b > a) {
		size_t st = utf8_prev(p, b);
		unsigned c = utf8_decode(p + st, b - st, &adv);

		if (st < a || !in_chars(c, cs))
			break;
		b = st;
	}
	if (a == 0 && b == n && in->t == VT_STR) {
		*out = *in;
		return 0;
	}
	return tpl_mkstr(s, line, p + a, b - a, out);
}

static int f_trim(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	return strip(s, LINE, in, &a[0], true, true, out);
}

/* ---- sizes and defaults ---- */

static int f_length(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		    struct tpl_val *a, struct tpl_val *out)
{
	size_t n;

	(void)a;
	if (!tpl_is_seq(in))
		return tpl_error(s, LINE, "object of type '%s' has no len()", tpl_type_name(in));
	if (tpl_iter_len(s, LINE, in, &n) < 0)
		return -1;
	tpl_set_int(out, (long long)n);
	return 0;
}

static int f_default(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		     struct tpl_val *a, struct tpl_val *out)
{
	bool boolean, truth = true;

	if (arg_bool(s, LINE, &a[1], false, &boolean) < 0)
		return -1;
	if (in->t != VT_UNDEF && boolean && tpl_truthy(s, LINE, in, &truth) < 0)
		return -1;
	if (in->t == VT_UNDEF || !truth) {
		if (tpl_is_absent(&a[0])) {
			tpl_set_str(out, "", 0);
		} else {
			*out = a[0];
		}
		return 0;
	}
	*out = *in;
	return 0;
}

/* Jinja's make_attrgetter: "a.b.0" walks keys, digits index lists. */
static int attr_path(struct tpl_rs *s, int line, const struct tpl_val *item,
		     const struct tpl_val *attr, struct tpl_val *out)
{
	const char *p, *end;
	struct tpl_val cur = *item;

	if (attr->t == VT_INT || attr->t == VT_BOOL)
		return tpl_getitem(s, line, &cur, attr, out);
	if (need_str(s, line, attr, "attribute") < 0)
		return -1;
	p = attr->u.s.p;
	end = p + attr->u.s.n;
	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
		struct tpl_val key, next;
		bool digits = n > 0;

		for (size_t i = 0; i < n; i++)
			if (!isdigit((unsigned char)p[i]))
				digits = false;
		if (digits && n < 18) {
			tpl_set_int(&key, strtoll(p, NULL, 10));
		} else if (tpl_mkstr(s, line, p, n, &key) < 0) {
			return -1;
		}
		if (tpl_getitem(s, line, &cur, &key, &next) < 0)
			return -1;
		cur = next;
		if (!dot)
			break;
		p = dot + 1;
	}
	*out = cur;
	return 0;
}

/* join(d, attribute): str() of each item (or of its attribute path),
 * separated by d. */
static int f_join(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val *items;
	size_t n, from = tpl_scratch(s)->len;
	const char *sep = "";
	size_t seplen = 0;

	if (tpl_iter_all(s, LINE, in, &items, &n) < 0)
		return -1;
	if (!tpl_is_absent(&a[0]) && as_str(s, LINE, &a[0], &sep, &seplen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct tpl_val x = items[i];

		if (!tpl_is_absent(&a[1]) && attr_path(s, LINE, &items[i], &a[1], &x) < 0)
			goto fail;
		if (i)
			dgen_buf_append(tpl_scratch(s), sep, seplen);
		if (tpl_str_append(s, LINE, &x, tpl_scratch(s)) < 0 ||
		    tpl_room(s, LINE, tpl_scratch(s)) < 0)
			goto fail;
	}
	return tpl_scratch_str(s, LINE, from, out);
fail:
	dgen_buf_truncate(tpl_scratch(s), from);
	return -1;
}

/* Python's str.replace(old, new, count): an empty old inserts new
 * between code points, as Python does. Shared by the filter and the method. */
static int replace(struct tpl_rs *s, int line, const struct tpl_val *in, const struct tpl_val *oldv,
		   const struct tpl_val *newv, const struct tpl_val *countv, struct tpl_val *out)
{
	const char *p, *o, *nw;
	size_t n, on, nn, i = 0, from = tpl_scratch(s)->len;
	long long count;
	struct dgen_buf *b = tpl_scratch(s);

	if (as_str(s, line, in, &p, &n) < 0 || as_str(s, line, oldv, &o, &on) < 0 ||
	    as_str(s, line, newv, &nw, &nn) < 0 ||
	    arg_int(s, line, countv, "count", -1, &count) < 0)
		return -1;
	if (count < 0)
		count = LLONG_MAX;
	if (on == 0) {
		size_t adv;

		while (count > 0) {
			dgen_buf_append(b, nw, nn);
			count--;
			if (i >= n)
				break;
			utf8_decode(p + i, n - i, &adv);
			dgen_buf_append(b, p + i, adv);
			i += adv;
			if (tpl_room(s, line, b) < 0)
				goto fail;
		}
		dgen_buf_append(b, p + i, n - i);
		return tpl_scratch_str(s, line, from, out);
	}
	while (count > 0 && i < n) {
		const char *hit = memmem(p + i, n - i, o, on);

		if (!hit)
			break;
		dgen_buf_append(b, p + i, (size_t)(hit - (p + i)));
		dgen_buf_append(b, nw, nn);
		i = (size_t)(hit - p) + on;
		count--;
		if (tpl_room(s, line, b) < 0)
			goto fail;
	}
	dgen_buf_append(b, p + i, n - i);
	return tpl_scratch_str(s, line, from, out);
fail:
	dgen_buf_truncate(b, from);
	return -1;
}

static int f_replace(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		     struct tpl_val *a, struct tpl_val *out)
{
	return replace(s, LINE, in, &a[0], &a[1], &a[2], out);
}

/* first and last: the item at one end, or an undefined that says the
 * sequence was empty. `last` needs a sequence, as Jinja's reversed() does. */
static int end_item(struct tpl_rs *s, int line, struct tpl_val *in, bool last,
		    struct tpl_val *out)
{
	size_t n;

	if (last && !tpl_is_seq(in))
		return tpl_error(s, line, "'%s' object is not reversible", tpl_type_name(in));
	if (tpl_iter_len(s, line, in, &n) < 0)
		return -1;
	if (n == 0) {
		mk_hint(out, last ? "No last item, sequence was empty."
				  : "No first item, sequence was empty.");
		return 0;
	}
	return tpl_iter_get(s, line, in, last ? n - 1 : 0, out);
}

static int f_first(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	(void)a;
	return end_item(s, LINE, in, false, out);
}

static int f_last(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	(void)a;
	return end_item(s, LINE, in, true, out);
}

/* ---- numbers ---- */

/* Python round(x, ndigits) for floats: correctly rounded, ties to even. */
static double py_round(double x, long long nd)
{
	char buf[400];

	if (!isfinite(x) || nd > 330)
		return x;
	if (nd >= 0) {
		snprintf(buf, sizeof buf, "%.*f", (int)nd, x);
		return strtod(buf, NULL);
	}
	if (nd < -308)
		return copysign(0.0, x);
	{
		double p = pow(10.0, (double)-nd), r = nearbyint(x / p) * p;

		return r == 0 ? copysign(0.0, x) : r;
	}
}

/* round(precision, method): "common" rounds as Python's round() does
 * (ints stay ints, halves go to even), "ceil" and "floor" always give a
 * float, as Jinja2 does. */
static int f_round(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	long long prec;
	const char *method = "common";

	if (arg_int(s, LINE, &a[0], "precision", 0, &prec) < 0)
		return -1;
	if (!tpl_is_absent(&a[1])) {
		if (need_str(s, LINE, &a[1], "method") < 0)
			return -1;
		method = a[1].u.s.p;
	}
	if (!tpl_is_num(in))
		return tpl_error(s, LINE, "type %s doesn't define __round__ method",
				 tpl_type_name(in));
	if (!strcmp(method, "common")) {
		if (in->t != VT_FLOAT) {
			long long v = tpl_as_int(in);

			if (prec < 0) {
				long long p = 1, q, r;

				if (prec < -18) {
					tpl_set_int(out, 0);
					return 0;
				}
				for (long long k = 0; k < -prec; k++)
					p *= 10;
				q = v / p;
				r = v % p;
				if (r < 0) {
					r += p;
					q--;
				}
				if (r * 2 > p || (r * 2 == p && (q & 1)))
					q++;
				if (__builtin_mul_overflow(q, p, &v))
					return tpl_error(s, LINE, "integer overflow");
			}
			tpl_set_int(out, v);
			return 0;
		}
		tpl_set_float(out, py_round(in->u.d, prec));
		return 0;
	}
	if (!strcmp(method, "ceil") || !strcmp(method, "floor")) {
		double p = pow(10.0, (double)prec), x = tpl_as_double(in) * p;

		tpl_set_float(out, (method[0] == 'c' ? ceil(x) : floor(x)) / p);
		return 0;
	}
	return tpl_error(s, LINE, "method must be common, ceil or floor");
}

static bool digit_in_base(char c, int base, int *v)
{
	int d = -1;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'z')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'Z')
		d = c - 'A' + 10;
	*v = d;
	return d >= 0 && d < base;
}

/* Python int(str, base); 1 = parsed, 0 = not an integer, -1 = overflow. */
static int py_parse_int(const char *p, size_t n, int base, long long *out)
{
	size_t i = 0;
	bool neg = false, any = false;
	unsigned long long v = 0, lim;
	int d;

	while (n > 0 && py_space((unsigned char)p[n - 1]))
		n--;
	while (i < n && py_space((unsigned char)p[i]))
		i++;
	if (i < n && (p[i] == '+' || p[i] == '-'))
		neg = p[i++] == '-';
	if (i + 1 < n && p[i] == '0') {
		char k = (char)(p[i + 1] | 0x20);

		if ((k == 'x' && (base == 16 || base == 0)) || (k == 'o' && (base == 8 || base == 0)) ||
		    (k == 'b' && (base == 2 || base == 0))) {
			base = k == 'x' ? 16 : k == 'o' ? 8 : 2;
			i += 2;
			if (i < n && p[i] == '_')
				i++;
		}
	}
	if (base == 0)
		base = 10;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; i < n; i++) {
		if (p[i] == '_' && any && i + 1 < n && p[i + 1] != '_')
			continue;
		if (!digit_in_base(p[i], base, &d))
			return 0;
		if (v > (lim - (unsigned)d) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + (unsigned)d;
		any = true;
	}
	if (!any)
		return 0;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 1;
}

/* Python float(str): decimal, inf/infinity/nan, surrounding spaces. */
static bool py_parse_float(const char *p, size_t n, double *out)
{
	char buf[128];
	size_t i = 0, k = 0;
	char *end;

	while (n > 0 && py_space((unsigned char)p[n - 1]))
		n--;
	while (i < n && py_space((unsigned char)p[i]))
		i++;
	if (i == n || n - i >= sizeof buf)
		return false;
	for (size_t j = i; j < n; j++) {
		char c = p[j];

		if (c == '_') {
			if (j == i || j + 1 == n || !isdigit((unsigned char)p[j - 1]) ||
			    !isdigit((unsigned char)p[j + 1]))
				return false;
			continue;
		}
		if (!(isdigit((unsigned char)c) || c == '.' || c == 'e' || c == 'E' || c == '+' ||
		      c == '-' || isalpha((unsigned char)c)))
			return false;
		if (c == 'x' || c == 'X' || c == 'p' || c == 'P')
			return false;
		buf[k++] = c;
	}
	buf[k] = '\0';
	{
		const char *w = buf + (buf[0] == '+' || buf[0] == '-');

		if (isalpha((unsigned char)*w) && strcasecmp(w, "inf") && strcasecmp(w, "infinity") &&
		    strcasecmp(w, "nan"))
			return false;
	}
	errno = 0;
	*out = strtod(buf, &end);
	return *end == '\0' && end != buf;
}

/* int(default, base): ints and bools as they are, strings parsed as
 * Python's int() (then float()) would, floats truncated; anything else,
 * or a failed parse, is the default (0). */
/* int and float when the input does not convert: their `default`
 * argument, else 0 (0.0). */
static int conversion_default(const struct tpl_val *dflt, bool is_float, struct tpl_val *out)
{
	if (!tpl_is_absent(dflt))
		*out = *dflt;
	else if (is_float)
		tpl_set_float(out, 0.0);
	else
		tpl_set_int(out, 0);
	return 0;
}

/* Jinja's int(default=0, base=10): numbers truncate toward zero; strings
 * parse as integers in the base (0: by prefix, as Python), else as floats
 * that truncate; anything else, or NaN, gives the default. Infinity and
 * values past 64 bits are errors, not silent wraps. */
static int f_int(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		 struct tpl_val *a, struct tpl_val *out)
{
	long long base, v;
	double d;

	if (arg_int(s, LINE, &a[1], "base", 10, &base) < 0)
		return -1;
	if (base != 0 && (base < 2 || base > 36))
		return tpl_error(s, LINE, "int() base must be >= 2 and <= 36, or 0");
	if (in->t == VT_INT || in->t == VT_BOOL) {
		tpl_set_int(out, tpl_as_int(in));
		return 0;
	}
	if (in->t == VT_STR) {
		int r = py_parse_int(in->u.s.p, in->u.s.n, (int)base, &v);

		if (r < 0)
			return tpl_error(s, LINE, "integer too large");
		if (r > 0) {
			tpl_set_int(out, v);
			return 0;
		}
		if (!py_parse_float(in->u.s.p, in->u.s.n, &d))
			goto dflt;
	} else if (in->t == VT_FLOAT) {
		d = in->u.d;
	} else {
		goto dflt;
	}
	if (isnan(d))
		goto dflt;
	if (isinf(d))
		return tpl_error(s, LINE, "cannot convert float infinity to integer");
	if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
		return tpl_error(s, LINE, "integer too large");
	tpl_set_int(out, (long long)d);
	return 0;
dflt:
	return conversion_default(&a[0], false, out);
}

static int f_float(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	double d;

	(void)s;
	(void)e;
	if (tpl_is_num(in)) {
		tpl_set_float(out, tpl_as_double(in));
		return 0;
	}
	if (in->t == VT_STR && py_parse_float(in->u.s.p, in->u.s.n, &d)) {
		tpl_set_float(out, d);
		return 0;
	}
	return conversion_default(&a[0], true, out);
}

static int f_abs(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		 struct tpl_val *a, struct tpl_val *out)
{
	(void)a;
	if (in->t == VT_FLOAT) {
		tpl_set_float(out, fabs(in->u.d));
		return 0;
	}
	if (in->t == VT_INT || in->t == VT_BOOL) {
		long long v = tpl_as_int(in);

		if (v == LLONG_MIN)
			return tpl_error(s, LINE, "integer overflow");
		tpl_set_int(out, v < 0 ? -v : v);
		return 0;
	}
	return tpl_error(s, LINE, "bad operand type for abs(): '%s'", tpl_type_name(in));
}

static int f_string(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		    struct tpl_val *a, struct tpl_val *out)
{
	(void)a;
	return tpl_to_str(s, LINE, in, out);
}

static int f_tojson(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		    struct tpl_val *a, struct tpl_val *out)
{
	long long indent = 2;
	size_t from = tpl_scratch(s)->len;

	if (!tpl_is_absent(&a[0])) {
		if (a[0].t == VT_NONE)
			indent = -1;
		else if (arg_int(s, LINE, &a[0], "indent", 2, &indent) < 0)
			return -1;
		if (indent > 64)
			indent = 64;
		if (indent < -1)
			indent = 0;
	}
	if (tpl_json_append(s, LINE, in, (int)indent, tpl_scratch(s)) < 0) {
		dgen_buf_truncate(tpl_scratch(s), from);
		return -1;
	}
	return tpl_scratch_str(s, LINE, from, out);
}

static int f_truncate(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		      struct tpl_val *a, struct tpl_val *out)
{
	long long len;
	const char *p, *end = "...";
	size_t n, endn = 3, off;
	size_t from = tpl_scratch(s)->len;

	if (arg_int(s, LINE, &a[0], "length", 255, &len) < 0 || as_str(s, LINE, in, &p, &n) < 0)
		return -1;
	if (!tpl_is_absent(&a[2]) && as_str(s, LINE, &a[2], &end, &endn) < 0)
		return -1;
	if (len < 0)
		len = 0;
	off = utf8_offset(p, n, (size_t)len);
	if (off >= n) {
		*out = *in;
		if (in->t != VT_STR)
			return tpl_mkstr(s, LINE, p, n, out);
		return 0;
	}
	dgen_buf_append(tpl_scratch(s), p, off);
	dgen_buf_append(tpl_scratch(s), end, endn);
	return tpl_scratch_str(s, LINE, from, out);
}

/* ---- sequences ---- */

static int f_list(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val *items;
	size_t n;

	(void)a;
	if (tpl_iter_all(s, LINE, in, &items, &n) < 0)
		return -1;
	tpl_set_list(out, items, n, false);
	return 0;
}

/* reverse: a string reversed by code points, any other sequence as a
 * new list. */
static int f_reverse(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		     struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val *items, *rev;
	size_t n;

	(void)a;
	if (in->t == VT_STR) {
		size_t from = tpl_scratch(s)->len, end = in->u.s.n, st;

		while (end > 0) {
			st = utf8_prev(in->u.s.p, end);
			dgen_buf_append(tpl_scratch(s), in->u.s.p + st, end - st);
			end = st;
		}
		return tpl_scratch_str(s, LINE, from, out);
	}
	if (!tpl_is_seq(in))
		return tpl_error(s, LINE, "argument must be iterable");
	if (tpl_iter_all(s, LINE, in, &items, &n) < 0 ||
	    !(rev = tpl_ralloc(s, LINE, (n + 1) * sizeof *rev)))
		return -1;
	for (size_t i = 0; i < n; i++)
		rev[i] = items[n - 1 - i];
	tpl_set_list(out, rev, n, false);
	return 0;
}

/* The key a sort/min/max compares: an attribute, lowercased strings. */
static int sort_key(struct tpl_rs *s, int line, const struct tpl_val *item,
		    const struct tpl_val *attr, bool case_sensitive, struct tpl_val *out)
{
	*out = *item;
	if (attr && !tpl_is_absent(attr) && attr->t != VT_NONE &&
	    attr_path(s, line, item, attr, out) < 0)
		return -1;
	if (out->t == VT_UNDEF)
		return tpl_undef_error(s, line, out);
	if (!case_sensitive && out->t == VT_STR)
		return recase(s, line, out, CASE_LOWER, out);
	return 0;
}

struct sorter {
	struct tpl_rs *s;
	int line;
	int failed;
};

static int key_cmp(struct sorter *so, const struct tpl_val *a, const struct tpl_val *b)
{
	int c = 0;

	if (so->failed)
		return 0;
	if (tpl_compare(so->s, so->line, "<", a, b, &c) < 0) {
		so->failed = 1;
		return 0;
	}
	return c == 2 ? 0 : c;
}

/* Stable merge sort of idx[] by keys[] (Python's sort is stable). */
static void merge_sort(struct sorter *so, size_t *idx, size_t *tmp, size_t n,
		       const struct tpl_val *keys, bool reverse)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	merge_sort(so, idx, tmp, mid, keys, reverse);
	merge_sort(so, idx + mid, tmp, n - mid, keys, reverse);
	while (i < mid && j < n) {
		int c = key_cmp(so, &keys[idx[j]], &keys[idx[i]]);

		if (reverse ? c > 0 : c < 0)
			tmp[k++] = idx[j++];
		else
			tmp[k++] = idx[i++];
	}
	while (i < mid)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, n * sizeof *idx);
}

/* sort(reverse, case_sensitive, attribute): a stable sort on the keys
 * sort_key() makes; a comparison error (mixed types) fails the render. */
static int f_sort(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val *items, *keys, *res;
	size_t n, *idx, *tmp;
	bool reverse, cs;
	struct sorter so = { s, LINE, 0 };

	if (arg_bool(s, LINE, &a[0], false, &reverse) < 0 ||
	    arg_bool(s, LINE, &a[1], false, &cs) < 0 ||
	    tpl_iter_all(s, LINE, in, &items, &n) < 0)
		return -1;
	if (!(keys = tpl_ralloc(s, LINE, (n + 1) * sizeof *keys)) ||
	    !(res = tpl_ralloc(s, LINE, (n + 1) * sizeof *res)) ||
	    !(idx = tpl_ralloc(s, LINE, (n + 1) * sizeof *idx)) ||
	    !(tmp = tpl_ralloc(s, LINE, (n + 1) * sizeof *tmp)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		idx[i] = i;
		if (sort_key(s, LINE, &items[i], &a[2], cs, &keys[i]) < 0)
			return -1;
	}
	merge_sort(&so, idx, tmp, n, keys, reverse);
	if (so.failed)
		return -1;
	for (size_t i = 0; i < n; i++)
		res[i] = items[idx[i]];
	tpl_set_list(out, res, n, false);
	return 0;
}

/* min/max(case_sensitive, attribute): the first item whose key is
 * smallest (largest); undefined with a hint when the sequence is empty. */
static int minmax(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out, bool want_max)
{
	struct tpl_val *items, best, bestkey;
	size_t n;
	bool cs;

	if (arg_bool(s, LINE, &a[0], false, &cs) < 0 || tpl_iter_all(s, LINE, in, &items, &n) < 0)
		return -1;
	if (n == 0) {
		mk_hint(out, "No aggregated item, sequence was empty.");
		return 0;
	}
	best = items[0];
	if (sort_key(s, LINE, &items[0], &a[1], cs, &bestkey) < 0)
		return -1;
	for (size_t i = 1; i < n; i++) {
		struct tpl_val k;
		int c;

		if (sort_key(s, LINE, &items[i], &a[1], cs, &k) < 0 ||
		    tpl_compare(s, LINE, want_max ? ">" : "<", &k, &bestkey, &c) < 0)
			return -1;
		if (c != 2 && (want_max ? c > 0 : c < 0)) {
			best = items[i];
			bestkey = k;
		}
	}
	*out = best;
	return 0;
}

static int f_min(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		 struct tpl_val *a, struct tpl_val *out)
{
	return minmax(s, e, in, a, out, false);
}

static int f_max(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		 struct tpl_val *a, struct tpl_val *out)
{
	return minmax(s, e, in, a, out, true);
}

/* sum(attribute, start): adds numbers (of an attribute path) to start,
 * ints exactly, a float as soon as one appears. */
static int f_sum(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		 struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val *items, total;
	size_t n;

	if (tpl_iter_all(s, LINE, in, &items, &n) < 0)
		return -1;
	if (tpl_is_absent(&a[1]))
		tpl_set_int(&total, 0);
	else
		total = a[1];
	for (size_t i = 0; i < n; i++) {
		struct tpl_val x = items[i];
		double d;
		long long r;

		if (!tpl_is_absent(&a[0]) && a[0].t != VT_NONE && attr_path(s, LINE, &items[i], &a[0], &x) < 0)
			return -1;
		if (x.t == VT_UNDEF)
			return tpl_undef_error(s, LINE, &x);
		if (!tpl_is_num(&x) || !tpl_is_num(&total))
			return tpl_error(s, LINE, "unsupported operand type(s) for +: '%s' and '%s'",
					 tpl_type_name(&total), tpl_type_name(&x));
		if (x.t == VT_FLOAT || total.t == VT_FLOAT) {
			d = tpl_as_double(&total) + tpl_as_double(&x);
			tpl_set_float(&total, d);
		} else {
			if (__builtin_add_overflow(tpl_as_int(&total), tpl_as_int(&x), &r))
				return tpl_error(s, LINE, "integer overflow");
			tpl_set_int(&total, r);
		}
	}
	*out = total;
	return 0;
}

static int f_items(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out);

static int f_wordcount(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		       struct tpl_val *a, struct tpl_val *out)
{
	const char *p;
	size_t n, count = 0;
	bool inword = false;

	(void)a;
	if (as_str(s, LINE, in, &p, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		bool w = isalnum(c) || c == '_' || c >= 0x80;

		if (w && !inword)
			count++;
		inword = w;
	}
	tpl_set_int(out, (long long)count);
	return 0;
}

/* indent(width, first, blank): prefixes every line but the first (and
 * the first when asked) with width spaces or a given string; blank lines
 * only when asked. */
static int f_indent(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		    struct tpl_val *a, struct tpl_val *out)
{
	const char *p, *ind = "    ";
	size_t n, indn = 4, from = tpl_scratch(s)->len, i = 0;
	bool first, blank, line0 = true;
	struct dgen_buf *b = tpl_scratch(s);
	char spaces[256];

	if (as_str(s, LINE, in, &p, &n) < 0 || arg_bool(s, LINE, &a[1], false, &first) < 0 ||
	    arg_bool(s, LINE, &a[2], false, &blank) < 0)
		return -1;
	if (!tpl_is_absent(&a[0])) {
		if (a[0].t == VT_STR) {
			ind = a[0].u.s.p;
			indn = a[0].u.s.n;
		} else {
			long long w;

			if (arg_int(s, LINE, &a[0], "width", 4, &w) < 0)
				return -1;
			if (w < 0)
				w = 0;
			if (w > (long long)sizeof spaces)
				w = sizeof spaces;
			memset(spaces, ' ', (size_t)w);
			ind = spaces;
			indn = (size_t)w;
		}
	}
	/* Lines split on \n, \r\n and \r. Like Jinja2 (which appends a
	 * newline before splitting), text ending in a newline gets one more,
	 * empty, last line. */
	for (;;) {
		size_t st = i, len;
		bool has_nl;

		while (i < n && p[i] != '\n' && p[i] != '\r')
			i++;
		len = i - st;
		has_nl = i < n;
		if (i < n && p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		if (i < n)
			i++;
		if (!line0)
			dgen_buf_putc(b, '\n');
		if ((line0 ? first : (blank || len > 0)))
			dgen_buf_append(b, ind, indn);
		dgen_buf_append(b, p + st, len);
		line0 = false;
		if (tpl_room(s, LINE, b) < 0) {
			dgen_buf_truncate(b, from);
			return -1;
		}
		if (!has_nl)
			break;
	}
	return tpl_scratch_str(s, LINE, from, out);
}

int tpl_call(struct tpl_rs *s, const struct tpl_expr *e, const struct tpl_callable *c,
	     tpl_fn fn, struct tpl_val *in, struct tpl_val *args, struct tpl_val *out)
{
	if (in && !c->raw && in->t == VT_UNDEF)
		return tpl_undef_error(s, e->line, in);
	memset(out, 0, sizeof *out);
	return fn(s, e, in, args, out);
}

/* Calls a builtin named by a string (map("upper"), select("odd")): the
 * node passed on carries that builtin's name, which functions serving
 * several names read. */
static int call_named(struct tpl_rs *s, const struct tpl_expr *e, const struct tpl_callable *c,
		      tpl_fn fn, struct tpl_val *in, struct tpl_val *args, struct tpl_val *out)
{
	struct tpl_expr named = *e;

	named.name = c->name;
	return tpl_call(s, &named, c, fn, in, args, out);
}

/* map("filter", ...) applies a filter to every item (with up to two
 * extra arguments); map(attribute=...) picks an attribute path, with a
 * default for items that lack it. */
static int f_map(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		 struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val *items, *res;
	size_t n;
	int fn = -1;

	if (tpl_iter_all(s, LINE, in, &items, &n) < 0)
		return -1;
	if (!tpl_is_absent(&a[0])) {
		if (need_str(s, LINE, &a[0], "filter name") < 0)
			return -1;
		fn = tpl_lookup(tpl_filters, a[0].u.s.p, a[0].u.s.n);
		if (fn < 0)
			return tpl_error(s, LINE, "no filter named '%s'", a[0].u.s.p);
	} else if (tpl_is_absent(&a[3])) {
		return tpl_error(s, LINE, "map() needs a filter name or attribute=");
	}
	if (!(res = tpl_ralloc(s, LINE, (n + 1) * sizeof *res)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (fn >= 0) {
			struct tpl_val args[TPL_MAX_PARAMS];
			int np = 0;

			while (tpl_filters[fn].params[np])
				np++;
			absent_args(args);
			if (!tpl_is_absent(&a[1]) && np > 0)
				args[0] = a[1];
			if (!tpl_is_absent(&a[2]) && np > 1)
				args[1] = a[2];
			if (call_named(s, e, &tpl_filters[fn], tpl_filter_fns[fn], &items[i], args,
				       &res[i]) < 0)
				return -1;
		} else {
			if (attr_path(s, LINE, &items[i], &a[3], &res[i]) < 0)
				return -1;
			if (res[i].t == VT_UNDEF && !tpl_is_absent(&a[4]))
				res[i] = a[4];
		}
	}
	tpl_set_list(out, res, n, false);
	return 0;
}

/* select/reject(test, arg) and selectattr/rejectattr(attr, test, arg). */
static int select_impl(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		       const struct tpl_val *attr, const struct tpl_val *test,
		       const struct tpl_val *arg, bool keep_true, struct tpl_val *out)
{
	struct tpl_val *items, *res;
	size_t n, k = 0;
	int fn = -1;

	if (tpl_iter_all(s, LINE, in, &items, &n) < 0)
		return -1;
	if (test && !tpl_is_absent(test)) {
		if (need_str(s, LINE, test, "test name") < 0)
			return -1;
		fn = tpl_lookup(tpl_tests, test->u.s.p, test->u.s.n);
		if (fn < 0)
			return tpl_error(s, LINE, "no test named '%s'", test->u.s.p);
	}
	if (!(res = tpl_ralloc(s, LINE, (n + 1) * sizeof *res)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct tpl_val x = items[i], r;
		bool t;

		if (attr && attr_path(s, LINE, &items[i], attr, &x) < 0)
			return -1;
		if (fn >= 0) {
			struct tpl_val args[TPL_MAX_PARAMS];

			absent_args(args);
			if (arg && !tpl_is_absent(arg))
				args[0] = *arg;
			if (tpl_tests[fn].params[0] && tpl_is_absent(&args[0]) && tpl_tests[fn].min_args)
				return tpl_error(s, LINE, "test '%s' needs an argument",
						 tpl_tests[fn].name);
			if (call_named(s, e, &tpl_tests[fn], tpl_test_fns[fn], &x, args, &r) < 0)
				return -1;
			t = r.u.b;
		} else if (tpl_truthy(s, LINE, &x, &t) < 0) {
			return -1;
		}
		if (t == keep_true)
			res[k++] = items[i];
	}
	tpl_set_list(out, res, k, false);
	return 0;
}

static int f_select(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		    struct tpl_val *a, struct tpl_val *out)
{
	return select_impl(s, e, in, NULL, &a[0], &a[1], true, out);
}

static int f_reject(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		    struct tpl_val *a, struct tpl_val *out)
{
	return select_impl(s, e, in, NULL, &a[0], &a[1], false, out);
}

static int f_selectattr(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
			struct tpl_val *a, struct tpl_val *out)
{
	return select_impl(s, e, in, &a[0], &a[1], &a[2], true, out);
}

static int f_rejectattr(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
			struct tpl_val *a, struct tpl_val *out)
{
	return select_impl(s, e, in, &a[0], &a[1], &a[2], false, out);
}

static int f_escape(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		    struct tpl_val *a, struct tpl_val *out)
{
	const char *p;
	size_t n, from = tpl_scratch(s)->len;
	struct dgen_buf *b = tpl_scratch(s);

	(void)a;
	if (as_str(s, LINE, in, &p, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		switch (p[i]) {
		case '&': dgen_buf_puts(b, "&amp;"); break;
		case '<': dgen_buf_puts(b, "&lt;"); break;
		case '>': dgen_buf_puts(b, "&gt;"); break;
		case '"': dgen_buf_puts(b, "&#34;"); break;
		case '\'': dgen_buf_puts(b, "&#39;"); break;
		default: dgen_buf_putc(b, p[i]);
		}
	}
	return tpl_scratch_str(s, LINE, from, out);
}

static int f_safe(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	(void)s;
	(void)e;
	(void)a;
	*out = *in;
	return 0;
}

/* The function of each builtin, in the order of template_builtins.h. */
#define FUNCTION(name, fn, min_args, raw, params) fn,


const tpl_fn tpl_filter_fns[] = { TPL_FILTER_LIST(FUNCTION) };

/* ---- tests ---- */

/* The tests of what a value is, by name. Most are raw and answer false
 * for an undefined value; sequence and iterable are not (the renderer
 * refuses an undefined input before they run). */
static int t_type(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	static const struct { const char *name; int type; } exact[] = {
		{ "none", VT_NONE }, { "boolean", VT_BOOL }, { "integer", VT_INT },
		{ "float", VT_FLOAT }, { "string", VT_STR }, { "mapping", VT_DICT },
		{ "undefined", VT_UNDEF },
	};
	const char *n = e->name;
	bool r = false;

	(void)s;
	(void)a;
	for (size_t i = 0; i < DGEN_ARRAY_LEN(exact); i++)
		if (!strcmp(n, exact[i].name))
			r = in->t == exact[i].type;
	if (!strcmp(n, "defined"))
		r = in->t != VT_UNDEF;
	else if (!strcmp(n, "true") || !strcmp(n, "false"))
		r = in->t == VT_BOOL && in->u.b == (n[0] == 't');
	else if (!strcmp(n, "number"))
		r = tpl_is_num(in);
	else if (!strcmp(n, "sequence"))
		r = tpl_is_seq(in);
	else if (!strcmp(n, "iterable"))
		r = tpl_is_seq(in) || in->t == VT_LOOP;
	tpl_set_bool(out, r);
	return 0;
}

static int t_divisible(struct tpl_rs *s, const struct tpl_expr *e, const struct tpl_val *in,
		       const struct tpl_val *by, bool *out)
{
	if (!tpl_is_num(in) || !tpl_is_num(by))
		return tpl_error(s, LINE, "unsupported operand type(s) for %%: '%s' and '%s'",
				 tpl_type_name(in), tpl_type_name(by));
	if (in->t == VT_FLOAT || by->t == VT_FLOAT) {
		if (tpl_as_double(by) == 0)
			return tpl_error(s, LINE, "float modulo");
		*out = fmod(tpl_as_double(in), tpl_as_double(by)) == 0;
		return 0;
	}
	if (tpl_as_int(by) == 0)
		return tpl_error(s, LINE, "integer division or modulo by zero");
	*out = tpl_as_int(by) == -1 || tpl_as_int(in) % tpl_as_int(by) == 0;
	return 0;
}

static int t_even(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val two;
	bool r;

	(void)a;
	tpl_set_int(&two, 2);
	if (t_divisible(s, e, in, &two, &r) < 0)
		return -1;
	tpl_set_bool(out, strcmp(e->name, "odd") ? r : !r);
	return 0;
}

static int t_divisibleby(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
			 struct tpl_val *a, struct tpl_val *out)
{
	bool r;

	if (t_divisible(s, e, in, &a[0], &r) < 0)
		return -1;
	tpl_set_bool(out, r);
	return 0;
}

static int t_case(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	const char *p;
	size_t n, i = 0, adv;
	bool cased = false, ok = true, want_upper = !strcmp(e->name, "upper");

	(void)a;
	if (as_str(s, LINE, in, &p, &n) < 0)
		return -1;
	while (i < n) {
		unsigned c = utf8_decode(p + i, n - i, &adv);

		if (cp_cased(c)) {
			cased = true;
			if (want_upper ? utf8_upper(c) != c : utf8_lower(c) != c)
				ok = false;
		}
		i += adv;
	}
	tpl_set_bool(out, cased && ok);
	return 0;
}

/* eq/ne/lt/le/gt/ge and their long names: Python's comparison of the
 * input with the argument. */
static int t_compare(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		     struct tpl_val *a, struct tpl_val *out)
{
	const char *n = e->name;
	bool r;
	int c;

	if (!strcmp(n, "eq") || !strcmp(n, "equalto") || !strcmp(n, "ne")) {
		if (tpl_equal(s, LINE, in, &a[0], &r) < 0)
			return -1;
		tpl_set_bool(out, n[0] == 'n' ? !r : r);
		return 0;
	}
	if (tpl_compare(s, LINE, n, in, &a[0], &c) < 0)
		return -1;
	if (c == 2)
		r = false;
	else if (!strcmp(n, "lt") || !strcmp(n, "lessthan"))
		r = c < 0;
	else if (!strcmp(n, "le"))
		r = c <= 0;
	else if (!strcmp(n, "gt") || !strcmp(n, "greaterthan"))
		r = c > 0;
	else
		r = c >= 0;
	tpl_set_bool(out, r);
	return 0;
}

static int t_in(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val *items;
	size_t n;
	bool r = false;

	if (a[0].t == VT_STR) {
		if (in->t != VT_STR)
			return tpl_error(s, LINE, "'in <string>' requires string as left operand, not %s",
					 tpl_type_name(in));
		r = in->u.s.n == 0 || memmem(a[0].u.s.p, a[0].u.s.n, in->u.s.p, in->u.s.n);
		tpl_set_bool(out, r);
		return 0;
	}
	if (tpl_iter_all(s, LINE, &a[0], &items, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !r; i++)
		if (tpl_equal(s, LINE, in, &items[i], &r) < 0)
			return -1;
	tpl_set_bool(out, r);
	return 0;
}

const tpl_fn tpl_test_fns[] = { TPL_TEST_LIST(FUNCTION) };

/* ---- methods of dicts, strings and the loop ---- */

static int need_type(struct tpl_rs *s, const struct tpl_expr *e, const struct tpl_val *in, int t)
{
	if (in->t != t)
		return tpl_error(s, LINE, "'%s' object has no attribute '%s'", tpl_type_name(in),
				 e->name);
	return 0;
}

/* A dict's keys (what 0), values (1) or (key, value) tuples (2), in
 * the dict's order, as a list. */
static int dict_walk(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in, int what,
		     struct tpl_val *out)
{
	struct tpl_val *res;
	size_t n, k = 0;

	if (need_type(s, e, in, VT_DICT) < 0)
		return -1;
	n = (size_t)json_object_object_length(in->u.j);
	if (!(res = tpl_ralloc(s, LINE, (n + 1) * sizeof *res)))
		return -1;
	json_object_object_foreach(in->u.j, key, val) {
		struct tpl_val kv, vv;

		if (k == n)
			break;
		tpl_set_str(&kv, key, strlen(key));
		tpl_from_json(val, &vv);
		if (what == 0) {
			res[k] = kv;
		} else if (what == 1) {
			res[k] = vv;
		} else {
			struct tpl_val *pair = tpl_ralloc(s, LINE, 2 * sizeof *pair);

			if (!pair)
				return -1;
			pair[0] = kv;
			pair[1] = vv;
			tpl_set_list(&res[k], pair, 2, true);
		}
		k++;
	}
	tpl_set_list(out, res, k, false);
	return 0;
}

static int f_items(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	(void)a;
	if (in->t != VT_DICT)
		return tpl_error(s, LINE, "can only get item pairs from a mapping");
	return dict_walk(s, e, in, 2, out);
}

/* d.keys(), d.values(), d.items(). */
static int m_dict(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	(void)a;
	return dict_walk(s, e, in, !strcmp(e->name, "keys") ? 0 : !strcmp(e->name, "values") ? 1 : 2,
			 out);
}

static int m_get(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		 struct tpl_val *a, struct tpl_val *out)
{
	struct json_object *j;

	if (need_type(s, e, in, VT_DICT) < 0)
		return -1;
	if (a[0].t == VT_STR && json_object_object_get_ex(in->u.j, a[0].u.s.p, &j)) {
		tpl_from_json(j, out);
		return 0;
	}
	if (tpl_is_absent(&a[1]))
		out->t = VT_NONE;
	else
		*out = a[1];
	return 0;
}

static int m_case(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	const char *n = e->name;

	(void)a;
	if (need_type(s, e, in, VT_STR) < 0)
		return -1;
	return recase(s, LINE, in, case_mode(n, CASE_PYTITLE), out);
}

static int m_strip(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	const char *n = e->name;

	if (need_type(s, e, in, VT_STR) < 0)
		return -1;
	return strip(s, LINE, in, &a[0], n[0] != 'r', n[0] != 'l', out);
}

static int m_replace(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		     struct tpl_val *a, struct tpl_val *out)
{
	if (need_type(s, e, in, VT_STR) < 0 || need_str(s, LINE, &a[0], "old") < 0 ||
	    need_str(s, LINE, &a[1], "new") < 0)
		return -1;
	return replace(s, LINE, in, &a[0], &a[1], &a[2], out);
}

/* str.split(sep, maxsplit): on runs of whitespace without sep (no empty
 * parts), on each sep with it; at most maxsplit splits. */
static int m_split(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	const char *p;
	size_t n, i = 0, k = 0, cap = 16;
	long long maxsplit;
	struct tpl_val *res;
	bool ws;

	if (need_type(s, e, in, VT_STR) < 0 ||
	    arg_int(s, LINE, &a[1], "maxsplit", -1, &maxsplit) < 0)
		return -1;
	ws = tpl_is_absent(&a[0]) || a[0].t == VT_NONE;
	if (!ws && (need_str(s, LINE, &a[0], "separator") < 0))
		return -1;
	if (!ws && a[0].u.s.n == 0)
		return tpl_error(s, LINE, "empty separator");
	p = in->u.s.p;
	n = in->u.s.n;
	if (maxsplit < 0)
		maxsplit = LLONG_MAX;
	if (!(res = tpl_ralloc(s, LINE, cap * sizeof *res)))
		return -1;
	for (;;) {
		size_t st, end;

		if (ws) {
			while (i < n && py_space((unsigned char)p[i]))
				i++;
			if (i >= n)
				break;
			st = i;
			if (maxsplit-- <= 0) {
				end = n;
				while (end > st && py_space((unsigned char)p[end - 1]))
					end--;
				i = n;
			} else {
				while (i < n && !py_space((unsigned char)p[i]))
					i++;
				end = i;
			}
		} else {
			const char *hit = maxsplit-- > 0 ?
				memmem(p + i, n - i, a[0].u.s.p, a[0].u.s.n) : NULL;

			st = i;
			end = hit ? (size_t)(hit - p) : n;
			i = hit ? end + a[0].u.s.n : n + 1;
		}
		if (k + 1 >= cap) {
			struct tpl_val *bigger = tpl_ralloc(s, LINE, cap * 2 * sizeof *bigger);

			if (!bigger)
				return -1;
			memcpy(bigger, res, k * sizeof *res);
			res = bigger;
			cap *= 2;
		}
		if (tpl_mkstr(s, LINE, p + st, end - st, &res[k++]) < 0)
			return -1;
		if (i > n)
			break;
	}
	tpl_set_list(out, res, k, false);
	return 0;
}

static int m_affix(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	bool start = e->name[0] == 's', r = false;
	struct tpl_val *cands = &a[0];
	size_t nc = 1;

	if (need_type(s, e, in, VT_STR) < 0)
		return -1;
	if (a[0].t == VT_LIST && tpl_iter_all(s, LINE, &a[0], &cands, &nc) < 0)
		return -1;
	for (size_t i = 0; i < nc && !r; i++) {
		const struct tpl_val *c = &cands[i];

		if (need_str(s, LINE, c, "prefix") < 0)
			return -1;
		if (c->u.s.n <= in->u.s.n)
			r = memcmp(start ? in->u.s.p : in->u.s.p + in->u.s.n - c->u.s.n, c->u.s.p,
				   c->u.s.n) == 0;
	}
	tpl_set_bool(out, r);
	return 0;
}

/* str.find(sub) (a code point index, -1 when missing) and str.count(sub)
 * (non-overlapping; an empty sub counts every gap). */
static int m_find(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	const char *hit;
	bool count = !strcmp(e->name, "count");
	long long c = 0;
	size_t i = 0;

	if (need_type(s, e, in, VT_STR) < 0 || need_str(s, LINE, &a[0], "substring") < 0)
		return -1;
	if (count) {
		if (a[0].u.s.n == 0) {
			tpl_set_int(out, (long long)utf8_len(in->u.s.p, in->u.s.n) + 1);
			return 0;
		}
		while (i <= in->u.s.n &&
		       (hit = memmem(in->u.s.p + i, in->u.s.n - i, a[0].u.s.p, a[0].u.s.n))) {
			c++;
			i = (size_t)(hit - in->u.s.p) + a[0].u.s.n;
		}
		tpl_set_int(out, c);
		return 0;
	}
	hit = a[0].u.s.n == 0 ? in->u.s.p : memmem(in->u.s.p, in->u.s.n, a[0].u.s.p, a[0].u.s.n);
	tpl_set_int(out, hit ? (long long)utf8_len(in->u.s.p, (size_t)(hit - in->u.s.p)) : -1);
	return 0;
}

static int m_join(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		  struct tpl_val *a, struct tpl_val *out)
{
	struct tpl_val args[TPL_MAX_PARAMS];
	struct tpl_val *items;
	size_t n;

	if (need_type(s, e, in, VT_STR) < 0 || tpl_iter_all(s, LINE, &a[0], &items, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (need_str(s, LINE, &items[i], "sequence item") < 0)
			return -1;
	absent_args(args);
	args[0] = *in;
	return f_join(s, e, &a[0], args, out);
}

static int m_cycle(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	int n = 0;
	struct tpl_val idx;

	if (need_type(s, e, in, VT_LOOP) < 0)
		return -1;
	while (n < TPL_MAX_PARAMS && !tpl_is_absent(&a[n]))
		n++;
	if (n == 0)
		return tpl_error(s, LINE, "no items for cycling given");
	if (tpl_getattr(s, LINE, in, "index0", 6, &idx) < 0)
		return -1;
	*out = a[idx.u.i % n];
	return 0;
}

const tpl_fn tpl_method_fns[] = { TPL_METHOD_LIST(FUNCTION) };

/* ---- global functions ---- */

/* range(stop) / range(start, stop, step): a lazy range, refused when
 * longer than the loop iteration limit could ever walk. */
static int g_range(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *in,
		   struct tpl_val *a, struct tpl_val *out)
{
	long long start = 0, stop, step = 1;
	unsigned long long n = 0;

	(void)in;
	if (tpl_is_absent(&a[1])) {
		if (arg_int(s, LINE, &a[0], "range() argument", 0, &stop) < 0)
			return -1;
	} else if (arg_int(s, LINE, &a[0], "range() argument", 0, &start) < 0 ||
		   arg_int(s, LINE, &a[1], "range() argument", 0, &stop) < 0 ||
		   arg_int(s, LINE, &a[2], "range() argument", 1, &step) < 0) {
		return -1;
	}
	if (step == 0)
		return tpl_error(s, LINE, "range() arg 3 must not be zero");
	if (step > 0 && start < stop)
		n = ((unsigned long long)stop - (unsigned long long)start - 1) /
		    (unsigned long long)step + 1;
	else if (step < 0 && start > stop)
		n = ((unsigned long long)start - (unsigned long long)stop - 1) /
		    (0ULL - (unsigned long long)step) + 1;
	if (n > (unsigned long long)tpl_max_iterations(s)) {
		return tpl_limit(s, LINE, "range() of %llu items exceeds the limit of %ld loop iterations",
				 n, tpl_max_iterations(s));
	}
	tpl_set_range(out, start, stop, step, (long long)n);
	return 0;
}

const tpl_fn tpl_global_fns[] = { TPL_GLOBAL_LIST(FUNCTION) };
