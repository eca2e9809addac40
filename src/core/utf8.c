/*
 * utf8.c - UTF-8 decoding, encoding, checking and counting, and the
 * character tables shared by the text code (see utf8.h).
 */
#include "config.h"

#include <stdbool.h>

#include "dgen/utf8.h"

/* (util.h has this too, but util.c depends on this file) */
#define TABLE_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The lead byte gives the length and the smallest code point that may
 * use it; continuation bytes are checked before anything is trusted. */
size_t utf8_scan(const char *p, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)p;
	uint32_t c, min;
	size_t len;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

uint32_t utf8_decode(const char *p, size_t n, size_t *adv)
{
	uint32_t cp;

	*adv = utf8_scan(p, n, &cp);
	if (*adv)
		return cp;
	*adv = 1;
	return 0xfffd;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t utf8_valid_prefix(const char *p, size_t n)
{
	size_t i = 0, len;
	uint32_t cp;

	while (i < n && (len = utf8_scan(p + i, n - i, &cp)) && cp != 0)
		i += len;
	return i;
}

size_t utf8_len(const char *p, size_t n)
{
	size_t i = 0, count = 0, adv;

	while (i < n) {
		utf8_decode(p + i, n - i, &adv);
		i += adv;
		count++;
	}
	return count;
}

size_t utf8_offset(const char *p, size_t n, size_t idx)
{
	size_t i = 0, adv;

	while (i < n && idx > 0) {
		utf8_decode(p + i, n - i, &adv);
		i += adv;
		idx--;
	}
	return i;
}

size_t utf8_prev(const char *p, size_t end)
{
	size_t k = end - 1;

	while (k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80 && end - k < 4)
		k--;
	return k;
}

int utf8_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Case pairs by block: the lower-case letters lo..hi have their capitals at
 * up..up + (hi - lo). Both directions read this one table, so upper and
 * lower stay each other's inverse. (÷ and ×, final sigma and the unused
 * U+03A2 sit in the gaps.) */
static const struct {
	uint32_t lo, hi, up;
} case_blocks[] = {
	{ 0xe0, 0xf6, 0xc0 },   { 0xf8, 0xfe, 0xd8 },   { 0xff, 0xff, 0x178 },
	{ 0x3ac, 0x3ac, 0x386 }, { 0x3ad, 0x3af, 0x388 }, { 0x3b1, 0x3c1, 0x391 },
	{ 0x3c3, 0x3c9, 0x3a3 }, { 0x3cc, 0x3cc, 0x38c }, { 0x3cd, 0x3ce, 0x38e },
	{ 0x430, 0x44f, 0x410 }, { 0x450, 0x45f, 0x400 },
};

/* Latin Extended-A: upper and lower case alternate, each capital at an
 * even (odd: 1) code point with its small letter right after it. */
static const struct {
	uint32_t lo, hi, upper_parity;
} case_alternating[] = {
	{ 0x100, 0x137, 0 }, { 0x139, 0x148, 1 }, { 0x14a, 0x177, 0 }, { 0x179, 0x17e, 1 },
};

/* Letters that map one way only: micro sign, dotless i, long s and final
 * sigma upper to a capital that lowers to another letter; dotted capital
 * I lowers to plain 'i'. */
static const struct {
	uint32_t from, to;
	bool upper;
} case_one_way[] = {
	{ 0xb5, 0x39c, true }, { 0x131, 'I', true }, { 0x17f, 'S', true },
	{ 0x3c2, 0x3a3, true }, { 0x130, 'i', false },
};

/* ASCII inline; then the one-way exceptions; then the table of case
 * blocks (a range whose other case is at a fixed offset, for every code
 * point or every other one). */
static uint32_t case_map(uint32_t c, bool upper)
{
	size_t i;

	if (c < 0x80) {
		if (upper)
			return c >= 'a' && c <= 'z' ? c - 32 : c;
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	}
	for (i = 0; i < TABLE_LEN(case_one_way); i++)
		if (case_one_way[i].from == c && case_one_way[i].upper == upper)
			return case_one_way[i].to;
	for (i = 0; i < TABLE_LEN(case_blocks); i++) {
		uint32_t lo = case_blocks[i].lo, up = case_blocks[i].up;
		uint32_t n = case_blocks[i].hi - lo;

		if (upper && c >= lo && c <= lo + n)
			return c - lo + up;
		if (!upper && c >= up && c <= up + n)
			return c - up + lo;
	}
	for (i = 0; i < TABLE_LEN(case_alternating); i++) {
		bool is_upper = (c & 1) == case_alternating[i].upper_parity;

		if (c < case_alternating[i].lo || c > case_alternating[i].hi)
			continue;
		if (upper && !is_upper)
			return c - 1;
		if (!upper && is_upper)
			return c + 1;
		return c;
	}
	return c;
}

uint32_t utf8_upper(uint32_t c)
{
	return case_map(c, true);
}

/* The inverse of utf8_upper() (dotted capital I lowers to plain 'i'). */
uint32_t utf8_lower(uint32_t c)
{
	return case_map(c, false);
}
