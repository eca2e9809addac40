/*
 * arena.c - per-request bump allocator (see arena.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/arena.h"
#include "dgen/util.h"

#define ARENA_DEFAULT_BLOCK 16384
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes in data[] */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

static size_t align_up(size_t n)
{
	return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

/* Carves n bytes from the current block, or chains a new block big enough
 * for n (an oversized request gets a block of its own size). */
void *arena_alloc(struct arena *a, size_t n)
{
	size_t want = align_up(n ? n : 1);
	size_t bs = a->block_size ? a->block_size : ARENA_DEFAULT_BLOCK;
	struct arena_block *b = a->head;

	if (want < n)
		abort();
	if (!b || b->size - b->used < want) {
		size_t size = want > bs ? want : bs;

		if (size > SIZE_MAX - sizeof(*b))
			abort();
		b = dgen_xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += want;
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

size_t arena_size(const struct arena *a)
{
	size_t total = 0;

	for (const struct arena_block *b = a->head; b; b = b->next)
		total += b->size;
	return total;
}

/* Keeps the oldest regular-sized block (the one every request reuses) and
 * frees the rest, so one large request does not pin its memory forever. */
void arena_reset(struct arena *a)
{
	size_t bs = a->block_size ? a->block_size : ARENA_DEFAULT_BLOCK;
	struct arena_block *keep = NULL, *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		if (!next && b->size == bs)
			keep = b; /* the oldest block, of the regular size */
		else
			free(b);
	}
	if (keep) {
		keep->used = 0;
		keep->next = NULL;
	}
	a->head = keep;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}
