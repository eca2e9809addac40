/*
 * fake_runner.c - plays the runner's side of the queue for the API tests
 * and benchmarks, through the store's queue functions only: claim a job,
 * store records or failures for its units, end it, beat the heartbeat.
 *
 *   fake_runner DB heartbeat
 *   fake_runner DB claim                 prints the claimed job id (0: none)
 *   fake_runner DB record JOB UNIT TEXT  one record for unit UNIT
 *   fake_runner DB fail JOB UNIT ERROR   one failed unit (block ValidatorBlock, step 1)
 *   fake_runner DB fill JOB N [BYTES]    records for units 0..N-1 (texts of BYTES)
 *   fake_runner DB scored JOB N [FIRST]  records for units FIRST..FIRST+N-1 (FIRST
 *                                        defaults to 0) in one transaction,
 *                                        state score = (unit % 100) / 100,
 *                                        output "... needle ..." every tenth unit
 *   fake_runner DB end JOB STATUS        completed | failed | cancelled | stopped
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/db.h"
#include "dgen/ids.h"
#include "dgen/jobs.h"
#include "dgen/queue.h"
#include "dgen/util.h"

static int die(const char *what, const struct dgen_err *e)
{
	fprintf(stderr, "fake_runner: %s: %s\n", what, e->msg);
	return 1;
}

static long long num(const char *s)
{
	long long v;

	if (dgen_parse_long(s, 0, 1LL << 62, &v) != 0) {
		fprintf(stderr, "fake_runner: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

/* One unit's record: metadata {"content"}, final state adds assistant and
 * valid, so an export line has an accumulated_state to show. */
static int store_record(struct dgen_db *db, long long job, long long unit, const char *text,
			struct dgen_err *err)
{
	struct dgen_unit_result r;
	char trace_id[DGEN_UUID_LEN];
	char *meta = dgen_xasprintf("{\"content\":\"seed %lld\"}", unit);
	char *state = dgen_xasprintf("{\"content\":\"seed %lld\",\"assistant\":\"%s\",\"valid\":true}",
				     unit, text);
	int rc;

	dgen_uuid4(trace_id);
	memset(&r, 0, sizeof r);
	r.unit = unit;
	r.seed_index = unit;
	r.repetition = 0;
	r.chunk_index = -1;
	r.trace = "[]";
	r.output = text;
	r.metadata = meta;
	r.accumulated_state = state;
	r.trace_id = trace_id;
	r.output_tokens = 3;
	r.input_tokens = 5;
	rc = queue_finish_unit(db, job, &r, NULL, NULL, err);
	free(meta);
	free(state);
	return rc;
}

/* N records with a numeric state (review at scale), in one transaction so
 * that 10 000 of them take a moment. */
static int store_scored(struct dgen_db *db, long long job, long long first, long long n,
			struct dgen_err *err)
{
	struct dgen_unit_result r;
	char out[96], state[128], trace[256];
	int rc = 0;

	if (db_begin(db, err) != 0)
		return -1;
	for (long long u = first; u < first + n && rc == 0; u++) {
		memset(&r, 0, sizeof r);
		snprintf(out, sizeof out, "scored record %lld%s", u, u % 10 ? "" : " with a needle");
		snprintf(state, sizeof state, "{\"score\":%.2f,\"length\":%lld,\"label\":\"x\"}",
			 (double)(u % 100) / 100, 10 + u % 7);
		r.unit = u;
		r.seed_index = u;
		r.chunk_index = -1;
		/* the UI reads the final state from the last trace entry */
		snprintf(trace, sizeof trace,
			 "[{\"block_type\":\"RougeScore\",\"input\":{},\"output\":{},"
			 "\"accumulated_state\":%s,\"execution_time\":0.001}]", state);
		r.trace = trace;
		r.output = out;
		r.metadata = "{}";
		r.accumulated_state = state;
		r.trace_id = "00000000-0000-4000-8000-000000000000";
		rc = queue_finish_unit(db, job, &r, NULL, NULL, err);
	}
	if (rc != 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, err);
}

int main(int argc, char **argv)
{
	struct dgen_db *db = NULL;
	struct dgen_err err = DGEN_ERR_INIT;
	const char *cmd;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: fake_runner DB COMMAND ...\n");
		return 2;
	}
	cmd = argv[2];
	if (db_open(&db, argv[1], 0, &err) != 0)
		return die("open", &err);
	if (strcmp(cmd, "heartbeat") == 0) {
		if (queue_heartbeat(db, "fake-runner", (long)getpid(), "localhost", &err) != 0)
			rc = die("heartbeat", &err);
	} else if (strcmp(cmd, "claim") == 0) {
		struct dgen_claim c;
		int got;

		memset(&c, 0, sizeof c);
		got = queue_claim(db, "fake-runner", 600000, &c, &err);
		if (got < 0)
			rc = die("claim", &err);
		else
			printf("%lld\n", got ? (long long)c.job_id : 0LL);
		if (got > 0)
			queue_claim_free(&c);
	} else if (strcmp(cmd, "record") == 0 && argc == 6) {
		if (store_record(db, num(argv[3]), num(argv[4]), argv[5], &err) != 0)
			rc = die("record", &err);
	} else if (strcmp(cmd, "fail") == 0 && argc == 6) {
		struct dgen_unit_result r;

		memset(&r, 0, sizeof r);
		r.unit = num(argv[4]);
		r.seed_index = r.unit;
		r.chunk_index = -1;
		r.failed = true;
		r.trace = "[{\"block_type\":\"ValidatorBlock\",\"input\":{},\"output\":null}]";
		r.block_type = "ValidatorBlock";
		r.step = 1;
		r.error = argv[5];
		if (queue_finish_unit(db, num(argv[3]), &r, NULL, NULL, &err) != 0)
			rc = die("fail", &err);
	} else if (strcmp(cmd, "fill") == 0 && (argc == 5 || argc == 6)) {
		long long job = num(argv[3]), n = num(argv[4]);
		char *text = NULL;

		if (argc == 6) {
			long long bytes = num(argv[5]);

			text = dgen_xmalloc((size_t)bytes + 1);
			memset(text, 'x', (size_t)bytes);
			text[bytes] = '\0';
		}
		for (long long u = 0; u < n && rc == 0; u++)
			if (store_record(db, job, u, text ? text :
					 "generated text of a moderate length for a record", &err) != 0)
				rc = die("fill", &err);
		free(text);
	} else if (strcmp(cmd, "scored") == 0 && (argc == 5 || argc == 6)) {
		if (store_scored(db, num(argv[3]), argc == 6 ? num(argv[5]) : 0, num(argv[4]),
				 &err) != 0)
			rc = die("scored", &err);
	} else if (strcmp(cmd, "end") == 0 && argc == 5) {
		enum dgen_job_status st;

		if (jobs_status_parse(argv[4], &st) != 0) {
			fprintf(stderr, "fake_runner: unknown status %s\n", argv[4]);
			rc = 2;
		} else if (queue_finish_job(db, num(argv[3]), st, NULL, &err) < 0) {
			rc = die("end", &err);
		}
	} else {
		fprintf(stderr, "fake_runner: bad command\n");
		rc = 2;
	}
	dgen_err_clear(&err);
	db_close(db);
	return rc;
}
