/*
 * registry.c - the known block types: builtins, then plugins from a
 * directory; lookup by type id; GET /api/blocks and config checking, both
 * generated from each type's parameter table.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dgen/buf.h"
#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/registry.h"
#include "dgen/util.h"

struct dgen_registry {
	const struct dgen_block_type **types;
	size_t n, cap;
	void **handles; /* dlopen handles of loaded plugins */
	size_t n_handles;
	struct json_object *problems;
};

/* Refuses types that would crash or confuse the engine later. */
static int check_type(const struct dgen_registry *r, const struct dgen_block_type *t,
		      struct dgen_err *err)
{
	if (!t)
		return dgen_err_set(err, DGEN_EINVALID, "block type is NULL");
	if (t->abi != DGEN_BLOCK_ABI)
		return dgen_err_set(err, DGEN_EINVALID,
				    "block type has ABI version %d, this dgen needs %d",
				    t->abi, DGEN_BLOCK_ABI);
	if (!t->type || !*t->type)
		return dgen_err_set(err, DGEN_EINVALID, "block type has no type id");
	if (!t->execute || !t->outputs)
		return dgen_err_set(err, DGEN_EINVALID,
				    "block type '%s' has no execute function or no outputs",
				    t->type);
	if (t->n_params && !t->params)
		return dgen_err_set(err, DGEN_EINVALID, "block type '%s' has no parameter table",
				    t->type);
	if (registry_find(r, t->type))
		return dgen_err_set(err, DGEN_EINVALID,
				    "block type '%s' is already registered", t->type);
	return 0;
}

static void push_type(struct dgen_registry *r, const struct dgen_block_type *t)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->types = dgen_xrealloc(r->types, r->cap * sizeof *r->types);
	}
	r->types[r->n++] = t;
}

struct dgen_registry *registry_new(const struct dgen_block_type *const *types, size_t n)
{
	struct dgen_registry *r = dgen_xcalloc(1, sizeof *r);

	r->problems = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		push_type(r, types[i]);
	return r;
}

void registry_free(struct dgen_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_handles; i++)
		dlclose(r->handles[i]);
	free(r->handles);
	free(r->types);
	json_object_put(r->problems);
	free(r);
}

int registry_add(struct dgen_registry *r, const struct dgen_block_type *t,
		 struct dgen_err *err)
{
	if (check_type(r, t, err) != 0)
		return -1;
	push_type(r, t);
	return 0;
}

static void problem(struct dgen_registry *r, const char *file, const char *reason)
{
	struct json_object *p = json_object_new_object();

	dgen_warn("block plugin %s skipped: %s", file, reason);
	json_object_object_add(p, "file", json_object_new_string(file));
	json_object_object_add(p, "error", json_object_new_string(reason));
	json_object_array_add(r->problems, p);
}

/*
 * Opens one plugin and adds all its types, or none: a plugin is a unit,
 * so a half-registered plugin can never surprise a user. Returns the
 * number of types added, or -1 (reported and recorded) when skipped.
 */
static int load_plugin(struct dgen_registry *r, const char *path)
{
	void *h;
	dgen_block_plugin_fn fn;
	const struct dgen_block_type *types;
	size_t n = 0, before = r->n;
	struct dgen_err err = DGEN_ERR_INIT;
	char *reason;

	dlerror();
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();

		problem(r, path, e ? e : "dlopen failed");
		return -1;
	}
	*(void **)(&fn) = dlsym(h, DGEN_BLOCK_PLUGIN_SYMBOL);
	if (!fn) {
		const char *e = dlerror();

		reason = dgen_xasprintf("no symbol %s: %s", DGEN_BLOCK_PLUGIN_SYMBOL,
					e ? e : "not found");
		goto fail;
	}
	types = fn(&n);
	if (!types || n == 0) {
		reason = dgen_xstrdup("the plugin declares no block types");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_type(r, &types[i], &err) != 0) {
			r->n = before; /* drop this plugin's earlier types */
			reason = dgen_xstrdup(err.msg);
			dgen_err_clear(&err);
			goto fail;
		}
		push_type(r, &types[i]);
	}
	r->handles = dgen_xrealloc(r->handles, (r->n_handles + 1) * sizeof *r->handles);
	r->handles[r->n_handles++] = h;
	dgen_info("block plugin %s: %zu block type(s)", path, n);
	return (int)n;
