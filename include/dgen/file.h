/*
 * file.h - reading a whole file, never more than a cap.
 *
 * Ownership: dgen_file_read_capped() hands the caller a malloc'd copy of
 * the file's bytes, NUL-terminated after the last one, which the caller
 * releases with free(). path is only read during the call.
 */
#ifndef DGEN_FILE_H
#define DGEN_FILE_H

#include <stddef.h>

#include "dgen/err.h"

/* Reads the file at path into *text (length in *len). A file larger than
 * max bytes is DGEN_ETOOBIG "<path> is larger than <max> bytes" (detail
 * {limit: max}), read no further than the cap; a file that cannot be opened
 * or read is DGEN_EIO. On -1, *text is untouched. */
int dgen_file_read_capped(const char *path, size_t max, char **text, size_t *len,
			  struct dgen_err *err);

#endif
