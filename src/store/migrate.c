/*
 * migrate.c - the schema as forward-only steps. Step i (0-based) brings
 * the database from user_version i to i+1. Never edit a released step:
 * add a new one.
 *
 * Names (pipelines, jobs, records) are SPEC.md's; columns beyond the spec
 * are ours. Timestamps are ISO 8601 UTC text with milliseconds, which sorts
 * like time; the lease expiry is integer milliseconds since the epoch so
 * rescue compares numbers.
 */
#include "dgen/migrate.h"
#include "stmt.h"

static const char *const steps[] = {
	/* 1: the initial schema */
	"CREATE TABLE pipelines ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  definition TEXT NOT NULL,"          /* JSON: blocks, config, constraints */
	"  validation_config TEXT,"            /* JSON: review layout, or NULL */
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL"
	");"
	/* The queue and the job record in one row. */
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,"
	"  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN"
	"    ('queued','running','completed','failed','cancelled','stopped')),"
	"  input_kind TEXT NOT NULL CHECK (input_kind IN ('json','markdown')),"
	"  units TEXT,"                        /* JSON array of unit descriptors (retry) */
	"  total_seeds INTEGER NOT NULL DEFAULT 0,"
	"  current_seed INTEGER NOT NULL DEFAULT 0,"
	"  records_generated INTEGER NOT NULL DEFAULT 0,"
	"  records_failed INTEGER NOT NULL DEFAULT 0,"
	"  current_block TEXT,"
	"  current_step INTEGER,"
	"  error TEXT,"
	"  input_tokens INTEGER NOT NULL DEFAULT 0,"
	"  output_tokens INTEGER NOT NULL DEFAULT 0,"
	"  cached_tokens INTEGER NOT NULL DEFAULT 0,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  runner_id TEXT,"
	"  lease_expires_at INTEGER,"          /* ms since the epoch */
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  idempotency_key TEXT UNIQUE,"
	"  created_at TEXT NOT NULL,"
	"  started_at TEXT,"
	"  completed_at TEXT"
	");"
	/* Claims and rescues look up by status in id order; without this
	 * index a claim scans every finished job (DESIGN.md section 7). */
	"CREATE INDEX jobs_status_id ON jobs(status, id);"
	"CREATE INDEX jobs_pipeline ON jobs(pipeline_id);"
	/* The uploaded file, apart from the job row: that row is updated at
	 * every finished unit, and sqlite rewrites a row whole, so a 10 MiB
	 * input in it made each counter update cost milliseconds and WAL. */
	"CREATE TABLE job_inputs ("
	"  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
	"  input TEXT NOT NULL"
	");"
	"CREATE TABLE records ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,"
	"  unit INTEGER NOT NULL,"
	"  seed_index INTEGER NOT NULL,"
	"  repetition INTEGER NOT NULL,"
	"  chunk_index INTEGER,"
	"  output TEXT NOT NULL,"
	"  metadata TEXT NOT NULL DEFAULT '{}',"
	"  accumulated_state TEXT NOT NULL DEFAULT '{}',"
	"  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
	"    ('pending','accepted','rejected','edited')),"
	"  trace TEXT,"
	"  trace_id TEXT,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  UNIQUE (job_id, unit)"
	");"
	/* Single-column indexes keep rows in id order within the value, so a
	 * filtered, newest-first page needs no sort. */
	"CREATE INDEX records_job ON records(job_id);"
	"CREATE INDEX records_pipeline ON records(pipeline_id);"
	"CREATE INDEX records_status ON records(status);"
	"CREATE TABLE failures ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  unit INTEGER NOT NULL,"
	"  seed_index INTEGER NOT NULL,"
	"  repetition INTEGER NOT NULL,"
	"  chunk_index INTEGER,"
	"  block_type TEXT,"
	"  step INTEGER,"
	"  error TEXT NOT NULL,"
	"  trace TEXT,"
	"  created_at TEXT NOT NULL,"
	"  UNIQUE (job_id, unit)"
	");"
	"CREATE TABLE runners ("
	"  runner_id TEXT PRIMARY KEY,"
	"  pid INTEGER,"
	"  hostname TEXT,"
	"  last_seen TEXT NOT NULL"
	");",
	/* 2: the units a claim has started and not stored yet, with the number
	 * of runner deaths each was in flight at (queue.h, "Blame"). A row is
	 * written when the unit starts (with the group commit), removed with
	 * the unit's record or failure, and dropped with its job's end. */
	"CREATE TABLE unit_starts ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  unit INTEGER NOT NULL,"
	"  seed_index INTEGER NOT NULL,"
	"  repetition INTEGER NOT NULL,"
	"  chunk_index INTEGER,"
	"  runner_id TEXT,"                    /* the claim running it; NULL = none */
	"  deaths INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (job_id, unit)"
	");"
	"CREATE TRIGGER jobs_end_unit_starts AFTER UPDATE OF status ON jobs "
	"WHEN NEW.status IN ('completed','failed','cancelled','stopped') "
	"BEGIN DELETE FROM unit_starts WHERE job_id = NEW.id; END;",
	/* 3: NearDuplicate's index of a job (neardup.c): each checked record's
	 * MinHash signature in check order (seq), and one row per LSH band
	 * key, so a check reads only the records sharing a band. */
	"CREATE TABLE neardup_sigs ("
	"  seq INTEGER PRIMARY KEY,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  unit INTEGER NOT NULL,"
	"  sig BLOB NOT NULL,"
	"  UNIQUE (job_id, unit)"
	");"
	"CREATE TABLE neardup_bands ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  key INTEGER NOT NULL,"
	"  unit INTEGER NOT NULL"
	");"
	"CREATE INDEX neardup_bands_key ON neardup_bands(job_id, key);",
	/* 4: accounts (SPEC.md §8). Users, their API tokens and browser
	 * sessions (only hashes of the secrets), the login failure budgets
	 * (in the store, so they hold across workers and hosts), and the
	 * owner of every pipeline, job and record. Rows from before accounts
	 * have no owner: only admins see them. Records carry their owner too
	 * (the job's), so a member's record queries bind their id directly. */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('admin','member')),"
	"  password_hash TEXT NOT NULL,"      /* Argon2id, crypto_pwhash_str */
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  quota_jobs INTEGER,"               /* NULL: the configured default */
	"  quota_executions INTEGER,"
	"  quota_inflight INTEGER,"
	"  created_at TEXT NOT NULL"
	");"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  hash BLOB NOT NULL UNIQUE,"        /* BLAKE2b of the token */
	"  created_at TEXT NOT NULL,"
	"  last_used_at TEXT,"
	"  last_used_ms INTEGER NOT NULL DEFAULT 0,"
	"  expires_at TEXT,"
	"  expires_ms INTEGER"                /* NULL: never */
	");"
	"CREATE INDEX tokens_user ON tokens(user_id);"
	"CREATE TABLE sessions ("
	"  hash BLOB PRIMARY KEY,"            /* BLAKE2b of the cookie value */
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created_ms INTEGER NOT NULL,"
	"  seen_ms INTEGER NOT NULL"
	");"
	"CREATE TABLE login_failures ("
	"  key TEXT PRIMARY KEY,"             /* 'name:<name>' or 'addr:<address>' */
	"  failures INTEGER NOT NULL,"
	"  since_ms INTEGER NOT NULL"
	");"
	"ALTER TABLE pipelines ADD COLUMN owner_id INTEGER REFERENCES users(id);"
	"ALTER TABLE jobs ADD COLUMN owner_id INTEGER REFERENCES users(id);"
	"ALTER TABLE records ADD COLUMN owner_id INTEGER;"
	"ALTER TABLE records ADD COLUMN reviewed_by TEXT;"
	"ALTER TABLE records ADD COLUMN reviewed_at TEXT;"
	"CREATE INDEX pipelines_owner ON pipelines(owner_id);"
	"CREATE INDEX jobs_owner_status ON jobs(owner_id, status);"
	"CREATE INDEX records_owner ON records(owner_id);",
	/* 5: named LLM and embedding models (saved_models.c); the key is
	 * sealed under the key file, only its last 4 characters are plain. */
	"CREATE TABLE models ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('llm','embedding')),"
	"  name TEXT NOT NULL,"
	"  provider TEXT NOT NULL,"
	"  endpoint TEXT NOT NULL,"
	"  model_name TEXT NOT NULL,"
	"  api_key BLOB,"
	"  api_key_last4 TEXT,"
	"  is_default INTEGER NOT NULL DEFAULT 0,"
	"  dimensions INTEGER NOT NULL DEFAULT 0,"
	"  max_in_flight INTEGER NOT NULL DEFAULT 0,"
	"  requests_per_minute INTEGER NOT NULL DEFAULT 0,"
	"  tokens_per_minute INTEGER NOT NULL DEFAULT 0,"
	"  price_input REAL, price_output REAL, price_cached REAL,"
	"  currency TEXT,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  UNIQUE (kind, name)"
	");",
	/* 6: what LLM calls cost (SPEC.md §9). A job keeps its running cost
	 * beside its tokens: cost_state 0 = no call counted, 1 = cost_amount
	 * in cost_currency, 2 = unknown (a call without a price, or two
	 * currencies); the order of enum dgen_cost_state. A record keeps the
	 * usage of its execution (JSON, as usage_to_json writes it). */
	"ALTER TABLE jobs ADD COLUMN cost_state INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN cost_amount REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN cost_currency TEXT;"
	"ALTER TABLE records ADD COLUMN usage TEXT;",
	/* 7: models have owners (SPEC.md §8): NULL = global (made by an
	 * admin, usable by all), else the member who made it. The table is
	 * remade (sqlite cannot drop a UNIQUE constraint): a name is unique
	 * among the global models and among each member's own; the rule that
	 * a member's name differs from every global one is kept by the
	 * writes (saved_models.c). */
	"CREATE TABLE models_new ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('llm','embedding')),"
	"  name TEXT NOT NULL,"
	"  provider TEXT NOT NULL,"
	"  endpoint TEXT NOT NULL,"
	"  model_name TEXT NOT NULL,"
	"  api_key BLOB,"
	"  api_key_last4 TEXT,"
	"  is_default INTEGER NOT NULL DEFAULT 0,"
	"  dimensions INTEGER NOT NULL DEFAULT 0,"
	"  max_in_flight INTEGER NOT NULL DEFAULT 0,"
	"  requests_per_minute INTEGER NOT NULL DEFAULT 0,"
	"  tokens_per_minute INTEGER NOT NULL DEFAULT 0,"
	"  price_input REAL, price_output REAL, price_cached REAL,"
	"  currency TEXT,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE"
	");"
	"INSERT INTO models_new (id, kind, name, provider, endpoint, model_name, api_key,"
	"  api_key_last4, is_default, dimensions, max_in_flight, requests_per_minute,"
	"  tokens_per_minute, price_input, price_output, price_cached, currency, created_at,"
	"  updated_at) SELECT id, kind, name, provider, endpoint, model_name, api_key,"
	"  api_key_last4, is_default, dimensions, max_in_flight, requests_per_minute,"
	"  tokens_per_minute, price_input, price_output, price_cached, currency, created_at,"
	"  updated_at FROM models;"
	"DROP TABLE models;"
	"ALTER TABLE models_new RENAME TO models;"
	"CREATE UNIQUE INDEX models_owner_name ON models(kind, coalesce(owner_id, 0), name);",
	/* 8: the records' status rule as comparisons. sqlite checks an IN
	 * list by building a table of it, at every insert: a tenth of the
	 * runner's instructions a record. The rule is the same, so the
	 * table's text is changed in place, which sqlite allows for a CHECK
	 * that every row meets already (lang_altertable.html, "Making Other
	 * Kinds Of Table Schema Changes"); schema_version moves on after it,
	 * as after every step (db_sqlite.c), so every connection reads the
	 * schema again.
	 * PostgreSQL has nothing to change (stmt_pg.c). */
	"PRAGMA writable_schema=ON;"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	"  'CHECK (status IN    (''pending'',''accepted'',''rejected'',''edited''))',"
	"  'CHECK (status = ''pending'' OR status = ''accepted'' OR status = ''rejected''"
	" OR status = ''edited'')')"
	" WHERE type = 'table' AND name = 'records';"
	"PRAGMA writable_schema=OFF;",
	/* 9: two indexes of records that no sqlite query plan uses. Every
	 * statement filters the owner and the status as "(?n IS NULL OR
	 * owner_id = ?n)", which sqlite cannot look up in an index (the
	 * planner does not know ?n when it prepares), so records_owner was
	 * never read; records_status only ordered the one count over all
	 * records by status, which reads every row of the table anyway.
	 * Every record insert paid for both (and the runner's every commit
	 * wrote two more pages). PostgreSQL plans with the values bound and
	 * may use them: it keeps both (stmt_pg.c). */
	"DROP INDEX IF EXISTS records_owner;"
	"DROP INDEX IF EXISTS records_status;",
};

