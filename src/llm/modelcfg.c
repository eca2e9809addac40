/*
 * modelcfg.c - named models and the clients that serve them (see
 * modelcfg.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/budget.h"
#include "dgen/clock.h"
#include "dgen/embed.h"
#include "dgen/llm.h"
#include "dgen/modelcfg.h"
#include "dgen/util.h"

/* The clients resolve endpoint paths and providers: make one and read
 * them back, so a bootstrapped model means exactly what the settings
 * meant. */
int modelcfg_from_config(const struct dgen_config *cfg, enum dgen_model_kind kind,
			 struct dgen_model *out, struct dgen_err *err)
{
	const char *key;

	memset(out, 0, sizeof *out);
	out->name = dgen_xstrdup("default");
	if (kind == DGEN_MODEL_EMBEDDING) {
		struct dgen_embed_client *c;

		if (embed_client_new(cfg, &c, err) != 0)
			return -1;
		out->provider = dgen_xstrdup(llm_provider_name(embed_client_provider(c)));
		out->endpoint = dgen_xstrdup(embed_client_endpoint(c));
		out->model_name = dgen_xstrdup(embed_client_model(c));
		out->dimensions = cfg->embedding_dimensions;
		embed_client_free(c);
		key = cfg->embedding_api_key && *cfg->embedding_api_key ? cfg->embedding_api_key
									: cfg->llm_api_key;
	} else {
		struct dgen_llm_client *c;

		if (llm_client_new(cfg, &c, err) != 0)
			return -1;
		out->provider = dgen_xstrdup(llm_provider_name(llm_client_provider(c)));
		out->endpoint = dgen_xstrdup(llm_client_endpoint(c));
		out->model_name = dgen_xstrdup(llm_client_model(c));
		llm_client_free(c);
		key = cfg->llm_api_key;
	}
	if (key && *key) {
		size_t n = strlen(key);

		out->api_key = dgen_xstrdup(key);
		out->api_key_last4 = dgen_xstrdup(key + (n > 4 ? n - 4 : 0));
	}
	out->is_default = true;
	return 0;
}

void modelcfg_config(const struct dgen_config *base, const struct dgen_model *m,
		     enum dgen_model_kind kind, struct dgen_config *out)
{
	*out = *base;
	/* a member's own model: its client checks where it connects */
	out->llm_guarded = m->owner_id != 0;
	if (kind == DGEN_MODEL_EMBEDDING) {
		out->embedding_endpoint = m->endpoint;
		out->embedding_api_key = m->api_key ? m->api_key : (char *)"";
		out->embedding_model = m->model_name;
		out->embedding_provider = m->provider;
		out->embedding_dimensions = m->dimensions;
		/* no fallback to the LLM key for a model saved without one */
		out->llm_api_key = (char *)"";
	} else {
		out->llm_endpoint = m->endpoint;
		out->llm_api_key = m->api_key ? m->api_key : (char *)"";
		out->llm_model = m->model_name;
		out->llm_provider = m->provider;
	}
}

/* The key is the model's name with what the provider counts a quota by
 * (endpoint, model id, a hash of the API key: never the key itself), so
 * a model edited to point elsewhere starts afresh. */
struct dgen_budget *modelcfg_budget(const struct dgen_model *m)
{
	struct dgen_budget_limits lim = { m->max_in_flight, m->requests_per_minute,
					  m->tokens_per_minute };
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	char *key;
	struct dgen_budget *b;

