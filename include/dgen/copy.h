/*
 * copy.h - copying a whole sqlite store into an empty PostgreSQL one
 * (`dgen migrate --to postgresql://...`).
 *
 * Ownership: nothing is allocated for the caller.
 *
 * Both databases are first brought to the latest schema (migrate_run).
 * Every table of the sqlite schema is copied column by column as the
 * schema says (sqlite's table list and pragma table_info), parents before
 * the tables that reference them, in one PostgreSQL transaction; ids are
 * kept and each identity sequence is set past the largest id. Sealed
 * model keys are copied as they are: the target needs the same key file.
 */
#ifndef DGEN_COPY_H
#define DGEN_COPY_H

#include <stdio.h>

#include "dgen/err.h"

/* Rows compared column by column per table after the copy. */
#define COPY_SAMPLE_ROWS 100

/* Copies the sqlite database at from into the PostgreSQL database at the
 * URL to, which must hold no rows (else DGEN_ECONFLICT naming a table
 * that has some, and nothing is written). Prints each table's row count
 * to report, then checks the counts of both sides and a sample of rows
 * per table and prints the outcome; a difference is DGEN_EIO. */
int copy_database(const char *from, const char *to, int busy_timeout_ms, FILE *report,
		  struct dgen_err *err);

#endif
