/*
 * template_builtins.h - the filters, tests, methods and global functions a
 * template may name, with their parameters. Not a public interface.
 *
 * One list per kind, written once: each X(name, function, required
 * arguments, raw, (parameter names)) entry gives the name the parser
 * resolves (template_builtins.c builds the name tables from it) and the
 * C function in template_filters.c that implements it (that file builds
 * the function tables from the same list, so the two cannot disagree).
 * `raw` builtins receive an undefined input instead of failing on it.
 *
 * Ownership: the tables are static and read-only.
 */
#ifndef DGEN_TEMPLATE_BUILTINS_H
#define DGEN_TEMPLATE_BUILTINS_H

#include <stddef.h>

#define TPL_MAX_PARAMS 5

struct tpl_callable {
	const char *name;
	int min_args;                           /* required positional arguments */
	const char *params[TPL_MAX_PARAMS + 1]; /* names, NULL-terminated */
	unsigned char raw;                      /* receives an undefined input */
};

/* Ended by an entry with a NULL name; indexes match the function tables. */
extern const struct tpl_callable tpl_filters[];
extern const struct tpl_callable tpl_tests[];
extern const struct tpl_callable tpl_methods[];
extern const struct tpl_callable tpl_globals[];

/* Index of name[0..n) in a table, or -1. */
int tpl_lookup(const struct tpl_callable *table, const char *name, size_t n);

/* Strips the parentheses around a parameter list. */
#define TPL_UNPAREN(...) __VA_ARGS__

#define TPL_FILTER_LIST(X) \
	X("upper", f_case, 0, 0, (NULL)) \
	X("lower", f_case, 0, 0, (NULL)) \
	X("title", f_case, 0, 0, (NULL)) \
	X("capitalize", f_case, 0, 0, (NULL)) \
	X("trim", f_trim, 0, 0, ("chars")) \
	X("length", f_length, 0, 0, (NULL)) \
	X("count", f_length, 0, 0, (NULL)) \
	X("default", f_default, 0, 1, ("default_value", "boolean")) \
	X("d", f_default, 0, 1, ("default_value", "boolean")) \
	X("join", f_join, 0, 0, ("d", "attribute")) \
	X("replace", f_replace, 2, 0, ("old", "new", "count")) \
	X("first", f_first, 0, 0, (NULL)) \
	X("last", f_last, 0, 0, (NULL)) \
	X("round", f_round, 0, 0, ("precision", "method")) \
	X("int", f_int, 0, 0, ("default", "base")) \
	X("float", f_float, 0, 0, ("default")) \
	X("abs", f_abs, 0, 0, (NULL)) \
	X("string", f_string, 0, 0, (NULL)) \
	X("tojson", f_tojson, 0, 0, ("indent")) \
	X("truncate", f_truncate, 0, 0, ("length", "killwords", "end", "leeway")) \
	X("list", f_list, 0, 0, (NULL)) \
	X("reverse", f_reverse, 0, 0, (NULL)) \
	X("sort", f_sort, 0, 0, ("reverse", "case_sensitive", "attribute")) \
	X("min", f_min, 0, 0, ("case_sensitive", "attribute")) \
	X("max", f_max, 0, 0, ("case_sensitive", "attribute")) \
	X("sum", f_sum, 0, 0, ("attribute", "start")) \
	X("items", f_items, 0, 0, (NULL)) \
	X("wordcount", f_wordcount, 0, 0, (NULL)) \
	X("indent", f_indent, 0, 0, ("width", "first", "blank")) \
	X("map", f_map, 0, 0, ("filter", "arg1", "arg2", "attribute", "default")) \
	X("select", f_select, 0, 0, ("test", "arg")) \
	X("reject", f_reject, 0, 0, ("test", "arg")) \
	X("selectattr", f_selectattr, 1, 0, ("attribute", "test", "arg")) \
	X("rejectattr", f_rejectattr, 1, 0, ("attribute", "test", "arg")) \
	X("escape", f_escape, 0, 0, (NULL)) \
	X("e", f_escape, 0, 0, (NULL)) \
	X("safe", f_safe, 0, 0, (NULL))

#define TPL_TEST_LIST(X) \
	X("defined", t_type, 0, 1, (NULL)) \
	X("undefined", t_type, 0, 1, (NULL)) \
	X("none", t_type, 0, 1, (NULL)) \
	X("boolean", t_type, 0, 1, (NULL)) \
	X("true", t_type, 0, 1, (NULL)) \
	X("false", t_type, 0, 1, (NULL)) \
	X("number", t_type, 0, 1, (NULL)) \
	X("integer", t_type, 0, 1, (NULL)) \
	X("float", t_type, 0, 1, (NULL)) \
	X("string", t_type, 0, 1, (NULL)) \
	X("mapping", t_type, 0, 1, (NULL)) \
	X("sequence", t_type, 0, 0, (NULL)) \
	X("iterable", t_type, 0, 0, (NULL)) \
	X("even", t_even, 0, 0, (NULL)) \
	X("odd", t_even, 0, 0, (NULL)) \
	X("divisibleby", t_divisibleby, 1, 0, ("num")) \
	X("lower", t_case, 0, 0, (NULL)) \
	X("upper", t_case, 0, 0, (NULL)) \
	X("eq", t_compare, 1, 0, ("other")) \
	X("equalto", t_compare, 1, 0, ("other")) \
	X("ne", t_compare, 1, 0, ("other")) \
	X("lt", t_compare, 1, 0, ("other")) \
	X("lessthan", t_compare, 1, 0, ("other")) \
	X("le", t_compare, 1, 0, ("other")) \
	X("gt", t_compare, 1, 0, ("other")) \
	X("greaterthan", t_compare, 1, 0, ("other")) \
	X("ge", t_compare, 1, 0, ("other")) \
	X("in", t_in, 1, 0, ("seq"))

#define TPL_METHOD_LIST(X) \
	X("items", m_dict, 0, 0, (NULL)) \
	X("keys", m_dict, 0, 0, (NULL)) \
	X("values", m_dict, 0, 0, (NULL)) \
	X("get", m_get, 1, 0, ("key", "default")) \
	X("upper", m_case, 0, 0, (NULL)) \
	X("lower", m_case, 0, 0, (NULL)) \
	X("title", m_case, 0, 0, (NULL)) \
	X("capitalize", m_case, 0, 0, (NULL)) \
	X("strip", m_strip, 0, 0, ("chars")) \
	X("lstrip", m_strip, 0, 0, ("chars")) \
	X("rstrip", m_strip, 0, 0, ("chars")) \
	X("replace", m_replace, 2, 0, ("old", "new", "count")) \
	X("split", m_split, 0, 0, ("sep", "maxsplit")) \
	X("startswith", m_affix, 1, 0, ("prefix")) \
	X("endswith", m_affix, 1, 0, ("suffix")) \
	X("find", m_find, 1, 0, ("sub")) \
	X("count", m_find, 1, 0, ("sub")) \
	X("join", m_join, 1, 0, ("iterable")) \
	X("cycle", m_cycle, 1, 0, ("a", "b", "c", "d", "e"))

#define TPL_GLOBAL_LIST(X) \
	X("range", g_range, 1, 0, ("start", "stop", "step"))
#endif
