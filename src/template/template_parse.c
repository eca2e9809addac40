/*
 * template_parse.c - compiles Jinja2-subset template text into an AST.
 *
 * Two passes: the lexer cuts the text into data and tag tokens (applying
 * whitespace control and newline normalisation the way Jinja2 does), then
 * a recursive-descent parser with Jinja2's operator precedence builds
 * immutable statement and expression nodes in the template's arena.
 * Filter, test and function names and their keyword arguments are
 * resolved here, so a misspelt filter is a compile error with a line.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/template.h"
#include "dgen/util.h"
#include "dgen/utf8.h"
#include "template_builtins.h"
#include "template_int.h"

/* Parser recursion (parentheses, `not`, unary signs, blocks): each level
 * costs a dozen C frames, so this stays well under TPL_MAX_DEPTH. */
#define TPL_MAX_NEST 100

/* ---- lexer ---- */

enum tt {
	TT_EOF, TT_TEXT, TT_VBEGIN, TT_VEND, TT_BBEGIN, TT_BEND,
	TT_NAME, TT_STR, TT_INT, TT_FLOAT, TT_OP,
};

struct tok {
	int type;
	int line;
	const char *p; /* source text; TT_STR: decoded, NUL-terminated */
	size_t n;
	long long i;
	double d;
};

struct ps {
	struct tok *toks;
	size_t ntoks, cap, pos;
	struct dgen_template *t;
	struct dgen_err *err;
	int nest;
	int line; /* lexer position */
};

static int syntax_error(struct ps *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int syntax_error(struct ps *ps, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tpl_verror(ps->err, DGEN_EINVALID, "syntax error", line, fmt, ap);
	va_end(ap);
	return -1;
}

static void *palloc(struct ps *ps, size_t n)
{
	return arena_calloc(&ps->t->mem, 1, n);
}

static char *pstrdup(struct ps *ps, const char *s, size_t n)
{
	char *p = palloc(ps, n + 1);

	memcpy(p, s, n);
	return p;
}

static struct tok *push_tok(struct ps *ps, int type, int line, const char *p, size_t n)
{
	struct tok *t;

	if (ps->ntoks == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 64;
		ps->toks = dgen_xrealloc(ps->toks, ps->cap * sizeof *ps->toks);
	}
	t = &ps->toks[ps->ntoks++];
	memset(t, 0, sizeof *t);
	t->type = type;
	t->line = line;
	t->p = p;
	t->n = n;
	return t;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
	       (c >= 0x1c && c <= 0x1f);
}

static int count_lines(const char *p, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* A string literal with Python's escapes, decoded into the arena. */
static int lex_string(struct ps *ps, const char *s, size_t len, size_t *pos)
{
	char q = s[*pos];
	size_t i = *pos + 1, start = i;
	int line = ps->line;
	struct dgen_buf b = DGEN_BUF_INIT;
	struct tok *t;
	int rc = -1;

	while (i < len && s[i] != q) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		i++;
	}
	if (i >= len)
		return syntax_error(ps, line, "unterminated string literal");
	dgen_buf_reserve(&b, i - start + 1);
	for (size_t k = start; k < i; k++) {
		char c = s[k];

		if (c != '\\') {
			dgen_buf_putc(&b, c);
			continue;
		}
		c = s[++k];
		switch (c) {
		case '\n': break;
		case '\\': dgen_buf_putc(&b, '\\'); break;
		case '\'': dgen_buf_putc(&b, '\''); break;
		case '"': dgen_buf_putc(&b, '"'); break;
		case 'a': dgen_buf_putc(&b, '\a'); break;
		case 'b': dgen_buf_putc(&b, '\b'); break;
		case 'f': dgen_buf_putc(&b, '\f'); break;
		case 'n': dgen_buf_putc(&b, '\n'); break;
		case 'r': dgen_buf_putc(&b, '\r'); break;
		case 't': dgen_buf_putc(&b, '\t'); break;
		case 'v': dgen_buf_putc(&b, '\v'); break;
		case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
			unsigned v = 0;
			int d = 0;

			while (d < 3 && k < i && s[k] >= '0' && s[k] <= '7') {
				v = v * 8 + (unsigned)(s[k] - '0');
				k++;
				d++;
			}
			k--;
			dgen_buf_put_utf8(&b, v);
			break;
		}
		case 'x': case 'u': case 'U': {
			int want = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			unsigned v = 0;

			for (int d = 0; d < want; d++) {
				int h = k + 1 < i ? utf8_hex_digit(s[k + 1]) : -1;

				if (h < 0) {
					syntax_error(ps, line, "truncated \\%c escape in string literal", c);
					goto out;
				}
				v = v * 16 + (unsigned)h;
				k++;
			}
			if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
				syntax_error(ps, line, "invalid code point U+%04X in string literal", v);
				goto out;
			}
			dgen_buf_put_utf8(&b, v);
			break;
		}
		default:
			dgen_buf_putc(&b, '\\');
			dgen_buf_putc(&b, c);
		}
	}
	t = push_tok(ps, TT_STR, line, pstrdup(ps, b.data ? b.data : "", b.len), b.len);
	(void)t;
	ps->line += count_lines(s + *pos, i + 1 - *pos);
	*pos = i + 1;
	rc = 0;
out:
	dgen_buf_free(&b);
	return rc;
}

