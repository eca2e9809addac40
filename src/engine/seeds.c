/*
 * seeds.c - seed files: parsing and checking at the edge, the unit
 * numbering the runner keys records by, and the check of a seed file
 * against a pipeline's prompts (POST /api/seeds/validate).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/file.h"
#include "dgen/seeds.h"
#include "dgen/template.h"
#include "dgen/util.h"

const struct dgen_seed_limits seeds_default_limits = {
	.max_seeds = 100000,
	.max_repetitions = 10000,
};

static int seed_error(struct dgen_err *err, size_t i, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int seed_error(struct dgen_err *err, size_t i, const char *field, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dgen_err_set(err, DGEN_EINVALID, "Seed %zu: %s", i, msg);
	dgen_err_detail_int(err, "seed_index", (long long)i);
	dgen_err_detail_str(err, "field", field);
	return -1;
}

/* Checks seed i; on success gives its repetitions and (borrowed) metadata. */
static int check_seed(struct json_object *s, size_t i, const struct dgen_seed_limits *lim,
		      long *reps, struct json_object **meta, struct dgen_err *err)
{
	struct json_object *r = NULL, *m = NULL;

	if (!s || !json_object_is_type(s, json_type_object))
		return seed_error(err, i, "seed",
				  "must be an object {\"repetitions\": n, \"metadata\": {...}}");
	json_object_object_foreach(s, k, v) {
		(void)v;
		if (strcmp(k, "repetitions") != 0 && strcmp(k, "metadata") != 0)
			return seed_error(err, i, k,
					  "unknown key '%s' (a seed has 'repetitions' and "
					  "'metadata'; put data inside 'metadata')", k);
	}
	*reps = 1;
	if (json_object_object_get_ex(s, "repetitions", &r) && r) {
		int64_t n;

		if (!json_object_is_type(r, json_type_int))
			goto bad_reps;
		n = json_object_get_int64(r);
		if (n < 1 || n > lim->max_repetitions)
			goto bad_reps;
		*reps = (long)n;
	}
	if (!json_object_object_get_ex(s, "metadata", &m) || !m)
		return seed_error(err, i, "metadata", "'metadata' is required (an object)");
	if (!json_object_is_type(m, json_type_object))
		return seed_error(err, i, "metadata", "'metadata' must be an object");
	*meta = m;
	return 0;
bad_reps:
	seed_error(err, i, "repetitions", "'repetitions' must be an integer from 1 to %ld",
		   lim->max_repetitions);
	dgen_err_detail_int(err, "min", 1);
	dgen_err_detail_int(err, "max", lim->max_repetitions);
	return -1;
}

/* The seeds as an array (a lone object is a one-seed file), or an error. */
static struct json_object *seed_array(struct json_object *doc, const struct dgen_seed_limits *lim,
				      struct dgen_err *err)
{
	struct json_object *arr;
	size_t n;

	if (doc && json_object_is_type(doc, json_type_object)) {
		arr = json_object_new_array();
		json_object_array_add(arr, json_object_get(doc));
		return arr;
	}
	if (!doc || !json_object_is_type(doc, json_type_array)) {
		dgen_err_set(err, DGEN_EINVALID,
			     "a seed file must be a JSON array of seeds (or one seed object)");
		return NULL;
	}
	n = json_object_array_length(doc);
	if (n == 0) {
		dgen_err_set(err, DGEN_EINVALID, "the seed file has no seeds");
		return NULL;
	}
	if ((long long)n > lim->max_seeds) {
		dgen_err_set(err, DGEN_EINVALID, "the seed file has %zu seeds; the limit is %ld", n,
			     lim->max_seeds);
		dgen_err_detail_int(err, "limit", lim->max_seeds);
		return NULL;
	}
	return json_object_get(doc);
}

int seeds_from_json(struct json_object *doc, const struct dgen_seed_limits *lim,
		    struct dgen_seeds *out, struct dgen_err *err)
{
	struct json_object *arr;
	size_t n;

