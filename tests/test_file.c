/* test_file.c - whole-file reads: the bytes come back whole and
 * terminated, a file over the cap is refused with 413's code, a missing
 * file with an I/O error. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/file.h"
#include "tap.h"

static char dir[256];

static void write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

int main(void)
{
	struct dgen_err err = DGEN_ERR_INIT;
	const char *tmp = getenv("TMPDIR");
	char path[320], empty[320], missing[320];
	char *text = NULL;
	size_t len = 0;

	snprintf(dir, sizeof dir, "%s/dgen-file-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/ten", dir);
	snprintf(empty, sizeof empty, "%s/empty", dir);
	snprintf(missing, sizeof missing, "%s/missing", dir);
	write_file(path, "0123\0" "56789", 10);
	write_file(empty, "", 0);

	ok(dgen_file_read_capped(path, 10, &text, &len, &err) == 0,
	   "a file of exactly the cap is read");
	is_int(len, 10, "... all of it");
	ok(text && memcmp(text, "0123\0" "56789", 10) == 0 && text[10] == '\0',
	   "... byte for byte (an embedded NUL too), NUL-terminated");
	free(text);
	text = NULL;

	ok(dgen_file_read_capped(path, 9, &text, &len, &err) < 0,
	   "a file one byte over the cap is refused");
	is_int(err.code, DGEN_ETOOBIG, "... as too big (413)");
	ok(strstr(err.msg, "larger than 9 bytes") != NULL, "... saying the limit: %s", err.msg);
	ok(text == NULL, "... and hands nothing back");
	dgen_err_clear(&err);

	ok(dgen_file_read_capped(empty, 10, &text, &len, &err) == 0 && len == 0 && text &&
	   text[0] == '\0', "an empty file reads as the empty string");
	free(text);
	text = NULL;

	ok(dgen_file_read_capped(missing, 10, &text, &len, &err) < 0, "a missing file fails");
	is_int(err.code, DGEN_EIO, "... with an I/O error");
	ok(strstr(err.msg, "missing") != NULL, "... naming the file: %s", err.msg);
	dgen_err_clear(&err);

	unlink(path);
	unlink(empty);
	rmdir(dir);
	return done_testing();
}
