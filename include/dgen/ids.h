/*
 * ids.h - random identifiers (trace ids). No ownership: caller's buffer.
 */
#ifndef DGEN_IDS_H
#define DGEN_IDS_H

#include <stddef.h>

#define DGEN_UUID_LEN 37 /* 36 characters + NUL */

/* A version 4 UUID from the kernel's random source, lower-case hex. */
void dgen_uuid4(char out[DGEN_UUID_LEN]);
/* Fills p with n random bytes from getrandom(2). */
void dgen_random_bytes(void *p, size_t n);

#endif
