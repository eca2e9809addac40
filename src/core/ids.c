/*
 * ids.c - random identifiers from the kernel (getrandom), never from a
 * seeded PRNG: trace ids must not repeat across forked workers.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dgen/ids.h"

void dgen_random_bytes(void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t got = getrandom(c, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* no entropy source: nothing sensible to do */
		}
		c += got;
		n -= (size_t)got;
	}
}

/*
 * Trace ids come from kernel random bytes fetched a block at a time per
 * thread: one getrandom(2) per UUID_BATCH ids instead of one per record.
 * A forked child must not hand out the bytes its parent also holds, so
 * a fork moves the generation on and every thread's block is dropped.
 */
#define UUID_BATCH 64
static atomic_uint fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static __thread struct {
	unsigned char b[16 * UUID_BATCH];
	unsigned left;           /* ids still unused in b */
	unsigned gen;            /* fork_gen when b was filled */
} pool;

static void after_fork(void)
{
	atomic_fetch_add(&fork_gen, 1);
}

static void atfork_register(void)
{
	pthread_atfork(NULL, NULL, after_fork);
}

static void uuid_bytes(unsigned char b[16])
{
	unsigned gen;

	pthread_once(&atfork_once, atfork_register);
	gen = atomic_load(&fork_gen);
	if (pool.left == 0 || pool.gen != gen) {
		dgen_random_bytes(pool.b, sizeof pool.b);
		pool.left = UUID_BATCH;
		pool.gen = gen;
	}
	pool.left--;
	memcpy(b, pool.b + 16 * pool.left, 16);
	/* used bytes are not kept around */
	memset(pool.b + 16 * pool.left, 0, 16);
}

void dgen_uuid4(char out[DGEN_UUID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	char *o = out;

	uuid_bytes(b);
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	/* 8-4-4-4-12 hex digits: one a trace, so no printf. */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 0x0F];
	}
	*o = '\0';
}
