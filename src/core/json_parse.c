/*
 * json_parse.c - the one parser of JSON that comes from outside (request
 * bodies, seed files, LLM replies). RFC 8259 and nothing more: json-c's
 * tokener lets through NaN, "2.", "-01", single quotes and raw tabs even
 * in strict mode, and then prints them back as invalid JSON, so dgen reads
 * the bytes itself and builds the json-c values as it goes.
 *
 * Refused, each with the byte offset (and line/column) of the first bad
 * byte: NaN/Infinity, leading zeros, "2.", ".5", "+1", numbers that do not
 * fit a double or an int64, single quotes, comments, trailing commas, raw
 * control characters and invalid UTF-8 in strings, bad escapes, lone
 * surrogates, escaped NULs, duplicate keys (compared after unescaping),
 * text after the value, nesting deeper than lim->max_depth, and the size
 * limits of struct dgen_json_limits.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/json.h"

struct jp {
	const char *s;
	size_t len, pos;
	const struct dgen_json_limits *lim;
	size_t count; /* values so far */
	int depth;    /* open arrays/objects */
	struct dgen_buf tmp; /* unescaped string, number text */
	struct dgen_err *err;
};

/* Line and column (1-based) of byte offset off, for error messages. */
static void position(const char *s, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

/* A syntax error at byte off: "malformed JSON at line L, column C (byte O): why". */
static int fail_at(struct jp *p, size_t off, enum dgen_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(struct jp *p, size_t off, enum dgen_errcode code, const char *fmt, ...)
{
	char why[200];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	position(p->s, off, &line, &col);
	dgen_err_set(p->err, code, "malformed JSON at line %d, column %d (byte %zu): %s", line,
		     col, off, why);
	dgen_err_detail_int(p->err, "offset", (long long)off);
	dgen_err_detail_int(p->err, "line", line);
	dgen_err_detail_int(p->err, "column", col);
	return -1;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_ws(struct jp *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos]))
		p->pos++;
}

