/*
 * dgen.c - the `dgen` command: the engine and the store from a shell.
 *
 *   dgen [--config FILE] [--debug] COMMAND [ARGS]
 *
 * Commands: blocks, templates, validate, run (run.c), llm test, migrate.
 * Every command loads the configuration (environment over file over
 * defaults), the block registry with its plugins and the pipeline
 * templates, then does one thing. Errors go to stderr as the same JSON
 * object the API answers with, so scripts can read them.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dgen/blocks.h"
#include "dgen/buf.h"
#include "dgen/cmdline.h"
#include "dgen/copy.h"
#include "dgen/db.h"
#include "dgen/file.h"
#include "dgen/json.h"
#include "dgen/llm.h"
#include "dgen/log.h"
#include "dgen/migrate.h"
#include "dgen/pipeline.h"
#include "dgen/seeds.h"
#include "dgen/util.h"

static const char usage_text[] =
	"usage: dgen [--config FILE] [--debug] COMMAND [ARGS]\n"
	"\n"
	"Build datasets with LLMs: run pipelines of blocks over seed files.\n"
	"\n"
	"Commands:\n"
	"  blocks [--json]               list the block types (--json: as GET /api/blocks)\n"
	"  templates [--json]            list the pipeline templates\n"
	"  validate PIPELINE [SEEDS]     check a pipeline, and a seed file against it\n"
	"  run PIPELINE SEEDS [-o FILE] [-c N] [--trace]\n"
	"                                run every seed and write JSONL records\n"
	"  llm test [--prompt TEXT]      make one call with the configured LLM settings\n"
	"  migrate                       create or upgrade the database (DATABASE_PATH)\n"
	"  migrate --to URL [--from FILE] copy the sqlite database into an empty PostgreSQL one\n"
	"  users add NAME [--admin] [--password-file FILE|-]\n"
	"                                add a user (without a file: a random password,\n"
	"                                printed once)\n"
	"  users list [--json] | passwd NAME [--password-file FILE|-] | disable NAME\n"
	"        | enable NAME           manage users\n"
	"  tokens create USER [--name NAME] [--expires-days N]\n"
	"                                make an API token (printed once)\n"
	"  tokens list [USER] | revoke ID\n"
	"                                the API tokens, by id\n"
	"\n"
	"PIPELINE is a template id (see `dgen templates`), a YAML template file or a\n"
	"JSON pipeline definition. SEEDS is a JSON seed file or a markdown file.\n"
	"\n"
	"Options:\n"
	"  --config FILE   read settings from FILE (KEY=value lines; the environment wins)\n"
	"  --debug         log every block with its trace_id and timing (like DEBUG=true)\n"
	"  --help          show this help\n"
	"  --version       show the version\n"
	"\n"
	"Exit status: 0 success; 1 error (nothing or nothing useful was done; the\n"
	"error is printed on stderr as JSON); 2 bad command line; 3 a run finished\n"
	"but some executions failed, or a constraint or a signal stopped it.\n";

void cli_print_error(const struct dgen_err *err)
{
	struct json_object *o = dgen_err_to_json(err);

	fprintf(stderr, "%s\n", json_object_to_json_string_ext(
					o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see dgen --help)\n", stderr);
	return CLI_USAGE;
}

static void print_json(struct json_object *v)
{
	printf("%s\n", dgen_json_pretty(v));
}

/* "a, b" from a NULL-terminated list ("-" when empty). */
static void put_list(struct dgen_buf *b, const char *const *v)
{
	if (!v || !v[0]) {
		dgen_buf_puts(b, "-");
		return;
	}
	for (size_t i = 0; v[i]; i++) {
		if (i)
			dgen_buf_puts(b, ",");
		dgen_buf_puts(b, v[i]);
	}
}

static bool want_json(int argc, char **argv, int *rc)
{
	bool json = false;

	*rc = CLI_OK;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			*rc = cli_usage_error("unexpected argument '%s'", argv[i]);
	}
	return json;
}

/* The block types as a table (or, with --json, as GET /api/blocks), and
 * the plugins that were not loaded, on stderr. */
