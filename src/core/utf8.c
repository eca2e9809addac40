/*
 * utf8.c - UTF-8 decoding, encoding, checking and counting, and the
 * character tables shared by the text code (see utf8.h).
 */
#include "config.h"

#include "dgen/utf8.h"

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

/* The pairs differ by a fixed distance within each script's block; in
 * Latin Extended-A, upper and lower case alternate, odd or even first. */
uint32_t utf8_upper(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if (c < 0x80)
		return c;
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
		return c - 32;
	if (c == 0xff)
		return 0x178;
	if (c == 0xb5)
		return 0x39c;
	if (c == 0x131)
		return 'I';
	if (c == 0x17f)
		return 'S';
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c & 1 ? c - 1 : c;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c & 1 ? c : c - 1;
	if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
		return c - 32;
	if (c == 0x3c2)
		return 0x3a3;
	if (c == 0x3ac)
		return 0x386;
	if (c >= 0x3ad && c <= 0x3af)
		return c - 37;
	if (c == 0x3cc)
		return 0x38c;
	if (c == 0x3cd || c == 0x3ce)
		return c - 63;
	if (c >= 0x430 && c <= 0x44f)
		return c - 32;
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	return c;
}

/* The inverse of utf8_upper() (dotted capital I lowers to plain 'i'). */
uint32_t utf8_lower(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0x80)
		return c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c == 0x178)
		return 0xff;
	if (c == 0x130)
		return 'i';
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c & 1 ? c : c + 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c & 1 ? c + 1 : c;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}
