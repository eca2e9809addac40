/*
 * test_seeds.c - seed files: parsing, errors named by 0-based seed index,
 * markdown uploads, unit numbering, and the seeds-vs-pipeline check.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/log.h"
#include "dgen/seeds.h"
#include "dgen/util.h"
#include "tap.h"

static const char *dstr(const struct dgen_err *e, const char *k)
{
	struct json_object *v = NULL;

	if (!e->detail || !json_object_object_get_ex(e->detail, k, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static long long dint(const struct dgen_err *e, const char *k)
{
	struct json_object *v = NULL;

	if (!e->detail || !json_object_object_get_ex(e->detail, k, &v) || !v)
		return -1;
	return json_object_get_int64(v);
}

static int parse(const char *text, const struct dgen_seed_limits *lim, struct dgen_seeds *s,
		 struct dgen_err *e)
{
	return seeds_parse(text, strlen(text), NULL, lim, s, e);
}

static void bad_seed(const char *text, long long idx, const char *field, const char *what)
{
	struct dgen_seeds s;
	struct dgen_err e = DGEN_ERR_INIT;

	ok(parse(text, NULL, &s, &e) == -1 && e.code == DGEN_EINVALID, "%s is refused", what);
	is_int(dint(&e, "seed_index"), idx, "... at seed_index %lld", idx);
	is_str(dstr(&e, "field"), field, "... naming field %s", field);
	if (idx >= 0) {
		char *want = dgen_xasprintf("Seed %lld: ", idx);

		ok(strncmp(e.msg, want, strlen(want)) == 0, "... message starts with the index: %s",
		   e.msg);
		free(want);
	}
	dgen_err_clear(&e);
}

static void test_parse(void)
{
	struct dgen_seeds s;
	struct dgen_err e = DGEN_ERR_INIT;
	struct dgen_seed_limits lim = { 2, 5 };
	size_t si = 99;
	long rep = 99;

	ok(parse("[{\"repetitions\":3,\"metadata\":{\"a\":1}},{\"metadata\":{\"a\":2}},"
		 "{\"repetitions\":2,\"metadata\":{}}]", NULL, &s, &e) == 0, "a seed array parses");
	is_int(s.n, 3, "three seeds");
	is_int(s.total_units, 6, "3 + 1 + 2 units");
	is_int(s.v[1].repetitions, 1, "repetitions default to 1");
	is_int(json_object_get_int(json_object_object_get(s.v[1].metadata, "a")), 2,
	       "metadata is kept");
	ok(seeds_unit(&s, 0, &si, &rep) == 0 && si == 0 && rep == 0, "unit 0 = seed 0 rep 0");
	ok(seeds_unit(&s, 2, &si, &rep) == 0 && si == 0 && rep == 2, "unit 2 = seed 0 rep 2");
	ok(seeds_unit(&s, 3, &si, &rep) == 0 && si == 1 && rep == 0, "unit 3 = seed 1 rep 0");
	ok(seeds_unit(&s, 5, &si, &rep) == 0 && si == 2 && rep == 1, "unit 5 = seed 2 rep 1");
	ok(seeds_unit(&s, 6, &si, &rep) == -1 && seeds_unit(&s, -1, &si, &rep) == -1,
	   "units past the end are refused");
	seeds_free(&s);

	ok(parse("{\"metadata\":{\"topic\":\"x\"},\"repetitions\":2}", NULL, &s, &e) == 0 &&
	   s.n == 1 && s.total_units == 2, "one seed object is a one-seed file");
	seeds_free(&s);

	bad_seed("[{\"metadata\":{}},{\"repetitions\":0,\"metadata\":{}}]", 1, "repetitions",
		 "repetitions 0");
	bad_seed("[{\"repetitions\":\"2\",\"metadata\":{}}]", 0, "repetitions",
		 "repetitions as a string");
	bad_seed("[{\"repetitions\":1.5,\"metadata\":{}}]", 0, "repetitions", "fractional repetitions");
	bad_seed("[{\"metadata\":{}},{\"metadata\":{}},{\"repetitions\":1}]", 2, "metadata",
		 "a seed without metadata");
	bad_seed("[{\"metadata\":[1,2]}]", 0, "metadata", "metadata that is not an object");
	bad_seed("[{\"metadata\":{}},{\"content\":\"x\"}]", 1, "content",
		 "a flat seed without the metadata wrapper");
	bad_seed("[{\"metadata\":{}}, 7]", 1, "seed", "a seed that is not an object");

	ok(parse("[{\"repetitions\":6,\"metadata\":{}}]", &lim, &s, &e) == -1 &&
	   dint(&e, "max") == 5, "repetitions past the limit are refused with the limit");
	dgen_err_clear(&e);
	ok(parse("[{\"metadata\":{}},{\"metadata\":{}},{\"metadata\":{}}]", &lim, &s, &e) == -1 &&
	   dint(&e, "limit") == 2, "more seeds than the limit are refused with the limit");
	dgen_err_clear(&e);
	ok(parse("[]", NULL, &s, &e) == -1 && e.code == DGEN_EINVALID, "an empty array is refused");
	dgen_err_clear(&e);
	ok(parse("42", NULL, &s, &e) == -1 && e.code == DGEN_EINVALID && dint(&e, "seed_index") == -1,
	   "a number is not a seed file");
	dgen_err_clear(&e);
	ok(parse("[{\"metadata\":", NULL, &s, &e) == -1 && e.code == DGEN_EBADREQ,
	   "broken JSON is a bad request");
	dgen_err_clear(&e);
}

static bool index_matches(const struct dgen_seeds *s, const struct dgen_seed_index *x);

static void test_markdown(void)
{
	struct dgen_seeds s;
	struct dgen_seed_index x;
	struct json_object *m = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	const char *md = "# Title\n\nSome text.\n";
	const char *top = getenv("top_srcdir");
	char *p;

	ok(seeds_from_markdown(md, strlen(md), &s, &e) == 0, "markdown becomes a seed");
	is_int(s.n, 1, "one seed");
	is_int(s.total_units, 1, "one unit");
	is_str(json_object_get_string(json_object_object_get(s.v[0].metadata, "file_content")), md,
	       "metadata.file_content holds the text");
	seeds_free(&s);
	ok(seeds_index_markdown(dgen_xstrdup(md), strlen(md), &x, &e) == 0 && x.n == 1 &&
	   x.total_units == 1 && seeds_index_repetitions(&x, 0) == 1 &&
	   seeds_index_metadata(&x, 0, &m, &e) == 0 &&
	   strcmp(json_object_get_string(json_object_object_get(m, "file_content")), md) == 0,
	   "an indexed markdown file is one seed: metadata.file_content holds the text");
	json_object_put(m);
	seeds_index_free(&x);
	ok(seeds_index_markdown(dgen_xstrdup("a\xff"), 2, &x, &e) == -1 && !x.text,
	   "an indexed markdown file that is not UTF-8 is refused");
	dgen_err_clear(&e);
	ok(seeds_from_markdown(" \n\t\n", 4, &s, &e) == -1 && e.code == DGEN_EINVALID,
	   "an empty markdown file is refused");
	dgen_err_clear(&e);
	ok(seeds_from_markdown("a\xff", 2, &s, &e) == -1, "markdown that is not UTF-8 is refused");
	dgen_err_clear(&e);

	p = dgen_xasprintf("%s/templates/seeds/seed_qa_generation.md", top ? top : ".");
	ok(seeds_load_file(p, NULL, NULL, &s, &e) == 0 && s.n == 1 &&
	   json_object_object_get_ex(s.v[0].metadata, "file_content", NULL),
	   "a .md file loads as markdown");
	seeds_free(&s);
	free(p);
	p = dgen_xasprintf("%s/templates/seeds/seed_json_generation.json", top ? top : ".");
	ok(seeds_load_file(p, NULL, NULL, &s, &e) == 0 && s.n >= 1, "a .json file loads as seeds");
	ok(seeds_index_load(p, NULL, NULL, &x, &e) == 0 && index_matches(&s, &x),
	   "and indexes as the same seeds");
	seeds_free(&s);
	seeds_index_free(&x);
	free(p);
	ok(seeds_load_file("/nonexistent/seeds.json", NULL, NULL, &s, &e) == -1 &&
	   e.code == DGEN_EIO, "a missing file is an I/O error");
	dgen_err_clear(&e);
}

static bool any_contains(struct json_object *list, const char *a, const char *b)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));

		if (strstr(s, a) && (!b || strstr(s, b)))
			return true;
	}
	return false;
}

static void test_validate(void)
{
	struct dgen_registry *reg = blocks_registry();
	struct dgen_pipeline *p = NULL, *m = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *def = json_tokener_parse(
		"{\"name\":\"v\",\"blocks\":[{\"type\":\"TextGenerator\",\"config\":{"
		"\"system_prompt\":\"You write about {{ topic }}.\","
		"\"user_prompt\":\"{{ topic }} in {{ style | default('prose') }}; "
		"{% if tone is defined %}{{ tone }}{% endif %}\"}},"
		"{\"type\":\"ValidatorBlock\"},"
		"{\"type\":\"TextGenerator\",\"config\":{\"user_prompt\":\"Shorten: {{ assistant }}\"}}]}");
	struct json_object *mdef = json_tokener_parse(
		"{\"name\":\"m\",\"blocks\":[{\"type\":\"MarkdownMultiplierBlock\"},"
		"{\"type\":\"TextGenerator\",\"config\":{\"user_prompt\":\"{{ content }} {{ topic }}\"}}]}");
	struct json_object *seeds, *rep, *w, *errs;

	ok(pipeline_load(reg, def, &p, &e) == 0, "a pipeline with prompts loads (%s)", e.msg);
	ok(pipeline_load(reg, mdef, &m, &e) == 0, "a multiplier pipeline loads (%s)", e.msg);
	if (!p || !m)
		goto out;

	seeds = json_tokener_parse("[{\"metadata\":{\"topic\":\"owls\"}},{\"metadata\":{}},"
				   "{\"metadata\":{\"style\":\"verse\"}}]");
	rep = seeds_validate(p, seeds, NULL);
	w = json_object_object_get(rep, "warnings");
	errs = json_object_object_get(rep, "errors");
	/* strict undefined: every execution of a seed lacking `topic` fails */
	ok(!json_object_get_boolean(json_object_object_get(rep, "valid")),
	   "a template variable seeds lack and no block provides makes them invalid");
	ok(any_contains(errs, "'topic'", "seeds 1, 2"), "the error names the variable and the seeds");
	ok(any_contains(errs, "blocks[0].config.user_prompt", NULL) &&
	   any_contains(errs, "blocks[0].config.system_prompt", NULL),
	   "... and where each prompt uses it");
	ok(!any_contains(errs, "'style'", NULL) && !any_contains(errs, "'tone'", NULL) &&
	   !any_contains(w, "'style'", NULL) && !any_contains(w, "'tone'", NULL),
	   "guarded variables (default, is defined) are not reported");
	ok(!any_contains(errs, "'assistant'", NULL) && !any_contains(w, "'assistant'", NULL),
	   "a variable an earlier block outputs is not reported");
	json_object_put(rep);
	json_object_put(seeds);

	seeds = json_tokener_parse("[{\"metadata\":{\"topic\":\"owls\"}}]");
	rep = seeds_validate(p, seeds, NULL);
	ok(json_object_get_boolean(json_object_object_get(rep, "valid")) &&
	   json_object_array_length(json_object_object_get(rep, "errors")) == 0,
	   "seeds carrying every variable are valid");
	json_object_put(rep);
	json_object_put(seeds);

	seeds = json_tokener_parse("[{\"metadata\":{\"topic\":\"a\"}},{\"repetitions\":0,"
				   "\"metadata\":{}},{\"metadata\":5}]");
	rep = seeds_validate(p, seeds, NULL);
	errs = json_object_object_get(rep, "errors");
	ok(!json_object_get_boolean(json_object_object_get(rep, "valid")), "bad seeds are invalid");
	is_int(json_object_array_length(errs), 2, "every bad seed is listed");
	ok(any_contains(errs, "Seed 1:", "repetitions") && any_contains(errs, "Seed 2:", "metadata"),
	   "each error names its seed index");
	json_object_put(rep);
	json_object_put(seeds);

	seeds = json_tokener_parse("{\"metadata\":{\"topic\":\"x\"}}");
	rep = seeds_validate(m, seeds, NULL);
	w = json_object_object_get(rep, "warnings");
	ok(any_contains(w, "'file_content'", "seed 0"),
	   "a multiplier pipeline warns about seeds without its input");
	ok(any_contains(w, "'topic'", "no earlier block") || any_contains(w, "'topic'", "not provided"),
	   "a chunk never carries seed metadata: a variable no block makes is reported");
	ok(!any_contains(w, "'content'", NULL), "the multiplier's outputs are available to prompts");
	json_object_put(rep);
	json_object_put(seeds);

	seeds = json_object_new_int(3);
	rep = seeds_validate(p, seeds, NULL);
	ok(!json_object_get_boolean(json_object_object_get(rep, "valid")),
	   "a document that is not seeds is invalid");
	json_object_put(rep);
	json_object_put(seeds);
