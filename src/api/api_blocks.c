/*
 * api_blocks.c - GET /api/blocks: every block type the worker knows, generated
 * from the block structs (the UI builds its forms from this alone).
 */
#include "config.h"

#include "dgen/api.h"

int api_blocks_list(struct api_ctx *c)
{
	return api_ok(c, 200, registry_blocks_json(api_registry(c)));
}