	memset(out, 0, sizeof *out);
	if (!lim)
		lim = &seeds_default_limits;
	if (!(arr = seed_array(doc, lim, err)))
		return -1;
	n = json_object_array_length(arr);
	out->v = dgen_xcalloc(n, sizeof *out->v);
	out->root = arr;
	for (size_t i = 0; i < n; i++) {
		struct dgen_seed *s = &out->v[i];

		if (check_seed(json_object_array_get_idx(arr, i), i, lim, &s->repetitions,
			       &s->metadata, err) != 0) {
			seeds_free(out);
			return -1;
		}
		s->first_unit = out->total_units;
		out->total_units += s->repetitions;
		out->n++;
	}
	return 0;
}

int seeds_parse(const char *text, size_t len, const struct dgen_json_limits *jlim,
		const struct dgen_seed_limits *lim, struct dgen_seeds *out,
		struct dgen_err *err)
{
	struct json_object *doc = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (dgen_json_parse(text, len, jlim, &doc, err) != 0)
		return -1;
	rc = seeds_from_json(doc, lim, out, err);
	json_object_put(doc);
	return rc;
}

/* ------------------------------------------------------------ streaming */

/*
 * A seed file checked seed by seed. json-c spends 100 bytes and more on
 * every value, and a whole seed file as one tree costs 20 to 50 times its
 * size; so the top-level array is walked here, and each seed alone goes
 * through the strict parser (dgen_json_parse) and check_seed, then is
 * freed. Memory stays at one seed's tree; the answers and errors are those
 * of seeds_parse() on the whole text: a syntax error anywhere first (with
 * the offset, line and column of the whole file), then an empty or too
 * long array, then the first bad seed.
 */
struct walk {
	const char *text;
	size_t len;
	const struct dgen_json_limits *jlim;
	const struct dgen_seed_limits *lim;
	size_t values;          /* counted so far, the array included */
	size_t n;               /* seeds so far */
	long long units;
	struct dgen_err first;  /* the first bad seed */
	size_t start, end;      /* the span of the seed each is called on */
	int (*each)(struct walk *w, struct json_object *meta, long reps);
	void *arg;
	struct dgen_err *err;
};

/* Moves to the next byte that is not JSON white space. */
static size_t walk_ws(const struct walk *w, size_t pos)
{
	while (pos < w->len && (w->text[pos] == ' ' || w->text[pos] == '\t' ||
				w->text[pos] == '\r' || w->text[pos] == '\n'))
		pos++;
	return pos;
}

/* A syntax error at byte off of the whole text, worded as the parser's. */
static int walk_fail(const struct walk *w, size_t off, const char *why)
{
	int line = 1, col = 1;

	for (size_t i = 0; i < off; i++, col++)
		if (w->text[i] == '\n') {
			line++;
			col = 0;
		}
	dgen_err_set(w->err, DGEN_EBADREQ, "malformed JSON at line %d, column %d (byte %zu): %s",
		     line, col, off, why);
	dgen_err_detail_int(w->err, "offset", (long long)off);
	dgen_err_detail_int(w->err, "line", line);
	dgen_err_detail_int(w->err, "column", col);
	return -1;
}

/* The byte offset the parser reported, or 0. */
static size_t err_offset(const struct dgen_err *e)
{
	struct json_object *v;

	if (e->detail && json_object_object_get_ex(e->detail, "offset", &v))
		return (size_t)json_object_get_int64(v);
	return 0;
}

/* An error of the parser run over text + base, told about the whole text:
 * offsets, lines and columns moved by base, and the depth and value limits
 * of the whole document instead of the ones left for this seed. */
