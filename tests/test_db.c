/*
 * test_db.c - the connection: pragmas, transactions, busy handling,
 * concurrent writers in separate processes, fork safety.
 */
#include <sqlite3.h>

#include "dgen/respond.h"
#include "store_test.h"

/* The persistent pragma (journal mode) as another connection sees it. */
static void test_open_wal(void)
{
	struct dgen_db *db = st_open("wal.db");
	char *p = st_path("wal.db");
	sqlite3 *raw = NULL;
	sqlite3_stmt *st = NULL;
	struct dgen_err err = DGEN_ERR_INIT;

	ok(db_ping(db, &err) == 0, "ping answers");
	is_str(db_path(db), p, "path is kept");
	ok(sqlite3_open(p, &raw) == SQLITE_OK, "raw open");
	sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL);
	ok(sqlite3_step(st) == SQLITE_ROW, "journal_mode answers");
	is_str((const char *)sqlite3_column_text(st, 0), "wal", "database is in WAL mode");
	sqlite3_finalize(st);
	sqlite3_close(raw);
	db_close(db);
	free(p);
}

/* Nested transactions: an inner rollback dooms the outer commit, and what
 * was written inside is gone. */
static void test_transactions(void)
{
	struct dgen_db *db = st_open("tx.db");
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *list = NULL;
	int64_t id;

	ok(db_begin(db, &err) == 0, "begin");
	ok(db_in_transaction(db), "in a transaction");
	id = st_pipeline(db, "inside");
	ok(id > 0, "insert inside the outer transaction (nested begin)");
	ok(db_begin(db, &err) == 0, "nested begin");
	db_rollback(db);
	ok(db_in_transaction(db), "still in the outer transaction after inner rollback");
	ok(db_commit(db, &err) < 0, "outer commit of a doomed transaction fails");
	is_int(err.code, DGEN_EIO, "... with DGEN_EIO");
	ok(!db_in_transaction(db), "transaction ended");
	dgen_err_clear(&err);
	ok(saved_pipelines_list(db, NULL, &list, &err) == 0, "list");
	is_int(json_object_array_length(list), 0, "the write was rolled back");
	json_object_put(list);

	ok(db_begin(db, &err) == 0, "begin again");
	st_pipeline(db, "kept");
	ok(db_commit(db, &err) == 0, "commit");
	ok(saved_pipelines_list(db, NULL, &list, &err) == 0, "list");
	is_int(json_object_array_length(list), 1, "the committed write stays");
	json_object_put(list);
	ok(db_commit(db, &err) < 0 && err.code == DGEN_EINTERNAL, "commit without begin is a bug");
	dgen_err_clear(&err);
	db_close(db);
}

/* A write lock held by another process past the busy timeout surfaces as
 * DGEN_EBUSY (HTTP 503), not as a generic failure. */
static void test_busy(void)
{
	struct dgen_db *db;
	struct dgen_err err = DGEN_ERR_INIT;
	char *p = st_path("busy.db");
	int to_child[2], to_parent[2];
	int64_t id;
	pid_t pid;
	char c = 0;

	db = st_open("busy.db"); /* creates the schema */
	db_close(db);
	if (pipe(to_child) < 0 || pipe(to_parent) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		struct dgen_db *cdb = NULL;
		struct dgen_err cerr = DGEN_ERR_INIT;

		if (db_open(&cdb, p, 0, &cerr) < 0 || db_begin(cdb, &cerr) < 0)
			_exit(2);
		if (write(to_parent[1], "L", 1) != 1)
			_exit(3);
		if (read(to_child[0], &c, 1) != 1)
			_exit(4);
		db_rollback(cdb);
		db_close(cdb);
		_exit(0);
	}
	if (read(to_parent[0], &c, 1) != 1)
		exit(1);
	ok(db_open(&db, p, 100, &err) == 0, "open while another process holds the write lock");
	ok(saved_pipelines_insert(db, NULL, "x", "{}", &id, &err) < 0, "a write past the busy timeout fails");
	is_int(err.code, DGEN_EBUSY, "... with DGEN_EBUSY");
	is_int(respond_http_status(err.code), 503, "... which the API answers with 503");
	dgen_err_clear(&err);
	ok(db_ping(db, &err) == 0, "reads still work under a writer (WAL)");
	if (write(to_child[1], "U", 1) != 1)
		exit(1);
	ok(st_wait_ok(pid), "lock holder finished");
	ok(saved_pipelines_insert(db, NULL, "x", "{}", &id, &err) == 0, "the write succeeds once the lock is free");
	ok(!db_in_transaction(db), "no transaction left open after the busy failure");
	db_close(db);
	free(p);
	close(to_child[0]); close(to_child[1]);
	close(to_parent[0]); close(to_parent[1]);
}

