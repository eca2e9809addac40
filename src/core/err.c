/*
 * err.c - struct dgen_err: an error code, a sentence for a person, and a
 * JSON detail naming the field or limit involved.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dgen/err.h"

void dgen_err_init(struct dgen_err *e)
{
	e->code = DGEN_OK;
	e->msg[0] = '\0';
	e->detail = NULL;
}

void dgen_err_clear(struct dgen_err *e)
{
	if (e->detail)
		json_object_put(e->detail);
	dgen_err_init(e);
}

int dgen_err_set(struct dgen_err *e, enum dgen_errcode code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	dgen_err_clear(e);
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void dgen_err_detail(struct dgen_err *e, const char *key, struct json_object *val)
{
	if (!e) {
		json_object_put(val);
		return;
	}
	if (!e->detail)
		e->detail = json_object_new_object();
	json_object_object_add(e->detail, key, val);
}

void dgen_err_detail_str(struct dgen_err *e, const char *key, const char *val)
{
	dgen_err_detail(e, key, val ? json_object_new_string(val) : NULL);
}

void dgen_err_detail_int(struct dgen_err *e, const char *key, long long val)
{
	dgen_err_detail(e, key, json_object_new_int64(val));
}

void dgen_err_move(struct dgen_err *dst, struct dgen_err *src)
{
	if (dst == src)
		return;
	dgen_err_clear(dst);
	*dst = *src;
	dgen_err_init(src);
}

struct json_object *dgen_err_to_json(const struct dgen_err *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error",
			       json_object_new_string(e->msg[0] ? e->msg : "Unknown error"));
	json_object_object_add(o, "detail",
			       e->detail ? json_object_get(e->detail) : json_object_new_object());
	return o;
}
