/*
 * catalog.c - the catalog of pipeline templates, from YAML files, and
 * the YAML reader behind them (libyaml events -> json-c values).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "dgen/buf.h"
#include "dgen/file.h"
#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/catalog.h"
#include "dgen/util.h"

const struct dgen_yaml_limits templates_yaml_default_limits = {
	.max_bytes = 1024 * 1024,
	.max_depth = 64,
	.max_nodes = 100000,
};

/* ---------------------------------------------------------------- YAML */

struct yctx {
	yaml_parser_t parser;
	const struct dgen_yaml_limits *lim;
	size_t nodes;
	struct dgen_err *err;
};

static int yerr_at(struct yctx *y, const yaml_mark_t *m, enum dgen_errcode code,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int yerr_at(struct yctx *y, const yaml_mark_t *m, enum dgen_errcode code,
		   const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dgen_err_set(y->err, code, "YAML error at line %zu: %s", (size_t)m->line + 1, msg);
	dgen_err_detail_int(y->err, "line", (long long)m->line + 1);
	dgen_err_detail_int(y->err, "column", (long long)m->column + 1);
	return -1;
}

static int next_event(struct yctx *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev)) {
		const char *problem = y->parser.problem ? y->parser.problem : "syntax error";
		yaml_mark_t m = y->parser.problem_mark;

		if (y->parser.context) {
			char both[300];

			snprintf(both, sizeof both, "%s %s", problem, y->parser.context);
			return yerr_at(y, &m, DGEN_EINVALID, "%s", both);
		}
		return yerr_at(y, &m, DGEN_EINVALID, "%s", problem);
	}
	return 0;
}