out:
	dgen_err_clear(&e);
	json_object_put(def);
	json_object_put(mdef);
	pipeline_free(p);
	pipeline_free(m);
	registry_free(reg);
}

/* The index gives back each seed of the parse: its repetitions, units and
 * metadata (printed the same). */
static bool index_matches(const struct dgen_seeds *s, const struct dgen_seed_index *x)
{
	if (x->n != s->n || x->total_units != s->total_units)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		struct json_object *m = NULL;
		struct dgen_err e = DGEN_ERR_INIT;
		bool same = seeds_index_repetitions(x, i) == s->v[i].repetitions &&
			    seeds_index_metadata(x, i, &m, &e) == 0 &&
			    strcmp(json_object_to_json_string(m),
				   json_object_to_json_string(s->v[i].metadata)) == 0;

		json_object_put(m);
		dgen_err_clear(&e);
		if (!same)
			return false;
	}
	for (long long u = -1; u <= s->total_units; u++) {
		size_t a = 0, b = 0;
		long ra = 0, rb = 0;

		if (seeds_unit(s, u, &a, &ra) != seeds_index_unit(x, u, &b, &rb) || a != b ||
		    ra != rb)
			return false;
	}
	return true;
}

/* seeds_index_json says what seeds_parse says, and keeps the same seeds. */
static void index_as_parse(const char *text, const struct dgen_json_limits *jlim,
			   const struct dgen_seed_limits *lim)
{
	struct dgen_err e1 = DGEN_ERR_INIT, e2 = DGEN_ERR_INIT;
	struct dgen_seeds s;
	struct dgen_seed_index x;
	int r1 = seeds_parse(text, strlen(text), jlim, lim, &s, &e1);
	int r2 = seeds_index_json(dgen_xstrdup(text), strlen(text), jlim, lim, &x, &e2);
	const char *d1 = e1.detail ? json_object_to_json_string(e1.detail) : "null";
	const char *d2 = e2.detail ? json_object_to_json_string(e2.detail) : "null";
	bool same = r1 == r2 && e1.code == e2.code && strcmp(e1.msg, e2.msg) == 0 &&
		    strcmp(d1, d2) == 0 && (r1 != 0 || index_matches(&s, &x));

	ok(same, "index = parse: %.50s", text);
	if (!same)
		diag("parse %d %s %s / index %d %s %s", r1, e1.msg, d1, r2, e2.msg, d2);
	if (r1 == 0)
		seeds_free(&s);
	if (r2 == 0)
		seeds_index_free(&x);
	dgen_err_clear(&e1);
	dgen_err_clear(&e2);
}