fail:
	problem(r, path, reason);
	free(reason);
	dlclose(h);
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Plugins load in name order, so that when two declare the same type
 * name, which one is refused does not depend on the directory's order. A
 * bad plugin is a listed problem, not a failure of the whole directory. */
int registry_load_dir(struct dgen_registry *r, const char *dir, struct dgen_err *err)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int added = 0;

	if (!dir || !*dir)
		return 0;
	if (!(d = opendir(dir)))
		return dgen_err_set(err, DGEN_EIO, "cannot open blocks directory %s: %s", dir,
				    strerror(errno));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		names = dgen_xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = dgen_xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode))
			problem(r, names[i], "not a regular file");
		else {
			int k = load_plugin(r, names[i]);

			if (k > 0)
				added += k;
		}
		free(names[i]);
	}
	free(names);
	return added;
}

struct json_object *registry_problems(const struct dgen_registry *r)
{
	return r->problems;
}

size_t registry_count(const struct dgen_registry *r)
{
	return r->n;
}

const struct dgen_block_type *registry_at(const struct dgen_registry *r, size_t i)
{
	return i < r->n ? r->types[i] : NULL;
}

const struct dgen_block_type *registry_find(const struct dgen_registry *r, const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->types[i]->type, type) == 0)
			return r->types[i];
	return NULL;
}

struct json_object *registry_type_ids(const struct dgen_registry *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->n; i++)
		json_object_array_add(a, json_object_new_string(r->types[i]->type));
	return a;
}

static struct json_object *str_list(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; v && v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static const char *type_name(enum dgen_param_type t)
{
	switch (t) {
	case DGEN_PARAM_STRING: return "string";
	case DGEN_PARAM_INTEGER: return "integer";
	case DGEN_PARAM_NUMBER: return "number";
	case DGEN_PARAM_BOOLEAN: return "boolean";
	case DGEN_PARAM_STRING_LIST: return "array";
	case DGEN_PARAM_SCHEMA: return "object";
	case DGEN_PARAM_INT_OR_TEMPLATE: return "integer";
	}
	return "string";
}

/* What a person reads in a type error. */
static const char *type_phrase(enum dgen_param_type t)
{
	switch (t) {
	case DGEN_PARAM_STRING: return "a string";
	case DGEN_PARAM_INTEGER: return "an integer";
	case DGEN_PARAM_NUMBER: return "a number";
	case DGEN_PARAM_BOOLEAN: return "true or false";
	case DGEN_PARAM_STRING_LIST: return "an array of strings";
	case DGEN_PARAM_SCHEMA: return "an object or a string";
	case DGEN_PARAM_INT_OR_TEMPLATE: return "an integer or a template string";
	}
	return "a string";
}

/* Parses a parameter's default text; a broken default is a bug in the
 * block, so it is logged once per use and treated as absent. */
static struct json_object *param_default(const struct dgen_block_type *t,
					 const struct dgen_block_param *p)
{
	struct json_object *v;
	enum json_tokener_error jerr;

	if (!p->default_json)
		return NULL;
	v = json_tokener_parse_verbose(p->default_json, &jerr);
	if (!v && jerr != json_tokener_success)
		dgen_error("block %s: default of '%s' is not JSON: %s", t->type, p->name,
			   p->default_json);
	return v;
}

/* The JSON Schema of one parameter, as GET /api/blocks shows it to the
 * UI: type, default, enum and description, plus the UI's hints (field
 * reference, item type, format). */
static struct json_object *param_schema(const struct dgen_block_type *t,
					const struct dgen_block_param *p)
{
	struct json_object *s = json_object_new_object();
	struct json_object *ty;

	if (p->type == DGEN_PARAM_SCHEMA || p->type == DGEN_PARAM_INT_OR_TEMPLATE) {
		ty = json_object_new_array();
		json_object_array_add(ty, json_object_new_string(type_name(p->type)));
		json_object_array_add(ty, json_object_new_string("string"));
		if (p->nullable)
			json_object_array_add(ty, json_object_new_string("null"));
	} else if (p->nullable) {
		ty = json_object_new_array();
		json_object_array_add(ty, json_object_new_string(type_name(p->type)));
		json_object_array_add(ty, json_object_new_string("null"));
	} else {
		ty = json_object_new_string(type_name(p->type));
	}
	json_object_object_add(s, "type", ty);
	if (p->default_json) {
		struct json_object *d = param_default(t, p);

		/* a JSON null default is still a default worth showing */
		if (d || strcmp(p->default_json, "null") == 0)
			json_object_object_add(s, "default", d);
	}
	if (p->enum_values)
		json_object_object_add(s, "enum", str_list(p->enum_values));
	if (p->description)
		json_object_object_add(s, "description", json_object_new_string(p->description));
	if (p->field_ref)
		json_object_object_add(s, "isFieldReference", json_object_new_boolean(1));
	if (p->type == DGEN_PARAM_STRING_LIST) {
		struct json_object *items = json_object_new_object();

		json_object_object_add(items, "type", json_object_new_string("string"));
		json_object_object_add(s, "items", items);
	}
	if (p->format)
		json_object_object_add(s, "format", json_object_new_string(p->format));
	return s;
}

struct json_object *registry_config_schema(const struct dgen_block_type *t)
{
	struct json_object *s = json_object_new_object();
	struct json_object *req = json_object_new_array();
	struct json_object *props = json_object_new_object();

	for (size_t i = 0; i < t->n_params; i++) {
		const struct dgen_block_param *p = &t->params[i];

		if (p->required)
			json_object_array_add(req, json_object_new_string(p->name));
		json_object_object_add(props, p->name, param_schema(t, p));
	}
	json_object_object_add(s, "type", json_object_new_string("object"));
	json_object_object_add(s, "required", req);
	json_object_object_add(s, "properties", props);
	return s;
}

struct json_object *registry_block_json(const struct dgen_block_type *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(t->type));
	json_object_object_add(o, "name", json_object_new_string(t->name ? t->name : t->type));
	json_object_object_add(o, "description",
			       json_object_new_string(t->description ? t->description : ""));
	json_object_object_add(o, "category",
			       json_object_new_string(t->category ? t->category : "general"));
	json_object_object_add(o, "inputs", str_list(t->inputs));
	json_object_object_add(o, "outputs", str_list(t->outputs));
	json_object_object_add(o, "is_multiplier", json_object_new_boolean(t->is_multiplier));
	json_object_object_add(o, "config_schema", registry_config_schema(t));
	return o;
}