static bool at(struct jp *p, const char *lit)
{
	size_t n = strlen(lit);

	return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

/* Why the byte at p->pos cannot start a value, in words a person can act on. */
static int bad_value(struct jp *p)
{
	unsigned char c;

	if (p->pos >= p->len)
		return fail_at(p, p->len, DGEN_EBADREQ, "the text ends before the value does");
	c = (unsigned char)p->s[p->pos];
	if (at(p, "NaN") || at(p, "Infinity") || at(p, "-Infinity"))
		return fail_at(p, p->pos, DGEN_EBADREQ, "NaN and Infinity are not JSON numbers");
	if (c == '\'')
		return fail_at(p, p->pos, DGEN_EBADREQ, "strings take double quotes, not single");
	if (c == '/')
		return fail_at(p, p->pos, DGEN_EBADREQ, "comments are not JSON");
	if (c == '.' || c == '+')
		return fail_at(p, p->pos, DGEN_EBADREQ,
			       "a number starts with a digit or '-'");
	if (c == '\0')
		return fail_at(p, p->pos, DGEN_EBADREQ, "a NUL byte is not JSON");
	if (c < 0x20 || c >= 0x7f)
		return fail_at(p, p->pos, DGEN_EBADREQ, "unexpected byte 0x%02x", c);
	return fail_at(p, p->pos, DGEN_EBADREQ, "unexpected character '%c'", c);
}

/* Four hex digits at off; -1 when they are not there. */
static long hex4(struct jp *p, size_t off)
{
	long v = 0;

	if (p->len - off < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p->s[off + i];

		if (!isxdigit(c))
			return -1;
		v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static void put_utf8(struct dgen_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	dgen_buf_append(b, u, n);
}

/* Length of the well-formed UTF-8 sequence at off (RFC 3629: no overlong
 * forms, no encoded surrogates, nothing past U+10FFFF), 0 if there is none. */
static size_t utf8_seq(struct jp *p, size_t off)
{
	const unsigned char *u = (const unsigned char *)p->s + off;
	size_t left = p->len - off, n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (u[0] == 0xe0)
		lo = 0xa0;
	else if (u[0] == 0xed)
		hi = 0x9f;
	else if (u[0] == 0xf0)
		lo = 0x90;
	else if (u[0] == 0xf4)
		hi = 0x8f;
	if (left < n || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	return n;
}

/*
 * One escape after the backslash at p->pos; appends what it stands for.
 * A \u escape of a surrogate must be a high one followed at once by an
 * escaped low one; \u0000 is refused since C strings (and json-c keys)
 * would silently end there.
 */
static int parse_escape(struct jp *p)
{
	size_t bs = p->pos;
	long cp, lo;
	char c;

	if (bs + 1 >= p->len)
		return fail_at(p, p->len, DGEN_EBADREQ, "the text ends inside a string");
	c = p->s[bs + 1];
	p->pos = bs + 2;
	switch (c) {
	case '"': dgen_buf_putc(&p->tmp, '"'); return 0;
	case '\\': dgen_buf_putc(&p->tmp, '\\'); return 0;
	case '/': dgen_buf_putc(&p->tmp, '/'); return 0;
	case 'b': dgen_buf_putc(&p->tmp, '\b'); return 0;
	case 'f': dgen_buf_putc(&p->tmp, '\f'); return 0;
	case 'n': dgen_buf_putc(&p->tmp, '\n'); return 0;
	case 'r': dgen_buf_putc(&p->tmp, '\r'); return 0;
	case 't': dgen_buf_putc(&p->tmp, '\t'); return 0;
	case 'u': break;
	default:
		return fail_at(p, bs, DGEN_EBADREQ, "invalid escape in a string");
	}
	cp = hex4(p, bs + 2);
	if (cp < 0)
		return fail_at(p, bs, DGEN_EBADREQ, "\\u takes four hex digits");
	p->pos = bs + 6;
	if (cp == 0)
		return fail_at(p, bs, DGEN_EBADREQ,
			       "a string contains a NUL character (\\u0000)");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail_at(p, bs, DGEN_EBADREQ, "a lone low surrogate (\\u%04lx)", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		lo = (p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u')
			     ? hex4(p, p->pos + 2)
			     : -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail_at(p, bs, DGEN_EBADREQ,
				       "a lone high surrogate (\\u%04lx) without its low half", cp);
		p->pos += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	put_utf8(&p->tmp, (unsigned long)cp);
	return 0;
}

/* The string at p->pos (on its opening quote), unescaped into p->tmp. */
static int parse_string(struct jp *p, const char *what)
{
	size_t start = p->pos;

	dgen_buf_reset(&p->tmp);
	p->pos++;
	for (;;) {
		size_t run = p->pos, n;
		unsigned char c;

		/* Copy plain ASCII in runs; stop at anything needing a look. */
		while (p->pos < p->len) {
			c = (unsigned char)p->s[p->pos];
			if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
				break;
			p->pos++;
		}
		dgen_buf_append(&p->tmp, p->s + run, p->pos - run);
		if (p->tmp.len > p->lim->max_string) {
			dgen_err_set(p->err, DGEN_ETOOBIG, "a JSON %s is longer than %zu bytes", what,
				     p->lim->max_string);
			dgen_err_detail_int(p->err, "limit", (long long)p->lim->max_string);
			dgen_err_detail_int(p->err, "offset", (long long)start);
			return -1;
		}
		if (p->pos >= p->len)
			return fail_at(p, p->len, DGEN_EBADREQ, "the text ends inside a string");
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c == '\\') {
			if (parse_escape(p))
				return -1;
			continue;
		}
		if (c == '\0')
			return fail_at(p, p->pos, DGEN_EBADREQ, "a string contains a NUL byte");
		if (c < 0x20)
			return fail_at(p, p->pos, DGEN_EBADREQ,
				       "a raw control character (0x%02x) in a string must be escaped", c);
		n = utf8_seq(p, p->pos);
		if (!n)
			return fail_at(p, p->pos, DGEN_EBADREQ, "a string is not valid UTF-8");
		dgen_buf_append(&p->tmp, p->s + p->pos, n);
		p->pos += n;
	}
}

/*
 * A number per RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Integers become json-c ints (int64, refused when they do not fit);
 * the rest doubles that keep their text, refused when not finite.
 */
static int parse_number(struct jp *p, struct json_object **out)
{
	size_t start = p->pos;
	bool is_float = false;
	const char *txt;

#define DIGIT(i) ((i) < p->len && p->s[i] >= '0' && p->s[i] <= '9')
	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (!DIGIT(p->pos))
		return bad_value(p);
	if (p->s[p->pos] == '0') {
		p->pos++;
		if (DIGIT(p->pos))
			return fail_at(p, start, DGEN_EBADREQ, "a number has a leading zero");
	} else {
		while (DIGIT(p->pos))
			p->pos++;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		is_float = true;
		if (!DIGIT(p->pos + 1))
			return fail_at(p, p->pos, DGEN_EBADREQ,
				       "a digit must follow the decimal point");
		p->pos++;
		while (DIGIT(p->pos))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		size_t e = p->pos++;

		is_float = true;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!DIGIT(p->pos))
			return fail_at(p, e, DGEN_EBADREQ, "an exponent needs digits");
		while (DIGIT(p->pos))
			p->pos++;
	}
#undef DIGIT
	dgen_buf_reset(&p->tmp);
	dgen_buf_append(&p->tmp, p->s + start, p->pos - start);
	txt = dgen_buf_str(&p->tmp);
	errno = 0;
	if (!is_float) {
		long long n = strtoll(txt, NULL, 10);

		/* The ends of int64 are where strtoll saturates: refused too,
		 * so a stored number is always the one that was sent. */
		if (errno == ERANGE || n == INT64_MAX || n == INT64_MIN)
			return fail_at(p, start, DGEN_EBADREQ,
				       "a JSON integer is out of range (at most 19 digits: "
				       "-9223372036854775807 to 9223372036854775806)");
		*out = json_object_new_int64(n);
	} else {
		double d = strtod(txt, NULL);

		if (!isfinite(d))
			return fail_at(p, start, DGEN_EBADREQ,
				       "a JSON number is out of range of a double");
		*out = json_object_new_double_s(d, txt);
	}
	return 0;
}

static int parse_value(struct jp *p, struct json_object **out);

/* Entering an array or object at p->pos: one level deeper. Returns 1 when
 * it closes at once ("[]", "{}"), 0 when members follow, -1 on error. */
static int open_level(struct jp *p, char close)
{
	if (++p->depth > p->lim->max_depth) {
		fail_at(p, p->pos, DGEN_EBADREQ, "JSON is nested deeper than %d levels",
			p->lim->max_depth);
		dgen_err_detail_int(p->err, "limit", p->lim->max_depth);
		return -1;
	}
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return 1;
	}
	return 0;
}

/* After a member: ',' (then not the closing bracket) or the closing bracket.
 * Returns 1 when closed, 0 for another member, -1 on error. */
static int next_member(struct jp *p, char close)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail_at(p, p->len, DGEN_EBADREQ, "the text ends before '%c'", close);
	if (p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return 1;
	}
	if (p->s[p->pos] != ',')
		return fail_at(p, p->pos, DGEN_EBADREQ, "expected ',' or '%c'", close);
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close)
		return fail_at(p, p->pos, DGEN_EBADREQ, "a trailing comma before '%c'", close);
	return 0;
}

/* One element of an array: a value, added to a. */
static int parse_element(struct jp *p, struct json_object *a)
{
	struct json_object *v = NULL;

	if (parse_value(p, &v)) {
		json_object_put(v);
		return -1;
	}
	json_object_array_add(a, v);
	return 0;
}

/* One member of an object: "key": value, added to o; a key comes once. */
static int parse_member(struct jp *p, struct json_object *o)
{
	struct json_object *v = NULL;
	size_t kpos = p->pos;
	char small[64], *key;

	if (p->pos >= p->len || p->s[p->pos] != '"') {
		if (p->pos < p->len && p->s[p->pos] == '\'')
			return fail_at(p, p->pos, DGEN_EBADREQ,
				       "keys take double quotes, not single");
		if (p->pos < p->len && p->s[p->pos] == '/')
			return fail_at(p, p->pos, DGEN_EBADREQ, "comments are not JSON");
		return fail_at(p, p->pos < p->len ? p->pos : p->len, DGEN_EBADREQ,
			       "expected a key in double quotes");
	}
	if (parse_string(p, "key"))
		return -1;
	if (json_object_object_get_ex(o, dgen_buf_str(&p->tmp), NULL))
		return fail_at(p, kpos, DGEN_EBADREQ, "duplicate key \"%.60s\"",
			       dgen_buf_str(&p->tmp));
	/* the value is read into p->tmp too: a short key waits on the stack,
	 * and p->tmp keeps its memory for the next string */
	if (p->tmp.len < sizeof small) {
		memcpy(small, dgen_buf_str(&p->tmp), p->tmp.len + 1);
		key = small;
	} else {
		key = dgen_buf_steal(&p->tmp);
	}
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':') {
		if (key != small)
			free(key);
		return fail_at(p, p->pos < p->len ? p->pos : p->len, DGEN_EBADREQ,
			       "expected ':' after a key");
	}
	p->pos++;
	if (parse_value(p, &v)) {
		json_object_put(v);
		if (key != small)
			free(key);
		return -1;
	}
	json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW);
	if (key != small)
		free(key);
	return 0;
}