/* Whole-string matches of the YAML 1.2 core schema, plus what JSON can hold. */
static bool is_null_word(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static int bool_word(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* s past a run of ASCII digits (s itself when there is none). */
static const char *skip_digits(const char *s)
{
	while (*s >= '0' && *s <= '9')
		s++;
	return s;
}

/* True when s is an optional exponent, [eE][-+]?[0-9]+, and nothing else:
 * the common end of the JSON and YAML number grammars. */
static bool exponent_ends(const char *s)
{
	const char *d;

	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if ((d = skip_digits(s)) == s)
			return false;
		s = d;
	}
	return *s == '\0';
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number_text(const char *s)
{
	const char *d;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		s = skip_digits(s);
	else
		return false;
	if (*s == '.') {
		if ((d = skip_digits(s + 1)) == s + 1)
			return false;
		s = d;
	}
	return exponent_ends(s);
}

/* YAML 1.2 float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_float_text(const char *s)
{
	const char *d;
	bool digits;

	if (*s == '-' || *s == '+')
		s++;
	d = skip_digits(s);
	digits = d != s;
	s = d;
	if (*s == '.') {
		d = skip_digits(s + 1);
		digits = digits || d != s + 1;
		s = d;
	}
	return digits && exponent_ends(s);
}

/*
 * A plain scalar resolved the way YAML 1.2's core schema does, except
 * .inf/.nan (JSON has no such numbers) and integers past 64 bits, which
 * stay strings. Octal 0o and hex 0x integers are read as numbers.
 */
static struct json_object *plain_scalar(const char *s, size_t len)
{
	int b;
	const char *digits = s;
	bool neg = false;

	if (strlen(s) != len) /* embedded NUL: keep the text as it is */
		return json_object_new_string_len(s, (int)len);
	if (is_null_word(s))
		return NULL;
	if ((b = bool_word(s)) >= 0)
		return json_object_new_boolean(b);
	if (*digits == '-' || *digits == '+') {
		neg = *digits == '-';
		digits++;
	}
	if (all_digits(digits)) {
		long long v;

		errno = 0;
		v = strtoll(s, NULL, 10);
		if (errno == 0)
			return json_object_new_int64(v);
		return json_object_new_string(s);
	}
	if (!neg && digits == s && (strncmp(s, "0x", 2) == 0 || strncmp(s, "0o", 2) == 0)) {
		int base = s[1] == 'x' ? 16 : 8;
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(s + 2, &end, base);
		if (s[2] && !*end && errno == 0 && v <= LLONG_MAX)
			return json_object_new_int64((long long)v);
		return json_object_new_string(s);
	}
	if (yaml_float_text(s)) {
		double d = strtod(s, NULL);

		if (!isfinite(d))
			return json_object_new_string(s);
		if (json_number_text(s))
			return json_object_new_double_s(d, s);
		return dgen_json_new_double(d);
	}
	return json_object_new_string(s);
}

static int parse_node(struct yctx *y, yaml_event_t *ev, int depth, struct json_object **out);

static int count_node(struct yctx *y, const yaml_mark_t *m)
{
	if (++y->nodes > y->lim->max_nodes) {
		yerr_at(y, m, DGEN_ETOOBIG, "more than the allowed number of values");
		dgen_err_detail_int(y->err, "limit", (long long)y->lim->max_nodes);
		return -1;
	}
	return 0;
}

static int parse_sequence(struct yctx *y, int depth, struct json_object **out)
{
	struct json_object *a = json_object_new_array();

	for (;;) {
		yaml_event_t ev;
		struct json_object *v = NULL;

		if (next_event(y, &ev) != 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (parse_node(y, &ev, depth + 1, &v) != 0)
			goto fail;
		json_object_array_add(a, v);
	}
	*out = a;
	return 0;
fail:
	json_object_put(a);
	return -1;
}

/* Keys must be scalars without NUL bytes and appear once: with a repeated
 * key, which value counts would depend on the reader, so the template
 * would not mean what it reads. */
static int parse_mapping(struct yctx *y, int depth, struct json_object **out)
{
	struct json_object *o = json_object_new_object();

	for (;;) {
		yaml_event_t ev;
		struct json_object *v = NULL;
		char *key;

		if (next_event(y, &ev) != 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			yerr_at(y, &ev.start_mark, DGEN_EINVALID,
				"mapping keys must be plain text");
			yaml_event_delete(&ev);
			goto fail;
		}
		if (strlen((char *)ev.data.scalar.value) != ev.data.scalar.length) {
			yerr_at(y, &ev.start_mark, DGEN_EINVALID, "a key contains a NUL byte");
			yaml_event_delete(&ev);
			goto fail;
		}
		key = dgen_xstrdup((char *)ev.data.scalar.value);
		if (json_object_object_get_ex(o, key, NULL)) {
			yerr_at(y, &ev.start_mark, DGEN_EINVALID, "duplicate key '%s'", key);
			yaml_event_delete(&ev);
			free(key);
			goto fail;
		}
		if (count_node(y, &ev.start_mark) != 0) {
			yaml_event_delete(&ev);
			free(key);
			goto fail;
		}
		yaml_event_delete(&ev);
		if (next_event(y, &ev) != 0 || parse_node(y, &ev, depth + 1, &v) != 0) {
			free(key);
			goto fail;
		}
		json_object_object_add(o, key, v);
		free(key);
	}
	*out = o;
	return 0;
fail:
	json_object_put(o);
	return -1;
}

/* Consumes ev (and, for collections, everything up to their end). */
static int parse_node(struct yctx *y, yaml_event_t *ev, int depth, struct json_object **out)
{
	yaml_mark_t m = ev->start_mark;
	int rc = -1;

	*out = NULL;
	if (depth > y->lim->max_depth) {
		yerr_at(y, &m, DGEN_ETOOBIG, "nested deeper than the limit");
		dgen_err_detail_int(y->err, "limit", y->lim->max_depth);
		goto out;
	}
	if (count_node(y, &m) != 0)
		goto out;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		yerr_at(y, &m, DGEN_EINVALID, "aliases (*%s) are not supported",
			(char *)ev->data.alias.anchor);
		break;
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t len = ev->data.scalar.length;
		const char *tag = (const char *)ev->data.scalar.tag;

		if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag && strcmp(tag, YAML_STR_TAG) == 0))
			*out = json_object_new_string_len(s, (int)len);
		else
			*out = plain_scalar(s, len);
		rc = 0;
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
		rc = parse_sequence(y, depth, out);
		break;
	case YAML_MAPPING_START_EVENT:
		rc = parse_mapping(y, depth, out);
		break;
	default:
		yerr_at(y, &m, DGEN_EINVALID, "unexpected YAML event");
		break;
	}
out:
	yaml_event_delete(ev);
	return rc;
}

