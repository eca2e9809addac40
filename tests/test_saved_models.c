/*
 * test_saved_models.c - stored named models: DataGenFlow's default rules,
 * keys sealed at rest and opened for the engine, name clashes, the
 * start-up bootstrap, and the key file.
 */
#include <sys/stat.h>

#include "dgen/accounts.h"
#include "dgen/saved_models.h"
#include "store_test.h"

static struct dgen_model mk(const char *name, const char *key, bool def)
{
	struct dgen_model m;

	memset(&m, 0, sizeof m);
	m.name = (char *)name;
	m.provider = (char *)"openai";
	m.endpoint = (char *)"http://127.0.0.1:9/v1/chat/completions";
	m.model_name = (char *)"gpt-test";
	m.api_key = (char *)key;
	m.api_key_last4 = key ? (char *)key + strlen(key) - 4 : NULL;
	m.is_default = def;
	return m;
}

/* The name of the default model of the kind ("" when none), and the count. */
static const char *default_of(struct dgen_db *db, enum dgen_model_kind kind, int *n)
{
	static char name[64];
	struct json_object *arr = NULL;
	struct dgen_err err = DGEN_ERR_INIT;

	name[0] = '\0';
	*n = -1;
	if (saved_models_list(db, NULL, kind, &arr, &err) != 0)
		return name;
	*n = (int)json_object_array_length(arr);
	for (int i = 0; i < *n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *d, *nm;

		json_object_object_get_ex(o, "is_default", &d);
		json_object_object_get_ex(o, "name", &nm);
		if (json_object_get_boolean(d))
			snprintf(name, sizeof name, "%s%s", name[0] ? "+" : "",
				 json_object_get_string(nm));
	}
	json_object_put(arr);
	return name;
}