/* Integer or float literal: decimal with `_` separators, 0x/0o/0b ints. */
static int lex_number(struct ps *ps, const char *s, size_t len, size_t *pos)
{
	size_t i = *pos, start = i;
	char digits[128];
	size_t nd = 0;
	bool is_float = false;
	struct tok *t;

	if (s[i] == '0' && i + 1 < len && strchr("xXoObB", s[i + 1]) && s[i + 1] != '\0') {
		char kind = (char)(s[i + 1] | 0x20);
		int base = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
		unsigned long long v = 0;
		bool any = false;

		i += 2;
		while (i < len) {
			int h = s[i] == '_' ? -2 : utf8_hex_digit(s[i]);

			if (h == -2) {
				i++;
				continue;
			}
			if (h < 0 || h >= base)
				break;
			if (v > (unsigned long long)(LLONG_MAX - h) / (unsigned)base)
				return syntax_error(ps, ps->line, "integer literal too large");
			v = v * (unsigned)base + (unsigned)h;
			any = true;
			i++;
		}
		if (!any)
			return syntax_error(ps, ps->line, "invalid integer literal");
		t = push_tok(ps, TT_INT, ps->line, s + start, i - start);
		t->i = (long long)v;
		*pos = i;
		return 0;
	}
	while (i < len && ((s[i] >= '0' && s[i] <= '9') ||
			   (s[i] == '_' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')))
		i++;
	if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
		is_float = true;
		i++;
		while (i < len && ((s[i] >= '0' && s[i] <= '9') ||
				   (s[i] == '_' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t k = i + 1;

		if (k < len && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k < len && s[k] >= '0' && s[k] <= '9') {
			is_float = true;
			i = k;
			while (i < len && ((s[i] >= '0' && s[i] <= '9') ||
					   (s[i] == '_' && i + 1 < len && s[i + 1] >= '0' &&
					    s[i + 1] <= '9')))
				i++;
		}
	}
	for (size_t k = start; k < i; k++) {
		if (s[k] == '_')
			continue;
		if (nd + 1 >= sizeof digits)
			return syntax_error(ps, ps->line, "number literal too long");
		digits[nd++] = s[k];
	}
	digits[nd] = '\0';
	t = push_tok(ps, is_float ? TT_FLOAT : TT_INT, ps->line, s + start, i - start);
	if (is_float) {
		t->d = strtod(digits, NULL);
	} else {
		char *end;

		errno = 0;
		t->i = strtoll(digits, &end, 10);
		if (errno == ERANGE)
			return syntax_error(ps, ps->line, "integer literal too large");
	}
	*pos = i;
	return 0;
}

static const char *const ops3[] = { NULL };
static const char *const ops2[] = { "//", "**", "==", "!=", "<=", ">=", NULL };
static const char ops1[] = "+-*/%~<>=.,:|()[]{}";

/* Tokens of one tag up to its end marker ("}}" or "%}"); *strip_after is
 * set when the marker had a '-' (strip whitespace after the tag). */
static int lex_tag(struct ps *ps, const char *s, size_t len, size_t *pos, bool var,
		   bool *strip_after, int open_line)
{
	size_t i = *pos;
	char close = var ? '}' : '%';

	(void)ops3;
	for (;;) {
		while (i < len && is_space(s[i])) {
			if (s[i] == '\n')
				ps->line++;
			i++;
		}
		if (i >= len)
			return syntax_error(ps, open_line, "unexpected end of template, missing '%s'",
					    var ? "}}" : "%}");
		if ((s[i] == '-' || s[i] == '+') && i + 2 < len && s[i + 1] == close &&
		    s[i + 2] == '}') {
			*strip_after = s[i] == '-';
			push_tok(ps, var ? TT_VEND : TT_BEND, ps->line, s + i, 3);
			*pos = i + 3;
			return 0;
		}
		if (s[i] == close && i + 1 < len && s[i + 1] == '}') {
			*strip_after = false;
			push_tok(ps, var ? TT_VEND : TT_BEND, ps->line, s + i, 2);
			*pos = i + 2;
			return 0;
		}
		if (is_name_start(s[i])) {
			size_t st = i;

			while (i < len && is_name_char(s[i]))
				i++;
			push_tok(ps, TT_NAME, ps->line, s + st, i - st);
			continue;
		}
		if (s[i] >= '0' && s[i] <= '9') {
			if (lex_number(ps, s, len, &i) < 0)
				return -1;
			continue;
		}
		if (s[i] == '\'' || s[i] == '"') {
			if (lex_string(ps, s, len, &i) < 0)
				return -1;
			continue;
		}
		{
			bool found = false;

			for (int k = 0; ops2[k]; k++) {
				if (i + 1 < len && s[i] == ops2[k][0] && s[i + 1] == ops2[k][1]) {
					push_tok(ps, TT_OP, ps->line, s + i, 2);
					i += 2;
					found = true;
					break;
				}
			}
			if (found)
				continue;
		}
		if (strchr(ops1, s[i]) && s[i] != '\0') {
			push_tok(ps, TT_OP, ps->line, s + i, 1);
			i++;
			continue;
		}
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return syntax_error(ps, ps->line, "unexpected character in tag");
		return syntax_error(ps, ps->line, "unexpected character '%c'", s[i]);
	}
}

static void rstrip(const char *p, size_t *n)
{
	while (*n > 0 && is_space(p[*n - 1]))
		(*n)--;
}

/* Matches the rest of a tag from k: ws word ws [-+] "%}". Sets *after to
 * the offset past "%}" and *strip_after when the marker had a '-'. */
static bool match_tag(const char *s, size_t len, size_t k, const char *word, size_t *after,
		      bool *strip_after)
{
	size_t wn = strlen(word);

	while (k < len && is_space(s[k]))
		k++;
	if (len - k < wn || memcmp(s + k, word, wn) != 0 || (k + wn < len && is_name_char(s[k + wn])))
		return false;
	k += wn;
	while (k < len && is_space(s[k]))
		k++;
	*strip_after = k < len && s[k] == '-';
	if (k < len && (s[k] == '-' || s[k] == '+'))
		k++;
	if (k + 1 < len && s[k] == '%' && s[k + 1] == '}') {
		*after = k + 2;
		return true;
	}
	return false;
}

/* Finds the end of a raw block: "{%" [-+] ws "endraw" ws [-+] "%}".
 * Returns the offset of "{%" or len; *end gets the offset after "%}". */
static size_t find_endraw(const char *s, size_t len, size_t from, size_t *end, bool *strip_before,
			  bool *strip_after)
{
	for (size_t i = from; i + 1 < len; i++) {
		size_t k = i + 2;

		if (s[i] != '{' || s[i + 1] != '%')
			continue;
		*strip_before = k < len && s[k] == '-';
		if (k < len && (s[k] == '-' || s[k] == '+'))
			k++;
		if (match_tag(s, len, k, "endraw", end, strip_after))
			return i;
	}
	return len;
}

/* Is this "{% raw %}"? Sets *after to the offset after its "%}". */
static bool is_raw_tag(const char *s, size_t len, size_t k, size_t *after, bool *strip_after)
{
	return match_tag(s, len, k, "raw", after, strip_after);
}

/* Pushes text tp[0..tn) that starts on line tline, first stripping its
 * leading whitespace (lstrip, after a "-}") and trailing whitespace
 * (rstrip, before a "{-"). */
static void push_text(struct ps *ps, const char *tp, size_t tn, int tline, bool lstrip,
		      bool rstrip_)
{
	if (lstrip) {
		while (tn > 0 && is_space(*tp)) {
			if (*tp == '\n')
				tline++;
			tp++;
			tn--;
		}
	}
	if (rstrip_)
		rstrip(tp, &tn);
	if (tn)
		push_tok(ps, TT_TEXT, tline, tp, tn);
}

/* Skips a {# comment #} whose text starts at *pos. */
static int lex_comment(struct ps *ps, const char *s, size_t len, size_t *pos, bool *lstrip)
{
	size_t e = *pos;

	while (e + 1 < len && !(s[e] == '#' && s[e + 1] == '}'))
		e++;
	if (e + 1 >= len)
		return syntax_error(ps, ps->line, "missing end of comment tag '#}'");
	*lstrip = e > *pos && s[e - 1] == '-';
	ps->line += count_lines(s + *pos, e + 2 - *pos);
	*pos = e + 2;
	return 0;
}

/* The body of {% raw %}...{% endraw %} is text as it stands; *pos is just
 * inside the opening tag, after is past its "%}". */
static int lex_raw(struct ps *ps, const char *s, size_t len, size_t *pos, size_t after,
		   bool strip_open, bool *lstrip)
{
	size_t end, rs;
	bool strip_close_before;

	rs = find_endraw(s, len, after, &end, &strip_close_before, lstrip);
	if (rs == len)
		return syntax_error(ps, ps->line, "missing {%% endraw %%} for the raw block");
	push_text(ps, s + after, rs - after, ps->line + count_lines(s + *pos, after - *pos),
		  strip_open, strip_close_before);
	ps->line += count_lines(s + *pos, end - *pos);
	*pos = end;
	return 0;
}

/* Cuts the text into tokens: text between tags, and the tokens of each
 * {{ }} and {% %} tag; comments and raw blocks are handled here. A '-' at
 * a tag's edge strips the whitespace next to it, as in Jinja2. */
static int lex(struct ps *ps, const char *s, size_t len)
{
	size_t pos = 0;
	bool lstrip = false;

	ps->line = 1;
	while (pos < len) {
		size_t k = pos, after;
		int tline = ps->line;
		char kind = 0;
		bool sa;

		while (k + 1 < len) {
			if (s[k] == '{' && (s[k + 1] == '{' || s[k + 1] == '%' || s[k + 1] == '#')) {
				kind = s[k + 1];
				break;
			}
			k++;
		}
		if (!kind)
			k = len;
		ps->line += count_lines(s + pos, k - pos);
		push_text(ps, s + pos, k - pos, tline, lstrip, kind && k + 2 < len && s[k + 2] == '-');
		lstrip = false;
		if (!kind)
			break;
		pos = k + 2;
		if (pos < len && (s[pos] == '-' || s[pos] == '+'))
			pos++;
		if (kind == '#') {
			if (lex_comment(ps, s, len, &pos, &lstrip) < 0)
				return -1;
		} else if (kind == '%' && is_raw_tag(s, len, pos, &after, &sa)) {
			if (lex_raw(ps, s, len, &pos, after, sa, &lstrip) < 0)
				return -1;
		} else {
			push_tok(ps, kind == '%' ? TT_BBEGIN : TT_VBEGIN, ps->line, s + k, 2);
			if (lex_tag(ps, s, len, &pos, kind == '{', &lstrip, ps->line) < 0)
				return -1;
		}
	}
	push_tok(ps, TT_EOF, ps->line, s + len, 0);
	return 0;
}

/* ---- parser helpers ---- */

static struct tok *cur(struct ps *ps)
{
	return &ps->toks[ps->pos];
}

static struct tok *peek(struct ps *ps, size_t ahead)
{
	size_t i = ps->pos + ahead;

	return &ps->toks[i < ps->ntoks ? i : ps->ntoks - 1];
}

static bool tok_is(const struct tok *t, int type, const char *text)
{
	return t->type == type && (!text || (t->n == strlen(text) && memcmp(t->p, text, t->n) == 0));
}

static bool at_op(struct ps *ps, const char *op)
{
	return tok_is(cur(ps), TT_OP, op);
}

static bool at_name(struct ps *ps, const char *name)
{
	return tok_is(cur(ps), TT_NAME, name);
}

static const char *describe(const struct tok *t, char *buf, size_t size)
{
	switch (t->type) {
	case TT_EOF: return "end of template";
	case TT_TEXT: return "text";
	case TT_VEND: return "end of print statement";
	case TT_BEND: return "end of statement block";
	case TT_VBEGIN: return "'{{'";
	case TT_BBEGIN: return "'{%'";
	case TT_STR: return "string literal";
	default:
		snprintf(buf, size, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
		return buf;
	}
}

static int unexpected(struct ps *ps, const char *wanted)
{
	char b[64];
	struct tok *t = cur(ps);

	if (wanted)
		return syntax_error(ps, t->line, "expected %s, got %s", wanted,
				    describe(t, b, sizeof b));
	return syntax_error(ps, t->line, "unexpected %s", describe(t, b, sizeof b));
}

static int expect_op(struct ps *ps, const char *op)
{
	char w[16];

	if (at_op(ps, op)) {
		ps->pos++;
		return 0;
	}
	snprintf(w, sizeof w, "'%s'", op);
	return unexpected(ps, w);
}

static struct tpl_expr *mk(struct ps *ps, int kind, int line)
{
	struct tpl_expr *e = palloc(ps, sizeof *e);

	e->kind = (unsigned char)kind;
	e->line = line;
	return e;
}

/* Computes the node's depth from its children; refuses overly deep trees
 * (a long chain like a+a+a+... renders recursively). */
static struct tpl_expr *done(struct ps *ps, struct tpl_expr *e)
{
	int d = 0;

	if (e->a && e->a->depth > d)
		d = e->a->depth;
	if (e->b && e->b->depth > d)
		d = e->b->depth;
	if (e->c && e->c->depth > d)
		d = e->c->depth;
	for (int i = 0; i < e->nargs; i++)
		if (e->args[i] && e->args[i]->depth > d)
			d = e->args[i]->depth;
	e->depth = d + 1;
	if (e->depth > TPL_MAX_DEPTH) {
		syntax_error(ps, e->line, "expression nested too deeply (limit %d)", TPL_MAX_DEPTH);
		return NULL;
	}
	return e;
}

static int enter(struct ps *ps)
{
	if (++ps->nest > TPL_MAX_NEST)
		return syntax_error(ps, cur(ps)->line, "template nested too deeply (limit %d)",
				    TPL_MAX_NEST);
	return 0;
}

static struct tpl_expr *parse_expr(struct ps *ps);
static struct tpl_expr *parse_or(struct ps *ps);
static struct tpl_expr *parse_unary(struct ps *ps, bool with_filter);

/* Growable pointer array used while collecting items. */
struct plist {
	struct tpl_expr **v;
	int n, cap;
};

static void plist_push(struct plist *l, struct tpl_expr *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = dgen_xrealloc(l->v, (size_t)l->cap * sizeof *l->v);
	}
	l->v[l->n++] = e;
}

static struct tpl_expr **plist_copy(struct ps *ps, struct plist *l)
{
	struct tpl_expr **v = palloc(ps, (size_t)(l->n ? l->n : 1) * sizeof *v);

	if (l->n)
		memcpy(v, l->v, (size_t)l->n * sizeof *v);
	return v;
}

/* Call arguments "(a, b, name=c)" bound to the callable's parameter slots. */
static int parse_call_args(struct ps *ps, struct tpl_expr *e, const struct tpl_callable *c,
			   int first_slot, bool have_parens)
{
	int nparams = 0, npos = 0;
	struct tpl_expr *slots[TPL_MAX_PARAMS + 1] = { 0 };
	bool kw_seen = false;
	int line = cur(ps)->line;

	while (c->params[nparams])
		nparams++;
	if (have_parens) {
		if (expect_op(ps, "(") < 0)
			return -1;
		while (!at_op(ps, ")")) {
			struct tpl_expr *v;
			int slot;

			if (cur(ps)->type == TT_NAME && tok_is(peek(ps, 1), TT_OP, "=")) {
				struct tok *nt = cur(ps);

				for (slot = 0; slot < nparams; slot++)
					if (strlen(c->params[slot]) == nt->n &&
					    memcmp(c->params[slot], nt->p, nt->n) == 0)
						break;
				if (slot == nparams || slot < first_slot)
					return syntax_error(ps, nt->line,
							    "'%s' got an unexpected keyword argument '%.*s'",
							    c->name, (int)nt->n, nt->p);
				ps->pos += 2;
				kw_seen = true;
			} else {
				if (kw_seen)
					return syntax_error(ps, cur(ps)->line,
							    "positional argument follows keyword argument");
				slot = first_slot + npos++;
				if (slot >= nparams)
					return syntax_error(ps, cur(ps)->line,
							    "too many arguments for '%s'", c->name);
			}
			if (slots[slot])
				return syntax_error(ps, cur(ps)->line,
						    "'%s' got multiple values for argument '%s'", c->name,
						    c->params[slot]);
			if (!(v = parse_expr(ps)))
				return -1;
			slots[slot] = v;
			if (!at_op(ps, ","))
				break;
			ps->pos++;
		}
		if (expect_op(ps, ")") < 0)
			return -1;
	}
	for (int i = first_slot; i < c->min_args + first_slot && i < nparams; i++)
		if (!slots[i])
			return syntax_error(ps, line, "'%s' is missing its argument '%s'", c->name,
					    c->params[i]);
	e->nargs = nparams;
	e->args = palloc(ps, (size_t)(nparams ? nparams : 1) * sizeof *e->args);
	for (int i = 0; i < nparams; i++)
		e->args[i] = slots[i];
	return 0;
}

/* Collects "a, b, c" until a closing token; trailing comma allowed. */
static int parse_items(struct ps *ps, const char *close, struct plist *l, bool *had_comma)
{
	*had_comma = false;
	while (!at_op(ps, close)) {
		struct tpl_expr *v = parse_expr(ps);

		if (!v)
			return -1;
		plist_push(l, v);
		if (!at_op(ps, ","))
			break;
		*had_comma = true;
		ps->pos++;
	}
	return expect_op(ps, close);
}

/* A name, literal (true/false/none, string, number), parenthesised
 * expression, tuple or list. Adjacent string literals join. */
static struct tpl_expr *parse_primary(struct ps *ps)
{
	struct tok *t = cur(ps);
	struct tpl_expr *e;

	switch (t->type) {
	case TT_NAME:
		ps->pos++;
		e = mk(ps, EK_LIT, t->line);
		if (tok_is(t, TT_NAME, "true") || tok_is(t, TT_NAME, "True")) {
			e->lit.t = VT_BOOL;
			e->lit.u.b = 1;
		} else if (tok_is(t, TT_NAME, "false") || tok_is(t, TT_NAME, "False")) {
			e->lit.t = VT_BOOL;
		} else if (tok_is(t, TT_NAME, "none") || tok_is(t, TT_NAME, "None")) {
			e->lit.t = VT_NONE;
		} else {
			e->kind = EK_NAME;
			e->name = pstrdup(ps, t->p, t->n);
			e->nlen = t->n;
		}
		return done(ps, e);
	case TT_STR: {
		struct dgen_buf b = DGEN_BUF_INIT;

		e = mk(ps, EK_LIT, t->line);
		while (cur(ps)->type == TT_STR) {
			dgen_buf_append(&b, cur(ps)->p, cur(ps)->n);
			ps->pos++;
		}
		e->lit.t = VT_STR;
		e->lit.u.s.p = pstrdup(ps, b.data ? b.data : "", b.len);
		e->lit.u.s.n = b.len;
		dgen_buf_free(&b);
		return done(ps, e);
	}
	case TT_INT:
		ps->pos++;
		e = mk(ps, EK_LIT, t->line);
		e->lit.t = VT_INT;
		e->lit.u.i = t->i;
		return done(ps, e);
	case TT_FLOAT:
		ps->pos++;
		e = mk(ps, EK_LIT, t->line);
		e->lit.t = VT_FLOAT;
		e->lit.u.d = t->d;
		return done(ps, e);
	case TT_OP:
		if (at_op(ps, "(") || at_op(ps, "[")) {
			bool paren = at_op(ps, "("), comma;
			struct plist l = { 0 };

			ps->pos++;
			if (parse_items(ps, paren ? ")" : "]", &l, &comma) < 0) {
				free(l.v);
				return NULL;
			}
			if (paren && l.n == 1 && !comma) {
				e = l.v[0];
				free(l.v);
				return e;
			}
			e = mk(ps, EK_LIST, t->line);
			e->tuple = paren;
			e->nargs = l.n;
			e->args = plist_copy(ps, &l);
			free(l.v);
			return done(ps, e);
		}
		if (at_op(ps, "{"))
			return syntax_error(ps, t->line, "dict literals are not supported"), NULL;
		break;
	default:
		break;
	}
	unexpected(ps, NULL);
	return NULL;
}

/* Subscript after '[': an index or a slice [start:stop:step]. */
static struct tpl_expr *parse_subscript(struct ps *ps, struct tpl_expr *obj, int line)
{
	struct tpl_expr *parts[3] = { 0 };
	int n = 0;
	bool slice = false;

	for (;;) {
		if (!at_op(ps, ":") && !at_op(ps, "]")) {
			if (!(parts[n] = parse_expr(ps)))
				return NULL;
		}
		if (at_op(ps, ":") && n < 2) {
			slice = true;
			ps->pos++;
			n++;
			continue;
		}
		break;
	}
	if (expect_op(ps, "]") < 0)
		return NULL;
	if (!slice) {
		struct tpl_expr *e;

		if (!parts[0])
			return syntax_error(ps, line, "empty subscript"), NULL;
		e = mk(ps, EK_ITEM, line);
		e->a = obj;
		e->b = parts[0];
		return done(ps, e);
	} else {
		struct tpl_expr *e = mk(ps, EK_SLICE, line);

		e->a = obj;
		e->nargs = 3;
		e->args = palloc(ps, 3 * sizeof *e->args);
		for (int i = 0; i < 3; i++)
			e->args[i] = parts[i];
		return done(ps, e);
	}
}

/* .name, .0, [index], [slice] and calls after a primary: a call on
 * .name is a method, on a bare name a global function; both are looked
 * up (and their arguments bound) now. */
static struct tpl_expr *parse_postfix(struct ps *ps, struct tpl_expr *e)
{
	for (;;) {
		struct tok *t = cur(ps);

		if (at_op(ps, ".")) {
			struct tok *n = peek(ps, 1);
			struct tpl_expr *x;

			ps->pos += 2;
			if (n->type == TT_NAME) {
				x = mk(ps, EK_ATTR, t->line);
				x->a = e;
				x->name = pstrdup(ps, n->p, n->n);
				x->nlen = n->n;
			} else if (n->type == TT_INT) {
				x = mk(ps, EK_ITEM, t->line);
				x->a = e;
				x->b = mk(ps, EK_LIT, t->line);
				x->b->lit.t = VT_INT;
				x->b->lit.u.i = n->i;
				x->b->depth = 1;
			} else {
				ps->pos--;
				return unexpected(ps, "an attribute name"), NULL;
			}
			if (!(e = done(ps, x)))
				return NULL;
		} else if (at_op(ps, "[")) {
			ps->pos++;
			if (!(e = parse_subscript(ps, e, t->line)))
				return NULL;
		} else if (at_op(ps, "(")) {
			struct tpl_expr *x;
			int fn;

			if (e->kind == EK_ATTR) {
				fn = tpl_lookup(tpl_methods, e->name, e->nlen);
				if (fn < 0)
					return syntax_error(ps, t->line, "unknown method '%s'", e->name),
					       NULL;
				x = mk(ps, EK_METHOD, t->line);
				x->a = e->a;
				x->name = e->name;
				x->nlen = e->nlen;
				x->fn = fn;
				if (parse_call_args(ps, x, &tpl_methods[fn], 0, true) < 0)
					return NULL;
			} else if (e->kind == EK_NAME) {
				fn = tpl_lookup(tpl_globals, e->name, e->nlen);
				if (fn < 0)
					return syntax_error(ps, t->line, "unknown function '%s'", e->name),
					       NULL;
				x = mk(ps, EK_CALL, t->line);
				x->name = e->name;
				x->nlen = e->nlen;
				x->fn = fn;
				if (parse_call_args(ps, x, &tpl_globals[fn], 0, true) < 0)
					return NULL;
			} else {
				return syntax_error(ps, t->line, "this value cannot be called"), NULL;
			}
			if (!(e = done(ps, x)))
				return NULL;
		} else {
			return e;
		}
	}
}

static bool starts_test_arg(struct ps *ps)
{
	struct tok *t = cur(ps);
	static const char *const stop[] = { "else", "or", "and", "if", "in", "not", "is", NULL };

	if (t->type == TT_NAME) {
		for (int i = 0; stop[i]; i++)
			if (tok_is(t, TT_NAME, stop[i]))
				return false;
		return true;
	}
	return t->type == TT_STR || t->type == TT_INT || t->type == TT_FLOAT ||
	       tok_is(t, TT_OP, "(") || tok_is(t, TT_OP, "[");
}

/* |filter(args) and `is [not] test [arg]` after a unary operand. A test
 * takes one argument without parentheses (`x is divisibleby 3`). */
static struct tpl_expr *parse_filters(struct ps *ps, struct tpl_expr *e)
{
	for (;;) {
		struct tok *t = cur(ps);

		if (at_op(ps, "|")) {
			struct tok *n = peek(ps, 1);
			struct tpl_expr *x;
			int fn;

			if (n->type != TT_NAME) {
				ps->pos++;
				return unexpected(ps, "a filter name"), NULL;
			}
			fn = tpl_lookup(tpl_filters, n->p, n->n);
			if (fn < 0)
				return syntax_error(ps, n->line, "no filter named '%.*s'", (int)n->n,
						    n->p), NULL;
			ps->pos += 2;
			x = mk(ps, EK_FILTER, t->line);
			x->a = e;
			x->fn = fn;
			x->name = tpl_filters[fn].name;
			if (parse_call_args(ps, x, &tpl_filters[fn], 0, at_op(ps, "(")) < 0)
				return NULL;
			if (!(e = done(ps, x)))
				return NULL;
		} else if (at_name(ps, "is")) {
			struct tpl_expr *x;
			struct tok *n;
			int fn;

			ps->pos++;
			x = mk(ps, EK_TEST, t->line);
			if (at_name(ps, "not")) {
				x->negate = 1;
				ps->pos++;
			}
			n = cur(ps);
			if (n->type != TT_NAME)
				return unexpected(ps, "a test name"), NULL;
			fn = tpl_lookup(tpl_tests, n->p, n->n);
			if (fn < 0)
				return syntax_error(ps, n->line, "no test named '%.*s'", (int)n->n, n->p),
				       NULL;
			ps->pos++;
			x->a = e;
			x->fn = fn;
			x->name = tpl_tests[fn].name;
			if (at_op(ps, "(")) {
				if (parse_call_args(ps, x, &tpl_tests[fn], 0, true) < 0)
					return NULL;
			} else if (tpl_tests[fn].params[0] && starts_test_arg(ps)) {
				struct tpl_expr *arg = parse_primary(ps);

				if (!arg || !(arg = parse_postfix(ps, arg)))
					return NULL;
				if (parse_call_args(ps, x, &tpl_tests[fn], 1, false) < 0)
					return NULL;
				x->args[0] = arg;
			} else if (parse_call_args(ps, x, &tpl_tests[fn], 0, false) < 0) {
				return NULL;
			}
			if (!(e = done(ps, x)))
				return NULL;
		} else {
			return e;
		}
	}
}

/* -x, +x, the postfix parts, then (with_filter) filters and tests, which
 * apply to the signed value: -x|abs is (-x)|abs, as in Jinja2. */
static struct tpl_expr *parse_unary(struct ps *ps, bool with_filter)
{
	struct tok *t = cur(ps);
	struct tpl_expr *e;

	if (at_op(ps, "-") || at_op(ps, "+")) {
		struct tpl_expr *x;

		if (enter(ps) < 0)
			return NULL;
		ps->pos++;
		x = mk(ps, tok_is(t, TT_OP, "-") ? EK_NEG : EK_POS, t->line);
		if (!(x->a = parse_unary(ps, false)))
			return NULL;
		ps->nest--;
		if (!(e = done(ps, x)))
			return NULL;
	} else if (!(e = parse_primary(ps))) {
		return NULL;
	}
	if (!(e = parse_postfix(ps, e)))
		return NULL;
	if (with_filter)
		e = parse_filters(ps, e);
	return e;
}

static struct tpl_expr *binary(struct ps *ps, int kind, int op, int line, struct tpl_expr *a,
			       struct tpl_expr *b)
{
	struct tpl_expr *e = mk(ps, kind, line);

	e->op = (unsigned char)op;
	e->a = a;
	e->b = b;
	return done(ps, e);
}

/* A binary operator of one precedence level: its token and its node. */
struct binop {
	int type;         /* TT_OP or TT_NAME */
	const char *text;
	int kind;         /* EK_BIN, EK_AND, EK_OR */
	int op;           /* EK_BIN: enum tpl_op */
};

static const struct binop ops_pow[] = { { TT_OP, "**", EK_BIN, OP_POW }, { 0 } };
static const struct binop ops_mul[] = {
	{ TT_OP, "*", EK_BIN, OP_MUL }, { TT_OP, "/", EK_BIN, OP_DIV },
	{ TT_OP, "//", EK_BIN, OP_FLOORDIV }, { TT_OP, "%", EK_BIN, OP_MOD }, { 0 },
};
static const struct binop ops_concat[] = { { TT_OP, "~", EK_BIN, OP_CONCAT }, { 0 } };
static const struct binop ops_add[] = {
	{ TT_OP, "+", EK_BIN, OP_ADD }, { TT_OP, "-", EK_BIN, OP_SUB }, { 0 },
};
static const struct binop ops_and[] = { { TT_NAME, "and", EK_AND, 0 }, { 0 } };
static const struct binop ops_or[] = { { TT_NAME, "or", EK_OR, 0 }, { 0 } };

static const struct binop *at_binop(struct ps *ps, const struct binop *ops)
{
	for (; ops->text; ops++)
		if (tok_is(cur(ps), ops->type, ops->text))
			return ops;
	return NULL;
}

/* One left-associative level: operand (op operand)*, where operand parses
 * the next tighter level. */
static struct tpl_expr *parse_level(struct ps *ps, const struct binop *ops,
				    struct tpl_expr *(*operand)(struct ps *))
{
	struct tpl_expr *l = operand(ps);
	const struct binop *o;

	while (l && (o = at_binop(ps, ops))) {
		int line = cur(ps)->line;
		struct tpl_expr *r;

		ps->pos++;
		if (!(r = operand(ps)))
			return NULL;
		l = binary(ps, o->kind, o->op, line, l, r);
	}
	return l;
}

/* Jinja2's precedence, tightest first: unary and filters, **, * / // %,
 * ~, + -, comparisons, not, and, or. */
static struct tpl_expr *parse_filtered(struct ps *ps)
{
	return parse_unary(ps, true);
}

static struct tpl_expr *parse_pow(struct ps *ps)
{
	return parse_level(ps, ops_pow, parse_filtered);
}

static struct tpl_expr *parse_math2(struct ps *ps)
{
	return parse_level(ps, ops_mul, parse_pow);
}

static struct tpl_expr *parse_concat(struct ps *ps)
{
	return parse_level(ps, ops_concat, parse_math2);
}

static struct tpl_expr *parse_math1(struct ps *ps)
{
	return parse_level(ps, ops_add, parse_concat);
}

static const struct binop ops_cmp[] = {
	{ TT_OP, "==", EK_CMP, OP_EQ }, { TT_OP, "!=", EK_CMP, OP_NE },
	{ TT_OP, "<", EK_CMP, OP_LT }, { TT_OP, "<=", EK_CMP, OP_LE },
	{ TT_OP, ">", EK_CMP, OP_GT }, { TT_OP, ">=", EK_CMP, OP_GE },
	{ TT_NAME, "in", EK_CMP, OP_IN }, { 0 },
};

/* a == b < c ...: one EK_CMP node holding every operand and operator, so
 * the renderer can stop at the first false link as Python does. */
static struct tpl_expr *parse_compare(struct ps *ps)
{
	struct tpl_expr *first = parse_math1(ps), *e;
	struct plist l = { 0 };
	unsigned char ops[64];
	int line;

	if (!first)
		return NULL;
	line = cur(ps)->line;
	for (;;) {
		int op;
		struct tpl_expr *r;

		const struct binop *o = at_binop(ps, ops_cmp);

		if (o)
			op = o->op;
		else if (at_name(ps, "not") && tok_is(peek(ps, 1), TT_NAME, "in"))
			op = OP_NOTIN;
		else
			break;
		if (l.n == (int)sizeof ops) {
			free(l.v);
			return syntax_error(ps, line, "too many chained comparisons"), NULL;
		}
		ps->pos += op == OP_NOTIN ? 2 : 1;
		if (!(r = parse_math1(ps))) {
			free(l.v);
			return NULL;
		}
		ops[l.n] = (unsigned char)op;
		plist_push(&l, r);
	}
	if (!l.n)
		return first;
	e = mk(ps, EK_CMP, line);
	e->a = first;
	e->nargs = l.n;
	e->args = plist_copy(ps, &l);
	e->ops = palloc(ps, (size_t)l.n);
	memcpy(e->ops, ops, (size_t)l.n);
	free(l.v);
	return done(ps, e);
}

static struct tpl_expr *parse_not(struct ps *ps)
{
	if (at_name(ps, "not")) {
		struct tpl_expr *e = mk(ps, EK_NOT, cur(ps)->line);

		if (enter(ps) < 0)
			return NULL;
		ps->pos++;
		if (!(e->a = parse_not(ps)))
			return NULL;
		ps->nest--;
		return done(ps, e);
	}
	return parse_compare(ps);
}

static struct tpl_expr *parse_and(struct ps *ps)
{
	return parse_level(ps, ops_and, parse_not);
}

static struct tpl_expr *parse_or(struct ps *ps)
{
	return parse_level(ps, ops_or, parse_and);
}

/* expr [if cond [else expr]] */
static struct tpl_expr *parse_expr(struct ps *ps)
{
	struct tpl_expr *e;

	if (enter(ps) < 0)
		return NULL;
	e = parse_or(ps);
	while (e && at_name(ps, "if")) {
		struct tpl_expr *x = mk(ps, EK_COND, cur(ps)->line);

		ps->pos++;
		x->a = e;
		if (!(x->b = parse_or(ps)))
			return NULL;
		if (at_name(ps, "else")) {
			ps->pos++;
			if (!(x->c = parse_expr(ps)))
				return NULL;
		}
		e = done(ps, x);
	}
	ps->nest--;
	return e;
}

/* "a, b" without brackets is a tuple (as in `{{ a, b }}`). */
static struct tpl_expr *parse_tuple(struct ps *ps, bool with_cond)
{
	struct tpl_expr *first = with_cond ? parse_expr(ps) : parse_or(ps), *e;
	struct plist l = { 0 };
	int line;

	if (!first || !at_op(ps, ","))
		return first;
	line = cur(ps)->line;
	plist_push(&l, first);
	while (at_op(ps, ",")) {
		struct tok *t;

		ps->pos++;
		t = cur(ps);
		if (t->type == TT_VEND || t->type == TT_BEND || tok_is(t, TT_NAME, "if"))
			break;
		if (!(e = with_cond ? parse_expr(ps) : parse_or(ps))) {
			free(l.v);
			return NULL;
		}
		plist_push(&l, e);
	}
	e = mk(ps, EK_LIST, line);
	e->tuple = 1;
	e->nargs = l.n;
	e->args = plist_copy(ps, &l);
	free(l.v);
	return done(ps, e);
}

/* ---- statements ---- */

static struct tpl_stmt *mks(struct ps *ps, int kind, int line)
{
	struct tpl_stmt *s = palloc(ps, sizeof *s);

	s->kind = (unsigned char)kind;
	s->line = line;
	return s;
}

static int expect_bend(struct ps *ps)
{
	if (cur(ps)->type == TT_BEND) {
		ps->pos++;
		return 0;
	}
	return unexpected(ps, "end of statement block");
}

static int parse_body(struct ps *ps, const char *const *stops, const char *block, int open_line,
		      struct tpl_stmt **out, const struct tok **which);

/* Target names "a" or "a, b" (optionally parenthesised). */
static int parse_targets(struct ps *ps, struct tpl_stmt *s)
{
	const char *names[16];
	size_t lens[16];
	int n = 0;
	bool paren = at_op(ps, "(");

	if (paren)
		ps->pos++;
	for (;;) {
		struct tok *t = cur(ps);

		if (t->type != TT_NAME)
			return unexpected(ps, "a variable name");
		if (n == 16)
			return syntax_error(ps, t->line, "too many target names");
		names[n] = pstrdup(ps, t->p, t->n);
		lens[n++] = t->n;
		ps->pos++;
		if (!at_op(ps, ","))
			break;
		ps->pos++;
	}
	if (paren && expect_op(ps, ")") < 0)
		return -1;
	s->nnames = n;
	s->names = palloc(ps, (size_t)n * sizeof *s->names);
	s->nlens = palloc(ps, (size_t)n * sizeof *s->nlens);
	memcpy(s->names, names, (size_t)n * sizeof *names);
	memcpy(s->nlens, lens, (size_t)n * sizeof *lens);
	return 0;
}

static int parse_if(struct ps *ps, int line, struct tpl_stmt **out)
{
	static const char *const stops[] = { "elif", "else", "endif", NULL };
	static const char *const stops_else[] = { "endif", NULL };
	struct tpl_stmt *s = mks(ps, SK_IF, line);
	const struct tok *w;

	*out = s;
	if (!(s->e = parse_tuple(ps, true)) || expect_bend(ps) < 0)
		return -1;
	if (parse_body(ps, stops, "if", line, &s->body, &w) < 0)
		return -1;
	if (tok_is(w, TT_NAME, "elif"))
		return parse_if(ps, w->line, &s->orelse);
	if (tok_is(w, TT_NAME, "else")) {
		if (expect_bend(ps) < 0 ||
		    parse_body(ps, stops_else, "if", line, &s->orelse, &w) < 0)
			return -1;
	}
	return expect_bend(ps);
}

static bool body_assigns(const struct tpl_stmt *s)
{
	for (; s; s = s->next) {
		if (s->kind == SK_SET || s->kind == SK_SETBLOCK)
			return true;
		if (s->kind == SK_IF && (body_assigns(s->body) || body_assigns(s->orelse)))
			return true;
	}
	return false;
}

/* {% for targets in iterable [if cond] %} body [{% else %} body]
 * {% endfor %}. */
static int parse_for(struct ps *ps, int line, struct tpl_stmt **out)
{
	static const char *const stops[] = { "else", "endfor", NULL };
	static const char *const stops_else[] = { "endfor", NULL };
	struct tpl_stmt *s = mks(ps, SK_FOR, line);
	const struct tok *w;

	*out = s;
	if (parse_targets(ps, s) < 0)
		return -1;
	if (!at_name(ps, "in"))
		return unexpected(ps, "'in'");
	ps->pos++;
	if (!(s->e = parse_tuple(ps, false)))
		return -1;
	if (at_name(ps, "if")) {
		ps->pos++;
		if (!(s->cond = parse_expr(ps)))
			return -1;
	}
	if (at_name(ps, "recursive"))
		return syntax_error(ps, cur(ps)->line, "recursive loops are not supported");
	if (expect_bend(ps) < 0 || parse_body(ps, stops, "for", line, &s->body, &w) < 0)
		return -1;
	if (tok_is(w, TT_NAME, "else")) {
		if (expect_bend(ps) < 0 ||
		    parse_body(ps, stops_else, "for", line, &s->orelse, &w) < 0)
			return -1;
	}
	s->body_sets = body_assigns(s->body);
	return expect_bend(ps);
}

static int parse_set(struct ps *ps, int line, struct tpl_stmt **out)
{
	static const char *const stops[] = { "endset", NULL };
	struct tpl_stmt *s = mks(ps, SK_SET, line);
	const struct tok *w;

	*out = s;
	if (parse_targets(ps, s) < 0)
		return -1;
	if (at_op(ps, "=")) {
		ps->pos++;
		if (!(s->e = parse_tuple(ps, true)))
			return -1;
		return expect_bend(ps);
	}
	if (at_op(ps, "."))
		return syntax_error(ps, cur(ps)->line, "assigning to attributes is not supported");
	if (s->nnames != 1)
		return unexpected(ps, "'='");
	s->kind = SK_SETBLOCK;
	if (expect_bend(ps) < 0 || parse_body(ps, stops, "set", line, &s->body, &w) < 0)
		return -1;
	return expect_bend(ps);
}

/* Statements until EOF (top level) or one of the stop tags of the block
 * being parsed; *which gets the stop tag found. */
static int parse_body(struct ps *ps, const char *const *stops, const char *block, int open_line,
		      struct tpl_stmt **out, const struct tok **which)
{
	struct tpl_stmt *head = NULL, **tail = &head;

	*out = NULL;
	if (enter(ps) < 0)
		return -1;
	for (;;) {
		struct tok *t = cur(ps);
		struct tpl_stmt *s = NULL;

		if (t->type == TT_EOF) {
			if (stops)
				return syntax_error(ps, t->line,
						    "unexpected end of template: missing {%% %s %%} "
						    "for the %s block opened at line %d",
						    !strcmp(block, "for") ? "endfor" :
						    !strcmp(block, "set") ? "endset" : "endif",
						    block, open_line);
			break;
		}
		if (t->type == TT_TEXT) {
			s = mks(ps, SK_TEXT, t->line);
			s->text = t->p;
			s->tlen = t->n;
			ps->pos++;
		} else if (t->type == TT_VBEGIN) {
			ps->pos++;
			s = mks(ps, SK_OUT, t->line);
			if (!(s->e = parse_tuple(ps, true)))
				return -1;
			if (cur(ps)->type != TT_VEND)
				return unexpected(ps, "end of print statement");
			ps->pos++;
		} else if (t->type == TT_BBEGIN) {
			struct tok *n = peek(ps, 1);
			int rc;

			if (n->type != TT_NAME) {
				ps->pos++;
				return unexpected(ps, "a tag name");
			}
			if (stops) {
				for (int i = 0; stops[i]; i++) {
					if (tok_is(n, TT_NAME, stops[i])) {
						ps->pos += 2;
						*which = n;
						*out = head;
						ps->nest--;
						return 0;
					}
				}
			}
			ps->pos += 2;
			if (tok_is(n, TT_NAME, "if"))
				rc = parse_if(ps, n->line, &s);
			else if (tok_is(n, TT_NAME, "for"))
				rc = parse_for(ps, n->line, &s);
			else if (tok_is(n, TT_NAME, "set"))
				rc = parse_set(ps, n->line, &s);
			else if (tok_is(n, TT_NAME, "elif") || tok_is(n, TT_NAME, "else") ||
				 tok_is(n, TT_NAME, "endif") || tok_is(n, TT_NAME, "endfor") ||
				 tok_is(n, TT_NAME, "endset") || tok_is(n, TT_NAME, "endraw"))
				return syntax_error(ps, n->line, "unexpected '%.*s'%s", (int)n->n,
						    n->p, stops ? "" : " outside of a block");
			else
				return syntax_error(ps, n->line, "unknown tag '%.*s'",
						    n->n > 40 ? 40 : (int)n->n, n->p);
			if (rc < 0)
				return -1;
		} else {
			return unexpected(ps, NULL);
		}
		*tail = s;
		tail = &s->next;
	}
	*out = head;
	ps->nest--;
	return 0;
}

/* Newlines become "\n" and one trailing newline is dropped, as Jinja2
 * does with its default settings. */
static char *normalize(const char *src, size_t len, size_t *outlen)
{
	char *d = dgen_xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (src[i] == '\r') {
			d[n++] = '\n';
			if (i + 1 < len && src[i + 1] == '\n')
				i++;
		} else {
			d[n++] = src[i];
		}
	}
	if (n > 0 && d[n - 1] == '\n')
		n--;
	d[n] = '\0';
	*outlen = n;
	return d;
}

/* Checks the text is UTF-8, normalises newlines, lexes it into tokens
 * and parses them into the template's arena; the tokens go away after. */
int template_compile(const char *src, size_t len, struct dgen_template **out,
		     struct dgen_err *err)
{
	struct ps ps = { 0 };
	struct dgen_template *t = dgen_xcalloc(1, sizeof *t);
	size_t bad = utf8_valid_prefix(src, len), n;
	char *norm = NULL, *text;
	const struct tok *w;
	int rc = -1;

	*out = NULL;
	ps.t = t;
	ps.err = err;
	if (bad < len) {
		syntax_error(&ps, 1 + count_lines(src, bad), "text is not valid UTF-8");
		goto out;
	}
	norm = normalize(src, len, &n);
	text = pstrdup(&ps, norm, n);
	if (lex(&ps, text, n) < 0)
		goto out;
	ps.pos = 0;
	if (parse_body(&ps, NULL, "", 0, &t->body, &w) < 0)
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	free(norm);
	free(ps.toks);
	if (t)
		template_free(t);
	return rc;
}

void template_free(struct dgen_template *t)
{
	if (!t)
		return;
	arena_free(&t->mem);
	free(t);
}

/* ---- variables read without a guard ---- */

struct vw {
	struct json_object *names;
	const char **bound; /* names bound by loops/set or guarded by `is defined` */
	size_t *blen;
	size_t nbound, cap;
};

static void vw_push(struct vw *w, const char *name, size_t n)
{
	if (w->nbound == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->bound = dgen_xrealloc(w->bound, w->cap * sizeof *w->bound);
		w->blen = dgen_xrealloc(w->blen, w->cap * sizeof *w->blen);
	}
	w->bound[w->nbound] = name;
	w->blen[w->nbound++] = n;
}

static bool vw_bound(const struct vw *w, const char *name, size_t n)
{
	for (size_t i = 0; i < w->nbound; i++)
		if (w->blen[i] == n && memcmp(w->bound[i], name, n) == 0)
			return true;
	return false;
}

static void vw_add(struct vw *w, const char *name)
{
	size_t k = json_object_array_length(w->names);

	for (size_t i = 0; i < k; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(w->names, i));

		if (s && strcmp(s, name) == 0)
			return;
	}
	json_object_array_add(w->names, json_object_new_string(name));
}

static bool is_guard_filter(const struct tpl_expr *e)
{
	return e->kind == EK_FILTER && (!strcmp(e->name, "default") || !strcmp(e->name, "d"));
}

/* Pushes names that `e` proves defined when it is true ("x is defined",
 * "a is defined and b is defined"). */
static void vw_guards(struct vw *w, const struct tpl_expr *e, bool positive)
{
	if (!e)
		return;
	if (e->kind == EK_TEST && e->a->kind == EK_NAME) {
		bool def = !strcmp(e->name, "defined");
		bool undef = !strcmp(e->name, "undefined");

		if ((def || undef) && ((def != (bool)e->negate) == positive))
			vw_push(w, e->a->name, e->a->nlen);
	} else if (e->kind == EK_AND && positive) {
		vw_guards(w, e->a, true);
		vw_guards(w, e->b, true);
	} else if (e->kind == EK_OR && !positive) {
		vw_guards(w, e->a, false);
		vw_guards(w, e->b, false);
	} else if (e->kind == EK_NOT) {
		vw_guards(w, e->a, !positive);
	}
}

/* Adds the names e reads without a guard: `x|default` and `x is defined`
 * guard x; `a and b` and `a if c else b` guard b by what a or c prove. */
static void vw_expr(struct vw *w, const struct tpl_expr *e)
{
	size_t mark;

	if (!e)
		return;
	switch (e->kind) {
	case EK_NAME:
		if (!vw_bound(w, e->name, e->nlen))
			vw_add(w, e->name);
		return;
	case EK_FILTER:
		if (is_guard_filter(e) && e->a->kind == EK_NAME)
			break;
		vw_expr(w, e->a);
		break;
	case EK_TEST:
		if ((!strcmp(e->name, "defined") || !strcmp(e->name, "undefined")) &&
		    e->a->kind == EK_NAME)
			break;
		vw_expr(w, e->a);
		break;
	case EK_AND:
	case EK_OR:
		vw_expr(w, e->a);
		mark = w->nbound;
		vw_guards(w, e->a, e->kind == EK_AND);
		vw_expr(w, e->b);
		w->nbound = mark;
		return;
	case EK_COND:
		vw_expr(w, e->b);
		mark = w->nbound;
		vw_guards(w, e->b, true);
		vw_expr(w, e->a);
		w->nbound = mark;
		vw_guards(w, e->b, false);
		vw_expr(w, e->c);
		w->nbound = mark;
		return;
	default:
		vw_expr(w, e->a);
		vw_expr(w, e->b);
		vw_expr(w, e->c);
		break;
	}
	for (int i = 0; i < e->nargs; i++)
		vw_expr(w, e->args[i]);
}

/* Walks statements: names bound by for/set are not variables to ask
 * for inside their scope; an if's test guards its branches. */
static void vw_body(struct vw *w, const struct tpl_stmt *s)
{
	for (; s; s = s->next) {
		size_t mark = w->nbound;

		switch (s->kind) {
		case SK_OUT:
			vw_expr(w, s->e);
			break;
		case SK_IF:
			vw_expr(w, s->e);
			vw_guards(w, s->e, true);
			vw_body(w, s->body);
			w->nbound = mark;
			vw_guards(w, s->e, false);
			vw_body(w, s->orelse);
			w->nbound = mark;
			break;
		case SK_FOR:
			vw_expr(w, s->e);
			for (int i = 0; i < s->nnames; i++)
				vw_push(w, s->names[i], s->nlens[i]);
			vw_push(w, "loop", 4);
			vw_expr(w, s->cond);
			vw_body(w, s->body);
			w->nbound = mark;
			vw_body(w, s->orelse);
			w->nbound = mark;
			break;
		case SK_SET:
			vw_expr(w, s->e);
			for (int i = 0; i < s->nnames; i++)
				vw_push(w, s->names[i], s->nlens[i]);
			break;
		case SK_SETBLOCK:
			vw_body(w, s->body);
			w->nbound = mark;
			vw_push(w, s->names[0], s->nlens[0]);
			break;
		default:
			break;
		}
	}
}

void template_variables(const struct dgen_template *t, struct json_object *names)
{
	struct vw w = { names, NULL, NULL, 0, 0 };

	if (!t || !names)
		return;
	vw_body(&w, t->body);
	free(w.bound);
	free(w.blen);
}
