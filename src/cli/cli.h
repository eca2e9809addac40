/*
 * cli.h - what the verbs of the `dgen` command share: the loaded
 * configuration, the execution environment (block registry, LLM client)
 * and the pipeline templates, and how a verb reports an error.
 *
 * Ownership: main() (dgen.c) fills one struct cli and frees it after the
 * verb returns; verbs borrow everything in it.
 */
#ifndef DGEN_CLI_H
#define DGEN_CLI_H

#include "dgen/config.h"
#include "dgen/err.h"
#include "dgen/exec.h"
#include "dgen/catalog.h"

/* Exit statuses (documented in `dgen --help` and dgen(1)). */
enum {
	CLI_OK = 0,       /* everything worked */
	CLI_ERROR = 1,    /* could not start, invalid input, or every execution failed */
	CLI_USAGE = 2,    /* bad command line */
	CLI_PARTIAL = 3,  /* a run finished, but some executions failed or it was stopped */
};

struct cli {
	struct dgen_config cfg;
	struct dgen_exec *exec;
	struct dgen_catalog tpl;
};

/* Prints {"error": ..., "detail": ...} (one line) on stderr. */
void cli_print_error(const struct dgen_err *err);
/* Prints "dgen: <message>" and a pointer to --help on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `dgen run PIPELINE SEEDS [-o FILE] [-c N] [--trace]` (run.c). */
int cli_run(struct cli *c, int argc, char **argv);
/* `dgen models [--embedding] list|add JSON|test NAME|rm NAME|rekey` (models.c). */
int cli_models(struct cli *c, int argc, char **argv);

/* `dgen users ...` and `dgen tokens ...` (accounts.c). */
int cli_accounts(struct cli *c, int argc, char **argv);

#endif
