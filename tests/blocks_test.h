/*
 * blocks_test.h - running one block the way the engine does, for the
 * block tests: parse the config and state from JSON text, init, execute,
 * free. Header-only (each test is one translation unit).
 */
#ifndef DGEN_BLOCKS_TEST_H
#define DGEN_BLOCKS_TEST_H

#include <json-c/json.h>
#include <string.h>

#include "dgen/block.h"
#include "dgen/blocks.h"
#include "dgen/err.h"
#include "dgen/json.h"
#include "tap.h"

/* The config as the engine hands it over: the given keys plus every
 * missing parameter's default. */
static inline struct json_object *bt_config(const struct dgen_block_type *t, const char *json)
{
	struct json_object *cfg = json_tokener_parse(json ? json : "{}");

	for (size_t i = 0; i < t->n_params; i++) {
		const struct dgen_block_param *p = &t->params[i];

		if (!json_object_object_get_ex(cfg, p->name, NULL) && p->default_json)
			json_object_object_add(cfg, p->name, json_tokener_parse(p->default_json));
	}
	return cfg;
}

/* Runs t on state; returns the output (caller puts) or NULL with err set. */
static inline struct json_object *bt_run(const struct dgen_block_type *t, const char *config,
					 const char *state, struct dgen_block_ctx *ctx,
					 struct dgen_err *err)
{
	struct json_object *cfg = bt_config(t, config), *in = json_tokener_parse(state);
	struct json_object *out = NULL;
	struct dgen_block_ctx none = { 0 };
	void *st = NULL;

	if (!t->init || t->init(cfg, &st, err) == 0) {
		if (t->execute(st, cfg, ctx ? ctx : &none, in, &out, err) != 0)
			out = NULL;
		if (t->free)
			t->free(st);
	}
	json_object_put(cfg);
	json_object_put(in);
	return out;
}

/* Runs t and returns out[key] as a double (or -1 on failure). */
static inline double bt_num(const struct dgen_block_type *t, const char *config,
			    const char *state, const char *key)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *out = bt_run(t, config, state, NULL, &e), *v = NULL;
	double r = -1.0;

	if (out && json_object_object_get_ex(out, key, &v))
		r = json_object_get_double(v);
	if (!out)
		diag("%s failed: %s", t->type, e.msg);
	json_object_put(out);
	dgen_err_clear(&e);
	return r;
}

/* Compact JSON of the output, or "ERROR: msg"; caller frees. */
static inline char *bt_json(const struct dgen_block_type *t, const char *config, const char *state)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *out = bt_run(t, config, state, NULL, &e);
	char *r;

	if (out) {
		r = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		size_t n = strlen(e.msg) + 8;

		r = malloc(n);
		snprintf(r, n, "ERROR: %s", e.msg);
	}
	json_object_put(out);
	dgen_err_clear(&e);
	return r;
}

#define is_json(t, cfg, state, want, ...) do { \
	char *got_ = bt_json((t), (cfg), (state)); \
	is_str(got_, (want), __VA_ARGS__); \
	free(got_); \
} while (0)

/* init() refuses the config cfg, naming field in detail.field. */
static inline void bt_init_error(const struct dgen_block_type *t, const char *cfg,
				 const char *field, const char *what)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *config = bt_config(t, cfg), *f = NULL;
	void *st = NULL;
	int rc = t->init(config, &st, &e);

	ok(rc != 0 && e.code == DGEN_EINVALID && e.detail &&
		   json_object_object_get_ex(e.detail, "field", &f) &&
		   strcmp(json_object_get_string(f), field) == 0,
	   "%s: %s (%s)", t->type, what, e.msg);
	if (rc == 0 && t->free)
		t->free(st);
	json_object_put(config);
	dgen_err_clear(&e);
}

#endif
