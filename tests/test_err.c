/* test_err.c - errors map to the statuses SPEC.md promises and serialize
 * to the {"error","detail"} shape every client reads. */
#include "config.h"

#include <string.h>

#include "dgen/err.h"
#include "dgen/json.h"
#include "tap.h"

int main(void)
{
	struct dgen_err e = DGEN_ERR_INIT, f = DGEN_ERR_INIT;
	struct json_object *o;

	is_int(dgen_err_set(&e, DGEN_EINVALID, "bad %s", "config"), -1, "set returns -1");
	is_str(e.msg, "bad config", "message is formatted");
	dgen_err_detail_str(&e, "field", "blocks[0].config.model");
	dgen_err_detail_int(&e, "limit", 64);
	o = dgen_err_to_json(&e);
	is_str(dgen_json_compact(o),
	       "{\"error\":\"bad config\",\"detail\":{\"field\":\"blocks[0].config.model\",\"limit\":64}}",
	       "to_json has error and detail");
	json_object_put(o);
	dgen_err_move(&f, &e);
	ok(e.code == DGEN_OK && e.detail == NULL && f.code == DGEN_EINVALID, "move transfers the error");
	dgen_err_set(&f, DGEN_EBUSY, "busy");
	ok(f.detail == NULL, "setting again drops the old detail");
	o = dgen_err_to_json(&f);
	is_str(dgen_json_compact(o), "{\"error\":\"busy\",\"detail\":{}}", "detail is {} when empty");
	json_object_put(o);
	dgen_err_clear(&f);
	return done_testing();
}
