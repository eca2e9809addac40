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
#include "dgen/modelcfg.h"
#include "dgen/template.h"
#include "dgen/util.h"

/* One set of named models given by exec_set_models, with a client per
 * model made on first use. A set that is replaced is kept until
 * exec_free: handles made on its clients may still be held. */
struct models_gen {
	struct dgen_model_list llm, emb;
	struct dgen_llm_client **lc;    /* per llm model, NULL until made */
	struct dgen_embed_client **ec;  /* per embedding model */
	struct models_gen *older;
};

/* A thread's handles on the LLM clients of one set (a handle serves one
 * thread at a time), freed when the thread ends or with the environment. */
struct thread_slot {
	struct dgen_exec *x;
	const struct models_gen *gen;
	struct dgen_llm_handle **h;     /* per llm model of gen */
	size_t n;
	struct thread_slot *prev, *next;
};

struct dgen_exec {
	const struct dgen_config *cfg;
	struct dgen_registry *reg;
	struct dgen_template_limits tlim;
	pthread_mutex_t lock;           /* guards the making of llm, models, slots */
	struct dgen_llm_client *llm;    /* NULL until connected */
	struct dgen_embed_client *embed;/* NULL until first asked for */
	char embed_err[DGEN_ERR_MSG_MAX];/* why it could not be made */
	struct models_gen *models;      /* NULL: no named models given */
	pthread_key_t key;              /* this thread's struct thread_slot */
	struct thread_slot *slots;
};

static void slot_free_handles(struct thread_slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->h[i])
			llm_handle_free(s->h[i]);
	free(s->h);
	s->h = NULL;
	s->n = 0;
}

static void slot_unlink(struct thread_slot *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->x->slots = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

/* Thread exit: the thread's handles go with it. */
static void slot_destroy(void *p)
{
	struct thread_slot *s = p;
	struct dgen_exec *x = s->x;

	pthread_mutex_lock(&x->lock);
	slot_unlink(s);
	slot_free_handles(s);
	pthread_mutex_unlock(&x->lock);
	free(s);
}

static void gen_free(struct models_gen *g)
{
	for (size_t i = 0; i < g->llm.n; i++)
		if (g->lc[i])
			llm_client_free(g->lc[i]);
	for (size_t i = 0; i < g->emb.n; i++)
		embed_client_free(g->ec[i]);
	free(g->lc);
	free(g->ec);
	model_list_free(&g->llm);
	model_list_free(&g->emb);
	free(g);
}

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
	if (pthread_key_create(&x->key, slot_destroy) != 0) {
		dgen_error("out of thread-specific keys");
		abort();
	}
	return x;
}

void exec_free(struct dgen_exec *x)
{
	if (!x)
		return;
	pthread_key_delete(x->key);
	while (x->slots) {
		struct thread_slot *s = x->slots;

		slot_unlink(s);
		slot_free_handles(s);
		free(s);
	}
	while (x->models) {
		struct models_gen *g = x->models;

		x->models = g->older;
		gen_free(g);
	}
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

/* A changed price counts too: the clients carry it into every call. */
static bool same_model(const struct dgen_model *a, const struct dgen_model *b)
{
	struct dgen_price pa, pb;

	model_price(a, &pa);
	model_price(b, &pb);
#define SAME(f) (strcmp(a->f ? a->f : "", b->f ? b->f : "") == 0)
	return SAME(name) && SAME(provider) && SAME(endpoint) && SAME(api_key) &&
	       SAME(model_name) && a->is_default == b->is_default && a->dimensions == b->dimensions &&
	       a->max_in_flight == b->max_in_flight &&
	       a->requests_per_minute == b->requests_per_minute &&
	       a->tokens_per_minute == b->tokens_per_minute &&
	       a->owner_id == b->owner_id && cost_price_equal(&pa, &pb);
#undef SAME
}

static bool same_list(const struct dgen_model_list *a, const struct dgen_model_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_model(&a->v[i], &b->v[i]))
			return false;
	return true;
}

/* A set equal to the current one changes nothing, so that callers may
 * hand the stored models over before every run and keep their clients
 * (and connections); a different one replaces it for the next lookups. */
