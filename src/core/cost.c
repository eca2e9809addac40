/*
 * cost.c - what LLM calls cost in money (see cost.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/cost.h"
#include "dgen/json.h"

void cost_price_set(struct dgen_price *p, bool known, double input, double output,
		    double cached, const char *currency)
{
	memset(p, 0, sizeof *p);
	if (!known || !currency || !*currency)
		return;
	p->known = true;
	p->input = input;
	p->output = output;
	p->cached = cached;
	snprintf(p->currency, sizeof p->currency, "%s", currency);
}

bool cost_price_equal(const struct dgen_price *a, const struct dgen_price *b)
{
	if (a->known != b->known)
		return false;
	return !a->known || (a->input == b->input && a->output == b->output &&
			     a->cached == b->cached && strcmp(a->currency, b->currency) == 0);
}

void cost_of_call(const struct dgen_price *p, int64_t input_tokens, int64_t output_tokens,
		  int64_t cached_tokens, struct dgen_cost *out)
{
	int64_t fresh = input_tokens - cached_tokens;

	memset(out, 0, sizeof *out);
	if (!p || !p->known) {
		out->state = DGEN_COST_UNKNOWN;
		return;
	}
	if (fresh < 0)
		fresh = 0;
	out->state = DGEN_COST_KNOWN;
	out->amount = ((double)fresh * p->input +
		       (double)cached_tokens * (p->cached >= 0 ? p->cached : p->input) +
		       (double)output_tokens * p->output) / 1e6;
	memcpy(out->currency, p->currency, sizeof out->currency);
}

void cost_add(struct dgen_cost *dst, const struct dgen_cost *src)
{
	if (src->state == DGEN_COST_NONE || dst->state == DGEN_COST_UNKNOWN)
		return;
	if (dst->state == DGEN_COST_NONE) {
		*dst = *src;
		return;
	}
	if (src->state == DGEN_COST_UNKNOWN || strcmp(dst->currency, src->currency) != 0) {
		memset(dst, 0, sizeof *dst);
		dst->state = DGEN_COST_UNKNOWN;
		return;
	}
	dst->amount += src->amount;
}

struct json_object *cost_to_json(const struct dgen_cost *c)
{
	struct json_object *o;

	if (c->state != DGEN_COST_KNOWN)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "amount", dgen_json_new_double(c->amount));
	json_object_object_add(o, "currency", json_object_new_string(c->currency));
	return o;
}

struct json_object *cost_usage_json(int64_t input_tokens, int64_t output_tokens,
				    int64_t cached_tokens, const struct dgen_cost *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "input_tokens", json_object_new_int64(input_tokens));
	json_object_object_add(o, "output_tokens", json_object_new_int64(output_tokens));
	json_object_object_add(o, "cached_tokens", json_object_new_int64(cached_tokens));
	json_object_object_add(o, "cost", cost_to_json(c));
	return o;
}

void cost_usage_put(struct dgen_buf *b, int64_t input_tokens, int64_t output_tokens,
		    int64_t cached_tokens, const struct dgen_cost *c)
{
	char txt[40];

	dgen_buf_printf(b, "{\"input_tokens\":%" PRId64 ",\"output_tokens\":%" PRId64
			",\"cached_tokens\":%" PRId64 ",\"cost\":", input_tokens, output_tokens,
			cached_tokens);
	if (c->state != DGEN_COST_KNOWN) {
		dgen_buf_puts(b, "null}");
		return;
	}
	dgen_buf_puts(b, "{\"amount\":");
	dgen_buf_puts(b, dgen_json_double_text(c->amount, txt) ? txt : "null");
	dgen_buf_puts(b, ",\"currency\":");
	dgen_json_put_string(b, c->currency, strlen(c->currency));
	dgen_buf_puts(b, "}}");
}
