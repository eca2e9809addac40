/*
 * saved_models.h - stored named models (SPEC.md §9), one table for both
 * kinds (LLM, embedding), with DataGenFlow's default rules kept inside
 * each write's transaction: the first model of a kind becomes its
 * default; setting one default clears the others; deleting the default
 * moves the flag to the oldest model left; a lone model is always the
 * default.
 *
 * Keys are sealed with the key given (secret.h) before they are stored;
 * only their last 4 characters are kept in plain for answers.
 *
 * Ownership: JSON out parameters are new references; a model list is the
 * caller's (model_list_free). Models passed in are borrowed.
 * Unknown names are DGEN_ENOTFOUND, a name taken DGEN_ECONFLICT.
 */
#ifndef DGEN_SAVED_MODELS_H
#define DGEN_SAVED_MODELS_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/caller.h"
#include "dgen/db.h"
#include "dgen/err.h"
#include "dgen/model.h"
#include "dgen/secret.h"

/* A caller's view is the global models and, for a member, their own
 * (SPEC.md §8); an admin or a NULL caller (the CLI) sees the global ones.
 * Writes touch a member's own models, or for an admin / NULL caller the
 * global ones: another user's model answers DGEN_ENOTFOUND exactly like
 * a missing one. A member's model may not take the name of a global model
 * (DGEN_ECONFLICT, detail field "name") and is never the default. */

/* The public forms (model_to_json) of who's view: global first, then
 * own, each oldest first. */
int saved_models_list(struct dgen_db *db, const struct dgen_caller *who,
		      enum dgen_model_kind kind, struct json_object **out, struct dgen_err *err);
/* By name in who's view: their own model before a global one. */
int saved_models_get(struct dgen_db *db, const struct dgen_caller *who,
		     enum dgen_model_kind kind, const char *name, struct json_object **out,
		     struct dgen_err *err);
/* Stores m (its api_key sealed under key) as who's. */
int saved_models_insert(struct dgen_db *db, const struct dgen_caller *who,
			enum dgen_model_kind kind, const struct dgen_model *m,
			const struct dgen_secret_key *key, struct dgen_err *err);
/* Replaces who's model called name by m (m->name may rename it); with
 * keep_key the stored key stays (a PUT that leaves api_key out). */
int saved_models_update(struct dgen_db *db, const struct dgen_caller *who,
			enum dgen_model_kind kind, const char *name, const struct dgen_model *m,
			bool keep_key, const struct dgen_secret_key *key, struct dgen_err *err);
int saved_models_delete(struct dgen_db *db, const struct dgen_caller *who,
			enum dgen_model_kind kind, const char *name, struct dgen_err *err);
/* Every model of the kind, every owner's (owner_id set), with its key
 * opened, for the engine (model_list_find picks per owner); a key that
 * does not open is an error naming the model. */
int saved_models_load(struct dgen_db *db, enum dgen_model_kind kind,
		      const struct dgen_secret_key *key, struct dgen_model_list *out,
		      struct dgen_err *err);
/* Both kinds with their keys opened, under the key file of cfg: what
 * the runner, the API's execute and `dgen run` hand the engine
 * (exec_set_models). On failure both lists are empty. */
int saved_models_load_all(struct dgen_db *db, const struct dgen_config *cfg,
			  struct dgen_model_list *llm, struct dgen_model_list *emb,
			  struct dgen_err *err);
/* One model of who's view with its key opened into *out (model_clear it). */
int saved_models_get_full(struct dgen_db *db, const struct dgen_caller *who,
			  enum dgen_model_kind kind, const char *name,
			  const struct dgen_secret_key *key, struct dgen_model *out,
			  struct dgen_err *err);
/* Stores m when the kind has no model yet (the start-up bootstrap from
 * the LLM_* / EMBEDDING_* settings); *made tells whether it did. */
int saved_models_bootstrap(struct dgen_db *db, enum dgen_model_kind kind,
			   const struct dgen_model *m, const struct dgen_secret_key *key,
			   bool *made, struct dgen_err *err);
/* Re-seals every stored key (both kinds, every owner) from old_key to
 * new_key in one write transaction: all or nothing. *n = keys re-sealed.
 * A key old_key does not open is DGEN_EIO and nothing changes. */
int saved_models_rekey(struct dgen_db *db, const struct dgen_secret_key *old_key,
		       const struct dgen_secret_key *new_key, int64_t *n, struct dgen_err *err);

#endif
