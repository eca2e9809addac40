/*
 * neardup.c - the near-duplicate index of a job (see neardup.h).
 */
#include <string.h>

#include "dgen/neardup.h"
#include "stmt.h"

struct best {
	int64_t seq, unit;
	double sim;
};

/* Compares the candidates of one band key with sig. */
static int band(struct dgen_db *db, int64_t job_id, uint64_t key, int64_t before,
		const uint32_t *sig, size_t n_sig, double threshold, struct best *b,
		struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_ND_CANDIDATES, err, "iii", job_id, (int64_t)key, before);
	int rc;

	if (!st)
		return -1;
	while ((rc = db_step(db, st, err)) == DB_ROW) {
		const void *blob = db_col_blob(st, 2);
		size_t len = db_col_len(st, 2), eq = 0;
		int64_t seq = db_col_int(st, 0);
		double sim;

		if (len != n_sig * sizeof(uint32_t) || !blob)
			continue; /* a signature of another size: another configuration */
		for (size_t i = 0; i < n_sig; i++) {
			uint32_t x;

			memcpy(&x, (const char *)blob + i * sizeof x, sizeof x);
			eq += x == sig[i];
		}
		sim = n_sig ? (double)eq / (double)n_sig : 0;
		if (sim >= threshold && (sim > b->sim || (sim == b->sim && seq < b->seq))) {
			b->sim = sim;
			b->seq = seq;
			b->unit = db_col_int(st, 1);
		}
	}
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

/* Inside the transaction: where this unit stands, the best earlier match,
 * then the unit's own rows when it had none. */
static int check_in_tx(struct dgen_db *db, int64_t job_id, int64_t unit, const uint32_t *sig,
		       size_t n_sig, const uint64_t *keys, size_t n_keys, double threshold,
		       struct best *b, struct dgen_err *err)
{
	struct dgen_stmt *st = db_query(db, STMT_ND_OWN, err, "ii", job_id, unit);
	int64_t own = INT64_MAX, seq;
	int found;

	if (!st || (found = db_step_one(db, st, err)) < 0)
		return -1;
	if (found) {
		own = db_col_int(st, 0);
		db_reset(st);
	}
	for (size_t k = 0; k < n_keys; k++)
		if (band(db, job_id, keys[k], own, sig, n_sig, threshold, b, err) != 0)
			return -1;
	if (found)
		return 0;
	if (db_insert(db, STMT_ND_SIG_INSERT, &seq, err, "iib", job_id, unit, (const void *)sig,
		      n_sig * sizeof(uint32_t)) != 0)
		return -1;
	for (size_t k = 0; k < n_keys; k++)
		if (db_run(db, STMT_ND_BAND_INSERT, err, "iii", job_id, (int64_t)keys[k], unit) < 0)
			return -1;
	return 0;
}

int neardup_check(struct dgen_db *db, int64_t job_id, int64_t unit, const uint32_t *sig,
		  size_t n_sig, const uint64_t *keys, size_t n_keys, double threshold,
		  int64_t *dup_unit, int64_t *dup_record, double *similarity, struct dgen_err *err)
{
	struct best b = { INT64_MAX, -1, 0 };
	struct dgen_stmt *st;
	int rc;

	*dup_unit = *dup_record = -1;
	*similarity = 0;
	if (db_begin(db, err) < 0)
		return -1;
	/* each check of a job sees every earlier one (PostgreSQL needs it) */
	rc = db_lock(db, DB_LOCK_NEARDUP, job_id, err);
	if (rc == 0)
		rc = check_in_tx(db, job_id, unit, sig, n_sig, keys, n_keys, threshold, &b, err);
	if (rc == 0 && b.unit >= 0) {
		int got = (st = db_query(db, STMT_ND_RECORD, err, "ii", job_id, b.unit)) ?
			  db_step_one(db, st, err) : -1;

		if (got < 0)
			rc = -1;
		else if (got) {
			*dup_record = db_col_int(st, 0);
			db_reset(st);
		}
	}
	if (db_end(db, rc, err) < 0)
		return -1;
	if (b.unit >= 0) {
		*dup_unit = b.unit;
		*similarity = b.sim;
	}
	return 0;
}
