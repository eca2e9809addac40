/*
 * api.h - dgen-api: the HTTP API (SPEC.md §4) as a pooled FastCGI
 * responder or a plain CGI program.
 *
 * A worker (struct api_worker) is one process's state: configuration, its
 * own database connection (opened after fork, lazily on the first request
 * that needs it), the execution environment (block registry, and the LLM
 * client the execute endpoint makes on first use), the templates, and the
 * reusable request/response buffers.
 * api_handle() answers one request through a req_io: parse, route, run the
 * handler, write the response, reset the per-request memory.
 *
 * Handlers (one file per resource: health.c, blocks.c, templates.c,
 * pipelines.c, seeds.c, generate.c, jobs.c, records.c, export.c) take a
 * struct api_ctx and return the HTTP status. A handler that fails sets
 * ctx->err and returns api_fail(); the dispatcher writes the error body.
 *
 * Ownership: the worker owns everything it opens (api_worker_free releases
 * it); the configuration is borrowed and must outlive the worker. Within a
 * handler, strings from the request live until the request ends; JSON
 * passed to api_ok() is consumed (put) by it.
 */
#ifndef DGEN_API_H
#define DGEN_API_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/caller.h"
#include "dgen/config.h"
#include "dgen/db.h"
#include "dgen/err.h"
#include "dgen/exec.h"
#include "dgen/json.h"
#include "dgen/registry.h"
#include "dgen/request.h"
#include "dgen/respond.h"
#include "dgen/catalog.h"
#include "dgen/secret.h"

struct api_worker {
	const struct dgen_config *cfg;
	struct dgen_db *db;                /* NULL until first needed */
	struct dgen_exec *exec;            /* NULL until first needed */
	struct dgen_catalog templates;
	bool templates_loaded;
	struct dgen_llm_handle *llm;       /* NULL until execute needs it */
	int execute_slots;                 /* executes at once across the pool */
	int execute_fd;                    /* the slot file; -1 until opened */
	struct req req;
	struct resp resp;
	unsigned long requests;            /* answered so far */
	struct dgen_secret_key key;        /* of stored secrets; once models_ready */
	bool models_ready;                 /* key loaded, default models made */
};

struct api_ctx {
	struct api_worker *w;
	struct req *req;
	struct resp *resp;
	const struct dgen_config *cfg;
	int64_t id;          /* the {id} of the route, 0 when none */
	const char *name;    /* the {name} of the route, NULL when none */
	struct dgen_err err; /* set by a failing handler */
	/* The authenticated caller (SPEC.md §8), set by the dispatcher before
	 * any handler of a non-public route runs; every store query of
	 * pipelines, jobs and records gets who. For an admin's list with
	 * ?owner=NAME, who is narrowed to that user (api_list_scope). */
	struct dgen_caller caller;
	const struct dgen_caller *who;
	struct dgen_caller scoped; /* who narrowed by ?owner= */
	bool by_cookie;      /* authenticated by the session cookie */
	const char *session; /* the session id of the cookie, or NULL */
	const char *secret;  /* the credential, redacted from logs meanwhile */
	const char *password; /* a password of the body, the same */
};

typedef int (*api_handler)(struct api_ctx *c);

/* Prepares a worker; opens nothing yet (safe before fork). */
void api_worker_init(struct api_worker *w, const struct dgen_config *cfg);

/*
 * The execute allowance. POST /api/pipelines/{id}/execute holds its worker
 * for a whole LLM call (up to LLM_TIMEOUT + 5 s): without a bound, a few
 * executes against a hanging LLM take every worker and all of /api stops
 * answering. So at most api_execute_allowance(workers) executes run at
 * once across the pool (half the workers, at least 1; API_EXECUTE_CGI in
 * plain CGI, where the web server decides the process count), and one
 * past it is refused at once: 429 with Retry-After (API_EXECUTE_RETRY
 * seconds).
 *
 * The slots are byte-range locks on one file beside the database,
 * "<database>-execute", one byte per slot (open file description locks):
 * every process of every mode (pool, spawn-fcgi, CGI) that serves the
 * database shares them without a master, and the kernel releases the slot
 * of a worker that dies mid-call. A slot file that cannot be opened lets
 * executes run unbounded (logged once): the allowance guards availability
 * and must not take execute down with it.
 */