/* Skips events until one of type t arrives; -1 on error or anything else. */
static int expect(struct yctx *y, yaml_event_type_t t, yaml_event_t *ev)
{
	if (next_event(y, ev) != 0)
		return -1;
	if (ev->type != t) {
		yerr_at(y, &ev->start_mark, DGEN_EINVALID, "%s",
			t == YAML_STREAM_END_EVENT ? "only one YAML document is allowed"
						   : "unexpected content");
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

/* One document only, under the size and depth limits, so that a user
 * template cannot make the API allocate without bound. */
int catalog_yaml_parse(const char *text, size_t len, const struct dgen_yaml_limits *lim,
			 struct json_object **out, struct dgen_err *err)
{
	struct yctx y;
	yaml_event_t ev;
	struct json_object *v = NULL;
	int rc = -1;

	*out = NULL;
	if (!lim)
		lim = &templates_yaml_default_limits;
	if (len > lim->max_bytes) {
		dgen_err_set(err, DGEN_ETOOBIG, "YAML text is %zu bytes; the limit is %zu", len,
			     lim->max_bytes);
		dgen_err_detail_int(err, "limit", (long long)lim->max_bytes);
		return -1;
	}
	memset(&y, 0, sizeof y);
	y.lim = lim;
	y.err = err;
	if (!yaml_parser_initialize(&y.parser))
		return dgen_err_set(err, DGEN_EINTERNAL, "cannot start the YAML parser");
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);

	if (expect(&y, YAML_STREAM_START_EVENT, &ev) != 0)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&y, &ev) != 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) { /* empty text: null */
		yaml_event_delete(&ev);
		rc = 0;
		goto out;
	}
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yerr_at(&y, &ev.start_mark, DGEN_EINVALID, "expected a YAML document");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	if (next_event(&y, &ev) != 0 || parse_node(&y, &ev, 1, &v) != 0)
		goto out;
	if (expect(&y, YAML_DOCUMENT_END_EVENT, &ev) != 0)
		goto out;
	yaml_event_delete(&ev);
	if (expect(&y, YAML_STREAM_END_EVENT, &ev) != 0)
		goto out;
	yaml_event_delete(&ev);
	*out = v;
	v = NULL;
	rc = 0;
out:
	json_object_put(v);
	yaml_parser_delete(&y.parser);
	return rc;
}

/* ------------------------------------------------------------ templates */

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/*
 * Checks the shape of a template document and builds the definition
 * {name, blocks, constraints?}. Block configs are checked later, against
 * the registry, when a pipeline is made from the template.
 */
static int template_definition(struct json_object *doc, struct json_object **def,
			       char **description, struct dgen_err *err)
{
	static const char *const keys[] = { "name", "description", "blocks", "constraints",
					    NULL };
	const char *name = NULL, *desc = "";
	struct json_object *blocks = NULL, *cons = NULL, *d;

	if (!doc || !json_object_is_type(doc, json_type_object))
		return dgen_err_set(err, DGEN_EINVALID,
				    "a template must be a mapping with name, description and blocks");
	if (dgen_json_only_keys(doc, "", keys, err) != 0 ||
	    dgen_json_get_str(doc, "", "name", true, &name, err) != 0 ||
	    dgen_json_get_str(doc, "", "description", false, &desc, err) != 0 ||
	    dgen_json_get_arr(doc, "", "blocks", true, &blocks, err) != 0 ||
	    dgen_json_get_obj(doc, "", "constraints", false, &cons, err) != 0)
		goto bad;
	for (size_t i = 0; i < json_object_array_length(blocks); i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i), *cfg = NULL;
		const char *type;
		char *path = dgen_xasprintf("blocks[%zu]", i);
		int rc = 0;

		if (!b || !json_object_is_type(b, json_type_object))
			rc = dgen_json_type_error(err, DGEN_EINVALID, path, NULL, "a mapping");
		else if (dgen_json_get_str(b, path, "type", true, &type, err) != 0 ||
			 dgen_json_get_obj(b, path, "config", false, &cfg, err) != 0)
			rc = -1;
		free(path);
		if (rc != 0)
			goto bad;
	}
	d = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "blocks", json_object_get(blocks));
	if (cons)
		json_object_object_add(d, "constraints", json_object_get(cons));
	*def = d;
	if (description)
		*description = dgen_xstrdup(desc);
	return 0;
