/*
 * test_registry.c - block types: the builtin list, GET /api/blocks as the
 * UI reads it, config checking with field paths, and plugins (a working
 * one, and broken ones that must be reported and skipped).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/log.h"
#include "dgen/blocks.h"
#include "dgen/registry.h"
#include "dgen/util.h"
#include "tap.h"

static const char *str_at(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *block_entry(struct json_object *blocks, const char *type)
{
	for (size_t i = 0; i < json_object_array_length(blocks); i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i);
		const char *t = str_at(b, "type");

		if (t && strcmp(t, type) == 0)
			return b;
	}
	return NULL;
}

static struct json_object *prop(struct json_object *blocks, const char *type, const char *name)
{
	struct json_object *b = block_entry(blocks, type), *s, *p, *v = NULL;

	if (!b || !json_object_object_get_ex(b, "config_schema", &s) ||
	    !json_object_object_get_ex(s, "properties", &p))
		return NULL;
	json_object_object_get_ex(p, name, &v);
	return v;
}

static void test_builtins(struct dgen_registry *r)
{
	static const char *const want[] = {
		"TextGenerator", "StructuredGenerator", "MarkdownMultiplierBlock", "ValidatorBlock",
		"JSONValidatorBlock", "DiversityScore", "CoherenceScore", "RougeScore",
		"FieldMapper", "StructureSampler", "SemanticInfiller", "DuplicateRemover",
		"RagasMetrics", "LLMJudge", "Sampler", "NearDuplicate",
	};
	struct json_object *blocks = registry_blocks_json(r), *v, *ty;
	bool shape = true, order = true;

	is_int(registry_count(r), 16, "sixteen builtin block types");
	for (size_t i = 0; i < DGEN_ARRAY_LEN(want); i++)
		ok(registry_find(r, want[i]) != NULL, "%s is registered", want[i]);
	ok(registry_find(r, "NoSuchBlock") == NULL, "unknown type id is not found");
	is_int(json_object_array_length(blocks), 16, "GET /api/blocks lists sixteen blocks");

	for (size_t i = 0; i < json_object_array_length(blocks); i++) {
		static const char *const keys[] = { "type", "name", "description", "category",
						    "inputs", "outputs", "is_multiplier",
						    "config_schema" };
		struct json_object *b = json_object_array_get_idx(blocks, i), *s, *props;
		const struct dgen_block_type *t = registry_find(r, str_at(b, "type"));
		size_t k = 0;

		for (size_t j = 0; j < DGEN_ARRAY_LEN(keys); j++)
			shape &= json_object_object_get_ex(b, keys[j], NULL);
		if (!t || !json_object_object_get_ex(b, "config_schema", &s) ||
		    !json_object_object_get_ex(s, "properties", &props)) {
			shape = false;
			continue;
		}
		shape &= str_at(s, "type") && strcmp(str_at(s, "type"), "object") == 0;
		shape &= json_object_object_get_ex(s, "required", NULL);
		/* properties come out in the declaration order of the table */
		json_object_object_foreach(props, name, pv) {
			(void)pv;
			if (k >= t->n_params || strcmp(t->params[k].name, name) != 0)
				order = false;
			k++;
		}
		order &= k == t->n_params;
	}
	ok(shape, "every block has the eight keys and an object config_schema");
	ok(order, "config_schema properties follow the parameter table order");

	v = prop(blocks, "RougeScore", "rouge_type");
	ok(v && json_object_object_get_ex(v, "enum", &ty) &&
	   json_object_array_length(ty) == 3, "RougeScore.rouge_type has an enum of three");
	is_str(v ? str_at(v, "default") : NULL, "rouge1", "RougeScore.rouge_type defaults to rouge1");

	v = prop(blocks, "StructuredGenerator", "json_schema");
	ok(v && json_object_object_get_ex(v, "type", &ty) &&
	   json_object_is_type(ty, json_type_array) &&
	   strcmp(json_object_get_string(json_object_array_get_idx(ty, 0)), "object") == 0 &&
	   strcmp(json_object_get_string(json_object_array_get_idx(ty, 1)), "string") == 0,
	   "a schema parameter has type [\"object\", \"string\"]");
	{
		struct json_object *b = block_entry(blocks, "StructuredGenerator"), *s, *req;

		ok(b && json_object_object_get_ex(b, "config_schema", &s) &&
		   json_object_object_get_ex(s, "required", &req) &&
		   json_object_array_length(req) >= 1 &&
		   strcmp(json_object_get_string(json_object_array_get_idx(req, 0)),
			  "json_schema") == 0, "StructuredGenerator requires json_schema");
	}

	v = prop(blocks, "TextGenerator", "model");
	ok(v && json_object_object_get_ex(v, "type", &ty) &&
	   json_object_is_type(ty, json_type_array) &&
	   strcmp(json_object_get_string(json_object_array_get_idx(ty, 1)), "null") == 0,
	   "a nullable parameter (model) has type [T, \"null\"]");

	v = prop(blocks, "JSONValidatorBlock", "field_name");
	ok(v && json_object_object_get_ex(v, "isFieldReference", &ty) &&
	   json_object_get_boolean(ty), "field_name is marked isFieldReference");
	v = prop(blocks, "ValidatorBlock", "forbidden_words");
	ok(v && json_object_object_get_ex(v, "items", &ty) && str_at(ty, "type") &&
	   strcmp(str_at(ty, "type"), "string") == 0, "a string list has items {type: string}");

	v = block_entry(blocks, "MarkdownMultiplierBlock");
	ok(v && json_object_get_boolean(json_object_object_get(v, "is_multiplier")),
	   "MarkdownMultiplierBlock is a multiplier");
	json_object_put(blocks);
}