/* Holds the write lock of path in a child until told to let go (one byte
 * on *release) or for hold_ms; returns the child's pid once it holds it. */
static pid_t hold_lock(const char *path, int hold_ms, int *release)
{
	int to_child[2], to_parent[2];
	pid_t pid;
	char c = 0;

	if (pipe(to_child) < 0 || pipe(to_parent) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		struct dgen_db *cdb = NULL;
		struct dgen_err cerr = DGEN_ERR_INIT;

		if (db_open(&cdb, path, 0, &cerr) < 0 || db_begin(cdb, &cerr) < 0)
			_exit(2);
		if (write(to_parent[1], "L", 1) != 1)
			_exit(3);
		if (hold_ms > 0)
			usleep((useconds_t)hold_ms * 1000);
		else if (read(to_child[0], &c, 1) != 1)
			_exit(4);
		db_rollback(cdb);
		db_close(cdb);
		_exit(0);
	}
	if (read(to_parent[0], &c, 1) != 1)
		exit(1);
	close(to_child[0]);
	close(to_parent[0]);
	close(to_parent[1]);
	*release = to_child[1];
	return pid;
}

/* Two processes creating the database at once: while another connection
 * writes the new file (still in rollback mode: it is switching it to WAL),
 * opening it waits for the switch instead of failing at once with
 * "database is locked". */
static void test_open_new_shared(void)
{
	char *p = st_path("new-shared.db");
	struct dgen_db *db = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	int to_parent[2];
	pid_t pid;
	char c = 0;

	if (pipe(to_parent) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		sqlite3 *raw = NULL;

		if (sqlite3_open(p, &raw) != SQLITE_OK ||
		    sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			_exit(2);
		if (write(to_parent[1], "L", 1) != 1)
			_exit(3);
		usleep(300 * 1000);
		sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(raw);
		_exit(0);
	}
	if (read(to_parent[0], &c, 1) != 1)
		exit(1);
	ok(db_open(&db, p, 5000, &err) == 0,
	   "a new database another process writes is opened once it lets go%s%s",
	   err.msg[0] ? ": " : "", err.msg);
	ok(st_wait_ok(pid), "the writer finished");
	db_close(db);
	dgen_err_clear(&err);
	close(to_parent[0]);
	close(to_parent[1]);
	free(p);
}

/* The one busy retry policy: a write that meets a lock for longer than
 * the busy timeout still lands when the caller retries by db_retry_busy();
 * a lock that is never released ends the retries with DGEN_EBUSY; any
 * other error is not retried at all. */
static void test_busy_retry(void)
{
	struct dgen_db *db;
	struct dgen_err err = DGEN_ERR_INIT;
	char *p = st_path("retry.db");
	int attempt, release, rc;
	int64_t id;
	pid_t pid;

	db = st_open("retry.db");
	db_close(db);
	ok(db_open(&db, p, 20, &err) == 0, "open with a 20 ms busy timeout");

	pid = hold_lock(p, 300, &release);
	attempt = 0;
	do {
		dgen_err_clear(&err);
		rc = saved_pipelines_insert(db, NULL, "late", "{}", &id, &err);
	} while (rc < 0 && db_retry_busy(&attempt, &err));
	ok(rc == 0, "a write held up 300 ms lands through the retry policy %s", err.msg);
	ok(attempt > 0, "... after retrying (%d)", attempt);
	ok(st_wait_ok(pid), "lock holder finished");
	close(release);

	pid = hold_lock(p, 0, &release);
	attempt = 0;
	do {
		dgen_err_clear(&err);
		rc = saved_pipelines_insert(db, NULL, "never", "{}", &id, &err);
	} while (rc < 0 && db_retry_busy(&attempt, &err));
	ok(rc < 0 && err.code == DGEN_EBUSY,
	   "a lock never released ends the retries with DGEN_EBUSY");
	ok(attempt > 0, "... once the policy gave up (%d retries)", attempt);
	if (write(release, "U", 1) != 1)
		exit(1);
	ok(st_wait_ok(pid), "lock holder finished");
	close(release);

	attempt = 0;
	dgen_err_clear(&err);
	ok(saved_pipelines_update(db, NULL, 999999, "x", "{}", &err) < 0 && !db_retry_busy(&attempt, &err),
	   "an error other than busy is not retried");
	is_int(attempt, 0, "... and costs no retry");
	dgen_err_clear(&err);
	ok(!db_in_transaction(db), "no transaction left open");
	db_close(db);
	free(p);
}

/* Two processes write at the same time: every row lands, and no busy
 * error escapes (the busy timeout absorbs the contention). */
static void test_two_writers(void)
{
	enum { N = 300 };
	struct dgen_db *db = st_open("two.db");
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *list = NULL;
	pid_t pids[2];
	int i, k;

	db_close(db);
	for (k = 0; k < 2; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct dgen_db *cdb;
			struct dgen_err cerr = DGEN_ERR_INIT;
			int64_t id;
			char name[32];

			cdb = st_open("two.db");
			for (i = 0; i < N; i++) {
				snprintf(name, sizeof(name), "w%d-%d", k, i);
				if (saved_pipelines_insert(cdb, NULL, name, "{}", &id, &cerr) < 0) {
					fprintf(stderr, "writer %d: %s\n", k, cerr.msg);
					_exit(1);
				}
			}
			db_close(cdb);
			_exit(0);
		}
	}
	ok(st_wait_ok(pids[0]), "writer 1 saw no error");
	ok(st_wait_ok(pids[1]), "writer 2 saw no error");
	db = st_open("two.db");
	ok(saved_pipelines_list(db, NULL, &list, &err) == 0, "list");
	is_int(json_object_array_length(list), 2 * N, "every row of both writers is there");
	json_object_put(list);
	st_integrity(db);
	db_close(db);
}

