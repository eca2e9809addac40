/*
 * test_exec.c - the execution environment and the planner: block contexts
 * under the configured limits, the LLM client made on demand, seed limits,
 * record output text, units numbered the same for the runner and `dgen
 * run` (done units and retry lists skipped, multiplier chunks, failed
 * splits), the one export line, and blocks picking named models.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/blockutil.h"
#include "dgen/exec.h"
#include "dgen/export_line.h"
#include "dgen/log.h"
#include "dgen/plan.h"
#include "dgen/util.h"
#include "tap.h"
#include "mock-llm/mock.h"

/* "Split": multiplier; one chunk per comma-separated part of `text`;
 * fails on the text "fail". */
static int split_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		      struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	struct json_object *v = NULL;
	const char *s, *c;

	(void)st;
	(void)cfg;
	(void)ctx;
	if (!json_object_object_get_ex(in, "text", &v) ||
	    strcmp(json_object_get_string(v), "fail") == 0)
		return dgen_err_set(err, DGEN_EINVALID, "cannot split");
	s = json_object_get_string(v);
	*out = json_object_new_array();
	while (*s) {
		struct json_object *chunk = json_object_new_object();

		c = strchr(s, ',');
		if (!c)
			c = s + strlen(s);
		json_object_object_add(chunk, "content",
				       json_object_new_string_len(s, (int)(c - s)));
		json_object_array_add(*out, chunk);
		s = *c ? c + 1 : c;
	}
	return 0;
}

/* "Echo": assistant = content */
static int echo_exec(void *st, struct json_object *cfg, struct dgen_block_ctx *ctx,
		     struct json_object *in, struct json_object **out, struct dgen_err *err)
{
	struct json_object *v = NULL;

	(void)st;
	(void)cfg;
	(void)ctx;
	(void)err;
	json_object_object_get_ex(in, "content", &v);
	*out = json_object_new_object();
	json_object_object_add(*out, "assistant", json_object_get(v));
	return 0;
}

static const char *const in_text[] = { "text", NULL };
static const char *const out_chunk[] = { "content", NULL };
static const char *const out_assistant[] = { "assistant", NULL };
static const struct dgen_block_type split_type = {
	.abi = DGEN_BLOCK_ABI, .type = "Split", .inputs = in_text, .outputs = out_chunk,
	.is_multiplier = true, .execute = split_exec,
};
static const struct dgen_block_type echo_type = {
	.abi = DGEN_BLOCK_ABI, .type = "Echo", .outputs = out_assistant, .execute = echo_exec,
};
static const struct dgen_block_type *const test_types[] = { &split_type, &echo_type };

static struct dgen_config cfg;
static struct dgen_exec *x;
static char bad_endpoint[] = "ftp://nowhere", good_endpoint[] =
	"http://127.0.0.1:9/v1/chat/completions";
static char no_plugins[] = "/nonexistent/dgen-blocks", empty[] = "";

static struct json_object *J(const char *s)
{
	struct json_object *v = json_tokener_parse(s);

	if (!v)
		diag("bad test JSON: %s", s);
	return v;
}

/* A job for the planner: the pipeline of def over the seed file text. */
static int job(const char *def, const char *seeds, struct dgen_plan_job *pj)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *d = J(def);
	int rc;

	memset(pj, 0, sizeof *pj);
	rc = pipeline_load(exec_registry(x), d, &pj->pipeline, &err) ||
	     seeds_index_json(dgen_xstrdup(seeds), strlen(seeds), NULL, NULL, &pj->seeds, &err);
	if (rc)
		diag("job: %s", err.msg);
	json_object_put(d);
	dgen_err_clear(&err);
	return rc ? -1 : 0;
}

/* "unit:seed/rep/chunk ..." of every unit the cursor hands out. */
static char *units_of(struct dgen_plan *plan)
{
	struct dgen_unit u;
	char *s = dgen_xstrdup("");

	while (plan_next(plan, &u)) {
		char *t = dgen_xasprintf("%s%s%lld:%lld/%lld/%lld", s, *s ? " " : "",
					 (long long)u.unit, (long long)u.seed_index,
					 (long long)u.repetition, (long long)u.chunk_index);

		plan_unit_free(&u);
		free(s);
		s = t;
	}
	return s;
}