static void rebase_error(const struct walk *w, size_t base, struct dgen_err *e)
{
	size_t off = base + err_offset(e);
	const char *why = strstr(e->msg, "): ");
	char msg[DGEN_ERR_MSG_MAX];
	int line = 1, col = 1;

	if (e->code == DGEN_ETOOBIG && strncmp(e->msg, "JSON document has more", 22) == 0) {
		dgen_err_set(e, DGEN_ETOOBIG, "JSON document has more than %zu values",
			     w->jlim->max_elements);
		dgen_err_detail_int(e, "limit", (long long)w->jlim->max_elements);
		dgen_err_detail_int(e, "offset", (long long)off);
		return;
	}
	if (!why || strncmp(e->msg, "malformed JSON at line", 22) != 0) {
		if (e->detail && json_object_object_get_ex(e->detail, "offset", NULL))
			dgen_err_detail_int(e, "offset", (long long)off);
		return;
	}
	for (size_t i = 0; i < off && i < w->len; i++, col++)
		if (w->text[i] == '\n') {
			line++;
			col = 0;
		}
	if (strncmp(why + 3, "JSON is nested deeper than", 26) == 0)
		snprintf(msg, sizeof msg, "JSON is nested deeper than %d levels",
			 w->jlim->max_depth);
	else
		snprintf(msg, sizeof msg, "%s", why + 3);
	dgen_err_set(e, e->code, "malformed JSON at line %d, column %d (byte %zu): %s", line, col,
		     off, msg);
	dgen_err_detail_int(e, "offset", (long long)off);
	dgen_err_detail_int(e, "line", line);
	dgen_err_detail_int(e, "column", col);
	if (strncmp(msg, "JSON is nested deeper than", 26) == 0)
		dgen_err_detail_int(e, "limit", w->jlim->max_depth);
}

/* Values in v as the parser counts them (null members included). */
static size_t count_values(struct json_object *v)
{
	size_t n = 1;

	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			n += count_values(json_object_array_get_idx(v, i));
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m) {
			(void)k;
			n += count_values(m);
		}
	}
	return n;
}

/* The seed value at *pos (white space skipped): parsed alone, counted,
 * checked (the first bad seed is kept in w->first, and the walk goes on:
 * a syntax error further on still comes first). *pos moves past it. */
static int walk_seed(struct walk *w, size_t *pos)
{
	struct dgen_json_limits sub = *w->jlim;
	struct json_object *seed = NULL, *meta = NULL;
	size_t start = walk_ws(w, *pos), end = start;
	int depth = 0, rc = -1;
	bool in_str = false;
	long reps = 1;

	if (start >= w->len)
		return walk_fail(w, w->len, "the text ends before the value does");
	/* where the value ends, if it is well formed: the parser says if so */
	for (; end < w->len; end++) {
		char ch = w->text[end];

		if (in_str) {
			if (ch == '\\')
				end++;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '[' || ch == '{') {
			depth++;
		} else if (ch == ']' || ch == '}') {
			if (--depth < 0)
				break;
		} else if (ch == ',' && depth == 0) {
			break;
		}
	}
	if (end > w->len)
		end = w->len;
	sub.max_depth = w->jlim->max_depth - 1;
	sub.max_elements = w->jlim->max_elements - w->values;
	if (sub.max_depth < 1 ||
	    dgen_json_parse(w->text + start, end - start, &sub, &seed, w->err) != 0) {
		/* the same value read to the end of the text: its own error */
		dgen_err_clear(w->err);
		if (dgen_json_parse(w->text + start, w->len - start, &sub, &seed, w->err) == 0) {
			json_object_put(seed);
			return walk_fail(w, w->len, "the text ends before ']'");
		}
		if (strstr(w->err->msg, "unexpected text after the value")) {
			size_t at = walk_ws(w, start + err_offset(w->err));

			dgen_err_clear(w->err);
			return walk_fail(w, at, "expected ',' or ']'");
		}
		rebase_error(w, start, w->err);
		return -1;
	}
	w->values += count_values(seed);
	w->start = start;
	w->end = end;
	if (w->first.code == DGEN_OK &&
	    check_seed(seed, w->n, w->lim, &reps, &meta, &w->first) == 0 && w->each)
		rc = w->each(w, meta, reps);
	else
		rc = 0;
	w->n++;
	w->units += reps;
	json_object_put(seed);
	*pos = end;
	return rc;
}

