/*
 * export_line.h - the export line of a record (SPEC.md §4): one JSON
 * object per record, as GET /api/export streams it and `dgen run` writes
 * it. Both build it here, so the two outputs cannot drift apart.
 *
 *   {"id","output","metadata","status","accumulated_state","trace_id",
 *    "job_id","pipeline_id","created_at","updated_at"}
 *
 * then "reviewed_by","reviewed_at" for a stored record, "usage" when the
 * execution's usage is known ({"input_tokens","output_tokens",
 * "cached_tokens","cost"}, cost {"amount","currency"} or null) and "trace"
 * when asked for.
 *
 * accumulated_state is the final state without the keys whose value equals
 * metadata's: the seed data would otherwise appear twice on every line.
 *
 * Ownership: the fields are borrowed; export_line_new() returns one new
 * reference, holding its own references to what it keeps of them.
 */
#ifndef DGEN_EXPORT_LINE_H
#define DGEN_EXPORT_LINE_H

#include <stdint.h>
#include <json-c/json.h>

struct dgen_export_fields {
	int64_t id;
	const char *output;           /* NULL = null, as every string below */
	struct json_object *metadata; /* anything but an object counts as {} */
	const char *status;
	struct json_object *state;    /* the final accumulated state; as metadata */
	const char *trace_id;
	int64_t job_id, pipeline_id;  /* 0 = none (an offline run): null */
	const char *created_at, *updated_at;
	const char *reviewed_by, *reviewed_at; /* NULL = null (never reviewed) */
	struct json_object *usage;    /* the execution's usage (usage.h shape, its
					 * "cost" included); NULL = no "usage" key */
	struct json_object *trace;    /* NULL = no "trace" key (`dgen run --trace` adds it) */
};

struct json_object *export_line_new(const struct dgen_export_fields *f);

#endif
