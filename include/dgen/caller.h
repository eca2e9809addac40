/*
 * caller.h - who is asking: the one small struct the API hands to every
 * store query of pipelines, jobs and records (SPEC.md §8, DESIGN.md §9).
 *
 * A member's id is bound into the SQL of each query, so rows of other
 * users are never read at all (a foreign id answers like a missing one).
 * An admin sees everything; a NULL caller is the administrator's own
 * tools (CLI, runner), which see everything too.
 *
 * Ownership: plain values, copied freely.
 */
#ifndef DGEN_CALLER_H
#define DGEN_CALLER_H

#include <stdbool.h>
#include <stdint.h>

struct dgen_caller {
	int64_t user_id;
	bool admin;
};

/* The owner filter of a query made for who: the member's id, or 0 (any
 * owner: bound as SQL NULL) for an admin or a NULL caller. */
static inline int64_t dgen_caller_scope(const struct dgen_caller *who)
{
	return who && !who->admin ? who->user_id : 0;
}

/* The owner a new row gets: the caller's id, or 0 (no owner) for NULL. */
static inline int64_t dgen_caller_owner(const struct dgen_caller *who)
{
	return who ? who->user_id : 0;
}

#endif