static struct json_object *parse(const char *s)
{
	return json_tokener_parse(s);
}

static const char *detail_str(const struct dgen_err *e, const char *key)
{
	return e->detail ? str_at(e->detail, key) : NULL;
}

static void test_check_config(struct dgen_registry *r)
{
	const struct dgen_block_type *rouge = registry_find(r, "RougeScore");
	const struct dgen_block_type *val = registry_find(r, "ValidatorBlock");
	const struct dgen_block_type *tg = registry_find(r, "TextGenerator");
	const struct dgen_block_type *sg = registry_find(r, "StructuredGenerator");
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *cfg, *out = NULL, *v;

	if (!rouge || !val || !tg || !sg) {
		ok(0, "builtin blocks needed for config checks are missing");
		return;
	}
	cfg = parse("{\"rouge_type\": \"rouge3\"}");
	ok(registry_check_config(rouge, cfg, "blocks[1].config", &out, &e) == -1,
	   "a value outside the enum is refused");
	is_int(e.code, DGEN_EINVALID, "... as invalid (422)");
	is_str(detail_str(&e, "field"), "blocks[1].config.rouge_type", "... naming the field");
	ok(strstr(e.msg, "blocks[1].config.rouge_type") != NULL, "... and the message quotes it");
	ok(e.detail && json_object_object_get_ex(e.detail, "allowed", &v) &&
	   json_object_array_length(v) == 3, "... listing the allowed values");
	json_object_put(cfg);
	dgen_err_clear(&e);

	cfg = parse("{\"min_lenght\": 3}");
	ok(registry_check_config(val, cfg, "blocks[0].config", &out, &e) == -1,
	   "an unknown key is refused");
	is_str(detail_str(&e, "field"), "blocks[0].config.min_lenght", "... naming the key");
	ok(e.detail && json_object_object_get_ex(e.detail, "allowed", &v) &&
	   json_object_array_length(v) == val->n_params, "... listing the known keys");
	json_object_put(cfg);
	dgen_err_clear(&e);

	cfg = parse("{\"temperature\": \"hot\"}");
	ok(registry_check_config(tg, cfg, "blocks[2].config", &out, &e) == -1,
	   "a wrong type is refused");
	is_str(detail_str(&e, "field"), "blocks[2].config.temperature", "... naming the field");
	is_str(detail_str(&e, "expected"), "number", "... and the expected type");
	json_object_put(cfg);
	dgen_err_clear(&e);

	cfg = parse("{\"max_tokens\": 1.5}");
	ok(registry_check_config(tg, cfg, "c", &out, &e) == -1, "a float for an integer is refused");
	json_object_put(cfg);
	dgen_err_clear(&e);

	cfg = parse("{\"forbidden_words\": [\"a\", 3]}");
	ok(registry_check_config(val, cfg, "c", &out, &e) == -1,
	   "a non-string inside a string list is refused");
	json_object_put(cfg);
	dgen_err_clear(&e);

	ok(registry_check_config(sg, NULL, "blocks[0].config", &out, &e) == -1,
	   "a missing required parameter is refused");
	is_str(detail_str(&e, "field"), "blocks[0].config.json_schema", "... naming it");
	dgen_err_clear(&e);

	cfg = parse("[1]");
	ok(registry_check_config(val, cfg, "blocks[0].config", &out, &e) == -1,
	   "a config that is not an object is refused");
	is_str(detail_str(&e, "field"), "blocks[0].config", "... naming the config");
	json_object_put(cfg);
	dgen_err_clear(&e);

	cfg = parse("{\"max_length\": 50}");
	ok(registry_check_config(val, cfg, "c", &out, &e) == 0, "a valid config passes");
	ok(out && json_object_object_get_ex(out, "min_length", &v) &&
	   json_object_get_int(v) == 0, "the defaults are filled in (min_length 0)");
	ok(out && json_object_get_int(json_object_object_get(out, "max_length")) == 50,
	   "given values are kept");
	ok(out && json_object_object_get_ex(out, "forbidden_words", &v) &&
	   json_object_is_type(v, json_type_array), "list defaults are filled in");
	json_object_put(out);
	json_object_put(cfg);

	cfg = parse("{\"model\": null, \"temperature\": 1}");
	ok(registry_check_config(tg, cfg, "c", &out, &e) == 0,
	   "null for a nullable parameter and an integer for a number pass");
	ok(out && json_object_object_get_ex(out, "model", &v) && v == NULL,
	   "... model stays null");
	json_object_put(out);
	json_object_put(cfg);

	cfg = parse("{\"json_schema\": \"{{ schema }}\"}");
	ok(registry_check_config(sg, cfg, "c", &out, &e) == 0,
	   "a schema parameter accepts a string template");
	json_object_put(out);
	json_object_put(cfg);
}

