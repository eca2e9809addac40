/* test_config.c - the environment wins over the file, the file over the
 * defaults, and a bad value is refused with the key named. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/config.h"
#include "tap.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

int main(void)
{
	struct dgen_config cfg;
	struct dgen_err e = DGEN_ERR_INIT;
	char path[] = "/tmp/dgen-test-conf-XXXXXX";
	int fd = mkstemp(path);

	close(fd);
	unsetenv("LLM_MODEL");
	unsetenv("PORT");
	unsetenv("DEBUG");
	unsetenv("DGEN_CONFIG");
	write_file(path, "# a comment\n\nLLM_MODEL = \"qwen2\"\nPORT=9090\nDEBUG=true\n");
	ok(dgen_config_load(&cfg, path, &e) == 0, "file loads");
	is_str(cfg.llm_model, "qwen2", "quoted value from the file");
	is_int(cfg.port, 9090, "number from the file");
	ok(cfg.debug, "boolean from the file");
	is_str(cfg.llm_endpoint, "http://localhost:11434/v1/chat/completions", "default endpoint");
	is_int(cfg.runner_concurrency, 16, "default runner concurrency");
	is_int(cfg.llm_timeout_ms, 120000, "timeouts are seconds, kept as ms");
	dgen_config_free(&cfg);

	setenv("LLM_MODEL", "from-env", 1);
	ok(dgen_config_load(&cfg, path, &e) == 0, "file + env load");
	is_str(cfg.llm_model, "from-env", "the environment wins");
	dgen_config_free(&cfg);
	unsetenv("LLM_MODEL");

	setenv("PORT", "70000", 1);
	ok(dgen_config_load(&cfg, path, &e) == -1 && strstr(e.msg, "PORT"), "out of range port is refused");
	ok(e.code == DGEN_EINVALID, "as invalid");
	unsetenv("PORT");

	setenv("DEBUG", "maybe", 1);
	ok(dgen_config_load(&cfg, path, &e) == -1 && strstr(e.msg, "true or false"),
	   "a bad boolean says what is expected");
	unsetenv("DEBUG");

	write_file(path, "LLM_MDOEL=x\n");
	ok(dgen_config_load(&cfg, path, &e) == -1 && strstr(e.msg, "unknown setting LLM_MDOEL"),
	   "a typo in the file is reported with its line");
	ok(strstr(e.msg, ":1:") != NULL, "the line number is given");

	write_file(path, "LLM_ENDPOINT=ftp://x\n");
	ok(dgen_config_load(&cfg, path, &e) == -1 && strstr(e.msg, "http"), "non-http endpoint is refused");

	ok(dgen_config_load(&cfg, "/nonexistent/dgen.conf", &e) == -1 && e.code == DGEN_EIO,
	   "a missing named file is an error");
	dgen_err_clear(&e);
	unlink(path);
	return done_testing();
}
