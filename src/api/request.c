/*
 * request.c - turning FastCGI/CGI parameters and a body into struct req,
 * validating everything on the way in (see request.h).
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dgen/clock.h"
#include "dgen/request.h"
#include "dgen/utf8.h"
#include "dgen/util.h"

#define BODY_KEEP (64 * 1024) /* body memory kept between requests */
#define READ_CHUNK 65536

void request_init(struct req *r)
{
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	dgen_buf_init(&r->body);
}

/* The body length the client announced: the parsed CONTENT_LENGTH, or
 * the raw parameter when parsing stopped before it (a bad path ...). */
static long long announced_length(const struct req *r)
{
	const char *cl;
	long long n;

	if (r->content_length >= 0)
		return r->content_length;
	if (!r->io)
		return 0;
	cl = r->io->getparam(r->io->ctx, "CONTENT_LENGTH");
	if (!cl || !*cl || strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 18 ||
	    dgen_parse_long(cl, 0, LLONG_MAX, &n) != 0)
		return 0;
	return n;
}

/*
 * Plain CGI: reads and drops what is left of the body. Apache's mod_cgid
 * writes the body into the program's stdin, a socket that is also its
 * stdout; a program that exits with body bytes unread resets that socket
 * and Apache loses the response (an empty reply, or a chunked body cut
 * short). Bounded by REQ_DRAIN_MAX bytes and REQ_DRAIN_SECONDS: a client
 * that trickles its body does not keep the process for longer.
 */
static void drain_cgi_body(struct req *r)
{
	long long left = announced_length(r) - (long long)r->body.len;
	double deadline = dgen_clock_mono() + REQ_DRAIN_SECONDS;
	char buf[READ_CHUNK];

	if (left > REQ_DRAIN_MAX)
		left = REQ_DRAIN_MAX;
	while (left > 0) {
		int ms = (int)((deadline - dgen_clock_mono()) * 1000.0);
		long n;

		if (ms <= 0 || (r->io->wait && r->io->wait(r->io->ctx, ms) <= 0))
			break;
		n = r->io->read(r->io->ctx, buf, left < READ_CHUNK ? (size_t)left : READ_CHUNK);
		if (n <= 0)
			break;
		left -= n;
	}
}

/* Everything but the transport flavour (is_cgi) is forgotten. */
void request_reset(struct req *r)
{
	bool cgi = r->is_cgi;
	struct arena a = r->arena;
	struct dgen_buf body;

	if (cgi && r->io)
		drain_cgi_body(r);
	body = r->body;
	arena_reset(&a);
	dgen_buf_reset_keep(&body, BODY_KEEP);
	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->body = body;
	r->is_cgi = cgi;
	r->content_length = -1;
}

void request_free(struct req *r)
{
	arena_free(&r->arena);
	dgen_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
}

/* Decodes %XX escapes (and '+' as a space in query strings) into out,
 * which holds at least len bytes; -1 on a truncated or non-hex escape, so
 * a malformed URL is a 400, never a guess. */
int request_percent_decode(const char *s, size_t len, bool plus_space, char *out,
			   size_t *out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = utf8_hex_digit((unsigned char)s[i + 1]);
			lo = utf8_hex_digit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			out[o++] = ' ';
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	*out_len = o;
	return 0;
}

/* Decoded text must be UTF-8 without NUL bytes: everything downstream
 * (sqlite, JSON, logs) treats it as a C string. */
static bool text_ok(const char *s, size_t len)
{
	return memchr(s, '\0', len) == NULL && dgen_utf8_valid(s, len);
}

