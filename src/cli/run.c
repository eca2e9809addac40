/*
 * run.c - `dgen run PIPELINE SEEDS`: every execution of a seed file
 * through a pipeline, offline, as JSONL records on stdout or in a file.
 *
 * The job is split into units first, by the planner the runner uses
 * (plan.h): one unit per seed repetition, or for a multiplier pipeline one
 * per chunk of each repetition. Then N worker threads take units in order.
 * Records are written in unit order whatever the order they finish in: a
 * finished record waits in its slot until every earlier unit is done, so
 * the output of a run is the same for any -c. Each line is the export line
 * of SPEC.md §4 (export_line.h).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dgen/clock.h"
#include "dgen/exec.h"
#include "dgen/export_line.h"
#include "dgen/jobstate.h"
#include "dgen/json.h"
#include "dgen/log.h"
#include "dgen/pipeline.h"
#include "dgen/plan.h"
#include "dgen/saved_models.h"
#include "dgen/seeds.h"
#include "dgen/usage.h"
#include "dgen/util.h"

#define MAX_CONCURRENCY 256

/* The command line of `dgen run`. */
struct run_args {
	const char *pipeline, *seeds;
	const char *outpath;      /* NULL = standard output */
	long long conc;
	bool trace;
};

struct run {
	struct dgen_exec *exec;
	struct dgen_plan plan;
	size_t n;                 /* units of the run */
	bool trace;
	bool progress;

	pthread_mutex_t mu;       /* guards the plan's cursor and all below */
	size_t done, ok, failed;
	size_t split_failed;      /* repetitions whose split failed */
	char **lines;             /* finished records waiting for their turn */
	bool *finished;
	size_t write_next;
	FILE *out;
	int write_errno;
	struct dgen_llm_usage usage;
	double t0;
	const char *stopped;      /* the constraint that stopped the run */
	struct dgen_jobstate_mem *js; /* job-wide block state (NearDuplicate) */
};

static atomic_int run_cancel;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&run_cancel, 1);
}

/* "seed 3, repetition 0, chunk 2" */
static void describe(const struct dgen_unit *u, char *buf, size_t len)
{
	if (u->chunk_index >= 0)
		snprintf(buf, len, "seed %lld, repetition %lld, chunk %lld",
			 (long long)u->seed_index, (long long)u->repetition,
			 (long long)u->chunk_index);
	else
		snprintf(buf, len, "seed %lld, repetition %lld", (long long)u->seed_index,
			 (long long)u->repetition);
}

/* The export line of one execution. No job or stored pipeline exists
 * offline, so job_id and pipeline_id are null and id is the unit number. */
static char *record_line(const struct run *r, int64_t id, struct json_object *meta,
			 const struct dgen_exec_result *res)
{
	char now[DGEN_ISO_LEN];
	struct dgen_export_fields f = {
		.id = id,
		.output = exec_output_text(res->result),
		.metadata = meta,
		.status = "pending",
		.state = res->result,
		.trace_id = res->trace_id,
		.created_at = now,
		.updated_at = now,
		.trace = r->trace ? res->trace : NULL,
	};
	struct json_object *o;
	char *line;

	dgen_clock_iso_now(now);
	o = export_line_new(&f);
	line = dgen_xasprintf("%s\n", dgen_json_compact(o));
	json_object_put(o);
	return line;
}

static void progress_line(struct run *r)
{
	if (!r->progress)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %zu ok, %zu failed", r->done, r->n, r->ok, r->failed);
	fflush(stderr);
}

/* Writes the finished records that are next in order (mu held). */
static void flush_ready(struct run *r)
{
	while (r->write_next < r->n && r->finished[r->write_next]) {
		char *line = r->lines[r->write_next];

		if (line) {
			if (!r->write_errno && fputs(line, r->out) == EOF)
				r->write_errno = errno ? errno : EIO;
			free(line);
			r->lines[r->write_next] = NULL;
		}
		r->write_next++;
	}
}

