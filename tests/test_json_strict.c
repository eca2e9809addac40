/* test_json_strict.c - the JSON parser refuses what RFC 8259 refuses, at
 * the right byte, and everything dgen prints is strict JSON again.
 *
 * The n_ cases follow the classes of the well-known JSONTestSuite corpus
 * (each written here by hand); y_ cases are texts that must parse. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "tap.h"

struct ncase {
	const char *name;
	const char *text;
	size_t len;    /* 0: strlen(text) */
	long offset;   /* expected byte offset of the refusal */
};

#define N(name, text, off) { name, text, 0, off }

static const struct ncase refused[] = {
	N("n_number_nan", "[NaN]", 1),
	N("n_number_infinity", "[Infinity]", 1),
	N("n_number_minus_infinity", "[-Infinity]", 1),
	N("n_number_nan_top", "NaN", 0),
	N("n_number_leading_zero", "[-01]", 1),
	N("n_number_leading_zero_positive", "[012]", 1),
	N("n_number_2dot", "[2.]", 2),
	N("n_number_2dot_exp", "[2.e3]", 2),
	N("n_number_dot5", "[.5]", 1),
	N("n_number_plus_one", "[+1]", 1),
	N("n_number_exp_without_digits", "[1e]", 2),
	N("n_number_exp_sign_only", "[1e+]", 2),
	N("n_number_minus_alone", "[-]", 2),
	N("n_number_hex", "[0x1A]", 2),
	N("n_number_overflow_double", "[1e400]", 1),
	N("n_number_int_past_int64", "[99999999999999999999]", 1),
	N("n_object_single_quote_key", "{'a': 1}", 1),
	N("n_string_single_quote", "['x']", 1),
	N("n_object_unquoted_key", "{a: 1}", 1),
	N("n_object_trailing_comment", "{\"a\": 1}/**/", 8),
	N("n_object_line_comment", "{\"a\": 1 // c\n}", 8),
	N("n_structure_comment_inside_array", "[1, /* x */ 2]", 4),
	N("n_structure_trailing_comma_array", "[1, 2,]", 6),
	N("n_structure_trailing_comma_object", "{\"a\": 1,}", 8),
	N("n_array_double_comma", "[1,,2]", 3),
	N("n_array_leading_comma", "[,1]", 1),
	N("n_object_missing_colon", "{\"a\" 1}", 5),
	N("n_object_missing_value", "{\"a\":}", 5),
	N("n_object_duplicate_key", "{\"a\": 1, \"a\": 2}", 9),
	N("n_object_duplicate_key_escaped", "{\"ab\": 1, \"\\u0061b\": 2}", 10),
	N("n_object_duplicate_key_nested", "[{\"k\": {\"x\": 1, \"x\": 1}}]", 16),
	N("n_string_unescaped_tab", "[\"a\tb\"]", 3),
	N("n_string_unescaped_newline", "[\"a\nb\"]", 3),
	N("n_string_unescaped_ctrl_1f", "[\"\x1f\"]", 2),
	N("n_string_bad_escape_x", "[\"\\x41\"]", 2),
	N("n_string_bad_escape_apostrophe", "[\"\\'\"]", 2),
	N("n_string_escape_u_short", "[\"\\u12\"]", 2),
	N("n_string_escape_u_not_hex", "[\"\\uzzzz\"]", 2),
	N("n_string_lone_high_surrogate", "[\"\\ud800\"]", 2),
	N("n_string_high_then_text", "[\"\\ud800abc\"]", 2),
	N("n_string_two_high_surrogates", "[\"\\ud800\\ud800\"]", 2),
	N("n_string_lone_low_surrogate", "[\"\\udc00\"]", 2),
	N("n_string_escaped_nul", "[\"a\\u0000\"]", 3),
	N("n_string_invalid_utf8", "[\"\xff\"]", 2),
	N("n_string_utf8_overlong", "[\"\xc0\xaf\"]", 2),
	N("n_string_utf8_encoded_surrogate", "[\"\xed\xa0\x80\"]", 2),
	N("n_string_utf8_past_10ffff", "[\"\xf4\x90\x80\x80\"]", 2),
	N("n_string_utf8_truncated", "[\"\xe2\x82\"]", 2),
	{ "n_string_raw_nul", "[\"a\0\"]", 6, 3 },
	N("n_string_unclosed", "[\"abc", 5),
	N("n_structure_unclosed_array", "[1, 2", 5),
	N("n_structure_unclosed_object", "{\"a\": 1", 7),
	N("n_structure_unopened_close", "]", 0),
	N("n_structure_trailing_garbage", "[1] x", 4),
	N("n_structure_two_values", "{} {}", 3),
	N("n_structure_trailing_garbage_number", "2 3", 2),
	N("n_literal_capital_true", "[True]", 1),
	N("n_literal_truncated_null", "[nul]", 1),
	N("n_structure_bom", "\xef\xbb\xbf{}", 0),
	N("n_structure_nesting_65", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]"
				    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	  64),
};