/* Decodes one query piece into the arena; what names the piece in errors. */
static int decode_piece(struct req *r, const char *s, size_t len, const char *what,
			const char *key, char **out, struct dgen_err *err)
{
	char *p = arena_alloc(&r->arena, len + 1);
	size_t n;

	if (request_percent_decode(s, len, true, p, &n) != 0) {
		dgen_err_set(err, DGEN_EBADREQ, "Query %s is not valid percent-encoding", what);
		goto bad;
	}
	if (!text_ok(p, n)) {
		dgen_err_set(err, DGEN_EBADREQ,
			     "Query %s must be UTF-8 text without NUL bytes", what);
		goto bad;
	}
	*out = p;
	return 0;
bad:
	if (key)
		dgen_err_detail_str(err, "parameter", key);
	return -1;
}

/* Splits the query string into decoded key/value pairs carved from the
 * request's arena: bounded in length and in count, each key and value
 * checked as UTF-8 without NUL, so handlers read only clean text. */
int request_parse_query(struct req *r, const char *qs, size_t len, struct dgen_err *err)
{
	size_t cap = 0;

	r->params = NULL;
	r->n_params = 0;
	if (len > REQ_MAX_QUERY) {
		dgen_err_set(err, DGEN_EBADREQ, "Query string is too long");
		dgen_err_detail_int(err, "limit", REQ_MAX_QUERY);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (qs[i] == '&')
			cap++;
	cap++;
	if (cap > REQ_MAX_PARAMS)
		cap = REQ_MAX_PARAMS;
	r->params = arena_calloc(&r->arena, cap, sizeof(*r->params));

	const char *p = qs, *end = qs + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		char *key, *val;

		if (stop == p) {
			p = stop + 1;
			continue;
		}
		if (r->n_params == REQ_MAX_PARAMS) {
			dgen_err_set(err, DGEN_EBADREQ, "Too many query parameters");
			dgen_err_detail_int(err, "limit", REQ_MAX_PARAMS);
			return -1;
		}
		if (decode_piece(r, p, (size_t)((eq ? eq : stop) - p), "parameter name", NULL,
				 &key, err) != 0)
			return -1;
		if (eq) {
			if (decode_piece(r, eq + 1, (size_t)(stop - eq - 1), "parameter value", key,
					 &val, err) != 0)
				return -1;
		} else {
			val = arena_strdup(&r->arena, "");
		}
		r->params[r->n_params].key = key;
		r->params[r->n_params].val = val;
		r->n_params++;
		p = stop + 1;
	}
	return 0;
}

const char *request_param(const struct req *r, const char *key)
{
	for (size_t i = r->n_params; i-- > 0;)
		if (strcmp(r->params[i].key, key) == 0)
			return r->params[i].val;
	return NULL;
}

/* Reads an integer parameter strictly (digits only, an optional minus,
 * within [min, max]); absent gives def. A bad value is a 400 that names the
 * parameter and its bounds. */
int request_param_int(const struct req *r, const char *key, long long min, long long max,
		      long long def, long long *out, struct dgen_err *err)
{
	const char *v = request_param(r, key);
	const char *p;
	long long n;

	*out = def;
	if (!v)
		return 0;
	p = v;
	if (*p == '-')
		p++;
	if (*p == '\0' || strlen(p) > 19)
		goto bad;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			goto bad;
	if (dgen_parse_long(v, min, max, &n) != 0)
		goto bad;
	*out = n;
	return 0;
bad:
	if (max == LLONG_MAX)
		dgen_err_set(err, DGEN_EBADREQ,
			     "Query parameter '%s' must be an integer of at least %lld", key, min);
	else
		dgen_err_set(err, DGEN_EBADREQ,
			     "Query parameter '%s' must be an integer from %lld to %lld", key, min,
			     max);
	dgen_err_detail_str(err, "parameter", key);
	dgen_err_detail_str(err, "value", v);
	dgen_err_detail_int(err, "min", min);
	if (max != LLONG_MAX)
		dgen_err_detail_int(err, "max", max);
	return -1;
}

/* The media type part of a Content-Type value, without parameters and
 * surrounding blanks: [*start, *start + *len). */
static void media_type(const char *ct, const char **start, size_t *len)
{
	const char *s = ct, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s;
	while (*e && *e != ';')
		e++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*start = s;
	*len = (size_t)(e - s);
}

