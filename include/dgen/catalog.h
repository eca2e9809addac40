/*
 * catalog.h - the catalog of pipeline templates (YAML files in templates/)
 * and YAML -> JSON.
 *
 * A template is templates/<id>.yaml (id = file stem, [A-Za-z0-9_-]+) with
 * `name`, `description`, `blocks` (as in a pipeline definition) and
 * optional `constraints`; its example seed is seeds/seed_<id>.json or
 * seeds/seed_<id>.md beside it. Builtin templates come from the configured
 * templates_dir, user templates from user_templates_dir; a builtin id wins
 * over a user one. A malformed file is logged (dgen_warn, file and line),
 * kept in the problems list and skipped.
 *
 * YAML is read with libyaml into json-c: mappings -> objects (scalar keys,
 * duplicates refused), sequences -> arrays, quoted or block scalars ->
 * strings, plain scalars -> null (~, null, empty), booleans (true/false),
 * integers, floats (as written when valid JSON), else strings; a `!!str`
 * tag keeps a string. Aliases are refused (no billion laughs), one document
 * only, bounded by size, depth and node count.
 *
 * Ownership: catalog_load() fills a caller-owned struct; catalog_free()
 * releases it. Pointers into it (info, definitions) are borrowed. JSON
 * builders and parsers hand over one new reference.
 */
#ifndef DGEN_TEMPLATES_H
#define DGEN_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "dgen/err.h"

struct dgen_yaml_limits {
	size_t max_bytes;    /* input size (1 MiB) */
	int max_depth;       /* nesting (64) */
	size_t max_nodes;    /* scalars + collections (100 000) */
};

extern const struct dgen_yaml_limits templates_yaml_default_limits;

/* YAML text -> one JSON value. Errors: DGEN_EINVALID "YAML error at line
 * <n>: <problem>" with detail {"line": n, "column": c} (1-based), or
 * DGEN_ETOOBIG. lim NULL = defaults. */
int catalog_yaml_parse(const char *text, size_t len, const struct dgen_yaml_limits *lim,
			 struct json_object **out, struct dgen_err *err);

struct dgen_pipeline_template {
	char *id;
	char *name;
	char *description;
	char *path;         /* the YAML file */
	char *seed_path;    /* example seed file, or NULL */
	bool builtin;
	struct json_object *definition; /* {name, blocks, constraints?} */
};

struct dgen_catalog {
	struct dgen_pipeline_template *v; /* sorted by id */
	size_t n;
	struct json_object *problems;     /* [{"file", "line"?, "error"}] */
};

/* Loads builtin_dir then user_dir (either NULL or "" = none). A missing
 * directory is skipped with a warning; never fails. */
void catalog_load(const char *builtin_dir, const char *user_dir, struct dgen_catalog *out);
void catalog_free(struct dgen_catalog *t);
const struct dgen_pipeline_template *catalog_find(const struct dgen_catalog *t,
						     const char *id);

/* One template file -> its definition, with the file's errors (field
 * paths as in a definition: "blocks[1].type"). */
int catalog_load_file(const char *path, struct json_object **def, char **description,
			struct dgen_err *err);

/* The example seed: the parsed JSON for a .json file, the text (a string)
 * for a .md file, NULL when there is none or it cannot be read. */
struct json_object *catalog_example_seed(const struct dgen_pipeline_template *tp);

/* GET /api/templates: [{"id","name","description","example_seed"}]. */
struct json_object *catalog_list_json(const struct dgen_catalog *t);

/* Reads a pipeline given on a command line: a template id, or a file
 * (.yaml/.yml as a template file, anything else as a JSON definition). */
int catalog_resolve_pipeline(const struct dgen_catalog *t, const char *arg,
			       struct json_object **def, struct dgen_err *err);

#endif
