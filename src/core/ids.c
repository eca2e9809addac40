/*
 * ids.c - random identifiers from the kernel (getrandom), never from a
 * seeded PRNG: trace ids must not repeat across forked workers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

void dgen_uuid4(char out[DGEN_UUID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	char *o = out;

	dgen_random_bytes(b, sizeof b);
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
