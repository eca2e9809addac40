/*
 * template_base.c - what the compiler and the renderer share: the arena
 * their nodes and values live in, and the shape of their error messages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "dgen/util.h"
#include "template_int.h"

/* Chunks double up to 256 KiB; a mark is a chunk and its fill, so
 * releasing frees the chunks opened since and rewinds the last one. */
void *tpl_alloc(struct tpl_arena *a, size_t n)
{
	struct tpl_chunk *c = a->cur;
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	void *p;

	if (need < n)
		return NULL;
	if (a->budget && (need > a->budget || a->spent > a->budget - need))
		return NULL;
	if (!c || c->cap - c->used < need) {
		size_t cap = c ? c->cap * 2 : 4096;

		if (cap > 256 * 1024)
			cap = 256 * 1024;
		if (cap < need)
			cap = need;
		c = dgen_xmalloc(sizeof *c + cap);
		c->prev = a->cur;
		c->cap = cap;
		c->used = 0;
		a->cur = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	a->spent += need;
	return p;
}

struct tpl_mark tpl_mark(const struct tpl_arena *a)
{
	struct tpl_mark m = { a->cur, a->cur ? a->cur->used : 0 };

	return m;
}

void tpl_release(struct tpl_arena *a, struct tpl_mark m)
{
	while (a->cur && a->cur != m.chunk) {
		struct tpl_chunk *prev = a->cur->prev;

		free(a->cur);
		a->cur = prev;
	}
	if (a->cur)
		a->cur->used = m.used;
}

void tpl_arena_free(struct tpl_arena *a)
{
	struct tpl_mark none = { NULL, 0 };

	tpl_release(a, none);
	a->spent = 0;
}

int tpl_verror(struct dgen_err *err, enum dgen_errcode code, const char *what, int line,
	       const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof msg, fmt, ap);
	dgen_err_set(err, code, "template %s at line %d: %s", what, line, msg);
	dgen_err_detail_int(err, "line", line);
	return -1;
}
