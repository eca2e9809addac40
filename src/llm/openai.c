/*
 * openai.c - the OpenAI chat completions wire format (POST
 * /v1/chat/completions), also spoken by Ollama's /v1 API, vLLM, llama.cpp
 * and most hosted gateways. Gemini's compatibility endpoint reuses these
 * functions (gemini.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dgen/json.h"
#include "dgen/util.h"
#include "provider.h"

struct curl_slist *openai_headers(struct curl_slist *h, const char *api_key)
{
	if (api_key && *api_key) {
		char *line = dgen_xasprintf("Authorization: Bearer %s", api_key);

		h = curl_slist_append(h, line);
		/* The header line holds the key: wipe our copy. */
		memset(line, 0, strlen(line));
		free(line);
	}
	return h;
}

static struct json_object *message(const char *role, const char *content)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "role", json_object_new_string(role));
	json_object_object_add(m, "content", json_object_new_string(content));
	return m;
}

/* Messages as given; JSON-object mode needs the word "json" in the
 * conversation (OpenAI refuses the request otherwise), so a short system
 * instruction is put first when no message mentions it. */
struct json_object *openai_build(const struct dgen_llm_request *req, const char *model)
{
	struct json_object *body = json_object_new_object(), *msgs = json_object_new_array();

	json_object_object_add(body, "model", json_object_new_string(model));
	if (req->format == DGEN_LLM_JSON_OBJECT && !llm_messages_mention_json(req))
		json_object_array_add(msgs, message("system", "Reply with one JSON object."));
	for (size_t i = 0; i < req->n_messages; i++)
		json_object_array_add(msgs, message(req->messages[i].role, req->messages[i].content));
	json_object_object_add(body, "messages", msgs);
	if (req->temperature >= 0)
		json_object_object_add(body, "temperature", dgen_json_new_double(req->temperature));
	if (req->max_tokens > 0)
		json_object_object_add(body, "max_tokens", json_object_new_int(req->max_tokens));
	json_object_object_add(body, "stream", json_object_new_boolean(0));
	if (req->format == DGEN_LLM_JSON_OBJECT) {
		struct json_object *rf = json_object_new_object();

		json_object_object_add(rf, "type", json_object_new_string("json_object"));
		json_object_object_add(body, "response_format", rf);
	} else if (req->format == DGEN_LLM_JSON_SCHEMA) {
		struct json_object *rf = json_object_new_object(), *js = json_object_new_object();

		json_object_object_add(js, "name", json_object_new_string(llm_schema_name(req->schema)));
		json_object_object_add(js, "schema", json_object_get(req->schema));
		json_object_object_add(js, "strict", json_object_new_boolean(1));
		json_object_object_add(rf, "type", json_object_new_string("json_schema"));
		json_object_object_add(rf, "json_schema", js);
		json_object_object_add(body, "response_format", rf);
	}
	return body;
}

static void put_key(struct dgen_buf *b, const char *key)
{
	dgen_json_put_string(b, key, strlen(key));
	dgen_buf_putc(b, ':');
}

static void put_message(struct dgen_buf *b, const char *role, const char *content)
{
	dgen_buf_puts(b, "{\"role\":");
	dgen_json_put_string(b, role, strlen(role));
	dgen_buf_puts(b, ",\"content\":");
	dgen_json_put_string(b, content, strlen(content));
	dgen_buf_putc(b, '}');
}

/* openai_build()'s body as its compact text, written directly: a call
 * then costs no json_object tree. A JSON-schema request (which carries a
 * whole schema object) is left to openai_build(). */
bool openai_write(const struct dgen_llm_request *req, const char *model, struct dgen_buf *out)
{
	char num[40];
	bool first = true;

	if (req->format != DGEN_LLM_TEXT && req->format != DGEN_LLM_JSON_OBJECT)
		return false;
	dgen_buf_putc(out, '{');
	put_key(out, "model");
	dgen_json_put_string(out, model, strlen(model));
	dgen_buf_putc(out, ',');
	put_key(out, "messages");
	dgen_buf_putc(out, '[');
	if (req->format == DGEN_LLM_JSON_OBJECT && !llm_messages_mention_json(req)) {
		put_message(out, "system", "Reply with one JSON object.");
		first = false;
	}
	for (size_t i = 0; i < req->n_messages; i++, first = false) {
		if (!first)
			dgen_buf_putc(out, ',');
		put_message(out, req->messages[i].role, req->messages[i].content);
	}
	dgen_buf_putc(out, ']');
	if (req->temperature >= 0) {
		dgen_buf_putc(out, ',');
		put_key(out, "temperature");
		dgen_buf_puts(out, dgen_json_double_text(req->temperature, num) ? num : "null");
	}
	if (req->max_tokens > 0) {
		dgen_buf_putc(out, ',');
		put_key(out, "max_tokens");
		dgen_buf_printf(out, "%d", req->max_tokens);
	}
	dgen_buf_puts(out, ",\"stream\":false");
	if (req->format == DGEN_LLM_JSON_OBJECT)
		dgen_buf_puts(out, ",\"response_format\":{\"type\":\"json_object\"}");
	dgen_buf_putc(out, '}');
	return true;
}

