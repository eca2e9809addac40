/*
 * template_base.c - what the compiler and the renderer share: the shape
 * of their error messages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "dgen/util.h"
#include "template_int.h"

int tpl_verror(struct dgen_err *err, enum dgen_errcode code, const char *what, int line,
	       const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof msg, fmt, ap);
	dgen_err_set(err, code, "template %s at line %d: %s", what, line, msg);
	dgen_err_detail_int(err, "line", line);
	return -1;
}
