/*
 * template_int.h - the types every part of the template engine shares:
 * the arena, values, the AST. Not a public interface.
 *
 * The engine's files depend one way only:
 *   template_base.c      arena and error messages
 *   template_builtins.c  names and parameters of filters, tests, methods
 *   template_parse.c     text -> AST (uses base, builtins)
 *   template_value.c     render state and Python-like values (template_value.h)
 *   template_filters.c   the builtins' code (template_filters.h; uses value)
 *   template_render.c    evaluation and statements (uses filters, value)
 *
 * Ownership: the compiled template owns its AST, which lives in the
 * template's arena and is never modified after template_compile(). A render
 * owns a second arena for temporary values; values are released in stack
 * order (mark/release) as statements finish, and the whole arena goes when
 * the render ends. Values borrow strings from the context, the AST or that
 * arena; a value never outlives the render that made it.
 */
#ifndef DGEN_TEMPLATE_INT_H
#define DGEN_TEMPLATE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <json-c/json.h>

#include "dgen/buf.h"
#include "dgen/arena.h"
#include "dgen/err.h"
#include "dgen/template.h"

/* Nesting of expressions and of blocks, so hostile input cannot exhaust
 * the stack of the thread that compiles or renders it. */
#define TPL_MAX_DEPTH 200

/* Nodes and values live in core arenas (dgen/arena.h): the compiled
 * template's without a budget, a render's with one. */

/* Sets err to "template <what> at line <line>: <message>" with detail
 * {"line": line}; returns -1. */
