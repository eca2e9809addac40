/* test_config.c - the environment wins over the file, the file over the
 * defaults, and a bad value is refused with the key named. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/config.h"
#include "dgen/secret.h"
#include "tap.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* DATABASE_URL selects PostgreSQL over DATABASE_PATH; the local files
 * stay in the directory DATABASE_PATH names; the password is never shown. */
static void test_database_url(const char *path)
{
	struct dgen_config cfg;
	struct dgen_err e = DGEN_ERR_INIT;
	char *s;

	write_file(path, "DATABASE_PATH=/srv/dgen/data/dgen.db\n");
	ok(dgen_config_load(&cfg, path, &e) == 0, "sqlite by default");
	is_str(cfg.database_path, "/srv/dgen/data/dgen.db", "the store is DATABASE_PATH");
	is_str((s = secret_key_path(&cfg)), "/srv/dgen/data/dgen.key", "the key file beside it");
	free(s);
	is_str((s = dgen_config_store_file(&cfg, "execute")), "/srv/dgen/data/dgen.db-execute",
	       "a store file beside it");
	free(s);
	dgen_config_free(&cfg);

	write_file(path, "DATABASE_PATH=/srv/dgen/data/dgen.db\n"
			 "DATABASE_URL=postgresql://dgen:s3cret@db.example/dgen?sslmode=require\n");
	ok(dgen_config_load(&cfg, path, &e) == 0, "DATABASE_URL in the file");
	is_str(cfg.database_path, "postgresql://dgen:s3cret@db.example/dgen?sslmode=require",
	       "the URL is the store");
	is_str(cfg.database_file, "/srv/dgen/data/dgen.db", "DATABASE_PATH is kept");
	is_str((s = secret_key_path(&cfg)), "/srv/dgen/data/dgen.key",
	       "the key file is in the data directory");
	free(s);
	is_str((s = dgen_config_store_file(&cfg, "execute")), "/srv/dgen/data/dgen-execute",
	       "a store file is in the data directory");
	free(s);
	dgen_config_free(&cfg);
	is_str((s = dgen_config_redact_url("postgres://u:pw@h/db?password=pw2&x=1", false)),
	       "postgres://u:***@h/db?password=***&x=1", "both passwords are hidden");
	free(s);

	setenv("DATABASE_URL", "mysql://x/y", 1);
	ok(dgen_config_load(&cfg, path, &e) == -1 && strstr(e.msg, "postgresql://"),
	   "another scheme is refused, saying which one works");
	dgen_err_clear(&e);
	unsetenv("DATABASE_URL");
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
	unsetenv("DATABASE_PATH");
	unsetenv("DATABASE_URL");
	unsetenv("DGEN_KEY_FILE");
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

	test_database_url(path);

	ok(dgen_config_load(&cfg, "/nonexistent/dgen.conf", &e) == -1 && e.code == DGEN_EIO,
	   "a missing named file is an error");
	dgen_err_clear(&e);
	unlink(path);
	return done_testing();
}
