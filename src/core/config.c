/*
 * config.c - settings (SPEC.md §6). One table lists every key with its
 * type, default and bounds, so the loader, the validation and the
 * documentation of dgen.conf(5) agree. Order of precedence: environment,
 * then the KEY=value file, then the defaults.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/config.h"
#include "dgen/log.h"
#include "dgen/util.h"

enum kind { K_STR, K_INT, K_LONG, K_SIZE, K_BOOL, K_SECS_MS };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	const char *def;
	long long min, max;
};

/* One row of the table per kind: strings and booleans have no bounds;
 * numbers are checked against [min, max] (seconds for SECS, stored as
 * milliseconds). */
#define F(m) offsetof(struct dgen_config, m)
#define STR(name, m, def) { name, K_STR, F(m), def, 0, 0 }
#define BOOL(name, m, def) { name, K_BOOL, F(m), def, 0, 0 }
#define INT(name, m, def, min, max) { name, K_INT, F(m), def, min, max }
#define LONG(name, m, def, min, max) { name, K_LONG, F(m), def, min, max }
#define SIZE(name, m, def, min, max) { name, K_SIZE, F(m), def, min, max }
#define SECS(name, m, def, min, max) { name, K_SECS_MS, F(m), def, min, max }
#define MiB "1048576"

static const struct key keys[] = {
	STR("LLM_ENDPOINT", llm_endpoint, "http://localhost:11434/v1/chat/completions"),
	STR("LLM_API_KEY", llm_api_key, ""),
	STR("LLM_MODEL", llm_model, "llama3"),
	STR("LLM_PROVIDER", llm_provider, ""),
	STR("LLM_PROXY", llm_proxy, ""),
	STR("LLM_ENDPOINT_ALLOW", llm_endpoint_allow, ""),
	SECS("LLM_TIMEOUT", llm_timeout_ms, "120", 1, 86400),
	SECS("LLM_CONNECT_TIMEOUT", llm_connect_timeout_ms, "10", 1, 3600),
	INT("LLM_MAX_RETRIES", llm_max_retries, "4", 0, 100),
	SECS("LLM_RETRY_AFTER_CAP", llm_retry_after_cap_ms, "60", 0, 3600),
	SECS("LLM_RATE_LIMIT_PATIENCE", llm_rate_limit_patience_ms, "600", 0, 86400),
	SIZE("LLM_MAX_RESPONSE_BYTES", llm_max_response, "8388608", 1024, 1LL << 32),
	STR("EMBEDDING_ENDPOINT", embedding_endpoint, ""),
	STR("EMBEDDING_MODEL", embedding_model, ""),
	STR("EMBEDDING_API_KEY", embedding_api_key, ""),
	STR("EMBEDDING_PROVIDER", embedding_provider, ""),
	LONG("EMBEDDING_DIMENSIONS", embedding_dimensions, "0", 0, 65536),
	STR("DATABASE_PATH", database_path, "data/qa_records.db"),
	STR("DATABASE_URL", database_url, ""),
	STR("DGEN_KEY_FILE", key_file, ""),
	INT("DGEN_DB_BUSY_TIMEOUT_MS", db_busy_timeout_ms, "5000", 0, 600000),
	SIZE("DGEN_WAL_LIMIT", wal_limit, "67108864", 1048576, 1LL << 40),
	STR("HOST", host, "127.0.0.1"),
	INT("PORT", port, "8080", 1, 65535),
	BOOL("DEBUG", debug, "false"),
	SIZE("DGEN_MAX_BODY", max_body, MiB, 1024, 1LL << 31),
	SIZE("DGEN_MAX_UPLOAD", max_upload, "10485760", 1024, 1LL << 31),
	INT("DGEN_JSON_DEPTH", json_depth, "64", 2, 10000),
	SIZE("DGEN_MAX_STRING", max_string, MiB, 64, 1LL << 31),
	LONG("DGEN_MAX_SEEDS", max_seeds, "100000", 1, 100000000),
	LONG("DGEN_MAX_REPETITIONS", max_repetitions, "10000", 1, 100000000),
	SIZE("DGEN_TEMPLATE_MAX_OUTPUT", template_max_output, MiB, 1024, 1LL << 31),
	LONG("DGEN_TEMPLATE_MAX_ITERATIONS", template_max_iterations, "100000", 1, 1000000000),
	STR("DGEN_TEMPLATES_DIR", templates_dir, DGEN_PKGDATADIR "/templates"),
	STR("DGEN_USER_TEMPLATES_DIR", user_templates_dir, ""),
	STR("DGEN_BLOCKS_DIR", blocks_dir, ""),
	INT("DGEN_RUNNER_CONCURRENCY", runner_concurrency, "16", 1, 16384),
	INT("DGEN_LEASE_SECONDS", lease_seconds, "30", 2, 86400),
	INT("DGEN_MAX_ATTEMPTS", max_attempts, "3", 1, 100),
	INT("DGEN_RUNNER_POLL_MS", poll_ms, "200", 10, 60000),
	INT("DGEN_RUNNER_GRACE_SECONDS", grace_seconds, "20", 0, 3600),
	LONG("DGEN_QUOTA_JOBS", quota_jobs, "4", 1, 1000000),
	LONG("DGEN_QUOTA_EXECUTIONS", quota_executions, "1000000", 1, 1000000000),
	LONG("DGEN_QUOTA_LLM_IN_FLIGHT", quota_inflight, "0", 0, 1000000),
	LONG("DGEN_SESSION_IDLE_SECONDS", session_idle_s, "28800", 60, 31536000),
	LONG("DGEN_SESSION_MAX_SECONDS", session_max_s, "604800", 60, 31536000),
};

