/*
 * template.h - prompt templates in a Jinja2 subset (SPEC.md §2).
 *
 * A template is compiled once (when a pipeline is loaded) into an
 * immutable AST and rendered many times, from many threads at once, over a
 * json-c context object. Rendering is strict: an undefined variable is an
 * error unless guarded by `default` or `is defined`. Values are data: a
 * "{{" inside a context string is printed as text, never evaluated.
 *
 * Ownership: template_compile() allocates the template; template_free()
 * releases it. template_render() appends to a caller-owned buffer and never
 * keeps a reference to the context.
 */
#ifndef DGEN_TEMPLATE_H
#define DGEN_TEMPLATE_H

#include <stddef.h>
#include <json-c/json.h>

#include "dgen/buf.h"
#include "dgen/err.h"

struct dgen_template;

struct dgen_template_limits {
	size_t max_output;   /* bytes of output (SPEC.md §7: 1 MiB) */
	long max_iterations; /* loop iterations, all loops together (100 000) */
};

extern const struct dgen_template_limits template_default_limits;

/* Compiles src[0..len). A syntax error is DGEN_EINVALID with a message
 * naming the line ("template syntax error at line 3: ...") and detail
 * {"line": n}. */
int template_compile(const char *src, size_t len, struct dgen_template **out,
		     struct dgen_err *err);
void template_free(struct dgen_template *t);

/* Renders t over ctx (a JSON object; NULL = empty), appending to out.
 * Errors: DGEN_EINVALID for an undefined variable ("undefined variable in
 * template: 'x' is undefined") or a bad filter/operand, with detail
 * {"line": n}; DGEN_ELIMIT past an output or iteration limit. On error the
 * contents appended to out are unspecified. lim NULL = defaults. */
int template_render(const struct dgen_template *t, struct json_object *ctx,
		    const struct dgen_template_limits *lim, struct dgen_buf *out,
		    struct dgen_err *err);

/* Adds to names (a JSON array) the top-level variable names the template
 * reads without a guard (`default` / `is defined`), excluding loop
 * variables and names it sets itself; each name once. Used to tell a user
 * which variables a seed file lacks. */
void template_variables(const struct dgen_template *t, struct json_object *names);

/* Prints a number the way Python's repr does: 7, 2.57, 3.0, 1e+100. */
void template_format_number(struct dgen_buf *out, double v, int is_int, long long iv);

#endif
