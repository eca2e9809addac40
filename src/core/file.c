/*
 * file.c - whole-file reads with a size cap: seed files, template files
 * and the CLI's inputs all come from users, and none may make dgen read
 * (or allocate) more than its configured limit.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/file.h"

/* Reads in chunks and stops as soon as the cap is passed, so a huge file
 * costs at most max + one chunk of memory, whatever its size. */
int dgen_file_read_capped(const char *path, size_t max, char **text, size_t *len,
			  struct dgen_err *err)
{
	struct dgen_buf b = DGEN_BUF_INIT;
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t got;
	int rc = -1;

	if (!f)
		return dgen_err_set(err, DGEN_EIO, "cannot open %s: %s", path, strerror(errno));
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b.len + got > max) {
			dgen_err_set(err, DGEN_ETOOBIG, "%s is larger than %zu bytes", path, max);
			dgen_err_detail_int(err, "limit", (long long)max);
			goto out;
		}
		dgen_buf_append(&b, chunk, got);
	}
	if (ferror(f)) {
		dgen_err_set(err, DGEN_EIO, "cannot read %s", path);
		goto out;
	}
	*len = b.len;
	*text = dgen_buf_steal(&b);
	rc = 0;
out:
	fclose(f);
	dgen_buf_free(&b);
	return rc;
}