int migrate_latest(void)
{
	return (int)(sizeof(steps) / sizeof(steps[0]));
}

int migrate_version(struct dgen_db *db, int *version, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_USER_VERSION, err, "");

	if (!st || db_step_must(db, st, DGEN_EIO, "Cannot read the schema version", err) < 0)
		return -1;
	*version = (int)db_col_int(st, 0);
	db_reset(st);
	return 0;
}

static int newer(int version, int latest, struct dgen_err *err)
{
	return dgen_err_set(err, DGEN_EIO,
			    "Database schema version %d is newer than this dgen (%d); upgrade dgen",
			    version, latest);
}

/* Inside the write transaction: re-reads the version (another process may
 * have migrated meanwhile) and runs the steps still due. */
static int apply_steps(struct dgen_db *db, int latest, int *applied, struct dgen_err *err)
{
	int version, i;

	if (db_lock_schema(db, err) < 0 || migrate_version(db, &version, err) < 0)
		return -1;
	if (version > latest)
		return newer(version, latest, err);
	for (i = version; i < latest; i++) {
		if (db_exec_step(db, i, steps[i], err) < 0)
			return -1;
		(*applied)++;
	}
	/* The version changes in this same transaction, so a crash leaves
	 * either all or none. */
	return db_set_schema_version(db, latest, err);
}

/*
 * Reads the version without a lock first: on an up-to-date database (every
 * start of every process, every CGI request) that is all it costs. Only
 * when steps are due does it take the write lock, then re-reads the
 * version inside the transaction, since another process may have migrated
 * in between; so concurrent starts apply each step exactly once.
 */
int migrate_run(struct dgen_db *db, int *applied, struct dgen_err *err)
{
	int latest = migrate_latest();
	int version, n = 0;

	if (applied)
		*applied = 0;
	if (migrate_version(db, &version, err) < 0)
		return -1;
	if (version > latest)
		return newer(version, latest, err);
	if (version == latest)
		return 0;
	if (db_begin(db, err) < 0 || db_end(db, apply_steps(db, latest, &n, err), err) < 0)
		return -1;
	if (applied)
		*applied = n;
	return 0;
}
