/*
 * test_catalog.c - YAML -> JSON (scalars, limits, aliases, errors with
 * lines) and pipeline templates: the three builtin ones, user templates,
 * malformed files, and resolving a pipeline named on a command line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/blocks.h"
#include "dgen/log.h"
#include "dgen/pipeline.h"
#include "dgen/catalog.h"
#include "dgen/util.h"
#include "tap.h"

static const char *jtext(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static struct json_object *yaml(const char *s, struct dgen_err *e)
{
	struct json_object *v = NULL;

	if (catalog_yaml_parse(s, strlen(s), NULL, &v, e) != 0)
		return NULL;
	return v;
}

static void yaml_is(const char *src, const char *want, const char *what)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v = yaml(src, &e);

	if (e.code != DGEN_OK)
		diag("error: %s", e.msg);
	is_str(e.code == DGEN_OK ? jtext(v) : e.msg, want, "%s", what);
	json_object_put(v);
	dgen_err_clear(&e);
}

static long long err_line(const struct dgen_err *e)
{
	struct json_object *v = NULL;

	if (!e->detail || !json_object_object_get_ex(e->detail, "line", &v))
		return -1;
	return json_object_get_int64(v);
}

static void test_yaml(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v;
	struct dgen_yaml_limits lim = templates_yaml_default_limits;
	struct dgen_buf b = DGEN_BUF_INIT;

	yaml_is("a: 1\nb: -7\nc: 2.5\nd: true\ne: False\nf: null\ng: ~\nh:\n",
		"{\"a\":1,\"b\":-7,\"c\":2.5,\"d\":true,\"e\":false,\"f\":null,\"g\":null,\"h\":null}",
		"plain scalars: ints, floats, booleans, nulls");
	yaml_is("a: \"1\"\nb: 'true'\nc: !!str 12\nd: yes\ne: 1.2.3\n",
		"{\"a\":\"1\",\"b\":\"true\",\"c\":\"12\",\"d\":\"yes\",\"e\":\"1.2.3\"}",
		"quoted and tagged scalars stay strings; YAML 1.1 'yes' is a string");
	yaml_is("a: 0x1F\nb: 0o17\nc: 1e3\nd: .5\ne: +3\nf: .inf\ng: 99999999999999999999\n",
		"{\"a\":31,\"b\":15,\"c\":1e3,\"d\":0.5,\"e\":3,\"f\":\".inf\","
		"\"g\":\"99999999999999999999\"}",
		"hex, octal, exponent, leading-dot floats; inf and huge ints stay text");
	yaml_is("t: |\n  line one\n  line two\nf: >\n  folded\n  text\n",
		"{\"t\":\"line one\\nline two\\n\",\"f\":\"folded text\\n\"}",
		"literal and folded block scalars");
	yaml_is("- a\n- [1, 2]\n- {x: y}\n- - nested\n",
		"[\"a\",[1,2],{\"x\":\"y\"},[\"nested\"]]", "sequences and flow collections");
	yaml_is("", "null", "an empty document is null");
	yaml_is("k: \"caf\\u00e9 {{ x }}\"\n", "{\"k\":\"caf\xc3\xa9 {{ x }}\"}",
		"escapes decode to UTF-8; template text is kept as is");

	v = yaml("a: 1\nb:\n  - x\n  c: 2\n", &e);
	ok(v == NULL && e.code == DGEN_EINVALID, "a syntax error is refused");
	is_int(err_line(&e), 4, "... with the line of the problem");
	ok(strstr(e.msg, "line 4") != NULL, "... in the message: %s", e.msg);
	dgen_err_clear(&e);

	v = yaml("a: &x [1, 2]\nb: *x\n", &e);
	ok(v == NULL && e.code == DGEN_EINVALID && strstr(e.msg, "alias"), "aliases are refused");
	is_int(err_line(&e), 2, "... at their line");
	dgen_err_clear(&e);

	v = yaml("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		 "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n", &e);
	ok(v == NULL, "a billion-laughs document is refused");
	dgen_err_clear(&e);

	v = yaml("a: 1\na: 2\n", &e);
	ok(v == NULL && strstr(e.msg, "duplicate"), "duplicate keys are refused");
	dgen_err_clear(&e);

	v = yaml("? [a, b]\n: 1\n", &e);
	ok(v == NULL, "a non-scalar mapping key is refused");
	dgen_err_clear(&e);

	v = yaml("a: 1\n---\nb: 2\n", &e);
	ok(v == NULL && strstr(e.msg, "one YAML document"), "a second document is refused");
	dgen_err_clear(&e);

	for (int i = 0; i < 100; i++)
		dgen_buf_putc(&b, '[');
	for (int i = 0; i < 100; i++)
		dgen_buf_putc(&b, ']');
	v = yaml(dgen_buf_str(&b), &e);
	ok(v == NULL && e.code == DGEN_ETOOBIG, "nesting past the depth limit is refused");
	dgen_err_clear(&e);
	dgen_buf_reset(&b);

	dgen_buf_puts(&b, "[");
	for (int i = 0; i < 50; i++)
		dgen_buf_puts(&b, "1, ");
	dgen_buf_puts(&b, "1]");
	lim.max_nodes = 20;
	ok(catalog_yaml_parse(b.data, b.len, &lim, &v, &e) == -1 && e.code == DGEN_ETOOBIG,
	   "more values than the node limit is refused");
	dgen_err_clear(&e);
	lim = templates_yaml_default_limits;
	lim.max_bytes = 10;
	ok(catalog_yaml_parse(b.data, b.len, &lim, &v, &e) == -1 && e.code == DGEN_ETOOBIG,
	   "text past the size limit is refused");
	dgen_err_clear(&e);
	dgen_buf_free(&b);

	ok(catalog_yaml_parse("a: \"x\0y\"", 9, NULL, &v, &e) == -1,
	   "a NUL byte in the text is refused");
	dgen_err_clear(&e);
	ok(catalog_yaml_parse("a: \xff\xfe", 5, NULL, &v, &e) == -1, "invalid UTF-8 is refused");
	dgen_err_clear(&e);
}

static char *srcdir_path(const char *rel)
{
	const char *top = getenv("top_srcdir");

	return dgen_xasprintf("%s/%s", top ? top : ".", rel);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = dgen_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(p);
}

static void test_builtin_templates(void)
{
	char *dir = srcdir_path("templates");
	struct dgen_catalog t;
	struct dgen_registry *reg = blocks_registry();
	static const char *const ids[] = { "json_generation", "qa_generation",
					   "text_classification" };
	struct json_object *list;

	catalog_load(dir, NULL, &t);
	is_int(t.n, 5, "five builtin templates");
	is_int(json_object_array_length(t.problems), 0, "none of them has a problem");
	for (size_t i = 1; i < t.n; i++)
		ok(strcmp(t.v[i - 1].id, t.v[i].id) < 0, "templates are sorted by id (%s < %s)",
		   t.v[i - 1].id, t.v[i].id);
	for (size_t i = 0; i < DGEN_ARRAY_LEN(ids) && i < t.n; i++) {
		const struct dgen_pipeline_template *tp = catalog_find(&t, ids[i]);
		struct dgen_pipeline *p = NULL;
		struct dgen_err e = DGEN_ERR_INIT;
		struct json_object *seed;

		is_str(tp ? tp->id : "", ids[i], "template %s is listed", ids[i]);
		if (!tp)
			continue;
		ok(tp->builtin && tp->name && *tp->name && tp->description && *tp->description,
		   "%s has a name and a description", ids[i]);
		ok(tp->seed_path != NULL, "%s ships an example seed", ids[i]);
		ok(pipeline_load(reg, tp->definition, &p, &e) == 0,
		   "%s is a valid pipeline definition (%s)", ids[i], e.msg);
		if (p) {
			const struct dgen_block_type *last =
				pipeline_block_type(p, pipeline_n_blocks(p) - 1);

			is_str(last->type, "JSONValidatorBlock", "%s ends with JSONValidatorBlock",
			       ids[i]);
			ok(pipeline_is_multiplier(p) == (strcmp(ids[i], "qa_generation") == 0),
			   "only qa_generation starts with a multiplier");
			pipeline_free(p);
		}
		dgen_err_clear(&e);
		seed = catalog_example_seed(tp);
		if (strcmp(ids[i], "qa_generation") == 0)
			ok(seed && json_object_is_type(seed, json_type_string) &&
			   strstr(json_object_get_string(seed), "# "),
			   "qa_generation's example seed is markdown text");
		else
			ok(seed && json_object_is_type(seed, json_type_array) &&
			   json_object_array_length(seed) > 0,
			   "%s's example seed is a JSON array of seeds", ids[i]);
		json_object_put(seed);
	}
	{
		const struct dgen_pipeline_template *tp = catalog_find(&t, "text_classification");
		struct json_object *b0, *cfg, *schema, *cat, *en;

		ok(tp && (b0 = json_object_array_get_idx(
				  json_object_object_get(tp->definition, "blocks"), 0)) &&
		   json_object_object_get_ex(b0, "config", &cfg) &&
		   json_object_object_get_ex(cfg, "json_schema", &schema) &&
		   json_object_object_get_ex(json_object_object_get(schema, "properties"),
					     "category", &cat) &&
		   json_object_object_get_ex(cat, "enum", &en) &&
		   json_object_array_length(en) == 5,
		   "text_classification asks for one category of five");
	}
	list = catalog_list_json(&t);
	{
		struct json_object *e0 = json_object_array_get_idx(list, 0);

		ok(json_object_array_length(list) == 5 && e0 &&
		   json_object_object_get_ex(e0, "id", NULL) &&
		   json_object_object_get_ex(e0, "name", NULL) &&
		   json_object_object_get_ex(e0, "description", NULL) &&
		   json_object_object_get_ex(e0, "example_seed", NULL),
		   "GET /api/templates entries have id, name, description, example_seed");
	}
	json_object_put(list);
	/* the templates of SPEC.md §10: valid, with a JSON seed file */
	for (size_t i = 0; i < 2; i++) {
		static const char *const more[] = { "data_augmentation", "ragas_evaluation" };
		static const char *const last[] = { "DuplicateRemover", "RagasMetrics" };
		const struct dgen_pipeline_template *tp = catalog_find(&t, more[i]);
		struct dgen_pipeline *p = NULL;
		struct dgen_err e = DGEN_ERR_INIT;
		struct json_object *seed = tp ? catalog_example_seed(tp) : NULL;

		ok(tp && pipeline_load(reg, tp->definition, &p, &e) == 0 &&
		   strcmp(pipeline_block_type(p, pipeline_n_blocks(p) - 1)->type, last[i]) == 0,
		   "%s is valid and ends with %s (%s)", more[i], last[i], e.msg);
		ok(seed && json_object_is_type(seed, json_type_array) && json_object_array_length(seed) > 0,
		   "%s ships a JSON seed file", more[i]);
		json_object_put(seed);
		pipeline_free(p);
		dgen_err_clear(&e);
	}
	ok(catalog_find(&t, "nope") == NULL, "an unknown id is not found");
	catalog_free(&t);
	registry_free(reg);
	free(dir);
}

