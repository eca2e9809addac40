/*
 * template_render.c - renders a compiled template over a json-c context:
 * evaluates expressions (arithmetic, slicing, comparison, calls to the
 * builtins) and runs statements (output, if, for, set).
 *
 * A render keeps all its state in one struct on the caller's stack, so
 * any number of renders of the same template run at once. Temporary
 * values live in an arena released statement by statement; a render
 * that only prints variables allocates nothing but output.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/template.h"
#include "dgen/utf8.h"
#include "dgen/util.h"
#include "template_filters.h"

const struct dgen_template_limits template_default_limits = {
	.max_output = 1024 * 1024,
	.max_iterations = 100000,
};

/* ---- slicing ---- */

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
	*out = tpl_as_int(v);
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

/* A slice's selection: count items from start, step apart. */
struct slice {
	long long start, step, count;
};

static int slice_step(struct tpl_rs *s, int line, const struct tpl_val *parts, long long *step)
{
	if (slice_bound(s, line, &parts[2], 1, step) < 0)
		return -1;
	if (*step == 0)
		return tpl_error(s, line, "slice step cannot be zero");
	if (*step == LLONG_MIN)
		*step = -LLONG_MAX;
	return 0;
}

/* Resolves [start:stop:step] over len items the way Python does. */
static int slice_resolve(struct tpl_rs *s, int line, const struct tpl_val *parts, long long len,
			 long long step, struct slice *sl)
{
	long long start, stop;

	if (slice_bound(s, line, &parts[0], step < 0 ? len - 1 : 0, &start) < 0 ||
	    slice_bound(s, line, &parts[1], step < 0 ? -1 : len, &stop) < 0)
		return -1;
	if (parts[0].t != VT_NONE && parts[0].t != VT_UNDEF)
		start = adjust(start, len, step, true);
	if (parts[1].t != VT_NONE && parts[1].t != VT_UNDEF)
		stop = adjust(stop, len, step, false);
	sl->start = start;
	sl->step = step;
	if (step > 0)
		sl->count = start < stop ? (stop - start - 1) / step + 1 : 0;
	else
		sl->count = stop < start ? (start - stop - 1) / (-step) + 1 : 0;
	return 0;
}

/* A string slices by code points: the byte offset of each is found first. */
static int slice_str(struct tpl_rs *s, int line, const struct tpl_val *str,
		     const struct tpl_val *parts, long long step, struct tpl_val *out)
{
	const char *p = str->u.s.p;
	size_t n = str->u.s.n, len = utf8_len(p, n), i = 0, k = 0, adv, from;
	size_t *offs = tpl_ralloc(s, line, (len + 1) * sizeof *offs);
	struct slice sl;

	if (!offs)
		return -1;
	while (i < n) {
		offs[k++] = i;
		utf8_decode(p + i, n - i, &adv);
		i += adv;
	}
	offs[k] = i;
	if (slice_resolve(s, line, parts, (long long)len, step, &sl) < 0)
		return -1;
	if (sl.step == 1)
		return tpl_mkstr(s, line, p + offs[sl.start],
				 sl.count ? offs[sl.start + sl.count] - offs[sl.start] : 0, out);
	from = s->scratch.len;
	for (long long c = 0; c < sl.count; c++) {
		long long at = sl.start + c * sl.step;

		dgen_buf_append(&s->scratch, p + offs[at], offs[at + 1] - offs[at]);
	}
	return tpl_scratch_str(s, line, from, out);
}

/* Lists and tuples slice into a new arena array; a range into a range. */
static int slice_list(struct tpl_rs *s, int line, const struct tpl_val *obj,
		      const struct tpl_val *parts, long long step, struct tpl_val *out)
{
	long long len = (long long)tpl_list_len(obj);
	struct tpl_val *arr;
	struct slice sl;

	if (slice_resolve(s, line, parts, len, step, &sl) < 0)
		return -1;
	if (obj->t == VT_RANGE) {
		struct tpl_val first;
		long long nstep;

		if (__builtin_mul_overflow(obj->u.r.step, sl.step, &nstep))
			return tpl_error(s, line, "integer overflow");
		tpl_list_get(obj, (size_t)(sl.start < len ? sl.start : 0), &first);
		tpl_set_range(out, first.u.i,
			      (long long)((unsigned long long)first.u.i +
					  (unsigned long long)sl.count * (unsigned long long)nstep),
			      nstep, sl.count);
		return 0;
	}
	if (!(arr = tpl_ralloc(s, line, (size_t)(sl.count ? sl.count : 1) * sizeof *arr)))
		return -1;
	for (long long c = 0; c < sl.count; c++)
		tpl_list_get(obj, (size_t)(sl.start + c * sl.step), &arr[c]);
	tpl_set_list(out, arr, (size_t)sl.count, obj->t == VT_LIST && obj->tuple);
	return 0;
}

