/*
 * ragas_metrics.c - RagasMetrics (DataGenFlow 1.3): the four RAGAS metrics
 * computed in C over dgen's own LLM and embeddings clients.
 *
 *   faithfulness      the LLM splits the answer into standalone statements,
 *                     then gives each a verdict (1: the contexts support it)
 *   answer_relevancy  the LLM writes up to 3 questions the answer answers and
 *                     says whether it is noncommittal; the mean cosine of
 *                     their embeddings to the question's (0 if noncommittal)
 *   context_precision one verdict per context (1: useful to reach the ground
 *                     truth), scored as average precision in context order
 *   context_recall    the LLM splits the ground truth into sentences and
 *                     says of each whether the contexts support it
 * The arithmetic is ragas_score.h. Each metric needs its fields (question
 * and answer; contexts; ground truth): a missing or empty one is a block
 * error naming the field. Output: ragas_scores {<metric>: score rounded
 * to 4 decimals, ..., "passed": every non-zero score >= score_threshold
 * and at least one non-zero}.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/blockctx.h"
#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/buf.h"
#include "dgen/json.h"
#include "dgen/ragas_score.h"

static const char *const inputs[] = { "*", NULL };
static const char *const outputs[] = { "ragas_scores", NULL };
static const char *const metric_names[] = { "faithfulness", "answer_relevancy",
					    "context_precision", "context_recall", NULL };

#define MAX_ITEMS 64 /* statements, questions, contexts, sentences */
#define RAGAS_TEMPERATURE 0.0
#define RAGAS_MAX_TOKENS 2048

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAM_FIELD("question_field", "question",
			      "Field holding the question"),
	BLOCKUTIL_PARAM_FIELD("answer_field", "answer",
			      "Field holding the answer"),
	BLOCKUTIL_PARAM_FIELD("contexts_field", "contexts",
			      "Field holding the retrieved contexts (a list of texts, or one text)"),
	BLOCKUTIL_PARAM_FIELD("ground_truth_field", "ground_truth",
			      "Field holding the expected answer"),
	BLOCKUTIL_PARAM("metrics", DGEN_PARAM_STRING_LIST, "[\"faithfulness\"]",
			"Metrics to compute: faithfulness, answer_relevancy, context_precision, "
			"context_recall"),
	BLOCKUTIL_PARAM("score_threshold", DGEN_PARAM_NUMBER, "0.5",
			"Least score (0 to 1) every non-zero metric needs to pass"),
	BLOCKUTIL_PARAM_MODEL("model",
			      "LLM for statements and verdicts; null uses the default"),
	BLOCKUTIL_PARAM_MODEL("embedding_model",
			      "Embedding model for answer_relevancy; null uses the default"),
};

static const char SYSTEM[] = "You evaluate question answering for a RAG system. Answer with JSON only.";

static const char STATEMENTS_SCHEMA[] =
	"{\"title\":\"statements\",\"type\":\"object\",\"properties\":{\"statements\":{\"type\":\"array\","
	"\"items\":{\"type\":\"string\"}}},\"required\":[\"statements\"],\"additionalProperties\":false}";
static const char VERDICTS_SCHEMA[] =
	"{\"title\":\"verdicts\",\"type\":\"object\",\"properties\":{\"verdicts\":{\"type\":\"array\","
	"\"items\":{\"type\":\"object\",\"properties\":{\"statement\":{\"type\":\"string\"},\"reason\":"
	"{\"type\":\"string\"},\"verdict\":{\"type\":\"integer\",\"enum\":[1,0]}},\"required\":"
	"[\"statement\",\"reason\",\"verdict\"],\"additionalProperties\":false}}},\"required\":"
	"[\"verdicts\"],\"additionalProperties\":false}";
static const char QUESTIONS_SCHEMA[] =
	"{\"title\":\"questions\",\"type\":\"object\",\"properties\":{\"questions\":{\"type\":\"array\","
	"\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"string\"}},\"noncommittal\":{\"type\":"
	"\"integer\",\"enum\":[0,1]}},\"required\":[\"questions\",\"noncommittal\"],"
	"\"additionalProperties\":false}";
