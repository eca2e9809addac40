/*
 * util.h - allocation that never returns NULL, and small string helpers.
 *
 * Ownership: everything returned is malloc'd and freed by the caller with
 * free(). Running out of memory aborts the process with a message: a
 * half-handled allocation failure is worse than a restart, and every
 * process of dgen is restartable without losing stored work.
 */
#ifndef DGEN_UTIL_H
#define DGEN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *dgen_xmalloc(size_t n);
void *dgen_xcalloc(size_t n, size_t size);
void *dgen_xrealloc(void *p, size_t n);
char *dgen_xstrdup(const char *s);
char *dgen_xstrndup(const char *s, size_t n);
char *dgen_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define DGEN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* True when s[0..len) is well-formed UTF-8 without NUL bytes. */
bool dgen_utf8_valid(const char *s, size_t len);

/* Name tables of enums whose 0 means "any": names[i] names value i
 * (names[0] unused). dgen_name_of() gives NULL for 0 or out of range;
 * dgen_name_find() the value named s, or -1. */
const char *dgen_name_of(const char *const *names, size_t n, int v);
int dgen_name_find(const char *const *names, size_t n, const char *s);

/* Parses a whole decimal integer in [min,max]; -1 on anything else. */
int dgen_parse_long(const char *s, long long min, long long max, long long *out);

#endif