/* The array of seeds, from its '[' at pos. */
static int walk_array(struct walk *w, size_t pos)
{
	w->values = 1;
	pos = walk_ws(w, pos + 1);
	if (pos < w->len && w->text[pos] == ']')
		goto closed;
	for (;;) {
		if (walk_seed(w, &pos) != 0)
			return -1;
		pos = walk_ws(w, pos);
		if (pos >= w->len)
			return walk_fail(w, w->len, "the text ends before ']'");
		if (w->text[pos] == ']')
			break;
		if (w->text[pos] != ',')
			return walk_fail(w, pos, "expected ',' or ']'");
		pos = walk_ws(w, pos + 1);
		if (pos < w->len && w->text[pos] == ']')
			return walk_fail(w, pos, "a trailing comma before ']'");
	}
closed:
	pos = walk_ws(w, pos + 1);
	if (pos < w->len)
		return walk_fail(w, pos, "unexpected text after the value");
	return 0;
}

/*
 * Walks the seed file text, calling w->each on every good seed while no
 * seed was bad. Anything but an array (one seed object, a scalar, an
 * over-long or empty text) takes the whole-document path: it is one seed
 * at most, or fails before any tree is built.
 */
static int walk_file(struct walk *w, struct dgen_err *err)
{
	size_t pos;
	int rc = -1;

	w->err = err;
	dgen_err_init(&w->first);
	pos = walk_ws(w, 0);
	if (pos >= w->len || w->text[pos] != '[' || w->len > w->jlim->max_bytes ||
	    w->len > (size_t)0x7fffffff || w->jlim->max_elements < 1 || w->jlim->max_depth < 1)
		return 1;
	if (walk_array(w, pos) != 0)
		goto out;
	if (w->n == 0) {
		dgen_err_set(err, DGEN_EINVALID, "the seed file has no seeds");
		goto out;
	}
	if ((long long)w->n > w->lim->max_seeds) {
		dgen_err_set(err, DGEN_EINVALID, "the seed file has %zu seeds; the limit is %ld",
			     w->n, w->lim->max_seeds);
		dgen_err_detail_int(err, "limit", w->lim->max_seeds);
		goto out;
	}
	if (w->first.code != DGEN_OK) {
		dgen_err_set(err, w->first.code, "%s", w->first.msg);
		if (w->first.detail)
			err->detail = json_object_get(w->first.detail);
		goto out;
	}
	rc = 0;
out:
	dgen_err_clear(&w->first);
	return rc;
}

/* The walk, or for a text that is not an array the whole-document parse
 * (*lone set: on success, the text is one seed object, or an array too
 * long to walk). w->units receives the sum of repetitions. */
static int check_text(struct walk *w, bool *lone, struct dgen_err *err)
{
	int rc = walk_file(w, err);

	*lone = rc == 1;
	if (rc == 1) {
		struct dgen_seeds s;

		rc = seeds_parse(w->text, w->len, w->jlim, w->lim, &s, err);
		w->units = s.total_units;
		seeds_free(&s);
	}
	return rc;
}

int seeds_check(const char *text, size_t len, const struct dgen_json_limits *jlim,
		const struct dgen_seed_limits *lim, long long *total_units, struct dgen_err *err)
{
	struct walk w = { .text = text, .len = len };
	bool lone;
	int rc;

	w.jlim = jlim ? jlim : &dgen_json_default_limits;
	w.lim = lim ? lim : &seeds_default_limits;
	rc = check_text(&w, &lone, err);
	if (rc == 0)
		*total_units = w.units;
	return rc;
}