/* An array or an object at p->pos ('[' or '{'): elements or members
 * separated by commas up to the closing bracket. On error *out holds what
 * was read so far, for the caller to release. */
static int parse_container(struct jp *p, struct json_object **out)
{
	bool object = p->s[p->pos] == '{';
	char close = object ? '}' : ']';
	int r;

	*out = object ? json_object_new_object() : json_object_new_array();
	if ((r = open_level(p, close)) != 0)
		return r < 0 ? -1 : 0;
	do {
		if ((object ? parse_member(p, *out) : parse_element(p, *out)) != 0)
			return -1;
	} while ((r = next_member(p, close)) == 0);
	return r < 0 ? -1 : 0;
}

/* Any value at p->pos (leading space allowed). On error *out may hold a
 * partial value for the caller to release. */
static int parse_value(struct jp *p, struct json_object **out)
{
	char c;

	*out = NULL;
	skip_ws(p);
	if (++p->count > p->lim->max_elements) {
		dgen_err_set(p->err, DGEN_ETOOBIG, "JSON document has more than %zu values",
			     p->lim->max_elements);
		dgen_err_detail_int(p->err, "limit", (long long)p->lim->max_elements);
		dgen_err_detail_int(p->err, "offset", (long long)p->pos);
		return -1;
	}
	if (p->pos >= p->len)
		return bad_value(p);
	c = p->s[p->pos];
	switch (c) {
	case '{':
	case '[':
		return parse_container(p, out);
	case '"':
		if (parse_string(p, "string"))
			return -1;
		*out = json_object_new_string_len(p->tmp.data ? p->tmp.data : "",
						  (int)p->tmp.len);
		return 0;
	case 't':
	case 'f':
	case 'n': {
		const char *lit = c == 't' ? "true" : c == 'f' ? "false" : "null";

		if (!at(p, lit))
			return bad_value(p);
		p->pos += strlen(lit);
		if (c != 'n')
			*out = json_object_new_boolean(c == 't');
		return 0;
	}
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			if (!at(p, "-Infinity"))
				return parse_number(p, out);
		return bad_value(p);
	}
}

