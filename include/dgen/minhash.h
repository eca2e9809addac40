/*
 * minhash.h - MinHash signatures over word shingles and their LSH band
 * keys (NearDuplicate), apart from any block so the numbers can be
 * checked directly.
 *
 * Words are lowercase runs of ASCII letters and digits (other bytes,
 * UTF-8 included, are kept inside words); a shingle is k consecutive
 * words; a text of fewer than k words is one shingle of all its words.
 * Signature entry i is the least of h_i(shingle) over the shingles, with
 * h_i a seeded 64-bit mix cut to 32 bits, so equal sets of shingles give
 * equal signatures and the share of equal entries estimates the Jaccard
 * similarity of the two shingle sets.
 *
 * Ownership: callers own every array; nothing here allocates for them.
 */
#ifndef DGEN_MINHASH_H
#define DGEN_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#define MINHASH_PERM_MAX 1024

/* Fills sig[0..n_perm) for text[0..len). Returns the number of distinct
 * shingles seen (0 for a text without words: sig is all 0xffffffff). */
size_t minhash_signature(const char *text, size_t len, int k, uint32_t *sig, size_t n_perm);

/* The share of equal entries of two signatures of length n (0 for n 0). */
double minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n);

/* The number of bands (a divisor of n_perm) whose LSH threshold
 * (1/b)^(1/r), r = n_perm/b, lies closest below threshold: pairs at the
 * threshold are found with high probability; the rest is left to the
 * signature comparison. */
size_t minhash_bands_for(size_t n_perm, double threshold);

/* keys[0..bands): one 64-bit key per band, mixing the band's index with
 * its rows, so equal bands of different positions never collide by
 * construction. bands must divide n_perm. */
void minhash_band_keys(const uint32_t *sig, size_t n_perm, size_t bands, uint64_t *keys);

/* Exact Jaccard similarity of the shingle sets of two texts (tests). */
double minhash_jaccard_exact(const char *a, size_t la, const char *b, size_t lb, int k);

#endif
