/*
 * jobstate.h - the job-wide state of block.h (struct dgen_jobstate_ops)
 * kept in memory, for runs with no store behind them (`dgen run`): the
 * NearDuplicate index of one run, guarded by one lock so that concurrent
 * executions check and add atomically. The runner keeps the same state in
 * the store instead (neardup.h), so it survives restarts.
 *
 * Ownership: jobstate_mem_new() / jobstate_mem_free(); the ops table is
 * static. Pass the object as the context's jobstate_arg.
 */
#ifndef DGEN_JOBSTATE_H
#define DGEN_JOBSTATE_H

#include "dgen/block.h"

struct dgen_jobstate_mem;

extern const struct dgen_jobstate_ops jobstate_mem_ops;

struct dgen_jobstate_mem *jobstate_mem_new(void);
void jobstate_mem_free(struct dgen_jobstate_mem *m);

#endif
