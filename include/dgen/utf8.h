/*
 * utf8.h - UTF-8 text, one code point at a time: decoding, encoding,
 * checking and counting; plus the small character tables the text code of
 * dgen shares (hex digits, upper/lower case of the common scripts).
 *
 * Well-formed means RFC 3629: no overlong forms, no UTF-16 surrogates,
 * nothing past U+10FFFF. Every function reads malformed input safely: a
 * byte that does not start a well-formed sequence counts as one code point
 * of its own, so lengths, offsets and decoding always agree.
 *
 * Ownership: nothing here allocates (dgen_buf_put_utf8 in buf.h appends a
 * code point to a buffer).
 */
#ifndef DGEN_UTF8_H
#define DGEN_UTF8_H

#include <stddef.h>
#include <stdint.h>


/* Length (1..4) of the well-formed sequence at p[0..n), or 0 when the
 * bytes there are not one (n == 0 included); *cp gets the code point. */
size_t utf8_scan(const char *p, size_t n, uint32_t *cp);

/* The code point at p[0..n) (n > 0), *adv set to the bytes it takes; a
 * malformed byte decodes as U+FFFD and takes one byte. */
uint32_t utf8_decode(const char *p, size_t n, size_t *adv);

/* Encodes cp (at most U+10FFFF) into out; returns the bytes written. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* Offset of the first byte of p[0..n) that is not well-formed UTF-8 text
 * (a NUL byte counts as not text), or n when all of it is. */
size_t utf8_valid_prefix(const char *p, size_t n);

/* Code points in p[0..n). */
size_t utf8_len(const char *p, size_t n);
/* Byte offset of code point number idx (n when past the end). */
size_t utf8_offset(const char *p, size_t n, size_t idx);
/* Byte offset where the code point that ends at p[end] starts (end > 0). */
size_t utf8_prev(const char *p, size_t end);

/* Value of a hex digit, or -1. */
int utf8_hex_digit(int c);

/* Simple case mapping (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic;
 * not the whole Unicode database): the code point itself when it has no
 * other case there. */
uint32_t utf8_upper(uint32_t cp);
uint32_t utf8_lower(uint32_t cp);

#endif
