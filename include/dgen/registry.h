/*
 * registry.h - the block types a process knows: the builtins plus plugins.
 *
 * A registry starts with the builtin types (blocks_builtin()) and can load
 * plugin blocks: every regular file named *.so in a directory (config
 * DGEN_BLOCKS_DIR) is opened with dlopen(RTLD_NOW | RTLD_LOCAL) and must
 * export
 *
 *     const struct dgen_block_type *dgen_block_plugin(size_t *n);
 *
 * returning an array of *n block types (static storage in the plugin).
 * Every type must carry abi == DGEN_BLOCK_ABI, a non-empty type id, an
 * execute function and outputs; a type id already known (a builtin or an
 * earlier plugin) is refused, so a plugin can never shadow a builtin. A
 * plugin file with any such problem is skipped as a whole, logged with
 * dgen_warn (file and reason, dlerror() text included) and kept in the
 * registry's list of load problems. Plugins may use libc and json-c; the
 * dgen library's own functions are not guaranteed to be exported by the
 * binaries (see contrib/plugin-example/).
 *
 * Ownership: registry_new() allocates; registry_free() releases the
 * registry and dlcloses its plugins (after every pipeline built from it is
 * freed). Type pointers stay valid until then. Functions that build JSON
 * return one new reference the caller puts. A loaded registry is read-only
 * and may be shared by any number of threads.
 */
#ifndef DGEN_REGISTRY_H
#define DGEN_REGISTRY_H

#include <stddef.h>
#include <json-c/json.h>

#include "dgen/block.h"
#include "dgen/err.h"

#define DGEN_BLOCK_PLUGIN_SYMBOL "dgen_block_plugin"
typedef const struct dgen_block_type *(*dgen_block_plugin_fn)(size_t *n);
/* What a plugin defines (declared here for plugins; dgen defines none). */
const struct dgen_block_type *dgen_block_plugin(size_t *n);

struct dgen_registry;

/* A registry holding types[0..n), trusted as they are (the builtins:
 * blocks_registry() in blocks.h passes them; the engine itself knows no
 * block type, so it sits below the blocks). */
struct dgen_registry *registry_new(const struct dgen_block_type *const *types, size_t n);
void registry_free(struct dgen_registry *r);

/* Adds one type (tests, embedders). Refuses a bad ABI, a missing type id
 * or execute function, or a duplicate id: DGEN_EINVALID. The type must
 * outlive the registry. */
int registry_add(struct dgen_registry *r, const struct dgen_block_type *t,
		 struct dgen_err *err);

/* Loads every *.so in dir (sorted by name). dir NULL or "" loads nothing.
 * Broken plugins are reported and skipped, never fatal; only an unreadable
 * directory is an error (DGEN_EIO). Returns the number of types added. */
int registry_load_dir(struct dgen_registry *r, const char *dir, struct dgen_err *err);

/* Load problems so far: [{"file": path, "error": reason}], borrowed. */
struct json_object *registry_problems(const struct dgen_registry *r);

size_t registry_count(const struct dgen_registry *r);
const struct dgen_block_type *registry_at(const struct dgen_registry *r, size_t i);
/* NULL for an unknown type id. */
const struct dgen_block_type *registry_find(const struct dgen_registry *r, const char *type);
/* New array of every type id, in listing order. */
struct json_object *registry_type_ids(const struct dgen_registry *r);

/* GET /api/blocks: a new array of {type, name, description, category,
 * inputs, outputs, is_multiplier, config_schema}. */
struct json_object *registry_blocks_json(const struct dgen_registry *r);
/* One type's entry of that array. */
struct json_object *registry_block_json(const struct dgen_block_type *t);
/* A type's config as JSON Schema (SPEC.md §1), properties in declaration
 * order. */
struct json_object *registry_config_schema(const struct dgen_block_type *t);

/*
 * Checks config (an object, or NULL for none) against t's parameter table
 * and returns in *out a new object holding every given value and the
 * defaults of the absent parameters, in declaration order. `path` names the
 * config in errors ("blocks[1].config"). Errors (DGEN_EINVALID, detail
 * {"field": "<path>.<key>", ...}): config not an object, unknown key
 * ("allowed": names), wrong type ("expected": type), value outside the enum
 * ("allowed": values), missing required parameter. A JSON null is accepted
 * for nullable parameters and otherwise means "use the default".
 */
int registry_check_config(const struct dgen_block_type *t, struct json_object *config,
			  const char *path, struct json_object **out, struct dgen_err *err);

#endif
