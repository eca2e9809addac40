/*
 * arena.h - a bump allocator for memory that dies all at once.
 *
 * The request layer carves everything it derives from one request
 * (decoded path, query parameters, multipart part names) from one arena
 * and resets it after the request, so a worker's memory stays flat over
 * thousands of requests. The template engine keeps a compiled template's
 * nodes in one, and a render's values in another with a byte budget and
 * marks, so a loop body's garbage is released at each iteration and a
 * hostile template cannot take more than its budget.
 *
 * Blocks start at block_size (default 4 KiB) and double up to 256 KiB; a
 * request larger than that gets a block of its own size.
 *
 * Ownership: struct arena lives with the caller (zeroed or ARENA_INIT).
 * Pointers returned by the arena stay valid until arena_release() past
 * them, arena_reset() or arena_free(). arena_reset() keeps the oldest
 * block for reuse and frees the rest; arena_free() frees everything.
 * arena_alloc() never fails (it aborts on out-of-memory like dgen_xmalloc,
 * and past a budget); arena_try_alloc() answers NULL past the budget.
 */
#ifndef DGEN_ARENA_H
#define DGEN_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* current block; older blocks chain behind */
	size_t block_size;        /* size of the first block (0 = 4 KiB) */
	size_t budget;            /* most bytes ever handed out (0 = unlimited) */
	size_t spent;             /* bytes handed out since the last reset */
};

#define ARENA_INIT { NULL, 0, 0, 0 }

/* A point to come back to: arena_release() frees what was carved since. */
struct arena_mark {
	struct arena_block *block;
	size_t used;
};

/* n bytes aligned for any type; n == 0 gives a valid unique pointer. */
void *arena_alloc(struct arena *a, size_t n);
/* The same, or NULL when it would take spent past budget. */
void *arena_try_alloc(struct arena *a, size_t n);
/* Zero-filled n * size bytes (aborts on multiplication overflow). */
void *arena_calloc(struct arena *a, size_t n, size_t size);
/* A NUL-terminated copy of s[0..n). */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

struct arena_mark arena_mark(const struct arena *a);
/* Frees the blocks opened since m and rewinds the one m was in; spent
 * keeps counting (a budget bounds the work, not only the peak). */
void arena_release(struct arena *a, struct arena_mark m);

/* Total bytes held in blocks (for the memory tests). */
size_t arena_size(const struct arena *a);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
