/*
 * stmt_pg.c - the PostgreSQL spelling of what stmt.c and migrate.c write
 * for sqlite, only where the two engines differ beyond what db_pg.c
 * translates by itself (?N to $N, LIKE to ILIKE; the schema's type names).
 * An entry here replaces the sqlite text whole, so it must be kept in step
 * with its twin: the store tests run against both engines to catch a
 * drift.
 */
#include <stddef.h>

#include "backend.h"
#include "stmt_sql.h"

/* sqlite's null-safe "a IS b" is IS NOT DISTINCT FROM here. */
#define PG_OWNER_RUNNING \
	"(SELECT count(*) FROM jobs r WHERE r.owner_id IS NOT DISTINCT FROM q.owner_id " \
	"AND r.status = 'running')"

const char *const db_sql_pg[STMT__COUNT] = {
	/* Writers do not take a database-wide lock: rows are locked as they
	 * are written, and the claim skips rows another claimer holds. */
	[STMT_BEGIN_IMMEDIATE] = "BEGIN",
	/* One snapshot for every read of the transaction, as sqlite's. */
	[STMT_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
	[STMT_USER_VERSION] = "SELECT version FROM dgen_schema",
	/* The server checks its own pages (and checksums, where enabled). */
	[STMT_INTEGRITY] = "SELECT 'ok'",
	/* The claim of stmt.c, where FOR UPDATE SKIP LOCKED lets many
	 * claimers on many hosts each take a different job without waiting
	 * on each other (DESIGN.md section 8). */
	[STMT_Q_CLAIM] =
		"UPDATE jobs SET status = 'running', runner_id = ?1, lease_expires_at = ?2, "
		"attempts = attempts + 1, started_at = coalesce(started_at, ?3) "
		"WHERE id = (SELECT q.id FROM jobs q WHERE q.status = 'queued' "
		"AND (?4 = 0 OR " PG_OWNER_RUNNING " = 0) "
		"ORDER BY " PG_OWNER_RUNNING ", q.id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		"AND status = 'queued' "
		"RETURNING id, pipeline_id, input_kind, NULL, units, attempts, "
		"lease_expires_at, started_at, " COUNTER_COLS ", owner_id, "
		"(SELECT quota_inflight FROM users u WHERE u.id = jobs.owner_id)",
	/* current_step is text here (a step number or the runner's note) */
	[STMT_Q_COUNT_UNIT] = Q_COUNT_UNIT("?8::text"),
};

/* Schema steps whose sqlite DDL has no mechanical PostgreSQL spelling. */
static const char *const steps[] = {
	/* 2: a trigger is a function and a trigger here */
	[1] =
	"CREATE TABLE unit_starts ("
	"  job_id bigint NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  unit bigint NOT NULL,"
	"  seed_index bigint NOT NULL,"
	"  repetition bigint NOT NULL,"
	"  chunk_index bigint,"
	"  runner_id text,"
	"  deaths bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (job_id, unit)"
	");"
	"CREATE FUNCTION jobs_end_unit_starts() RETURNS trigger LANGUAGE plpgsql AS $$ "
	"BEGIN DELETE FROM unit_starts WHERE job_id = NEW.id; RETURN NULL; END $$;"
	"CREATE TRIGGER jobs_end_unit_starts AFTER UPDATE OF status ON jobs FOR EACH ROW "
	"WHEN (NEW.status IN ('completed','failed','cancelled','stopped')) "
	"EXECUTE FUNCTION jobs_end_unit_starts();",
	/* 7: owners of models. sqlite remakes the table to drop a UNIQUE
	 * constraint (copying ids into a new identity column would leave its
	 * sequence behind them); here the constraint is dropped in place. */
	[6] =
	"ALTER TABLE models ADD COLUMN owner_id bigint REFERENCES users(id) ON DELETE CASCADE;"
	"ALTER TABLE models DROP CONSTRAINT models_kind_name_key;"
	"CREATE UNIQUE INDEX models_owner_name ON models(kind, coalesce(owner_id, 0), name);",
	/* 8: sqlite's records status rule rewritten in place; PostgreSQL
	 * checks the IN list as it is. */
	[7] = "SELECT 1",
	/* 9: sqlite drops two indexes of records it never uses; PostgreSQL
	 * plans with the bound owner and status and keeps them. */
	[8] = "SELECT 1",
};

/*
 * After step 1: the JSON functions of sqlite that the record statements
 * call, over the same text columns (records keep their JSON byte for byte,
 * which jsonb would not), and the notification of a queued job.
 *  - json_extract(doc, '$.a.b'): the number at that path, else NULL (the
 *    store only asks for numbers: range filters, sorts, histograms);
 *  - json_type(doc, path) and json_each(doc): sqlite's type names
 *    ('integer', 'real', 'text', ...), numbers as double precision;
 *  - a job that becomes queued (enqueued, released, rescued) notifies
 *    channel dgen_jobs at commit, so an idle runner wakes at once.
 */
static const char pg_step1_extra[] =
	"CREATE FUNCTION dgen_json_at(doc text, path text) RETURNS jsonb "
	"LANGUAGE sql IMMUTABLE STRICT AS $$ "
	"SELECT doc::jsonb #> string_to_array(substr(path, 3), '.') $$;"
	"CREATE FUNCTION dgen_json_type(v jsonb) RETURNS text "
	"LANGUAGE sql IMMUTABLE STRICT AS $$ "
	"SELECT CASE jsonb_typeof(v) "
	"WHEN 'number' THEN CASE WHEN v::text ~ '^-?[0-9]+$' THEN 'integer' ELSE 'real' END "
	"WHEN 'string' THEN 'text' WHEN 'boolean' THEN v::text "
	"ELSE jsonb_typeof(v) END $$;"
	"CREATE FUNCTION dgen_json_num(v jsonb) RETURNS double precision "
	"LANGUAGE sql IMMUTABLE STRICT AS $$ "
	"SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::double precision END $$;"
	"CREATE FUNCTION json_extract(doc text, path text) RETURNS double precision "
	"LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT dgen_json_num(dgen_json_at(doc, path)) $$;"
	"CREATE FUNCTION json_type(doc text, path text) RETURNS text "
	"LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT dgen_json_type(dgen_json_at(doc, path)) $$;"
	"CREATE FUNCTION json_each(doc text) "
	"RETURNS TABLE (key text, value double precision, type text) "
	"LANGUAGE sql IMMUTABLE STRICT AS $$ "
	"SELECT e.key, dgen_json_num(e.value), dgen_json_type(e.value) "
	"FROM jsonb_each(doc::jsonb) e $$;"
	"CREATE FUNCTION dgen_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
	"BEGIN PERFORM pg_notify('dgen_jobs', NEW.id::text); RETURN NULL; END $$;"
	"CREATE TRIGGER jobs_queued AFTER INSERT OR UPDATE OF status ON jobs FOR EACH ROW "
	"WHEN (NEW.status = 'queued') EXECUTE FUNCTION dgen_jobs_notify();"
	/* a step number, or the runner's note while rate limited (sqlite keeps
	 * either in the INTEGER column) */
	"ALTER TABLE jobs ALTER COLUMN current_step TYPE text;";

const char *db_step_pg(int i)
{
	if (i < 0 || (size_t)i >= sizeof(steps) / sizeof(steps[0]))
		return NULL;
	return steps[i];
}

const char *db_step_pg_extra(int i)
{
	return i == 0 ? pg_step1_extra : NULL;
}
