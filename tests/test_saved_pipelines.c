/*
 * test_saved_pipelines.c - stored pipelines: CRUD, order, validation config,
 * cascade delete to jobs, records and failures.
 */
#include "dgen/records.h"
#include "store_test.h"

static void test_crud(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL, *list = NULL, *v;
	char *name = NULL, *def = NULL;
	int64_t a = 0, b = 0;
	bool exists = false;

	ok(saved_pipelines_insert(db, NULL, "first", "{\"name\":\"first\",\"blocks\":[]}", &a, &err) == 0,
	   "insert");
	ok(saved_pipelines_insert(db, NULL, "second", "{\"name\":\"second\",\"blocks\":[]}", &b, &err) == 0,
	   "insert another");
	ok(b > a, "ids grow");

	ok(saved_pipelines_get(db, NULL, a, &o, &err) == 0, "get");
	is_int(json_object_get_int64(json_object_object_get(o, "id")), a, "id");
	is_str(json_object_get_string(json_object_object_get(o, "name")), "first", "name");
	v = json_object_object_get(o, "definition");
	ok(json_object_is_type(v, json_type_object), "definition comes back as an object");
	ok(json_object_is_type(json_object_object_get(v, "blocks"), json_type_array),
	   "definition content kept");
	ok(json_object_object_get_ex(o, "validation_config", &v) && v == NULL,
	   "validation_config is null before one is set");
	ok(strlen(json_object_get_string(json_object_object_get(o, "created_at"))) == 24,
	   "created_at is ISO 8601 with ms");
	json_object_put(o);

	ok(saved_pipelines_update(db, NULL, a, "renamed", "{\"name\":\"renamed\",\"blocks\":[1]}", &err) == 0,
	   "update");
	ok(saved_pipelines_get_definition(db, NULL, a, &name, &def, &err) == 0, "raw definition");
	is_str(name, "renamed", "name updated");
	is_str(def, "{\"name\":\"renamed\",\"blocks\":[1]}", "definition text stored as given");
	free(name);
	free(def);

	ok(saved_pipelines_set_validation_config(db, NULL, a,
					   "{\"field_order\":{\"primary\":[\"q\"],\"secondary\":[],\"hidden\":[]}}",
					   &err) == 0, "set validation config");
	ok(saved_pipelines_get(db, NULL, a, &o, &err) == 0, "get again");
	v = json_object_object_get(o, "validation_config");
	ok(json_object_is_type(json_object_object_get(v, "field_order"), json_type_object),
	   "validation config comes back as an object");
	json_object_put(o);

	ok(saved_pipelines_list(db, NULL, &list, &err) == 0, "list");
	is_int(json_object_array_length(list), 2, "two pipelines");
	is_int(json_object_get_int64(json_object_object_get(json_object_array_get_idx(list, 0), "id")),
	       b, "newest first");
	ok(json_object_is_type(json_object_object_get(json_object_array_get_idx(list, 1), "definition"),
			       json_type_object), "list carries definitions");
	json_object_put(list);

	ok(saved_pipelines_exists(db, NULL, a, &exists, &err) == 0 && exists, "exists");
	ok(saved_pipelines_exists(db, NULL, 999, &exists, &err) == 0 && !exists, "unknown does not exist");

	ok(saved_pipelines_get(db, NULL, 999, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "get unknown: 404");
	dgen_err_clear(&err);
	ok(saved_pipelines_update(db, NULL, 999, "x", "{}", &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "update unknown: 404");
	dgen_err_clear(&err);
	ok(saved_pipelines_set_validation_config(db, NULL, 999, "{}", &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "validation config of unknown: 404");
	dgen_err_clear(&err);
	ok(saved_pipelines_delete(db, NULL, 999, &err) < 0 && err.code == DGEN_ENOTFOUND, "delete unknown: 404");
	dgen_err_clear(&err);
	ok(saved_pipelines_delete(db, NULL, b, &err) == 0, "delete");
	ok(saved_pipelines_get(db, NULL, b, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "deleted is gone");
	dgen_err_clear(&err);
}

/* Deleting a pipeline removes its jobs, their records and failures, and
 * leaves other pipelines' data alone. */
static void test_cascade(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_record_filter f = { 0 };
	struct dgen_record_counts counts;
	struct json_object *o = NULL, *recs = NULL;
	struct dgen_unit_result fail = {
		.unit = 9, .seed_index = 9, .chunk_index = -1, .failed = true,
		.block_type = "TextGenerator", .step = 1, .error = "boom",
	};
	int64_t p1 = st_pipeline(db, "doomed"), p2 = st_pipeline(db, "kept");
	int64_t j1 = st_job(db, p1, NULL), j2 = st_job(db, p2, NULL), rec_id;

	st_record(db, j1, 0, "a");
	st_record(db, j1, 1, "b");
	st_record(db, j2, 0, "c");
	ok(queue_finish_unit(db, j1, &fail, NULL, NULL, &err) == 0, "a failure for the doomed job");

	f.job_id = j1;
	ok(records_list(db, NULL, &f, &recs, &err) == 0, "records of the doomed job");
	rec_id = json_object_get_int64(json_object_object_get(json_object_array_get_idx(recs, 0), "id"));
	json_object_put(recs);

	ok(saved_pipelines_delete(db, NULL, p1, &err) == 0, "delete the pipeline");
	ok(jobs_get(db, NULL, j1, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "its job is gone");
	dgen_err_clear(&err);
	ok(records_get(db, NULL, rec_id, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "its records are gone");
	dgen_err_clear(&err);
	ok(jobs_failures(db, NULL, j1, &o, &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "its failures went with the job");
	dgen_err_clear(&err);
	f.job_id = 0;
	ok(records_count(db, NULL, &f, &counts, &err) == 0, "count all records");
	is_int(counts.total, 1, "only the other pipeline's record is left");
	ok(jobs_get(db, NULL, j2, &o, &err) == 0, "the other job is intact");
	json_object_put(o);
}

int main(void)
{
	struct dgen_db *db;

	st_setup();
	db = st_open("p.db");
	test_crud(db);
	test_cascade(db);
	st_integrity(db);
	db_close(db);
	st_teardown();
	return done_testing();
}