/* ------------------------------------------------------------ the index */

struct index_arg {
	struct dgen_seed_index *x;
	size_t cap;
};

/* Notes the span of a good seed the walk passes (its units start at the
 * sum so far: the walk adds this seed's after). */
static int index_seed(struct walk *w, struct json_object *meta, long reps)
{
	struct index_arg *a = w->arg;
	struct dgen_seed_index *x = a->x;

	(void)meta;
	(void)reps;
	if (x->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		x->v = dgen_xrealloc(x->v, a->cap * sizeof *x->v);
	}
	x->v[x->n++] = (struct dgen_seed_span){ (uint32_t)w->start, (uint32_t)(w->end - w->start),
						w->units };
	return 0;
}

/*
 * The check of seeds_check(), keeping the span of every seed instead of
 * its tree. A text that is not an array is checked whole: one seed
 * object, its span the whole text.
 */
int seeds_index_json(char *text, size_t len, const struct dgen_json_limits *jlim,
		     const struct dgen_seed_limits *lim, struct dgen_seed_index *out,
		     struct dgen_err *err)
{
	struct index_arg a = { out, 0 };
	struct walk w = { .text = text, .len = len, .each = index_seed, .arg = &a };
	size_t first;
	bool lone;

	memset(out, 0, sizeof *out);
	out->text = text;
	out->len = len;
	out->jlim = jlim ? *jlim : dgen_json_default_limits;
	w.jlim = &out->jlim;
	w.lim = lim ? lim : &seeds_default_limits;
	if (check_text(&w, &lone, err) != 0)
		goto fail;
	first = walk_ws(&w, 0);
	if (lone) {
		if (first >= len || text[first] != '{' || len > UINT32_MAX) {
			dgen_err_set(err, DGEN_ETOOBIG, "the seed file is too large to run");
			goto fail;
		}
		out->v = dgen_xcalloc(1, sizeof *out->v);
		out->v[0] = (struct dgen_seed_span){ 0, (uint32_t)len, 0 };
		out->n = 1;
	} else {
		out->v = dgen_xrealloc(out->v, out->n * sizeof *out->v);
	}
	out->total_units = w.units;
	return 0;
fail:
	seeds_index_free(out);
	return -1;
}