	for (const char *p = m->api_key ? m->api_key : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	key = dgen_xasprintf("%s\n%s\n%s\n%016llx", m->name ? m->name : "",
			     m->endpoint ? m->endpoint : "", m->model_name ? m->model_name : "",
			     (unsigned long long)h);
	b = budget_get(key, &lim);
	free(key);
	return b;
}

/* Why a call failed, in a few words of our own: the provider's body may
 * echo anything (a key, an internal address), so none of it is passed on. */
static void reason(const struct dgen_err *e, long status, char *msg, size_t msg_size)
{
	if (e->code == DGEN_EINVALID)
		snprintf(msg, msg_size, "invalid model settings: %s", e->msg);
	else if (status == 401 || status == 403)
		snprintf(msg, msg_size, "the endpoint refused the key (HTTP %ld)", status);
	else if (status == 404)
		snprintf(msg, msg_size, "the endpoint or model was not found (HTTP 404)");
	else if (status == 429)
		snprintf(msg, msg_size, "the endpoint is rate limiting (HTTP 429)");
	else if (status >= 200 && status < 300)
		snprintf(msg, msg_size, "the endpoint answered with a reply that could not be read");
	else if (status > 0)
		snprintf(msg, msg_size, "the endpoint answered HTTP %ld", status);
	else if (strstr(e->msg, " refused: it resolves to "))
		snprintf(msg, msg_size, "refused: the endpoint resolves to a loopback, link-local "
			 "or private address");
	else if (e->code == DGEN_ECANCELLED)
		snprintf(msg, msg_size, "no answer in time");
	else
		snprintf(msg, msg_size, "could not connect to the endpoint");
}

bool modelcfg_test(const struct dgen_config *base, const struct dgen_model *m,
		   enum dgen_model_kind kind, char *msg, size_t msg_size, long *latency_ms)
{
	struct dgen_config cfg;
	struct dgen_err err = DGEN_ERR_INIT;
	double t0 = dgen_clock_mono(), deadline = t0 + 30;
	long status = 0;
	int rc = -1;

	modelcfg_config(base, m, kind, &cfg);
	cfg.llm_max_retries = 0;
	cfg.llm_rate_limit_patience_ms = 0; /* a 429 is the answer, not a wait */
	if (cfg.llm_timeout_ms > 30000)
		cfg.llm_timeout_ms = 30000;
	if (kind == DGEN_MODEL_EMBEDDING) {
		struct dgen_embed_client *c = NULL;
		const char *texts[] = { "ping" };
		struct dgen_llm_usage u = { 0 };
		double *v = NULL;
		size_t dim = 0;

		if (embed_client_new(&cfg, &c, &err) == 0)
			rc = embed_call(c, NULL, texts, 1, NULL, deadline, &v, &dim, &u, &err);
		if (rc != 0 && strstr(err.msg, "HTTP "))
			status = atol(strstr(err.msg, "HTTP ") + 5);
		else if (rc != 0 && err.code == DGEN_ELLM && strstr(err.msg, "malformed"))
			status = 200;
		free(v);
		embed_client_free(c);
	} else {
		struct dgen_llm_client *c = NULL;
		struct dgen_llm_message msgs[] = { { "user", "Reply with OK." } };
		struct dgen_llm_request req;
		struct dgen_llm_response resp;

		memset(&req, 0, sizeof req);
		memset(&resp, 0, sizeof resp);
		req.messages = msgs;
		req.n_messages = 1;
		req.temperature = -1;
		req.max_tokens = 1;
		req.deadline = deadline;
		if (llm_client_new(&cfg, &c, &err) == 0) {
			struct dgen_llm_handle *h = llm_handle_new(c);

			rc = llm_call(h, &req, &resp, &err);
			/* a reply cut at one token still proves the model answers */
			if (rc != 0 && resp.http_status >= 200 && resp.http_status < 300 &&
			    strstr(err.msg, "max_tokens"))
				rc = 0;
			status = resp.http_status;
			llm_response_free(&resp);
			llm_handle_free(h);
		}
		if (c)
			llm_client_free(c);
	}
	*latency_ms = (long)((dgen_clock_mono() - t0) * 1000 + 0.5);
	if (rc == 0)
		snprintf(msg, msg_size, "%s answered", m->model_name);
	else
		reason(&err, status, msg, msg_size);
	dgen_err_clear(&err);
	return rc == 0;
}