static const char USEFUL_SCHEMA[] =
	"{\"title\":\"usefulness\",\"type\":\"object\",\"properties\":{\"reason\":{\"type\":\"string\"},"
	"\"verdict\":{\"type\":\"integer\",\"enum\":[1,0]}},\"required\":[\"reason\",\"verdict\"],"
	"\"additionalProperties\":false}";
static const char RECALL_SCHEMA[] =
	"{\"title\":\"attribution\",\"type\":\"object\",\"properties\":{\"classifications\":{\"type\":"
	"\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"statement\":{\"type\":\"string\"},"
	"\"reason\":{\"type\":\"string\"},\"attributed\":{\"type\":\"integer\",\"enum\":[1,0]}},"
	"\"required\":[\"statement\",\"reason\",\"attributed\"],\"additionalProperties\":false}}},"
	"\"required\":[\"classifications\"],\"additionalProperties\":false}";

struct inputs_ {
	const char *question, *answer, *truth;
	char *owned[3];
	char **contexts;
	size_t n_contexts;
};

static int ragas_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct json_object *m = NULL;
	double t = blockutil_cfg_num(config, "score_threshold", 0.5);

	*state = NULL;
	if (!(t >= 0 && t <= 1))
		return blockutil_config_error(err, "score_threshold",
					      "score_threshold must be between 0 and 1");
	if (!json_object_object_get_ex(config, "metrics", &m) || json_object_array_length(m) == 0)
		return blockutil_config_error(err, "metrics", "metrics must name at least one of "
					      "faithfulness, answer_relevancy, context_precision, "
					      "context_recall");
	for (size_t i = 0; i < json_object_array_length(m); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(m, i));
		bool known = false;

		for (size_t k = 0; metric_names[k]; k++)
			known |= strcmp(n, metric_names[k]) == 0;
		if (!known)
			return blockutil_config_error(err, "metrics", "metrics: unknown metric '%s' "
						      "(faithfulness, answer_relevancy, "
						      "context_precision, context_recall)", n);
	}
	return 0;
}

static bool wants(struct json_object *config, const char *metric)
{
	struct json_object *m = NULL;

	json_object_object_get_ex(config, "metrics", &m);
	for (size_t i = 0; i < json_object_array_length(m); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(m, i)), metric) == 0)
			return true;
	return false;
}

/* The non-empty text of the field config key names; NULL when missing. */
static const char *text_of(struct json_object *config, const char *key, const char *dflt,
			   struct json_object *input, char **owned)
{
	size_t len;
	const char *f = blockutil_cfg_str(config, key);
	struct json_object *v = blockutil_field(input, f ? f : dflt);
	const char *t;

	*owned = NULL;
	if (!v)
		return NULL;
	t = blockutil_text(v, &len, owned);
	return len ? t : NULL;
}

static int missing(struct dgen_err *err, struct json_object *config, const char *key,
		   const char *dflt, const char *metric)
{
	const char *f = blockutil_cfg_str(config, key);

	dgen_err_set(err, DGEN_EBLOCK, "%s needs the field '%s' (%s), which is missing or empty",
		     metric, f ? f : dflt, key);
	dgen_err_detail_str(err, "field", f ? f : dflt);
	return -1;
}

/* Contexts: a list (each item's text), a JSON text of a list, or one text. */
static void read_contexts(struct json_object *v, struct inputs_ *in)
{
	struct json_object *list = NULL;
	struct dgen_err e = DGEN_ERR_INIT;

	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (dgen_json_parse(s, strlen(s), &dgen_json_default_limits, &list, &e) != 0 ||
		    !json_object_is_type(list, json_type_array)) {
			json_object_put(list);
			list = NULL;
			if (*s) {
				in->contexts = dgen_xcalloc(1, sizeof(char *));
				in->contexts[in->n_contexts++] = dgen_xstrdup(s);
			}
		}
		dgen_err_clear(&e);
	} else if (json_object_is_type(v, json_type_array)) {
		list = json_object_get(v);
	}
	if (!list)
		return;
	in->contexts = dgen_xcalloc(json_object_array_length(list) + 1, sizeof(char *));
	for (size_t i = 0; i < json_object_array_length(list) && in->n_contexts < MAX_ITEMS; i++) {
		char *owned;
		size_t len;
		const char *t = blockutil_text(json_object_array_get_idx(list, i), &len, &owned);

		if (len)
			in->contexts[in->n_contexts++] = owned ? owned : dgen_xstrdup(t);
		else
			free(owned);
	}
	json_object_put(list);
}