#define API_EXECUTE_CGI 4
#define API_EXECUTE_RETRY "5"
int api_execute_allowance(int workers);
/* Sets the allowance of w (before the first request). */
void api_worker_set_workers(struct api_worker *w, int workers);
/* Takes a free slot: its index, or -1 with c->err set (DGEN_EBUSY) when
 * all are taken; -2 when there is no slot file (run unbounded). */
int api_execute_enter(struct api_ctx *c);
/* Gives slot back (a no-op for a negative slot). */
void api_execute_leave(struct api_ctx *c, int slot);
void api_worker_free(struct api_worker *w);

/* Answers one request read through io (is_cgi: plain CGI semantics for
 * the body). Returns the status sent. After a body of API_TRIM_BYTES or
 * more, the freed heap goes back to the kernel (malloc_trim), so a worker
 * that took an upload returns to its idle size. */
#define API_TRIM_BYTES (1024 * 1024)
int api_handle(struct api_worker *w, const struct req_io *io, bool is_cgi);

/* The worker's database / execution environment / registry (the
 * environment's) / templates, opened on first use. api_db sets c->err and
 * returns NULL when the database cannot be opened; the others cannot fail. */
struct dgen_db *api_db(struct api_ctx *c);
struct dgen_exec *api_exec(struct api_ctx *c);
struct dgen_registry *api_registry(struct api_ctx *c);
struct dgen_catalog *api_templates(struct api_ctx *c);
/* Adds a "hint" to err's detail when the database at path cannot be
 * opened for want of permissions (its directory, or the file). (dbhint.c) */
void api_db_hint(struct dgen_err *err, const char *path);

/* Loads stored pipeline id through the worker's registry. Errors:
 * DGEN_ENOTFOUND for an unknown id; a stored definition that no longer
 * loads (a plugin block removed ...) keeps pipeline_load's error. */
struct dgen_pipeline;
int api_load_pipeline(struct api_ctx *c, int64_t id, struct dgen_pipeline **out);

/* JSON limits for request bodies from the configuration (body size,
 * depth, string size). */
void api_json_limits(const struct api_ctx *c, struct dgen_json_limits *lim);

/* Seed file limits from the configuration (seeds per file, repetitions).
 * (seeds.c) */
struct dgen_seed_limits;
void api_seed_limits(const struct api_ctx *c, struct dgen_seed_limits *lim);

/* The record filter of the records and export endpoints (status, job_id,
 * pipeline_id, q, min.<field>, max.<field>) from the query (400 naming a
 * bad parameter). f->q points into the request. (records.c) */
struct dgen_record_filter;
int api_record_filter(struct api_ctx *c, struct dgen_record_filter *f);

/* The paging of the list endpoints (pipelines, jobs): ?limit=1..1000
 * (default 100) and ?offset=0.. (default 0); a bad value is 400 naming
 * the parameter. */
#define API_PAGE_DEFAULT 100
#define API_PAGE_MAX 1000
int api_page_params(struct api_ctx *c, int64_t *limit, int64_t *offset);
/* 200 with the page arr (put) and X-Total-Count: total, the rows of the
 * whole list. */
int api_ok_page(struct api_ctx *c, int64_t total, struct json_object *arr);

/* Accounts (SPEC.md §8; api_accounts.c). The dispatcher's one
 * authentication step for a route with these flags (route.h): 0 when the
 * request may go on (c->who set unless the route is public), else the
 * status (401 with WWW-Authenticate, 403 for a member on an admin route
 * or a cross-site request) with c->err set. */
int api_authenticate(struct api_ctx *c, unsigned flags);
/* Forgets the request's secrets registered with the logger. */
void api_forget_secrets(struct api_ctx *c);
/* For an admin's list: ?owner=NAME narrows c->who to that user (404 for
 * an unknown name); a member's lists ignore it. 0 or -1 with c->err. */
int api_list_scope(struct api_ctx *c);
/* The configured quota defaults (dgen_quotas of accounts.h). */
struct dgen_quotas;
void api_quota_defaults(const struct api_ctx *c, struct dgen_quotas *q);
/* Checks the caller's quotas before a new job of executions units (0:
 * not known yet): -1 with c->err DGEN_EQUOTA (429 with Retry-After,
 * detail.quota naming it) when past one. */
