/* test_buf.c - the growable buffer keeps its contents and NUL terminator
 * across growth, printf, truncation and reuse. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "tap.h"

int main(void)
{
	struct dgen_buf b = DGEN_BUF_INIT;
	char *s;

	is_str(dgen_buf_str(&b), "", "an empty buffer reads as the empty string");
	for (int i = 0; i < 1000; i++)
		dgen_buf_printf(&b, "%d,", i);
	ok(b.len == strlen(b.data), "length matches the text after 1000 printf calls");
	ok(strncmp(b.data, "0,1,2,", 6) == 0 && strstr(b.data, ",999,") != NULL,
	   "growth keeps every piece in order");
	dgen_buf_truncate(&b, 4);
	is_str(b.data, "0,1,", "truncate cuts and terminates");
	dgen_buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	ok(b.cap > 0, "reset keeps the memory for reuse");
	dgen_buf_append(&b, "a\0b", 3);
	is_int(b.len, 3, "append carries embedded NUL bytes");
	dgen_buf_reset_keep(&b, 1);
	ok(b.cap == 0 && b.data == NULL, "reset_keep drops memory past the threshold");
	dgen_buf_puts(&b, "héllo");
	dgen_buf_putc(&b, '!');
	s = dgen_buf_steal(&b);
	is_str(s, "héllo!", "steal hands over the string");
	ok(b.data == NULL && b.len == 0, "steal leaves the buffer empty");
	free(s);
	dgen_buf_printf(&b, "%s", "");
	is_str(dgen_buf_str(&b), "", "printf of nothing leaves an empty string");
	dgen_buf_free(&b);
	return done_testing();
}