static void finish_unit(struct run *r, const struct dgen_unit *u, char *line,
			const struct dgen_llm_usage *usage, const struct dgen_err *err)
{
	size_t i = (size_t)u->unit;

	pthread_mutex_lock(&r->mu);
	usage_add(&r->usage, usage);
	r->lines[i] = line;
	r->finished[i] = true;
	r->done++;
	if (line) {
		r->ok++;
	} else {
		char what[96];

		r->failed++;
		describe(u, what, sizeof what);
		if (r->progress)
			fputs("\r\033[K", stderr);
		fprintf(stderr, "dgen: execution %zu (%s) failed: %s\n", i, what, err->msg);
	}
	flush_ready(r);
	progress_line(r);
	pthread_mutex_unlock(&r->mu);
}

/* Takes the next unit, or returns false when the run is over or must stop. */
static bool claim(struct run *r, struct dgen_unit *u)
{
	bool got = false;

	pthread_mutex_lock(&r->mu);
	if (!atomic_load(&run_cancel) && !r->stopped && r->plan.pending > 0) {
		const char *name = constraints_exceeded(pipeline_constraints(r->plan.pipeline),
							&r->usage, dgen_clock_mono() - r->t0);

		if (name)
			r->stopped = name;
		else
			got = plan_next(&r->plan, u);
	}
	pthread_mutex_unlock(&r->mu);
	return got;
}

static void run_unit(struct run *r, const struct dgen_block_ctx *ctx, const struct dgen_unit *u)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_exec_result res;
	/* a private copy: a chunk's state stays the plan's, and json-c
	 * reference counts are not atomic */
	struct json_object *meta = dgen_json_copy(u->state);
	char *line = NULL;
	struct dgen_block_ctx uctx = *ctx;
	int rc;

	uctx.unit = u->unit;
	if (u->chunk_index >= 0)
		rc = pipeline_execute_chunk(r->plan.pipeline, meta, &uctx, &res, &err);
	else
		rc = pipeline_execute(r->plan.pipeline, meta, &uctx, &res, &err);
	if (rc == 0)
		line = record_line(r, u->unit, meta, &res);
	finish_unit(r, u, line, &res.usage, &err);
	pipeline_result_free(&res);
	json_object_put(meta);
	dgen_err_clear(&err);
}

static void *worker(void *arg)
{
	struct run *r = arg;
	struct dgen_err err = DGEN_ERR_INIT;
	/* the client is made before the workers start: this cannot fail */
	struct dgen_llm_handle *h = exec_handle_new(r->exec, &err);
	struct dgen_block_ctx ctx = exec_block_ctx(r->exec, h, &run_cancel, 0);
	struct dgen_unit u;

	ctx.jobstate = &jobstate_mem_ops;
	ctx.jobstate_arg = r->js;
	while (claim(r, &u)) {
		run_unit(r, &ctx, &u);
		plan_unit_free(&u);
	}
	exec_handle_free(h);
	dgen_err_clear(&err);
	return NULL;
}

/* The stored models when the database exists (an offline run without one
 * keeps the LLM_* settings); a store that cannot be read is an error: the
 * run would use other models than the pipeline names. */
static int load_models(struct cli *c, struct dgen_err *err)
{
	struct dgen_model_list llm, emb;
	struct dgen_db *db = NULL;
	int rc = 0;

	if (!c->cfg.database_path || (!dgen_config_is_url(c->cfg.database_path) &&
					access(c->cfg.database_path, F_OK) != 0))
		return 0;
	if (db_open(&db, c->cfg.database_path, c->cfg.db_busy_timeout_ms, err) != 0 ||
	    saved_models_load_all(db, &c->cfg, &llm, &emb, err) != 0)
		rc = -1;
	else
		exec_set_models(c->exec, &llm, &emb);
	db_close(db);
	return rc;
}

/* A repetition of a multiplier pipeline whose split failed: reported, and
 * counted as one failed execution. */
