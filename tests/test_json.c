/* test_json.c - bounded parsing rejects what a hostile client could send,
 * and typed getters name the exact field in their errors. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/util.h"
#include "tap.h"

/* The fewest significant digits that read back to v, by plain search. */
static int fewest_digits(double v)
{
	char t[40];

	for (int prec = 1; prec < 17; prec++) {
		snprintf(t, sizeof t, "%.*e", prec - 1, v);
		if (strtod(t, NULL) == v)
			return prec;
	}
	return 17;
}

/* The significant digits written in a plain (no exponent) number text. */
static int digits_in(const char *t)
{
	int n = 0, lead = 1;

	for (; *t; t++) {
		if (*t < '0' || *t > '9')
			continue;
		if (lead && *t == '0')
			continue;
		lead = 0;
		n++;
	}
	return n;
}

/* Every text reads back to v and is as short as any that does. */
static bool shortest_ok(double v)
{
	char t[40];

	return dgen_json_double_text(v, t) && strtod(t, NULL) == v && !strchr(t, 'e') &&
	       digits_in(t) == fewest_digits(v);
}

static int parse(const char *s, struct json_object **v, struct dgen_err *e)
{
	dgen_err_clear(e);
	return dgen_json_parse(s, strlen(s), NULL, v, e);
}

