/*
 * cost.h - what LLM calls cost in money (SPEC.md §9 "Cost").
 *
 * A model may carry a price per million tokens (input, output and,
 * optionally, cached input) in one currency. Each call is priced by the
 * model that served it; costs then add up like token counts. A cost is
 * "unknown" as soon as one call contributing to it came from a model
 * without a price, or when calls in two currencies meet: unknown is
 * reported as null, never as 0. A sum of no calls at all has no currency
 * either, and is reported as null too.
 *
 * Ownership: plain values; JSON builders return one new reference.
 */
#ifndef DGEN_COST_H
#define DGEN_COST_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#define DGEN_CURRENCY_MAX 8

/* A model's price; known false = the model has none. cached < 0: no
 * price of its own for cached input, which then costs input's price. */
struct dgen_price {
	bool known;
	double input, output, cached;
	char currency[DGEN_CURRENCY_MAX + 1];
};

/* The order is the one the store keeps (jobs.cost_state). */
enum dgen_cost_state {
	DGEN_COST_NONE = 0,    /* no call counted yet */
	DGEN_COST_KNOWN = 1,   /* amount in currency */
	DGEN_COST_UNKNOWN = 2, /* a call without a price, or mixed currencies */
};

struct dgen_cost {
	enum dgen_cost_state state;
	double amount;
	char currency[DGEN_CURRENCY_MAX + 1];
};

/* The price p of a model (currency NULL or "" = unknown price). */
void cost_price_set(struct dgen_price *p, bool known, double input, double output,
		    double cached, const char *currency);
bool cost_price_equal(const struct dgen_price *a, const struct dgen_price *b);

/* The cost of one call of input tokens (cached ones included), cached_tokens
 * of them from a cache, and output tokens, at price p (NULL = unknown):
 * (input - cached) * p.input + cached * p.cached (p.input when it has none)
 * + output * p.output, per million tokens. */
void cost_of_call(const struct dgen_price *p, int64_t input_tokens, int64_t output_tokens,
		  int64_t cached_tokens, struct dgen_cost *out);

/* dst += src: unknown wins, two currencies make it unknown, none adds
 * nothing. */
void cost_add(struct dgen_cost *dst, const struct dgen_cost *src);

/* {"amount": <number>, "currency": "<code>"} when known, else JSON null
 * (a NULL pointer). */
struct json_object *cost_to_json(const struct dgen_cost *c);

/* The usage object of an execution: {"input_tokens", "output_tokens",
 * "cached_tokens", "cost"}. */
struct json_object *cost_usage_json(int64_t input_tokens, int64_t output_tokens,
				    int64_t cached_tokens, const struct dgen_cost *c);
/* Appends what dgen_json_compact() prints of cost_usage_json()'s object
 * to b, without making it. */
struct dgen_buf;
void cost_usage_put(struct dgen_buf *b, int64_t input_tokens, int64_t output_tokens,
		    int64_t cached_tokens, const struct dgen_cost *c);

#endif
