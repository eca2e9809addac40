/*
 * neardup.h - NearDuplicate's index of a job, kept in the store so it
 * survives runner restarts and is shared by every runner of the job.
 *
 * Each checked record leaves its MinHash signature (in check order) and
 * one row per LSH band key. A check reads only the records sharing a band
 * key with the new one (sub-linear: the band rows are indexed by job and
 * key), compares signatures, and adds the new record, all in one
 * BEGIN IMMEDIATE transaction: two units of a job checking at once are
 * serialised, so of two equal records exactly one is first. A unit checked
 * again (its execution was lost in a crash) keeps its place: it is
 * compared only with the records checked before its first check, and
 * nothing is added twice.
 *
 * Ownership: the caller owns sig and keys; nothing is allocated for it.
 */
#ifndef DGEN_NEARDUP_H
#define DGEN_NEARDUP_H

#include <stddef.h>
#include <stdint.h>

#include "dgen/db.h"
#include "dgen/err.h"

/* Checks unit of job_id (signature sig[0..n_sig), band keys
 * keys[0..n_keys)) against the job's earlier records and adds it.
 * *dup_unit: the unit of the most similar earlier record whose signature
 * agrees on >= threshold of its entries (ties: the earliest), else -1;
 * *dup_record: that unit's record id when stored already, else -1;
 * *similarity: that share (0 when none). Errors: the store's (DGEN_EBUSY,
 * DGEN_ENOTFOUND for an unknown job, DGEN_EIO). */
int neardup_check(struct dgen_db *db, int64_t job_id, int64_t unit, const uint32_t *sig,
		  size_t n_sig, const uint64_t *keys, size_t n_keys, double threshold,
		  int64_t *dup_unit, int64_t *dup_record, double *similarity, struct dgen_err *err);

#endif