static void test_environment(void)
{
	struct dgen_json_limits jlim;
	struct dgen_seed_limits slim;
	struct dgen_block_ctx ctx;
	struct json_object *st;
	atomic_int cancel = 0;

	ok(registry_find(exec_registry(x), "Split") != NULL, "the registry it was given");
	ctx = exec_block_ctx(x, NULL, &cancel, 12.5);
	ok(ctx.llm == NULL && ctx.cancel == &cancel && ctx.deadline == 12.5 && !ctx.usage &&
		   !ctx.on_block,
	   "a block context: no LLM handle given, the caller's cancel and deadline, no hooks");
	ok(ctx.tlim && ctx.tlim->max_output == 4096 && ctx.tlim->max_iterations == 77,
	   "template limits come from the configuration");
	exec_seed_limits(x, &jlim, &slim);
	ok(jlim.max_bytes == 2048 && jlim.max_depth == 9 && jlim.max_string == 512 &&
		   slim.max_seeds == 3 && slim.max_repetitions == 4,
	   "seed file limits come from the configuration");
	st = J("{\"pipeline_output\":\"hi\"}");
	is_str(exec_output_text(st), "hi", "a string pipeline_output is the output as it is");
	json_object_put(st);
	st = J("{\"pipeline_output\":{\"a\":[1]}}");
	is_str(exec_output_text(st), "{\"a\":[1]}", "anything else is its compact JSON");
	json_object_put(st);
	st = J("{\"assistant\":\"x\"}");
	is_str(exec_output_text(st), "", "no pipeline_output: no output");
	json_object_put(st);
}

static void test_llm_client(void)
{
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_llm_handle *h;

	cfg.llm_endpoint = bad_endpoint;
	ok(exec_llm_client(x) == NULL, "no LLM client before it is needed");
	h = exec_handle_new(x, &err);
	ok(!h && err.code == DGEN_EINVALID && strstr(err.msg, "LLM_ENDPOINT"),
	   "a bad LLM_ENDPOINT: no handle, and the reason");
	dgen_err_clear(&err);
	cfg.llm_endpoint = good_endpoint;
	h = exec_handle_new(x, &err);
	ok(h && exec_llm_client(x) != NULL, "a later call makes the client once the setting is good");
	ok(exec_block_ctx(x, h, NULL, 0).llm == h, "the handle goes into the block context");
	exec_handle_free(h);
	ok(exec_connect(x, &err) == 0, "connecting again is a no-op");
	exec_handle_free(NULL);
}

static void test_plan_seeds(void)
{
	const char *def = "{\"name\":\"e\",\"blocks\":[{\"type\":\"Echo\"}]}";
	const char *seeds = "[{\"repetitions\":2,\"metadata\":{\"content\":\"a\"}},"
			    "{\"metadata\":{\"content\":\"b\"}},"
			    "{\"repetitions\":3,\"metadata\":{\"content\":\"c\"}}]";
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_plan_job pj;
	struct dgen_plan plan;
	struct dgen_unit u;
	char *got;

	if (job(def, seeds, &pj) || plan_build(&pj, &plan, &err)) {
		ok(0, "plan a seed file: %s", err.msg);
		return;
	}
	ok(!pj.pipeline && !pj.seeds.v, "the plan takes the pipeline and the seeds over");
	ok(plan.total == 6 && plan.pending == 6, "one unit per repetition (%lld)",
	   (long long)plan.total);
	ok(plan_next(&plan, &u) && u.unit == 0 && strcmp(u.state_text, "{\"content\":\"a\"}") == 0,
	   "a unit starts from its seed's metadata, printed once");
	plan_unit_free(&u);
	got = units_of(&plan);
	is_str(got, "1:0/1/-1 2:1/0/-1 3:2/0/-1 4:2/1/-1 5:2/2/-1",
	       "seeds in file order, repetitions consecutive");
	free(got);
	plan_free(&plan);

	/* a resumed job skips what is stored; a retry job runs only its list */
	job(def, seeds, &pj);
	pj.done = dgen_xcalloc(2, sizeof *pj.done);
	pj.done[0] = 1;
	pj.done[1] = 4;
	pj.n_done = 2;
	pj.units = "[{\"unit\":5},{\"unit\":1},{\"unit\":2}]";
	if (plan_build(&pj, &plan, &err) == 0) {
		ok(plan.total == 3 && plan.pending == 2, "a retry list of 3, one of them done");
		got = units_of(&plan);
		is_str(got, "2:1/0/-1 5:2/2/-1", "only the listed units that are not done, in order");
		free(got);
		plan_free(&plan);
	}
	job(def, seeds, &pj);
	pj.units = "{\"unit\":1}";
	ok(plan_build(&pj, &plan, &err) == -1 && err.code == DGEN_EINTERNAL,
	   "a unit list that is not an array fails the plan");
	dgen_err_clear(&err);
}

static void split_failed(void *arg, size_t seed, long rep, const struct dgen_err *err)
{
	char **log = arg;
	char *t = dgen_xasprintf("%s[%zu/%ld: %s]", *log, seed, rep, err->msg);

	free(*log);
	*log = t;
}