static void put_contexts(struct dgen_buf *b, const struct inputs_ *in)
{
	for (size_t i = 0; i < in->n_contexts; i++)
		dgen_buf_printf(b, "[%zu] %s\n", i + 1, in->contexts[i]);
}

/* A 0/1 verdict: an integer, a boolean, or "yes"/"no"/"1"/"0". */
static int binary(struct json_object *o, const char *key, int *out, struct dgen_err *err)
{
	struct json_object *v = NULL;
	const char *s;

	if (json_object_object_get_ex(o, key, &v)) {
		if (json_object_is_type(v, json_type_int) &&
		    (json_object_get_int64(v) == 0 || json_object_get_int64(v) == 1)) {
			*out = (int)json_object_get_int64(v);
			return 0;
		}
		if (json_object_is_type(v, json_type_boolean)) {
			*out = json_object_get_boolean(v);
			return 0;
		}
		s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		if (!strcasecmp(s, "yes") || !strcmp(s, "1")) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, "no") || !strcmp(s, "0")) {
			*out = 0;
			return 0;
		}
	}
	dgen_err_set(err, DGEN_EBLOCK, "the model's reply has no 0/1 '%s'", key);
	dgen_err_detail_str(err, "field", key);
	return -1;
}

static int ask(struct dgen_block_ctx *ctx, struct json_object *config, const char *schema_text,
	       const char *prompt, struct json_object **out, struct dgen_err *err)
{
	struct json_object *schema = json_tokener_parse(schema_text);
	int rc = blockctx_ask_object(ctx, config, SYSTEM, prompt, RAGAS_TEMPERATURE,
				     RAGAS_MAX_TOKENS, schema, out, err);

	json_object_put(schema);
	return rc;
}

/* The array under key in a reply (a block error naming it otherwise). */
static struct json_object *reply_list(struct json_object *reply, const char *key,
				      struct dgen_err *err)
{
	struct json_object *a = NULL;

	if (!json_object_object_get_ex(reply, key, &a) || !json_object_is_type(a, json_type_array)) {
		dgen_err_set(err, DGEN_EBLOCK, "the model's reply has no '%s' list", key);
		dgen_err_detail_str(err, "field", key);
		return NULL;
	}
	return a;
}

/* Binary verdicts under item key of every object of list into v (at most
 * MAX_ITEMS); *n receives the count. */
static int verdicts(struct json_object *list, const char *key, int *v, size_t *n,
		    struct dgen_err *err)
{
	*n = 0;
	for (size_t i = 0; i < json_object_array_length(list) && *n < MAX_ITEMS; i++)
		if (binary(json_object_array_get_idx(list, i), key, &v[(*n)++], err) != 0)
			return -1;
	return 0;
}

/* One LLM call whose reply holds a list (list_key) of objects with a 0/1
 * verdict (item_key); *score is the share of 1s. */
static int verdict_share(struct dgen_block_ctx *ctx, struct json_object *config,
			 const char *schema, const char *prompt, const char *list_key,
			 const char *item_key, double *score, struct dgen_err *err)
{
	struct json_object *r = NULL, *list;
	int v[MAX_ITEMS];
	size_t n = 0;
	int rc = -1;

	if (ask(ctx, config, schema, prompt, &r, err) == 0 && (list = reply_list(r, list_key, err)) &&
	    verdicts(list, item_key, v, &n, err) == 0) {
		*score = ragas_share(v, n);
		rc = 0;
	}
	json_object_put(r);
	return rc;
}

