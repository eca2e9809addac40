/*
 * test_records.c - records: the record JSON, filters and paging, edits,
 * counts, delete by job, and the keyset export iterator.
 */
#include "dgen/records.h"
#include "store_test.h"

static const char *sget(struct json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

static int64_t iget(struct json_object *o, const char *k)
{
	return json_object_get_int64(json_object_object_get(o, k));
}

/* The first (newest) record id of a job. */
static int64_t newest_of(struct dgen_db *db, int64_t job)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_record_filter f = { .job_id = job, .limit = 1 };
	struct json_object *arr = NULL;
	int64_t id = 0;

	if (records_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 1)
		id = iget(json_object_array_get_idx(arr, 0), "id");
	json_object_put(arr);
	return id;
}

static void test_shape_and_edit(struct dgen_db *db, int64_t pid)
{
	static const char *const keys[] = {
		"id", "output", "metadata", "status", "trace", "trace_id", "job_id",
		"pipeline_id", "created_at", "updated_at", "reviewed_by", "reviewed_at",
	};
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL, *meta, *patch, *state = NULL;
	struct dgen_record_update u = { 0 };
	int64_t j = st_job(db, pid, NULL), id;
	size_t i;
	bool all = true;

	st_record(db, j, 0, "hello world");
	id = newest_of(db, j);
	ok(records_get(db, NULL, id, &o, &err) == 0, "get");
	for (i = 0; i < DGEN_ARRAY_LEN(keys); i++)
		all = all && json_object_object_get_ex(o, keys[i], NULL);
	ok(all && (size_t)json_object_object_length(o) == DGEN_ARRAY_LEN(keys),
	   "record JSON has exactly the SPEC keys");
	is_str(sget(o, "output"), "hello world", "output");
	is_str(sget(o, "status"), "pending", "new records are pending");
	is_str(sget(json_object_object_get(o, "metadata"), "topic"), "tea", "metadata as object");
	ok(json_object_is_type(json_object_object_get(o, "trace"), json_type_array), "trace as JSON");
	is_int(iget(o, "job_id"), j, "job_id");
	is_int(iget(o, "pipeline_id"), pid, "pipeline_id");
	json_object_put(o);

	u.output = "edited text";
	u.status = DGEN_REC_EDITED;
	meta = json_tokener_parse("{\"topic\":\"coffee\"}");
	u.metadata = meta;
	patch = json_tokener_parse("{\"assistant\":\"edited text\",\"score\":0.5}");
	u.state_patch = patch;
	ok(records_update(db, NULL, id, &u, &err) == 0, "update output, status, metadata, state");
	json_object_put(meta);
	json_object_put(patch);
	ok(records_get(db, NULL, id, &o, &err) == 0, "get");
	is_str(sget(o, "output"), "edited text", "output changed");
	is_str(sget(o, "status"), "edited", "status changed");
	is_str(sget(json_object_object_get(o, "metadata"), "topic"), "coffee", "metadata replaced");
	json_object_put(o);
	ok(records_get_state(db, NULL, id, &state, &err) == 0, "state");
	is_str(sget(state, "assistant"), "edited text", "state key overwritten");
	is_dbl(json_object_get_double(json_object_object_get(state, "score")), 0.5, 1e-12,
	       "state key added");
	is_str(sget(state, "topic"), "tea", "other state keys kept");
	json_object_put(state);

	memset(&u, 0, sizeof(u));
	u.status = DGEN_REC_ACCEPTED;
	ok(records_update(db, NULL, id, &u, &err) == 0, "status-only update");
	ok(records_get(db, NULL, id, &o, &err) == 0, "get");
	is_str(sget(o, "status"), "accepted", "status accepted");
	is_str(sget(o, "output"), "edited text", "output untouched by a status-only update");
	json_object_put(o);

	ok(records_update(db, NULL, 999999, &u, &err) < 0 && err.code == DGEN_ENOTFOUND, "update unknown: 404");
	dgen_err_clear(&err);
	u.state_patch = patch = json_tokener_parse("{}");
	ok(records_update(db, NULL, 999999, &u, &err) < 0 && err.code == DGEN_ENOTFOUND,
	   "state patch of unknown: 404");
	json_object_put(patch);
	dgen_err_clear(&err);
	ok(records_get(db, NULL, 999999, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "get unknown: 404");
	dgen_err_clear(&err);
}

static void test_list_count_delete(struct dgen_db *db)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_record_filter f = { 0 };
	struct dgen_record_counts c;
	struct dgen_record_update u = { .status = DGEN_REC_REJECTED };
	struct json_object *arr = NULL, *o = NULL;
	int64_t p1 = st_pipeline(db, "a"), p2 = st_pipeline(db, "b");
	int64_t j1 = st_job(db, p1, NULL), j2 = st_job(db, p2, NULL), n = 0;
	int i;
	bool desc = true;

	for (i = 0; i < 30; i++)
		st_record(db, j1, i, "r");
	for (i = 0; i < 10; i++)
		st_record(db, j2, i, "s");

	f.job_id = j1;
	f.limit = 10;
	ok(records_list(db, NULL, &f, &arr, &err) == 0, "page 1 of job 1");
	is_int(json_object_array_length(arr), 10, "limit 10");
	for (i = 1; i < 10; i++)
		desc = desc && iget(json_object_array_get_idx(arr, i - 1), "id") >
			       iget(json_object_array_get_idx(arr, i), "id");
	ok(desc, "newest first");
	o = json_object_get(json_object_array_get_idx(arr, 9));
	json_object_put(arr);
	f.offset = 10;
	ok(records_list(db, NULL, &f, &arr, &err) == 0, "page 2 (offset 10)");
	ok(iget(json_object_array_get_idx(arr, 0), "id") < iget(o, "id"),
	   "offset continues after page 1");
	json_object_put(arr);
	json_object_put(o);
	f.offset = 25;
	ok(records_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 5,
	   "last partial page");
	json_object_put(arr);

	/* reject 3 of job 1 */
	f.offset = 0;
	f.limit = 3;
	ok(records_list(db, NULL, &f, &arr, &err) == 0, "three to reject");
	for (i = 0; i < 3; i++)
		records_update(db, NULL, iget(json_object_array_get_idx(arr, i), "id"), &u, &err);
	json_object_put(arr);
	f.limit = 0;
	f.status = DGEN_REC_REJECTED;
	ok(records_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 3,
	   "status filter");
	json_object_put(arr);
	f.status = DGEN_REC_ANY;
	ok(records_count(db, NULL, &f, &c, &err) == 0, "count job 1");
	is_int(c.total, 30, "30 records");
	is_int(c.rejected, 3, "3 rejected");
	is_int(c.pending, 27, "27 pending");
	is_int(c.accepted + c.edited, 0, "none accepted or edited");
	f.job_id = 0;
	f.pipeline_id = p2;
	ok(records_count(db, NULL, &f, &c, &err) == 0 && c.total == 10, "count by pipeline");
	ok(records_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 10,
	   "list by pipeline");
	json_object_put(arr);
	f.pipeline_id = p1;
	f.status = DGEN_REC_PENDING;
	ok(records_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 27,
	   "pipeline and status together");
	json_object_put(arr);

	ok(records_delete(db, NULL, j1, &n, &err) == 0, "delete by job");
	is_int(n, 30, "30 deleted");
	ok(jobs_get(db, NULL, j1, &o, &err) < 0 && err.code == DGEN_ENOTFOUND, "the job went too");
	dgen_err_clear(&err);
	memset(&f, 0, sizeof(f));
	f.pipeline_id = p2;
	ok(records_count(db, NULL, &f, &c, &err) == 0 && c.total == 10, "other job's records remain");
	ok(records_delete(db, NULL, 888888, &n, &err) == 0 && n == 0, "delete of an unknown job: 0");
}