void exec_set_models(struct dgen_exec *x, struct dgen_model_list *llm,
		     struct dgen_model_list *emb)
{
	struct dgen_model_list none = { NULL, 0 };
	struct models_gen *g;

	pthread_mutex_lock(&x->lock);
	g = x->models;
	if (g && same_list(&g->llm, llm ? llm : &none) && same_list(&g->emb, emb ? emb : &none)) {
		pthread_mutex_unlock(&x->lock);
		model_list_free(llm);
		model_list_free(emb);
		return;
	}
	g = dgen_xcalloc(1, sizeof *g);
	if (llm) {
		g->llm = *llm;
		*llm = none;
	}
	if (emb) {
		g->emb = *emb;
		*emb = none;
	}
	g->lc = dgen_xcalloc(g->llm.n + 1, sizeof *g->lc);
	g->ec = dgen_xcalloc(g->emb.n + 1, sizeof *g->ec);
	g->older = x->models;
	x->models = g;
	pthread_mutex_unlock(&x->lock);
}

static void set_llm_price(struct dgen_llm_client *c, const struct dgen_model *m)
{
	struct dgen_price price;

	model_price(m, &price);
	llm_client_set_price(c, &price);
}

int exec_connect(struct dgen_exec *x, struct dgen_err *err)
{
	const struct dgen_model *def = NULL;
	struct dgen_config c;
	bool had;
	int rc = 0;

	pthread_mutex_lock(&x->lock);
	had = x->llm != NULL;
	c = *x->cfg;
	if (x->models && (def = model_list_find(&x->models->llm, 0, NULL)))
		modelcfg_config(x->cfg, def, DGEN_MODEL_LLM, &c);
	if (!x->llm && llm_client_new(&c, &x->llm, err) != 0) {
		x->llm = NULL;
		rc = -1;
	} else if (def && !had) {
		set_llm_price(x->llm, def);
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

void *exec_swap_slot(struct dgen_exec *x, void *slot)
{
	void *old = pthread_getspecific(x->key);

	pthread_setspecific(x->key, slot);
	return old;
}

/* The model called name in the current set as owner sees it (locked), or
 * NULL with err naming it; *idx its index. */
static const struct dgen_model *named(const struct dgen_model_list *l, int64_t owner,
				      const char *name, enum dgen_model_kind kind, size_t *idx,
				      struct dgen_err *err)
{
	const struct dgen_model *m = model_list_find(l, owner, name);

	if (!m) {
		if (name && *name)
			dgen_err_set(err, DGEN_EBLOCK, "%s model '%s' not found (deleted?)",
				     model_kind_name(kind), name);
		else
			dgen_err_set(err, DGEN_EBLOCK, "no default %s model", model_kind_name(kind));
		return NULL;
	}
	*idx = (size_t)(m - l->v);
	return m;
}

/* This thread's handle on the client of model i of g (locked), making
 * the client and the handle on first use. */
static struct dgen_llm_handle *thread_handle(struct dgen_exec *x, struct models_gen *g, size_t i,
					     struct dgen_err *err)
{
	struct thread_slot *s = pthread_getspecific(x->key);
	struct dgen_config c;
	struct dgen_err e = DGEN_ERR_INIT;

	if (!g->lc[i]) {
		modelcfg_config(x->cfg, &g->llm.v[i], DGEN_MODEL_LLM, &c);
		if (llm_client_new(&c, &g->lc[i], &e) != 0) {
			g->lc[i] = NULL;
			dgen_err_set(err, DGEN_EBLOCK, "llm model '%s': %s", g->llm.v[i].name, e.msg);
			dgen_err_clear(&e);
			return NULL;
		}
		/* the model's budget outlives this set of clients */
		llm_client_set_budget(g->lc[i], modelcfg_budget(&g->llm.v[i]));
		set_llm_price(g->lc[i], &g->llm.v[i]);
	}
	if (!s) {
		s = dgen_xcalloc(1, sizeof *s);
		s->x = x;
		s->next = x->slots;
		if (s->next)
			s->next->prev = s;
		x->slots = s;
		pthread_setspecific(x->key, s);
	}
	if (s->gen != g) {
		slot_free_handles(s);
		s->gen = g;
		s->n = g->llm.n;
		s->h = dgen_xcalloc(s->n + 1, sizeof *s->h);
	}
	if (!s->h[i])
		s->h[i] = llm_handle_new(g->lc[i]);
	return s->h[i];
}

/* Without named models every name is served by the configured LLM
 * endpoint (ctx->llm) and goes into the request as the model; with them
 * the name picks the model, served by this thread's handle on its client. */
static struct dgen_llm_handle *lookup_llm(const struct dgen_block_ctx *ctx, const char *name,
					  const char **model_id, struct dgen_err *err)
{
	struct dgen_exec *x = ctx->models_arg;
	struct dgen_llm_handle *h = NULL;
	size_t i = 0;

	*model_id = name;
	pthread_mutex_lock(&x->lock);
	if (x->models && x->models->llm.n > 0) {
		*model_id = NULL;
		if (named(&x->models->llm, ctx->owner_id, name, DGEN_MODEL_LLM, &i, err))
			h = thread_handle(x, x->models, i, err);
		pthread_mutex_unlock(&x->lock);
		return h;
	}
	pthread_mutex_unlock(&x->lock);
	if (!ctx->llm)
		dgen_err_set(err, DGEN_EBLOCK, "no LLM is configured (set LLM_ENDPOINT)");
	return ctx->llm;
}

/* The client of embedding model i of g, made (with its price and its
 * rate budget) on first use; with x->lock held. NULL with err set when
 * the model's settings are refused. */
static struct dgen_embed_client *embed_client_of(struct dgen_exec *x, struct models_gen *g,
						 size_t i, struct dgen_err *err)
{
	struct dgen_config cfg;
	struct dgen_price price;
	struct dgen_err e = DGEN_ERR_INIT;

	if (g->ec[i])
		return g->ec[i];
	modelcfg_config(x->cfg, &g->emb.v[i], DGEN_MODEL_EMBEDDING, &cfg);
	if (embed_client_new(&cfg, &g->ec[i], &e) != 0) {
		g->ec[i] = NULL;
		dgen_err_set(err, DGEN_EBLOCK, "embedding model '%s': %s", g->emb.v[i].name, e.msg);
		dgen_err_clear(&e);
		return NULL;
	}
	model_price(&g->emb.v[i], &price);
	embed_client_set_price(g->ec[i], &price);
	/* the model's budget outlives this set of clients */
	embed_client_set_budget(g->ec[i], modelcfg_budget(&g->emb.v[i]));
	return g->ec[i];
}

/* Embeddings clients serve every thread; each is made on first use,
 * under the lock. Without named models a bad EMBEDDING_* setting is told
 * to every block that asks. */
static struct dgen_embed_client *lookup_embedder(const struct dgen_block_ctx *ctx,
						 const char *name, const char **model_id,
						 struct dgen_err *err)
{
	struct dgen_exec *x = ctx->models_arg;
	struct dgen_embed_client *c = NULL;
	struct dgen_err e = DGEN_ERR_INIT;
	size_t i = 0;

	*model_id = name;
	pthread_mutex_lock(&x->lock);
	if (x->models && x->models->emb.n > 0) {
		struct models_gen *g = x->models;

		*model_id = NULL;
		if (named(&g->emb, ctx->owner_id, name, DGEN_MODEL_EMBEDDING, &i, err)) {
			c = embed_client_of(x, g, i, err);
		}
	} else {
		if (!x->embed && !x->embed_err[0] && embed_client_new(x->cfg, &x->embed, &e) != 0)
			snprintf(x->embed_err, sizeof x->embed_err, "%s", e.msg);
		c = x->embed;
		if (!c)
			dgen_err_set(err, DGEN_EBLOCK, "no embeddings endpoint: %s", x->embed_err);
	}
	pthread_mutex_unlock(&x->lock);
	dgen_err_clear(&e);
	return c;
}

static const struct dgen_model_ops default_models = { lookup_llm, lookup_embedder };

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
