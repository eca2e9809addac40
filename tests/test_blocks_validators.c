/*
 * test_blocks_validators.c - ValidatorBlock and JSONValidatorBlock edge
 * cases: which field is checked, lengths in characters, forbidden words,
 * code fences, required keys, strict mode.
 */
#include <stdlib.h>

#include "blocks_test.h"

static void test_validator(void)
{
	const struct dgen_block_type *t = &validator_block;
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *out;

	is_json(t, NULL, "{\"text\":\"hello\",\"assistant\":\"bye\"}",
		"{\"text\":\"hello\",\"valid\":true,\"assistant\":\"bye\"}",
		"defaults: valid, both fields passed through");
	/* text is checked when non-empty: "hello" has 5 < 6 characters */
	is_json(t, "{\"min_length\":6}", "{\"text\":\"hello\",\"assistant\":\"long enough\"}",
		"{\"text\":\"hello\",\"valid\":false,\"assistant\":\"long enough\"}",
		"text checked first: too short");
	/* empty text: assistant (11 chars) is checked */
	is_json(t, "{\"min_length\":6}", "{\"text\":\"\",\"assistant\":\"long enough\"}",
		"{\"text\":\"\",\"valid\":true,\"assistant\":\"long enough\"}",
		"empty text: assistant checked");
	is_json(t, NULL, "{\"assistant\":\"x\"}", "{\"text\":\"\",\"valid\":true,\"assistant\":\"x\"}",
		"missing text passed through as \"\"");
	is_json(t, "{\"min_length\":1}", "{}", "{\"text\":\"\",\"valid\":false,\"assistant\":\"\"}",
		"both missing: empty, too short");
	/* "héllo" is 5 characters (6 bytes): max_length 5 accepts it */
	is_json(t, "{\"max_length\":5}", "{\"text\":\"h\\u00e9llo\"}",
		"{\"text\":\"héllo\",\"valid\":true,\"assistant\":\"\"}",
		"length counts characters, not bytes");
	is_json(t, "{\"max_length\":4}", "{\"text\":\"h\\u00e9llo\"}",
		"{\"text\":\"héllo\",\"valid\":false,\"assistant\":\"\"}", "too long by one");
	is_json(t, "{\"min_length\":5,\"max_length\":5}", "{\"text\":\"abcde\"}",
		"{\"text\":\"abcde\",\"valid\":true,\"assistant\":\"\"}", "bounds are inclusive");
	is_json(t, "{\"forbidden_words\":[\"SPAM\"]}", "{\"text\":\"this is spammy\"}",
		"{\"text\":\"this is spammy\",\"valid\":false,\"assistant\":\"\"}",
		"forbidden word: case-insensitive substring");
	is_json(t, "{\"forbidden_words\":[\"spam\",\"\"]}", "{\"text\":\"clean text\"}",
		"{\"text\":\"clean text\",\"valid\":true,\"assistant\":\"\"}",
		"no forbidden word; empty entries ignored");
	is_json(t, "{\"forbidden_words\":[\"bad\"]}", "{\"text\":\"fine\",\"assistant\":\"bad\"}",
		"{\"text\":\"fine\",\"valid\":true,\"assistant\":\"bad\"}",
		"assistant not checked when text is set");
	out = bt_run(t, "{\"min_length\":10,\"max_length\":5}", "{}", NULL, &e);
	ok(!out && e.code == DGEN_EINVALID, "max_length below min_length: config error (%s)",
	   e.msg);
	json_object_put(out);
	dgen_err_clear(&e);
}

static void test_json_validator(void)
{
	const struct dgen_block_type *t = &json_validator_block;

	is_json(t, NULL, "{\"assistant\":\"{\\\"a\\\": 1}\"}",
		"{\"valid\":true,\"parsed_json\":{\"a\":1}}", "plain JSON text");
	is_json(t, NULL, "{\"assistant\":\"```json\\n{\\\"a\\\": [1, 2]}\\n```\"}",
		"{\"valid\":true,\"parsed_json\":{\"a\":[1,2]}}", "```json fence stripped");
	is_json(t, NULL, "{\"assistant\":\"  ```\\n[true]\\n```  \\n\"}",
		"{\"valid\":true,\"parsed_json\":[true]}", "bare ``` fence and whitespace");
	is_json(t, NULL, "{\"assistant\":\"```json {\\\"a\\\":1}```\"}",
		"{\"valid\":true,\"parsed_json\":{\"a\":1}}", "fence on one line");
	is_json(t, NULL, "{\"assistant\":\"```json\\n{\\\"a\\\":1}\"}",
		"{\"valid\":true,\"parsed_json\":{\"a\":1}}", "reply cut before the closing fence");
	is_json(t, NULL, "{\"assistant\":\"Here: {\\\"a\\\":1}\"}",
		"{\"valid\":false,\"parsed_json\":null}", "text around JSON is invalid");
	is_json(t, NULL, "{\"assistant\":\"{\\\"a\\\":1} trailing\"}",
		"{\"valid\":false,\"parsed_json\":null}", "trailing text is invalid");
	is_json(t, NULL, "{\"assistant\":\"```json\\n```json\\n{}\\n```\\n```\"}",
		"{\"valid\":false,\"parsed_json\":null}", "only one fence is stripped");
	is_json(t, NULL, "{}", "{\"valid\":false,\"parsed_json\":null}", "missing field: invalid");
	is_json(t, "{\"field_name\":\"data\"}", "{\"data\":{\"k\":\"v\"}}",
		"{\"valid\":true,\"parsed_json\":{\"k\":\"v\"}}", "an object is used as is");
	is_json(t, "{\"field_name\":\"data\",\"required_fields\":[\"k\",\"n\"]}",
		"{\"data\":{\"k\":\"v\"}}", "{\"valid\":false,\"parsed_json\":null}",
		"missing required key: invalid");
	is_json(t, "{\"required_fields\":[\"k\"]}", "{\"assistant\":\"[1]\"}",
		"{\"valid\":false,\"parsed_json\":null}", "required key on an array: invalid");
	is_json(t, "{\"required_fields\":[\"k\"]}", "{\"assistant\":\"{\\\"k\\\":null}\"}",
		"{\"valid\":true,\"parsed_json\":{\"k\":null}}", "a null value still counts as present");
	{
		char *got = bt_json(t, "{\"strict\":true}", "{\"assistant\":\"{nope\"}");
		const char *want = "ERROR: field 'assistant' is not valid JSON: ";

		ok(strncmp(got, want, strlen(want)) == 0 && strstr(got, "line 1"),
		   "strict: invalid JSON is a block error naming the place: %s", got);
		free(got);
	}
	is_json(t, "{\"strict\":true,\"required_fields\":[\"id\"]}", "{\"assistant\":\"{}\"}",
		"ERROR: parsed JSON lacks required field 'id'", "strict: missing key is an error");
	is_json(t, "{\"strict\":true}", "{}", "ERROR: field 'assistant' is missing",
		"strict: missing field is an error");
}

int main(void)
{
	test_validator();
	test_json_validator();
	return done_testing();
}
