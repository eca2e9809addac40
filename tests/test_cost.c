/* test_cost.c - what LLM calls cost: the price arithmetic, unknown as
 * null (never 0), mixed currencies, the cached price falling back to the
 * input price, and a model's price as the API reads it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/cost.h"
#include "dgen/json.h"
#include "dgen/model.h"
#include "tap.h"

static const char *text(struct json_object *o)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "%s", o ? dgen_json_compact(o) : "null");
	json_object_put(o);
	return buf;
}

static void arithmetic(void)
{
	struct dgen_price p;
	struct dgen_cost c;

	/* 1000 in (200 cached), 500 out at 2 / 8 / 0.5 per million */
	cost_price_set(&p, true, 2, 8, 0.5, "USD");
	cost_of_call(&p, 1000, 500, 200, &c);
	is_int(c.state, DGEN_COST_KNOWN, "a priced call has a known cost");
	is_dbl(c.amount, (800 * 2 + 200 * 0.5 + 500 * 8) / 1e6, 0, "fresh, cached and output tokens at their prices");
	is_str(text(cost_to_json(&c)), "{\"amount\":0.0057,\"currency\":\"USD\"}", "as JSON");

	cost_price_set(&p, true, 2, 8, -1, "USD");
	cost_of_call(&p, 1000, 500, 200, &c);
	is_dbl(c.amount, (1000 * 2 + 500 * 8) / 1e6, 0, "no cached price: cached input costs input's price");

	cost_price_set(&p, true, 2, 8, 0.5, "USD");
	cost_of_call(&p, 10, 0, 50, &c);
	is_dbl(c.amount, 50 * 0.5 / 1e6, 0, "more cached than input never makes fresh tokens negative");

	cost_of_call(NULL, 1000, 500, 0, &c);
	is_int(c.state, DGEN_COST_UNKNOWN, "no price: unknown");
	is_str(text(cost_to_json(&c)), "null", "unknown is null, not 0");
	cost_price_set(&p, true, 2, 8, 0, "");
	cost_of_call(&p, 1000, 500, 0, &c);
	is_int(c.state, DGEN_COST_UNKNOWN, "a price without a currency is no price");
	cost_price_set(&p, true, 0, 0, 0, "EUR");
	cost_of_call(&p, 1000, 500, 0, &c);
	is_str(text(cost_to_json(&c)), "{\"amount\":0.0,\"currency\":\"EUR\"}", "a free model costs a known 0");
}

static void sums(void)
{
	struct dgen_price usd, eur;
	struct dgen_cost a, b, sum = { 0 };

	cost_price_set(&usd, true, 1, 2, -1, "USD");
	cost_price_set(&eur, true, 1, 2, -1, "EUR");
	is_str(text(cost_to_json(&sum)), "null", "no call yet: null");
	cost_of_call(&usd, 1000000, 0, 0, &a);
	cost_of_call(&usd, 0, 1000000, 0, &b);
	cost_add(&sum, &a);
	cost_add(&sum, &b);
	is_str(text(cost_to_json(&sum)), "{\"amount\":3.0,\"currency\":\"USD\"}", "costs in one currency add up");
	memset(&b, 0, sizeof b);
	cost_add(&sum, &b);
	is_str(text(cost_to_json(&sum)), "{\"amount\":3.0,\"currency\":\"USD\"}", "adding no call changes nothing");

	cost_of_call(&eur, 1000000, 0, 0, &b);
	cost_add(&sum, &b);
	is_int(sum.state, DGEN_COST_UNKNOWN, "two currencies make the sum unknown");
	cost_add(&sum, &a);
	is_str(text(cost_to_json(&sum)), "null", "and it stays unknown");

	memset(&sum, 0, sizeof sum);
	cost_of_call(NULL, 10, 10, 0, &b);
	cost_add(&sum, &a);
	cost_add(&sum, &b);
	is_str(text(cost_to_json(&sum)), "null", "one call without a price makes the sum unknown");

	is_str(text(cost_usage_json(5, 6, 1, &a)),
	       "{\"input_tokens\":5,\"output_tokens\":6,\"cached_tokens\":1,\"cost\":{\"amount\":1.0,\"currency\":\"USD\"}}",
	       "a usage object carries its cost");
	{
		/* the record's usage is written as text (cost_usage_put): the
		 * same text as the object's, priced, unpriced, odd currency */
		struct dgen_cost odd = a, none = { 0 };
		const struct dgen_cost *costs[] = { &a, &none, &odd };
		bool same = true;

		snprintf(odd.currency, sizeof odd.currency, "\"x\\");
		for (size_t i = 0; i < 3; i++) {
			struct dgen_buf t = DGEN_BUF_INIT;
			struct json_object *o = cost_usage_json(5, 6, 1, costs[i]);

			cost_usage_put(&t, 5, 6, 1, costs[i]);
			if (strcmp(dgen_buf_str(&t), dgen_json_compact(o)) != 0) {
				diag("put %s, object %s", dgen_buf_str(&t), dgen_json_compact(o));
				same = false;
			}
			json_object_put(o);
			dgen_buf_free(&t);
		}
		ok(same, "the usage written as text is the usage object's text");
	}
}

static void model_prices(void)
{
	struct dgen_model m;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *body, *o;
	struct dgen_price p;
	bool key = false;

	body = json_tokener_parse("{\"name\":\"m\",\"provider\":\"openai\",\"endpoint\":\"http://h/\","
				  "\"model_name\":\"x\",\"price_per_mtok\":{\"input\":3,\"output\":15},"
				  "\"currency\":\"USD\"}");
	memset(&m, 0, sizeof m);
	ok(model_from_json(body, DGEN_MODEL_LLM, &m, &key, &err) == 0, "a price without a cached one is read (%s)", err.msg);
	model_price(&m, &p);
	ok(p.known && p.input == 3 && p.output == 15 && p.cached < 0 && strcmp(p.currency, "USD") == 0,
	   "the model's price, with no cached price of its own");
	o = model_to_json(&m, DGEN_MODEL_LLM);
	is_str(text(json_object_get(json_object_object_get(o, "price_per_mtok"))),
	       "{\"input\":3.0,\"output\":15.0,\"cached\":null}", "answers show the missing cached price as null");
	json_object_put(o);
	model_clear(&m);
	json_object_put(body);

	model_price(NULL, &p);
	ok(!p.known, "no model: no price");
	dgen_err_clear(&err);
}

int main(void)
{
	arithmetic();
	sums();
	model_prices();
	return done_testing();
}