/* seeds_check walks the file seed by seed; it must say exactly what
 * seeds_parse says of the whole text, errors included (code, message and
 * detail), since the upload is refused by one and run by the other. */
static void same_as_parse(const char *text, const struct dgen_json_limits *jlim,
			  const struct dgen_seed_limits *lim)
{
	struct dgen_err e1 = DGEN_ERR_INIT, e2 = DGEN_ERR_INIT;
	struct dgen_seeds s;
	long long units = -1;
	int r1 = seeds_parse(text, strlen(text), jlim, lim, &s, &e1);
	int r2 = seeds_check(text, strlen(text), jlim, lim, &units, &e2);
	const char *d1 = e1.detail ? json_object_to_json_string(e1.detail) : "null";
	const char *d2 = e2.detail ? json_object_to_json_string(e2.detail) : "null";
	bool same = r1 == r2 && e1.code == e2.code && strcmp(e1.msg, e2.msg) == 0 &&
		    strcmp(d1, d2) == 0 && (r1 != 0 || units == s.total_units);

	ok(same, "check = parse: %.50s", text);
	if (!same)
		diag("parse %d %s %s / check %d %s %s", r1, e1.msg, d1, r2, e2.msg, d2);
	if (r1 == 0)
		seeds_free(&s);
	dgen_err_clear(&e1);
	dgen_err_clear(&e2);
	index_as_parse(text, jlim, lim);
}

