/* test_util.c - UTF-8 validation and integer parsing, the two checks every
 * edge of dgen leans on. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/util.h"
#include "tap.h"

#define U(s) dgen_utf8_valid(s, sizeof(s) - 1)

int main(void)
{
	long long n;
	char *s;

	ok(U("plain ascii"), "ASCII is valid");
	ok(U("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"), "2-, 3- and 4-byte sequences are valid");
	ok(!U("\xc0\xaf"), "overlong encoding is refused");
	ok(!U("\xed\xa0\x80"), "UTF-16 surrogate is refused");
	ok(!U("\xf4\x90\x80\x80"), "past U+10FFFF is refused");
	ok(!U("\xe2\x82"), "truncated sequence is refused");
	ok(!U("a\0b"), "NUL byte is refused");
	ok(!U("\x80"), "lone continuation byte is refused");
	ok(dgen_parse_long("42", 0, 100, &n) == 0 && n == 42, "42 parses");
	ok(dgen_parse_long("-3", -5, 5, &n) == 0 && n == -3, "negative parses");
	ok(dgen_parse_long("4x", 0, 100, &n) == -1, "trailing junk is refused");
	ok(dgen_parse_long("", 0, 100, &n) == -1, "empty is refused");
	ok(dgen_parse_long(" 4", 0, 100, &n) == -1, "leading space is refused");
	ok(dgen_parse_long("101", 0, 100, &n) == -1, "above max is refused");
	ok(dgen_parse_long("99999999999999999999", 0, 100, &n) == -1, "overflow is refused");
	s = dgen_xasprintf("%s-%d", "a", 7);
	is_str(s, "a-7", "xasprintf formats");
	free(s);
	return done_testing();
}