static int faithfulness(struct dgen_block_ctx *ctx, struct json_object *config,
			const struct inputs_ *in, double *score, struct dgen_err *err)
{
	struct dgen_buf p = DGEN_BUF_INIT;
	struct json_object *r1 = NULL, *st;
	int rc = -1;

	dgen_buf_printf(&p, "Break the answer to the question into standalone statements, each "
			"understandable without the others and without pronouns.\n\nQuestion: %s\n\n"
			"Answer: %s\n\nReply as {\"statements\": [...]}.", in->question, in->answer);
	if (ask(ctx, config, STATEMENTS_SCHEMA, dgen_buf_str(&p), &r1, err) || !(st = reply_list(r1, "statements", err)))
		goto out;
	*score = 0;
	rc = 0;
	if (json_object_array_length(st) == 0)
		goto out;
	p.len = 0;
	dgen_buf_puts(&p, "Judge each statement against the context: verdict 1 if it can be "
			 "directly inferred from the context, else 0.\n\nContext:\n");
	put_contexts(&p, in);
	dgen_buf_puts(&p, "\nStatements:\n");
	for (size_t i = 0; i < json_object_array_length(st) && i < MAX_ITEMS; i++)
		dgen_buf_printf(&p, "- %s\n", json_object_get_string(json_object_array_get_idx(st, i)));
	dgen_buf_puts(&p, "\nReply as {\"verdicts\": [{\"statement\", \"reason\", \"verdict\"}, ...]}, "
			 "one per statement, in order.");
	rc = verdict_share(ctx, config, VERDICTS_SCHEMA, dgen_buf_str(&p), "verdicts", "verdict", score, err);
out:
	json_object_put(r1);
	dgen_buf_free(&p);
	return rc;
}

static int answer_relevancy(struct dgen_block_ctx *ctx, struct json_object *config,
			    const struct inputs_ *in, double *score, struct dgen_err *err)
{
	struct dgen_buf p = DGEN_BUF_INIT;
	struct json_object *r = NULL, *qs;
	const char *texts[1 + 3];
	double *vecs = NULL;
	size_t n = 0, dim = 0;
	int nc = 0, rc = -1;

	dgen_buf_printf(&p, "Write up to 3 questions that the answer below answers, and say whether "
			"the answer is noncommittal (evasive or vague, like \"I don't know\"): 1 if so, "
			"else 0.\n\nAnswer: %s\n\nReply as {\"questions\": [...], \"noncommittal\": 0 or 1}.",
			in->answer);
	if (ask(ctx, config, QUESTIONS_SCHEMA, dgen_buf_str(&p), &r, err) ||
	    !(qs = reply_list(r, "questions", err)) || binary(r, "noncommittal", &nc, err))
		goto out;
	texts[n++] = in->question;
	for (size_t i = 0; i < json_object_array_length(qs) && n < 4; i++) {
		struct json_object *q = json_object_array_get_idx(qs, i);

		if (json_object_is_type(q, json_type_string) && json_object_get_string_len(q) > 0)
			texts[n++] = json_object_get_string(q);
	}
	if (n == 1) {
		*score = 0;
		rc = 0;
		goto out;
	}
	if (blockctx_embed(ctx, config, texts, n, &vecs, &dim, err) != 0)
		goto out;
	*score = ragas_answer_relevancy(vecs, vecs + dim, n - 1, dim, nc != 0);
	rc = 0;
out:
	free(vecs);
	json_object_put(r);
	dgen_buf_free(&p);
	return rc;
}

static int context_precision(struct dgen_block_ctx *ctx, struct json_object *config,
			     const struct inputs_ *in, double *score, struct dgen_err *err)
{
	int v[MAX_ITEMS];
	int rc = 0;

	for (size_t i = 0; i < in->n_contexts && rc == 0; i++) {
		struct dgen_buf p = DGEN_BUF_INIT;
		struct json_object *r = NULL;

		dgen_buf_printf(&p, "Was the context useful in arriving at the expected answer to the "
				"question? verdict 1 if so, else 0.\n\nQuestion: %s\n\nContext: %s\n\n"
				"Expected answer: %s\n\nReply as {\"reason\": \"...\", \"verdict\": 0 or 1}.",
				in->question, in->contexts[i], in->truth);
		rc = ask(ctx, config, USEFUL_SCHEMA, dgen_buf_str(&p), &r, err);
		if (rc == 0)
			rc = binary(r, "verdict", &v[i], err);
		json_object_put(r);
		dgen_buf_free(&p);
	}
	if (rc == 0)
		*score = ragas_average_precision(v, in->n_contexts);
	return rc;
}

