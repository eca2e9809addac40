/*
 * test_multipart.c - multipart/form-data parsing: boundaries, preamble and
 * epilogue, CRLF handling, Content-Disposition parameters, limits, and the
 * malformed bodies a client or an attacker may send.
 */
#include "config.h"

#include <string.h>

#include "dgen/arena.h"
#include "dgen/buf.h"
#include "dgen/multipart.h"
#include "dgen/respond.h"
#include "tap.h"

static struct arena a;
static struct multipart_part *parts;
static size_t n;
static struct dgen_err err = DGEN_ERR_INIT;

/* Parses body with boundary "XyZ"; returns 0 or the error's HTTP status. */
static int mp_lim(const char *body, size_t len, const struct multipart_limits *lim)
{
	dgen_err_clear(&err);
	arena_reset(&a);
	if (multipart_parse(body, len, "XyZ", lim, &a, &parts, &n, &err) != 0)
		return respond_http_status(err.code);
	return 0;
}

static int mp(const char *body)
{
	return mp_lim(body, strlen(body), &multipart_default_limits);
}

static int part_is(size_t i, const char *name, const char *filename, const char *data)
{
	if (i >= n)
		return 0;
	if (strcmp(parts[i].name, name) != 0)
		return 0;
	if (filename ? !parts[i].filename || strcmp(parts[i].filename, filename) != 0
		     : parts[i].filename != NULL)
		return 0;
	return parts[i].len == strlen(data) && memcmp(parts[i].data, data, parts[i].len) == 0;
}

static int boundary(const char *ct, const char **b)
{
	dgen_err_clear(&err);
	arena_reset(&a);
	if (multipart_boundary(ct, &a, b, &err) != 0)
		return respond_http_status(err.code);
	return 0;
}

static void test_boundary(void)
{
	const char *b;
	char long_b[128];

	is_int(boundary("multipart/form-data; boundary=abc123", &b), 0, "plain boundary");
	is_str(b, "abc123", "value");
	is_int(boundary("Multipart/Form-Data;BOUNDARY=\"a b'()+_,-./:=?\"", &b), 0,
	       "quoted boundary with every special bchar, case-insensitive names");
	is_str(b, "a b'()+_,-./:=?", "unquoted value");
	is_int(boundary("multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxk",
			&b), 0, "browser boundary after another parameter");
	is_str(b, "----WebKitFormBoundary7MA4YWxk", "browser boundary");
	is_int(boundary("application/json", &b), 415, "not multipart is 415");
	is_int(boundary(NULL, &b), 415, "no Content-Type is 415");
	is_int(boundary("multipart/mixed; boundary=x", &b), 415, "multipart/mixed is 415");
	is_int(boundary("multipart/form-data", &b), 400, "missing boundary is 400");
	is_int(boundary("multipart/form-data; boundary=", &b), 400, "empty boundary is 400");
	is_int(boundary("multipart/form-data; boundary=\"\"", &b), 400,
	       "empty quoted boundary is 400");
	is_int(boundary("multipart/form-data; boundary=\"abc", &b), 400,
	       "unterminated quote is 400");
	is_int(boundary("multipart/form-data; boundary=\"a b \"", &b), 400,
	       "boundary ending in a space is 400");
	is_int(boundary("multipart/form-data; boundary=\"a;b\"", &b), 400,
	       "';' is not a boundary character");
	is_int(boundary("multipart/form-data; boundary=a; boundary=b", &b), 400,
	       "boundary given twice is 400");
	is_int(boundary("multipart/form-data; boundary", &b), 400, "parameter without '='");
	memset(long_b, 'x', 71);
	strcpy(long_b + 71, "");
	{
		char ct[200];

		snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", long_b);
		is_int(boundary(ct, &b), 400, "71-character boundary is 400");
		long_b[70] = '\0';
		snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", long_b);
		is_int(boundary(ct, &b), 0, "70-character boundary is fine");
	}
}

