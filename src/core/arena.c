/*
 * arena.c - bump allocator with marks and a budget (see arena.h).
 */
#include "config.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/arena.h"
#include "dgen/util.h"

#define ARENA_FIRST_BLOCK 4096
#define ARENA_MAX_BLOCK (256 * 1024)
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next; /* the older block */
	size_t size;              /* usable bytes in data[] */
	size_t used;
	alignas(ARENA_ALIGN) unsigned char data[];
};

/* Carves n bytes from the current block, or opens a new one: twice the
 * size of the current block up to ARENA_MAX_BLOCK, or n's own size when
 * larger. NULL when the budget would be passed or n cannot be held. */
void *arena_try_alloc(struct arena *a, size_t n)
{
	size_t want = (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
	struct arena_block *b = a->head;
	void *p;

	if (want < n)
		return NULL; /* n near SIZE_MAX: no block can hold it */
	if (want == 0)
		want = ARENA_ALIGN;
	if (a->budget && (want > a->budget || a->spent > a->budget - want))
		return NULL;
	if (!b || b->size - b->used < want) {
		size_t size = b ? b->size * 2 : (a->block_size ? a->block_size : ARENA_FIRST_BLOCK);

		if (b && size > ARENA_MAX_BLOCK)
			size = b->size > ARENA_MAX_BLOCK ? b->size : ARENA_MAX_BLOCK;
		if (size < want)
			size = want;
		if (size > SIZE_MAX - sizeof(*b))
			abort();
		b = dgen_xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += want;
	a->spent += want;
	return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
	void *p = arena_try_alloc(a, n);

	if (!p)
		abort();
	return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		abort();
	void *p = arena_alloc(a, n * size);
	memset(p, 0, n * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		abort();
	char *p = arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

struct arena_mark arena_mark(const struct arena *a)
{
	struct arena_mark m = { a->head, a->head ? a->head->used : 0 };

	return m;
}

void arena_release(struct arena *a, struct arena_mark m)
{
	while (a->head && a->head != m.block) {
		struct arena_block *older = a->head->next;

		free(a->head);
		a->head = older;
	}
	if (a->head)
		a->head->used = m.used;
}

size_t arena_size(const struct arena *a)
{
	size_t total = 0;

	for (const struct arena_block *b = a->head; b; b = b->next)
		total += b->size;
	return total;
}

/* Keeps the oldest block (the one every request reuses, unless it was an
 * oversized one) and frees the rest, so one large request does not pin its
 * memory forever. */
void arena_reset(struct arena *a)
{
	size_t first = a->block_size ? a->block_size : ARENA_FIRST_BLOCK;
	struct arena_block *keep = NULL, *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		if (!next && b->size == first)
			keep = b;
		else
			free(b);
	}
	if (keep)
		keep->used = 0;
	a->head = keep;
	a->spent = 0;
}

void arena_free(struct arena *a)
{
	struct arena_mark none = { NULL, 0 };

	arena_release(a, none);
	a->spent = 0;
}
