/*
 * gemini.c - Google Gemini through its OpenAI-compatible endpoint (POST
 * /v1beta/openai/chat/completions, Authorization: Bearer <key>). The body
 * and reply are OpenAI's; errors come wrapped in a one-element list, which
 * openai_error_text() already reads.
 */
#include "config.h"

#include "provider.h"

static int gemini_parse(struct json_object *reply, struct dgen_llm_response *resp,
			enum llm_finish *finish, struct dgen_err *err)
{
	return openai_parse_as(llm_gemini_adapter.display, reply, resp, finish, err);
}

const struct llm_adapter llm_gemini_adapter = {
	.id = DGEN_LLM_GEMINI,
	.name = "gemini",
	.display = "Gemini",
	.default_path = "/v1beta/openai/chat/completions",
	.headers = openai_headers,
	.build = openai_build,
	.parse = gemini_parse,
	.error_text = openai_error_text,
};
