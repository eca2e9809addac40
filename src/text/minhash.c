/*
 * minhash.c - MinHash signatures and LSH band keys (see minhash.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/minhash.h"
#include "dgen/util.h"

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

struct words {
	uint64_t *h; /* one hash per word */
	size_t n, cap;
};

static void words_read(const char *t, size_t len, struct words *w)
{
	size_t i = 0;

	w->n = 0;
	while (i < len) {
		uint64_t h = 0xcbf29ce484222325ull;

		while (i < len && !word_byte((unsigned char)t[i]))
			i++;
		if (i >= len)
			break;
		while (i < len && word_byte((unsigned char)t[i])) {
			unsigned char c = (unsigned char)t[i++];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
			h = (h ^ c) * 0x100000001b3ull;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 64;
			w->h = dgen_xrealloc(w->h, w->cap * sizeof(*w->h));
		}
		w->h[w->n++] = h;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sorted distinct shingle hashes of a text; *n receives the count. */
static uint64_t *shingles(const char *t, size_t len, int k, size_t *n)
{
	struct words w = { 0 };
	uint64_t *s;
	size_t m, out = 0;

	if (k < 1)
		k = 1;
	words_read(t, len, &w);
	if (w.n == 0) {
		free(w.h);
		*n = 0;
		return NULL;
	}
	m = w.n >= (size_t)k ? w.n - (size_t)k + 1 : 1;
	s = dgen_xcalloc(m, sizeof(*s));
	for (size_t i = 0; i < m; i++) {
		uint64_t h = 0x84222325cbf29ce4ull;

		for (size_t j = i; j < i + (size_t)k && j < w.n; j++)
			h = mix64(h ^ w.h[j]);
		s[i] = h;
	}
	free(w.h);
	qsort(s, m, sizeof(*s), cmp_u64);
	for (size_t i = 0; i < m; i++)
		if (i == 0 || s[i] != s[out - 1])
			s[out++] = s[i];
	*n = out;
	return s;
}

size_t minhash_signature(const char *text, size_t len, int k, uint32_t *sig, size_t n_perm)
{
	size_t n;
	uint64_t *s = shingles(text, len, k, &n);

	for (size_t i = 0; i < n_perm; i++)
		sig[i] = UINT32_MAX;
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < n_perm; i++) {
			uint32_t h = (uint32_t)(mix64(s[j] ^ mix64((uint64_t)i + 1)) >> 32);

			if (h < sig[i])
				sig[i] = h;
		}
	free(s);
	return n;
}

double minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n)
{
	size_t eq = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		eq += a[i] == b[i];
	return (double)eq / (double)n;
}

size_t minhash_bands_for(size_t n_perm, double threshold)
{
	size_t best = 1;
	double best_gap = INFINITY;

	for (size_t b = 1; b <= n_perm; b++) {
		double t;

		if (n_perm % b)
			continue;
		t = pow(1.0 / (double)b, (double)b / (double)n_perm);
		/* aim a little below the threshold: a missed pair is a wrong
		 * answer, an extra candidate only costs one comparison */
		if (t <= threshold * 0.9 + 1e-9 && threshold * 0.9 - t < best_gap) {
			best_gap = threshold * 0.9 - t;
			best = b;
		}
	}
	return best;
}

void minhash_band_keys(const uint32_t *sig, size_t n_perm, size_t bands, uint64_t *keys)
{
	size_t r = n_perm / bands;

	for (size_t b = 0; b < bands; b++) {
		uint64_t h = mix64(0x5bd1e995ull + b);

		for (size_t i = 0; i < r; i++)
			h = mix64(h ^ sig[b * r + i]);
		keys[b] = h >> 1; /* fits a signed 64-bit store column */
	}
}

double minhash_jaccard_exact(const char *a, size_t la, const char *b, size_t lb, int k)
{
	size_t na, nb, i = 0, j = 0, both = 0;
	uint64_t *sa = shingles(a, la, k, &na), *sb = shingles(b, lb, k, &nb);
	double r;

	while (i < na && j < nb) {
		if (sa[i] == sb[j]) {
			both++;
			i++;
			j++;
		} else if (sa[i] < sb[j]) {
			i++;
		} else {
			j++;
		}
	}
	r = na + nb - both ? (double)both / (double)(na + nb - both) : 0;
	free(sa);
	free(sb);
	return r;
}
