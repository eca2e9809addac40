/*
 * test_generators.c - TextGenerator and StructuredGenerator: their config
 * checks and errors without an LLM, how replies are read, and whole runs
 * through a real LLM handle against tests/mock-llm (started here on a
 * free port): what is sent, what comes back, usage.
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/blockutil.h"
#include "dgen/config.h"
#include "dgen/llm.h"
#include "blocks_test.h"
#include "mock-llm/mock.h"

static struct mock M;

static void test_config_errors(void)
{
	bt_init_error(&text_generator_block, "{\"user_prompt\":\"Hi {{ name \"}", "user_prompt",
			  "template syntax error names the prompt");
	bt_init_error(&text_generator_block, "{\"system_prompt\":\"{% if x %}open\"}",
			  "system_prompt", "unclosed if in the system prompt");
	bt_init_error(&text_generator_block, "{\"temperature\":2.5}", "temperature",
			  "temperature above 2");
	bt_init_error(&text_generator_block, "{\"max_tokens\":0}", "max_tokens",
			  "max_tokens of 0");
	bt_init_error(&structured_generator_block, "{}", "json_schema",
			  "json_schema is required");
	bt_init_error(&structured_generator_block, "{\"json_schema\":\"{{ broken\"}",
			  "json_schema", "json_schema template syntax error");
	bt_init_error(&structured_generator_block,
			  "{\"json_schema\":{},\"user_prompt\":\"{{ a | }}\"}", "user_prompt",
			  "user_prompt syntax error");
}

static void test_without_llm(void)
{
	is_json(&text_generator_block, "{\"user_prompt\":\"Hello {{ name }}\"}",
		"{\"name\":\"Ann\"}", "ERROR: no LLM is configured (set LLM_ENDPOINT)",
		"no LLM handle: a block error");
	{
		char *got = bt_json(&text_generator_block, "{\"user_prompt\":\"Hello {{ name }}\"}",
				    "{}");

		ok(strncmp(got, "ERROR: user_prompt: ", 20) == 0 && strstr(got, "'name'"),
		   "undefined variable: error names the prompt and the variable: %s", got);
		free(got);
	}
	is_json(&text_generator_block, NULL, "{}",
		"ERROR: nothing to send: system_prompt and user_prompt are empty and the state "
		"has no 'system' or 'user' text",
		"empty prompts and no state text: refused");
	is_json(&structured_generator_block, "{\"json_schema\":\"[{{ n }}]\"}", "{\"n\":1}",
		"ERROR: json_schema did not render to a JSON object",
		"schema template rendering to an array: a block error");
	{
		char *got = bt_json(&structured_generator_block, "{\"json_schema\":\"{ {{ n }}\"}",
				    "{\"n\":1}");

		ok(strncmp(got, "ERROR: json_schema did not render to valid JSON", 47) == 0,
		   "schema template rendering to bad JSON: %s", got);
		free(got);
	}
}

static void is_reply(const char *text, const char *want, const char *what)
{
	struct json_object *o = blockutil_json_reply(text);

	is_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), want, "%s", what);
	json_object_put(o);
}

static void test_reply_parsing(void)
{
	is_reply("{\"a\":1}", "{\"a\":1}", "plain object");
	is_reply("```json\n{\"a\":1}\n```", "{\"a\":1}", "surrounding ```json fence");
	is_reply("Sure! Here it is:\n```json\n{\"a\":2}\n```\nAnything else?", "{\"a\":2}",
		 "fenced block inside prose");
	is_reply("Two blocks:\n```\nnot json\n```\n```json\n{\"b\":3}\n```", "{\"b\":3}",
		 "```json block preferred");
	is_reply("[1,2]", "{\"raw_response\":\"[1,2]\"}", "an array is not an object");
	is_reply("no json here", "{\"raw_response\":\"no json here\"}", "prose: raw_response");
	is_reply("", "{\"raw_response\":\"\"}", "empty reply: raw_response");
}

/* ---- against the mock ------------------------------------------------- */

struct llm {
	struct dgen_llm_client *c;
	struct dgen_llm_handle *h;
};