/* 2 500 records exported in pages of 100: every record exactly once, in
 * id order, with the trimmed accumulated state. */
static void test_iterator(void)
{
	enum { N = 2500 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_record_filter f = { 0 };
	struct dgen_records_iter *it = NULL;
	struct json_object *line = NULL, *state;
	struct dgen_db *db = st_open("export.db");
	struct dgen_unit_result r = {
		.chunk_index = -1, .output = "o",
		.metadata = "{\"topic\":\"tea\",\"n\":1}",
		.accumulated_state = "{\"topic\":\"tea\",\"n\":2,\"assistant\":\"hi\"}",
		.trace = "[]", .trace_id = "t",
	};
	int64_t pid = st_pipeline(db, "e"), j = st_job(db, pid, NULL), other, last = 0;
	int i, count = 0, rc;
	bool ordered = true, shape = true;

	ok(db_begin(db, &err) == 0, "bulk insert in one transaction");
	for (i = 0; i < N; i++) {
		r.unit = r.seed_index = i;
		if (queue_finish_unit(db, j, &r, NULL, NULL, &err) < 0)
			break;
	}
	ok(db_commit(db, &err) == 0, "commit %d records", i);
	other = st_job(db, pid, NULL);
	st_record(db, other, 0, "other job");

	f.job_id = j;
	ok(records_iter_open(db, NULL, &f, 100, &it, &err) == 0, "open iterator");
	while ((rc = records_iter_next(it, &line, &err)) == 1) {
		int64_t id = iget(line, "id");

		ordered = ordered && id > last;
		last = id;
		count++;
		state = json_object_object_get(line, "accumulated_state");
		shape = shape && json_object_object_length(line) == 12 &&
			iget(line, "job_id") == j &&
			!json_object_object_get_ex(state, "topic", NULL) &&
			iget(state, "n") == 2 &&
			strcmp(sget(state, "assistant"), "hi") == 0 &&
			!json_object_object_get_ex(line, "trace", NULL);
		json_object_put(line);
	}
	is_int(rc, 0, "iterator ends cleanly");
	is_int(count, N, "every record of the job exported once");
	ok(ordered, "in ascending id order");
	ok(shape, "export lines: accumulated_state without keys equal to metadata's, no trace");
	records_iter_free(it);

	/* writes between pages do not disturb a running export */
	ok(records_iter_open(db, NULL, &f, 100, &it, &err) == 0, "open again");
	count = 0;
	while ((rc = records_iter_next(it, &line, &err)) == 1) {
		if (++count == 150)
			st_record(db, j, N, "late");
		json_object_put(line);
	}
	is_int(rc, 0, "ends cleanly");
	is_int(count, N + 1, "a record added mid-export (higher id) is included");
	records_iter_free(it);

	memset(&f, 0, sizeof(f));
	ok(records_iter_open(db, NULL, &f, 0, &it, &err) == 0, "unfiltered, default page size");
	count = 0;
	while (records_iter_next(it, &line, &err) == 1) {
		count++;
		json_object_put(line);
	}
	is_int(count, N + 2, "all jobs' records");
	records_iter_free(it);

	f.status = DGEN_REC_ACCEPTED;
	ok(records_iter_open(db, NULL, &f, 10, &it, &err) == 0, "status filter, nothing matches");
	ok(records_iter_next(it, &line, &err) == 0 && line == NULL, "empty export");
	records_iter_free(it);
	st_integrity(db);
	db_close(db);
}

int main(void)
{
	struct dgen_db *db;
	int64_t pid;
	enum dgen_record_status s;

	st_setup();
	ok(records_status_parse("edited", &s) == 0 && s == DGEN_REC_EDITED, "parse edited");
	ok(records_status_parse("nope", &s) < 0, "unknown status refused");
	db = st_open("r.db");
	pid = st_pipeline(db, "r");
	test_shape_and_edit(db, pid);
	test_list_count_delete(db);
	st_integrity(db);
	db_close(db);
	test_iterator();
	st_teardown();
	return done_testing();
}
