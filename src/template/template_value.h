/*
 * template_value.h - the state of one render and the Python-like values it
 * computes with: errors, memory, str()/repr()/JSON printing, equality and
 * ordering, iteration, attribute and item access. Used by the filters and
 * the evaluator; it knows neither. Not a public interface.
 *
 * Ownership: a render's state lives on the stack of template_render();
 * every value it hands out lives in that render's arena (see
 * template_int.h) or is borrowed from the context or the AST.
 */
#ifndef DGEN_TEMPLATE_VALUE_H
#define DGEN_TEMPLATE_VALUE_H

#include "template_int.h"

/* A variable bound by `set` or `for`. */
struct tpl_bind {
	const char *name;
	size_t n;
	struct tpl_val v;
};

/* A for loop's items: a borrowed sequence or a materialised array. */
struct tpl_iterv {
	const struct tpl_val *arr; /* NULL: read src lazily */
	struct tpl_val src;
	size_t n;
};

struct tpl_loop {
	const struct tpl_iterv *it;
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
	struct arena mem;
	struct tpl_bind *binds;
	size_t nbinds, cap, frame;
	struct tpl_bind local[16];
	struct dgen_buf scratch;
	struct dgen_err *err;
	int depth;
};

/* ---- errors: all return -1 ---- */

/* "template error at line n: ..." (DGEN_EINVALID) or "template limit
 * reached at line n: ..." (DGEN_ELIMIT), with detail {"line": n}. */
int tpl_fail(struct tpl_rs *s, enum dgen_errcode code, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define tpl_error(s, line, ...) tpl_fail((s), DGEN_EINVALID, (line), __VA_ARGS__)
#define tpl_limit(s, line, ...) tpl_fail((s), DGEN_ELIMIT, (line), __VA_ARGS__)
/* The error for using an undefined value (its message says why). */
int tpl_undef_error(struct tpl_rs *s, int line, const struct tpl_val *v);
/* The undefined error for a, else for b (may be NULL), else 0. */
int tpl_check_defined(struct tpl_rs *s, int line, const struct tpl_val *a,
		      const struct tpl_val *b);
/* DGEN_ELIMIT: the render needs more memory than its budget. */
int tpl_limit_error(struct tpl_rs *s, int line);
long tpl_max_iterations(const struct tpl_rs *s);
const char *tpl_type_name(const struct tpl_val *v);

/* ---- memory ---- */

/* Memory for the current render; NULL after setting the limit error. */
void *tpl_ralloc(struct tpl_rs *s, int line, size_t n);
/* A NUL-terminated copy of p[0..n) as a string value. */
int tpl_mkstr(struct tpl_rs *s, int line, const char *p, size_t n, struct tpl_val *out);
/* Scratch buffer for building strings; reentrant as a stack. */
struct dgen_buf *tpl_scratch(struct tpl_rs *s);
/* Turns scratch[from..] into a string value and truncates scratch back. */
int tpl_scratch_str(struct tpl_rs *s, int line, size_t from, struct tpl_val *out);
/* Errors out when a string being built in b outgrows the render budget. */
int tpl_room(struct tpl_rs *s, int line, const struct dgen_buf *b);

/* ---- values ---- */

void tpl_from_json(struct json_object *j, struct tpl_val *out);
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
/* <0, 0, >0 for orderable pairs, 2 when unordered (NaN); error (TypeError)
 * otherwise. */
int tpl_compare(struct tpl_rs *s, int line, const char *op, const struct tpl_val *a,
		const struct tpl_val *b, int *out);

/* ---- sequences ---- */

/* Lists, tuples, JSON arrays and ranges: indexable without copying. */
bool tpl_is_listlike(const struct tpl_val *v);
size_t tpl_list_len(const struct tpl_val *v);
/* Element i (< tpl_list_len) of a list-like value. */
void tpl_list_get(const struct tpl_val *v, size_t i, struct tpl_val *out);
/* 1 list, 2 tuple, 3 range, 0 not list-like: values of one kind compare
 * and concatenate with each other (a JSON array is a list). */
int tpl_seq_kind(const struct tpl_val *v);
/* Item number pos of a loop (after its `if`). */
void tpl_loop_item(const struct tpl_loop *lp, size_t pos, struct tpl_val *out);
/* Sequences: list-likes, strings (code points), dict keys. */
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

#endif
