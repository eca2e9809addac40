/*
 * saved_pipelines.h - stored pipeline definitions (the engine's runnable
 * pipeline is pipeline.h).
 *
 * Ownership: see db.h (returned JSON objects are new references; returned
 * strings are malloc'd). The definition and validation_config are stored
 * as the JSON text the caller gives; the API validates them first (the
 * store checks nothing about their content).
 *
 * Deleting a pipeline deletes its jobs, their records and failures.
 * Unknown ids are DGEN_ENOTFOUND.
 *
 * who scopes every call (caller.h): a member reads and changes only their
 * own pipelines, and another's id answers like an unknown one; a new
 * pipeline belongs to who.
 */
#ifndef DGEN_PIPELINES_H
#define DGEN_PIPELINES_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/caller.h"
#include "dgen/db.h"
#include "dgen/err.h"

/* Stores a new pipeline; *id receives its id. definition is JSON text. */
int saved_pipelines_insert(struct dgen_db *db, const struct dgen_caller *who, const char *name, const char *definition,
		     int64_t *id, struct dgen_err *err);
/* Replaces name and definition, bumps updated_at. */
int saved_pipelines_update(struct dgen_db *db, const struct dgen_caller *who, int64_t id, const char *name,
		     const char *definition, struct dgen_err *err);
/* {"id","name","definition" (object),"validation_config" (object or null),
 *  "created_at","updated_at"}. The API adds "first_block_is_multiplier". */
int saved_pipelines_get(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct json_object **out,
		  struct dgen_err *err);
/* The raw stored texts (for the engine): *name and *definition malloc'd;
 * either out pointer may be NULL. */
int saved_pipelines_get_definition(struct dgen_db *db, const struct dgen_caller *who, int64_t id, char **name,
			     char **definition, struct dgen_err *err);
/* Array of {"id","name","definition","created_at","updated_at"}, newest
 * first. */
int saved_pipelines_list(struct dgen_db *db, const struct dgen_caller *who, struct json_object **out, struct dgen_err *err);
/* One page of that list: at most limit (<= 0 means 100) pipelines after
 * skipping offset, and *total, the number of pipelines, read in one
 * snapshot. */
int saved_pipelines_page(struct dgen_db *db, const struct dgen_caller *who, int64_t limit, int64_t offset, int64_t *total,
			 struct json_object **out, struct dgen_err *err);
/* Deletes the pipeline and, by cascade, its jobs, records and failures. */
int saved_pipelines_delete(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct dgen_err *err);
/* Stores the review layout JSON text (PUT .../validation_config). */
int saved_pipelines_set_validation_config(struct dgen_db *db, const struct dgen_caller *who, int64_t id, const char *config,
				    struct dgen_err *err);
/* 0 and *exists set; never DGEN_ENOTFOUND. */
int saved_pipelines_exists(struct dgen_db *db, const struct dgen_caller *who, int64_t id, bool *exists, struct dgen_err *err);

#endif
