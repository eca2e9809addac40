/*
 * export_line.c - the export line of a record (see export_line.h).
 */
#include "config.h"

#include "dgen/export_line.h"

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *id_or_null(int64_t id)
{
	return id ? json_object_new_int64(id) : NULL;
}

/* The keys go in SPEC.md's order; the state is trimmed against the
 * metadata the line shows (an object, or {}). */
struct json_object *export_line_new(const struct dgen_export_fields *f)
{
	struct json_object *o = json_object_new_object(), *trimmed = json_object_new_object();
	struct json_object *meta = json_object_is_type(f->metadata, json_type_object)
					   ? json_object_get(f->metadata)
					   : json_object_new_object();

	if (json_object_is_type(f->state, json_type_object)) {
		json_object_object_foreach(f->state, key, val) {
			struct json_object *mv;

			if (json_object_object_get_ex(meta, key, &mv) && json_object_equal(mv, val))
				continue;
			json_object_object_add(trimmed, key, json_object_get(val));
		}
	}
	json_object_object_add(o, "id", json_object_new_int64(f->id));
	json_object_object_add(o, "output", str_or_null(f->output));
	json_object_object_add(o, "metadata", meta);
	json_object_object_add(o, "status", str_or_null(f->status));
	json_object_object_add(o, "accumulated_state", trimmed);
	json_object_object_add(o, "trace_id", str_or_null(f->trace_id));
	json_object_object_add(o, "job_id", id_or_null(f->job_id));
	json_object_object_add(o, "pipeline_id", id_or_null(f->pipeline_id));
	json_object_object_add(o, "created_at", str_or_null(f->created_at));
	json_object_object_add(o, "updated_at", str_or_null(f->updated_at));
	/* A stored record (it has a job) says who reviewed it; an offline
	 * run's line has nobody to name. */
	if (f->job_id > 0) {
		json_object_object_add(o, "reviewed_by", str_or_null(f->reviewed_by));
		json_object_object_add(o, "reviewed_at", str_or_null(f->reviewed_at));
	}
	if (f->usage)
		json_object_object_add(o, "usage", json_object_get(f->usage));
	if (f->trace)
		json_object_object_add(o, "trace", json_object_get(f->trace));
	return o;
}
