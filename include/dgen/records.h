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

#include <stdbool.h>
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

#define DGEN_REC_MAX_RANGES 8   /* range filters (min.<f>, max.<f>) per query */
#define DGEN_REC_MAX_Q 256      /* bytes of an output search */
#define DGEN_REC_FIELD_MAX 64   /* bytes of a state field name */

/* A numeric range on a field of the final accumulated state; an open end
 * is -INFINITY or INFINITY. Records without a number there do not match. */
struct dgen_record_range {
	char field[DGEN_REC_FIELD_MAX + 1];
	double min, max;
};

enum dgen_record_sort {
	DGEN_SORT_NEWEST = 0,   /* -created_at (zeroed filter) */
	DGEN_SORT_OLDEST,       /* created_at */
	DGEN_SORT_FIELD_ASC,    /* a numeric state field; records without it last */
	DGEN_SORT_FIELD_DESC,
};

/*
 * Which records: every path that selects records (list, count, stats,
 * bulk review, export) takes this one struct, so a new criterion (an
 * owner) is added here and reaches all of them. Zeroed means "all
 * records, newest first". q is borrowed for the life of the filter.
 */
struct dgen_record_filter {
	enum dgen_record_status status; /* DGEN_REC_ANY = any */
	int64_t job_id;                 /* 0 = any */
	int64_t pipeline_id;            /* 0 = any */
	const char *q;                  /* substring of output (ASCII case
					 * folded); NULL or "" = any */
	struct dgen_record_range ranges[DGEN_REC_MAX_RANGES];
	size_t n_ranges;
	enum dgen_record_sort sort;     /* records_list only */
	char sort_field[DGEN_REC_FIELD_MAX + 1]; /* for DGEN_SORT_FIELD_* */
	int64_t limit;                  /* records_list only; <= 0 means 100 */
	int64_t offset;                 /* records_list only */
	/* The owner scope, bound into the SQL of every statement (SPEC.md
	 * §8): 0 = any owner, else only that user's records. The functions
	 * that take a caller set it from the caller (dgen_caller_scope);
	 * the API sets it in api_record_filter for the others. */
	int64_t owner;
};

/* True when name can be a state field of a filter or sort:
 * [A-Za-z_][A-Za-z0-9_]{0,63}. */
bool records_field_valid(const char *name);
/* Narrows f to field >= v (is_max false) or field <= v (is_max true); a
 * second bound on the same field shares its slot. -1 with DGEN_EBADREQ
 * for a bad field name or more than DGEN_REC_MAX_RANGES bounds. */
int records_filter_range(struct dgen_record_filter *f, const char *field, bool is_max,
			 double v, struct dgen_err *err);
/* Sets f's order from "created_at", "-created_at", "<field>" or
 * "-<field>"; -1 with DGEN_EBADREQ otherwise. */
int records_filter_sort(struct dgen_record_filter *f, const char *spec, struct dgen_err *err);

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
/* records_list() and, in *total, how many records match f (limit and
 * offset ignored), read from one snapshot. */
int records_list_total(struct dgen_db *db, const struct dgen_record_filter *f,
		       struct json_object **out, int64_t *total, struct dgen_err *err);

#define DGEN_REC_STATS_BINS 10    /* histogram bins per field */
#define DGEN_REC_STATS_FIELDS 32  /* numeric fields reported at most */
/* {"total", "by_status": {status: n}, "fields": {name: {"min", "max",
 * "mean", "count", "histogram": [{"from", "to", "count"}]}}} of the
 * records matching f: total counts every filter, by_status every filter
 * but status (so each status can be labelled), fields are the numeric
 * top-level keys of their final states, by name, equal-width bins. */
int records_stats(struct dgen_db *db, const struct dgen_record_filter *f,
		  struct json_object **out, struct dgen_err *err);
/* Sets the status of every record matching f (limit, offset and sort
 * ignored) in one transaction; *updated receives how many. */
int records_bulk_status(struct dgen_db *db, const struct dgen_record_filter *f,
			enum dgen_record_status status, int64_t *updated,
			struct dgen_err *err);

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
