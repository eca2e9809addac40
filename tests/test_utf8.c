/* test_utf8.c - the UTF-8 helpers every text-handling part of dgen uses:
 * decoding that never reads past the end or trusts a malformed byte,
 * encoding, counting and the shared case tables. */
#include "config.h"

#include <string.h>

#include "dgen/buf.h"
#include "dgen/utf8.h"
#include "tap.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_decode(void)
{
	size_t adv;
	uint32_t cp = 0;

	is_int(utf8_decode(S("A"), &adv), 'A', "ASCII decodes to itself");
	is_int(adv, 1, "ASCII takes one byte");
	is_int(utf8_decode(S("\xc3\xa9"), &adv), 0xe9, "2-byte sequence decodes");
	is_int(adv, 2, "and takes two bytes");
	is_int(utf8_decode(S("\xe2\x82\xac"), &adv), 0x20ac, "3-byte sequence decodes");
	is_int(utf8_decode(S("\xf0\x9f\x98\x80"), &adv), 0x1f600, "4-byte sequence decodes");
	is_int(adv, 4, "and takes four bytes");
	is_int(utf8_decode(S("\xc0\xaf"), &adv), 0xfffd, "overlong form decodes as U+FFFD");
	is_int(adv, 1, "one byte at a time");
	is_int(utf8_decode(S("\xed\xa0\x80"), &adv), 0xfffd, "surrogate decodes as U+FFFD");
	is_int(utf8_decode(S("\xe2\x82"), &adv), 0xfffd, "truncated sequence decodes as U+FFFD");
	is_int(utf8_decode(S("\x80"), &adv), 0xfffd, "lone continuation byte decodes as U+FFFD");
	is_int(utf8_scan(S("\xf4\x90\x80\x80"), &cp), 0, "past U+10FFFF is not well-formed");
	is_int(utf8_scan("", 0, &cp), 0, "nothing is not a sequence");
	is_int(utf8_scan(S("\xf4\x8f\xbf\xbf"), &cp), 4, "U+10FFFF is well-formed");
	is_int(cp, 0x10ffff, "and decodes to itself");
}

static void test_encode(void)
{
	struct dgen_buf b = DGEN_BUF_INIT;
	static const uint32_t cps[] = { 'x', 0xe9, 0x20ac, 0x1f600 };
	char t[4];
	size_t i = 0, adv;

	for (size_t k = 0; k < 4; k++)
		dgen_buf_put_utf8(&b, cps[k]);
	is_str(dgen_buf_str(&b), "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	       "utf8_put encodes 1- to 4-byte code points");
	for (size_t k = 0; k < 4; k++) {
		is_int(utf8_decode(b.data + i, b.len - i, &adv), cps[k], "round trip %zu", k);
		i += adv;
	}
	is_int(utf8_encode(0x7ff, t), 2, "U+07FF takes two bytes");
	is_int(utf8_encode(0x800, t), 3, "U+0800 takes three bytes");
	dgen_buf_free(&b);
}

static void test_counting(void)
{
	const char *s = "h\xc3\xa9llo \xe2\x82\xac";

	is_int(utf8_len(s, strlen(s)), 7, "code points are counted, not bytes");
	is_int(utf8_len(S("a\xff" "b")), 3, "a malformed byte counts as one");
	is_int(utf8_offset(s, strlen(s), 2), 3, "offset of the third code point");
	is_int(utf8_offset(s, strlen(s), 99), strlen(s), "offset past the end is the length");
	is_int(utf8_prev(s, strlen(s)), 7, "the last code point starts 3 bytes before the end");
	is_int(utf8_prev(s, 3), 1, "a 2-byte code point starts 2 bytes back");
	is_int(utf8_valid_prefix(S("ok \xc3\xa9")), 5, "well-formed text is valid to its end");
	is_int(utf8_valid_prefix(S("ab\xc0\xaf")), 2, "validity stops at an overlong form");
	is_int(utf8_valid_prefix(S("ab\0c")), 2, "and at a NUL byte");
	ok(utf8_valid_prefix(S("\xed\xa0\x80")) == 0, "a UTF-16 surrogate is not text");
}

static void test_tables(void)
{
	is_int(utf8_hex_digit('7'), 7, "decimal digit");
	is_int(utf8_hex_digit('b'), 11, "lower-case hex digit");
	is_int(utf8_hex_digit('F'), 15, "upper-case hex digit");
	is_int(utf8_hex_digit('g'), -1, "not a hex digit");
	is_int(utf8_upper('q'), 'Q', "ASCII upper");
	is_int(utf8_upper(0xe9), 0xc9, "e-acute uppers to E-acute");
	is_int(utf8_lower(0x141), 0x142, "L-stroke lowers (Latin Extended-A)");
	is_int(utf8_lower(0x3a3), 0x3c3, "Greek capital sigma lowers");
	is_int(utf8_upper(0x436), 0x416, "Cyrillic zhe uppers");
	is_int(utf8_upper(0x4e2d), 0x4e2d, "a character without case stays");
	is_int(utf8_lower(0x130), 'i', "dotted capital I lowers to i");
}

int main(void)
{
	test_decode();
	test_encode();
	test_counting();
	test_tables();
	return done_testing();
}