static void test_user_templates(void)
{
	char *dir = srcdir_path("templates");
	char tmpl[] = "/tmp/dgen-tpl-XXXXXX";
	char *udir = mkdtemp(tmpl);
	struct dgen_catalog t;
	const struct dgen_pipeline_template *tp;
	bool broken_line = false;
	static const char *const files[] = { "mine.yaml", "json_generation.yaml", "broken.yaml",
					     "noblocks.yaml", "bad name.yaml", "notes.txt",
					     "typed.yml" };

	if (!udir) {
		ok(0, "mkdtemp");
		return;
	}
	write_file(udir, "mine.yaml",
		   "name: Mine\ndescription: a user template\nblocks:\n"
		   "  - type: CoherenceScore\n    config:\n      field_name: text\n");
	write_file(udir, "json_generation.yaml",
		   "name: Impostor\ndescription: x\nblocks: []\n");
	write_file(udir, "broken.yaml", "name: Broken\ndescription: x\nblocks:\n  - type: [\n");
	write_file(udir, "noblocks.yaml", "name: No blocks\ndescription: x\n");
	write_file(udir, "bad name.yaml", "name: x\nblocks: []\n");
	write_file(udir, "notes.txt", "not a template");
	write_file(udir, "typed.yml", "name: Typed\nblocks:\n  - type: 5\n");

	catalog_load(dir, udir, &t);
	is_int(t.n, 6, "five builtin templates and one good user template");
	tp = catalog_find(&t, "mine");
	ok(tp && !tp->builtin && strcmp(tp->name, "Mine") == 0, "the user template is listed");
	tp = catalog_find(&t, "json_generation");
	ok(tp && tp->builtin && strcmp(tp->name, "Impostor") != 0, "a builtin id wins over a user file");
	is_int(json_object_array_length(t.problems), 4, "four malformed user files are reported");
	for (size_t i = 0; i < json_object_array_length(t.problems); i++) {
		struct json_object *p = json_object_array_get_idx(t.problems, i), *line;

		if (strstr(json_object_get_string(json_object_object_get(p, "file")), "broken.yaml") &&
		    json_object_object_get_ex(p, "line", &line) && json_object_get_int(line) >= 4)
			broken_line = true;
	}
	ok(broken_line, "a YAML error is reported with the file and its line");
	catalog_free(&t);

	{
		struct json_object *def = NULL;
		struct dgen_err e = DGEN_ERR_INIT;
		char *p = dgen_xasprintf("%s/typed.yml", udir);

		ok(catalog_load_file(p, &def, NULL, &e) == -1, "a block type that is not text");
		ok(strstr(e.msg, "blocks[0].type") != NULL, "... is named by its path: %s", e.msg);
		dgen_err_clear(&e);
		free(p);
	}

	/* a pipeline on the command line: id, YAML file, JSON file */
	catalog_load(dir, NULL, &t);
	{
		struct json_object *def = NULL;
		struct dgen_err e = DGEN_ERR_INIT;
		char *yml = dgen_xasprintf("%s/mine.yaml", udir);
		char *js = dgen_xasprintf("%s/p.json", udir);

		ok(catalog_resolve_pipeline(&t, "qa_generation", &def, &e) == 0 && def &&
		   strcmp(json_object_get_string(json_object_object_get(def, "name")),
			  "Q&A Generation") == 0, "a template id resolves to its definition");
		json_object_put(def);
		ok(catalog_resolve_pipeline(&t, yml, &def, &e) == 0 && def &&
		   strcmp(json_object_get_string(json_object_object_get(def, "name")), "Mine") == 0,
		   "a YAML file resolves");
		json_object_put(def);
		write_file(udir, "p.json", "{\"name\": \"J\", \"blocks\": []}");
		ok(catalog_resolve_pipeline(&t, js, &def, &e) == 0 && def &&
		   strcmp(json_object_get_string(json_object_object_get(def, "name")), "J") == 0,
		   "a JSON file resolves");
		json_object_put(def);
		write_file(udir, "p.json", "{\"name\": ");
		ok(catalog_resolve_pipeline(&t, js, &def, &e) == -1 && strstr(e.msg, "p.json"),
		   "a broken JSON file is an error naming the file");
		dgen_err_clear(&e);
		ok(catalog_resolve_pipeline(&t, "no_such_thing", &def, &e) == -1 &&
		   e.code == DGEN_ENOTFOUND, "neither an id nor a file: not found");
		dgen_err_clear(&e);
		unlink(js);
		free(js);
		free(yml);
	}
	catalog_free(&t);

	for (size_t i = 0; i < DGEN_ARRAY_LEN(files); i++) {
		char *p = dgen_xasprintf("%s/%s", udir, files[i]);

		unlink(p);
		free(p);
	}
	rmdir(udir);
	free(dir);
}

int main(void)
{
	dgen_log_init("test_catalog", false, 2);
	test_yaml();
	test_builtin_templates();
	test_user_templates();
	return done_testing();
}