bad:
	err->code = DGEN_EINVALID; /* a template file is never a "bad request" */
	return -1;
}

int catalog_load_file(const char *path, struct json_object **def, char **description,
			struct dgen_err *err)
{
	char *text = NULL;
	size_t len = 0;
	struct json_object *doc = NULL;
	int rc = -1;

	*def = NULL;
	if (dgen_file_read_capped(path, templates_yaml_default_limits.max_bytes, &text, &len,
				  err) != 0)
		return -1;
	if (catalog_yaml_parse(text, len, NULL, &doc, err) != 0)
		goto out;
	rc = template_definition(doc, def, description, err);
out:
	if (rc != 0 && err->msg[0] && strncmp(err->msg, path, strlen(path)) != 0) {
		char *m = dgen_xasprintf("%s: %s", path, err->msg);

		snprintf(err->msg, sizeof err->msg, "%s", m);
		free(m);
	}
	json_object_put(doc);
	free(text);
	return rc;
}

static bool valid_id(const char *s, size_t len)
{
	if (len == 0 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static void add_problem(struct dgen_catalog *t, const char *file, const struct dgen_err *e)
{
	struct json_object *p = json_object_new_object(), *line = NULL;

	json_object_object_add(p, "file", json_object_new_string(file));
	if (e->detail && json_object_object_get_ex(e->detail, "line", &line))
		json_object_object_add(p, "line", json_object_get(line));
	json_object_object_add(p, "error", json_object_new_string(e->msg));
	json_object_array_add(t->problems, p);
	dgen_warn("template skipped: %s", e->msg);
}

static char *find_seed(const char *dir, const char *id)
{
	static const char *const exts[] = { ".json", ".md", NULL };

	for (size_t i = 0; exts[i]; i++) {
		char *p = dgen_xasprintf("%s/seeds/seed_%s%s", dir, id, exts[i]);
		struct stat st;

		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			return p;
		free(p);
	}
	return NULL;
}

/* A file that does not load becomes a listed problem instead of hiding
 * the other templates; ids are file names, and builtins win a clash. */
static void load_dir(struct dgen_catalog *t, const char *dir, bool builtin)
{
	DIR *d;
	struct dirent *de;

	if (!dir || !*dir)
		return;
	if (!(d = opendir(dir))) {
		dgen_warn("templates directory %s: %s", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), stem;
		struct dgen_pipeline_template tp;
		struct dgen_err e = DGEN_ERR_INIT;
		char *path, *id;

		if (de->d_name[0] == '.')
			continue;
		if (has_suffix(de->d_name, ".yaml"))
			stem = len - 5;
		else if (has_suffix(de->d_name, ".yml"))
			stem = len - 4;
		else
			continue;
		path = dgen_xasprintf("%s/%s", dir, de->d_name);
		if (!valid_id(de->d_name, stem)) {
			dgen_err_set(&e, DGEN_EINVALID,
				     "%s: a template file name must be letters, digits, _ or -",
				     path);
			add_problem(t, path, &e);
			dgen_err_clear(&e);
			free(path);
			continue;
		}
		id = dgen_xstrndup(de->d_name, stem);
		if (catalog_find(t, id)) {
			/* builtins load first, so a builtin id always wins */
			dgen_warn("template %s: id '%s' is already taken; file ignored", path, id);
			free(id);
			free(path);
			continue;
		}
		memset(&tp, 0, sizeof tp);
		if (catalog_load_file(path, &tp.definition, &tp.description, &e) != 0) {
			add_problem(t, path, &e);
			dgen_err_clear(&e);
			free(id);
			free(path);
			continue;
		}
		tp.id = id;
		tp.path = path;
		tp.builtin = builtin;
		tp.name = dgen_xstrdup(json_object_get_string(
			json_object_object_get(tp.definition, "name")));
		tp.seed_path = find_seed(dir, id);
		t->v = dgen_xrealloc(t->v, (t->n + 1) * sizeof *t->v);
		t->v[t->n++] = tp;
	}
	closedir(d);
}

static int cmp_tpl(const void *a, const void *b)
{
	return strcmp(((const struct dgen_pipeline_template *)a)->id,
		      ((const struct dgen_pipeline_template *)b)->id);
}

void catalog_load(const char *builtin_dir, const char *user_dir, struct dgen_catalog *out)
{
	memset(out, 0, sizeof *out);
	out->problems = json_object_new_array();
	load_dir(out, builtin_dir, true);
	load_dir(out, user_dir, false);
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, cmp_tpl);
}

void catalog_free(struct dgen_catalog *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].id);
		free(t->v[i].name);
		free(t->v[i].description);
		free(t->v[i].path);
		free(t->v[i].seed_path);
		json_object_put(t->v[i].definition);
	}
	free(t->v);
	json_object_put(t->problems);
	memset(t, 0, sizeof *t);
}

