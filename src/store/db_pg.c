/*
 * db_pg.c - the PostgreSQL backend (backend.h).
 */
#include "backend.h"

static int pg_connect(struct dgen_db *db, const char *target, struct dgen_err *err)
{
	return dgen_err_set(err, DGEN_EIO, "This dgen was built without PostgreSQL (libpq)");
}

static void pg_close(struct dgen_db *db)
{
}

const struct db_backend db_backend_pg = {
	.name = "postgresql",
	.connect = pg_connect,
	.close = pg_close,
};