static int cmd_blocks(struct cli *c, int argc, char **argv)
{
	int rc;
	bool json = want_json(argc, argv, &rc);
	struct json_object *problems = registry_problems(exec_registry(c->exec));

	if (rc != CLI_OK)
		return rc;
	if (json) {
		struct json_object *a = registry_blocks_json(exec_registry(c->exec));

		print_json(a);
		json_object_put(a);
		return CLI_OK;
	}
	printf("%-26s %-11s %-24s %-30s %s\n", "TYPE", "CATEGORY", "INPUTS", "OUTPUTS",
	       "DESCRIPTION");
	for (size_t i = 0; i < registry_count(exec_registry(c->exec)); i++) {
		const struct dgen_block_type *t = registry_at(exec_registry(c->exec), i);
		struct dgen_buf in = DGEN_BUF_INIT, out = DGEN_BUF_INIT;

		put_list(&in, t->inputs);
		put_list(&out, t->outputs);
		printf("%-26s %-11s %-24s %-30s %s%s\n", t->type, t->category ? t->category : "-",
		       dgen_buf_str(&in), dgen_buf_str(&out), t->is_multiplier ? "[multiplier] " : "",
		       t->description ? t->description : "");
		dgen_buf_free(&in);
		dgen_buf_free(&out);
	}
	for (size_t i = 0; i < json_object_array_length(problems); i++) {
		struct json_object *p = json_object_array_get_idx(problems, i);

		fprintf(stderr, "dgen: plugin %s not loaded: %s\n",
			json_object_get_string(json_object_object_get(p, "file")),
			json_object_get_string(json_object_object_get(p, "error")));
	}
	return CLI_OK;
}

/* The pipeline templates as a table (or, with --json, as GET
 * /api/templates), and the ones that did not load, on stderr. */
static int cmd_templates(struct cli *c, int argc, char **argv)
{
	int rc;
	bool json = want_json(argc, argv, &rc);

	if (rc != CLI_OK)
		return rc;
	if (json) {
		struct json_object *a = catalog_list_json(&c->tpl);

		print_json(a);
		json_object_put(a);
		return CLI_OK;
	}
	printf("%-24s %-28s %s\n", "ID", "NAME", "EXAMPLE SEED");
	for (size_t i = 0; i < c->tpl.n; i++) {
		const struct dgen_pipeline_template *tp = &c->tpl.v[i];

		printf("%-24s %-28s %s%s\n", tp->id, tp->name, tp->seed_path ? tp->seed_path : "-",
		       tp->builtin ? "" : " (user)");
	}
	for (size_t i = 0; i < json_object_array_length(c->tpl.problems); i++) {
		struct json_object *p = json_object_array_get_idx(c->tpl.problems, i);

		fprintf(stderr, "dgen: template not loaded: %s\n",
			json_object_get_string(json_object_object_get(p, "error")));
	}
	return CLI_OK;
}

/* The report of POST /api/seeds/validate for the seed file at path. A
 * markdown file is always one well-formed seed: it is only checked to
 * load. A JSON file is read whole (within the upload limit) so that every
 * problem of every seed is reported, not just the first. */
static int validate_seeds(struct cli *c, const struct dgen_pipeline *p, const char *path,
			  struct json_object **report, struct dgen_err *err)
{
	struct dgen_json_limits jlim;
	struct dgen_seed_limits slim;
	struct json_object *doc = NULL;
	size_t len = strlen(path), tlen = 0;
	char *text = NULL;
	int rc;

	exec_seed_limits(c->exec, &jlim, &slim);
	if (len > 3 && strcmp(path + len - 3, ".md") == 0) {
		struct dgen_seeds s;

		if (seeds_load_file(path, &jlim, &slim, &s, err) != 0)
			return -1;
		*report = seeds_validate(p, s.root, &slim);
		seeds_free(&s);
		return 0;
	}
	if (dgen_file_read_capped(path, jlim.max_bytes, &text, &tlen, err) != 0)
		return -1;
	rc = dgen_json_parse(text, tlen, &jlim, &doc, err);
	free(text);
	if (rc == 0)
		*report = seeds_validate(p, doc, &slim);
	json_object_put(doc);
	return rc;
}