static void test_check(void)
{
	static const char *const texts[] = {
		"[{\"metadata\":{\"a\":1}},{\"metadata\":{},\"repetitions\":3}]",
		" [ {\"metadata\": {\"a\": [1, {\"b\": \"]}\\\"\"}]}} ,\n{\"metadata\":{}} ] \n",
		"{\"metadata\":{\"a\":1},\"repetitions\":2}",
		"[]", " [ ] ", "", "   ", "5", "\"x\"", "null",
		"[{\"metadata\":{}}", "[{\"metadata\":{}},", "[{\"metadata\":{}},]",
		"[{\"metadata\":{}} {\"metadata\":{}}]", "[{\"metadata\":{}}}]",
		"[{\"metadata\":{}}] x", "[,{\"metadata\":{}}]", "[{\"metadata\":{}},,]",
		"[{\"metadata\":{\"a\":NaN}}]", "[{\"metadata\":{\"a\":01}}]",
		"[{\"metadata\":{}},\n {\"metadata\":\n {\"a\":'x'}}]",
		"[{\"metadata\":{\"a\":\"unterminated}}]",
		"[{\"metadata\":{\"a\":1,\"a\":2}}]",
		"[{\"metadata\":{\"s\":\"\\u0000\"}}]",
		"[{\"metadata\":{}},{\"nope\":1}]", "[{\"metadata\":{}},5]",
		"[{\"metadata\":{},\"repetitions\":0},{\"metadata\":1}]",
		"[{\"metadata\":[]},{\"metadata\":{}},{]",
		"[1,2,3,4]", "[{\"metadata\":{}},[[[[[[1]]]]]]]",
	};
	struct dgen_json_limits small = dgen_json_default_limits;
	struct dgen_seed_limits two = { 2, 5 };

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		same_as_parse(texts[i], NULL, NULL);
	small.max_depth = 4;
	same_as_parse("[{\"metadata\":{\"a\":[[1]]}}]", &small, NULL);
	same_as_parse("[{\"metadata\":{\"a\":[1]}}]", &small, NULL);
	small.max_depth = 64;
	small.max_elements = 6;
	same_as_parse("[{\"metadata\":{\"a\":1}},{\"metadata\":{\"a\":1}}]", &small, NULL);
	same_as_parse("[{\"metadata\":{\"a\":1}},{\"metadata\":{}}]", &small, NULL);
	small.max_elements = dgen_json_default_limits.max_elements;
	small.max_string = 3;
	same_as_parse("[{\"metadata\":{}},{\"metadata\":{\"a\":\"long\"}}]", &small, NULL);
	same_as_parse("[{\"metadata\":{}},{\"metadata\":{}},{\"metadata\":{}}]", NULL, &two);
	same_as_parse("[{\"metadata\":{}},{\"metadata\":{}},{\"x\":{}},5]", NULL, &two);
	same_as_parse("[{\"metadata\":{},\"repetitions\":6}]", NULL, &two);
}

int main(void)
{
	dgen_log_init("test_seeds", false, 2);
	test_parse();
	test_check();
	test_markdown();
	test_validate();
	return done_testing();
}
