/*
 * api_templates.c - GET /api/templates: the pipeline templates with their
 * example seeds.
 */
#include "config.h"

#include "dgen/api.h"

int api_templates_list(struct api_ctx *c)
{
	return api_ok(c, 200, catalog_list_json(api_templates(c)));
}