bool request_content_type_is(const struct req *r, const char *mime)
{
	const char *s;
	size_t n;

	if (!r->content_type)
		return false;
	media_type(r->content_type, &s, &n);
	return n == strlen(mime) && strncasecmp(s, mime, n) == 0;
}

/* A header value we keep: bounded, UTF-8 (the server hands us a C string,
 * so NUL cannot appear). */
static int header_value(struct req *r, const char *name, const char *label, const char **out,
			struct dgen_err *err)
{
	const char *v = r->io->getparam(r->io->ctx, name);
	size_t n;

	*out = NULL;
	if (!v)
		return 0;
	n = strlen(v);
	if (n > REQ_MAX_HEADER) {
		dgen_err_set(err, DGEN_EBADREQ, "Header %s is too long", label);
		dgen_err_detail_str(err, "header", label);
		dgen_err_detail_int(err, "limit", REQ_MAX_HEADER);
		return -1;
	}
	if (!dgen_utf8_valid(v, n)) {
		dgen_err_set(err, DGEN_EBADREQ, "Header %s must be UTF-8 text", label);
		dgen_err_detail_str(err, "header", label);
		return -1;
	}
	*out = arena_strndup(&r->arena, v, n);
	return 0;
}

const char *request_env(const struct req *r, const char *name)
{
	const char *v = r->io ? r->io->getparam(r->io->ctx, name) : NULL;

	return v && *v ? v : NULL;
}

/* True when p (length n) is "/api" or starts with "/api/". */
static bool is_api_path(const char *p, size_t n)
{
	return n >= 4 && memcmp(p, "/api", 4) == 0 && (n == 4 || p[4] == '/');
}

/* Chooses the request path. nginx passes REQUEST_URI (raw, to decode);
 * a CGI server passes SCRIPT_NAME + PATH_INFO (already decoded). The API
 * lives under /api, so the first candidate that names it wins; a request
 * for anything else gets the first candidate there is (and a 404). */
static int parse_path(struct req *r, const char **qs, size_t *qs_len, struct dgen_err *err)
{
	const struct req_io *io = r->io;
	const char *uri = io->getparam(io->ctx, "REQUEST_URI");
	const char *script = io->getparam(io->ctx, "SCRIPT_NAME");
	const char *pinfo = io->getparam(io->ctx, "PATH_INFO");
	const char *query = io->getparam(io->ctx, "QUERY_STRING");
	char *from_uri = NULL, *joined, *chosen = NULL;
	size_t n = 0;

	*qs = query;
	*qs_len = query ? strlen(query) : 0;
	if (uri && *uri) {
		const char *q = strchr(uri, '?');
		size_t raw = q ? (size_t)(q - uri) : strlen(uri);

		if (raw > REQ_MAX_PATH * 3)
			goto too_long;
		from_uri = arena_alloc(&r->arena, raw + 1);
		if (request_percent_decode(uri, raw, false, from_uri, &n) != 0) {
			dgen_err_set(err, DGEN_EBADREQ, "Request path is not valid percent-encoding");
			return -1;
		}
		if (!text_ok(from_uri, n))
			goto bad_text;
		if (!query && q) {
			*qs = q + 1;
			*qs_len = strlen(q + 1);
		}
		if (is_api_path(from_uri, n))
			chosen = from_uri;
	}
	if (!chosen && pinfo && *pinfo) {
		if (script && *script) {
			size_t ls = strlen(script), lp = strlen(pinfo);

			if (ls + lp > REQ_MAX_PATH)
				goto too_long;
			joined = arena_alloc(&r->arena, ls + lp + 1);
			memcpy(joined, script, ls);
			memcpy(joined + ls, pinfo, lp + 1);
			if (is_api_path(joined, ls + lp))
				chosen = joined;
		}
		if (!chosen && is_api_path(pinfo, strlen(pinfo)))
			chosen = arena_strdup(&r->arena, pinfo);
	}
	if (!chosen)
		chosen = from_uri ? from_uri
			: (pinfo && *pinfo) ? arena_strdup(&r->arena, pinfo)
			: arena_strdup(&r->arena, "/");
	n = strlen(chosen);
	if (n > REQ_MAX_PATH)
		goto too_long;
	if (!dgen_utf8_valid(chosen, n))
		goto bad_text;
	if (chosen[0] != '/') {
		dgen_err_set(err, DGEN_EBADREQ, "Request path must start with '/'");
		return -1;
	}
	r->path = chosen;
	return 0;
too_long:
	dgen_err_set(err, DGEN_EBADREQ, "Request path is too long");
	dgen_err_detail_int(err, "limit", REQ_MAX_PATH);
	return -1;
bad_text:
	dgen_err_set(err, DGEN_EBADREQ, "Request path must be UTF-8 text without NUL bytes");
	return -1;
}

