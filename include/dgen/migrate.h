/*
 * migrate.h - the database schema, as forward-only steps on
 * PRAGMA user_version.
 *
 * Ownership: nothing is allocated for the caller.
 *
 * db_open() runs migrate_run() already; the CLI's `migrate` verb calls it
 * again to report. Running it any number of times, from any number of
 * processes at once, is safe: the steps run under BEGIN IMMEDIATE and the
 * version is re-read inside that transaction.
 */
#ifndef DGEN_MIGRATE_H
#define DGEN_MIGRATE_H

#include "dgen/db.h"
#include "dgen/err.h"

/* Brings the schema to migrate_latest(). *applied (may be NULL) receives
 * the number of steps this call ran (0 when already current). A database
 * written by a newer dgen (user_version above ours) is DGEN_EIO. */
int migrate_run(struct dgen_db *db, int *applied, struct dgen_err *err);
/* The schema version of the open database. */
int migrate_version(struct dgen_db *db, int *version, struct dgen_err *err);
/* The version this build migrates to (= number of steps). */
int migrate_latest(void);

#endif
