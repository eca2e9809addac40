/*
 * main.c - dgen-runner: parse the command line, load the configuration,
 * install the signal handlers, and hand over to runner_run().
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dgen/cmdline.h"
#include "dgen/config.h"
#include "dgen/log.h"
#include "dgen/runner.h"

static volatile sig_atomic_t terminate_flag;

static void on_signal(int sig)
{
	(void)sig;
	terminate_flag = 1;
}

static const char usage_text[] =
	"usage: dgen-runner [--config FILE] [--once]\n"
	"Claims queued dgen jobs and runs their pipelines.\n"
	"  --config FILE  settings file (KEY=value); the environment wins\n"
	"  --once         exit when the queue is empty\n";

/* SIGTERM and SIGINT ask runner_run to stop (let units in flight finish
 * within the grace period); SIGPIPE is ignored. */
int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, '1' },
		DGEN_CMDLINE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct dgen_runner_opts opts = { 0 };
	struct dgen_config cfg;
	struct dgen_err err = DGEN_ERR_INIT;
	struct sigaction sa;
	const char *config_file = NULL;
	int c, rc;

	/* The database, its WAL and SHM: 0640 at most, however we were started. */
	umask(umask(0) | 027);
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (c == '1') {
			opts.once = true;
			continue;
		}
		rc = dgen_cmdline_common(c, "dgen-runner", usage_text, &config_file);
		if (rc == DGEN_CMDLINE_OTHER) {
			fputs(usage_text, stderr);
			return 2;
		}
		if (rc >= 0)
			return rc;
	}
	if (dgen_config_load(&cfg, config_file, &err)) {
		fprintf(stderr, "dgen-runner: %s\n", err.msg);
		dgen_err_clear(&err);
		return 1;
	}
	dgen_log_init("dgen-runner", cfg.debug, 2);
	dgen_log_secret(cfg.llm_api_key);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	opts.cfg = &cfg;
	opts.terminate = &terminate_flag;
	rc = runner_run(&opts, &err);
	if (rc)
		dgen_error("%s", err.msg);
	dgen_err_clear(&err);
	dgen_config_free(&cfg);
	return rc ? 1 : 0;
}
