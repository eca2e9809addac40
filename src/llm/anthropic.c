/*
 * anthropic.c - Anthropic's messages API (POST /v1/messages, x-api-key,
 * anthropic-version). The system prompt is a top-level field, max_tokens is
 * required, and there is no JSON mode: the schema goes into the system
 * prompt with an instruction to answer with JSON only. Usage counts cache
 * reads and writes apart from input_tokens; they are added back so that
 * input_tokens means every prompt token (SPEC.md §7).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dgen/buf.h"
#include "dgen/json.h"
#include "dgen/util.h"
#include "provider.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define ANTHROPIC_DEFAULT_MAX_TOKENS 4096

static struct curl_slist *anthropic_headers(struct curl_slist *h, const char *api_key)
{
	if (api_key && *api_key) {
		char *line = dgen_xasprintf("x-api-key: %s", api_key);

		h = curl_slist_append(h, line);
		memset(line, 0, strlen(line));
		free(line);
	}
	return curl_slist_append(h, "anthropic-version: " ANTHROPIC_VERSION);
}

/* System messages join the top-level system prompt (the API has no
 * system role), and the JSON instruction goes there too since there is no
 * JSON mode. Temperature is capped at 1, Anthropic's maximum. */
static struct json_object *anthropic_build(const struct dgen_llm_request *req, const char *model)
{
	struct json_object *body = json_object_new_object(), *msgs = json_object_new_array();
	struct dgen_buf sys = DGEN_BUF_INIT;
	double t = req->temperature;

	json_object_object_add(body, "model", json_object_new_string(model));
	json_object_object_add(body, "max_tokens", json_object_new_int(
		req->max_tokens > 0 ? req->max_tokens : ANTHROPIC_DEFAULT_MAX_TOKENS));
	for (size_t i = 0; i < req->n_messages; i++) {
		const char *role = req->messages[i].role;
		struct json_object *m;

		if (strcmp(role, "user") && strcmp(role, "assistant")) {
			/* system (and OpenAI's "developer") join the system prompt */
			if (sys.len)
				dgen_buf_puts(&sys, "\n\n");
			dgen_buf_puts(&sys, req->messages[i].content);
			continue;
		}
		m = json_object_new_object();
		json_object_object_add(m, "role", json_object_new_string(role));
		json_object_object_add(m, "content", json_object_new_string(req->messages[i].content));
		json_object_array_add(msgs, m);
	}
	if (req->format != DGEN_LLM_TEXT) {
		if (sys.len)
			dgen_buf_puts(&sys, "\n\n");
		dgen_buf_puts(&sys, "Respond with only one JSON object: no prose, no code fences.");
		if (req->format == DGEN_LLM_JSON_SCHEMA)
			dgen_buf_printf(&sys, " The JSON must conform to this JSON schema:\n%s",
					dgen_json_compact(req->schema));
	}
	if (sys.len)
		json_object_object_add(body, "system", json_object_new_string(dgen_buf_str(&sys)));
	json_object_object_add(body, "messages", msgs);
	if (t >= 0)
		json_object_object_add(body, "temperature", dgen_json_new_double(t > 1 ? 1 : t));
	dgen_buf_free(&sys);
	return body;
}

/* The answer is the text blocks joined; thinking and tool blocks are not
 * part of it. Cache reads and writes are added back into the input count
 * (SPEC.md §7). */
static int anthropic_parse(const struct llm_adapter *ad, struct json_object *reply,
			   struct dgen_llm_response *resp, enum llm_finish *finish,
			   struct dgen_err *err)
{
	static const char *const usage_keys[] = { "input_tokens", "output_tokens",
						  "cache_read_input_tokens",
						  "cache_creation_input_tokens", NULL };
	const char *display = ad->display;
	struct json_object *content;
	struct dgen_buf text = DGEN_BUF_INIT;
	int64_t n[4]; /* in, out, cache reads, cache writes */

	if (!json_object_object_get_ex(reply, "content", &content) ||
	    !json_object_is_type(content, json_type_array))
		return llm_malformed(err, display, "no 'content' array");
	for (size_t i = 0; i < json_object_array_length(content); i++) {
		struct json_object *blk = json_object_array_get_idx(content, i), *type, *t;

		if (!json_object_is_type(blk, json_type_object) ||
		    !json_object_object_get_ex(blk, "type", &type) ||
		    !json_object_is_type(type, json_type_string)) {
			dgen_buf_free(&text);
			return llm_malformed(err, display, "a content block without a type");
		}
		if (strcmp(json_object_get_string(type), "text") != 0)
			continue; /* thinking, tool_use: not part of the answer */
		if (!json_object_object_get_ex(blk, "text", &t) || !json_object_is_type(t, json_type_string)) {
			dgen_buf_free(&text);
			return llm_malformed(err, display, "a text block without text");
		}
		dgen_buf_append(&text, json_object_get_string(t), (size_t)json_object_get_string_len(t));
	}
	if (llm_reply_reason(ad, reply, "stop_reason", "stop_reason", resp, err) ||
	    llm_reply_usage(ad, reply, usage_keys, n, err)) {
		dgen_buf_free(&text);
		return -1;
	}
	resp->text = text.len ? dgen_buf_steal(&text) : dgen_xstrdup("");
	dgen_buf_free(&text);
	llm_usage_set(resp, n[0] + n[2] + n[3], n[1], n[2]);
	*finish = LLM_FINISH_OK;
	if (resp->finish_reason && strcmp(resp->finish_reason, "max_tokens") == 0)
		*finish = LLM_FINISH_LENGTH;
	else if (resp->finish_reason && strcmp(resp->finish_reason, "refusal") == 0)
		*finish = LLM_FINISH_FILTER;
	return 0;
}

const struct llm_adapter llm_anthropic_adapter = {
	.id = DGEN_LLM_ANTHROPIC, .name = "anthropic", .display = "Anthropic",
	.default_path = "/v1/messages",
	.headers = anthropic_headers,
	.build = anthropic_build,
	.parse = anthropic_parse,
	/* {"type": "error", "error": {"type": ..., "message": ...}} reads as OpenAI's */
	.error_text = openai_error_text,
};
