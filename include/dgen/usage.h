/*
 * usage.h - token usage sums and the run constraints of a pipeline.
 *
 * Constraints (SPEC.md §2) cap a job's total usage: tokens summed over
 * every LLM call of every execution, and wall time since the job started.
 * -1 means unlimited. The engine parses and checks them; the runner decides
 * when to stop (before it starts another execution).
 *
 * Ownership: plain values; JSON builders return one new reference.
 */
#ifndef DGEN_USAGE_H
#define DGEN_USAGE_H

#include <stdint.h>
#include <json-c/json.h>

#include "dgen/err.h"
#include "dgen/llm.h"

struct dgen_constraints {
	int64_t max_total_tokens;        /* input + output */
	int64_t max_total_input_tokens;
	int64_t max_total_output_tokens;
	int64_t max_total_cached_tokens;
	double max_total_execution_time; /* seconds */
};

/* dst += src, field by field; costs add as cost_add() says. */
void usage_add(struct dgen_llm_usage *dst, const struct dgen_llm_usage *src);
/* {"input_tokens", "output_tokens", "cached_tokens", "cost"}: cost is
 * {"amount", "currency"} or null (cost.h). */
struct json_object *usage_to_json(const struct dgen_llm_usage *u);
/* Reads the token counts of the same shape (missing fields are 0; the
 * cost is left unknown-free: none); DGEN_EBADREQ on a wrong type. */
int usage_from_json(struct json_object *o, struct dgen_llm_usage *u, struct dgen_err *err);

/* Every constraint unlimited. */
void constraints_init(struct dgen_constraints *c);
/* Reads a constraints object (NULL = none). Unknown keys, wrong types and
 * values below -1 are DGEN_EINVALID naming "<path>.<key>". */
int constraints_parse(struct json_object *obj, const char *path,
		      struct dgen_constraints *c, struct dgen_err *err);
/* Only the limited constraints, as an object. */
struct json_object *constraints_to_json(const struct dgen_constraints *c);
/* The name of the first constraint the totals have reached (total >= max),
 * or NULL when none has: the runner then ends the job "stopped" with
 * "Constraint exceeded: <name>". */
const char *constraints_exceeded(const struct dgen_constraints *c,
				 const struct dgen_llm_usage *total, double elapsed_seconds);

#endif
