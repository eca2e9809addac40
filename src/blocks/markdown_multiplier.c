/*
 * markdown_multiplier.c - MarkdownMultiplierBlock: one seed per section
 * of a Markdown document.
 *
 * Sections: a line that starts (in column 0) with 1 to 6 '#' followed by
 * a space, a tab or the end of the line opens a new chunk and belongs to
 * it; lines inside fenced code (an opening line of three or more ` or ~,
 * indented at most three spaces, closed by a line of at least as many of
 * the same character and nothing else) never do. Text before the first
 * header is a chunk of its own. Each chunk is trimmed of leading and
 * trailing whitespace; a chunk left empty is dropped.
 *
 * chunk_size N > 0: a chunk of more than N words (runs of characters
 * other than ASCII whitespace) is cut into pieces of N words, each
 * starting chunk_size - chunk_overlap words after the previous one, the
 * last piece ending at the last word. A piece is the original text from
 * its first word to its last, so line breaks and Markdown inside it are
 * kept. chunk_index numbers the final chunks from 0.
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/util.h"

static const char *const inputs[] = { "file_content", NULL };
static const char *const outputs[] = { "content", "chunk_index", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM("chunk_size", DGEN_PARAM_INTEGER, "0",
			"0: split only at headers; N > 0: also cut sections longer than N words"),
	BLOCKUTIL_PARAM("chunk_overlap", DGEN_PARAM_INTEGER, "0",
			"Words shared by consecutive pieces of a cut section (less than chunk_size)"),
};

static int markdown_init(struct json_object *config, void **state, struct dgen_err *err)
{
	long long size, overlap;

	*state = NULL;
	if (blockutil_cfg_count(config, "chunk_size", 0, &size, err) != 0 ||
	    blockutil_cfg_count(config, "chunk_overlap", 0, &overlap, err) != 0)
		return -1;
	if (size > 0 && overlap >= size)
		return blockutil_config_error(err, "chunk_overlap",
					      "chunk_overlap (%lld) must be less than chunk_size "
					      "(%lld)", overlap, size);
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A fence line: up to three spaces, then three or more ` or ~. Sets the
 * character and run length. */
static bool fence_line(const char *l, size_t n, char *ch, size_t *run)
{
	size_t i = 0, k;

	while (i < n && i < 3 && l[i] == ' ')
		i++;
	if (i >= n || (l[i] != '`' && l[i] != '~'))
		return false;
	k = i;
	while (k < n && l[k] == l[i])
		k++;
	if (k - i < 3)
		return false;
	*ch = l[i];
	*run = k - i;
	return true;
}

static bool closes_fence(const char *l, size_t n, char ch, size_t run)
{
	char c;
	size_t r, i;

	if (!fence_line(l, n, &c, &r) || c != ch || r < run)
		return false;
	for (i = 0; i < n && l[i] == ' '; i++)
		;
	for (i += r; i < n; i++)
		if (!is_ws(l[i]))
			return false;
	return true;
}

static bool header_line(const char *l, size_t n)
{
	size_t k = 0;

	while (k < n && l[k] == '#')
		k++;
	if (k < 1 || k > 6)
		return false;
	return k == n || l[k] == ' ' || l[k] == '\t' || l[k] == '\r';
}

static void add_chunk(struct json_object *arr, const char *s, size_t n)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "content", json_object_new_string_len(s, (int)n));
	json_object_object_add(o, "chunk_index",
			       json_object_new_int64((int64_t)json_object_array_length(arr)));
	json_object_array_add(arr, o);
}

/* Adds one section (trimmed, dropped if blank), cut by words if needed. */
static void add_section(struct json_object *arr, const char *s, size_t n, size_t size,
			size_t overlap)
{
	size_t nw = 0, cap = 64, *ws, *we;

	while (n > 0 && is_ws(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_ws(s[n - 1]))
		n--;
	if (n == 0)
		return;
	if (size == 0) {
		add_chunk(arr, s, n);
		return;
	}
	ws = dgen_xmalloc(cap * sizeof(*ws));
	we = dgen_xmalloc(cap * sizeof(*we));
	for (size_t i = 0; i < n;) {
		while (i < n && is_ws(s[i]))
			i++;
		if (i >= n)
			break;
		if (nw == cap) {
			cap *= 2;
			ws = dgen_xrealloc(ws, cap * sizeof(*ws));
			we = dgen_xrealloc(we, cap * sizeof(*we));
		}
		ws[nw] = i;
		while (i < n && !is_ws(s[i]))
			i++;
		we[nw++] = i;
	}
	if (nw <= size) {
		add_chunk(arr, s, n);
	} else {
		for (size_t first = 0;; first += size - overlap) {
			size_t last = first + size < nw ? first + size : nw; /* exclusive */

			add_chunk(arr, s + ws[first], we[last - 1] - ws[first]);
			if (last == nw)
				break;
		}
	}
	free(ws);
	free(we);
}

/* One pass over the lines: a header outside a fence closes the section
 * before it; the text after the last header is the final section. */
static int markdown_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			    struct json_object *input, struct json_object **output,
			    struct dgen_err *err)
{
	struct json_object *v = blockutil_field(input, "file_content");
	size_t size = (size_t)blockutil_cfg_int(config, "chunk_size", 0);
	size_t overlap = (size_t)blockutil_cfg_int(config, "chunk_overlap", 0);
	const char *t;
	size_t len, start = 0;
	bool in_fence = false;
	char fch = 0;
	size_t frun = 0;
	struct json_object *arr;

	(void)state;
	(void)ctx;
	if (!v || !json_object_is_type(v, json_type_string))
		return dgen_err_set(err, DGEN_EBLOCK,
				    "MarkdownMultiplierBlock needs 'file_content' to be a string "
				    "(the Markdown document)");
	t = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (size > 0 && overlap >= size)
		overlap = 0; /* init() refuses this; stay safe regardless */
	arr = json_object_new_array();
	for (size_t ls = 0; ls < len;) {
		const char *nl = memchr(t + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - t) : len;

		if (in_fence) {
			if (closes_fence(t + ls, le - ls, fch, frun))
				in_fence = false;
		} else if (fence_line(t + ls, le - ls, &fch, &frun)) {
			in_fence = true;
		} else if (header_line(t + ls, le - ls) && ls > start) {
			add_section(arr, t + start, ls - start, size, overlap);
			start = ls;
		}
		ls = nl ? le + 1 : len;
	}
	add_section(arr, t + start, len - start, size, overlap);
	*output = arr;
	return 0;
}

const struct dgen_block_type markdown_multiplier_block = {
	BLOCKUTIL_TYPE("MarkdownMultiplierBlock", "Markdown Multiplier", "seeders",
		       "Splits a Markdown document (file_content) at its headers, and "
		       "optionally into pieces of chunk_size words; each chunk becomes its "
		       "own seed {content, chunk_index}"),
	.is_multiplier = true,
	.init = markdown_init,
	.execute = markdown_execute,
};
