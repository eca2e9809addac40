/*
 * test_blocks_markdown.c - MarkdownMultiplierBlock: splitting at headers,
 * fenced code, text before the first header, blank chunks, and cutting
 * long sections by words with overlap.
 */
#include <stdlib.h>

#include "blocks_test.h"

#define MD(cfg, doc, want, ...) is_json(&markdown_multiplier_block, (cfg), \
	"{\"file_content\":" doc "}", (want), __VA_ARGS__)

int main(void)
{
	struct dgen_err e = DGEN_ERR_INIT;
	struct json_object *out;

	ok(markdown_multiplier_block.is_multiplier, "is a multiplier");
	MD(NULL, "\"# A\\ntext a\\n## B\\ntext b\\n\"",
	   "[{\"content\":\"# A\\ntext a\",\"chunk_index\":0},"
	   "{\"content\":\"## B\\ntext b\",\"chunk_index\":1}]",
	   "one chunk per header, header line included, trimmed");
	MD(NULL, "\"intro line\\n\\n# A\\nbody\"",
	   "[{\"content\":\"intro line\",\"chunk_index\":0},"
	   "{\"content\":\"# A\\nbody\",\"chunk_index\":1}]",
	   "text before the first header is its own chunk");
	MD(NULL, "\"  \\n\\n# A\\n\\n# B\\nb\"",
	   "[{\"content\":\"# A\",\"chunk_index\":0},{\"content\":\"# B\\nb\",\"chunk_index\":1}]",
	   "blank lead-in dropped; a header alone is a chunk");
	MD(NULL, "\"# A\\n```\\n# not a header\\n```\\nafter\\n# B\"",
	   "[{\"content\":\"# A\\n```\\n# not a header\\n```\\nafter\",\"chunk_index\":0},"
	   "{\"content\":\"# B\",\"chunk_index\":1}]",
	   "headers inside ``` fences ignored");
	MD(NULL, "\"# A\\n~~~~ python\\n# comment\\n~~~\\n# still code\\n~~~~\\n# B\"",
	   "[{\"content\":\"# A\\n~~~~ python\\n# comment\\n~~~\\n# still code\\n~~~~\","
	   "\"chunk_index\":0},{\"content\":\"# B\",\"chunk_index\":1}]",
	   "~~~ fences close only with as many tildes");
	MD(NULL, "\"#hashtag\\n####### seven\\n###### six\\n#\\nend\"",
	   "[{\"content\":\"#hashtag\\n####### seven\",\"chunk_index\":0},"
	   "{\"content\":\"###### six\",\"chunk_index\":1},"
	   "{\"content\":\"#\\nend\",\"chunk_index\":2}]",
	   "only 1-6 # then space or end of line make a header");
	MD(NULL, "\" # indented\\nx\"", "[{\"content\":\"# indented\\nx\",\"chunk_index\":0}]",
	   "an indented # is not a header");
	MD(NULL, "\"# A\\r\\nwin\\r\\n# B\\r\\n\"",
	   "[{\"content\":\"# A\\r\\nwin\",\"chunk_index\":0},{\"content\":\"# B\",\"chunk_index\":1}]",
	   "CRLF lines");
	MD(NULL, "\"\"", "[]", "empty document: no chunk");
	MD(NULL, "\"   \\n\\t\"", "[]", "whitespace-only document: no chunk");
	/* 7 words, size 3, overlap 1: step 2 -> words 0-2, 2-4, 4-6 */
	MD("{\"chunk_size\":3,\"chunk_overlap\":1}", "\"w0 w1 w2\\nw3  w4 w5 w6\"",
	   "[{\"content\":\"w0 w1 w2\",\"chunk_index\":0},"
	   "{\"content\":\"w2\\nw3  w4\",\"chunk_index\":1},"
	   "{\"content\":\"w4 w5 w6\",\"chunk_index\":2}]",
	   "chunk_size/overlap: pieces keep the original spacing");
	/* 5 words, size 2, no overlap: 0-1, 2-3, 4 */
	MD("{\"chunk_size\":2}", "\"# H a b c d\"",
	   "[{\"content\":\"# H\",\"chunk_index\":0},{\"content\":\"a b\",\"chunk_index\":1},"
	   "{\"content\":\"c d\",\"chunk_index\":2}]",
	   "chunk_size without overlap");
	/* words include the header's: "# A one two" is 4, "# B x y z w" 6 */
	MD("{\"chunk_size\":4}", "\"# A\\none two\\n# B\\nx y z w\"",
	   "[{\"content\":\"# A\\none two\",\"chunk_index\":0},"
	   "{\"content\":\"# B\\nx y\",\"chunk_index\":1},"
	   "{\"content\":\"z w\",\"chunk_index\":2}]",
	   "only sections longer than chunk_size are cut; indexes run on");
	out = bt_run(&markdown_multiplier_block, "{\"chunk_size\":3,\"chunk_overlap\":3}",
		     "{\"file_content\":\"x\"}", NULL, &e);
	ok(!out && e.code == DGEN_EINVALID, "overlap >= size is a config error: %s", e.msg);
	dgen_err_clear(&e);
	out = bt_run(&markdown_multiplier_block, NULL, "{\"file_content\":42}", NULL, &e);
	ok(!out && e.code == DGEN_EBLOCK, "non-string file_content is a block error: %s", e.msg);
	dgen_err_clear(&e);
	return done_testing();
}