int main(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v = NULL, *sub;
	struct dgen_json_limits lim = dgen_json_default_limits;
	const char *str;
	int64_t n;
	double d;
	bool bo;
	char *deep;

	ok(parse("{\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": true}}", &v, &e) == 0, "valid JSON parses");
	ok(v && json_object_is_type(v, json_type_object), "top level is an object");
	ok(dgen_json_get_obj(v, "", "b", true, &sub, &e) == 0, "get_obj finds b");
	ok(dgen_json_get_bool(sub, "b", "c", true, &bo, &e) == 0 && bo, "get_bool reads b.c");
	ok(dgen_json_get_str(sub, "b", "c", true, &str, &e) == -1, "a boolean is not a string");
	is_str(e.msg, "'b.c' must be a string", "type error names the path");
	is_str(json_object_get_string(json_object_object_get(e.detail, "field")), "b.c",
	       "detail.field carries the path");
	ok(dgen_json_get_str(v, "blocks[1].config", "missing", true, &str, &e) == -1 &&
	   e.code == DGEN_EBADREQ, "a missing required field is an error");
	is_str(e.msg, "'blocks[1].config.missing' is required", "required error names the path");
	str = "default";
	ok(dgen_json_get_str(v, "", "missing", false, &str, &e) == 0 && !strcmp(str, "default"),
	   "an optional missing field keeps the default");
	json_object_put(v);

	ok(parse("{\"n\": 5, \"f\": 2.0, \"g\": 2.5, \"big\": 1e300}", &v, &e) == 0, "numbers parse");
	ok(dgen_json_get_int(v, "", "n", true, 1, 10, &n, &e) == 0 && n == 5, "int in range");
	ok(dgen_json_get_int(v, "", "f", true, 1, 10, &n, &e) == 0 && n == 2, "2.0 is an integer");
	ok(dgen_json_get_int(v, "", "g", true, 1, 10, &n, &e) == -1, "2.5 is not an integer");
	ok(dgen_json_get_int(v, "", "n", true, 6, 10, &n, &e) == -1 &&
	   strstr(e.msg, "between 6 and 10"), "out of range names the bounds");
	ok(dgen_json_get_int(v, "", "big", true, 0, 10, &n, &e) == -1, "1e300 is refused as an integer");
	ok(dgen_json_get_num(v, "", "g", true, &d, &e) == 0 && d == 2.5, "get_num reads a double");
	json_object_put(v);

	ok(parse("{\"a\": 1,}", &v, &e) == -1 && e.code == DGEN_EBADREQ, "trailing comma is malformed");
	ok(strstr(e.msg, "line 1") != NULL, "syntax error names the line");
	ok(parse("{\"a\":\n 1} x", &v, &e) == -1 && strstr(e.msg, "line 2"),
	   "text after the value is an error at its line");
	ok(parse("", &v, &e) == -1 && strstr(e.msg, "empty"), "empty body is reported as empty");
	{
		/* Not NUL-terminated: the parser must stay inside len (ASan checks). */
		char *ws = dgen_xmalloc(3);

		memcpy(ws, "  \n", 3);
		dgen_err_clear(&e);
		ok(dgen_json_parse(ws, 3, NULL, &v, &e) == -1 && strstr(e.msg, "empty"),
		   "whitespace without a terminator is an empty body");
		free(ws);
	}
	ok(parse("  42 ", &v, &e) == 0 && json_object_get_int(v) == 42, "a bare number parses");
	json_object_put(v);
	ok(parse("\"\xff\"", &v, &e) == -1 && strstr(e.msg, "UTF-8"), "invalid UTF-8 is refused");
	ok(dgen_json_parse("{\"a\":\"\0\"}", 9, NULL, &v, &e) == -1 && strstr(e.msg, "NUL"),
	   "a NUL byte is refused");
	ok(parse("'single'", &v, &e) == -1, "single quotes are not JSON");
	ok(parse("{\"big\": 99999999999999999999}", &v, &e) == -1 && strstr(e.msg, "out of range"),
	   "an integer past 64 bits is refused, not saturated");
	ok(parse("[-9223372036854775807, 9223372036854775806]", &v, &e) == 0,
	   "the widest integers in range parse");
	json_object_put(v);
	ok(parse("{\"a\": [1,\n 2", &v, &e) == -1 && strstr(e.msg, "line 2, column 3"),
	   "an unclosed value is reported at the end of the text: %s", e.msg);
	ok(parse("{\"a\": \"x\\u0000y\"}", &v, &e) == -1 && strstr(e.msg, "NUL"),
	   "an escaped NUL in a string is refused");
	ok(parse("{\"a\\u0000b\": 1}", &v, &e) == -1, "an escaped NUL in a key is refused");
	ok(parse("[\"\\\\u0000\"]", &v, &e) == 0, "an escaped backslash before u0000 is text");
	json_object_put(v);

	deep = dgen_xmalloc(20001);
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	ok(parse(deep, &v, &e) == -1 && strstr(e.msg, "deeper than 64"), "10 000-deep nesting is refused");
	free(deep);

	lim.max_bytes = 10;
	dgen_err_clear(&e);
	ok(dgen_json_parse("[1,2,3,4,5,6]", 13, &lim, &v, &e) == -1 && e.code == DGEN_ETOOBIG,
	   "over max_bytes is too big");
	lim = dgen_json_default_limits;
	lim.max_elements = 3;
	dgen_err_clear(&e);
	ok(dgen_json_parse("[1,2,3]", 7, &lim, &v, &e) == -1 && e.code == DGEN_ETOOBIG,
	   "over max_elements is too big (the array counts itself)");
	lim = dgen_json_default_limits;
	lim.max_string = 3;
	dgen_err_clear(&e);
	ok(dgen_json_parse("[\"abcd\"]", 8, &lim, &v, &e) == -1 && e.code == DGEN_ETOOBIG,
	   "over max_string is too big");

	ok(parse("{\"name\": \"x\", \"extra\": 1}", &v, &e) == 0, "object for key checks");
	{
		static const char *const allowed[] = { "name", "blocks", NULL };

		ok(dgen_json_only_keys(v, "", allowed, &e) == -1 && strstr(e.msg, "extra"),
		   "unknown field is named");
	}
	json_object_put(v);

	v = dgen_json_new_double(2.0 / 3.0);
	is_str(dgen_json_compact(v), "0.6666666666666666", "doubles print shortest round-trip");
	json_object_put(v);
	v = dgen_json_new_double(3.0);
	is_str(dgen_json_compact(v), "3.0", "an integral double keeps .0");
	json_object_put(v);
	v = dgen_json_new_double(0.1);
	is_str(dgen_json_compact(v), "0.1", "0.1 prints as 0.1");
	json_object_put(v);
	{
		/* Numbers of six decimals or fewer (timings to the microsecond)
		 * take a fast path; it must give the same shortest text. */
		char t[40];
		bool all = true;
		uint64_t x = 88172645463325252ull;

		ok(dgen_json_double_text(0.200908, t) && !strcmp(t, "0.200908"), "a timing: %s", t);
		ok(dgen_json_double_text(-0.25, t) && !strcmp(t, "-0.25"), "a negative: %s", t);
		ok(dgen_json_double_text(1e-4, t) && !strcmp(t, "0.0001"), "1e-4 stays plain: %s", t);
		ok(dgen_json_double_text(5e-5, t) && !strcmp(t, "5e-05"),
		   "below 1e-4 the exponent form stays: %s", t);
		ok(dgen_json_double_text(999999999.999999, t) && !strcmp(t, "999999999.999999"),
		   "the top of the range: %s", t);
		for (int i = 0; i < 200000 && all; i++) {
			double us, w;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			us = (double)(x % 4000000000000ull);
			w = us / 1e6;
			if (w != trunc(w))
				all = shortest_ok(w) && shortest_ok(-w) &&
				      shortest_ok(nextafter(w, 0)) && shortest_ok(nextafter(w, 1e10));
			if (!all)
				fprintf(stderr, "# not shortest near %.17g\n", w);
		}
		ok(all, "every number of six decimals prints shortest, and so do its neighbours");
	}
	v = json_object_new_string("a/b");
	is_str(dgen_json_compact(v), "\"a/b\"", "slashes are not escaped");
	json_object_put(v);
	dgen_err_clear(&e);
	return done_testing();
}