/* Builds the request from the CGI/FastCGI parameters: method, path,
 * query, content type and length, each validated at the edge, so
 * everything past this point can trust the typed fields. */
int request_parse(struct req *r, const struct req_io *io, struct dgen_err *err)
{
	const char *m, *cl, *qs;
	size_t qs_len;

	r->io = io;
	m = io->getparam(io->ctx, "REQUEST_METHOD");
	if (!m || !*m || strlen(m) > 16) {
		dgen_err_set(err, DGEN_EBADREQ, "Request has no valid method");
		return -1;
	}
	for (const char *p = m; *p; p++)
		if (!isupper((unsigned char)*p)) {
			dgen_err_set(err, DGEN_EBADREQ, "Request has no valid method");
			return -1;
		}
	r->method = arena_strdup(&r->arena, m);
	if (parse_path(r, &qs, &qs_len, err) != 0)
		return -1;
	if (request_parse_query(r, qs ? qs : "", qs ? qs_len : 0, err) != 0)
		return -1;
	if (header_value(r, "CONTENT_TYPE", "Content-Type", &r->content_type, err) != 0)
		return -1;
	if (r->content_type && !*r->content_type)
		r->content_type = NULL;
	if (header_value(r, "HTTP_IDEMPOTENCY_KEY", "Idempotency-Key", &r->idempotency_key,
			 err) != 0)
		return -1;
	if (r->idempotency_key && !*r->idempotency_key)
		r->idempotency_key = NULL;
	r->content_length = -1;
	cl = io->getparam(io->ctx, "CONTENT_LENGTH");
	if (cl && *cl) {
		long long n;
		bool digits = strlen(cl) <= 18;

		for (const char *p = cl; *p && digits; p++)
			digits = isdigit((unsigned char)*p);
		if (!digits || dgen_parse_long(cl, 0, LLONG_MAX, &n) != 0) {
			dgen_err_set(err, DGEN_EBADREQ, "Content-Length is not a valid length");
			return -1;
		}
		r->content_length = n;
	}
	return 0;
}

static int too_big(struct dgen_err *err, size_t limit)
{
	dgen_err_set(err, DGEN_ETOOBIG, "Request body is larger than the limit of %zu bytes",
		     limit);
	dgen_err_detail_int(err, "limit", (long long)limit);
	return -1;
}

/* Reads the body up to limit bytes: by Content-Length when there is one,
 * else to the end of the stream (FastCGI; a CGI request without a length
 * has no body). A declared length over the limit is a 413 before anything
 * is read. */
