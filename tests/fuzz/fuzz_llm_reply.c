/*
 * fuzz_llm_reply.c - provider replies are untrusted bytes: every adapter
 * must read any of them (through the same bounded JSON parser the client
 * uses) without crashing, leaking or reading out of bounds. The first byte
 * picks the adapter; the rest is the reply body.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/json.h"
#include "dgen/llm.h"
#include "../../src/llm/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct llm_adapter *const ads[] = {
		&llm_openai_adapter, &llm_gemini_adapter, &llm_ollama_adapter, &llm_anthropic_adapter,
	};
	const struct llm_adapter *ad;
	struct dgen_err err = DGEN_ERR_INIT;
	struct json_object *o = NULL;
	struct dgen_llm_response resp;
	enum llm_finish fin;
	char *t;

	char *body;

	if (size < 1)
		return 0;
	ad = ads[data[0] % 4];
	/* The client hands the parser its NUL-terminated reply buffer. */
	body = malloc(size);
	if (!body)
		abort();
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	if (dgen_json_parse(body, size - 1, &dgen_json_default_limits, &o, &err) == 0) {
		memset(&resp, 0, sizeof(resp));
		/* as the client does, only an object reaches the parser */
		if (json_object_is_type(o, json_type_object) &&
		    ad->parse(ad, o, &resp, &fin, &err) == 0) {
			/* a success always has text and sane usage */
			if (!resp.text || resp.usage.input_tokens < 0 || resp.usage.output_tokens < 0 ||
			    resp.usage.cached_tokens < 0 || resp.usage.cached_tokens > resp.usage.input_tokens)
				abort();
		}
		llm_response_free(&resp);
		t = ad->error_text(o);
		free(t);
		json_object_put(o);
	}
	dgen_err_clear(&err);
	free(body);
	return 0;
}
