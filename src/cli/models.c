/*
 * models.c - `dgen models [--embedding] list|add|test|rm` and `dgen models
 * rekey`: the named models of SPEC.md §9 from a shell, over the same store
 * and key file as the API (keys are never printed). The CLI acts as an
 * administrator: it sees and writes the global models.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dgen/db.h"
#include "dgen/json.h"
#include "dgen/modelcfg.h"
#include "dgen/saved_models.h"
#include "dgen/util.h"

#define MODELS_USAGE "usage: dgen models [--embedding] list | add JSON | test NAME | rm NAME | rekey"

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
		rc = saved_models_list(db, NULL, kind, &o, err);
	} else if (strcmp(argv[0], "add") == 0 && argc == 2) {
		rc = dgen_json_parse(argv[1], strlen(argv[1]), &dgen_json_default_limits, &body,
				     err) != 0 ||
		     model_from_json(body, kind, &m, &key_given, err) != 0 ||
		     saved_models_insert(db, NULL, kind, &m, key, err) != 0 ||
		     saved_models_get(db, NULL, kind, m.name, &o, err) != 0 ? -1 : 0;
	} else if (strcmp(argv[0], "rm") == 0 && argc == 2) {
		rc = saved_models_delete(db, NULL, kind, argv[1], err);
	} else if (strcmp(argv[0], "test") == 0 && argc == 2) {
		char msg[256];
		long ms = 0;
		bool okay;

		if (saved_models_get_full(db, NULL, kind, argv[1], key, &m, err) != 0)
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

/* Makes the renames and links of the key files durable. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? dgen_xstrndup(path, (size_t)(slash - path)) : dgen_xstrdup(".");
	int fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Whether every stored key of both kinds opens under key. */
static bool keys_open(struct dgen_db *db, const struct dgen_secret_key *key)
{
	struct dgen_model_list l = { NULL, 0 };
	struct dgen_err e = DGEN_ERR_INIT;
	bool ok = saved_models_load(db, DGEN_MODEL_LLM, key, &l, &e) == 0;

	model_list_free(&l);
	ok = ok && saved_models_load(db, DGEN_MODEL_EMBEDDING, key, &l, &e) == 0;
	model_list_free(&l);
	dgen_err_clear(&e);
	return ok;
}

/* A rekey that died left <file>.old: before its commit the stored keys
 * still open under it (it becomes the key file again), after it they open
 * under the key file (.old is only removed). */
static int rekey_recover(struct dgen_db *db, const char *path, const char *old,
			 struct dgen_err *err)
{
	struct dgen_secret_key k;

	if (access(old, F_OK) != 0)
		return 0;
	if (access(path, F_OK) == 0 && secret_key_load(path, &k, err) == 0 && keys_open(db, &k)) {
		unlink(old);
	} else if (secret_key_load(old, &k, err) == 0 && keys_open(db, &k)) {
		if (rename(old, path) != 0)
			return dgen_err_set(err, DGEN_EIO, "cannot restore %s: %s", path,
					    strerror(errno));
	} else {
		return dgen_err_set(err, DGEN_EIO, "neither %s nor %s opens the stored keys",
				    path, old);
	}
	sync_dir(path);
	dgen_err_clear(err);
	return 0;
}

/*
 * `dgen models rekey`: a new key file, every stored key re-sealed under it
 * in one transaction. The old key stays as <file>.old (a hard link) while
 * the new one is renamed into place, and is removed once the transaction
 * has committed; a crash leaves the stored keys all under the old key
 * (then in <file>.old; the next rekey puts it back first) or all under
 * the new one. Processes that hold the old key must re-read the file: the
 * runner and the API read it on every load.
 */
static int models_rekey(struct cli *c, struct dgen_db *db, struct dgen_err *err)
{
	char *path = secret_key_path(&c->cfg);
	char *old = dgen_xasprintf("%s.old", path), *fresh = dgen_xasprintf("%s.new", path);
	struct dgen_secret_key okey, nkey;
	int64_t n = 0;
	int rc = -1;

	if (rekey_recover(db, path, old, err) != 0 || secret_key_load(path, &okey, err) != 0)
		goto out;
	if (!keys_open(db, &okey)) {
		dgen_err_set(err, DGEN_EIO, "the key file %s does not open every stored key", path);
		goto out;
	}
	unlink(fresh);
	if (secret_key_load(fresh, &nkey, err) != 0) /* made: random, mode 0600, synced */
		goto out;
	if (link(path, old) != 0) {
		dgen_err_set(err, DGEN_EIO, "cannot keep the old key as %s: %s", old, strerror(errno));
		unlink(fresh);
		goto out;
	}
	sync_dir(path);
	if (rename(fresh, path) != 0) {
		dgen_err_set(err, DGEN_EIO, "cannot install the new key %s: %s", path, strerror(errno));
		unlink(fresh);
		unlink(old);
		goto out;
	}
	sync_dir(path);
	if (saved_models_rekey(db, &okey, &nkey, &n, err) != 0) {
		if (rename(old, path) == 0) /* the old key again: nothing changed */
			sync_dir(path);
		goto out;
	}
	unlink(old);
	sync_dir(path);
	printf("re-sealed %lld key%s under a new key file %s\n", (long long)n, n == 1 ? "" : "s",
	       path);
	rc = 0;
out:
	memset(&okey, 0, sizeof okey);
	memset(&nkey, 0, sizeof nkey);
	free(path);
	free(old);
	free(fresh);
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
	if (strcmp(argv[0], "rekey") == 0)
		rc = argc == 1 ? models_rekey(c, db, &err) : -2;
	else
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
