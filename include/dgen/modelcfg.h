/*
 * modelcfg.h - named models (model.h) meet the LLM and embeddings
 * clients: the model the settings alone describe, the settings a model's
 * client is made from, and the one small call of the test endpoint.
 *
 * Ownership: modelcfg_config() fills *out with strings borrowed from base
 * and m (both must outlive it; never dgen_config_free it).
 */
#ifndef DGEN_MODELCFG_H
#define DGEN_MODELCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "dgen/config.h"
#include "dgen/err.h"
#include "dgen/model.h"

/* The model named "default" that the LLM_* (or EMBEDDING_*, falling back
 * to LLM_*) settings describe, endpoint paths and provider resolved as
 * the clients resolve them. Errors: those of the settings (DGEN_EINVALID). */
int modelcfg_from_config(const struct dgen_config *cfg, enum dgen_model_kind kind,
			 struct dgen_model *out, struct dgen_err *err);
/* base with the endpoint, key, model and provider of m; a member's own
 * model (owner_id set) also sets llm_guarded, so its client refuses inner
 * addresses (netguard.h). */
void modelcfg_config(const struct dgen_config *base, const struct dgen_model *m,
		     enum dgen_model_kind kind, struct dgen_config *out);
/* The rate budget (budget.h) of m in the process-wide table: one per
 * model name, endpoint, provider model and key, so that reloading the
 * models keeps it; m's limits are applied to it. */
struct dgen_budget *modelcfg_budget(const struct dgen_model *m);
/* One small call to m (a one-token chat, or one short embedding), no
 * retries, bounded by LLM_CONNECT_TIMEOUT and 30 s: true when it answered.
 * msg gets a short reason written here (never the remote body) and
 * *latency_ms the time taken. */
bool modelcfg_test(const struct dgen_config *base, const struct dgen_model *m,
		   enum dgen_model_kind kind, char *msg, size_t msg_size, long *latency_ms);

#endif