static int llm_open(struct llm *l)
{
	static char ep[256];
	struct dgen_config cfg;
	struct dgen_err e = DGEN_ERR_INIT;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(ep, sizeof(ep), "%s/v1/chat/completions", M.url);
	cfg.llm_endpoint = ep;
	cfg.llm_api_key = (char *)"";
	cfg.llm_model = (char *)"mock-model";
	cfg.llm_provider = (char *)"openai";
	cfg.llm_proxy = (char *)"";
	cfg.llm_timeout_ms = 10000;
	cfg.llm_connect_timeout_ms = 5000;
	cfg.llm_max_retries = 0;
	cfg.llm_retry_after_cap_ms = 1000;
	cfg.llm_max_response = 1 << 20;
	if (llm_client_new(&cfg, &l->c, &e) != 0) {
		diag("llm_client_new: %s", e.msg);
		dgen_err_clear(&e);
		return -1;
	}
	l->h = llm_handle_new(l->c);
	return 0;
}

/* The body of the mock's last request (caller puts *holder). */
static struct json_object *last_body(struct json_object **holder)
{
	struct json_object *reqs = NULL, *r, *body = NULL;

	*holder = mock_http(&M, "GET", "/mock/requests?n=1", NULL);
	if (*holder && json_object_object_get_ex(*holder, "requests", &reqs) &&
	    json_object_array_length(reqs) == 1) {
		r = json_object_array_get_idx(reqs, 0);
		json_object_object_get_ex(r, "body", &body);
	}
	return body;
}

