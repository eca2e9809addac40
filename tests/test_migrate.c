/*
 * test_migrate.c - the schema from an empty file, re-running migrations,
 * concurrent first starts, and a database from a newer dgen.
 */
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

int main(void)
{
	st_setup();
	test_fresh_and_rerun();
	test_concurrent_first_start();
	test_newer();
	st_teardown();
	return done_testing();
}
