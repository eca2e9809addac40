/*
 * exec.c - the execution environment (see exec.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/embed.h"
#include "dgen/exec.h"
#include "dgen/llm.h"
#include "dgen/log.h"
#include "dgen/template.h"
#include "dgen/util.h"

struct dgen_exec {
	const struct dgen_config *cfg;
	struct dgen_registry *reg;
	struct dgen_template_limits tlim;
	pthread_mutex_t lock;           /* guards the making of llm */
	struct dgen_llm_client *llm;    /* NULL until connected */
	struct dgen_embed_client *embed;/* NULL until first asked for */
	char embed_err[DGEN_ERR_MSG_MAX];/* why it could not be made */
};

struct dgen_exec *exec_new(const struct dgen_config *cfg, struct dgen_registry *reg)
{
	struct dgen_exec *x = dgen_xcalloc(1, sizeof *x);
	struct dgen_err err = DGEN_ERR_INIT;

	x->cfg = cfg;
	x->reg = reg;
	if (registry_load_dir(reg, cfg->blocks_dir, &err) < 0)
		dgen_warn("block plugins not loaded: %s", err.msg);
	dgen_err_clear(&err);
	x->tlim = template_default_limits;
	if (cfg->template_max_output > 0)
		x->tlim.max_output = cfg->template_max_output;
	if (cfg->template_max_iterations > 0)
		x->tlim.max_iterations = cfg->template_max_iterations;
	pthread_mutex_init(&x->lock, NULL);
	return x;
}

void exec_free(struct dgen_exec *x)
{
	if (!x)
		return;
	if (x->llm)
		llm_client_free(x->llm);
	embed_client_free(x->embed);
	if (x->reg)
		registry_free(x->reg);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

const struct dgen_config *exec_config(const struct dgen_exec *x)
{
	return x->cfg;
}

struct dgen_registry *exec_registry(const struct dgen_exec *x)
{
	return x->reg;
}

int exec_connect(struct dgen_exec *x, struct dgen_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&x->lock);
	if (!x->llm && llm_client_new(x->cfg, &x->llm, err) != 0) {
		x->llm = NULL;
		rc = -1;
	}
	pthread_mutex_unlock(&x->lock);
	return rc;
}

struct dgen_llm_client *exec_llm_client(struct dgen_exec *x)
{
	struct dgen_llm_client *c;

	pthread_mutex_lock(&x->lock);
	c = x->llm;
	pthread_mutex_unlock(&x->lock);
	return c;
}

struct dgen_llm_handle *exec_handle_new(struct dgen_exec *x, struct dgen_err *err)
{
	if (exec_connect(x, err) != 0)
		return NULL;
	return llm_handle_new(exec_llm_client(x));
}

void exec_handle_free(struct dgen_llm_handle *h)
{
	if (h)
		llm_handle_free(h);
}

/* The default-only model lookup: every name is served by the configured
 * LLM and embeddings endpoints (named models come with SPEC.md §9). */
static struct dgen_llm_handle *default_llm(const struct dgen_block_ctx *ctx, const char *name,
					   struct dgen_err *err)
{
	(void)name;
	if (!ctx->llm)
		dgen_err_set(err, DGEN_EBLOCK, "no LLM is configured (set LLM_ENDPOINT)");
	return ctx->llm;
}

/* The embeddings client is made on first use, under the lock; a bad
 * EMBEDDING_* setting is told to every block that asks. */
static struct dgen_embed_client *default_embedder(const struct dgen_block_ctx *ctx,
						  const char *name, struct dgen_err *err)
{
	struct dgen_exec *x = ctx->models_arg;
	struct dgen_embed_client *c;
	struct dgen_err e = DGEN_ERR_INIT;

	(void)name;
	pthread_mutex_lock(&x->lock);
	if (!x->embed && !x->embed_err[0] && embed_client_new(x->cfg, &x->embed, &e) != 0)
		snprintf(x->embed_err, sizeof x->embed_err, "%s", e.msg);
	c = x->embed;
	if (!c)
		dgen_err_set(err, DGEN_EBLOCK, "no embeddings endpoint: %s", x->embed_err);
	pthread_mutex_unlock(&x->lock);
	dgen_err_clear(&e);
	return c;
}

static const struct dgen_model_ops default_models = { default_llm, default_embedder };

struct dgen_block_ctx exec_block_ctx(const struct dgen_exec *x, struct dgen_llm_handle *h,
				     const atomic_int *cancel, double deadline)
{
	struct dgen_block_ctx ctx;

	memset(&ctx, 0, sizeof ctx);
	ctx.llm = h;
	ctx.tlim = &x->tlim;
	ctx.cancel = cancel;
	ctx.deadline = deadline;
	ctx.models = &default_models;
	ctx.models_arg = (void *)x; /* the lookup takes the lock before writing */
	ctx.unit = -1;
	return ctx;
}

void exec_seed_limits(const struct dgen_exec *x, struct dgen_json_limits *jlim,
		      struct dgen_seed_limits *slim)
{
	const struct dgen_config *cfg = x->cfg;

	*jlim = dgen_json_default_limits;
	if (cfg->max_upload > 0)
		jlim->max_bytes = cfg->max_upload;
	if (cfg->json_depth > 0)
		jlim->max_depth = cfg->json_depth;
	if (cfg->max_string > 0)
		jlim->max_string = cfg->max_string;
	*slim = seeds_default_limits;
	if (cfg->max_seeds > 0)
		slim->max_seeds = cfg->max_seeds;
	if (cfg->max_repetitions > 0)
		slim->max_repetitions = cfg->max_repetitions;
}

const char *exec_output_text(struct json_object *state)
{
	struct json_object *po = NULL;

	if (!json_object_object_get_ex(state, "pipeline_output", &po) || !po)
		return "";
	if (json_object_is_type(po, json_type_string))
		return json_object_get_string(po);
	return dgen_json_compact(po);
}
