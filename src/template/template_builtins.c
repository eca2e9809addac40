/*
 * template_builtins.c - the name tables of the builtins, for the parser
 * (which resolves names and binds arguments to parameter slots) and the
 * renderer (which reads `raw`). The code behind them is template_filters.c.
 */
#include "config.h"

#include <string.h>

#include "template_builtins.h"

#define SIGNATURE(name, fn, min_args, raw, params) \
	{ name, min_args, { TPL_UNPAREN params, NULL }, raw },
#define END { NULL, 0, { NULL }, 0 }

const struct tpl_callable tpl_filters[] = { TPL_FILTER_LIST(SIGNATURE) END };
const struct tpl_callable tpl_tests[] = { TPL_TEST_LIST(SIGNATURE) END };
const struct tpl_callable tpl_methods[] = { TPL_METHOD_LIST(SIGNATURE) END };
const struct tpl_callable tpl_globals[] = { TPL_GLOBAL_LIST(SIGNATURE) END };

int tpl_lookup(const struct tpl_callable *table, const char *name, size_t n)
{
	for (int i = 0; table[i].name; i++)
		if (strlen(table[i].name) == n && memcmp(table[i].name, name, n) == 0)
			return i;
	return -1;
}
