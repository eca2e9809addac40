/*
 * stmt_pg.c - the PostgreSQL spelling of the statements and schema steps
 * whose sqlite text (stmt.c, migrate.c) does not serve both engines.
 */
#include <stddef.h>

#include "backend.h"

const char *const db_sql_pg[STMT__COUNT] = {
	[STMT_BEGIN_IMMEDIATE] = "BEGIN",
};

const char *db_step_pg(int i)
{
	return NULL;
}