/* obj[start:stop:step]; parts holds the three bounds (None when omitted). */
static int do_slice(struct tpl_rs *s, int line, const struct tpl_val *obj,
		    const struct tpl_val *parts, struct tpl_val *out)
{
	long long step;

	if (obj->t == VT_UNDEF)
		return tpl_undef_error(s, line, obj);
	if (slice_step(s, line, parts, &step) < 0)
		return -1;
	if (obj->t == VT_STR)
		return slice_str(s, line, obj, parts, step, out);
	if (tpl_is_listlike(obj))
		return slice_list(s, line, obj, parts, step, out);
	return tpl_error(s, line, "'%s' object is not subscriptable", tpl_type_name(obj));
}

/* ---- arithmetic ---- */

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

/* seq * times: a string or a list repeated (nothing when times <= 0). */
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
		tpl_set_str(out, d, total);
		return 0;
	} else {
		struct tpl_val *arr;

		n = tpl_list_len(seq);
		if (n && (unsigned long long)times > SIZE_MAX / sizeof *arr / n)
			return tpl_limit_error(s, line);
		total = n * (size_t)times;
		if (!(arr = tpl_ralloc(s, line, (total ? total : 1) * sizeof *arr)))
			return -1;
		for (size_t k = 0; k < total; k++)
			tpl_list_get(seq, k % n, &arr[k]);
		tpl_set_list(out, arr, total, seq->t == VT_LIST && seq->tuple);
		return 0;
	}
}

static int concat_lists(struct tpl_rs *s, int line, const struct tpl_val *a,
			const struct tpl_val *b, struct tpl_val *out)
{
	size_t na = tpl_list_len(a), nb = tpl_list_len(b);
	struct tpl_val *arr = tpl_ralloc(s, line, (na + nb + 1) * sizeof *arr);

	if (!arr)
		return -1;
	for (size_t i = 0; i < na; i++)
		tpl_list_get(a, i, &arr[i]);
	for (size_t i = 0; i < nb; i++)
		tpl_list_get(b, i, &arr[na + i]);
	tpl_set_list(out, arr, na + nb, a->t == VT_LIST && a->tuple);
	return 0;
}