static const char *const accepted[] = {
	"[]", "{}", "0", "-0", "[-0.0]", "[1e5, 1E+5, 1e-5, 0.5e0]", "\"\"",
	"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"\\u00e9\\ud83d\\ude00\"]",
	"[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]", " \t\r\n[1]\n ", "{\"a\": {\"a\": 1}}",
	"[true, false, null]", "[-9223372036854775807]", "[1.7976931348623157e308]",
	"[5e-324]", "{\"\": 0}",
};

static long detail_offset(const struct dgen_err *e)
{
	struct json_object *o;

	if (e->detail && json_object_object_get_ex(e->detail, "offset", &o))
		return (long)json_object_get_int64(o);
	return -1;
}

/* Parses the text dgen printed: it must be strict JSON. */
static bool reparses(const char *text)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v = NULL;
	int rc = dgen_json_parse(text, strlen(text), NULL, &v, &e);

	json_object_put(v);
	dgen_err_clear(&e);
	return rc == 0;
}

int main(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v = NULL, *a;
	char deep[2 * 64 + 1];

	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		const struct ncase *c = &refused[i];
		size_t len = c->len ? c->len : strlen(c->text);
		int rc;

		dgen_err_clear(&e);
		v = NULL;
		rc = dgen_json_parse(c->text, len, NULL, &v, &e);
		ok(rc == -1 && v == NULL && e.code == DGEN_EBADREQ, "%s is refused", c->name);
		is_int(detail_offset(&e), c->offset, "%s: at byte %ld (%s)", c->name, c->offset,
		       e.msg);
	}
	for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++) {
		dgen_err_clear(&e);
		ok(dgen_json_parse(accepted[i], strlen(accepted[i]), NULL, &v, &e) == 0,
		   "y_ %s parses (%s)", accepted[i], e.msg);
		ok(v == NULL || reparses(dgen_json_compact(v)), "and prints as strict JSON again");
		json_object_put(v);
		v = NULL;
	}

	/* Exactly the depth cap parses. */
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	deep[128] = '\0';
	dgen_err_clear(&e);
	ok(dgen_json_parse(deep, 128, NULL, &v, &e) == 0, "64 levels of nesting parse");
	json_object_put(v);

	/* Messages a person can act on. */
	dgen_err_clear(&e);
	dgen_json_parse("{\"n\": NaN}", 10, NULL, &v, &e);
	ok(strstr(e.msg, "NaN") && strstr(e.msg, "byte 6"), "NaN is named with its byte: %s", e.msg);
	dgen_err_clear(&e);
	dgen_json_parse("{\"a\":1,\"a\":2}", 13, NULL, &v, &e);
	ok(strstr(e.msg, "duplicate key \"a\""), "a duplicate key is named: %s", e.msg);

	/* A surrogate pair decodes to one code point in UTF-8. */
	dgen_err_clear(&e);
	ok(dgen_json_parse("\"\\ud83d\\ude00\"", 14, NULL, &v, &e) == 0 &&
		   strcmp(json_object_get_string(v), "\xf0\x9f\x98\x80") == 0,
	   "a surrogate pair becomes U+1F600");
	json_object_put(v);

	/* What dgen writes: never NaN or Infinity, doubles in shortest form. */
	ok(dgen_json_new_double(NAN) == NULL, "a NaN double becomes JSON null");
	ok(dgen_json_new_double(INFINITY) == NULL, "an infinite double becomes JSON null");
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_double(NAN));
	json_object_array_add(a, json_object_new_double(-INFINITY));
	json_object_array_add(a, json_object_new_double(0.1));
	json_object_array_add(a, json_object_new_double(1.0 / 3));
	json_object_array_add(a, json_object_new_double(2));
	is_str(dgen_json_compact(a), "[null,null,0.1,0.3333333333333333,2.0]",
	       "json-c doubles print shortest and non-finite ones as null");
	ok(reparses(dgen_json_pretty(a)), "the pretty form is strict JSON too");
	json_object_put(a);
	dgen_err_clear(&e);
	ok(dgen_json_parse("[1.50, 1e5, 0.00040485200042894576]",
			   strlen("[1.50, 1e5, 0.00040485200042894576]"), NULL, &v, &e) == 0,
	   "parsed doubles");
	is_str(dgen_json_compact(v), "[1.5,100000.0,0.00040485200042894576]",
	       "print in their shortest round-trip form");
	json_object_put(v);

	dgen_err_clear(&e);
	return done_testing();
}
