/*
 * arena.h - a per-request bump allocator.
 *
 * Everything the request layer derives from one request (decoded path,
 * query parameters, multipart part names) is carved from one arena, and
 * the arena is reset after the request: a worker's memory stays flat over
 * thousands of requests, and nothing derived from a request can outlive it.
 *
 * Ownership: struct arena lives with the caller (zeroed or ARENA_INIT).
 * Pointers returned by arena_alloc/arena_strndup stay valid until
 * arena_reset() or arena_free(). arena_reset() keeps the first block for
 * reuse and frees the rest; arena_free() frees everything. Allocation never
 * fails (it aborts on out-of-memory like dgen_xmalloc).
 */
#ifndef DGEN_ARENA_H
#define DGEN_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* current block; older blocks chain behind */
	size_t block_size;        /* size of a regular block (0 = default 16 KiB) */
};

#define ARENA_INIT { NULL, 0 }

/* n bytes aligned for any type; n == 0 gives a valid unique pointer. */
void *arena_alloc(struct arena *a, size_t n);
/* Zero-filled n * size bytes (aborts on multiplication overflow). */
void *arena_calloc(struct arena *a, size_t n, size_t size);
/* A NUL-terminated copy of s[0..n). */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Total bytes held in blocks (for the memory tests). */
size_t arena_size(const struct arena *a);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