static int concat_strs(struct tpl_rs *s, int line, const struct tpl_val *a,
		       const struct tpl_val *b, struct tpl_val *out)
{
	size_t n = a->u.s.n + b->u.s.n;
	char *d = tpl_ralloc(s, line, n + 1);

	if (!d)
		return -1;
	memcpy(d, a->u.s.p, a->u.s.n);
	memcpy(d + a->u.s.n, b->u.s.p, b->u.s.n);
	d[n] = '\0';
	tpl_set_str(out, d, n);
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

/* x // y and x % y on ints, rounding toward minus infinity like Python. */
static int int_divmod(struct tpl_rs *s, int line, int op, long long x, long long y,
		      struct tpl_val *out)
{
	long long q, m;

	if (y == 0)
		return tpl_error(s, line, "division by zero");
	if (x == LLONG_MIN && y == -1) {
		if (op == OP_MOD) {
			tpl_set_int(out, 0);
			return 0;
		}
		return tpl_error(s, line, "integer overflow");
	}
	q = x / y;
	m = x % y;
	if (m != 0 && ((m < 0) != (y < 0))) {
		m += y;
		q -= 1;
	}
	tpl_set_int(out, op == OP_FLOORDIV ? q : m);
	return 0;
}

/* x ** y: an int while both are ints and y >= 0, else a float. */
static int num_pow(struct tpl_rs *s, int line, const struct tpl_val *a, const struct tpl_val *b,
		   struct tpl_val *out)
{
	bool flt = a->t == VT_FLOAT || b->t == VT_FLOAT;
	double dx = tpl_as_double(a), dy = tpl_as_double(b);
	long long r = 0;

	if (!flt && tpl_as_int(b) >= 0) {
		if (int_pow(s, line, tpl_as_int(a), tpl_as_int(b), &r) < 0)
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
}

/* Arithmetic on two numbers (bools count as ints): ints stay exact and
 * overflow is an error; a float on either side makes a float. */
static int num_arith(struct tpl_rs *s, int line, int op, const struct tpl_val *a,
		     const struct tpl_val *b, struct tpl_val *out)
{
	bool flt = a->t == VT_FLOAT || b->t == VT_FLOAT;
	long long x = tpl_as_int(a), y = tpl_as_int(b), r = 0;
	double dx = tpl_as_double(a), dy = tpl_as_double(b), fd, fm;

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
		if (!flt)
			return int_divmod(s, line, op, x, y, out);
		if (dy == 0)
			return tpl_error(s, line, "division by zero");
		float_divmod(dx, dy, &fd, &fm);
		tpl_set_float(out, op == OP_FLOORDIV ? fd : fm);
		return 0;
	case OP_POW:
		return num_pow(s, line, a, b, out);
	default:
		return unsupported(s, line, op, a, b);
	}
}

/* seq * times repeats a string or a list or tuple (not a range). */
static bool can_repeat(const struct tpl_val *seq, const struct tpl_val *times)
{
	return (seq->t == VT_STR || (tpl_seq_kind(seq) && seq->t != VT_RANGE)) &&
	       (times->t == VT_INT || times->t == VT_BOOL);
}

/* a <op> b for a binary operator: `~` joins str() of both, numbers
 * compute, strings and sequences concatenate and repeat. */
static int arith(struct tpl_rs *s, int line, int op, const struct tpl_val *a,
		 const struct tpl_val *b, struct tpl_val *out)
{
	if (tpl_check_defined(s, line, a, b) < 0)
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
	if (tpl_is_num(a) && tpl_is_num(b) && op <= OP_POW)
		return num_arith(s, line, op, a, b, out);
	if (op == OP_ADD && a->t == VT_STR && b->t == VT_STR)
		return concat_strs(s, line, a, b, out);
	if (op == OP_ADD && tpl_seq_kind(a) && tpl_seq_kind(a) == tpl_seq_kind(b) &&
	    a->t != VT_RANGE)
		return concat_lists(s, line, a, b, out);
	if (op == OP_MUL && can_repeat(a, b))
		return repeat(s, line, a, tpl_as_int(b), out);
	if (op == OP_MUL && can_repeat(b, a))
		return repeat(s, line, b, tpl_as_int(a), out);
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
	tpl_set_undef(out, U_NAME, 0, e->name, e->nlen);
	return 0;
}

static int eval(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out);

/* needle in hay: a substring test for strings, a key test for dicts, an
 * equality scan for sequences, as Python does. */
static int contains(struct tpl_rs *s, int line, const struct tpl_val *needle,
		    const struct tpl_val *hay, bool *out)
{
	if (tpl_check_defined(s, line, needle, hay) < 0)
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
	if (tpl_is_listlike(hay)) {
		size_t n = tpl_list_len(hay);

		for (size_t i = 0; i < n; i++) {
			struct tpl_val x;

			tpl_list_get(hay, i, &x);
			if (tpl_equal(s, line, needle, &x, out) < 0)
				return -1;
			if (*out)
				return 0;
		}
		return 0;
	}
	return tpl_error(s, line, "argument of type '%s' is not iterable", tpl_type_name(hay));
}

/* One link of a comparison chain: ==, !=, in, not in, or an ordering
 * (false when unordered, like NaN). */
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

/* Evaluates a call's arguments into their parameter slots (an argument
 * not given stays absent) and calls the builtin. */
static int call(struct tpl_rs *s, const struct tpl_expr *e, const struct tpl_callable *c,
		tpl_fn fn, struct tpl_val *in, struct tpl_val *out)
{
	struct tpl_val args[TPL_MAX_PARAMS];

	for (int i = 0; i < e->nargs && i < TPL_MAX_PARAMS; i++) {
		if (!e->args[i]) {
			tpl_set_undef(&args[i], U_ABSENT, 0, "", 0);
			continue;
		}
		if (eval(s, e->args[i], &args[i]) < 0)
			return -1;
		if (!c->raw && args[i].t == VT_UNDEF)
			return tpl_undef_error(s, e->args[i]->line, &args[i]);
	}
	return tpl_call(s, e, c, fn, in, args, out);
}

static int eval_slice(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val obj, parts[3];

	if (eval(s, e->a, &obj) < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		memset(&parts[i], 0, sizeof parts[i]);
		parts[i].t = VT_NONE;
		if (e->args[i] && eval(s, e->args[i], &parts[i]) < 0)
			return -1;
	}
	return do_slice(s, e->line, &obj, parts, out);
}

/* [a, b] and (a, b) literals. */
static int eval_list(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val *arr = tpl_ralloc(s, e->line, (size_t)(e->nargs + 1) * sizeof *arr);

	if (!arr)
		return -1;
	for (int i = 0; i < e->nargs; i++)
		if (eval(s, e->args[i], &arr[i]) < 0)
			return -1;
	tpl_set_list(out, arr, (size_t)e->nargs, e->tuple);
	return 0;
}

/* -x and +x on numbers. */
static int eval_sign(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val a;
	bool neg = e->kind == EK_NEG;

	if (eval(s, e->a, &a) < 0 || tpl_check_defined(s, e->line, &a, NULL) < 0)
		return -1;
	if (!tpl_is_num(&a))
		return tpl_error(s, e->line, "bad operand type for unary %s: '%s'", neg ? "-" : "+",
				 tpl_type_name(&a));
	if (a.t == VT_FLOAT) {
		tpl_set_float(out, neg ? -a.u.d : a.u.d);
		return 0;
	}
	if (neg && tpl_as_int(&a) == LLONG_MIN)
		return tpl_error(s, e->line, "integer overflow");
	tpl_set_int(out, neg ? -tpl_as_int(&a) : tpl_as_int(&a));
	return 0;
}

/* `a and b`, `a or b`: the deciding operand itself, b unevaluated when a
 * decides. */
static int eval_logic(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val a;
	bool t;

	if (eval(s, e->a, &a) < 0 || tpl_truthy(s, e->line, &a, &t) < 0)
		return -1;
	if (t == (e->kind == EK_OR)) {
		*out = a;
		return 0;
	}
	return eval(s, e->b, out);
}

/* a < b <= c: chained, stopping at the first false link. */
static int eval_compare(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val a, b;
	bool t = true;

	if (eval(s, e->a, &a) < 0)
		return -1;
	for (int i = 0; i < e->nargs; i++) {
		if (eval(s, e->args[i], &b) < 0 || compare_op(s, e->line, e->ops[i], &a, &b, &t) < 0)
			return -1;
		if (!t)
			break;
		a = b;
	}
	tpl_set_bool(out, t);
	return 0;
}

/* `a if b else c`; without else, an undefined that says why. */
static int eval_cond(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val b;
	bool t;

	if (eval(s, e->b, &b) < 0 || tpl_truthy(s, e->line, &b, &t) < 0)
		return -1;
	if (t)
		return eval(s, e->a, out);
	if (e->c)
		return eval(s, e->c, out);
	tpl_set_undef(out, U_HINT, 0,
		      "the inline if-expression evaluated to false and no else section was defined",
		      75);
	return 0;
}

/* value|filter, value is test, value.method(...), function(...). */
static int eval_builtin(struct tpl_rs *s, const struct tpl_expr *e, struct tpl_val *out)
{
	struct tpl_val a, r;

	if (e->kind == EK_CALL)
		return call(s, e, &tpl_globals[e->fn], tpl_global_fns[e->fn], NULL, out);
	if (eval(s, e->a, &a) < 0)
		return -1;
	if (e->kind == EK_FILTER)
		return call(s, e, &tpl_filters[e->fn], tpl_filter_fns[e->fn], &a, out);
	if (e->kind == EK_METHOD) {
		if (a.t == VT_UNDEF)
			return tpl_undef_error(s, e->line, &a);
		return call(s, e, &tpl_methods[e->fn], tpl_method_fns[e->fn], &a, out);
	}
	if (call(s, e, &tpl_tests[e->fn], tpl_test_fns[e->fn], &a, &r) < 0)
		return -1;
	tpl_set_bool(out, r.u.b != e->negate);
	return 0;
}

/* Evaluates one expression node into *out. */
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
	case EK_SLICE:
		return eval_slice(s, e, out);
	case EK_LIST:
		return eval_list(s, e, out);
	case EK_NEG:
	case EK_POS:
		return eval_sign(s, e, out);
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
		return eval_logic(s, e, out);
	case EK_CMP:
		return eval_compare(s, e, out);
	case EK_COND:
		return eval_cond(s, e, out);
	case EK_FILTER:
	case EK_TEST:
	case EK_METHOD:
	case EK_CALL:
		return eval_builtin(s, e, out);
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

/* Runs a for loop's `if` over every item, before the body runs once:
 * loop.length and loop.last count only the items kept. */
static int loop_select(struct tpl_rs *s, const struct tpl_stmt *st, struct tpl_loop *lp)
{
	const struct tpl_iterv *it = lp->it;
	size_t *sel = tpl_ralloc(s, st->line, (it->n + 1) * sizeof *sel), nsel = 0;

	if (!sel)
		return -1;
	for (size_t i = 0; i < it->n; i++) {
		struct arena_mark m = arena_mark(&s->mem);
		struct tpl_val item, c;
		bool keep;

		if (count_iteration(s, st->line) < 0)
			return -1;
		if (it->arr)
			item = it->arr[i];
		else
			tpl_list_get(&it->src, i, &item);
		if (assign(s, st->line, st->names, st->nlens, st->nnames, &item) < 0 ||
		    eval(s, st->cond, &c) < 0 || tpl_truthy(s, st->cond->line, &c, &keep) < 0)
			return -1;
		arena_release(&s->mem, m);
		if (keep)
			sel[nsel++] = i;
	}
	lp->sel = sel;
	lp->length = nsel;
	s->nbinds = s->frame;
	return 0;
}

/* Lists, JSON arrays and ranges are iterated in place; anything else
 * iterable (strings, dicts) is materialised first. */
static int loop_items(struct tpl_rs *s, const struct tpl_stmt *st, struct tpl_iterv *it)
{
	struct tpl_val seq, *arr;

	memset(it, 0, sizeof *it);
	if (eval(s, st->e, &seq) < 0)
		return -1;
	if (tpl_is_listlike(&seq)) {
		it->src = seq;
		it->n = tpl_list_len(&seq);
		return 0;
	}
	if (tpl_iter_all(s, st->line, &seq, &arr, &it->n) < 0)
		return -1;
	it->arr = arr;
	return 0;
}

/* A for block: its variables and `loop` live in a frame of their own,
 * dropped when the loop ends; each iteration's temporaries are released
 * unless the body sets variables (which may hold them). */
static int render_for(struct tpl_rs *s, const struct tpl_stmt *st)
{
	struct tpl_val loopv, item;
	struct tpl_iterv it;
	struct tpl_loop lp;
	size_t saved_frame = s->frame, saved_n = s->nbinds;
	int rc = -1;

	if (loop_items(s, st, &it) < 0)
		return -1;
	memset(&lp, 0, sizeof lp);
	lp.it = &it;
	lp.length = it.n;
	memset(&loopv, 0, sizeof loopv);
	loopv.t = VT_LOOP;
	loopv.u.loop = &lp;
	s->frame = s->nbinds;
	if (st->cond && loop_select(s, st, &lp) < 0)
		goto out;
	bind(s, "loop", 4, &loopv);
	for (lp.pos = 0; lp.pos < lp.length; lp.pos++) {
		struct arena_mark m = arena_mark(&s->mem);

		if (count_iteration(s, st->line) < 0)
			goto out;
		tpl_loop_item(&lp, lp.pos, &item);
		if (assign(s, st->line, st->names, st->nlens, st->nnames, &item) < 0 ||
		    render_body(s, st->body) < 0)
			goto out;
		if (!st->body_sets)
			arena_release(&s->mem, m);
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

/* Runs one statement. Temporaries of an output or an if test are
 * released as soon as it is done; an elif chain runs as a loop. */
static int render_stmt(struct tpl_rs *s, const struct tpl_stmt *st)
{
	struct arena_mark m;
	struct tpl_val v;
	bool t;
	int rc;

	switch (st->kind) {
	case SK_TEXT:
		return emit(s, st->line, st->text, st->tlen);
	case SK_OUT:
		m = arena_mark(&s->mem);
		rc = eval(s, st->e, &v);
		if (rc == 0)
			rc = print_val(s, st->e->line, &v);
		arena_release(&s->mem, m);
		return rc;
	case SK_IF:
		for (;;) {
			m = arena_mark(&s->mem);
			if (eval(s, st->e, &v) < 0 || tpl_truthy(s, st->e->line, &v, &t) < 0)
				return -1;
			arena_release(&s->mem, m);
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
		m = arena_mark(&s->mem);
		rc = render_for(s, st);
		if (!rc)
			arena_release(&s->mem, m);
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

/* Sets up the render state on this stack (memory budget: 64 times the
 * output limit, at least 1 MiB), renders, and releases everything. */
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
	arena_free(&s.mem);
	if (s.binds != s.local)
		free(s.binds);
	dgen_buf_free(&s.scratch);
	return rc;
}
