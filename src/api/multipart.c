/*
 * multipart.c - multipart/form-data parsing (see multipart.h).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "dgen/multipart.h"
#include "dgen/util.h"

#define MAX_BOUNDARY 70

const struct multipart_limits multipart_default_limits = {
	.max_parts = 16,
	.max_headers = 16,
	.max_header_bytes = 8192,
};

/* An ASCII letter or digit, or one of the (non-NUL) characters of extra. */
static bool alnum_or(unsigned char c, const char *extra)
{
	if (c >= '0' && c <= '9')
		return true;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return c && strchr(extra, c) != NULL;
}

/* RFC 7230 token characters (header and parameter names). */
static bool is_tchar(unsigned char c)
{
	return alnum_or(c, "!#$%&'*+-.^_`|~");
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 2046 bchars: what a boundary may consist of. */
static bool is_bchar(unsigned char c)
{
	return alnum_or(c, "'()+_,-./:=? ");
}

static int param_error(struct dgen_err *err, const char *what)
{
	return dgen_err_set(err, DGEN_EBADREQ, "Malformed header parameters: %s", what);
}

/* Walks `type; name=value; name="quoted"` from the first ';' on. Each
 * parameter's name is compared with `param`; its value (unquoted) is
 * copied into the arena. A parameter list is never partly accepted: any
 * syntax error anywhere fails the whole header. */
int multipart_header_param(const char *value, size_t len, const char *param, struct arena *a,
			   const char **out, struct dgen_err *err)
{
	const char *p = value, *end = value + len;
	size_t plen = strlen(param);

	*out = NULL;
	p = memchr(value, ';', len);
	if (!p)
		return 0;
	while (p < end) {
		const char *name, *vstart;
		size_t nlen, vlen;
		char *v;

		/* at ';' or blanks before it */
		while (p < end && is_ws(*p))
			p++;
		if (p == end)
			break;
		if (*p != ';')
			return param_error(err, "expected ';' between parameters");
		p++;
		while (p < end && is_ws(*p))
			p++;
		if (p == end || *p == ';')
			continue; /* empty parameter: tolerated */
		name = p;
		while (p < end && is_tchar((unsigned char)*p) && *p != '=')
			p++;
		nlen = (size_t)(p - name);
		if (nlen == 0)
			return param_error(err, "parameter name expected");
		while (p < end && is_ws(*p))
			p++;
		if (p == end || *p != '=')
			return param_error(err, "parameter without '='");
		p++;
		while (p < end && is_ws(*p))
			p++;
		if (p < end && *p == '"') {
			size_t o = 0;

			p++;
			vstart = p;
			v = arena_alloc(a, (size_t)(end - p) + 1);
			for (;;) {
				if (p == end)
					return param_error(err, "unterminated quoted string");
				if (*p == '"')
					break;
				if (*p == '\\') {
					if (p + 1 == end)
						return param_error(err, "unterminated quoted string");
					p++;
				}
				v[o++] = *p++;
			}
			p++; /* closing quote */
			v[o] = '\0';
			vlen = o;
		} else {
			vstart = p;
			while (p < end && *p != ';' && !is_ws(*p)) {
				if (!is_tchar((unsigned char)*p))
					return param_error(err, "invalid character in parameter value");
				p++;
			}
			vlen = (size_t)(p - vstart);
			if (vlen == 0)
				return param_error(err, "parameter value expected");
			v = arena_strndup(a, vstart, vlen);
		}
		if (nlen == plen && strncasecmp(name, param, plen) == 0) {
			if (*out) {
				dgen_err_set(err, DGEN_EBADREQ, "Header parameter '%s' appears twice",
					     param);
				dgen_err_detail_str(err, "parameter", param);
				return -1;
			}
			if (memchr(v, '\0', vlen) || !dgen_utf8_valid(v, vlen)) {
				dgen_err_set(err, DGEN_EBADREQ,
					     "Header parameter '%s' must be UTF-8 text", param);
				dgen_err_detail_str(err, "parameter", param);
				return -1;
			}
			*out = v;
		}
	}
	return 0;
}

/* The leading token of a header value (media type or disposition type),
 * trimmed: [*s, *s + *n). */
static void leading_token(const char *value, size_t len, const char **s, size_t *n)
{
	const char *p = value, *end = value + len, *e;

	while (p < end && is_ws(*p))
		p++;
	e = p;
	while (e < end && *e != ';')
		e++;
	while (e > p && is_ws(e[-1]))
		e--;
	*s = p;
	*n = (size_t)(e - p);
}

/* The boundary is checked against RFC 2046 here, so that the parser can
 * trust it when it builds the delimiter. */
int multipart_boundary(const char *content_type, struct arena *a, const char **boundary,
		       struct dgen_err *err)
{
	const char *t, *b;
	size_t tn, bn;

	*boundary = NULL;
	if (!content_type) {
		dgen_err_set(err, DGEN_EMEDIA, "Content-Type must be multipart/form-data");
		dgen_err_detail_str(err, "expected", "multipart/form-data");
		return -1;
	}
	leading_token(content_type, strlen(content_type), &t, &tn);
	if (tn != 19 || strncasecmp(t, "multipart/form-data", 19) != 0) {
		dgen_err_set(err, DGEN_EMEDIA, "Content-Type must be multipart/form-data");
		dgen_err_detail_str(err, "expected", "multipart/form-data");
		dgen_err_detail_str(err, "content_type", content_type);
		return -1;
	}
	if (multipart_header_param(content_type, strlen(content_type), "boundary", a, &b, err) != 0)
		return -1;
	if (!b) {
		dgen_err_set(err, DGEN_EBADREQ, "Content-Type multipart/form-data has no boundary");
		return -1;
	}
	bn = strlen(b);
	if (bn == 0 || bn > MAX_BOUNDARY || b[bn - 1] == ' ') {
		dgen_err_set(err, DGEN_EBADREQ,
			     "Multipart boundary must be 1 to 70 characters, not ending in a space");
		dgen_err_detail_int(err, "limit", MAX_BOUNDARY);
		return -1;
	}
	for (size_t i = 0; i < bn; i++)
		if (!is_bchar((unsigned char)b[i])) {
			dgen_err_set(err, DGEN_EBADREQ,
				     "Multipart boundary has a character RFC 2046 does not allow");
			return -1;
		}
	*boundary = b;
	return 0;
}

static int part_error(struct dgen_err *err, size_t index, const char *msg)
{
	dgen_err_set(err, DGEN_EBADREQ, "Malformed multipart body: %s", msg);
	dgen_err_detail_int(err, "part", (long long)index);
	return -1;
}

/* Parses one part's header block [h, h + n) (lines separated by CRLF, no
 * final blank line): Content-Disposition is required and must be form-data
 * with a name; Content-Type is kept; other headers are counted and
 * ignored. */
static int parse_part_headers(const char *h, size_t n, size_t index,
			      const struct multipart_limits *lim, struct arena *a,
			      struct multipart_part *part, struct dgen_err *err)
{
	const char *p = h, *end = h + n;
	size_t count = 0;
	bool have_cd = false;

	if (memchr(h, '\0', n))
		return part_error(err, index, "NUL byte in part headers");
	while (p < end) {
		const char *eol = end, *colon, *v, *ve;
		size_t nl;

		for (const char *q = p; q + 1 < end; q++)
			if (q[0] == '\r' && q[1] == '\n') {
				eol = q;
				break;
			}
		if (++count > lim->max_headers) {
			part_error(err, index, "too many part headers");
			dgen_err_detail_int(err, "limit", (long long)lim->max_headers);
			return -1;
		}
		if (is_ws(*p))
			return part_error(err, index, "folded part header lines are not allowed");
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return part_error(err, index, "part header line without a name");
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return part_error(err, index, "invalid character in a part header name");
		for (const char *q = colon + 1; q < eol; q++)
			if (*q == '\r' || *q == '\n')
				return part_error(err, index, "bare CR or LF in a part header");
		nl = (size_t)(colon - p);
		v = colon + 1;
		while (v < eol && is_ws(*v))
			v++;
		ve = eol;
		while (ve > v && is_ws(ve[-1]))
			ve--;
		if (nl == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
			const char *t;
			size_t tn;

			if (have_cd)
				return part_error(err, index, "Content-Disposition appears twice");
			have_cd = true;
			leading_token(v, (size_t)(ve - v), &t, &tn);
			if (tn != 9 || strncasecmp(t, "form-data", 9) != 0)
				return part_error(err, index,
						  "Content-Disposition must be form-data");
			if (multipart_header_param(v, (size_t)(ve - v), "name", a, &part->name,
						   err) != 0 ||
			    multipart_header_param(v, (size_t)(ve - v), "filename", a,
						   &part->filename, err) != 0) {
				dgen_err_detail_int(err, "part", (long long)index);
				return -1;
			}
			if (!part->name || !*part->name)
				return part_error(err, index,
						  "Content-Disposition has no field name");
		} else if (nl == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
			if (part->content_type)
				return part_error(err, index, "Content-Type appears twice");
			if (!dgen_utf8_valid(v, (size_t)(ve - v)))
				return part_error(err, index, "part Content-Type is not UTF-8");
			part->content_type = arena_strndup(a, v, (size_t)(ve - v));
		}
		p = eol == end ? end : eol + 2;
	}
	if (!have_cd)
		return part_error(err, index, "part has no Content-Disposition header");
	return 0;
}

/* Finds the CRLF CRLF ending a header block that starts at p, looking no
 * further than max bytes; NULL when absent. An empty block is p itself
 * starting with CRLF. */
static const char *header_end(const char *p, const char *end, size_t max)
{
	const char *lim = (size_t)(end - p) > max + 4 ? p + max + 4 : end;

	if (lim - p >= 2 && p[0] == '\r' && p[1] == '\n')
		return p; /* no headers */
	for (const char *q = p; q + 3 < lim; q++)
		if (q[0] == '\r' && q[1] == '\n' && q[2] == '\r' && q[3] == '\n')
			return q;
	return NULL;
}

/* Parts point into body (no copies); headers are bounded by the limits
 * before they are read, so a hostile body costs at most its own size. */
int multipart_parse(const char *body, size_t len, const char *boundary,
		    const struct multipart_limits *lim, struct arena *a,
		    struct multipart_part **parts, size_t *n_parts, struct dgen_err *err)
{
	size_t blen = strlen(boundary), dlen = blen + 4, n = 0;
	char *delim = arena_alloc(a, dlen + 1);
	const char *p, *end = body + len;
	struct multipart_part *out;

	*parts = NULL;
	*n_parts = 0;
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen + 1);
	out = arena_calloc(a, lim->max_parts ? lim->max_parts : 1, sizeof(*out));

	/* The first boundary may open the body (no preamble) or follow a
	 * preamble and its CRLF. */
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
		p = body + dlen - 2;
	} else {
		const char *q = memmem(body, len, delim, dlen);

		if (!q)
			return part_error(err, 0, "the boundary of the Content-Type never appears");
		p = q + dlen;
	}
	for (;;) {
		const char *hend, *data, *next;
		struct multipart_part *part;

		/* just after a boundary: "--" closes, else padding and CRLF */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && is_ws(*p))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			if (p == end)
				return part_error(err, n, "body ends without the closing boundary");
			return part_error(err, n, "boundary line must end with CRLF");
		}
		p += 2;
		if (n == lim->max_parts) {
			part_error(err, n, "too many parts");
			dgen_err_detail_int(err, "limit", (long long)lim->max_parts);
			return -1;
		}
		hend = header_end(p, end, lim->max_header_bytes);
		if (!hend) {
			if ((size_t)(end - p) > lim->max_header_bytes + 4) {
				part_error(err, n, "part headers are too large");
				dgen_err_detail_int(err, "limit", (long long)lim->max_header_bytes);
				return -1;
			}
			return part_error(err, n, "part headers are not terminated by a blank line");
		}
		part = &out[n];
		if (parse_part_headers(p, (size_t)(hend - p), n, lim, a, part, err) != 0)
			return -1;
		data = hend + (hend == p ? 2 : 4);
		/* The delimiter includes the CRLF before it: that CRLF belongs to
		 * the boundary, not to the data. */
		next = memmem(data, (size_t)(end - data), delim, dlen);
		if (!next)
			return part_error(err, n, "body ends without the closing boundary");
		part->data = data;
		part->len = (size_t)(next - data);
		n++;
		p = next + dlen;
	}
	*parts = out;
	*n_parts = n;
	return 0;
}

const struct multipart_part *multipart_find(const struct multipart_part *parts, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}

size_t multipart_count(const struct multipart_part *parts, size_t n, const char *name)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(parts[i].name, name) == 0)
			c++;
	return c;
}
