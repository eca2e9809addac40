/*
 * util.c - allocation that aborts on exhaustion, UTF-8 checking and
 * strict integer parsing: the small things every edge validator needs.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/util.h"
#include "dgen/utf8.h"

static void oom(size_t n)
{
	char msg[96];
	int len = snprintf(msg, sizeof msg, "dgen: out of memory allocating %zu bytes\n", n);

	if (len > 0 && write(2, msg, (size_t)len) < 0)
		abort();
	abort();
}

void *dgen_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *dgen_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *dgen_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *dgen_xstrdup(const char *s)
{
	return dgen_xstrndup(s, strlen(s));
}

char *dgen_xstrndup(const char *s, size_t n)
{
	char *p = dgen_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dgen_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	p = dgen_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* Strict UTF-8 (RFC 3629) with no NUL byte, which C strings downstream
 * cannot carry: the core UTF-8 checker's rule. */
bool dgen_utf8_valid(const char *str, size_t len)
{
	return utf8_valid_prefix(str, len) == len;
}

int dgen_parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || !((*s >= '0' && *s <= '9') || *s == '-'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

const char *dgen_name_of(const char *const *names, size_t n, int v)
{
	if (v <= 0 || (size_t)v >= n)
		return NULL;
	return names[v];
}

int dgen_name_find(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 1; s && i < n; i++)
		if (names[i] && strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}
