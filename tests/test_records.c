/*
 * test_records.c - records: the record JSON, filters and paging, edits,
 * counts, delete by job, and the keyset export iterator.
 */
#include "dgen/json.h"
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
		"pipeline_id", "created_at", "updated_at", "reviewed_by", "reviewed_at", "usage",
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
	is_str(dgen_json_compact(json_object_object_get(o, "usage")),
	       "{\"input_tokens\":10,\"output_tokens\":5,\"cached_tokens\":0,\"cost\":null}",
	       "a record keeps its execution's usage; no priced call: cost null");
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
		shape = shape && json_object_object_length(line) == 13 &&
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

/* Stores a record whose final state holds score (and, for odd units, a
 * length), output "item <unit>" (+ " needle" every fifth). */
static void scored_record(struct dgen_db *db, int64_t job, int unit)
{
	struct dgen_err err = DGEN_ERR_INIT;
	char out[64], state[160];
	struct dgen_unit_result r = {
		.unit = unit, .seed_index = unit, .chunk_index = -1, .output = out,
		.metadata = "{}", .accumulated_state = state, .trace = "[]", .trace_id = "t",
	};

	snprintf(out, sizeof out, "item %d%s", unit, unit % 5 == 0 ? " NEEDLE 50%_off" : "");
	if (unit % 2)
		snprintf(state, sizeof state, "{\"score\":%g,\"length\":%d,\"label\":\"x\"}",
			 unit / 100.0, unit);
	else
		snprintf(state, sizeof state, "{\"score\":%g,\"label\":\"x\",\"flag\":true}",
			 unit / 100.0);
	if (queue_finish_unit(db, job, &r, NULL, NULL, &err) < 0)
		printf("Bail out! %s\n", err.msg);
}

static double first_score(struct json_object *arr, struct dgen_db *db, size_t i)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *state = NULL;
	double v = -1;

	if (records_get_state(db, NULL, iget(json_object_array_get_idx(arr, i), "id"), &state, &err) == 0)
		v = json_object_get_double(json_object_object_get(state, "score"));
	json_object_put(state);
	return v;
}

/* q, sort by a state field, min./max. ranges, the total, stats and bulk
 * review over 100 scored records (scores 0.00 .. 0.99). */