static void test_parse_ok(void)
{
	is_int(mp("--XyZ\r\n"
		  "Content-Disposition: form-data; name=\"pipeline_id\"\r\n\r\n"
		  "12\r\n"
		  "--XyZ\r\n"
		  "Content-Disposition: form-data; name=\"file\"; filename=\"seeds.json\"\r\n"
		  "Content-Type: application/json\r\n\r\n"
		  "[{\"metadata\":{}}]\r\n"
		  "--XyZ--\r\n"),
	       0, "two parts");
	is_int(n, 2, "two parts found");
	ok(part_is(0, "pipeline_id", NULL, "12"), "field part");
	ok(part_is(1, "file", "seeds.json", "[{\"metadata\":{}}]"), "file part");
	is_str(parts[1].content_type, "application/json", "part Content-Type");
	ok(parts[0].content_type == NULL, "no Content-Type on the field");

	is_int(mp("This is the preamble.\r\nIt is ignored.\r\n--XyZ\r\n"
		  "Content-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--\r\nepilogue here\r\n"),
	       0, "preamble and epilogue ignored");
	ok(n == 1 && part_is(0, "a", NULL, "v"), "unquoted name token");

	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ--"),
	       0, "empty part body, no CRLF after the close delimiter");
	ok(n == 1 && parts[0].len == 0, "empty data");

	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
		  "line1\r\nline2\r\n\r\n--XyZ--"),
	       0, "CRLFs inside data kept");
	ok(part_is(0, "a", NULL, "line1\r\nline2\r\n"), "only the delimiter's CRLF is removed");

	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
		  "has --XyZ inside and \r\n--XyZa not a boundary? \r\n--XyZ--"),
	       400, "delimiter followed by junk is 400");

	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
		  "text with --XyZ in the middle\r\n--XyZ--"),
	       0, "boundary text not after CRLF is data");
	ok(part_is(0, "a", NULL, "text with --XyZ in the middle"), "data intact");

	is_int(mp("--XyZ  \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ \r\n"
		  "Content-Disposition: form-data; name=\"b\"\r\n\r\nw\r\n--XyZ--"),
	       0, "transport padding after boundaries");
	ok(n == 2 && part_is(1, "b", NULL, "w"), "second part after padding");

	is_int(mp("--XyZ\r\ncontent-disposition: FORM-DATA; NAME=\"a\"; FileName=\"x.md\"\r\n"
		  "X-Other: ignored\r\n\r\n# title\r\n--XyZ--"),
	       0, "header and parameter names are case-insensitive; other headers ignored");
	ok(part_is(0, "a", "x.md", "# title"), "name and filename");

	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"q\\\"uote\\\\d\"; "
		  "filename=\"dir\\\\a b.json\"\r\n\r\nx\r\n--XyZ--"),
	       0, "backslash escapes in quoted strings");
	ok(part_is(0, "q\"uote\\d", "dir\\a b.json", "x"), "unescaped");

	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n"
		  "\r\n--XyZ--"),
	       0, "empty filename (a browser's empty file input)");
	ok(n == 1 && parts[0].filename && parts[0].filename[0] == '\0', "filename is \"\"");

	{
		const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"caf\xc3\xa9\""
				    "\r\n\r\n\xff\x00\x01 binary\r\n--XyZ--";

		is_int(mp_lim(body, sizeof body - 1, &multipart_default_limits), 0,
		       "UTF-8 name, binary data");
		ok(n == 1 && parts[0].len == 10 && strcmp(parts[0].name, "caf\xc3\xa9") == 0,
		   "binary data length kept (NUL inside)");
	}

	{
		const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
				    "\0\0\0\r\n--XyZ--";

		is_int(mp_lim(body, sizeof body - 1, &multipart_default_limits), 0,
		       "NUL bytes in data are data");
		is_int(parts[0].len, 3, "three NUL bytes");
	}
}