#undef STR
#undef BOOL
#undef INT
#undef LONG
#undef SIZE
#undef SECS

/* Parses val as k's kind into its member of cfg. `where` says where the
 * value came from ("default", "environment", "file:line") so that a bad
 * value is reported at its source, with the bounds for a number. */
static int set_value(struct dgen_config *cfg, const struct key *k, const char *val,
		     const char *where, struct dgen_err *err)
{
	void *p = (char *)cfg + k->off;
	long long n;

	switch (k->kind) {
	case K_STR:
		free(*(char **)p);
		*(char **)p = dgen_xstrdup(val);
		return 0;
	case K_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "yes") ||
		    !strcmp(val, "on"))
			*(bool *)p = true;
		else if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "no") ||
			 !strcmp(val, "off") || !*val)
			*(bool *)p = false;
		else
			goto bad;
		return 0;
	default:
		if (dgen_parse_long(val, k->min, k->max, &n))
			goto bad;
		if (k->kind == K_INT)
			*(int *)p = (int)n;
		else if (k->kind == K_LONG)
			*(long *)p = (long)n;
		else if (k->kind == K_SIZE)
			*(size_t *)p = (size_t)n;
		else
			*(long *)p = (long)(n * 1000);
		return 0;
	}
bad:
	dgen_err_set(err, DGEN_EINVALID, "%s: invalid value '%s' for %s%s", where, val, k->name,
		     k->kind == K_BOOL ? " (expected true or false)" : "");
	if (k->kind != K_BOOL && k->kind != K_STR) {
		dgen_err_detail_int(err, "min", k->min);
		dgen_err_detail_int(err, "max", k->max);
	}
	dgen_err_detail_str(err, "field", k->name);
	return -1;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < DGEN_ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	return s;
}

/* Reads KEY=value lines. Unknown keys are errors: a typo in a config file
 * should not silently leave a default in place. */
