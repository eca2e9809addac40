/*
 * buf.c - the growable string buffer behind every builder of text in dgen
 * (responses, prompts, log lines). Doubling growth; always NUL-terminated.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/utf8.h"
#include "dgen/util.h"

void dgen_buf_init(struct dgen_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void dgen_buf_free(struct dgen_buf *b)
{
	free(b->data);
	dgen_buf_init(b);
}

void dgen_buf_reset(struct dgen_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void dgen_buf_reset_keep(struct dgen_buf *b, size_t keep)
{
	if (b->cap > keep)
		dgen_buf_free(b);
	else
		dgen_buf_reset(b);
}

void dgen_buf_reserve(struct dgen_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;

	if (need < b->len)
		abort(); /* overflow */
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	b->data = dgen_xrealloc(b->data, cap);
	b->cap = cap;
}

void dgen_buf_append(struct dgen_buf *b, const void *p, size_t n)
{
	dgen_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void dgen_buf_put_utf8(struct dgen_buf *b, uint32_t cp)
{
	char t[4];

	dgen_buf_append(b, t, utf8_encode(cp, t));
}

void dgen_buf_puts(struct dgen_buf *b, const char *s)
{
	dgen_buf_append(b, s, strlen(s));
}

void dgen_buf_putc(struct dgen_buf *b, char c)
{
	dgen_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void dgen_buf_vprintf(struct dgen_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	dgen_buf_reserve(b, 64);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		dgen_buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	}
	va_end(ap2);
	b->len += (size_t)n;
}

void dgen_buf_printf(struct dgen_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dgen_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void dgen_buf_truncate(struct dgen_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

const char *dgen_buf_str(const struct dgen_buf *b)
{
	return b->data ? b->data : "";
}

char *dgen_buf_steal(struct dgen_buf *b)
{
	char *s = b->data ? b->data : dgen_xstrdup("");

	dgen_buf_init(b);
	return s;
}
