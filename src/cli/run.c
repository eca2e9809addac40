/*
 * run.c - `dgen run PIPELINE SEEDS`: every execution of a seed file
 * through a pipeline, offline, as JSONL records on stdout or in a file.
 *
 * The work list is built first (one item per seed repetition; for a
 * multiplier pipeline, one per chunk of each repetition), then N worker
 * threads claim items in order. Records are written in item order whatever
 * the order they finish in: a finished record waits in its slot until
 * every earlier item is done, so the output of a run is the same for any
 * -c. Each line has the export format of SPEC.md §4.
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
#include "dgen/json.h"
#include "dgen/llm.h"
#include "dgen/log.h"
#include "dgen/pipeline.h"
#include "dgen/seeds.h"
#include "dgen/usage.h"
#include "dgen/util.h"

#define MAX_CONCURRENCY 256

struct item {
	size_t seed;
	long rep;
	long chunk;               /* -1 without a multiplier */
	struct json_object *state; /* seed metadata or chunk state (one reference) */
};

struct run {
	const struct dgen_pipeline *p;
	struct dgen_llm_client *llm;
	struct dgen_template_limits tlim;
	struct item *items;
	size_t n, cap;
	bool trace;
	bool progress;

	pthread_mutex_t mu;
	size_t next;        /* next item to claim */
	size_t done, ok, failed;
	char **lines;       /* finished records waiting for their turn */
	bool *finished;
	size_t write_next;
	FILE *out;
	int write_errno;
	struct dgen_llm_usage usage;
	double t0;
	const char *stopped; /* the constraint that stopped the run */
};

static atomic_int run_cancel;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&run_cancel, 1);
}

static void add_item(struct run *r, size_t seed, long rep, long chunk, struct json_object *st)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->items = dgen_xrealloc(r->items, r->cap * sizeof *r->items);
	}
	r->items[r->n++] = (struct item){ seed, rep, chunk, st };
}

/* "(seed 3, repetition 0, chunk 2)" */
static void describe(const struct item *it, char *buf, size_t len)
{
	if (it->chunk >= 0)
		snprintf(buf, len, "seed %zu, repetition %ld, chunk %ld", it->seed, it->rep,
			 it->chunk);
	else
		snprintf(buf, len, "seed %zu, repetition %ld", it->seed, it->rep);
}

/*
 * The export line (SPEC.md §4): output is pipeline_output as text (a
 * string as is, anything else as compact JSON); accumulated_state is the
 * final state without the keys whose values equal the metadata's. No job
 * or stored pipeline exists offline, so job_id and pipeline_id are null
 * and id is the item number.
 */