static int context_recall(struct dgen_block_ctx *ctx, struct json_object *config,
			  const struct inputs_ *in, double *score, struct dgen_err *err)
{
	struct dgen_buf p = DGEN_BUF_INIT;
	int rc;

	dgen_buf_printf(&p, "Split the expected answer into sentences and say of each whether the "
			"context supports it: attributed 1 if so, else 0.\n\nQuestion: %s\n\nContext:\n",
			in->question);
	put_contexts(&p, in);
	dgen_buf_printf(&p, "\nExpected answer: %s\n\nReply as {\"classifications\": [{\"statement\", "
			"\"reason\", \"attributed\"}, ...]}.", in->truth);
	rc = verdict_share(ctx, config, RECALL_SCHEMA, dgen_buf_str(&p), "classifications",
			   "attributed", score, err);
	dgen_buf_free(&p);
	return rc;
}

/* Reads the fields each wanted metric needs, failing on the first missing. */
static int read_inputs(struct json_object *config, struct json_object *input, struct inputs_ *in,
		       struct dgen_err *err)
{
	bool f = wants(config, "faithfulness"), ar = wants(config, "answer_relevancy");
	bool cp = wants(config, "context_precision"), cr = wants(config, "context_recall");
	const char *first = f ? "faithfulness" : ar ? "answer_relevancy" :
			    cp ? "context_precision" : "context_recall";
	const char *cf = blockutil_cfg_str(config, "contexts_field");

	in->question = text_of(config, "question_field", "question", input, &in->owned[0]);
	if (!in->question)
		return missing(err, config, "question_field", "question", first);
	in->answer = text_of(config, "answer_field", "answer", input, &in->owned[1]);
	if (!in->answer && (f || ar))
		return missing(err, config, "answer_field", "answer", f ? "faithfulness" : "answer_relevancy");
	read_contexts(blockutil_field(input, cf ? cf : "contexts"), in);
	if (in->n_contexts == 0 && (f || cp || cr))
		return missing(err, config, "contexts_field", "contexts",
			       f ? "faithfulness" : cp ? "context_precision" : "context_recall");
	in->truth = text_of(config, "ground_truth_field", "ground_truth", input, &in->owned[2]);
	if (!in->truth && (cp || cr))
		return missing(err, config, "ground_truth_field", "ground_truth",
			       cp ? "context_precision" : "context_recall");
	return 0;
}

static int ragas_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
			 struct json_object *input, struct json_object **output,
			 struct dgen_err *err)
{
	static int (*const run[])(struct dgen_block_ctx *, struct json_object *,
				  const struct inputs_ *, double *, struct dgen_err *) = {
		faithfulness, answer_relevancy, context_precision, context_recall,
	};
	struct inputs_ in;
	struct json_object *scores = NULL;
	double thr = blockutil_cfg_num(config, "score_threshold", 0.5);
	bool any = false, all = true;
	int rc = -1;

	(void)state;
	memset(&in, 0, sizeof in);
	if (read_inputs(config, input, &in, err) != 0)
		goto out;
	scores = json_object_new_object();
	for (size_t k = 0; metric_names[k]; k++) {
		double s = 0;

		if (!wants(config, metric_names[k]))
			continue;
		if (run[k](ctx, config, &in, &s, err) != 0) {
			char msg[DGEN_ERR_MSG_MAX];

			snprintf(msg, sizeof msg, "%s", err->msg);
			dgen_err_set(err, err->code, "%s: %s", metric_names[k], msg);
			goto out;
		}
		s = round(s * 10000.0) / 10000.0;
		json_object_object_add(scores, metric_names[k], dgen_json_new_double(s));
		if (s > 0) {
			any = true;
			all = all && s >= thr;
		}
	}
	json_object_object_add(scores, "passed", json_object_new_boolean(any && all));
	rc = blockutil_output(output, "ragas_scores", scores, NULL);
	scores = NULL;
out:
	json_object_put(scores);
	for (size_t i = 0; i < 3; i++)
		free(in.owned[i]);
	for (size_t i = 0; i < in.n_contexts; i++)
		free(in.contexts[i]);
	free(in.contexts);
	return rc;
}

const struct dgen_block_type ragas_metrics_block = {
	BLOCKUTIL_TYPE("RagasMetrics", "Ragas Metrics", "metrics",
		       "RAGAS faithfulness, answer relevancy, context precision and context recall "
		       "of a question/answer/contexts record, with a pass flag"),
	.init = ragas_init,
	.execute = ragas_execute,
};