int tpl_verror(struct dgen_err *err, enum dgen_errcode code, const char *what, int line,
	       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* ---- values ---- */

enum tpl_vt {
	VT_UNDEF, VT_NONE, VT_BOOL, VT_INT, VT_FLOAT, VT_STR,
	VT_LIST,  /* arena array (tuple flag: printed as a Python tuple) */
	VT_JLIST, /* JSON array from the context */
	VT_DICT,  /* JSON object from the context */
	VT_RANGE, /* range(start, stop, step), never materialised */
	VT_LOOP,  /* the `loop` variable of a for block */
};

/* Why a value is undefined; decides the message when it is used. */
enum tpl_ukind {
	U_NAME,   /* 'x' is undefined */
	U_ATTR,   /* 'dict object' has no attribute 'x' */
	U_ELEM,   /* list object has no element 5 */
	U_HINT,   /* free text (name) */
	U_ABSENT, /* an optional argument that was not given */
};

struct tpl_loop;

struct tpl_val {
	unsigned char t;
	unsigned char tuple;  /* VT_LIST printed as (a, b) */
	unsigned char ukind;  /* VT_UNDEF: enum tpl_ukind */
	unsigned char uowner; /* VT_UNDEF: type of the object that lacked it */
	union {
		int b;
		long long i;
		double d;
		struct { const char *p; size_t n; } s; /* always NUL-terminated at p[n] */
		struct { const struct tpl_val *v; size_t n; } l;
		struct json_object *j;
		struct { long long start, stop, step, n; } r;
		const struct tpl_loop *loop;
		struct { const char *name; size_t n; } u; /* U_ELEM: repr of the key */
	} u;
};

/* Value constructors, for the parser, the renderer and the filters alike. */
static inline void tpl_set_int(struct tpl_val *v, long long i)
{
	memset(v, 0, sizeof *v);
	v->t = VT_INT;
	v->u.i = i;
}

static inline void tpl_set_float(struct tpl_val *v, double d)
{
	memset(v, 0, sizeof *v);
	v->t = VT_FLOAT;
	v->u.d = d;
}

static inline void tpl_set_bool(struct tpl_val *v, bool b)
{
	memset(v, 0, sizeof *v);
	v->t = VT_BOOL;
	v->u.b = b;
}

/* p[n] must be '\0'; the value borrows p. */
static inline void tpl_set_str(struct tpl_val *v, const char *p, size_t n)
{
	memset(v, 0, sizeof *v);
	v->t = VT_STR;
	v->u.s.p = p;
	v->u.s.n = n;
}

static inline void tpl_set_list(struct tpl_val *v, const struct tpl_val *items, size_t n,
				bool tuple)
{
	memset(v, 0, sizeof *v);
	v->t = VT_LIST;
	v->tuple = tuple;
	v->u.l.v = items;
	v->u.l.n = n;
}

/* n: the number of items, computed by the caller. */
static inline void tpl_set_range(struct tpl_val *v, long long start, long long stop,
				 long long step, long long n)
{
	memset(v, 0, sizeof *v);
	v->t = VT_RANGE;
	v->u.r.start = start;
	v->u.r.stop = stop;
	v->u.r.step = step;
	v->u.r.n = n;
}

/* kind: enum tpl_ukind; owner: the type of the object that lacked it. */
static inline void tpl_set_undef(struct tpl_val *v, int kind, int owner, const char *name,
				 size_t n)
{
	memset(v, 0, sizeof *v);
	v->t = VT_UNDEF;
	v->ukind = (unsigned char)kind;
	v->uowner = (unsigned char)owner;
	v->u.u.name = name;
	v->u.u.n = n;
}

/* Numbers as Python sees them: bool is an int. */
static inline bool tpl_is_num(const struct tpl_val *v)
{
	return v->t == VT_INT || v->t == VT_FLOAT || v->t == VT_BOOL;
}

static inline long long tpl_as_int(const struct tpl_val *v)
{
	return v->t == VT_BOOL ? v->u.b : v->u.i;
}

static inline double tpl_as_double(const struct tpl_val *v)
{
	return v->t == VT_FLOAT ? v->u.d : (double)tpl_as_int(v);
}

/* ---- AST ---- */

enum tpl_ek {
	EK_LIT, EK_NAME, EK_ATTR, EK_ITEM, EK_SLICE, EK_LIST,
	EK_NEG, EK_POS, EK_NOT, EK_BIN, EK_AND, EK_OR, EK_CMP, EK_COND,
	EK_FILTER, EK_TEST, EK_METHOD, EK_CALL,
};

enum tpl_op {
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_CONCAT,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN,
};

struct tpl_expr {
	unsigned char kind;
	unsigned char op;      /* EK_BIN */
	unsigned char negate;  /* EK_TEST: `is not` */
	unsigned char tuple;   /* EK_LIST: a tuple literal */
	int line;
	int depth;
	int fn;                /* EK_FILTER/TEST/METHOD/CALL: index in its table */
	const char *name;      /* EK_NAME, EK_ATTR: NUL-terminated; EK_FILTER, EK_TEST,
				* EK_METHOD: the builtin's name */
	size_t nlen;
	struct tpl_val lit;    /* EK_LIT */
	struct tpl_expr *a, *b, *c; /* operands; EK_COND: a if b else c */
	struct tpl_expr **args;     /* list items, call arguments by parameter
				     * slot (NULL = not given), compare operands,
				     * slice start/stop/step */
	unsigned char *ops;         /* EK_CMP: operator before args[i] */
	int nargs;
};

enum tpl_sk { SK_TEXT, SK_OUT, SK_IF, SK_FOR, SK_SET, SK_SETBLOCK };

struct tpl_stmt {
	unsigned char kind;
	unsigned char body_sets; /* SK_FOR: the body assigns variables */
	int line;
	struct tpl_stmt *next;
	const char *text;        /* SK_TEXT */
	size_t tlen;
	struct tpl_expr *e;      /* SK_OUT value, SK_IF test, SK_FOR iterable, SK_SET value */
	struct tpl_expr *cond;   /* SK_FOR: `if` filter */
	struct tpl_stmt *body, *orelse;
	const char **names;      /* SK_FOR targets, SK_SET/SETBLOCK target */
	size_t *nlens;
	int nnames;
};

struct dgen_template {
	struct arena mem;
	struct tpl_stmt *body;
};

#endif
