/*
 * config.h - settings from the environment and a KEY=value file.
 *
 * The environment wins over the file; the file wins over the defaults.
 * The file is `--config PATH`, else $DGEN_CONFIG, else
 * $sysconfdir/dgen/dgen.conf (a missing default file is fine; a missing
 * named file is an error). Lines: KEY=value, '#' comments, blank lines;
 * values may be wrapped in single or double quotes.
 *
 * Ownership: dgen_config_load() fills a caller-owned struct whose strings
 * it allocates; dgen_config_free() releases them.
 */
#ifndef DGEN_CONFIG_H
#define DGEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dgen/err.h"

struct dgen_config {
	/* LLM (SPEC.md §6) */
	char *llm_endpoint;         /* LLM_ENDPOINT */
	char *llm_api_key;          /* LLM_API_KEY (never logged) */
	char *llm_model;            /* LLM_MODEL */
	char *llm_provider;         /* LLM_PROVIDER: "" = detect from endpoint */
	char *llm_proxy;            /* LLM_PROXY: "" = no proxy at all */
	char *llm_endpoint_allow;   /* LLM_ENDPOINT_ALLOW: hosts members' models may use */
	bool llm_guarded;           /* not a setting: a member's model (netguard.h) */
	long llm_timeout_ms;        /* LLM_TIMEOUT (seconds) */
	long llm_connect_timeout_ms;/* LLM_CONNECT_TIMEOUT (seconds) */
	int llm_max_retries;        /* LLM_MAX_RETRIES */
	long llm_retry_after_cap_ms;/* LLM_RETRY_AFTER_CAP (seconds) */
	long llm_rate_limit_patience_ms; /* LLM_RATE_LIMIT_PATIENCE (seconds): 0 = a 429 is an ordinary retry */
	size_t llm_max_response;    /* LLM_MAX_RESPONSE_BYTES */
	char *embedding_endpoint;   /* EMBEDDING_ENDPOINT: "" = LLM_ENDPOINT's host */
	char *embedding_model;      /* EMBEDDING_MODEL: "" = LLM_MODEL */
	char *embedding_api_key;    /* EMBEDDING_API_KEY: "" = LLM_API_KEY (never logged) */
	char *embedding_provider;   /* EMBEDDING_PROVIDER: "" = detect */
	long embedding_dimensions;  /* EMBEDDING_DIMENSIONS: 0 = any */

	/* The store db_open() takes: DATABASE_URL when set, else DATABASE_PATH. */
	char *database_path;
	char *database_url;         /* DATABASE_URL: "" = sqlite (its passwords never logged) */
	char *database_file;        /* not a setting: DATABASE_PATH as written; its
				     * directory holds the local files (key file) */
	char *key_file;             /* DGEN_KEY_FILE: "" = "dgen.key" in that directory */
	int db_busy_timeout_ms;     /* DGEN_DB_BUSY_TIMEOUT_MS */
	size_t wal_limit;           /* DGEN_WAL_LIMIT (bytes) */
	char *host;                 /* HOST */
	int port;                   /* PORT */
	bool debug;                 /* DEBUG */

	/* Limits (SPEC.md conventions) */
	size_t max_body;            /* DGEN_MAX_BODY */
	size_t max_upload;          /* DGEN_MAX_UPLOAD */
	int json_depth;             /* DGEN_JSON_DEPTH */
	size_t max_string;          /* DGEN_MAX_STRING */
	long max_seeds;             /* DGEN_MAX_SEEDS */
	long max_repetitions;       /* DGEN_MAX_REPETITIONS */
	size_t template_max_output; /* DGEN_TEMPLATE_MAX_OUTPUT */
	long template_max_iterations;/* DGEN_TEMPLATE_MAX_ITERATIONS */

	/* Where things live */
	char *templates_dir;        /* DGEN_TEMPLATES_DIR (builtin templates) */
	char *user_templates_dir;   /* DGEN_USER_TEMPLATES_DIR ("" = none) */
	char *blocks_dir;           /* DGEN_BLOCKS_DIR ("" = no plugins) */

	/* Runner */
	int runner_concurrency;     /* DGEN_RUNNER_CONCURRENCY */
	int lease_seconds;          /* DGEN_LEASE_SECONDS */
	int max_attempts;           /* DGEN_MAX_ATTEMPTS */
	int poll_ms;                /* DGEN_RUNNER_POLL_MS */
	int grace_seconds;          /* DGEN_RUNNER_GRACE_SECONDS */

	/* Accounts (SPEC.md §8): per-user quota defaults, session expiry */
	long quota_jobs;            /* DGEN_QUOTA_JOBS: queued or running */
	long quota_executions;      /* DGEN_QUOTA_EXECUTIONS: per job */
	long quota_inflight;        /* DGEN_QUOTA_LLM_IN_FLIGHT: 0 = runner concurrency */
	long session_idle_s;        /* DGEN_SESSION_IDLE_SECONDS */
	long session_max_s;         /* DGEN_SESSION_MAX_SECONDS */
};

/* Loads defaults, then the file, then the environment, and validates.
 * file may be NULL (use $DGEN_CONFIG or the default path). Errors name the
 * key and what is wrong (DGEN_EINVALID), or the file (DGEN_EIO). */
int dgen_config_load(struct dgen_config *cfg, const char *file, struct dgen_err *err);
void dgen_config_free(struct dgen_config *cfg);

/* True for a PostgreSQL connection URL (postgresql:// or postgres://). */
bool dgen_config_is_url(const char *target);
/* url with its passwords shown as "***"; with forget, the passwords are
 * also registered with the logger (never written). malloc'd. */
char *dgen_config_redact_url(const char *url, bool forget);
/* name in the directory of DATABASE_PATH (the data directory, also with
 * DATABASE_URL), or name alone when DATABASE_PATH has no directory.
 * malloc'd. */
char *dgen_config_data_file(const struct dgen_config *cfg, const char *name);
/* A local file that belongs to the store: "<DATABASE_PATH>-what" beside a
 * sqlite database, "dgen-what" in the data directory with DATABASE_URL.
 * malloc'd. */
char *dgen_config_store_file(const struct dgen_config *cfg, const char *what);

#endif