static int load_file(struct dgen_config *cfg, const char *path, bool must_exist,
		     struct dgen_err *err)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int lineno = 0, rc = -1;

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return dgen_err_set(err, DGEN_EIO, "cannot read config file %s: %s", path,
				    strerror(errno));
	}
	while (fgets(line, sizeof line, f)) {
		char *s = trim(line), *eq, *name, *val, where[600];
		const struct key *k;
		size_t n;

		lineno++;
		if (!*s || *s == '#')
			continue;
		snprintf(where, sizeof where, "%s:%d", path, lineno);
		if (!(eq = strchr(s, '='))) {
			dgen_err_set(err, DGEN_EINVALID, "%s: expected KEY=value", where);
			goto out;
		}
		*eq = '\0';
		name = trim(s);
		val = trim(eq + 1);
		n = strlen(val);
		if (n >= 2 && (val[0] == '"' || val[0] == '\'') && val[n - 1] == val[0]) {
			val[n - 1] = '\0';
			val++;
		}
		if (!(k = find_key(name))) {
			dgen_err_set(err, DGEN_EINVALID, "%s: unknown setting %s", where, name);
			dgen_err_detail_str(err, "field", name);
			goto out;
		}
		if (set_value(cfg, k, val, where, err))
			goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

/* A setting that parsed but cannot be used: a config error naming it. */
static int unusable(struct dgen_err *err, const char *name, const char *msg)
{
	dgen_err_set(err, DGEN_EINVALID, "%s", msg);
	dgen_err_detail_str(err, "field", name);
	return -1;
}

/* DATABASE_URL, when set, is the store: database_path becomes the URL
 * (what db_open takes) and database_file keeps DATABASE_PATH, whose
 * directory still holds the local files. The URL's passwords are handed
 * to the logger at once, before anything could print the URL. */
static int store_url(struct dgen_config *cfg, struct dgen_err *err)
{
	char *shown;

	if (!*cfg->database_url) {
		cfg->database_file = dgen_xstrdup(cfg->database_path);
		return 0;
	}
	if (!dgen_config_is_url(cfg->database_url))
		return unusable(err, "DATABASE_URL",
				"DATABASE_URL must be a postgresql:// URL (a sqlite store is "
				"DATABASE_PATH)");
	shown = dgen_config_redact_url(cfg->database_url, true);
	free(shown);
	cfg->database_file = cfg->database_path;
	cfg->database_path = dgen_xstrdup(cfg->database_url);
	return 0;
}

/* Defaults first, then one file (the one given, else $DGEN_CONFIG, else
 * the system one when it exists), then the environment on top; each layer
 * only overrides what it names. The checks that span a whole value (URL
 * scheme, non-empty path) run last, on the result. */
int dgen_config_load(struct dgen_config *cfg, const char *file, struct dgen_err *err)
{
	const char *env_file = getenv("DGEN_CONFIG");

	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < DGEN_ARRAY_LEN(keys); i++)
		if (set_value(cfg, &keys[i], keys[i].def, "default", err))
			goto fail;
	if (file) {
		if (load_file(cfg, file, true, err))
			goto fail;
	} else if (env_file && *env_file) {
		if (load_file(cfg, env_file, true, err))
			goto fail;
	} else if (load_file(cfg, DGEN_SYSCONFDIR "/dgen/dgen.conf", false, err)) {
		goto fail;
	}
	for (size_t i = 0; i < DGEN_ARRAY_LEN(keys); i++) {
		const char *v = getenv(keys[i].name);

		if (v && set_value(cfg, &keys[i], v, "environment", err))
			goto fail;
	}
	if (strncmp(cfg->llm_endpoint, "http://", 7) && strncmp(cfg->llm_endpoint, "https://", 8)) {
		unusable(err, "LLM_ENDPOINT", "LLM_ENDPOINT must be an http:// or https:// URL");
		goto fail;
	}
	if (!*cfg->database_path) {
		unusable(err, "DATABASE_PATH", "DATABASE_PATH must not be empty");
		goto fail;
	}
	if (store_url(cfg, err))
		goto fail;
	return 0;
fail:
	dgen_config_free(cfg);
	return -1;
}

bool dgen_config_is_url(const char *target)
{
	return target && (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11));
}

/*
 * Replaces the passwords of a connection URL (user:PASSWORD@host and a
 * password= parameter) by "***". With forget, each password is also
 * registered with the logger, which masks it in every line it writes.
 */
char *dgen_config_redact_url(const char *url, bool forget)
{
	const char *auth = strstr(url, "://");
	const char *p = url, *end, *at = NULL, *colon, *q;
	struct dgen_buf b;
	char *pw;
	size_t n;

	dgen_buf_init(&b);
	if (auth) {
		auth += 3;
		end = auth + strcspn(auth, "/?");
		for (q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		if (at && (colon = memchr(auth, ':', (size_t)(at - auth)))) {
			dgen_buf_append(&b, url, (size_t)(colon + 1 - url));
			dgen_buf_puts(&b, "***");
			if (forget && at > colon + 1) {
				pw = dgen_xstrndup(colon + 1, (size_t)(at - colon - 1));
				dgen_log_secret(pw);
				free(pw);
			}
			p = at;
		}
	}
	while (*p) {
		if (p > url && (p[-1] == '?' || p[-1] == '&') && !strncmp(p, "password=", 9)) {
			n = strcspn(p + 9, "&");
			if (forget && n) {
				pw = dgen_xstrndup(p + 9, n);
				dgen_log_secret(pw);
				free(pw);
			}
			dgen_buf_puts(&b, "password=***");
			p += 9 + n;
			continue;
		}
		dgen_buf_putc(&b, *p++);
	}
	return dgen_buf_steal(&b);
}

char *dgen_config_data_file(const struct dgen_config *cfg, const char *name)
{
	const char *f = cfg->database_file ? cfg->database_file : "";
	const char *slash = strrchr(f, '/');

	if (!slash)
		return dgen_xstrdup(name);
	return dgen_xasprintf("%.*s/%s", (int)(slash - f), f, name);
}

char *dgen_config_store_file(const struct dgen_config *cfg, const char *what)
{
	char *name, *path;

	if (!dgen_config_is_url(cfg->database_path))
		return dgen_xasprintf("%s-%s", cfg->database_path, what);
	name = dgen_xasprintf("dgen-%s", what);
	path = dgen_config_data_file(cfg, name);
	free(name);
	return path;
}

void dgen_config_free(struct dgen_config *cfg)
{
	free(cfg->database_file);
	cfg->database_file = NULL;
	for (size_t i = 0; i < DGEN_ARRAY_LEN(keys); i++)
		if (keys[i].kind == K_STR) {
			char **p = (void *)((char *)cfg + keys[i].off);

			free(*p);
			*p = NULL;
		}
}
