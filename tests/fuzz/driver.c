/*
 * driver.c - runs a fuzz target over its saved corpus when libFuzzer is not
 * linked in, so every `make check` replays the inputs that once mattered.
 *
 * Usage: fuzz_<name> [FILE|DIR ...]; with no argument it reads
 * $top_srcdir/tests/fuzz/corpus/<name>/. Output is TAP, one line per input.
 * Under --enable-fuzzing libFuzzer provides main() and this file is empty.
 */
#include "config.h"

#ifndef DGEN_FUZZING
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_run;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, got;
	unsigned char chunk[65536];

	if (!f) {
		printf("not ok %d - cannot open %s\n", ++n_run, path);
		return -1;
	}
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + got > cap) {
			cap = (len + got) * 2;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		memcpy(data + len, chunk, got);
		len += got;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data ? data : (const uint8_t *)"", len);
	free(data);
	printf("ok %d - %s\n", ++n_run, path);
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (stat(path, &st) != 0) {
		printf("not ok %d - no such corpus %s\n", ++n_run, path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	if (!(d = opendir(path)))
		return -1;
	while ((de = readdir(d))) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		rc |= run_path(sub);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			rc |= run_path(argv[i]);
	} else {
		const char *top = getenv("top_srcdir");
		const char *name = strrchr(argv[0], '/');
		char dir[4096];

		name = name ? name + 1 : argv[0];
		if (strncmp(name, "fuzz_", 5) == 0)
			name += 5;
		snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top ? top : ".", name);
		rc = run_path(dir);
	}
	printf("1..%d\n", n_run);
	return rc ? 1 : 0;
}
#endif