static enum llm_finish finish_kind(const char *r)
{
	if (!r)
		return LLM_FINISH_OK;
	/* Gemini's compatibility layer has been seen to pass its own names. */
	if (strcasecmp(r, "length") == 0 || strcasecmp(r, "max_tokens") == 0)
		return LLM_FINISH_LENGTH;
	if (strcasecmp(r, "content_filter") == 0 || strcasecmp(r, "safety") == 0 ||
	    strcasecmp(r, "recitation") == 0 || strcasecmp(r, "prohibited_content") == 0)
		return LLM_FINISH_FILTER;
	return LLM_FINISH_OK;
}

/* Only the first choice is read. content may be null for a refusal or a
 * tool call; that is an empty answer, not a malformed reply, when the
 * finish reason explains it. */
int openai_parse(const struct llm_adapter *ad, struct json_object *reply,
		 struct dgen_llm_response *resp, enum llm_finish *finish, struct dgen_err *err)
{
	static const char *const usage_keys[] = { "prompt_tokens", "completion_tokens",
						  "prompt_tokens_details.cached_tokens", NULL };
	const char *display = ad->display;
	struct json_object *choices, *choice, *msg, *content, *refusal;
	int64_t n[3];

	if (!json_object_object_get_ex(reply, "choices", &choices) ||
	    !json_object_is_type(choices, json_type_array) || json_object_array_length(choices) == 0)
		return llm_malformed(err, display, "no 'choices' array");
	choice = json_object_array_get_idx(choices, 0);
	if (!json_object_is_type(choice, json_type_object) ||
	    !json_object_object_get_ex(choice, "message", &msg) ||
	    !json_object_is_type(msg, json_type_object))
		return llm_malformed(err, display, "no 'choices[0].message' object");
	if (llm_reply_reason(ad, choice, "finish_reason", "choices[0].finish_reason", resp, err))
		return -1;
	*finish = finish_kind(resp->finish_reason);
	/* A refusal (structured outputs) is a content-filter outcome. */
	if (json_object_object_get_ex(msg, "refusal", &refusal) &&
	    json_object_is_type(refusal, json_type_string) && json_object_get_string_len(refusal) > 0) {
		*finish = LLM_FINISH_FILTER;
		if (!resp->finish_reason)
			resp->finish_reason = dgen_xstrdup("refusal");
	}
	if (!json_object_object_get_ex(msg, "content", &content) || !content) {
		if (*finish == LLM_FINISH_OK && !json_object_object_get_ex(msg, "tool_calls", NULL))
			return llm_malformed(err, display, "no 'choices[0].message.content'");
		resp->text = dgen_xstrdup("");
	} else if (json_object_is_type(content, json_type_string)) {
		resp->text = dgen_xstrndup(json_object_get_string(content),
					   (size_t)json_object_get_string_len(content));
	} else {
		return llm_malformed(err, display, "'choices[0].message.content' is not a string");
	}
	if (llm_reply_usage(ad, reply, usage_keys, n, err))
		return -1;
	llm_usage_set(resp, n[0], n[1], n[2]);
	return 0;
}

/* {"error": {"message": ...}}, {"error": "..."} (Ollama's /v1), or a
 * one-element list of either (Gemini). */
char *openai_error_text(struct json_object *reply)
{
	struct json_object *e, *m;

	if (json_object_is_type(reply, json_type_array) && json_object_array_length(reply) > 0)
		reply = json_object_array_get_idx(reply, 0);
	if (!json_object_is_type(reply, json_type_object) ||
	    !json_object_object_get_ex(reply, "error", &e))
		return NULL;
	if (json_object_is_type(e, json_type_string))
		return dgen_xstrdup(json_object_get_string(e));
	if (json_object_is_type(e, json_type_object) && json_object_object_get_ex(e, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		return dgen_xstrdup(json_object_get_string(m));
	return NULL;
}

const struct llm_adapter llm_openai_adapter = {
	.id = DGEN_LLM_OPENAI, .name = "openai", .display = "OpenAI",
	.default_path = "/v1/chat/completions",
	LLM_OPENAI_WIRE,
};
