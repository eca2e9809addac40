/*
 * test_migrate.c - the schema from an empty file, re-running migrations,
 * concurrent first starts, a database from a newer dgen, the records'
 * status rule rewritten in place (step 8) and the two record indexes no
 * sqlite plan used dropped (step 9).
 */
#include "config.h"

#include <string.h>

#include "dgen/migrate.h"
#include "store_test.h"

/* Sets the schema version behind the store's back. */
static void raw_set_version(const char *target, int v)
{
	char *sql = st_pg() ? dgen_xasprintf("UPDATE dgen_schema SET version = %d", v)
			    : dgen_xasprintf("PRAGMA user_version = %d", v);

	st_raw_exec(target, sql);
	free(sql);
}

/* Counts the tables the engine's catalog lists under the given names. */
static int raw_count_tables(const char *target)
{
	return (int)st_raw_int(target, st_pg()
		? "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
		  "current_schema() AND table_name IN "
		  "('pipelines','jobs','records','failures','runners')"
		: "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
		  "('pipelines','jobs','records','failures','runners')");
}

/* Runs sql at target beside the store; false (and the error in msg) when
 * the database refuses it. */
static bool raw_try(const char *target, const char *sql, char msg[256])
{
	sqlite3 *raw = NULL;
	bool done;

	msg[0] = '\0';
	if (st_pg()) {
#ifdef HAVE_LIBPQ
		PGconn *c = st_pg_connect(target);
		PGresult *r = PQexec(c, sql);

		done = PQresultStatus(r) == PGRES_COMMAND_OK;
		snprintf(msg, 256, "%s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return done;
#endif
	}
	if (sqlite3_open(target, &raw) != SQLITE_OK)
		return false;
	done = sqlite3_exec(raw, sql, NULL, NULL, NULL) == SQLITE_OK;
	snprintf(msg, 256, "%s", sqlite3_errmsg(raw));
	sqlite3_close(raw);
	return done;
}

/*
 * Step 8 wrote the records' status rule as comparisons (sqlite built a
 * table of the IN list at every insert): the same four statuses pass and
 * any other is refused, on both stores; on sqlite no IN list is left, and
 * the step, run again, changes nothing but schema_version.
 */
static void test_status_rule(void)
{
	static const char *const statuses[] = { "accepted", "rejected", "edited", "pending" };
	struct dgen_db *db = st_open("rule.db");
	char *path = st_target("rule.db");
	int64_t job = st_job(db, st_pipeline(db, "rule"), "rule-1");
	char msg[256], sql[96];

	ok(st_record(db, job, 0, "a record"), "a record is stored");
	for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
		snprintf(sql, sizeof sql, "UPDATE records SET status = '%s'", statuses[i]);
		if (!ok(raw_try(path, sql, msg), "status %s is allowed", statuses[i]))
			diag("%s", msg);
	}
	ok(!raw_try(path, "UPDATE records SET status = 'approved'", msg) && strcasestr(msg, "check"),
	   "any other status is refused: %s", msg);
	if (!st_pg()) {
		static const char in_list[] = "SELECT count(*) FROM sqlite_schema "
					      "WHERE name = 'records' AND sql LIKE '%status IN%'";
		int64_t before = st_raw_int(path, "PRAGMA schema_version");

		is_int(st_raw_int(path, in_list), 0, "no IN list is left in the rule");
		db_close(db);
		raw_set_version(path, 7); /* steps 8 and on run again */
		db = st_open("rule.db");
		ok(st_raw_int(path, "PRAGMA schema_version") > before,
		   "run again, the step moves schema_version on");
		is_int(st_raw_int(path, in_list), 0, "... and the rule is as it was");
		ok(!raw_try(path, "UPDATE records SET status = 'approved'", msg),
		   "... still refusing other statuses");
	}
	st_integrity(db);
	db_close(db);
	free(path);
}