static const char *str_at(struct json_object *o, const char *path)
{
	struct json_object *v = blockutil_field(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void test_text_generator(struct llm *l)
{
	struct dgen_llm_usage usage = { 0 };
	struct dgen_block_ctx ctx = { 0 };
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *out, *holder, *body;
	const char *reply;

	ctx.llm = l->h;
	ctx.usage = &usage;
	out = bt_run(&text_generator_block,
		     "{\"system_prompt\":\"You write about {{ topic }}.\","
		     "\"user_prompt\":\"Tell me about {{ topic | upper }}\",\"temperature\":0.2,"
		     "\"max_tokens\":50}",
		     "{\"topic\":\"cats\"}", &ctx, &e);
	if (!ok(out != NULL, "TextGenerator runs against the mock")) {
		diag("%s", e.msg);
		dgen_err_clear(&e);
		return;
	}
	reply = str_at(out, "assistant");
	is_str(reply, "Mock reply to: Tell me about CATS", "reply to the rendered user prompt");
	is_str(str_at(out, "system"), "You write about cats.", "rendered system prompt returned");
	is_str(str_at(out, "user"), "Tell me about CATS", "rendered user prompt returned");
	is_int(json_object_object_length(out), 3, "exactly assistant, system, user");
	body = last_body(&holder);
	is_int(body ? json_object_array_length(blockutil_field(body, "messages")) : 0, 2,
	       "two messages sent");
	is_str(str_at(body, "messages.0.role"), "system", "system first");
	is_str(str_at(body, "messages.0.content"), "You write about cats.", "system text sent");
	is_str(str_at(body, "messages.1.content"), "Tell me about CATS", "user text sent");
	is_str(str_at(body, "model"), "mock-model", "null model: the configured default");
	ok(usage.input_tokens > 0, "input tokens added to the run (%lld)",
	   (long long)usage.input_tokens);
	is_int(usage.output_tokens, (long long)(strlen(reply) + 3) / 4,
	       "output tokens as the mock counts them (ceil(bytes/4))");
	json_object_put(holder);
	json_object_put(out);

	/* empty prompts: the state's system/user; a model given by name */
	out = bt_run(&text_generator_block, "{\"model\":\"other-model\"}",
		     "{\"system\":\"\",\"user\":\"Say {{ hi }}\"}", &ctx, &e);
	ok(out && strcmp(str_at(out, "assistant"), "Mock reply to: Say {{ hi }}") == 0,
	   "state text is sent as is, never rendered");
	body = last_body(&holder);
	is_int(body ? json_object_array_length(blockutil_field(body, "messages")) : 0, 1,
	       "empty system: only the user message");
	is_str(str_at(body, "model"), "other-model", "the configured model is used");
	json_object_put(holder);
	json_object_put(out);
	dgen_err_clear(&e);

	/* a provider failure surfaces as the block's error */
	mock_config(&M, "{\"error_next\":1,\"error_status\":400}");
	out = bt_run(&text_generator_block, "{\"user_prompt\":\"x\"}", "{}", &ctx, &e);
	ok(!out && e.code != DGEN_OK && strstr(e.msg, "400"),
	   "a 400 from the provider fails the block: %s", e.msg);
	json_object_put(out);
	dgen_err_clear(&e);
}

static void test_structured_generator(struct llm *l)
{
	struct dgen_llm_usage usage = { 0 };
	struct dgen_block_ctx ctx = { 0 };
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *out, *holder, *body, *g;

	ctx.llm = l->h;
	ctx.usage = &usage;
	out = bt_run(&structured_generator_block,
		     "{\"json_schema\":{\"type\":\"object\",\"properties\":{"
		     "\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},"
		     "\"required\":[\"name\",\"age\"]},"
		     "\"user_prompt\":\"A person from {{ city }}\"}",
		     "{\"city\":\"Oslo\"}", &ctx, &e);
	if (!ok(out != NULL, "StructuredGenerator runs against the mock")) {
		diag("%s", e.msg);
		dgen_err_clear(&e);
		return;
	}
	g = blockutil_field(out, "generated");
	ok(g && json_object_is_type(blockutil_field(g, "name"), json_type_string) &&
		   json_object_is_type(blockutil_field(g, "age"), json_type_int),
	   "generated follows the schema: %s", json_object_to_json_string(out));
	body = last_body(&holder);
	is_str(str_at(body, "response_format.type"), "json_schema", "JSON-schema mode requested");
	is_str(str_at(body, "messages.0.content"), "A person from Oslo", "rendered prompt sent");
	ok(usage.output_tokens > 0, "usage added");
	json_object_put(holder);
	json_object_put(out);

	/* schema as a template; prompt from the state's user_prompt */
	out = bt_run(&structured_generator_block,
		     "{\"json_schema\":\"{\\\"type\\\":\\\"object\\\",\\\"properties\\\":"
		     "{\\\"{{ field }}\\\":{\\\"type\\\":\\\"string\\\"}},"
		     "\\\"required\\\":[\\\"{{ field }}\\\"]}\"}",
		     "{\"field\":\"title\",\"user_prompt\":\"Name a book\"}", &ctx, &e);
	g = out ? blockutil_field(out, "generated") : NULL;
	ok(g && json_object_is_type(blockutil_field(g, "title"), json_type_string),
	   "schema template rendered per seed: %s", out ? json_object_to_json_string(out) : e.msg);
	body = last_body(&holder);
	is_str(str_at(body, "messages.0.content"), "Name a book", "state user_prompt used");
	json_object_put(holder);
	json_object_put(out);

	out = bt_run(&structured_generator_block, "{\"json_schema\":{\"type\":\"object\"}}", "{}",
		     &ctx, &e);
	body = last_body(&holder);
	is_str(str_at(body, "messages.0.content"), "Generate data according to schema",
	       "default prompt");
	ok(out && json_object_is_type(blockutil_field(out, "generated"), json_type_object),
	   "generated is an object");
	json_object_put(holder);
	json_object_put(out);
	dgen_err_clear(&e);
}

int main(void)
{
	struct llm l = { NULL, NULL };

	test_config_errors();
	test_without_llm();
	test_reply_parsing();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ok(mock_start(&M, NULL) == 0, "mock LLM started") && ok(llm_open(&l) == 0, "client")) {
		test_text_generator(&l);
		test_structured_generator(&l);
	}
	if (l.h)
		llm_handle_free(l.h);
	if (l.c)
		llm_client_free(l.c);
	mock_stop(&M);
	curl_global_cleanup();
	return done_testing();
}
