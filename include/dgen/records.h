/*
 * records.h - generated records: review (read, list, edit, delete), counts
 * and the export iterator. Records are written by the runner through
 * queue_finish_unit() (queue.h).
 *
 * Ownership: see db.h (returned JSON objects are new references). An
 * iterator from records_iter_open() is released with records_iter_free().
 * Unknown ids are DGEN_ENOTFOUND.
 *
 * Record JSON (SPEC.md §4): {"id","output","metadata","status","trace",
 * "trace_id","job_id","pipeline_id","created_at","updated_at",
 * "reviewed_by","reviewed_at"} (who last set the status, and when).
 *
 * who scopes every call (caller.h): a member reads, edits, counts,
 * exports and deletes only their own records (the job's owner's); another
 * user's id answers like an unknown one. A status change records who as
 * the reviewer.
 * Export lines are those of export_line.h.
 */
#ifndef DGEN_RECORDS_H
#define DGEN_RECORDS_H

#include <stdint.h>
#include <json-c/json.h>

#include "dgen/caller.h"
#include "dgen/db.h"
#include "dgen/err.h"

enum dgen_record_status {
	DGEN_REC_ANY = 0, /* filters and updates: zeroed means any / unchanged */
	DGEN_REC_PENDING,
	DGEN_REC_ACCEPTED,
	DGEN_REC_REJECTED,
	DGEN_REC_EDITED,
};
const char *records_status_name(enum dgen_record_status st);
/* -1 when s names no status. */
int records_status_parse(const char *s, enum dgen_record_status *out);

struct dgen_record_filter {
	enum dgen_record_status status; /* DGEN_REC_ANY = any */
	int64_t job_id;                 /* 0 = any */
	int64_t pipeline_id;            /* 0 = any */
	int64_t limit;                  /* records_list only; <= 0 means 100 */
	int64_t offset;                 /* records_list only */
};

/* The record JSON object. */
int records_get(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct json_object **out,
		struct dgen_err *err);
/* Array of record objects, newest first. */
int records_list(struct dgen_db *db, const struct dgen_caller *who, const struct dgen_record_filter *f,
		 struct json_object **out, struct dgen_err *err);

/* What to change; NULL fields stay as they are. The store applies exactly
 * this (the API decides that a content edit without a status means
 * "edited"). */
struct dgen_record_update {
	const char *output;
	enum dgen_record_status status; /* DGEN_REC_ANY = unchanged */
	struct json_object *metadata;   /* replaces metadata (borrowed) */
	struct json_object *state_patch; /* keys set into the final accumulated
					  * state, last writer wins (borrowed) */
};
int records_update(struct dgen_db *db, const struct dgen_caller *who, int64_t id, const struct dgen_record_update *u,
		   struct dgen_err *err);
/* The record's final accumulated state (object). */
int records_get_state(struct dgen_db *db, const struct dgen_caller *who, int64_t id, struct json_object **out,
		      struct dgen_err *err);

/* Deletes the records of job_id and the job itself (its failures too);
 * job_id 0 deletes every record and keeps the jobs. *deleted (may be NULL)
 * receives the number of records deleted. An unknown job_id deletes
 * nothing and is not an error. */
int records_delete(struct dgen_db *db, const struct dgen_caller *who, int64_t job_id, int64_t *deleted,
		   struct dgen_err *err);

struct dgen_record_counts {
	int64_t total, pending, accepted, rejected, edited;
};
/* Counts per status of the records matching f (f->status, limit and offset
 * are ignored). */
int records_count(struct dgen_db *db, const struct dgen_caller *who, const struct dgen_record_filter *f,
		  struct dgen_record_counts *out, struct dgen_err *err);

/* Export: records matching f (limit and offset ignored) in id order, read
 * in pages of page_size (<= 0 means 500) by id, each page in its own short
 * read transaction, so memory stays flat and writers are never held up
 * for the length of a download. */
struct dgen_records_iter;
int records_iter_open(struct dgen_db *db, const struct dgen_caller *who, const struct dgen_record_filter *f, int page_size,
		      struct dgen_records_iter **out, struct dgen_err *err);
/* Returns 1 and an export line object in *line, 0 at the end, -1 on error. */
int records_iter_next(struct dgen_records_iter *it, struct json_object **line,
		      struct dgen_err *err);
void records_iter_free(struct dgen_records_iter *it);

#endif