static void test_plan_chunks(void)
{
	const char *def = "{\"name\":\"m\",\"blocks\":[{\"type\":\"Split\"},{\"type\":\"Echo\"}]}";
	const char *seeds = "[{\"repetitions\":2,\"metadata\":{\"text\":\"a,b\"}},"
			    "{\"metadata\":{\"text\":\"fail\"}},"
			    "{\"metadata\":{\"text\":\"c,d,e\"}}]";
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_block_ctx ctx = exec_block_ctx(x, NULL, NULL, 0);
	struct dgen_plan_job pj;
	struct dgen_plan plan;
	char *log = dgen_xstrdup(""), *got;

	job(def, seeds, &pj);
	pj.ctx = &ctx;
	ok(plan_build(&pj, &plan, &err) == -1 && strstr(err.msg, "cannot split"),
	   "a failed split fails the plan (the runner's job fails)");
	dgen_err_clear(&err);

	job(def, seeds, &pj);
	pj.ctx = &ctx;
	pj.skip = split_failed;
	pj.skip_arg = &log;
	pj.done = dgen_xcalloc(1, sizeof *pj.done);
	pj.done[0] = 3;
	pj.n_done = 1;
	if (plan_build(&pj, &plan, &err) != 0) {
		ok(0, "plan a multiplier job: %s", err.msg);
		free(log);
		return;
	}
	ok(strstr(log, "[1/0: ") && strstr(log, "cannot split"),
	   "with skip, a failed split is told and skipped (%s)", log);
	ok(plan.total == 7 && plan.pending == 6, "one unit per chunk, the skipped repetition has none");
	got = units_of(&plan);
	is_str(got, "0:0/0/0 1:0/0/1 2:0/1/0 4:2/0/0 5:2/0/1 6:2/0/2",
	       "chunks numbered in document order across repetitions and seeds, done ones skipped");
	free(got);
	free(log);
	plan_free(&plan);
}

static void test_export_line(void)
{
	struct json_object *meta = J("{\"topic\":\"tea\",\"n\":1}");
	struct json_object *state = J("{\"topic\":\"tea\",\"n\":2,\"assistant\":\"hi\"}");
	struct json_object *trace = J("[{\"block_type\":\"Echo\"}]");
	struct dgen_export_fields f = {
		.id = 7, .output = "hi", .metadata = meta, .status = "pending", .state = state,
		.trace_id = "t", .job_id = 3, .pipeline_id = 2,
		.created_at = "2026-01-01T00:00:00.000Z", .updated_at = "2026-01-01T00:00:00.000Z",
	};
	struct json_object *o = export_line_new(&f);

	is_str(dgen_json_compact(o),
	       "{\"id\":7,\"output\":\"hi\",\"metadata\":{\"topic\":\"tea\",\"n\":1},"
	       "\"status\":\"pending\",\"accumulated_state\":{\"n\":2,\"assistant\":\"hi\"},"
	       "\"trace_id\":\"t\",\"job_id\":3,\"pipeline_id\":2,"
	       "\"created_at\":\"2026-01-01T00:00:00.000Z\","
	       "\"updated_at\":\"2026-01-01T00:00:00.000Z\","
	       "\"reviewed_by\":null,\"reviewed_at\":null}",
	       "the export line: SPEC.md's keys in order, the state without metadata's values");
	json_object_put(o);
	f.job_id = f.pipeline_id = 0;
	f.trace = trace;
	f.metadata = NULL;
	o = export_line_new(&f);
	ok(json_object_object_get(o, "job_id") == NULL &&
		   json_object_object_get_ex(o, "job_id", NULL) &&
		   json_object_object_length(json_object_object_get(o, "metadata")) == 0 &&
		   json_object_object_length(json_object_object_get(o, "accumulated_state")) == 3 &&
		   json_object_array_length(json_object_object_get(o, "trace")) == 1,
	   "offline: null job and pipeline ids, the trace when asked for, {} for no metadata");
	json_object_put(o);
	json_object_put(meta);
	json_object_put(state);
	json_object_put(trace);
}

/* A model "name" served by mock m as its model_name id. */
static void add_model(struct dgen_model_list *l, const char *name, const struct mock *m,
		      const char *id, bool is_default)
{
	struct dgen_model *v;

	l->v = dgen_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	v = &l->v[l->n++];
	memset(v, 0, sizeof *v);
	v->name = dgen_xstrdup(name);
	v->provider = dgen_xstrdup("openai");
	v->endpoint = dgen_xasprintf("%s/v1/chat/completions", m->url);
	v->model_name = dgen_xstrdup(id);
	v->is_default = is_default;
}

/* What a block with config `model: name` gets back from the mock in JSON
 * mode: the model id it was asked for ("" on failure, err set). */