static void on_split_failed(void *arg, size_t seed, long rep, const struct dgen_err *err)
{
	struct run *r = arg;

	fprintf(stderr, "dgen: seed %zu, repetition %ld failed: %s\n", seed, rep, err->msg);
	r->split_failed++;
}

/* Loads the pipeline, the seeds and the models, and makes the LLM client. */
static int load_run(struct cli *c, const struct run_args *a, struct dgen_plan_job *pj,
		    struct dgen_err *err)
{
	struct dgen_json_limits jlim;
	struct dgen_seed_limits slim;
	struct json_object *def = NULL;
	int rc = -1;

	exec_seed_limits(c->exec, &jlim, &slim);
	if (catalog_resolve_pipeline(&c->tpl, a->pipeline, &def, err) == 0 &&
	    pipeline_load(exec_registry(c->exec), def, &pj->pipeline, err) == 0 &&
	    seeds_index_load(a->seeds, &jlim, &slim, &pj->seeds, err) == 0 &&
	    load_models(c, err) == 0)
		rc = exec_connect(c->exec, err);
	json_object_put(def);
	return rc;
}

/* Splits the run into units (the plan takes pj over); a multiplier
 * pipeline runs its first block here. */
static int plan_run(struct run *r, struct dgen_plan_job *pj, struct dgen_err *err)
{
	struct dgen_llm_handle *h = exec_handle_new(r->exec, err);
	struct dgen_block_ctx ctx = exec_block_ctx(r->exec, h, &run_cancel, 0);
	int rc;

	pj->ctx = &ctx;
	pj->usage = &r->usage;
	pj->skip = on_split_failed;
	pj->skip_arg = r;
	rc = plan_build(pj, &r->plan, err);
	if (rc == 0) {
		r->n = (size_t)r->plan.total;
		r->lines = dgen_xcalloc(r->n ? r->n : 1, sizeof *r->lines);
		r->finished = dgen_xcalloc(r->n ? r->n : 1, sizeof *r->finished);
	}
	exec_handle_free(h);
	return rc;
}

/* Runs every unit on conc threads (fewer when there are fewer units; on
 * this thread when not even one starts). */
static void run_units(struct run *r, long long conc)
{
	pthread_t *th;

	if (r->n == 0)
		return;
	if ((size_t)conc > r->n)
		conc = (long long)r->n;
	th = dgen_xcalloc((size_t)conc, sizeof *th);
	for (long long k = 0; k < conc; k++)
		if (pthread_create(&th[k], NULL, worker, r) != 0) {
			conc = k;
			break;
		}
	if (conc == 0)
		worker(r);
	for (long long k = 0; k < conc; k++)
		pthread_join(th[k], NULL);
	free(th);
}

/* The summary on stderr, and the exit status it comes to. */
static int report(struct run *r, const struct run_args *a)
{
	size_t failed = r->failed + r->split_failed;
	struct dgen_err err = DGEN_ERR_INIT;
	char amount[40], cost[64];

	/* unknown (no call, a model without a price, mixed currencies) is
	 * never 0; the amount prints as the JSON answers print it */
	if (r->usage.cost.state == DGEN_COST_KNOWN &&
	    dgen_json_double_text(r->usage.cost.amount, amount))
		snprintf(cost, sizeof cost, "%s %s", amount, r->usage.cost.currency);
	else
		snprintf(cost, sizeof cost, "unknown");
	fprintf(stderr,
		"dgen: %zu record(s) written, %zu execution(s) failed, %zu not run; "
		"tokens: %lld in, %lld out, %lld cached; cost: %s; %.2f s\n",
		r->ok, failed, r->n - r->done, (long long)r->usage.input_tokens,
		(long long)r->usage.output_tokens, (long long)r->usage.cached_tokens, cost,
		dgen_clock_mono() - r->t0);
	if (r->write_errno) {
		dgen_err_set(&err, DGEN_EIO, "cannot write the records to %s: %s",
			     a->outpath ? a->outpath : "standard output", strerror(r->write_errno));
		cli_print_error(&err);
		dgen_err_clear(&err);
		return CLI_ERROR;
	}
	if (r->stopped) {
		fprintf(stderr, "dgen: stopped: Constraint exceeded: %s\n", r->stopped);
		return CLI_PARTIAL;
	}
	if (atomic_load(&run_cancel)) {
		fprintf(stderr, "dgen: interrupted\n");
		return CLI_PARTIAL;
	}
	if (r->n + r->split_failed > 0 && r->ok == 0)
		return CLI_ERROR;
	return failed > 0 ? CLI_PARTIAL : CLI_OK;
}

