/*
 * accounts.c - `dgen users` and `dgen tokens`: the administrator's tools
 * for accounts (SPEC.md §8). They open the store directly, so they work
 * before any admin exists (the first admin and their token come from
 * here) and need no server.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dgen/accounts.h"
#include "dgen/db.h"
#include "dgen/util.h"

/* Reads a password from path ("-": stdin): the first line, without its
 * newline. Malloc'd, or NULL with err set. */
static char *read_password(const char *path, struct dgen_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		dgen_err_set(err, DGEN_EIO, "Cannot open %s", path);
		return NULL;
	}
	n = getline(&line, &cap, f);
	if (f != stdin)
		fclose(f);
	if (n < 0) {
		free(line);
		dgen_err_set(err, DGEN_EINVALID, "No password in %s", path);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* The password of `users add` / `users passwd`: from --password-file, or
 * a new random one that is printed on stdout (the only time it is seen). */
static char *password_arg(const char *file, bool *generated, struct dgen_err *err)
{
	char pw[ACCOUNTS_RANDOM_PASSWORD_LEN + 1];

	*generated = !file;
	if (file)
		return read_password(file, err);
	if (accounts_random_password(pw) != 0) {
		dgen_err_set(err, DGEN_EINTERNAL, "No randomness for a password");
		return NULL;
	}
	return dgen_xstrdup(pw);
}

struct opts {
	const char *pos[2];     /* positional arguments */
	int npos;
	const char *password_file, *name;
	long long days;
	bool admin, json;
};

/* Options shared by the verbs; -1 after a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;

		if (strcmp(a, "--admin") == 0)
			o->admin = true;
		else if (strcmp(a, "--json") == 0)
			o->json = true;
		else if (strcmp(a, "--password-file") == 0 && has)
			o->password_file = argv[++i];
		else if (strcmp(a, "--name") == 0 && has)
			o->name = argv[++i];
		else if (strcmp(a, "--expires-days") == 0 && has) {
			if (dgen_parse_long(argv[++i], 1, 36500, &o->days) != 0)
				return cli_usage_error("--expires-days takes 1 to 36500");
		} else if (a[0] == '-' && a[1])
			return cli_usage_error("unknown option '%s'", a);
		else if (o->npos < 2)
			o->pos[o->npos++] = a;
		else
			return cli_usage_error("unexpected argument '%s'", a);
	}
	return 0;
}

static void print_json(struct json_object *v)
{
	printf("%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int users_verb(struct dgen_db *db, const struct dgen_config *cfg, const char *verb,
		      const struct opts *o, struct dgen_err *err)
{
	struct dgen_quotas def = { cfg->quota_jobs, cfg->quota_executions,
				   cfg->quota_inflight > 0 ? cfg->quota_inflight
							   : cfg->runner_concurrency };
	struct dgen_user u;
	struct json_object *arr = NULL;
	char *pw = NULL;
	bool generated = false;
	int rc = -1;

	if (strcmp(verb, "list") == 0) {
		if (users_list(db, &def, &arr, err) != 0)
			return -1;
		if (o->json) {
			print_json(arr);
		} else {
			for (size_t i = 0; i < json_object_array_length(arr); i++) {
				struct json_object *x = json_object_array_get_idx(arr, i), *v;

				json_object_object_get_ex(x, "name", &v);
				printf("%-24s", json_object_get_string(v));
				json_object_object_get_ex(x, "role", &v);
				printf(" %-7s", json_object_get_string(v));
				json_object_object_get_ex(x, "disabled", &v);
				printf("%s\n", json_object_get_boolean(v) ? " disabled" : "");
			}
		}
		json_object_put(arr);
		return 0;
	}
	if (!o->pos[0])
		return dgen_err_set(err, DGEN_EINVALID, "users %s needs a NAME", verb);
	if (strcmp(verb, "add") == 0) {
		if ((pw = password_arg(o->password_file, &generated, err)) &&
		    users_add(db, o->pos[0], pw, o->admin, NULL, err) == 0)
			rc = 0;
	} else if (strcmp(verb, "passwd") == 0) {
		if (users_get(db, o->pos[0], &u, err) == 0 &&
		    (pw = password_arg(o->password_file, &generated, err)) &&
		    users_update(db, &u, pw, err) == 0)
			rc = 0;
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
		if (users_get(db, o->pos[0], &u, err) == 0) {
			u.disabled = verb[0] == 'd';
			rc = users_update(db, &u, NULL, err);
		}
	} else {
		return dgen_err_set(err, DGEN_EINVALID, "unknown users verb '%s'", verb);
	}
	if (rc == 0 && generated)
		printf("%s\n", pw);
	free(pw);
	return rc;
}

static int tokens_verb(struct dgen_db *db, const char *verb, const struct opts *o,
		       struct dgen_err *err)
{
	struct dgen_user u;
	struct json_object *arr = NULL;
	char token[ACCOUNTS_TOKEN_LEN + 1];
	int64_t id;

	if (strcmp(verb, "create") == 0) {
		if (!o->pos[0])
			return dgen_err_set(err, DGEN_EINVALID, "tokens create needs a USER");
		if (users_get(db, o->pos[0], &u, err) != 0 ||
		    tokens_create(db, u.id, o->name ? o->name : "cli", o->days, token, &id,
				  err) != 0)
			return -1;
		printf("%s\n", token);
		return 0;
	}
	if (strcmp(verb, "list") == 0) {
		id = 0;
		if (o->pos[0]) {
			if (users_get(db, o->pos[0], &u, err) != 0)
				return -1;
			id = u.id;
		}
		if (tokens_list(db, id, &arr, err) != 0)
			return -1;
		print_json(arr);
		json_object_put(arr);
		return 0;
	}
	if (strcmp(verb, "revoke") == 0) {
		long long v;

		if (!o->pos[0] || dgen_parse_long(o->pos[0], 1, INT64_MAX, &v) != 0)
			return dgen_err_set(err, DGEN_EINVALID, "tokens revoke needs a token ID");
		return tokens_revoke(db, NULL, v, err);
	}
	return dgen_err_set(err, DGEN_EINVALID, "unknown tokens verb '%s'", verb);
}

/* `dgen users add|list|passwd|disable|enable` and `dgen tokens
 * create|list|revoke`: argv[0] says which. */
int cli_accounts(struct cli *c, int argc, char **argv)
{
	struct dgen_db *db = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	struct opts o;
	bool users = strcmp(argv[0], "users") == 0;
	int rc = CLI_ERROR;

	if (argc < 2)
		return cli_usage_error(users ? "usage: dgen users add|list|passwd|disable|enable ..."
					     : "usage: dgen tokens create|list|revoke ...");
	if (parse_opts(argc, argv, &o) != 0)
		return CLI_USAGE;
	if (db_open(&db, c->cfg.database_path, c->cfg.db_busy_timeout_ms, &err) != 0)
		goto out;
	if ((users ? users_verb(db, &c->cfg, argv[1], &o, &err)
		   : tokens_verb(db, argv[1], &o, &err)) == 0)
		rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_print_error(&err);
	db_close(db);
	dgen_err_clear(&err);
	return rc;
}