static int dummy_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			 struct json_object *input, struct json_object **output,
			 struct dgen_err *err)
{
	*output = json_object_new_object();
	return 0;
}

static const char *const dummy_outputs[] = { "x", NULL };

static void test_add(struct dgen_registry *r)
{
	static const struct dgen_block_type good = {
		.abi = DGEN_BLOCK_ABI, .type = "TestDummy", .outputs = dummy_outputs,
		.execute = dummy_execute,
	};
	static const struct dgen_block_type future = {
		.abi = DGEN_BLOCK_ABI + 1, .type = "TestFuture", .outputs = dummy_outputs,
		.execute = dummy_execute,
	};
	static const struct dgen_block_type shadow = {
		.abi = DGEN_BLOCK_ABI, .type = "TextGenerator", .outputs = dummy_outputs,
		.execute = dummy_execute,
	};
	static const struct dgen_block_type noexec = {
		.abi = DGEN_BLOCK_ABI, .type = "TestNoExec", .outputs = dummy_outputs,
	};
	struct dgen_err e = DGEN_ERR_INIT;
	size_t before = registry_count(r);
	struct json_object *entry;

	ok(registry_add(r, &good, &e) == 0, "a well-formed type can be added");
	ok(registry_find(r, "TestDummy") == &good, "... and found by id");
	entry = registry_block_json(&good);
	is_str(str_at(entry, "name"), "TestDummy", "a type without a display name shows its id");
	json_object_put(entry);
	ok(registry_add(r, &future, &e) == -1 && strstr(e.msg, "ABI"), "a wrong ABI is refused");
	dgen_err_clear(&e);
	ok(registry_add(r, &shadow, &e) == -1 && strstr(e.msg, "already"),
	   "a builtin id cannot be registered twice");
	dgen_err_clear(&e);
	ok(registry_add(r, &noexec, &e) == -1, "a type without execute is refused");
	dgen_err_clear(&e);
	is_int(registry_count(r), before + 1, "only the good type was added");
}

static bool problem_for(struct json_object *problems, const char *file_part,
			const char *reason_part)
{
	for (size_t i = 0; i < json_object_array_length(problems); i++) {
		struct json_object *p = json_object_array_get_idx(problems, i);
		const char *f = str_at(p, "file"), *why = str_at(p, "error");

		if (f && why && strstr(f, file_part) && (!reason_part || strstr(why, reason_part)))
			return true;
	}
	return false;
}