/* Markdown is UTF-8 text without NUL bytes, not only white space. */
static int markdown_check(const char *text, size_t len, struct dgen_err *err)
{
	size_t i;

	if (!dgen_utf8_valid(text, len))
		return dgen_err_set(err, DGEN_EINVALID,
				    "the markdown file is not UTF-8 text (or contains NUL bytes)");
	for (i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
			break;
	if (i == len)
		return dgen_err_set(err, DGEN_EINVALID, "the markdown file is empty");
	return 0;
}

int seeds_index_markdown(char *text, size_t len, struct dgen_seed_index *out,
			 struct dgen_err *err)
{
	memset(out, 0, sizeof *out);
	if (markdown_check(text, len, err) != 0) {
		free(text);
		return -1;
	}
	out->text = text;
	out->len = len;
	out->markdown = true;
	out->jlim = dgen_json_default_limits;
	out->v = dgen_xcalloc(1, sizeof *out->v);
	out->n = 1;
	out->total_units = 1;
	return 0;
}

long seeds_index_repetitions(const struct dgen_seed_index *s, size_t i)
{
	long long next = i + 1 < s->n ? s->v[i + 1].first_unit : s->total_units;

	return (long)(next - s->v[i].first_unit);
}

int seeds_index_metadata(const struct dgen_seed_index *s, size_t i, struct json_object **meta,
			 struct dgen_err *err)
{
	struct json_object *seed = NULL, *m = NULL;

	*meta = NULL;
	if (i >= s->n)
		return dgen_err_set(err, DGEN_EINTERNAL, "the seed file has no seed %zu", i);
	if (s->markdown) {
		*meta = json_object_new_object();
		json_object_object_add(*meta, "file_content",
				       json_object_new_string_len(s->text, (int)s->len));
		return 0;
	}
	if (dgen_json_parse(s->text + s->v[i].off, s->v[i].len, &s->jlim, &seed, err) != 0)
		return -1;
	if (!json_object_object_get_ex(seed, "metadata", &m) ||
	    !json_object_is_type(m, json_type_object)) {
		json_object_put(seed);
		return dgen_err_set(err, DGEN_EINTERNAL, "seed %zu has no metadata object", i);
	}
	*meta = json_object_get(m);
	json_object_put(seed);
	return 0;
}

void seeds_index_free(struct dgen_seed_index *s)
{
	free(s->text);
	free(s->v);
	memset(s, 0, sizeof *s);
}

int seeds_from_markdown(const char *text, size_t len, struct dgen_seeds *out,
			struct dgen_err *err)
{
	struct json_object *seed, *meta;

	memset(out, 0, sizeof *out);
	if (markdown_check(text, len, err) != 0)
		return -1;
	meta = json_object_new_object();
	json_object_object_add(meta, "file_content", json_object_new_string_len(text, (int)len));
	seed = json_object_new_object();
	json_object_object_add(seed, "metadata", meta);
	out->root = json_object_new_array();
	json_object_array_add(out->root, seed);
	out->v = dgen_xcalloc(1, sizeof *out->v);
	out->v[0].metadata = meta;
	out->v[0].repetitions = 1;
	out->v[0].first_unit = 0;
	out->n = 1;
	out->total_units = 1;
	return 0;
}

static bool is_markdown(const char *path)
{
	size_t n = strlen(path);

	return (n >= 3 && strcmp(path + n - 3, ".md") == 0) ||
	       (n >= 9 && strcmp(path + n - 9, ".markdown") == 0);
}

/* A seed file's text, up to the byte limit of *jlim (NULL: the defaults,
 * set in *jlim). */
static int read_seed_file(const char *path, const struct dgen_json_limits **jlim, char **text,
			  size_t *len, struct dgen_err *err)
{
	if (!*jlim)
		*jlim = &dgen_json_default_limits;
	return dgen_file_read_capped(path, (*jlim)->max_bytes, text, len, err) < 0 ? -1 : 0;
}

int seeds_index_load(const char *path, const struct dgen_json_limits *jlim,
		     const struct dgen_seed_limits *lim, struct dgen_seed_index *out,
		     struct dgen_err *err)
{
	char *text = NULL;
	size_t len = 0;

	memset(out, 0, sizeof *out);
	if (read_seed_file(path, &jlim, &text, &len, err) != 0)
		return -1;
	if (is_markdown(path))
		return seeds_index_markdown(text, len, out, err);
	return seeds_index_json(text, len, jlim, lim, out, err);
}

int seeds_load_file(const char *path, const struct dgen_json_limits *jlim,
		    const struct dgen_seed_limits *lim, struct dgen_seeds *out,
		    struct dgen_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if (read_seed_file(path, &jlim, &text, &len, err) != 0)
		return -1;
	if (is_markdown(path))
		rc = seeds_from_markdown(text, len, out, err);
	else
		rc = seeds_parse(text, len, jlim, lim, out, err);
	free(text);
	return rc;
}

void seeds_free(struct dgen_seeds *s)
{
	free(s->v);
	json_object_put(s->root);
	memset(s, 0, sizeof *s);
}

/* The seed and repetition of unit, among n seeds whose first units
 * (first(v, i)) ascend from 0 to below total; -1 out of range. */
static int unit_of(const void *v, size_t n, long long total,
		   long long (*first)(const void *v, size_t i), long long unit,
		   size_t *seed_index, long *repetition)
{
	size_t lo = 0, hi = n;

	if (unit < 0 || unit >= total)
		return -1;
	/* the last seed whose first unit <= unit */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (first(v, mid) <= unit)
			lo = mid;
		else
			hi = mid;
	}
	*seed_index = lo;
	*repetition = (long)(unit - first(v, lo));
	return 0;
}