const struct dgen_pipeline_template *catalog_find(const struct dgen_catalog *t,
						     const char *id)
{
	for (size_t i = 0; id && i < t->n; i++)
		if (strcmp(t->v[i].id, id) == 0)
			return &t->v[i];
	return NULL;
}

/* The seed file next to a template, for the UI to show: markdown as its
 * text, JSON parsed; an unreadable one is logged and left out, not an
 * error. */
struct json_object *catalog_example_seed(const struct dgen_pipeline_template *tp)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *v = NULL;
	char *text = NULL;
	size_t len = 0;

	if (!tp->seed_path)
		return NULL;
	if (dgen_file_read_capped(tp->seed_path, dgen_json_default_limits.max_bytes, &text, &len,
				  &e) != 0)
		goto out;
	if (has_suffix(tp->seed_path, ".md")) {
		if (dgen_utf8_valid(text, len))
			v = json_object_new_string_len(text, (int)len);
		else
			dgen_warn("example seed %s is not UTF-8 text", tp->seed_path);
	} else if (dgen_json_parse(text, len, NULL, &v, &e) != 0) {
		v = NULL;
	}
out:
	if (e.code != DGEN_OK)
		dgen_warn("example seed %s: %s", tp->seed_path, e.msg);
	dgen_err_clear(&e);
	free(text);
	return v;
}

struct json_object *catalog_list_json(const struct dgen_catalog *t)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < t->n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(t->v[i].id));
		json_object_object_add(o, "name", json_object_new_string(t->v[i].name));
		json_object_object_add(o, "description",
				       json_object_new_string(t->v[i].description));
		json_object_object_add(o, "example_seed", catalog_example_seed(&t->v[i]));
		json_object_array_add(a, o);
	}
	return a;
}

/* A command-line argument names a file when one exists at that path
 * (YAML by its extension, else JSON), else a template id; an error from a
 * JSON file is prefixed with its path. */
int catalog_resolve_pipeline(const struct dgen_catalog *t, const char *arg,
			       struct json_object **def, struct dgen_err *err)
{
	const struct dgen_pipeline_template *tp;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*def = NULL;
	if (stat(arg, &st) != 0) {
		if ((tp = catalog_find(t, arg))) {
			*def = json_object_get(tp->definition);
			return 0;
		}
		dgen_err_set(err, DGEN_ENOTFOUND, "'%s' is neither a template id nor a file", arg);
		dgen_err_detail_str(err, "pipeline", arg);
		return -1;
	}
	if (has_suffix(arg, ".yaml") || has_suffix(arg, ".yml"))
		return catalog_load_file(arg, def, NULL, err);
	if (dgen_file_read_capped(arg, dgen_json_default_limits.max_bytes, &text, &len,
				  err) != 0)
		return -1;
	rc = dgen_json_parse(text, len, NULL, def, err);
	free(text);
	if (rc != 0) {
		char *m = dgen_xasprintf("%s: %s", arg, err->msg);

		snprintf(err->msg, sizeof err->msg, "%s", m);
		free(m);
	}
	return rc;
}