/* Checks a pipeline (and optionally a seed file against it). */
static int cmd_validate(struct cli *c, int argc, char **argv)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *def = NULL, *report = NULL;
	struct dgen_pipeline *p = NULL;
	int rc = CLI_ERROR;

	if (argc < 2 || argc > 3)
		return cli_usage_error("validate needs a PIPELINE (and optionally a SEEDS file)");
	if (catalog_resolve_pipeline(&c->tpl, argv[1], &def, &err) != 0 ||
	    pipeline_load(exec_registry(c->exec), def, &p, &err) != 0 ||
	    (argc == 3 && validate_seeds(c, p, argv[2], &report, &err) != 0)) {
		cli_print_error(&err);
		goto out;
	}
	if (report) {
		print_json(report);
		rc = json_object_get_boolean(json_object_object_get(report, "valid")) ? CLI_OK
										      : CLI_ERROR;
		goto out;
	}
	printf("%s: valid pipeline '%s', %zu block(s)%s\n", argv[1], pipeline_name(p),
	       pipeline_n_blocks(p), pipeline_is_multiplier(p) ? ", multiplier" : "");
	rc = CLI_OK;
out:
	json_object_put(report);
	pipeline_free(p);
	json_object_put(def);
	dgen_err_clear(&err);
	return rc;
}

/* One call with the configured settings: the quickest check of an LLM setup. */
static int cmd_llm(struct cli *c, int argc, char **argv)
{
	const char *prompt = "Reply with one short sentence: are you there?";
	struct dgen_llm_client *client;
	struct dgen_llm_handle *h;
	struct dgen_llm_message msg;
	struct dgen_llm_request req;
	struct dgen_llm_response resp;
	struct dgen_err err = DGEN_ERR_INIT;
	char *shown;
	int rc = CLI_ERROR;

	if (argc < 2 || strcmp(argv[1], "test") != 0)
		return cli_usage_error("usage: dgen llm test [--prompt TEXT]");
	if (argc == 4 && strcmp(argv[2], "--prompt") == 0)
		prompt = argv[3];
	else if (argc != 2)
		return cli_usage_error("usage: dgen llm test [--prompt TEXT]");
	memset(&resp, 0, sizeof resp);
	if (!(h = exec_handle_new(c->exec, &err))) {
		cli_print_error(&err);
		goto out;
	}
	client = exec_llm_client(c->exec);
	msg.role = "user";
	msg.content = prompt;
	memset(&req, 0, sizeof req);
	req.messages = &msg;
	req.n_messages = 1;
	req.temperature = 0.0;
	req.max_tokens = 64;
	req.format = DGEN_LLM_TEXT;
	shown = dgen_log_redact_url(llm_client_endpoint(client));
	printf("provider: %s\nmodel:    %s\nendpoint: %s\n",
	       llm_provider_name(llm_client_provider(client)), llm_client_model(client), shown);
	free(shown);
	if (llm_call(h, &req, &resp, &err) != 0) {
		printf("result:   failed after %.3f s (%d attempt(s), HTTP %ld)\n", resp.latency,
		       resp.attempts, resp.http_status);
		cli_print_error(&err);
		goto out;
	}
	printf("latency:  %.3f s (%d attempt(s))\n", resp.latency, resp.attempts);
	printf("usage:    %lld input, %lld output, %lld cached tokens\n",
	       (long long)resp.usage.input_tokens, (long long)resp.usage.output_tokens,
	       (long long)resp.usage.cached_tokens);
	printf("reply:    %s\n", resp.text ? resp.text : "");
	rc = CLI_OK;
out:
	llm_response_free(&resp);
	exec_handle_free(h);
	dgen_err_clear(&err);
	return rc;
}

/* `dgen migrate --to URL [--from FILE]`: the sqlite store (DATABASE_PATH
 * unless --from) copied into an empty PostgreSQL database. */
static int migrate_copy(struct cli *c, const char *from, const char *to)
{
	struct dgen_err err = DGEN_ERR_INIT;
	int rc = CLI_OK;

	if (!from)
		from = c->cfg.database_file && *c->cfg.database_file ? c->cfg.database_file
								      : c->cfg.database_path;
	if (access(from, R_OK) != 0) {
		fprintf(stderr, "dgen: cannot read the sqlite database %s: %s\n", from,
			strerror(errno));
		return CLI_ERROR;
	}
	if (copy_database(from, to, c->cfg.db_busy_timeout_ms, stdout, &err) != 0) {
		cli_print_error(&err);
		rc = CLI_ERROR;
	}
	dgen_err_clear(&err);
	return rc;
}

