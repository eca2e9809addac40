#include "dgen/blocks.h"
#include "dgen/blockutil.h"
static const char *const inputs[] = { NULL };
static const char *const outputs[] = { NULL };
static const struct dgen_block_param params[] = { { "x", DGEN_PARAM_STRING, NULL, NULL, false, false, false, NULL, "" } };
const struct dgen_block_type duplicate_remover_block = { BLOCKUTIL_TABLES, .type = "DuplicateRemover", .name = "DuplicateRemover", .description = "", .category = "metrics" };