/* The one entry for untrusted JSON: checks the size cap, parses one value
 * strictly (RFC 8259) and refuses anything after it but white space. Every
 * refusal carries the byte offset, line and column in its detail. */
int dgen_json_parse(const char *s, size_t len, const struct dgen_json_limits *lim,
		    struct json_object **out, struct dgen_err *err)
{
	struct jp p = { .s = s, .len = len, .lim = lim ? lim : &dgen_json_default_limits,
			.tmp = DGEN_BUF_INIT, .err = err };
	struct json_object *v = NULL;
	int rc = -1;

	*out = NULL;
	if (len > p.lim->max_bytes || len > (size_t)0x7fffffff) {
		dgen_err_set(err, DGEN_ETOOBIG, "JSON body is larger than the limit of %zu bytes",
			     p.lim->max_bytes);
		dgen_err_detail_int(err, "limit", (long long)p.lim->max_bytes);
		goto out;
	}
	skip_ws(&p);
	if (p.pos == len) {
		dgen_err_set(err, DGEN_EBADREQ, "JSON body is empty");
		dgen_err_detail_int(err, "offset", (long long)len);
		goto out;
	}
	if (parse_value(&p, &v))
		goto out;
	skip_ws(&p);
	if (p.pos < len) {
		fail_at(&p, p.pos, DGEN_EBADREQ, "unexpected text after the value");
		goto out;
	}
	*out = v;
	v = NULL;
	rc = 0;
out:
	json_object_put(v);
	dgen_buf_free(&p.tmp);
	return rc;
}
