/*
 * stmt.c - the statement table: every SQL text dgen runs (the schema steps
 * are in migrate.c). One place to read when the schema changes, and the
 * list a PostgreSQL store would translate. The SQL sticks to what both
 * engines understand where that costs nothing: RETURNING, ON CONFLICT,
 * coalesce, CASE; no sqlite-only functions.
 *
 * Parameter numbering is fixed per family so one bind routine serves all
 * variants (the record list/page/count variants differ only in which
 * filter the index drives).
 */
#include "stmt.h"
#include "stmt_sql.h"

/* Columns of the job JSON (jobs.c reads them in this order). */
#define JOB_COLS \
	"id, pipeline_id, status, total_seeds, current_seed, records_generated, " \
	"records_failed, current_block, current_step, error, input_tokens, " \
	"output_tokens, cached_tokens, created_at, started_at, completed_at, " \
	"cost_state, cost_amount, cost_currency"

/* Columns of the record JSON (records.c reads them in this order). */
#define REC_COLS \
	"id, output, metadata, status, trace, trace_id, job_id, pipeline_id, " \
	"created_at, updated_at, reviewed_by, reviewed_at, usage"

/* Record filters: ?1 job_id, ?2 pipeline_id, ?3 status (NULL = any). The
 * variants name the indexed column without the IS NULL escape so sqlite
 * can drive the query from that column's index. Every record statement
 * binds the whole filter (records.c, bind_filter): ?4 and ?5 as the
 * family says, ?6 a LIKE pattern on output, ?7 a state field path, ?8 a
 * sort direction, ?9 and ?10 what a write sets, and ?11.. three per range
 * filter (path, low, high; a NULL path is an unused slot); ?35 the
 * owner (F_OWNER). */
#define F_JOB "job_id = ?1"
#define F_JOB_ANY "(?1 IS NULL OR job_id = ?1)"
#define F_PIPE "pipeline_id = ?2"
#define F_PIPE_ANY "(?2 IS NULL OR pipeline_id = ?2)"
#define F_STATUS_ANY "(?3 IS NULL OR status = ?3)"
/* The owner of the row: a member's id (NULL for an admin = any owner).
 * Every query of pipelines, jobs and records binds it (SPEC.md §8). */
#define F_OWNER(n) "(?" #n " IS NULL OR owner_id = ?" #n ")"

/* The one JSON expression of the store: a number of the final accumulated
 * state at a bound path ('$.field', made by records.c's state_path()). A
 * PostgreSQL store spells it (accumulated_state->>$n)::float8. */
#define STATE_AT(p) "json_extract(accumulated_state, " p ")"
#define F_RANGE(p, lo, hi) \
	" AND (" p " IS NULL OR " STATE_AT(p) " BETWEEN " lo " AND " hi ")"
/* Output search and range filters: every slot of DGEN_REC_MAX_RANGES. */
#define F_MORE \
	" AND (?6 IS NULL OR output LIKE ?6 ESCAPE '\\')" \
	F_RANGE("?11", "?12", "?13") F_RANGE("?14", "?15", "?16") \
	F_RANGE("?17", "?18", "?19") F_RANGE("?20", "?21", "?22") \
	F_RANGE("?23", "?24", "?25") F_RANGE("?26", "?27", "?28") \
	F_RANGE("?29", "?30", "?31") F_RANGE("?32", "?33", "?34") \
	" AND " F_OWNER(35)
/* WHERE of a record statement: index variant, status, the rest. */
#define REC_WHERE(job, pipe) " WHERE " job " AND " pipe " AND " F_STATUS_ANY F_MORE
#define REC_WHERE_NS(job, pipe) " WHERE " job " AND " pipe F_MORE
/* A list of the REC_COLS, ORDER BY order, page ?4 from ?5. */
#define REC_LIST(job, pipe, order) \
	"SELECT " REC_COLS " FROM records" REC_WHERE(job, pipe) " ORDER BY " order \
	" LIMIT ?4 OFFSET ?5"
/* By a state field (?7), ?8 > 0 ascending: records without it last. */
#define BY_FIELD \
	STATE_AT("?7") " IS NULL, CASE WHEN ?8 > 0 THEN " STATE_AT("?7") " END, " \
	"CASE WHEN ?8 < 0 THEN " STATE_AT("?7") " END DESC, id DESC"

