/* test_ids.c - trace ids are version 4 UUIDs and do not repeat. */
#include "config.h"

#include <string.h>

#include "dgen/ids.h"
#include "tap.h"

int main(void)
{
	char a[DGEN_UUID_LEN], b[DGEN_UUID_LEN];
	int shape = 1;

	dgen_uuid4(a);
	dgen_uuid4(b);
	is_int(strlen(a), 36, "36 characters");
	ok(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-', "dashes in place");
	ok(a[14] == '4', "version nibble is 4");
	ok(strchr("89ab", a[19]) != NULL, "variant is RFC 4122");
	for (int i = 0; i < 36; i++)
		if (a[i] != '-' && !strchr("0123456789abcdef", a[i]))
			shape = 0;
	ok(shape, "lower-case hex");
	ok(strcmp(a, b) != 0, "two ids differ");
	return done_testing();
}
