/*
 * text_generator.c - TextGenerator: one chat completion.
 *
 * Both prompts are templates (compiled once in init, rendered per seed
 * against the accumulated state). An empty system_prompt / user_prompt
 * config means "use the state's `system` / `user` field instead" (a
 * string as is, another value as compact JSON, missing as ""). The system
 * message is sent only when non-empty, then the user message; a call with
 * neither is refused. Returns the reply with the prompts actually sent.
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/blocks.h"
#include "dgen/blockutil.h"
#include "dgen/buf.h"
#include "dgen/util.h"

static const char *const inputs[] = { NULL };
static const char *const outputs[] = { "assistant", "system", "user", NULL };

static const struct dgen_block_param params[] = {
	BLOCKUTIL_PARAMS_SAMPLING,
	BLOCKUTIL_PARAM_PROMPT("system_prompt",
			       "System message template; empty uses the state's `system` field"),
	BLOCKUTIL_PARAM_PROMPT("user_prompt",
			       "User message template; empty uses the state's `user` field"),
};

struct tg {
	struct dgen_template *system, *user; /* NULL: take the state's field */
};

static void tg_free(void *p)
{
	struct tg *s = p;

	if (!s)
		return;
	template_free(s->system);
	template_free(s->user);
	free(s);
}

/* Compiles cfg[key] when non-empty; NULL means "take the state's field". */
static int compile_prompt(struct json_object *cfg, const char *key, struct dgen_template **out,
			  struct dgen_err *err)
{
	const char *src = blockutil_cfg_str(cfg, key);

	*out = NULL;
	return src && *src ? blockutil_compile(src, key, out, err) : 0;
}

static int tg_init(struct json_object *config, void **state, struct dgen_err *err)
{
	struct tg *s;

	*state = NULL;
	if (blockutil_check_sampling(config, err) != 0)
		return -1;
	s = dgen_xcalloc(1, sizeof(*s));
	if (compile_prompt(config, "system_prompt", &s->system, err) != 0 ||
	    compile_prompt(config, "user_prompt", &s->user, err) != 0) {
		tg_free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* The prompts actually sent are returned with the reply, so that a
 * record shows what the model saw. */
static int tg_execute(void *state, struct json_object *config, struct dgen_block_ctx *ctx,
		      struct json_object *input, struct json_object **output,
		      struct dgen_err *err)
{
	const struct tg *s = state;
	struct dgen_buf sys = DGEN_BUF_INIT, user = DGEN_BUF_INIT;
	struct dgen_llm_message msgs[2];
	char *reply = NULL;
	size_t n = 0;
	int rc = -1;

	if (blockutil_prompt(s ? s->system : NULL, "system_prompt", "system", input, ctx, &sys, err) ||
	    blockutil_prompt(s ? s->user : NULL, "user_prompt", "user", input, ctx, &user, err))
		goto out;
	if (sys.len == 0 && user.len == 0) {
		dgen_err_set(err, DGEN_EBLOCK,
			     "nothing to send: system_prompt and user_prompt are empty and the "
			     "state has no 'system' or 'user' text");
		goto out;
	}
	if (sys.len > 0)
		msgs[n++] = (struct dgen_llm_message){ "system", dgen_buf_str(&sys) };
	msgs[n++] = (struct dgen_llm_message){ "user", dgen_buf_str(&user) };
	rc = blockutil_ask(ctx, config, msgs, n, DGEN_LLM_TEXT, NULL, &reply, err);
	if (rc == 0)
		blockutil_output(output, "assistant", json_object_new_string(reply), "system",
				 json_object_new_string_len(dgen_buf_str(&sys), (int)sys.len),
				 "user", json_object_new_string_len(dgen_buf_str(&user), (int)user.len),
				 NULL);
out:
	free(reply);
	dgen_buf_free(&sys);
	dgen_buf_free(&user);
	return rc;
}

const struct dgen_block_type text_generator_block = {
	BLOCKUTIL_TYPE("TextGenerator", "Text Generator", "generators",
		       "Sends a system and a user prompt (templates over the state) to the "
		       "LLM and returns its reply as `assistant`"),
	.init = tg_init,
	.execute = tg_execute,
	.free = tg_free,
};