int api_job_quota(struct api_ctx *c, int64_t executions);

/* Writes body with status and puts it. Returns status. */
int api_ok(struct api_ctx *c, int status, struct json_object *body);
/* api_ok(c, 200, {key: val}): the answers that are one member (val is put). */
int api_ok_member(struct api_ctx *c, const char *key, struct json_object *val);
/* Returns the status of c->err's code (the dispatcher writes the body). */
int api_fail(struct api_ctx *c);
/* Sets c->err from code and message, returns its status. */
int api_failf(struct api_ctx *c, enum dgen_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The program: argument parsing, pre-fork master, FastCGI workers, CGI.
 * Returns the process exit status. (server.c) */
int api_main(int argc, char **argv);

/* Handlers, by resource file. */
int api_health_get(struct api_ctx *c);                 /* health.c */
int api_blocks_list(struct api_ctx *c);                /* blocks.c */
int api_templates_list(struct api_ctx *c);             /* templates.c */
int api_pipelines_from_template(struct api_ctx *c);    /* pipelines.c */
int api_pipelines_create(struct api_ctx *c);
int api_pipelines_list(struct api_ctx *c);
int api_pipelines_get(struct api_ctx *c);
int api_pipelines_update(struct api_ctx *c);
int api_pipelines_delete(struct api_ctx *c);
int api_pipelines_execute(struct api_ctx *c);
int api_pipelines_state_schema(struct api_ctx *c);
int api_pipelines_validation_config(struct api_ctx *c);
int api_seeds_validate(struct api_ctx *c);             /* seeds.c */
int api_generate(struct api_ctx *c);                   /* generate.c */
int api_jobs_active(struct api_ctx *c);                /* jobs.c */
int api_jobs_list(struct api_ctx *c);
int api_jobs_get(struct api_ctx *c);
int api_jobs_cancel(struct api_ctx *c);
int api_jobs_failures(struct api_ctx *c);
int api_jobs_retry_failed(struct api_ctx *c);
int api_records_list(struct api_ctx *c);               /* records.c */
int api_records_get(struct api_ctx *c);
int api_records_update(struct api_ctx *c);
int api_records_delete(struct api_ctx *c);
int api_records_stats(struct api_ctx *c);
int api_records_bulk(struct api_ctx *c);
int api_export(struct api_ctx *c);                     /* export.c */
int api_export_download(struct api_ctx *c);
int api_auth_login(struct api_ctx *c);                 /* accounts.c */
int api_auth_logout(struct api_ctx *c);
int api_auth_me(struct api_ctx *c);
int api_users_list(struct api_ctx *c);
int api_users_create(struct api_ctx *c);
int api_users_update(struct api_ctx *c);
int api_tokens_list(struct api_ctx *c);
int api_tokens_create(struct api_ctx *c);
int api_tokens_revoke(struct api_ctx *c);
/* models.c: both kinds, told apart by the path. api_models_db is api_db
 * after the key file is loaded and empty kinds got their default model. */
struct dgen_db *api_models_db(struct api_ctx *c);
int api_models_list(struct api_ctx *c);
int api_models_get(struct api_ctx *c);
int api_models_create(struct api_ctx *c);
int api_models_update(struct api_ctx *c);
int api_models_delete(struct api_ctx *c);
int api_models_test(struct api_ctx *c);
/* Both kinds of stored models with their keys (for exec_set_models),
 * without making the model "default" from the settings;
 * the lists are the caller's (model_list_free). */
int api_models_load(struct api_ctx *c, struct dgen_model_list *llm, struct dgen_model_list *emb);
/* GET /api/blocks: the names of the stored models owner may use (their
 * own and the global ones) as the enum (plus null) of every `model` /
 * `embedding_model` property of blocks. */
void api_models_enum(struct json_object *blocks, int64_t owner, const struct dgen_model_list *llm,
		     const struct dgen_model_list *emb);
/* A pipeline definition naming an unknown model: -1 with a 422 error
 * whose detail names the field (blocks[i].config.model). */
int api_models_check(struct api_ctx *c, struct json_object *def);

#endif
