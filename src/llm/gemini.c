/*
 * gemini.c - Google Gemini through its OpenAI-compatible endpoint (POST
 * /v1beta/openai/chat/completions, Authorization: Bearer <key>). The body
 * and reply are OpenAI's; errors come wrapped in a one-element list, which
 * openai_error_text() already reads.
 */
#include "config.h"

#include "provider.h"

const struct llm_adapter llm_gemini_adapter = {
	.id = DGEN_LLM_GEMINI, .name = "gemini", .display = "Gemini",
	.default_path = "/v1beta/openai/chat/completions",
	LLM_OPENAI_WIRE,
};