/* A connection carried into a forked child is refused, not silently
 * shared. */
static void test_fork_guard(void)
{
	struct dgen_db *db = st_open("fork.db");
	pid_t pid = fork();

	if (pid == 0) {
		struct dgen_err cerr = DGEN_ERR_INIT;
		int rc = db_ping(db, &cerr);

		db_close(db);
		_exit(rc < 0 && cerr.code == DGEN_EINTERNAL ? 0 : 1);
	}
	ok(st_wait_ok(pid), "a connection used after fork is refused with DGEN_EINTERNAL");
	st_integrity(db);
	db_close(db);
}

/* A file that is not a database fails to open with DGEN_EIO. */
static void test_not_a_db(void)
{
	struct dgen_db *db = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	char *p = st_path("junk.db");
	FILE *f = fopen(p, "w");

	fputs("this is not a database, just some text long enough to have a header....\n", f);
	fclose(f);
	ok(db_open(&db, p, 0, &err) < 0 && db == NULL, "a text file is not opened");
	is_int(err.code, DGEN_EIO, "... with DGEN_EIO");
	dgen_err_clear(&err);
	free(p);
}

/* PostgreSQL: the URL's password is never shown, a server that is not
 * there is a 503 (DGEN_EBUSY, "unavailable"), and a connection the server
 * dropped costs at most the one statement that found it gone. */
static void test_pg_connection(void)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_db *db = NULL;
	char *base = st_target("conn.db");
	char *url = dgen_xasprintf("%s&password=s3cret-pw&application_name=lost%ld", base,
				   (long)getpid());
	char *sql;
	int rc;

	ok(db_open(&db, url, 0, &err) == 0, "open with a password in the URL %s", err.msg);
	ok(db && !strstr(db_path(db), "s3cret-pw") && strstr(db_path(db), "password=***"),
	   "db_path() shows the URL without its password: %s", db ? db_path(db) : "");
	sql = dgen_xasprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
			     "WHERE application_name = 'lost%ld'", (long)getpid());
	st_raw_exec(base, sql);
	free(sql);
	rc = db_ping(db, &err);
	ok(rc == 0 || err.code == DGEN_EBUSY,
	   "the statement that finds the connection gone is a 503 at worst: %s", err.msg);
	dgen_err_clear(&err);
	ok(db_ping(db, &err) == 0, "the next one reconnects %s", err.msg);
	db_close(db);
	free(url);

	url = dgen_xasprintf("postgresql://dgen:s3cret-pw@/dgen?host=%s/nowhere&connect_timeout=2",
			     st_dir);
	db = NULL;
	ok(db_open(&db, url, 0, &err) < 0 && !db, "no server: the open fails");
	is_int(err.code, DGEN_EBUSY, "... as unavailable (503 with Retry-After)");
	ok(!strstr(err.msg, "s3cret-pw"), "... without the password in the message: %s", err.msg);
	dgen_err_clear(&err);
	free(url);
	free(base);
}

int main(void)
{
	st_setup();
	test_transactions();
	test_two_writers();
	test_fork_guard();
	if (st_pg()) {
		test_pg_connection();
	} else {
		/* sqlite's file: WAL, locks held by another process, junk */
		test_open_wal();
		test_open_new_shared();
		test_busy();
		test_busy_retry();
		test_not_a_db();
	}
	st_teardown();
	return done_testing();
}