static void test_plugins(void)
{
	const char *top = getenv("top_builddir");
	char *plugdir = dgen_xasprintf("%s/tests/plugins", top ? top : ".");
	char tmpl[] = "/tmp/dgen-plugins-XXXXXX";
	char *dir = mkdtemp(tmpl);
	static const char *const good[] = { "uppercase_block.so", "bad_abi.so", "shadow.so",
					    "no_symbol.so" };
	struct dgen_registry *r = blocks_registry();
	struct dgen_err e = DGEN_ERR_INIT;
	const struct dgen_block_type *up;
	struct json_object *problems, *in, *cfg = NULL, *out = NULL;
	char *p;
	FILE *f;
	int n;

	if (!dir) {
		ok(0, "cannot make a temporary directory");
		return;
	}
	/* the built plugins, linked into a scratch directory with a broken one */
	for (size_t i = 0; i < DGEN_ARRAY_LEN(good); i++) {
		char *src = dgen_xasprintf("%s/%s", plugdir, good[i]);
		char *dst = dgen_xasprintf("%s/%s", dir, good[i]);

		if (access(src, R_OK) != 0 || symlink(src, dst) != 0)
			diag("cannot link %s", src);
		free(src);
		free(dst);
	}
	p = dgen_xasprintf("%s/garbage.so", dir);
	f = fopen(p, "w");
	if (f) {
		fputs("this is not an ELF file\n", f);
		fclose(f);
	}
	free(p);
	p = dgen_xasprintf("%s/readme.txt", dir);
	f = fopen(p, "w");
	if (f)
		fclose(f);
	free(p);

	n = registry_load_dir(r, dir, &e);
	is_int(n, 1, "one plugin type loaded from the directory");
	up = registry_find(r, "Uppercase");
	ok(up != NULL, "the example Uppercase plugin is registered");
	is_int(registry_count(r), 17, "builtins plus the plugin");
	problems = registry_problems(r);
	is_int(json_object_array_length(problems), 4, "four broken plugins are reported");
	ok(problem_for(problems, "garbage.so", NULL), "a file that is not a shared object is reported");
	ok(problem_for(problems, "no_symbol.so", "dgen_block_plugin"),
	   "a plugin without the symbol is reported with the symbol name");
	ok(problem_for(problems, "bad_abi.so", "ABI"), "a plugin with a wrong ABI is reported");
	ok(problem_for(problems, "shadow.so", "JSONValidatorBlock"),
	   "a plugin shadowing a builtin is reported");
	ok(registry_find(r, "BadPluginFirst") == NULL,
	   "a refused plugin adds none of its types, even the good ones");
	ok(registry_find(r, "JSONValidatorBlock") != NULL &&
	   registry_find(r, "JSONValidatorBlock")->execute != NULL &&
	   strcmp(registry_find(r, "JSONValidatorBlock")->category, "validators") == 0,
	   "the builtin JSONValidatorBlock is still the builtin");

	if (up) {
		struct dgen_block_ctx ctx;

		memset(&ctx, 0, sizeof ctx);
		ok(registry_check_config(up, NULL, "c", &cfg, &e) == 0,
		   "the plugin's config is checked like a builtin's");
		in = json_tokener_parse("{\"text\": \"hello plugin\"}");
		ok(up->execute(NULL, cfg, &ctx, in, &out, &e) == 0, "the plugin block runs");
		is_str(out ? str_at(out, "uppercased") : NULL, "HELLO PLUGIN",
		       "... and upper-cases the field");
		json_object_put(in);
		json_object_put(out);
		json_object_put(cfg);
	}
	dgen_err_clear(&e);
	ok(registry_load_dir(r, "/nonexistent/dgen/blocks", &e) == -1 && e.code == DGEN_EIO,
	   "an unreadable blocks directory is an I/O error");
	dgen_err_clear(&e);
	ok(registry_load_dir(r, "", &e) == 0, "an empty blocks directory setting loads nothing");
	registry_free(r);

	/* clean the scratch directory */
	for (size_t i = 0; i < DGEN_ARRAY_LEN(good); i++) {
		p = dgen_xasprintf("%s/%s", dir, good[i]);
		unlink(p);
		free(p);
	}
	p = dgen_xasprintf("%s/garbage.so", dir);
	unlink(p);
	free(p);
	p = dgen_xasprintf("%s/readme.txt", dir);
	unlink(p);
	free(p);
	rmdir(dir);
	free(plugdir);
}

int main(void)
{
	struct dgen_registry *r;

	dgen_log_init("test_registry", false, 2);
	r = blocks_registry();
	test_builtins(r);
	test_check_config(r);
	test_add(r);
	registry_free(r);
	test_plugins();
	return done_testing();
}