struct json_object *registry_blocks_json(const struct dgen_registry *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->n; i++)
		json_object_array_add(a, registry_block_json(r->types[i]));
	return a;
}

/* Whether v has the JSON type the parameter declares (an integer is a
 * number; a schema may be a template string). */
static bool type_ok(enum dgen_param_type t, struct json_object *v)
{
	switch (t) {
	case DGEN_PARAM_STRING:
		return json_object_is_type(v, json_type_string);
	case DGEN_PARAM_INTEGER:
		return json_object_is_type(v, json_type_int);
	case DGEN_PARAM_NUMBER:
		return json_object_is_type(v, json_type_int) ||
		       json_object_is_type(v, json_type_double);
	case DGEN_PARAM_BOOLEAN:
		return json_object_is_type(v, json_type_boolean);
	case DGEN_PARAM_STRING_LIST:
		if (!json_object_is_type(v, json_type_array))
			return false;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i),
						 json_type_string))
				return false;
		return true;
	case DGEN_PARAM_SCHEMA:
		return json_object_is_type(v, json_type_object) ||
		       json_object_is_type(v, json_type_string);
	case DGEN_PARAM_INT_OR_TEMPLATE:
		return json_object_is_type(v, json_type_int) ||
		       json_object_is_type(v, json_type_string);
	}
	return false;
}

static int field_error(struct dgen_err *err, const char *field, const char *fmt_tail,
		       const char *extra)
{
	dgen_err_set(err, DGEN_EINVALID, "'%s' %s%s", field, fmt_tail, extra ? extra : "");
	dgen_err_detail_str(err, "field", field);
	return -1;
}

/* "a, b, c" for messages. */
static char *join_list(const char *const *v, size_t n)
{
	struct dgen_buf b = DGEN_BUF_INIT;

	for (size_t i = 0; i < n && v[i]; i++) {
		if (i)
			dgen_buf_puts(&b, ", ");
		dgen_buf_puts(&b, v[i]);
	}
	return dgen_buf_steal(&b);
}