static int cmd_migrate(struct cli *c, int argc, char **argv)
{
	struct dgen_db *db = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	const char *from = NULL, *to = NULL;
	int version = 0, applied = 0, rc = CLI_ERROR, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else
			return cli_usage_error("migrate takes only --to URL [--from FILE]");
	}
	if (from && !to)
		return cli_usage_error("migrate --from needs --to postgresql://...");
	if (to)
		return migrate_copy(c, from, to);
	if (db_open(&db, c->cfg.database_path, c->cfg.db_busy_timeout_ms, &err) != 0 ||
	    migrate_run(db, &applied, &err) != 0 || migrate_version(db, &version, &err) != 0) {
		cli_print_error(&err);
		goto out;
	}
	printf("%s: schema version %d (this dgen: %d)\n", db_path(db), version,
	       migrate_latest());
	rc = CLI_OK;
out:
	db_close(db);
	dgen_err_clear(&err);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
} commands[] = {
	{ "blocks", cmd_blocks },
	{ "templates", cmd_templates },
	{ "validate", cmd_validate },
	{ "run", cli_run },
	{ "llm", cmd_llm },
	{ "models", cli_models },
	{ "migrate", cmd_migrate },
	{ "users", cli_accounts },
	{ "tokens", cli_accounts },
};

/* The global options, then the configuration, the execution environment
 * and the templates every command shares, then the command. */
/* A binary run from the build tree before `make install` has no installed
 * templates yet: when the templates directory is the default and missing,
 * the source tree's templates (baked in at build time) stand in. An
 * explicit DGEN_TEMPLATES_DIR is always used as given. */
static const char *templates_dir(const struct dgen_config *cfg)
{
	struct stat sb;

	if (strcmp(cfg->templates_dir, DGEN_PKGDATADIR "/templates") == 0 &&
	    stat(cfg->templates_dir, &sb) != 0 && stat(DGEN_SRC_TEMPLATESDIR, &sb) == 0)
		return DGEN_SRC_TEMPLATESDIR;
	return cfg->templates_dir;
}

/* Parses the global options, loads the configuration and the execution
 * environment every verb shares, then runs the verb named by the first
 * argument. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "debug", no_argument, NULL, 'd' },
		DGEN_CMDLINE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli c;
	struct dgen_err err = DGEN_ERR_INIT;
	const char *config_file = NULL;
	bool debug = false;
	int opt, rc;
	size_t k;

	memset(&c, 0, sizeof c);
	/* The database, its WAL and SHM: 0640 at most, however we were started. */
	umask(umask(0) | 027);
	dgen_log_init("dgen", false, 2);
	/* "+": the options before the command only; --config has no short form. */
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (opt == 'd') {
			debug = true;
			continue;
		}
		rc = dgen_cmdline_common(opt, "dgen", usage_text, &config_file);
		if (rc == DGEN_CMDLINE_OTHER)
			return cli_usage_error("unknown option");
		if (rc >= 0)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_error("no command given");
	for (k = 0; k < DGEN_ARRAY_LEN(commands); k++)
		if (strcmp(commands[k].name, argv[optind]) == 0)
			break;
	if (k == DGEN_ARRAY_LEN(commands))
		return cli_usage_error("unknown command '%s'", argv[optind]);

	if (dgen_config_load(&c.cfg, config_file, &err) != 0) {
		cli_print_error(&err);
		dgen_err_clear(&err);
		return CLI_ERROR;
	}
	dgen_log_set_debug(debug || c.cfg.debug);
	dgen_log_secret(c.cfg.llm_api_key);
	c.exec = exec_new(&c.cfg, blocks_registry());
	catalog_load(templates_dir(&c.cfg), c.cfg.user_templates_dir, &c.tpl);

	rc = commands[k].fn(&c, argc - optind, argv + optind);

	catalog_free(&c.tpl);
	exec_free(c.exec);
	dgen_config_free(&c.cfg);
	return rc;
}