int request_read_body(struct req *r, size_t limit, struct dgen_err *err)
{
	size_t want, got = 0;
	long n;

	if (r->body_read)
		return 0;
	if (r->content_length >= 0) {
		if ((unsigned long long)r->content_length > limit)
			return too_big(err, limit);
		want = (size_t)r->content_length;
	} else if (r->is_cgi) {
		want = 0;
	} else {
		want = limit + 1;
	}
	dgen_buf_reset(&r->body);
	while (got < want) {
		size_t chunk = want - got < READ_CHUNK ? want - got : READ_CHUNK;

		dgen_buf_reserve(&r->body, chunk);
		n = r->io->read(r->io->ctx, r->body.data + r->body.len, chunk);
		if (n < 0) {
			dgen_err_set(err, DGEN_EBADREQ, "Request body could not be read");
			return -1;
		}
		if (n == 0)
			break;
		r->body.len += (size_t)n;
		r->body.data[r->body.len] = '\0';
		got += (size_t)n;
	}
	if (got > limit)
		return too_big(err, limit);
	if (r->content_length >= 0 && got < want) {
		dgen_err_set(err, DGEN_EBADREQ,
			     "Request body ended after %zu of the %lld bytes announced", got,
			     r->content_length);
		return -1;
	}
	r->body_read = true;
	return 0;
}

/* A charset parameter other than UTF-8 on a JSON body is refused: the
 * whole API speaks UTF-8. */
static bool charset_ok(const char *ct)
{
	const char *p = strchr(ct, ';');

	while (p) {
		const char *s = p + 1, *e;

		while (*s == ' ' || *s == '\t')
			s++;
		e = strchr(s, ';');
		if (!e)
			e = s + strlen(s);
		if (strncasecmp(s, "charset=", 8) == 0) {
			const char *v = s + 8;
			size_t n = (size_t)(e - v);

			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v++;
				n -= 2;
			}
			if (!((n == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
			      (n == 4 && strncasecmp(v, "utf8", 4) == 0)))
				return false;
		}
		p = *e ? e : NULL;
	}
	return true;
}

static int wrong_media(struct req *r, struct dgen_err *err)
{
	dgen_err_set(err, DGEN_EMEDIA, "Content-Type must be application/json (UTF-8)");
	dgen_err_detail_str(err, "expected", "application/json");
	if (r->content_type)
		dgen_err_detail_str(err, "content_type", r->content_type);
	return -1;
}

int request_json_body(struct req *r, const struct dgen_json_limits *lim, bool allow_empty,
		      struct json_object **out, struct dgen_err *err)
{
	*out = NULL;
	if (r->content_type &&
	    (!request_content_type_is(r, "application/json") || !charset_ok(r->content_type)))
		return wrong_media(r, err);
	if (request_read_body(r, lim->max_bytes, err) != 0)
		return -1;
	if (r->body.len == 0) {
		if (allow_empty) {
			*out = json_object_new_object();
			return 0;
		}
		dgen_err_set(err, DGEN_EBADREQ, "Request body is required: send a JSON object");
		return -1;
	}
	if (!r->content_type)
		return wrong_media(r, err);
	/* dgen_json_parse also refuses an escaped NUL (\u0000) */
	return dgen_json_parse(r->body.data, r->body.len, lim, out, err);
}

static const char *mem_getparam(void *ctx, const char *name)
{
	const struct req_mem *m = ctx;

	for (const char *const *p = m->params; p && p[0]; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

static long mem_read(void *ctx, char *buf, size_t n)
{
	struct req_mem *m = ctx;
	size_t left = m->body_len - m->pos;

	if (n > left)
		n = left;
	if (m->max_read && n > m->max_read)
		n = m->max_read;
	if (n)
		memcpy(buf, m->body + m->pos, n);
	m->pos += n;
	return (long)n;
}

static int mem_write(void *ctx, const char *buf, size_t n)
{
	dgen_buf_append(&((struct req_mem *)ctx)->out, buf, n);
	return 0;
}

static int mem_flush(void *ctx)
{
	((struct req_mem *)ctx)->flushes++;
	return 0;
}

void request_mem_io(struct req_mem *m, struct req_io *io)
{
	io->ctx = m;
	io->getparam = mem_getparam;
	io->read = mem_read;
	io->write = mem_write;
	io->flush = mem_flush;
	io->wait = NULL;
}
