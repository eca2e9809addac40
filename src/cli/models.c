/*
 * models.c - `dgen models [--embedding] list|add|test|rm`: the named
 * models of SPEC.md §9 from a shell, over the same store and key file as
 * the API (keys are never printed).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dgen/db.h"
#include "dgen/json.h"
#include "dgen/modelcfg.h"
#include "dgen/saved_models.h"

#define MODELS_USAGE "usage: dgen models [--embedding] list | add JSON | test NAME | rm NAME"

/* One verb over an open store and loaded key. */
static int models_verb(struct cli *c, struct dgen_db *db, const struct dgen_secret_key *key,
		       enum dgen_model_kind kind, int argc, char **argv, struct dgen_err *err)
{
	struct json_object *o = NULL, *body = NULL;
	struct dgen_model m;
	bool key_given;
	int rc = -1;

	memset(&m, 0, sizeof m);
	if (strcmp(argv[0], "list") == 0 && argc == 1) {
		rc = saved_models_list(db, kind, &o, err);
	} else if (strcmp(argv[0], "add") == 0 && argc == 2) {
		rc = dgen_json_parse(argv[1], strlen(argv[1]), &dgen_json_default_limits, &body,
				     err) != 0 ||
		     model_from_json(body, kind, &m, &key_given, err) != 0 ||
		     saved_models_insert(db, kind, &m, key, err) != 0 ||
		     saved_models_get(db, kind, m.name, &o, err) != 0 ? -1 : 0;
	} else if (strcmp(argv[0], "rm") == 0 && argc == 2) {
		rc = saved_models_delete(db, kind, argv[1], err);
	} else if (strcmp(argv[0], "test") == 0 && argc == 2) {
		char msg[256];
		long ms = 0;
		bool okay;

		if (saved_models_get_full(db, kind, argv[1], key, &m, err) != 0)
			goto out;
		okay = modelcfg_test(&c->cfg, &m, kind, msg, sizeof msg, &ms);
		printf("%s: %s (%ld ms)\n", okay ? "ok" : "failed", msg, ms);
		rc = okay ? 0 : 1;
		goto out;
	} else {
		rc = -2;
		goto out;
	}
	if (rc == 0 && o)
		printf("%s\n", dgen_json_pretty(o));
out:
	model_clear(&m);
	json_object_put(o);
	json_object_put(body);
	return rc;
}

int cli_models(struct cli *c, int argc, char **argv)
{
	enum dgen_model_kind kind = DGEN_MODEL_LLM;
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_secret_key key;
	struct dgen_db *db = NULL;
	int rc;

	argc--;
	argv++;
	if (argc > 0 && strcmp(argv[0], "--embedding") == 0) {
		kind = DGEN_MODEL_EMBEDDING;
		argc--;
		argv++;
	}
	if (argc < 1)
		return cli_usage_error(MODELS_USAGE);
	if (db_open(&db, c->cfg.database_path, c->cfg.db_busy_timeout_ms, &err) != 0 ||
	    secret_key_load_config(&c->cfg, &key, &err) != 0) {
		rc = -1;
		goto out;
	}
	rc = models_verb(c, db, &key, kind, argc, argv, &err);
out:
	if (rc == -1)
		cli_print_error(&err);
	db_close(db);
	dgen_err_clear(&err);
	if (rc == -2)
		return cli_usage_error(MODELS_USAGE);
	return rc == 0 ? CLI_OK : CLI_ERROR;
}
