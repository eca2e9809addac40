/*
 * ollama.c - Ollama's native chat API (POST /api/chat with stream:false).
 * Structured output goes in "format": "json" or the schema itself; sampling
 * options go in "options" (num_predict is the token limit). Ollama has no
 * key of its own; a key, when configured, is sent as a bearer token for
 * the proxies that usually guard a shared Ollama.
 */
#include "config.h"

#include <string.h>

#include "dgen/json.h"
#include "dgen/util.h"
#include "provider.h"

/* Native /api/chat: sampling settings go under "options" (sent only
 * when one is set), and the schema itself is the "format". */
static struct json_object *ollama_build(const struct dgen_llm_request *req, const char *model)
{
	struct json_object *body = json_object_new_object(), *msgs = json_object_new_array();
	struct json_object *opts = json_object_new_object();

	json_object_object_add(body, "model", json_object_new_string(model));
	for (size_t i = 0; i < req->n_messages; i++) {
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "role", json_object_new_string(req->messages[i].role));
		json_object_object_add(m, "content", json_object_new_string(req->messages[i].content));
		json_object_array_add(msgs, m);
	}
	json_object_object_add(body, "messages", msgs);
	json_object_object_add(body, "stream", json_object_new_boolean(0));
	if (req->format == DGEN_LLM_JSON_OBJECT)
		json_object_object_add(body, "format", json_object_new_string("json"));
	else if (req->format == DGEN_LLM_JSON_SCHEMA)
		json_object_object_add(body, "format", json_object_get(req->schema));
	if (req->temperature >= 0)
		json_object_object_add(opts, "temperature", dgen_json_new_double(req->temperature));
	if (req->max_tokens > 0)
		json_object_object_add(opts, "num_predict", json_object_new_int(req->max_tokens));
	if (json_object_object_length(opts) > 0)
		json_object_object_add(body, "options", opts);
	else
		json_object_put(opts);
	return body;
}

static int ollama_parse(const struct llm_adapter *ad, struct json_object *reply,
			struct dgen_llm_response *resp, enum llm_finish *finish,
			struct dgen_err *err)
{
	const char *display = ad->display;
	struct json_object *msg, *content;
	int64_t in = 0, out = 0;

	if (!json_object_object_get_ex(reply, "message", &msg) || !json_object_is_type(msg, json_type_object))
		return llm_malformed(err, display, "no 'message' object");
	if (!json_object_object_get_ex(msg, "content", &content) ||
	    !json_object_is_type(content, json_type_string))
		return llm_malformed(err, display, "'message.content' is not a string");
	if (llm_reply_reason(ad, reply, "done_reason", "done_reason", resp, err))
		return -1;
	if (llm_usage_int(reply, "prompt_eval_count", &in) || llm_usage_int(reply, "eval_count", &out))
		return llm_malformed(err, display, "a bad token count");
	resp->text = dgen_xstrndup(json_object_get_string(content), (size_t)json_object_get_string_len(content));
	llm_usage_set(resp, in, out, 0); /* Ollama does not report its KV-cache reuse */
	*finish = resp->finish_reason && strcmp(resp->finish_reason, "length") == 0 ?
		  LLM_FINISH_LENGTH : LLM_FINISH_OK;
	return 0;
}

/* {"error": "..."} */
static char *ollama_error_text(struct json_object *reply)
{
	struct json_object *e;

	if (json_object_is_type(reply, json_type_object) && json_object_object_get_ex(reply, "error", &e) &&
	    json_object_is_type(e, json_type_string))
		return dgen_xstrdup(json_object_get_string(e));
	return openai_error_text(reply);
}

const struct llm_adapter llm_ollama_adapter = {
	.id = DGEN_LLM_OLLAMA, .name = "ollama", .display = "Ollama",
	.default_path = "/api/chat",
	.headers = openai_headers, /* a key, when set, goes as a Bearer token */
	.build = ollama_build,
	.parse = ollama_parse,
	.error_text = ollama_error_text,
};