#define MODEL_COLS \
	"SELECT name, provider, endpoint, model_name, api_key, api_key_last4, is_default, " \
	"dimensions, max_in_flight, requests_per_minute, tokens_per_minute, price_input, " \
	"price_output, price_cached, currency, owner_id FROM models "

const char *const db_sql[STMT__COUNT] = {
	[STMT_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[STMT_BEGIN_READ] = "BEGIN",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_PING] = "SELECT 1",
	[STMT_USER_VERSION] = "PRAGMA user_version",
	[STMT_INTEGRITY] = "PRAGMA integrity_check",

	/* pipelines: ?1 id */
	[STMT_PIPE_INSERT] =
		"INSERT INTO pipelines (name, definition, created_at, updated_at, owner_id) "
		"VALUES (?1, ?2, ?3, ?3, ?4) RETURNING id",
	[STMT_PIPE_UPDATE] =
		"UPDATE pipelines SET name = ?2, definition = ?3, updated_at = ?4 "
		"WHERE id = ?1 AND " F_OWNER(5),
	[STMT_PIPE_GET] =
		"SELECT id, name, definition, validation_config, created_at, updated_at "
		"FROM pipelines WHERE id = ?1 AND " F_OWNER(2),
	[STMT_PIPE_LIST] =
		"SELECT id, name, definition, created_at, updated_at "
		"FROM pipelines WHERE " F_OWNER(1) " ORDER BY id DESC",
	[STMT_PIPE_DELETE] = "DELETE FROM pipelines WHERE id = ?1 AND " F_OWNER(2),
	[STMT_PIPE_SET_VALIDATION] =
		"UPDATE pipelines SET validation_config = ?2 WHERE id = ?1 AND " F_OWNER(3),
	[STMT_PIPE_EXISTS] = "SELECT 1 FROM pipelines WHERE id = ?1 AND " F_OWNER(2),
	[STMT_PIPE_PAGE] =
		"SELECT id, name, definition, created_at, updated_at "
		"FROM pipelines WHERE " F_OWNER(3) " ORDER BY id DESC LIMIT ?1 OFFSET ?2",
	[STMT_PIPE_COUNT] = "SELECT count(*) FROM pipelines WHERE " F_OWNER(1),

	/* jobs */
	[STMT_JOB_INSERT] =
		"INSERT INTO jobs (pipeline_id, status, input_kind, units, "
		"total_seeds, idempotency_key, created_at, owner_id) "
		"SELECT ?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7 FROM pipelines "
		"WHERE id = ?1 AND " F_OWNER(8) " RETURNING id",
	[STMT_JOB_INPUT_INSERT] = "INSERT INTO job_inputs (job_id, input) VALUES (?1, ?2)",
	[STMT_JOB_INPUT_COPY] =
		"INSERT INTO job_inputs (job_id, input) "
		"SELECT ?2, input FROM job_inputs WHERE job_id = ?1",
	[STMT_JOB_INPUT_GET] = "SELECT input FROM job_inputs WHERE job_id = ?1",
	[STMT_JOB_BY_IDEM] = "SELECT id FROM jobs WHERE idempotency_key = ?1",
	[STMT_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1 AND " F_OWNER(2),
	[STMT_JOB_LIST] =
		"SELECT " JOB_COLS " FROM jobs "
		"WHERE (?1 IS NULL OR pipeline_id = ?1) AND (?2 IS NULL OR status = ?2) "
		"AND " F_OWNER(5) " ORDER BY id DESC LIMIT ?3 OFFSET ?4",
	[STMT_JOB_COUNT] =
		"SELECT count(*) FROM jobs "
		"WHERE (?1 IS NULL OR pipeline_id = ?1) AND (?2 IS NULL OR status = ?2) "
		"AND " F_OWNER(3),
	[STMT_JOB_ACTIVE] =
		"SELECT " JOB_COLS " FROM jobs WHERE status = 'running' AND " F_OWNER(1)
		" ORDER BY started_at, id LIMIT 1",
	[STMT_JOB_STATE] =
		"SELECT status, cancel_requested FROM jobs WHERE id = ?1 AND " F_OWNER(2),
	[STMT_JOB_CANCEL_QUEUED] =
		"UPDATE jobs SET status = 'cancelled', completed_at = ?2 "
		"WHERE id = ?1 AND status = 'queued'",
	[STMT_JOB_CANCEL_RUNNING] =
		"UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 AND status = 'running'",
	[STMT_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1 AND " F_OWNER(2),
	[STMT_JOB_RETRY_INSERT] =
		"INSERT INTO jobs (pipeline_id, status, input_kind, units, "
		"total_seeds, idempotency_key, created_at, owner_id) "
		"SELECT pipeline_id, 'queued', input_kind, ?2, ?3, ?4, ?5, owner_id "
		"FROM jobs WHERE id = ?1 RETURNING id",
	[STMT_FAIL_LIST] =
		"SELECT seed_index, repetition, chunk_index, block_type, step, error, trace "
		"FROM failures WHERE job_id = ?1 ORDER BY unit",
	[STMT_FAIL_UNITS] =
		"SELECT unit, seed_index, repetition, chunk_index "
		"FROM failures WHERE job_id = ?1 ORDER BY unit",

	/* queue */
	/* Fair share: the queued job of the owner with the fewest running
	 * jobs (by any runner), then the oldest; ?4 = 1 takes only owners
	 * with none running. Jobs without an owner count as one owner. */
#define OWNER_RUNNING \
	"(SELECT count(*) FROM jobs r WHERE r.owner_id IS q.owner_id AND r.status = 'running')"
	/* The claim's cheap first look: a read, no write lock. */
	[STMT_Q_ANY_QUEUED] = "SELECT 1 FROM jobs WHERE status = 'queued' LIMIT 1",
	[STMT_Q_CLAIM] =
		"UPDATE jobs SET status = 'running', runner_id = ?1, lease_expires_at = ?2, "
		"attempts = attempts + 1, started_at = coalesce(started_at, ?3) "
		"WHERE id = (SELECT q.id FROM jobs q WHERE q.status = 'queued' "
		"AND (?4 = 0 OR " OWNER_RUNNING " = 0) "
		"ORDER BY " OWNER_RUNNING ", q.id LIMIT 1) "
		"AND status = 'queued' "
		"RETURNING id, pipeline_id, input_kind, NULL, units, attempts, "
		"lease_expires_at, started_at, " COUNTER_COLS ", owner_id, "
		"(SELECT quota_inflight FROM users u WHERE u.id = jobs.owner_id)",
	[STMT_Q_CLAIM_PIPELINE] =
		"SELECT name, definition FROM pipelines WHERE id = ?1",
	[STMT_Q_RENEW] =
		"UPDATE jobs SET lease_expires_at = ?3 "
		"WHERE id = ?1 AND runner_id = ?2 AND status = 'running'",
	[STMT_Q_RELEASE] =
		"UPDATE jobs SET "
		"status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END, "
		"completed_at = CASE WHEN cancel_requested = 1 THEN ?3 ELSE NULL END, "
		"attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
		"runner_id = NULL, lease_expires_at = NULL "
		"WHERE id = ?1 AND runner_id = ?2 AND status = 'running'",
	[STMT_Q_RESCUE_CANCELLED] =
		"UPDATE jobs SET status = 'cancelled', completed_at = ?2, "
		"runner_id = NULL, lease_expires_at = NULL "
		"WHERE status = 'running' AND lease_expires_at < ?1 AND cancel_requested = 1 "
		"AND (?5 IS NULL OR runner_id = ?5)",
	/* Blame (queue.h): the units the dying claim had in flight. The
	 * rescue statements share ?1 now_ms, ?2 now, ?3 message, ?4
	 * max_attempts, ?5 runner (NULL = any); RESCUED picks their jobs. */
#define RESCUED(j) \
	j "status = 'running' AND " j "lease_expires_at < ?1 " \
	"AND (?5 IS NULL OR " j "runner_id = ?5)"
	[STMT_Q_RESCUE_BLAME] =
		"UPDATE unit_starts SET deaths = deaths + 1 "
		"WHERE runner_id IS NOT NULL AND job_id IN "
		"(SELECT id FROM jobs WHERE " RESCUED("") ")",
	/* A unit is guilty at ?4 deaths if it was the only unit its runner
	 * had in flight at the last one (POISON(s)); in a group it goes on
	 * to a smaller group. */
#define POISON(s) \
	s "runner_id IS NOT NULL AND " s "deaths >= ?4 AND (SELECT count(*) FROM " \
	"unit_starts o WHERE o.runner_id = " s "runner_id) = 1"
	[STMT_Q_RESCUE_POISON_COUNT] =
		"UPDATE jobs SET "
		"records_failed = records_failed + (SELECT count(*) FROM unit_starts s "
		"WHERE s.job_id = jobs.id AND " POISON("s.") "), "
		"current_seed = current_seed + (SELECT count(*) FROM unit_starts s "
		"WHERE s.job_id = jobs.id AND " POISON("s.") ") "
		"WHERE " RESCUED("") " AND EXISTS (SELECT 1 FROM unit_starts s "
		"WHERE s.job_id = jobs.id AND " POISON("s.") ")",
	[STMT_Q_RESCUE_POISON_FAIL] =
		"INSERT INTO failures (job_id, unit, seed_index, repetition, chunk_index, "
		"block_type, step, error, trace, created_at) "
		"SELECT s.job_id, s.unit, s.seed_index, s.repetition, s.chunk_index, NULL, 0, "
		"'The runner stopped ' || s.deaths || ' times while running this unit', "
		"NULL, ?2 FROM unit_starts s JOIN jobs j ON j.id = s.job_id "
		"WHERE " POISON("s.") " AND " RESCUED("j.") " "
		"ON CONFLICT (job_id, unit) DO NOTHING",
	[STMT_Q_RESCUE_POISON_CLEAR] =
		"DELETE FROM unit_starts WHERE " POISON("unit_starts.") " AND job_id IN "
		"(SELECT id FROM jobs WHERE " RESCUED("") ")",
#undef POISON
	/* The dead claim's units are in flight no more. */
	[STMT_Q_RESCUE_UNBLAME] =
		"UPDATE unit_starts SET runner_id = NULL "
		"WHERE runner_id IS NOT NULL AND job_id IN "
		"(SELECT id FROM jobs WHERE " RESCUED("") ")",
#undef RESCUED
	[STMT_Q_RESCUE_EXHAUSTED] =
		"UPDATE jobs SET status = 'failed', error = ?3, completed_at = ?2, "
		"runner_id = NULL, lease_expires_at = NULL "
		"WHERE status = 'running' AND lease_expires_at < ?1 AND attempts >= ?4 "
		"AND (?5 IS NULL OR runner_id = ?5)",
	[STMT_Q_RESCUE_REQUEUE] =
		"UPDATE jobs SET status = 'queued', runner_id = NULL, lease_expires_at = NULL "
		"WHERE status = 'running' AND lease_expires_at < ?1 "
		"AND (?5 IS NULL OR runner_id = ?5)",
	[STMT_Q_RELEASE_STARTS] =
		"UPDATE unit_starts SET runner_id = NULL WHERE job_id = ?1 AND runner_id = ?2",
	/* A unit's start, once JOB_HELD said the claim is still ours (queue.c,
	 * queue_tally_start); a start again keeps the unit's deaths. */
	[STMT_Q_JOB_HELD] =
		"SELECT 1 FROM jobs WHERE id = ?1 AND runner_id = ?2 AND status = 'running'",
	[STMT_Q_UNIT_START] =
		"INSERT INTO unit_starts (job_id, unit, seed_index, repetition, chunk_index, "
		"runner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (job_id, unit) DO UPDATE SET runner_id = excluded.runner_id",
	/* A claim that started a unit got past planning (see RESCUE_EXHAUSTED). */
	[STMT_Q_UNIT_STARTED_JOB] =
		"UPDATE jobs SET attempts = 0 WHERE id = ?1 AND runner_id = ?2 AND attempts <> 0",
	[STMT_Q_UNIT_DONE] = "DELETE FROM unit_starts WHERE job_id = ?1 AND unit = ?2",
	[STMT_Q_SUSPECTS] =
		"SELECT unit, deaths FROM unit_starts WHERE job_id = ?1 AND deaths > 0 "
		"ORDER BY unit",
	[STMT_Q_DONE_UNITS] =
		"SELECT unit FROM records WHERE job_id = ?1 "
		"UNION SELECT unit FROM failures WHERE job_id = ?1 ORDER BY 1",
	/* What a record takes from its job, when the job is there and the unit
	 * is not a failure already (the NOT EXISTS keeps a unit from being both
	 * a record and a failure). Read apart from the insert: an INSERT ...
	 * SELECT makes sqlite keep a statement journal, a plain one does not. */
	[STMT_Q_RECORD_SOURCE] =
		"SELECT j.pipeline_id, j.owner_id FROM jobs j WHERE j.id = ?1 AND NOT EXISTS "
		"(SELECT 1 FROM failures f WHERE f.job_id = ?1 AND f.unit = ?2)",
	/* The unit key makes a second insert for the same unit a no-op; ?13
	 * and ?14 are RECORD_SOURCE's pipeline and owner. */
	[STMT_Q_RECORD_INSERT] =
		"INSERT INTO records (job_id, pipeline_id, unit, seed_index, repetition, "
		"chunk_index, output, metadata, accumulated_state, status, trace, trace_id, "
		"created_at, updated_at, owner_id, usage) "
		"VALUES (?1, ?13, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?11, ?14, ?12) "
		"ON CONFLICT (job_id, unit) DO NOTHING",
	[STMT_Q_FAILURE_INSERT] =
		"INSERT INTO failures (job_id, unit, seed_index, repetition, chunk_index, "
		"block_type, step, error, trace, created_at) "
		"SELECT j.id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM jobs j "
		"WHERE j.id = ?1 AND NOT EXISTS "
		"(SELECT 1 FROM records r WHERE r.job_id = ?1 AND r.unit = ?2) "
		"ON CONFLICT (job_id, unit) DO NOTHING",
	[STMT_Q_COUNT_UNIT] = Q_COUNT_UNIT("?8"),
	[STMT_Q_SET_TOTAL] = "UPDATE jobs SET total_seeds = ?2 WHERE id = ?1",
	[STMT_Q_PROGRESS] =
		"UPDATE jobs SET current_block = ?2, current_step = ?3 WHERE id = ?1",
	[STMT_Q_FINISH_JOB] =
		"UPDATE jobs SET status = ?2, error = ?3, completed_at = ?4, "
		"runner_id = NULL, lease_expires_at = NULL "
		"WHERE id = ?1 AND status = 'running'",
	[STMT_Q_COUNTERS] = "SELECT " COUNTER_COLS " FROM jobs WHERE id = ?1",
	[STMT_Q_HEARTBEAT] =
		"INSERT INTO runners (runner_id, pid, hostname, last_seen) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (runner_id) DO UPDATE SET "
		"pid = excluded.pid, hostname = excluded.hostname, last_seen = excluded.last_seen",
	[STMT_Q_RUNNER_LAST] = "SELECT max(last_seen) FROM runners",
	/* runners other than ?2 with a heartbeat at or after ?1 */
	[STMT_Q_RUNNERS_OTHERS] =
		"SELECT count(*) FROM runners WHERE last_seen >= ?1 AND runner_id <> ?2",
	[STMT_Q_RUNNERS_PRUNE] = "DELETE FROM runners WHERE last_seen < ?1",
	[STMT_Q_RUNNING_RUNNERS] =
		"SELECT DISTINCT runner_id FROM jobs "
		"WHERE status = 'running' AND runner_id IS NOT NULL ORDER BY 1",

	/* records */
	[STMT_REC_GET] = "SELECT " REC_COLS " FROM records WHERE id = ?1 AND " F_OWNER(2),
	[STMT_REC_LIST_JOB] = REC_LIST(F_JOB, F_PIPE_ANY, "id DESC"),
	[STMT_REC_LIST_PIPELINE] = REC_LIST(F_JOB_ANY, F_PIPE, "id DESC"),
	[STMT_REC_LIST_ANY] = REC_LIST(F_JOB_ANY, F_PIPE_ANY, "id DESC"),
	[STMT_REC_STATE] =
		"SELECT metadata, accumulated_state FROM records WHERE id = ?1 AND " F_OWNER(2),
	[STMT_REC_UPDATE] =
		"UPDATE records SET output = coalesce(?2, output), "
		"status = coalesce(?3, status), metadata = coalesce(?4, metadata), "
		"accumulated_state = coalesce(?5, accumulated_state), updated_at = ?6, "
		"reviewed_by = CASE WHEN ?3 IS NULL THEN reviewed_by "
		"ELSE (SELECT name FROM users WHERE id = ?8) END, "
		"reviewed_at = CASE WHEN ?3 IS NULL THEN reviewed_at ELSE ?6 END "
		"WHERE id = ?1 AND " F_OWNER(7),
	[STMT_REC_DELETE_JOB] = "DELETE FROM records WHERE job_id = ?1",
	[STMT_REC_DELETE_ALL] = "DELETE FROM records WHERE " F_OWNER(1),
	[STMT_REC_COUNT_JOB] =
		"SELECT status, count(*) FROM records" REC_WHERE_NS(F_JOB, F_PIPE_ANY)
		" GROUP BY status",
	[STMT_REC_COUNT_PIPELINE] =
		"SELECT status, count(*) FROM records" REC_WHERE_NS(F_JOB_ANY, F_PIPE)
		" GROUP BY status",
	[STMT_REC_COUNT_ANY] =
		"SELECT status, count(*) FROM records" REC_WHERE_NS(F_JOB_ANY, F_PIPE_ANY)
		" GROUP BY status",
	/* keyset pages: ?4 last id seen, ?5 page size */
	[STMT_REC_PAGE_JOB] =
		"SELECT " REC_COLS ", accumulated_state FROM records"
		REC_WHERE(F_JOB, F_PIPE_ANY) " AND id > ?4 ORDER BY id LIMIT ?5",
	[STMT_REC_PAGE_PIPELINE] =
		"SELECT " REC_COLS ", accumulated_state FROM records"
		REC_WHERE(F_JOB_ANY, F_PIPE) " AND id > ?4 ORDER BY id LIMIT ?5",
	[STMT_REC_PAGE_ANY] =
		"SELECT " REC_COLS ", accumulated_state FROM records"
		REC_WHERE(F_JOB_ANY, F_PIPE_ANY) " AND id > ?4 ORDER BY id LIMIT ?5",

	/* review at scale: oldest first, by a state field, stats, bulk */
	[STMT_REC_LIST_OLD_JOB] = REC_LIST(F_JOB, F_PIPE_ANY, "id"),
	[STMT_REC_LIST_OLD_PIPELINE] = REC_LIST(F_JOB_ANY, F_PIPE, "id"),
	[STMT_REC_LIST_OLD_ANY] = REC_LIST(F_JOB_ANY, F_PIPE_ANY, "id"),
	[STMT_REC_LIST_FIELD_JOB] = REC_LIST(F_JOB, F_PIPE_ANY, BY_FIELD),
	[STMT_REC_LIST_FIELD_PIPELINE] = REC_LIST(F_JOB_ANY, F_PIPE, BY_FIELD),
	[STMT_REC_LIST_FIELD_ANY] = REC_LIST(F_JOB_ANY, F_PIPE_ANY, BY_FIELD),
	/* The numeric top-level keys of the matching final states (at most
	 * ?4 of them, by name) with their range and mean. json_each is the
	 * sqlite spelling; PostgreSQL has jsonb_each and jsonb_typeof. */
	[STMT_REC_STATS_FIELDS] =
		"SELECT j.key, count(*), min(j.value), max(j.value), avg(j.value) "
		"FROM (SELECT accumulated_state FROM records"
		REC_WHERE(F_JOB_ANY, F_PIPE_ANY) ") r, json_each(r.accumulated_state) j "
		"WHERE j.type IN ('integer', 'real') GROUP BY j.key ORDER BY j.key LIMIT ?4",
	/* The values of one field (?7) of the matching records, for a
	 * histogram. */
	[STMT_REC_STATS_VALUES] =
		"SELECT " STATE_AT("?7") " FROM records" REC_WHERE(F_JOB_ANY, F_PIPE_ANY)
		" AND json_type(accumulated_state, ?7) IN ('integer', 'real')",
	/* Bulk review: ?9 the new status, ?10 now. */
	[STMT_REC_BULK_STATUS] =
		"UPDATE records SET status = ?9, updated_at = ?10"
		REC_WHERE(F_JOB_ANY, F_PIPE_ANY),
	/* near-duplicate index: ?1 job_id; seq orders the checks of a job */
	[STMT_ND_OWN] = "SELECT seq FROM neardup_sigs WHERE job_id = ?1 AND unit = ?2",
	[STMT_ND_CANDIDATES] =
		"SELECT s.seq, s.unit, s.sig FROM neardup_bands b JOIN neardup_sigs s "
		"ON s.job_id = b.job_id AND s.unit = b.unit "
		"WHERE b.job_id = ?1 AND b.key = ?2 AND s.seq < ?3",
	[STMT_ND_SIG_INSERT] =
		"INSERT INTO neardup_sigs (job_id, unit, sig) VALUES (?1, ?2, ?3) RETURNING seq",
	[STMT_ND_BAND_INSERT] = "INSERT INTO neardup_bands (job_id, key, unit) VALUES (?1, ?2, ?3)",
	[STMT_ND_RECORD] = "SELECT id FROM records WHERE job_id = ?1 AND unit = ?2",

	/* accounts */
#define USER_COLS \
	"id, name, role, disabled, quota_jobs, quota_executions, quota_inflight, created_at"
	[STMT_USER_INSERT] =
		"INSERT INTO users (name, role, password_hash, created_at) "
		"VALUES (?1, ?2, ?3, ?4) RETURNING id",
	[STMT_USER_BY_NAME] = "SELECT " USER_COLS ", password_hash FROM users WHERE name = ?1",
	[STMT_USER_BY_ID] = "SELECT " USER_COLS ", password_hash FROM users WHERE id = ?1",
	[STMT_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY id",
	[STMT_USER_UPDATE] =
		"UPDATE users SET role = ?2, disabled = ?3, quota_jobs = ?4, "
		"quota_executions = ?5, quota_inflight = ?6 WHERE id = ?1",
	[STMT_USER_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
	[STMT_TOKEN_INSERT] =
		"INSERT INTO tokens (user_id, name, hash, created_at, expires_at, expires_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	[STMT_TOKEN_AUTH] =
		"SELECT t.id, t.user_id, u.role, u.disabled, t.expires_ms, t.last_used_ms, "
		"t.hash FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
	[STMT_TOKEN_TOUCH] =
		"UPDATE tokens SET last_used_at = ?2, last_used_ms = ?3 WHERE id = ?1",
	[STMT_TOKEN_LIST] =
		"SELECT t.id, t.name, u.name, t.created_at, t.last_used_at, t.expires_at "
		"FROM tokens t JOIN users u ON u.id = t.user_id "
		"WHERE (?1 IS NULL OR t.user_id = ?1) ORDER BY t.id",
	[STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)",
	[STMT_SESSION_INSERT] =
		"INSERT INTO sessions (hash, user_id, created_ms, seen_ms) VALUES (?1, ?2, ?3, ?3)",
	[STMT_SESSION_AUTH] =
		"SELECT s.user_id, u.role, u.disabled, s.created_ms, s.seen_ms, s.hash "
		"FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?1",
	[STMT_SESSION_TOUCH] = "UPDATE sessions SET seen_ms = ?2 WHERE hash = ?1",
	[STMT_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?1",
	[STMT_SESSION_DELETE_USER] = "DELETE FROM sessions WHERE user_id = ?1",
	[STMT_SESSION_PRUNE] = "DELETE FROM sessions WHERE created_ms < ?1",
	[STMT_LOGIN_FAIL_GET] = "SELECT failures, since_ms FROM login_failures WHERE key = ?1",
	/* ?2 now, ?3 the start of the current window: an older budget
	 * starts over. The stored row's columns are named by the table
	 * (PostgreSQL finds a bare name ambiguous beside excluded's). */
	[STMT_LOGIN_FAIL_ADD] =
		"INSERT INTO login_failures (key, failures, since_ms) VALUES (?1, 1, ?2) "
		"ON CONFLICT (key) DO UPDATE SET "
		"failures = CASE WHEN login_failures.since_ms < ?3 THEN 1 "
		"ELSE login_failures.failures + 1 END, "
		"since_ms = CASE WHEN login_failures.since_ms < ?3 THEN ?2 "
		"ELSE login_failures.since_ms END",
	[STMT_LOGIN_FAIL_CLEAR] = "DELETE FROM login_failures WHERE key = ?1",
	[STMT_QUOTA_ACTIVE_JOBS] =
		"SELECT count(*) FROM jobs WHERE owner_id = ?1 AND status IN ('queued','running')",
	/* named models: ?1 kind, ?2 name; an owner parameter is a member's
	 * id or NULL (global). A caller's view is the global models and
	 * their own; by name, their own comes first. */
	[STMT_MODEL_LIST] = MODEL_COLS "WHERE kind = ?1 AND (owner_id IS NULL OR owner_id = ?2) "
				      "ORDER BY owner_id IS NOT NULL, id",
	[STMT_MODEL_LIST_ALL] = MODEL_COLS "WHERE kind = ?1 ORDER BY id",
	[STMT_MODEL_GET] = MODEL_COLS "WHERE kind = ?1 AND name = ?2 AND "
				     "(owner_id IS NULL OR owner_id = ?3) "
				     "ORDER BY owner_id IS NULL LIMIT 1",
	[STMT_MODEL_GLOBAL_NAMED] =
		"SELECT count(*) FROM models WHERE kind = ?1 AND name = ?2 AND owner_id IS NULL",
	[STMT_MODEL_INSERT] =
		"INSERT INTO models (kind, name, provider, endpoint, model_name, api_key, "
		"api_key_last4, is_default, dimensions, max_in_flight, requests_per_minute, "
		"tokens_per_minute, price_input, price_output, price_cached, currency, "
		"created_at, updated_at, owner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
		"?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18) RETURNING id",
	/* ?3 the new name; ?6/?7 the key only when ?18 is 1 (a PUT without
	 * api_key keeps the stored one); ?20 the owner */
	[STMT_MODEL_UPDATE] =
		"UPDATE models SET name = ?3, provider = ?4, endpoint = ?5, model_name = ?6, "
		"api_key = CASE WHEN ?18 <> 0 THEN ?7 ELSE api_key END, "
		"api_key_last4 = CASE WHEN ?18 <> 0 THEN ?8 ELSE api_key_last4 END, "
		"is_default = ?9, dimensions = ?10, max_in_flight = ?11, "
		"requests_per_minute = ?12, tokens_per_minute = ?13, price_input = ?14, "
		"price_output = ?15, price_cached = ?16, currency = ?17, updated_at = ?19 "
		"WHERE kind = ?1 AND name = ?2 AND coalesce(owner_id, 0) = coalesce(?20, 0)",
	[STMT_MODEL_DELETE] = "DELETE FROM models WHERE kind = ?1 AND name = ?2 "
			      "AND coalesce(owner_id, 0) = coalesce(?3, 0)",
	[STMT_MODEL_COUNT] = "SELECT count(*) FROM models WHERE kind = ?1 AND owner_id IS NULL",
	/* the default rules hold among the global models only: every global
	 * model of the kind but ?2 loses the flag */
	[STMT_MODEL_CLEAR_DEFAULT] =
		"UPDATE models SET is_default = 0 WHERE kind = ?1 AND name <> ?2 AND is_default <> 0 "
		"AND owner_id IS NULL",
	/* a kind with global models and no default: the oldest becomes it */
	[STMT_MODEL_FIX_DEFAULT] =
		"UPDATE models SET is_default = 1 WHERE id = (SELECT min(id) FROM models "
		"WHERE kind = ?1 AND owner_id IS NULL) AND NOT EXISTS (SELECT 1 FROM models "
		"WHERE kind = ?1 AND owner_id IS NULL AND is_default <> 0)",
	/* rekey: every sealed key, then one re-sealed by id */
	[STMT_MODEL_KEYS] = "SELECT id, api_key FROM models WHERE api_key IS NOT NULL ORDER BY id",
	[STMT_MODEL_SET_KEY] = "UPDATE models SET api_key = ?2 WHERE id = ?1",
};
