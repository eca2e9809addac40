/*
 * open.c - db_open(): a connection (db.c) whose schema is brought up to
 * date (migrate.c). The one place the two meet, so that migrate.c builds
 * on db.c and db.c knows nothing of the schema.
 */
#include "dgen/db.h"
#include "dgen/migrate.h"
#include "stmt.h"

int db_open(struct dgen_db **out, const char *path, int busy_timeout_ms, struct dgen_err *err)
{
	struct dgen_db *db;

	*out = NULL;
	if (db_connect(&db, path, busy_timeout_ms, err) < 0)
		return -1;
	/* Cheap when the schema is current: one read. */
	if (migrate_run(db, NULL, err) < 0) {
		db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}
