/*
 * template_filters.h - the code behind the builtins named in
 * template_builtins.h, for the evaluator. Not a public interface.
 *
 * Ownership: a builtin writes its result to *out, which borrows from its
 * input, its arguments or the render's arena.
 */
#ifndef DGEN_TEMPLATE_FILTERS_H
#define DGEN_TEMPLATE_FILTERS_H

#include "template_builtins.h"
#include "template_value.h"

/* in: the filtered/tested value or the method's object (NULL for a global
 * function); args: one per parameter slot, absent ones undefined with
 * U_ABSENT. e is the calling node (its name tells shared functions which
 * builtin was meant). */
typedef int (*tpl_fn)(struct tpl_rs *s, const struct tpl_expr *e,
		      struct tpl_val *in, struct tpl_val *args, struct tpl_val *out);

/* Indexed like tpl_filters, tpl_tests, tpl_methods, tpl_globals. */
extern const tpl_fn tpl_filter_fns[];
extern const tpl_fn tpl_test_fns[];
extern const tpl_fn tpl_method_fns[];
extern const tpl_fn tpl_global_fns[];

/* Calls a builtin with its arguments evaluated: refuses an undefined input
 * unless the builtin is raw. */
int tpl_call(struct tpl_rs *s, const struct tpl_expr *e, const struct tpl_callable *c,
	     tpl_fn fn, struct tpl_val *in, struct tpl_val *args, struct tpl_val *out);

#endif