static void test_review_at_scale(void)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db = st_open("scale.db");
	struct dgen_record_filter f = { 0 };
	struct json_object *arr = NULL, *o = NULL, *fields, *score, *hist;
	int64_t pid = st_pipeline(db, "s"), j = st_job(db, pid, NULL), total = 0, n = 0;
	int64_t sum = 0;
	int i;

	ok(db_begin(db, &err) == 0, "begin");
	for (i = 0; i < 100; i++)
		scored_record(db, j, i);
	ok(db_commit(db, &err) == 0, "100 scored records");

	f.limit = 5;
	ok(records_list_total(db, &f, &arr, &total, &err) == 0, "list with total");
	is_int(json_object_array_length(arr), 5, "one page of 5");
	is_int(total, 100, "total counts past the page");
	json_object_put(arr);

	f.q = "needle 50%_";
	ok(records_list_total(db, &f, &arr, &total, &err) == 0, "search output");
	is_int(total, 20, "q matches a substring, ASCII case folded, wildcards literal");
	json_object_put(arr);
	f.q = "50%x";
	ok(records_list_total(db, &f, &arr, &total, &err) == 0 && total == 0,
	   "'%%' in q is no wildcard");
	json_object_put(arr);
	f.q = NULL;

	ok(records_filter_sort(&f, "-score", &err) == 0, "sort -score");
	ok(records_list(db, NULL, &f, &arr, &err) == 0, "list by score descending");
	is_dbl(first_score(arr, db, 0), 0.99, 1e-9, "highest score first");
	is_dbl(first_score(arr, db, 4), 0.95, 1e-9, "then descending");
	json_object_put(arr);
	ok(records_filter_sort(&f, "length", &err) == 0, "sort length (only odd units have it)");
	f.offset = 95;
	ok(records_list(db, NULL, &f, &arr, &err) == 0 && json_object_array_length(arr) == 5,
	   "last page");
	ok(first_score(arr, db, 4) < 0.98, "records without the field come last");
	json_object_put(arr);
	f.offset = 0;
	ok(records_list(db, NULL, &f, &arr, &err) == 0, "ascending");
	is_dbl(first_score(arr, db, 0), 0.01, 1e-9, "lowest length first");
	json_object_put(arr);
	ok(records_filter_sort(&f, "created_at", &err) == 0 && f.sort == DGEN_SORT_OLDEST,
	   "created_at is oldest first");
	ok(records_list(db, NULL, &f, &arr, &err) == 0, "oldest first");
	is_dbl(first_score(arr, db, 0), 0.0, 1e-9, "the first record first");
	json_object_put(arr);
	ok(records_filter_sort(&f, "-created_at", &err) == 0 && f.sort == DGEN_SORT_NEWEST,
	   "-created_at is newest first");
	ok(records_filter_sort(&f, "sc ore", &err) < 0 && err.code == DGEN_EBADREQ,
	   "a bad sort field is refused");
	dgen_err_clear(&err);
	ok(records_filter_sort(&f, "-", &err) < 0, "a lone '-' is refused");
	dgen_err_clear(&err);

	ok(records_filter_range(&f, "score", false, 0.5, &err) == 0 &&
	   records_filter_range(&f, "score", true, 0.595, &err) == 0, "0.5 <= score <= 0.595");
	is_int(f.n_ranges, 1, "both bounds share a slot");
	ok(records_list_total(db, &f, &arr, &total, &err) == 0, "range");
	is_int(total, 10, "10 records in range");
	json_object_put(arr);
	ok(records_filter_range(&f, "length", false, 55, &err) == 0, "and length >= 55");
	ok(records_list_total(db, &f, &arr, &total, &err) == 0, "two ranges");
	is_int(total, 3, "55, 57, 59");
	json_object_put(arr);
	ok(records_filter_range(&f, "label", false, 0, &err) == 0, "a range on a text field");
	ok(records_list_total(db, &f, &arr, &total, &err) == 0 && total == 0,
	   "text values never match a range");
	json_object_put(arr);
	memset(&f, 0, sizeof f);
	ok(records_filter_range(&f, "1bad", false, 0, &err) < 0 && err.code == DGEN_EBADREQ,
	   "a field name must not start with a digit");
	dgen_err_clear(&err);
	ok(records_filter_range(&f, "a.b", false, 0, &err) < 0, "no path syntax in a field name");
	dgen_err_clear(&err);
	ok(!records_field_valid("xy123456789012345678901234567890123456789012345678901234567890123"),
	   "65-byte field name refused");
	ok(records_field_valid("x123456789012345678901234567890123456789012345678901234567890123"),
	   "64-byte field name allowed");
	for (i = 0; i < DGEN_REC_MAX_RANGES; i++) {
		char name[8];

		snprintf(name, sizeof name, "f%d", i);
		records_filter_range(&f, name, false, 0, &err);
	}
	ok(records_filter_range(&f, "one_more", true, 1, &err) < 0 && err.code == DGEN_EBADREQ,
	   "at most %d range bounds", DGEN_REC_MAX_RANGES);
	dgen_err_clear(&err);

	memset(&f, 0, sizeof f);
	f.status = DGEN_REC_PENDING;
	ok(records_filter_range(&f, "score", false, 0.9, &err) == 0, "score >= 0.9");
	ok(records_stats(db, &f, &o, &err) == 0, "stats");
	is_int(iget(o, "total"), 10, "stats total");
	is_int(iget(json_object_object_get(o, "by_status"), "pending"), 10, "by status");
	fields = json_object_object_get(o, "fields");
	score = json_object_object_get(fields, "score");
	is_dbl(json_object_get_double(json_object_object_get(score, "min")), 0.9, 1e-9, "min");
	is_dbl(json_object_get_double(json_object_object_get(score, "max")), 0.99, 1e-9, "max");
	is_dbl(json_object_get_double(json_object_object_get(score, "mean")), 0.945, 1e-9, "mean");
	hist = json_object_object_get(score, "histogram");
	is_int(json_object_array_length(hist), DGEN_REC_STATS_BINS, "10 bins");
	for (i = 0; i < (int)json_object_array_length(hist); i++)
		sum += iget(json_object_array_get_idx(hist, (size_t)i), "count");
	is_int(sum, 10, "every value in a bin");
	is_int(iget(json_object_array_get_idx(hist, 9), "count"), 1, "max in the last bin");
	ok(json_object_object_get_ex(fields, "length", NULL), "length is numeric");
	ok(!json_object_object_get_ex(fields, "label", NULL) &&
	   !json_object_object_get_ex(fields, "flag", NULL), "text and booleans are no fields");
	json_object_put(o);

	/* bulk: accept the ten best, then reject what is pending above 0.5 */
	ok(records_bulk_status(db, &f, DGEN_REC_ACCEPTED, &n, &err) == 0, "bulk accept");
	is_int(n, 10, "10 updated");
	memset(&f, 0, sizeof f);
	f.status = DGEN_REC_PENDING;
	records_filter_range(&f, "score", false, 0.5, &err);
	ok(records_bulk_status(db, &f, DGEN_REC_REJECTED, &n, &err) == 0 && n == 40,
	   "bulk reject of the pending ones in range: 40");
	memset(&f, 0, sizeof f);
	ok(records_stats(db, &f, &o, &err) == 0, "stats of all");
	is_int(iget(json_object_object_get(o, "by_status"), "accepted"), 10, "10 accepted");
	is_int(iget(json_object_object_get(o, "by_status"), "rejected"), 40, "40 rejected");
	is_int(iget(json_object_object_get(o, "by_status"), "pending"), 50, "50 pending");
	json_object_put(o);
	f.status = DGEN_REC_ACCEPTED;
	ok(records_stats(db, &f, &o, &err) == 0, "stats of accepted");
	is_int(iget(o, "total"), 10, "total follows the status");
	is_int(iget(json_object_object_get(o, "by_status"), "pending"), 50,
	   "by_status ignores the status filter");
	json_object_put(o);
	ok(records_bulk_status(db, &f, DGEN_REC_ANY, &n, &err) < 0 && err.code == DGEN_EBADREQ,
	   "bulk needs a status");
	dgen_err_clear(&err);

	f.status = DGEN_REC_REJECTED;
	f.q = "NEEDLE";
	{
		struct dgen_records_iter *it = NULL;
		struct json_object *line = NULL;
		int count = 0;

		ok(records_iter_open(db, NULL, &f, 3, &it, &err) == 0, "export with the same filter");
		while (records_iter_next(it, &line, &err) == 1) {
			count++;
			json_object_put(line);
		}
		is_int(count, 8, "rejected needles: 50..95 step 5 minus the accepted 90, 95");
		records_iter_free(it);
	}
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
	test_review_at_scale();
	st_teardown();
	return done_testing();
}