static long long seed_first(const void *v, size_t i)
{
	return ((const struct dgen_seed *)v)[i].first_unit;
}

static long long span_first(const void *v, size_t i)
{
	return ((const struct dgen_seed_span *)v)[i].first_unit;
}

int seeds_unit(const struct dgen_seeds *s, long long unit, size_t *seed_index, long *repetition)
{
	return unit_of(s->v, s->n, s->total_units, seed_first, unit, seed_index, repetition);
}

int seeds_index_unit(const struct dgen_seed_index *s, long long unit, size_t *seed_index,
		     long *repetition)
{
	return unit_of(s->v, s->n, s->total_units, span_first, unit, seed_index, repetition);
}

/* ------------------------------------------------------------ validate */

#define MAX_MESSAGES 100
#define MAX_NAMED_SEEDS 5

static bool arr_has(struct json_object *a, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
			return true;
	return false;
}

static void add_msg(struct json_object *list, const char *msg)
{
	if (json_object_array_length(list) < MAX_MESSAGES)
		json_object_array_add(list, json_object_new_string(msg));
}

/*
 * One message for a variable some seeds lack: names the first few seed
 * indexes and how many lack it in all. It goes into `list`: errors when
 * every execution of such a seed is bound to fail, warnings otherwise.
 */
static void lacking_message(struct json_object *list, struct json_object *seeds,
			    const char *var, const char *where)
{
	struct dgen_buf b = DGEN_BUF_INIT;
	size_t n = json_object_array_length(seeds), lacking = 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(seeds, i), *m = NULL;

		if (!s || !json_object_is_type(s, json_type_object) ||
		    !json_object_object_get_ex(s, "metadata", &m) ||
		    !json_object_is_type(m, json_type_object))
			continue; /* reported as an error already */
		if (json_object_object_get_ex(m, var, NULL))
			continue;
		if (lacking < MAX_NAMED_SEEDS)
			dgen_buf_printf(&b, "%s%zu", lacking ? ", " : "", i);
		lacking++;
	}
	if (lacking) {
		char *msg;

		if (lacking > MAX_NAMED_SEEDS)
			msg = dgen_xasprintf("'%s' used by %s is missing from the metadata of seeds "
					     "%s and %zu more", var, where, dgen_buf_str(&b),
					     lacking - MAX_NAMED_SEEDS);
		else
			msg = dgen_xasprintf("'%s' used by %s is missing from the metadata of seed%s "
					     "%s", var, where, lacking > 1 ? "s" : "",
					     dgen_buf_str(&b));
		add_msg(list, msg);
		free(msg);
	}
	dgen_buf_free(&b);
}

/* Outputs of blocks [from, to) into avail; true when one of them is "*". */
static bool outputs_before(const struct dgen_pipeline *p, size_t from, size_t to,
			   struct json_object *avail)
{
	bool any = false;

	for (size_t i = from; i < to; i++) {
		const char *const *o = pipeline_block_type(p, i)->outputs;

		for (size_t k = 0; o && o[k]; k++) {
			if (strcmp(o[k], "*") == 0)
				any = true;
			else if (!arr_has(avail, o[k]))
				json_object_array_add(avail, json_object_new_string(o[k]));
		}
	}
	return any;
}

/*
 * Prompt variables no seed-independent source provides. Templates render
 * with strict undefined, so a seed lacking a variable that no earlier block
 * outputs fails on every execution: that is an error. What may still work
 * (a prompt that does not compile here, a chunk of a multiplier) stays a
 * warning.
 */