int main(void)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_secret_key key, key2, other;
	struct dgen_model a = mk("a", "sk-secret-aaaa1234", false), b = mk("b", NULL, false);
	struct dgen_model c = mk("c", "sk-cccc", true), m;
	struct dgen_model_list list;
	struct json_object *o = NULL;
	struct dgen_db *db;
	struct stat sb;
	char *kpath;
	bool made;
	int n;

	st_setup();
	db = st_open("m.db");
	kpath = st_path("dgen.key");
	ok(secret_key_load(kpath, &key, &err) == 0, "a key file is made on first use");
	ok(stat(kpath, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 32,
	   "the key file is 32 bytes, mode 0600");
	ok(secret_key_load(kpath, &key2, &err) == 0 && memcmp(key.k, key2.k, 32) == 0,
	   "a second start reads the same key");
	memset(other.k, 7, sizeof other.k);

	ok(saved_models_insert(db, NULL, DGEN_MODEL_LLM, &a, &key, &err) == 0, "insert a");
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "a", "the first model saved is the default");
	ok(saved_models_insert(db, NULL, DGEN_MODEL_LLM, &b, &key, &err) == 0, "insert b");
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "a", "a second model leaves the default");
	ok(saved_models_insert(db, NULL, DGEN_MODEL_LLM, &c, &key, &err) == 0, "insert c as default");
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "c", "setting one default clears the others");
	is_int(n, 3, "three models");
	ok(saved_models_insert(db, NULL, DGEN_MODEL_LLM, &a, &key, &err) == -1 &&
	   err.code == DGEN_ECONFLICT, "a name taken is a conflict");
	dgen_err_clear(&err);
	ok(saved_models_insert(db, NULL, DGEN_MODEL_EMBEDDING, &a, &key, &err) == 0,
	   "the same name is free among embedding models");
	is_str(default_of(db, DGEN_MODEL_EMBEDDING, &n), "a", "and becomes their default");

	ok(saved_models_get(db, NULL, DGEN_MODEL_LLM, "a", &o, &err) == 0, "get a");
	ok(strstr(json_object_to_json_string(o), "sk-secret") == NULL,
	   "the key never appears in the public form");
	ok(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		  "\"api_key_set\":true,\"api_key_last4\":\"1234\"") != NULL,
	   "only api_key_set and the last 4 characters");
	json_object_put(o);
	{
		char cmd[600];

		snprintf(cmd, sizeof cmd, "grep -c sk-secret %s/m.db* >/dev/null 2>&1", st_dir);
		ok(system(cmd) != 0, "the key is not stored in plain text");
	}
	ok(saved_models_load(db, DGEN_MODEL_LLM, &key, &list, &err) == 0 && list.n == 3,
	   "load the models for the engine");
	is_str(list.v[0].api_key, "sk-secret-aaaa1234", "the key opens with the key file");
	ok(list.v[1].api_key == NULL, "a model without a key has none");
	is_str(model_list_find(&list, 0, NULL)->name, "c", "the empty name finds the default");
	ok(model_list_find(&list, 0, "zz") == NULL, "an unknown name finds nothing");
	model_list_free(&list);
	ok(saved_models_load(db, DGEN_MODEL_LLM, &other, &list, &err) == -1 &&
	   strstr(err.msg, "key file"), "another key file cannot open the keys");
	dgen_err_clear(&err);

	/* update: keep the key, rename, move the default */
	m = mk("a2", NULL, true);
	ok(saved_models_update(db, NULL, DGEN_MODEL_LLM, "a", &m, true, &key, &err) == 0,
	   "rename a to a2 and make it default, keeping its key");
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "a2", "a2 is now the only default");
	ok(saved_models_get_full(db, NULL, DGEN_MODEL_LLM, "a2", &key, &m, &err) == 0 &&
	   m.api_key && strcmp(m.api_key, "sk-secret-aaaa1234") == 0, "the key was kept");
	model_clear(&m);
	m = mk("a2", NULL, false);
	ok(saved_models_update(db, NULL, DGEN_MODEL_LLM, "a2", &m, false, &key, &err) == 0 &&
	   saved_models_get_full(db, NULL, DGEN_MODEL_LLM, "a2", &key, &m, &err) == 0 &&
	   m.api_key == NULL && m.api_key_last4 == NULL, "an update with an empty key drops it");
	model_clear(&m);
	m = mk("b", NULL, false);
	ok(saved_models_update(db, NULL, DGEN_MODEL_LLM, "a2", &m, true, &key, &err) == -1 &&
	   err.code == DGEN_ECONFLICT, "renaming onto another model is a conflict");
	dgen_err_clear(&err);
	ok(saved_models_update(db, NULL, DGEN_MODEL_LLM, "nope", &m, true, &key, &err) == -1 &&
	   err.code == DGEN_ENOTFOUND, "updating an unknown model is not found");
	dgen_err_clear(&err);

	/* delete: the default moves; a lone model is the default */
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "a2",
	       "unsetting the only default gives the flag to the oldest (a2 itself)");
	ok(saved_models_delete(db, NULL, DGEN_MODEL_LLM, "a2", &err) == 0, "delete the default");
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "b", "the flag moved to the oldest left");
	ok(saved_models_delete(db, NULL, DGEN_MODEL_LLM, "b", &err) == 0, "delete another");
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "c", "a lone model is the default");
	ok(saved_models_delete(db, NULL, DGEN_MODEL_LLM, "a2", &err) == -1 && err.code == DGEN_ENOTFOUND,
	   "deleting an unknown model is not found");
	dgen_err_clear(&err);
	ok(saved_models_delete(db, NULL, DGEN_MODEL_LLM, "c", &err) == 0, "delete the last one");

	/* bootstrap */
	m = mk("default", NULL, false);
	ok(saved_models_bootstrap(db, DGEN_MODEL_LLM, &m, &key, &made, &err) == 0 && made,
	   "an empty table gets the model of the settings");
	is_str(default_of(db, DGEN_MODEL_LLM, &n), "default", "and it is the default");
	ok(saved_models_bootstrap(db, DGEN_MODEL_LLM, &m, &key, &made, &err) == 0 && !made,
	   "a table with models is left alone");
	ok(saved_models_bootstrap(db, DGEN_MODEL_EMBEDDING, &m, &key, &made, &err) == 0 && !made,
	   "embedding models are counted apart");

	/* K processes start at once on an empty table: one model */
	{
		struct dgen_db *rdb = st_open("race.db");
		pid_t kids[8];
		int good = 0, gate[2];

		db_close(rdb);
		st_gate_open(gate);
		for (int k = 0; k < 8; k++) {
			kids[k] = fork();
			if (kids[k] == 0) {
				struct dgen_db *cdb = st_open("race.db");
				bool mine = false;
				int rc;

				st_gate_wait(gate);
				rc = saved_models_bootstrap(cdb, DGEN_MODEL_LLM, &m, &key, &mine, &err);

				db_close(cdb);
				_exit(rc == 0 ? 0 : 1);
			}
		}
		sleep(1); /* every child connected */
		st_gate_go(gate);
		for (int k = 0; k < 8; k++)
			good += st_wait_ok(kids[k]);
		is_int(good, 8, "racing first starts all succeed");
		rdb = st_open("race.db");
		is_str(default_of(rdb, DGEN_MODEL_LLM, &n), "default", "one of them made the model");
		is_int(n, 1, "only one");
		db_close(rdb);
	}

	/* prices */
	m = mk("priced", NULL, false);
	m.has_price = true;
	m.price_input = 1.5;
	m.price_output = 6;
	m.price_cached = 0.25;
	m.currency = (char *)"EUR";
	ok(saved_models_insert(db, NULL, DGEN_MODEL_LLM, &m, &key, &err) == 0 &&
	   saved_models_get(db, NULL, DGEN_MODEL_LLM, "priced", &o, &err) == 0, "a priced model");
	is_str(json_object_to_json_string_ext(json_object_object_get(o, "price_per_mtok"),
					      JSON_C_TO_STRING_PLAIN),
	       "{\"input\":1.5,\"output\":6.0,\"cached\":0.25}", "its price per million tokens");
	json_object_put(o);
	ok(saved_models_get(db, NULL, DGEN_MODEL_LLM, "default", &o, &err) == 0 &&
	   json_object_object_get(o, "price_per_mtok") == NULL, "an unpriced model has price null");
	json_object_put(o);

	/* owners: a member's own models beside the global ones */
	{
		struct dgen_caller ann = { 0, false }, bob = { 0, false };
		struct dgen_model own = mk("mine", "sk-own-9999", true), g = mk("priced", NULL, false);
		struct dgen_secret_key nk;
		int64_t resealed = 0;

		ok(users_add(db, "ann", "a-long-password-1", false, &ann.user_id, &err) == 0 &&
		   users_add(db, "bob", "a-long-password-2", false, &bob.user_id, &err) == 0,
		   "two members");
		ok(saved_models_insert(db, &ann, DGEN_MODEL_LLM, &own, &key, &err) == 0,
		   "a member saves a model of their own");
		ok(saved_models_insert(db, &bob, DGEN_MODEL_LLM, &own, &key, &err) == 0,
		   "another member may use the same name");
		ok(saved_models_insert(db, &ann, DGEN_MODEL_LLM, &own, &key, &err) == -1 &&
		   err.code == DGEN_ECONFLICT, "but not twice for one member");
		dgen_err_clear(&err);
		ok(saved_models_insert(db, &ann, DGEN_MODEL_LLM, &g, &key, &err) == -1 &&
		   err.code == DGEN_ECONFLICT && strstr(err.msg, "global"),
		   "nor the name of a global model");
		dgen_err_clear(&err);
		ok(saved_models_get(db, &ann, DGEN_MODEL_LLM, "mine", &o, &err) == 0 &&
		   !json_object_get_boolean(json_object_object_get(o, "is_default")) &&
		   strcmp(json_object_get_string(json_object_object_get(o, "scope")), "own") == 0,
		   "an own model is never the default, and says scope own");
		json_object_put(o);
		ok(saved_models_get(db, NULL, DGEN_MODEL_LLM, "mine", &o, &err) == -1 &&
		   err.code == DGEN_ENOTFOUND, "the global view does not see members' models");
		dgen_err_clear(&err);
		ok(saved_models_list(db, &ann, DGEN_MODEL_LLM, &o, &err) == 0 &&
		   json_object_array_length(o) == 3, "a member lists the global models and their own");
		json_object_put(o);
		is_str(default_of(db, DGEN_MODEL_LLM, &n), "default", "the global default is kept");
		ok(saved_models_delete(db, &ann, DGEN_MODEL_LLM, "priced", &err) == -1 &&
		   err.code == DGEN_ENOTFOUND, "a member cannot delete a global model");
		dgen_err_clear(&err);
		ok(saved_models_load(db, DGEN_MODEL_LLM, &key, &list, &err) == 0 && list.n == 4 &&
		   model_list_find(&list, ann.user_id, "mine")->owner_id == ann.user_id &&
		   model_list_find(&list, bob.user_id, "mine")->owner_id == bob.user_id &&
		   model_list_find(&list, 0, "mine") == NULL &&
		   model_list_find(&list, ann.user_id, NULL)->owner_id == 0,
		   "the engine finds each owner's model, and the default among the global ones");
		model_list_free(&list);

		/* rekey */
		char *nkpath = st_path("new.key");

		ok(secret_key_load(nkpath, &nk, &err) == 0 &&
		   saved_models_rekey(db, &key, &nk, &resealed, &err) == 0 && resealed == 3,
		   "rekey re-seals every stored key");
		ok(saved_models_load(db, DGEN_MODEL_LLM, &nk, &list, &err) == 0 &&
		   strcmp(model_list_find(&list, ann.user_id, "mine")->api_key, "sk-own-9999") == 0,
		   "and they open under the new key");
		model_list_free(&list);
		ok(saved_models_rekey(db, &key, &nk, &resealed, &err) == -1 &&
		   saved_models_load(db, DGEN_MODEL_LLM, &nk, &list, &err) == 0,
		   "a rekey from the wrong key fails and changes nothing");
		model_list_free(&list);
		dgen_err_clear(&err);
		free(nkpath);
	}

	st_integrity(db);
	db_close(db);
	free(kpath);
	dgen_err_clear(&err);
	st_teardown();
	return done_testing();
}