static void test_fresh_and_rerun(void)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db;
	struct json_object *p = NULL;
	char *path = st_target("m.db");
	int v = -1, applied = -1;
	int64_t id;

	ok(migrate_latest() >= 1, "there is at least one schema step");
	db = st_open("m.db");
	ok(migrate_version(db, &v, &err) == 0, "version readable");
	is_int(v, migrate_latest(), "an empty file is migrated to the latest version on open");
	is_int(raw_count_tables(path), 5, "all tables exist");
	id = st_pipeline(db, "survivor");

	ok(migrate_run(db, &applied, &err) == 0, "migrate again");
	is_int(applied, 0, "nothing to apply the second time");
	ok(migrate_version(db, &v, &err) == 0 && v == migrate_latest(), "user_version stays");
	db_close(db);

	db = st_open("m.db");
	ok(migrate_version(db, &v, &err) == 0 && v == migrate_latest(), "reopen keeps the version");
	ok(saved_pipelines_get(db, NULL, id, &p, &err) == 0, "data written before survives re-migration");
	json_object_put(p);
	is_int(raw_count_tables(path), 5, "tables intact");
	st_integrity(db);
	db_close(db);
	free(path);
}

/* Several processes start at once on a new file: each step runs once and
 * every process ends up with a usable, current database. */
static void test_concurrent_first_start(void)
{
	enum { K = 4 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db;
	pid_t pids[K];
	int k, good = 0, v = -1;

	for (k = 0; k < K; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct dgen_db *cdb = st_open("race.db");
			int cv = -1;
			struct dgen_err cerr = DGEN_ERR_INIT;

			st_pipeline(cdb, "x");
			if (migrate_version(cdb, &cv, &cerr) < 0 || cv != migrate_latest())
				_exit(1);
			db_close(cdb);
			_exit(0);
		}
	}
	for (k = 0; k < K; k++)
		good += st_wait_ok(pids[k]);
	is_int(good, K, "every concurrent starter migrated or saw the migration");
	db = st_open("race.db");
	ok(migrate_version(db, &v, &err) == 0 && v == migrate_latest(), "version is current");
	st_integrity(db);
	db_close(db);
}

/* A schema from a newer dgen is refused instead of being misread. */
static void test_newer(void)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db = st_open("new.db");
	char *path = st_target("new.db");

	db_close(db);
	raw_set_version(path, migrate_latest() + 1);
	db = NULL;
	ok(db_open(&db, path, 0, &err) < 0 && !db, "a newer schema is refused");
	is_int(err.code, DGEN_EIO, "... with DGEN_EIO");
	ok(strstr(err.msg, "newer") != NULL, "... saying it is newer: %s", err.msg);
	dgen_err_clear(&err);
	free(path);
}

/* The record indexes a store has, by name, counted. */
static int64_t raw_record_indexes(const char *target, const char *names)
{
	char *sql = st_pg() ? dgen_xasprintf("SELECT count(*) FROM pg_indexes WHERE schemaname = "
					     "current_schema() AND tablename = 'records' AND "
					     "indexname IN (%s)", names)
			    : dgen_xasprintf("SELECT count(*) FROM sqlite_schema WHERE type = "
					     "'index' AND tbl_name = 'records' AND name IN (%s)",
					     names);
	int64_t n = st_raw_int(target, sql);

	free(sql);
	return n;
}

/* Step 9: sqlite drops records_owner and records_status, PostgreSQL keeps
 * them; the indexes the record lists read stay, records can be stored and
 * listed by status, and running the step again changes nothing. */
static void test_record_indexes(void)
{
	struct dgen_db *db = st_open("idx.db");
	char *path = st_target("idx.db");
	int64_t job = st_job(db, st_pipeline(db, "idx"), "idx-1");
	const char *dropped = "'records_owner','records_status'";
	const char *kept = "'records_job','records_pipeline'";

	is_int(raw_record_indexes(path, dropped), st_pg() ? 2 : 0,
	       st_pg() ? "PostgreSQL keeps records_owner and records_status"
		       : "sqlite has no records_owner or records_status");
	is_int(raw_record_indexes(path, kept), 2, "records_job and records_pipeline are there");
	ok(st_record(db, job, 0, "one") && st_record(db, job, 1, "two"), "records are stored");
	is_int(st_raw_int(path, "SELECT count(*) FROM records WHERE status = 'pending'"), 2,
	       "and found by status");
	db_close(db);
	raw_set_version(path, migrate_latest() - 1);
	db = st_open("idx.db");
	is_int(st_raw_int(path, "SELECT count(*) FROM records"), 2, "run again, the records stay");
	is_int(raw_record_indexes(path, kept), 2, "... and so do the indexes kept");
	st_integrity(db);
	db_close(db);
	free(path);
}

int main(void)
{
	st_setup();
	test_fresh_and_rerun();
	test_concurrent_first_start();
	test_newer();
	test_status_rule();
	test_record_indexes();
	st_teardown();
	return done_testing();
}