static void prompt_checks(const struct dgen_pipeline *p, struct json_object *seeds,
			  struct json_object *errors, struct json_object *warnings)
{
	struct json_object *prompts = pipeline_prompts(p);
	bool mult = pipeline_is_multiplier(p);

	for (size_t k = 0; k < json_object_array_length(prompts); k++) {
		struct json_object *e = json_object_array_get_idx(prompts, k), *v;
		size_t step = (size_t)json_object_get_int64(json_object_object_get(e, "step"));
		const char *param = json_object_get_string(json_object_object_get(e, "param"));
		const char *src = json_object_get_string(json_object_object_get(e, "template"));
		struct dgen_template *t = NULL;
		struct dgen_err err = DGEN_ERR_INIT;
		struct json_object *vars, *avail;
		char *where = dgen_xasprintf("blocks[%zu].config.%s", step, param);

		v = json_object_object_get(e, "template");
		if (template_compile(src, (size_t)json_object_get_string_len(v), &t, &err) != 0) {
			char *msg = dgen_xasprintf("%s: %s", where, err.msg);

			add_msg(warnings, msg);
			free(msg);
			dgen_err_clear(&err);
			free(where);
			continue;
		}
		vars = json_object_new_array();
		template_variables(t, vars);
		template_free(t);
		avail = json_object_new_array();
		/* a multiplier's chunks replace the seed: only block outputs count */
		if (!outputs_before(p, 0, step, avail)) {
			for (size_t i = 0; i < json_object_array_length(vars); i++) {
				const char *var = json_object_get_string(
					json_object_array_get_idx(vars, i));

				if (arr_has(avail, var))
					continue;
				if (mult && step > 0) {
					char *msg = dgen_xasprintf(
						"'%s' used by %s is not provided by any earlier block "
						"(a multiplier's chunks carry only its outputs)",
						var, where);

					add_msg(warnings, msg);
					free(msg);
				} else {
					lacking_message(errors, seeds, var, where);
				}
			}
		}
		json_object_put(avail);
		json_object_put(vars);
		free(where);
	}
	json_object_put(prompts);
}

struct json_object *seeds_validate(const struct dgen_pipeline *p, struct json_object *doc,
				   const struct dgen_seed_limits *lim)
{
	struct json_object *res = json_object_new_object();
	struct json_object *errors = json_object_new_array();
	struct json_object *warnings = json_object_new_array();
	struct json_object *arr, *good;
	struct dgen_err err = DGEN_ERR_INIT;

	if (!lim)
		lim = &seeds_default_limits;
	if (!(arr = seed_array(doc, lim, &err))) {
		add_msg(errors, err.msg);
		dgen_err_clear(&err);
		goto out;
	}
	/* The variable checks look only at seeds that passed (a refused seed
	 * is a null here), so no seed is reported twice. */
	good = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *s = json_object_array_get_idx(arr, i), *meta;
		long reps;

		if (check_seed(s, i, lim, &reps, &meta, &err) != 0) {
			add_msg(errors, err.msg);
			dgen_err_clear(&err);
			json_object_array_add(good, NULL);
		} else {
			json_object_array_add(good, json_object_get(s));
		}
	}
	if (pipeline_is_multiplier(p)) {
		const char *const *in = pipeline_block_type(p, 0)->inputs;

		for (size_t k = 0; in && in[k]; k++) {
			char *where;

			if (strcmp(in[k], "*") == 0)
				continue;
			where = dgen_xasprintf("blocks[0] (%s)", pipeline_block_type(p, 0)->type);
			lacking_message(warnings, good, in[k], where);
			free(where);
		}
	}
	prompt_checks(p, good, errors, warnings);
	json_object_put(good);
	json_object_put(arr);
out:
	json_object_object_add(res, "valid",
			       json_object_new_boolean(json_object_array_length(errors) == 0));
	json_object_object_add(res, "errors", errors);
	json_object_object_add(res, "warnings", warnings);
	return res;
}