static void test_parse_bad(void)
{
	struct multipart_limits lim = multipart_default_limits;
	struct dgen_buf b = DGEN_BUF_INIT;

	is_int(mp(""), 400, "empty body");
	is_int(mp("no boundary anywhere"), 400, "boundary never appears");
	ok(strstr(err.msg, "boundary") != NULL, "message says so: %s", err.msg);
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue"), 400,
	       "no closing boundary");
	ok(strstr(err.msg, "closing boundary") != NULL, "message: %s", err.msg);
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ"), 400,
	       "last boundary is not a close delimiter");
	is_int(mp("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--"), 400,
	       "bare LF line endings");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nv\r\n--XyZ--"), 400,
	       "headers without the blank line");
	is_int(mp("--XyZ\r\n\r\nv\r\n--XyZ--"), 400, "part without headers");
	ok(strstr(err.msg, "Content-Disposition") != NULL, "message: %s", err.msg);
	is_int(mp("--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--"), 400,
	       "part without Content-Disposition");
	is_int(mp("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--"),
	       400, "disposition other than form-data");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nv\r\n--XyZ--"),
	       400, "no name");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--XyZ--"),
	       400, "empty name");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--"),
	       400, "unterminated quoted name");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\n"
		  "v\r\n--XyZ--"),
	       400, "name given twice");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
		  "Content-Disposition: form-data; name=\"b\"\r\n\r\nv\r\n--XyZ--"),
	       400, "Content-Disposition twice");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\nv\r\n--XyZ--"),
	       400, "name not UTF-8");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--XyZ--"),
	       400, "folded header line");
	is_int(mp("--XyZ\r\nBad Header: x\r\nContent-Disposition: form-data; name=a\r\n\r\n"
		  "v\r\n--XyZ--"),
	       400, "space in a header name");
	is_int(mp("--XyZ\r\n: no name\r\n\r\nv\r\n--XyZ--"), 400, "header without a name");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=a\rb\r\n\r\nv\r\n--XyZ--"), 400,
	       "bare CR inside a header");
	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=a junk\r\n\r\nv\r\n--XyZ--"),
	       400, "junk after a parameter");
	is_int(mp("--XyZgarbage\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--"),
	       400, "junk after the first boundary");
	{
		const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\n"
				    "v\r\n--XyZ--";

		is_int(mp_lim(body, sizeof body - 1, &multipart_default_limits), 400,
		       "NUL byte in headers");
	}

	/* limits */
	lim.max_parts = 2;
	dgen_buf_puts(&b, "--XyZ");
	for (int i = 0; i < 3; i++)
		dgen_buf_printf(&b, "\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nv\r\n--XyZ",
				i);
	dgen_buf_puts(&b, "--");
	is_int(mp_lim(b.data, b.len, &lim), 400, "three parts over a limit of two");
	ok(strstr(err.msg, "too many parts") != NULL, "message: %s", err.msg);
	lim.max_parts = 3;
	is_int(mp_lim(b.data, b.len, &lim), 0, "three parts within a limit of three");
	is_int(n, 3, "all three");

	dgen_buf_reset(&b);
	dgen_buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n");
	for (int i = 0; i < 20; i++)
		dgen_buf_printf(&b, "X-H%d: v\r\n", i);
	dgen_buf_puts(&b, "\r\nv\r\n--XyZ--");
	is_int(mp(b.data), 400, "21 headers over the default 16");
	ok(strstr(err.msg, "too many part headers") != NULL, "message: %s", err.msg);

	dgen_buf_reset(&b);
	dgen_buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Big: ");
	for (int i = 0; i < 9000; i++)
		dgen_buf_putc(&b, 'x');
	dgen_buf_puts(&b, "\r\n\r\nv\r\n--XyZ--");
	is_int(mp(b.data), 400, "9000-byte header block over the 8 KiB cap");
	ok(strstr(err.msg, "too large") != NULL, "message: %s", err.msg);
	dgen_buf_free(&b);

	is_int(mp("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ--"), 0,
	       "after all that, a good body still parses");
	ok(multipart_find(parts, n, "a") == &parts[0], "multipart_find");
	ok(multipart_find(parts, n, "b") == NULL, "multipart_find on a missing name");
	is_int(multipart_count(parts, n, "a"), 1, "multipart_count");
}

int main(void)
{
	test_boundary();
	test_parse_ok();
	test_parse_bad();
	arena_free(&a);
	dgen_err_clear(&err);
	return done_testing();
}
