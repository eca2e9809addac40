/*
 * template_int.h - internals shared by the template compiler
 * (template_parse.c), the renderer (template_render.c) and the filter
 * library (template_filters.c). Not a public interface.
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

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <json-c/json.h>

#include "dgen/buf.h"
#include "dgen/err.h"
#include "dgen/template.h"

/* Nesting of expressions and of blocks, so hostile input cannot exhaust
 * the stack of the thread that compiles or renders it. */
#define TPL_MAX_DEPTH 200

/* ---- arena ---- */

struct tpl_chunk {
	struct tpl_chunk *prev;
	size_t cap, used;
	max_align_t data[];
};

struct tpl_arena {
	struct tpl_chunk *cur;
	size_t spent;  /* bytes handed out so far, never decreases */
	size_t budget; /* 0 = unlimited */
};

struct tpl_mark {
	struct tpl_chunk *chunk;
	size_t used;
};

/* NULL when the request would take spent past budget. */
void *tpl_alloc(struct tpl_arena *a, size_t n);
struct tpl_mark tpl_mark(const struct tpl_arena *a);
void tpl_release(struct tpl_arena *a, struct tpl_mark m);
void tpl_arena_free(struct tpl_arena *a);

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

/* Scalar values, for the renderer and the filter library alike. */
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
	const char *name;      /* EK_NAME, EK_ATTR: NUL-terminated */
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
	struct tpl_arena mem;
	struct tpl_stmt *body;
};

/* ---- callables: filters, tests, methods, global functions ---- */

struct tpl_rs;

typedef int (*tpl_fn)(struct tpl_rs *s, const struct tpl_expr *e,
		      struct tpl_val *in, struct tpl_val *args, struct tpl_val *out);

#define TPL_MAX_PARAMS 5

struct tpl_callable {
	const char *name;
	tpl_fn fn;
	int min_args;                          /* required positional arguments */
	const char *params[TPL_MAX_PARAMS + 1]; /* names, NULL-terminated */
	unsigned char raw;                     /* receives an undefined input */
};

extern const struct tpl_callable tpl_filters[];
extern const struct tpl_callable tpl_tests[];
extern const struct tpl_callable tpl_methods[];
extern const struct tpl_callable tpl_globals[];

/* Index of name in a table (ended by a NULL name), or -1. */
int tpl_lookup(const struct tpl_callable *table, const char *name, size_t n);

/* ---- renderer services used by the filter library ---- */

int tpl_error(struct tpl_rs *s, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int tpl_undef_error(struct tpl_rs *s, int line, const struct tpl_val *v);
int tpl_limit_error(struct tpl_rs *s, int line);
long tpl_max_iterations(const struct tpl_rs *s);
/* DGEN_ELIMIT with a message and detail {"line": n}. */
int tpl_limit(struct tpl_rs *s, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *tpl_type_name(const struct tpl_val *v);

/* Memory for the current render; NULL after setting the limit error. */
void *tpl_ralloc(struct tpl_rs *s, int line, size_t n);
/* A NUL-terminated copy of p[0..n) as a string value. */
int tpl_mkstr(struct tpl_rs *s, int line, const char *p, size_t n, struct tpl_val *out);
/* Scratch buffer for building strings; reentrant as a stack. */
struct dgen_buf *tpl_scratch(struct tpl_rs *s);
/* Turns scratch[from..] into a string value and truncates scratch back. */
int tpl_scratch_str(struct tpl_rs *s, int line, size_t from, struct tpl_val *out);

bool tpl_is_absent(const struct tpl_val *v);
int tpl_truthy(struct tpl_rs *s, int line, const struct tpl_val *v, bool *out);
/* Python str(): appends to b. Errors on undefined. */
int tpl_str_append(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b);
/* Python str() as a value (strings pass through without copying). */
int tpl_to_str(struct tpl_rs *s, int line, const struct tpl_val *v, struct tpl_val *out);
/* Python repr() into b. */
int tpl_repr_append(struct tpl_rs *s, int line, const struct tpl_val *v, struct dgen_buf *b);
/* json.dumps(v, indent=indent, ensure_ascii=False); indent < 0 = compact. */
int tpl_json_append(struct tpl_rs *s, int line, const struct tpl_val *v, int indent,
		    struct dgen_buf *b);
int tpl_equal(struct tpl_rs *s, int line, const struct tpl_val *a, const struct tpl_val *b,
	      bool *out);
/* <0, 0, >0 for orderable pairs; error (TypeError) otherwise. */
int tpl_compare(struct tpl_rs *s, int line, const char *op, const struct tpl_val *a,
		const struct tpl_val *b, int *out);
/* Errors out when a string being built in b outgrows the render budget. */
int tpl_room(struct tpl_rs *s, int line, const struct dgen_buf *b);

/* Sequences: lists, JSON arrays, ranges, strings (code points), dict keys. */
bool tpl_is_seq(const struct tpl_val *v);
/* Iteration over anything iterable: fills *n; then tpl_iter_get(i). */
int tpl_iter_len(struct tpl_rs *s, int line, const struct tpl_val *v, size_t *n);
int tpl_iter_get(struct tpl_rs *s, int line, const struct tpl_val *v, size_t i,
		 struct tpl_val *out);
/* Materialises any iterable as an arena array. */
int tpl_iter_all(struct tpl_rs *s, int line, const struct tpl_val *v,
		 struct tpl_val **items, size_t *n);
/* v[key] / v.key with Jinja's fallbacks; undefined (not an error) when missing. */
int tpl_getitem(struct tpl_rs *s, int line, const struct tpl_val *obj, const struct tpl_val *key,
		struct tpl_val *out);
int tpl_getattr(struct tpl_rs *s, int line, const struct tpl_val *obj, const char *name,
		size_t n, struct tpl_val *out);
void tpl_from_json(struct json_object *j, struct tpl_val *out);
/* Applies filter number fn (used by map("name")). */
int tpl_call_filter(struct tpl_rs *s, const struct tpl_expr *e, int fn, struct tpl_val *in,
		    struct tpl_val *args, struct tpl_val *out);

/* UTF-8 helpers, robust against malformed input. */
size_t tpl_utf8_len(const char *p, size_t n);
/* Byte offset of code point number idx (n when past the end). */
size_t tpl_utf8_offset(const char *p, size_t n, size_t idx);
/* Decodes one code point at p (1..4 bytes consumed, *adv set). */
unsigned tpl_utf8_decode(const char *p, size_t n, size_t *adv);
void tpl_utf8_put(struct dgen_buf *b, unsigned cp);

#endif
