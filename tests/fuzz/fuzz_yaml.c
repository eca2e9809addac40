/*
 * fuzz_yaml.c - the YAML reader on arbitrary bytes: it must return a value
 * or an error, never crash, leak or run away (aliases, depth, node count
 * are all bounded). A value it returns must print as JSON.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "dgen/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *v = NULL;
	struct dgen_err err = DGEN_ERR_INIT;

	if (catalog_yaml_parse((const char *)data, size, NULL, &v, &err) == 0) {
		(void)json_object_to_json_string(v);
		json_object_put(v);
	}
	dgen_err_clear(&err);
	return 0;
}