static const char run_usage[] =
	"usage: dgen run PIPELINE SEEDS [-o FILE] [-c N] [--trace]\n"
	"  PIPELINE  a template id, a YAML template file or a JSON pipeline definition\n"
	"  SEEDS     a JSON seed file, or a markdown file (.md) for a multiplier pipeline\n"
	"  -o FILE   write the JSONL records to FILE instead of standard output\n"
	"  -c N      run N executions at once (default 1, at most 256)\n"
	"  --trace   add each record's block trace to its line\n";

/* Reads the command line into a; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "trace", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(a, 0, sizeof *a);
	a->conc = 1;
	optind = 0; /* glibc: restart the scan for the verb's own options */
	while ((opt = getopt_long(argc, argv, "o:c:h", opts, NULL)) != -1) {
		if (opt == 'o') {
			a->outpath = optarg;
		} else if (opt == 'c') {
			if (dgen_parse_long(optarg, 1, MAX_CONCURRENCY, &a->conc) != 0)
				return cli_usage_error("-c takes a number from 1 to %d",
						       MAX_CONCURRENCY);
		} else if (opt == 't') {
			a->trace = true;
		} else if (opt == 'h') {
			fputs(run_usage, stdout);
			return CLI_OK;
		} else {
			return cli_usage_error("bad option for run");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("run needs a PIPELINE and a SEEDS file");
	a->pipeline = argv[optind];
	a->seeds = argv[optind + 1];
	return -1;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; r->lines && i < r->n; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->finished);
	if (r->out && r->out != stdout)
		fclose(r->out);
	plan_free(&r->plan);
	jobstate_mem_free(r->js);
}

/* Opens the output: the file of -o, or standard output. */
static int open_output(struct run *r, const char *path, struct dgen_err *err)
{
	if (!path) {
		r->out = stdout;
		return 0;
	}
	if (!(r->out = fopen(path, "w")))
		return dgen_err_set(err, DGEN_EIO, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* SIGINT or SIGTERM stops the run instead of killing it: executions in
 * flight are cancelled and nothing more starts, so the records written so
 * far are whole and the summary still comes. */
int cli_run(struct cli *c, int argc, char **argv)
{
	struct run_args a;
	struct run r;
	struct dgen_plan_job pj = { 0 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct sigaction sa, old_int, old_term;
	int rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	memset(&r, 0, sizeof r);
	r.exec = c->exec;
	r.trace = a.trace;
	r.js = jobstate_mem_new();
	if (load_run(c, &a, &pj, &err) != 0 || open_output(&r, a.outpath, &err) != 0) {
		pipeline_free(pj.pipeline);
		seeds_index_free(&pj.seeds);
		cli_print_error(&err);
		rc = CLI_ERROR;
		goto out;
	}
	r.progress = isatty(2);
	r.t0 = dgen_clock_mono();
	pthread_mutex_init(&r.mu, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (plan_run(&r, &pj, &err) == 0) {
		run_units(&r, a.conc);
		flush_ready(&r);
		if (fflush(r.out) != 0 && !r.write_errno)
			r.write_errno = errno ? errno : EIO;
		if (r.progress)
			fputs("\r\033[K", stderr);
		rc = report(&r, &a);
	} else {
		cli_print_error(&err);
		rc = CLI_ERROR;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	pthread_mutex_destroy(&r.mu);
out:
	run_free(&r);
	dgen_err_clear(&err);
	return rc;
}