/* Refuses the first key of config that is none of t's parameters, listing
 * the allowed ones: a typo is the likeliest mistake in a config. */
static int check_known_keys(const struct dgen_block_type *t, struct json_object *config,
			    const char *path, struct dgen_err *err)
{
	json_object_object_foreach(config, key, val) {
		struct json_object *allowed;
		const char **names;
		char *list, *field;
		bool known = false;

		(void)val;
		for (size_t i = 0; i < t->n_params && !known; i++)
			known = strcmp(t->params[i].name, key) == 0;
		if (known)
			continue;
		allowed = json_object_new_array();
		names = dgen_xcalloc(t->n_params + 1, sizeof *names);
		for (size_t i = 0; i < t->n_params; i++) {
			names[i] = t->params[i].name;
			json_object_array_add(allowed, json_object_new_string(names[i]));
		}
		list = join_list(names, t->n_params);
		field = dgen_json_path_key(path, key);
		dgen_err_set(err, DGEN_EINVALID, "'%s' is not a config key of %s (allowed: %s)",
			     field, t->type, *list ? list : "none");
		dgen_err_detail_str(err, "field", field);
		dgen_err_detail(err, "allowed", allowed);
		free(field);
		free(list);
		free(names);
		return -1;
	}
	return 0;
}

/* A string value of a parameter with enum_values must be one of them. */
static int check_enum(const struct dgen_block_param *p, struct json_object *v,
		      const char *field, struct dgen_err *err)
{
	const char *s;
	size_t ne = 0;
	char *list, *tail;

	if (!p->enum_values || !json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	for (; p->enum_values[ne]; ne++)
		if (strcmp(p->enum_values[ne], s) == 0)
			return 0;
	list = join_list(p->enum_values, ne);
	tail = dgen_xasprintf("must be one of: %s", list);
	field_error(err, field, tail, NULL);
	dgen_err_detail(err, "allowed", str_list(p->enum_values));
	free(tail);
	free(list);
	return -1;
}

/*
 * Parameter p of the given config into res: an explicit null kept for a
 * nullable parameter; a missing value refused when required, else its
 * default (when it has one); a present value checked for type and enum,
 * then copied (the caller's config stays untouched).
 */
static int check_param(const struct dgen_block_type *t, const struct dgen_block_param *p,
		       struct json_object *config, const char *field, struct json_object *res,
		       struct dgen_err *err)
{
	struct json_object *v = NULL;
	bool present = config && json_object_object_get_ex(config, p->name, &v);

	if (present && !v && p->nullable) {
		json_object_object_add(res, p->name, NULL);
		return 0;
	}
	if (!v) {
		struct json_object *d;

		if (p->required)
			return field_error(err, field, "is required", NULL);
		if (p->default_json && ((d = param_default(t, p)) || p->nullable))
			json_object_object_add(res, p->name, d);
		return 0;
	}
	if (!type_ok(p->type, v)) {
		char *what = dgen_xasprintf("must be %s%s", type_phrase(p->type),
					    p->nullable ? " or null" : "");

		field_error(err, field, what, NULL);
		dgen_err_detail_str(err, "expected", type_name(p->type));
		free(what);
		return -1;
	}
	if (check_enum(p, v, field, err) != 0)
		return -1;
	json_object_object_add(res, p->name, dgen_json_copy(v));
	return 0;
}

int registry_check_config(const struct dgen_block_type *t, struct json_object *config,
			  const char *path, struct json_object **out, struct dgen_err *err)
{
	struct json_object *res;

	*out = NULL;
	if (config && !json_object_is_type(config, json_type_object))
		return field_error(err, path, "must be an object", NULL);
	if (config && check_known_keys(t, config, path, err) != 0)
		return -1;
	res = json_object_new_object();
	for (size_t i = 0; i < t->n_params; i++) {
		char *field = dgen_json_path_key(path, t->params[i].name);
		int rc = check_param(t, &t->params[i], config, field, res, err);

		free(field);
		if (rc != 0) {
			json_object_put(res);
			return -1;
		}
	}
	*out = res;
	return 0;
}