static char *record_line(const struct run *r, size_t idx, struct json_object *meta,
			 const struct dgen_exec_result *res)
{
	struct json_object *o = json_object_new_object(), *acc = json_object_new_object();
	struct json_object *po = NULL;
	char now[DGEN_ISO_LEN];
	char *line;

	dgen_clock_iso_now(now);
	json_object_object_get_ex(res->result, "pipeline_output", &po);
	json_object_object_foreach(res->result, k, v) {
		struct json_object *mv = NULL;

		if (json_object_object_get_ex(meta, k, &mv) && json_object_equal(mv, v))
			continue;
		json_object_object_add(acc, k, json_object_get(v));
	}
	json_object_object_add(o, "id", json_object_new_int64((int64_t)idx));
	if (po && json_object_is_type(po, json_type_string))
		json_object_object_add(o, "output", json_object_get(po));
	else
		json_object_object_add(o, "output",
				       json_object_new_string(po ? dgen_json_compact(po) : ""));
	json_object_object_add(o, "metadata", json_object_get(meta));
	json_object_object_add(o, "status", json_object_new_string("pending"));
	json_object_object_add(o, "accumulated_state", acc);
	json_object_object_add(o, "trace_id", json_object_new_string(res->trace_id));
	json_object_object_add(o, "job_id", NULL);
	json_object_object_add(o, "pipeline_id", NULL);
	json_object_object_add(o, "created_at", json_object_new_string(now));
	json_object_object_add(o, "updated_at", json_object_new_string(now));
	if (r->trace)
		json_object_object_add(o, "trace", json_object_get(res->trace));
	line = dgen_xasprintf("%s\n", json_object_to_json_string_ext(
					      o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
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

static void finish_item(struct run *r, size_t i, char *line, const struct dgen_llm_usage *u,
			const struct dgen_err *err)
{
	pthread_mutex_lock(&r->mu);
	usage_add(&r->usage, u);
	r->lines[i] = line;
	r->finished[i] = true;
	r->done++;
	if (line) {
		r->ok++;
	} else {
		char what[96];

		r->failed++;
		describe(&r->items[i], what, sizeof what);
		if (r->progress)
			fputs("\r\033[K", stderr);
		fprintf(stderr, "dgen: execution %zu (%s) failed: %s\n", i, what, err->msg);
	}
	flush_ready(r);
	progress_line(r);
	pthread_mutex_unlock(&r->mu);
}

/* Claims the next item, or returns false when the run is over or must stop. */
static bool claim(struct run *r, size_t *i)
{
	bool got = false;

	pthread_mutex_lock(&r->mu);
	if (!atomic_load(&run_cancel) && !r->stopped && r->next < r->n) {
		const char *name = constraints_exceeded(pipeline_constraints(r->p), &r->usage,
							dgen_clock_mono() - r->t0);

		if (name)
			r->stopped = name;
		else {
			*i = r->next++;
			got = true;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return got;
}

static void *worker(void *arg)
{
	struct run *r = arg;
	struct dgen_llm_handle *h = r->llm ? llm_handle_new(r->llm) : NULL;
	struct dgen_block_ctx ctx;
	size_t i;

	memset(&ctx, 0, sizeof ctx);
	ctx.llm = h;
	ctx.tlim = &r->tlim;
	ctx.cancel = &run_cancel;
	while (claim(r, &i)) {
		struct item *it = &r->items[i];
		struct dgen_err err = DGEN_ERR_INIT;
		struct dgen_exec_result res;
		/* a private copy: items' metadata may be shared by several
		 * repetitions, and json-c reference counts are not atomic */
		struct json_object *meta = dgen_json_copy(it->state);
		char *line = NULL;
		int rc;

		if (it->chunk >= 0)
			rc = pipeline_execute_chunk(r->p, meta, &ctx, &res, &err);
		else
			rc = pipeline_execute(r->p, meta, &ctx, &res, &err);
		if (rc == 0)
			line = record_line(r, i, meta, &res);
		finish_item(r, i, line, &res.usage, &err);
		pipeline_result_free(&res);
		json_object_put(meta);
		dgen_err_clear(&err);
	}
	llm_handle_free(h);
	return NULL;
}

/*
 * Expands a multiplier pipeline: every repetition of every seed runs the
 * multiplier, and each chunk becomes one item. A repetition whose split
 * fails is reported and counted as one failed execution.
 */
static void expand_all(struct run *r, const struct dgen_seeds *s, size_t *expand_failed)
{
	struct dgen_block_ctx ctx;
	struct dgen_llm_handle *h = r->llm ? llm_handle_new(r->llm) : NULL;

	memset(&ctx, 0, sizeof ctx);
	ctx.llm = h;
	ctx.tlim = &r->tlim;
	ctx.cancel = &run_cancel;
	for (size_t si = 0; si < s->n; si++) {
		for (long rep = 0; rep < s->v[si].repetitions; rep++) {
			struct json_object *chunks = NULL;
			struct dgen_err err = DGEN_ERR_INIT;

			if (pipeline_expand(r->p, s->v[si].metadata, &ctx, &chunks, &r->usage,
					    &err) != 0) {
				fprintf(stderr, "dgen: seed %zu, repetition %ld failed: %s\n", si, rep,
					err.msg);
				(*expand_failed)++;
				dgen_err_clear(&err);
				continue;
			}
			for (size_t c = 0; c < json_object_array_length(chunks); c++)
				add_item(r, si, rep, (long)c,
					 json_object_get(json_object_array_get_idx(chunks, c)));
			json_object_put(chunks);
		}
	}
	llm_handle_free(h);
}

static const char run_usage[] =
	"usage: dgen run PIPELINE SEEDS [-o FILE] [-c N] [--trace]\n"
	"  PIPELINE  a template id, a YAML template file or a JSON pipeline definition\n"
	"  SEEDS     a JSON seed file, or a markdown file (.md) for a multiplier pipeline\n"
	"  -o FILE   write the JSONL records to FILE instead of standard output\n"
	"  -c N      run N executions at once (default 1, at most 256)\n"
	"  --trace   add each record's block trace to its line\n";

int cli_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "trace", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *def = NULL;
	struct dgen_pipeline *p = NULL;
	struct dgen_seeds seeds;
	struct dgen_json_limits jlim = dgen_json_default_limits;
	struct dgen_seed_limits slim;
	const char *outpath = NULL;
	long long conc = 1;
	size_t expand_failed = 0, total;
	pthread_t *th = NULL;
	struct sigaction sa, old_int, old_term;
	int opt, rc = CLI_ERROR;

	memset(&r, 0, sizeof r);
	memset(&seeds, 0, sizeof seeds);
	optind = 0; /* glibc: restart the scan for the verb's own options */
	while ((opt = getopt_long(argc, argv, "o:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			outpath = optarg;
			break;
		case 'c':
			if (dgen_parse_long(optarg, 1, MAX_CONCURRENCY, &conc) != 0)
				return cli_usage_error("-c takes a number from 1 to %d",
						       MAX_CONCURRENCY);
			break;
		case 't':
			r.trace = true;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return CLI_OK;
		default:
			return cli_usage_error("bad option for run");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("run needs a PIPELINE and a SEEDS file");

	if (templates_resolve_pipeline(&c->tpl, argv[optind], &def, &err) != 0 ||
	    pipeline_load(c->reg, def, &p, &err) != 0)
		goto fail;
	jlim.max_bytes = c->cfg.max_upload;
	jlim.max_depth = c->cfg.json_depth;
	jlim.max_string = c->cfg.max_string;
	slim.max_seeds = c->cfg.max_seeds;
	slim.max_repetitions = c->cfg.max_repetitions;
	if (seeds_load_file(argv[optind + 1], &jlim, &slim, &seeds, &err) != 0)
		goto fail;
	if (llm_client_new(&c->cfg, &r.llm, &err) != 0)
		goto fail;
	if (outpath) {
		if (!(r.out = fopen(outpath, "w"))) {
			dgen_err_set(&err, DGEN_EIO, "cannot write %s: %s", outpath, strerror(errno));
			goto fail;
		}
	} else {
		r.out = stdout;
	}

	r.p = p;
	r.tlim.max_output = c->cfg.template_max_output;
	r.tlim.max_iterations = c->cfg.template_max_iterations;
	r.progress = isatty(2);
	r.t0 = dgen_clock_mono();
	pthread_mutex_init(&r.mu, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (pipeline_is_multiplier(p)) {
		expand_all(&r, &seeds, &expand_failed);
	} else {
		for (size_t si = 0; si < seeds.n; si++)
			for (long rep = 0; rep < seeds.v[si].repetitions; rep++)
				add_item(&r, si, rep, -1, json_object_get(seeds.v[si].metadata));
	}
	r.lines = dgen_xcalloc(r.n ? r.n : 1, sizeof *r.lines);
	r.finished = dgen_xcalloc(r.n ? r.n : 1, sizeof *r.finished);
	if ((size_t)conc > r.n && r.n > 0)
		conc = (long long)r.n;
	th = dgen_xcalloc((size_t)conc, sizeof *th);
	for (long long k = 0; k < conc && r.n > 0; k++)
		if (pthread_create(&th[k], NULL, worker, &r) != 0) {
			th[k] = 0;
			conc = k;
			break;
		}
	if (r.n > 0 && conc == 0) /* not even one thread: run here */
		worker(&r);
	for (long long k = 0; k < conc && r.n > 0; k++)
		pthread_join(th[k], NULL);
	flush_ready(&r);
	if (fflush(r.out) != 0 && !r.write_errno)
		r.write_errno = errno ? errno : EIO;
	if (r.progress)
		fputs("\r\033[K", stderr);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);

	total = r.n + expand_failed;
	fprintf(stderr,
		"dgen: %zu record(s) written, %zu execution(s) failed, %zu not run; "
		"tokens: %lld in, %lld out, %lld cached; %.2f s\n",
		r.ok, r.failed + expand_failed, r.n - r.done, (long long)r.usage.input_tokens,
		(long long)r.usage.output_tokens, (long long)r.usage.cached_tokens,
		dgen_clock_mono() - r.t0);
	if (r.write_errno) {
		dgen_err_set(&err, DGEN_EIO, "cannot write the records to %s: %s",
			     outpath ? outpath : "standard output", strerror(r.write_errno));
		cli_print_error(&err);
		rc = CLI_ERROR;
	} else if (r.stopped) {
		fprintf(stderr, "dgen: stopped: Constraint exceeded: %s\n", r.stopped);
		rc = CLI_PARTIAL;
	} else if (atomic_load(&run_cancel)) {
		fprintf(stderr, "dgen: interrupted\n");
		rc = CLI_PARTIAL;
	} else if (total > 0 && r.ok == 0) {
		rc = CLI_ERROR;
	} else if (r.failed + expand_failed > 0) {
		rc = CLI_PARTIAL;
	} else {
		rc = CLI_OK;
	}
	pthread_mutex_destroy(&r.mu);
	goto out;
fail:
	cli_print_error(&err);
	rc = CLI_ERROR;
out:
	for (size_t i = 0; i < r.n; i++) {
		json_object_put(r.items[i].state);
		if (r.lines)
			free(r.lines[i]);
	}
	free(r.items);
	free(r.lines);
	free(r.finished);
	free(th);
	if (r.out && r.out != stdout)
		fclose(r.out);
	if (r.llm)
		llm_client_free(r.llm);
	seeds_free(&seeds);
	pipeline_free(p);
	json_object_put(def);
	dgen_err_clear(&err);
	return rc;
}