static char *ask_model(struct dgen_block_ctx *ctx, const char *name, struct dgen_err *err)
{
	struct dgen_llm_message msg = { "user", "hello" };
	struct json_object *config = json_object_new_object(), *o, *v;
	char *reply = NULL, *got = dgen_xstrdup("");

	if (name)
		json_object_object_add(config, "model", json_object_new_string(name));
	if (blockutil_ask(ctx, config, &msg, 1, DGEN_LLM_JSON_OBJECT, NULL, &reply, err) == 0 &&
	    (o = json_tokener_parse(reply))) {
		if (json_object_object_get_ex(o, "model", &v)) {
			free(got);
			got = dgen_xstrdup(json_object_get_string(v));
		}
		json_object_put(o);
	}
	free(reply);
	json_object_put(config);
	return got;
}

static long mock_requests(const struct mock *m)
{
	struct json_object *o = mock_http(m, "GET", "/mock/stats", NULL), *v;
	long n = -1;

	if (o && json_object_object_get_ex(o, "requests", &v))
		n = (long)json_object_get_int64(v);
	json_object_put(o);
	return n;
}

static void test_named_models(void)
{
	struct mock a, b;
	struct dgen_model_list l = { NULL, 0 }, same = { NULL, 0 }, fewer = { NULL, 0 };
	struct dgen_err err = DGEN_ERR_INIT;
	struct dgen_exec *mx;
	struct dgen_block_ctx ctx;
	struct dgen_llm_handle *h1, *h2;
	const char *id;
	char *got;

	if (mock_start(&a, NULL) != 0 || mock_start(&b, NULL) != 0) {
		ok(0, "start two mock LLMs");
		return;
	}
	mx = exec_new(&cfg, registry_new(test_types, DGEN_ARRAY_LEN(test_types)));
	add_model(&l, "first", &a, "m-one", true);
	add_model(&l, "second", &b, "m-two", false);
	exec_set_models(mx, &l, NULL);
	ok(l.n == 0 && l.v == NULL, "the environment takes the list over");
	ctx = exec_block_ctx(mx, NULL, NULL, 0);

	got = ask_model(&ctx, "second", &err);
	is_str(got, "m-two", "a block with model \"second\" asks for the second model's id (%s)",
	       err.msg);
	free(got);
	ok(mock_requests(&b) == 1 && mock_requests(&a) == 0, "at the second model's endpoint");
	got = ask_model(&ctx, NULL, &err);
	is_str(got, "m-one", "no model: the default model (%s)", err.msg);
	free(got);
	got = ask_model(&ctx, "", &err);
	is_str(got, "m-one", "an empty name: the default model");
	free(got);
	ok(mock_requests(&a) == 2 && mock_requests(&b) == 1, "at the default's endpoint");
	got = ask_model(&ctx, "third", &err);
	ok(*got == '\0' && err.code == DGEN_EBLOCK && strstr(err.msg, "'third'"),
	   "an unknown name is a block error naming it (%s)", err.msg);
	free(got);
	dgen_err_clear(&err);

	h1 = ctx.models->llm(&ctx, "second", &id, &err);
	add_model(&same, "first", &a, "m-one", true);
	add_model(&same, "second", &b, "m-two", false);
	exec_set_models(mx, &same, NULL);
	h2 = ctx.models->llm(&ctx, "second", &id, &err);
	ok(h1 && h1 == h2 && id == NULL, "the same set again keeps the clients and handles");

	add_model(&fewer, "first", &a, "m-one", true);
	exec_set_models(mx, &fewer, NULL);
	got = ask_model(&ctx, "second", &err);
	ok(*got == '\0' && err.code == DGEN_EBLOCK && strstr(err.msg, "'second'"),
	   "a model deleted since: the block fails naming it (%s)", err.msg);
	free(got);
	dgen_err_clear(&err);
	got = ask_model(&ctx, "first", &err);
	is_str(got, "m-one", "the models left still answer");
	free(got);
	dgen_err_clear(&err);
	exec_free(mx);
	mock_stop(&a);
	mock_stop(&b);
}

int main(void)
{
	struct dgen_registry *reg = registry_new(test_types, DGEN_ARRAY_LEN(test_types));

	dgen_log_init("test_exec", false, 2);
	cfg.blocks_dir = no_plugins;
	cfg.template_max_output = 4096;
	cfg.template_max_iterations = 77;
	cfg.max_upload = 2048;
	cfg.json_depth = 9;
	cfg.max_string = 512;
	cfg.max_seeds = 3;
	cfg.max_repetitions = 4;
	cfg.llm_provider = empty;
	cfg.llm_proxy = empty;
	cfg.llm_timeout_ms = 1000;
	cfg.llm_connect_timeout_ms = 1000;
	x = exec_new(&cfg, reg);

	test_environment();
	test_llm_client();
	test_plan_seeds();
	test_plan_chunks();
	test_export_line();
	test_named_models();
	exec_free(x);
	return done_testing();
}
