/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * Ownership: the struct lives with the caller; its data is owned by the
 * buffer until dgen_buf_free() or dgen_buf_steal() (which hands the malloc'd
 * string to the caller). dgen_buf_reset() keeps the memory for reuse, which
 * is how per-request buffers stay flat across requests.
 */
#ifndef DGEN_BUF_H
#define DGEN_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct dgen_buf {
	char *data; /* NUL-terminated when cap > 0 */
	size_t len;
	size_t cap;
};

#define DGEN_BUF_INIT { NULL, 0, 0 }

void dgen_buf_init(struct dgen_buf *b);
void dgen_buf_free(struct dgen_buf *b);
void dgen_buf_reset(struct dgen_buf *b);
/* Drops the memory when it grew past keep bytes, else just resets. */
void dgen_buf_reset_keep(struct dgen_buf *b, size_t keep);
void dgen_buf_reserve(struct dgen_buf *b, size_t extra);
void dgen_buf_append(struct dgen_buf *b, const void *p, size_t n);
void dgen_buf_puts(struct dgen_buf *b, const char *s);
/* Appends code point cp (at most U+10FFFF) as UTF-8. */
void dgen_buf_put_utf8(struct dgen_buf *b, uint32_t cp);
void dgen_buf_putc(struct dgen_buf *b, char c);
void dgen_buf_printf(struct dgen_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dgen_buf_vprintf(struct dgen_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void dgen_buf_truncate(struct dgen_buf *b, size_t len);
/* The contents as a C string ("" when empty); valid until the next change. */
const char *dgen_buf_str(const struct dgen_buf *b);
/* Hands the malloc'd string to the caller and leaves the buffer empty. */
char *dgen_buf_steal(struct dgen_buf *b);

#endif
