/* test_arena.c - the bump allocator behind requests and templates: memory
 * stays flat across resets, marks give back what a loop body used, and a
 * budget stops a render that asks for too much. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dgen/arena.h"
#include "tap.h"

static void test_reset_flat(void)
{
	struct arena a = ARENA_INIT;
	size_t base;

	arena_strdup(&a, "x");
	base = arena_size(&a);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 200; i++)
			arena_alloc(&a, 1000);
		arena_alloc(&a, 1 << 20);
		arena_reset(&a);
	}
	arena_strdup(&a, "y");
	is_int(arena_size(&a), base, "arena memory flat after 50 large requests");
	ok(((uintptr_t)arena_alloc(&a, 3) & 15) == 0 && ((uintptr_t)arena_alloc(&a, 1) & 15) == 0,
	   "allocations are 16-byte aligned");
	arena_free(&a);
	is_int(arena_size(&a), 0, "arena_free releases everything");
}

static void test_marks(void)
{
	struct arena a = ARENA_INIT;
	char *keep = arena_strdup(&a, "kept");
	struct arena_mark m = arena_mark(&a);
	size_t before = arena_size(&a);

	for (int i = 0; i < 100; i++)
		memset(arena_alloc(&a, 5000), 'z', 5000);
	ok(arena_size(&a) > before, "a loop body grows the arena");
	arena_release(&a, m);
	is_int(arena_size(&a), before, "releasing to a mark frees the blocks opened since");
	is_str(keep, "kept", "what was carved before the mark survives");
	char *next = arena_strdup(&a, "next");
	ok(next == keep + 16, "the block the mark was in is rewound to it");
	arena_free(&a);
}

static void test_budget(void)
{
	struct arena a = ARENA_INIT;

	a.budget = 1000;
	ok(arena_try_alloc(&a, 512) != NULL, "an allocation within the budget succeeds");
	ok(arena_try_alloc(&a, 512) == NULL, "one that would pass it is refused");
	ok(arena_try_alloc(&a, 400) != NULL, "a smaller one still fits");
	struct arena_mark m = arena_mark(&a);
	arena_release(&a, m);
	ok(arena_try_alloc(&a, 200) == NULL, "releasing does not give the budget back");
	arena_reset(&a);
	ok(arena_try_alloc(&a, 900) != NULL, "a reset does");
	ok(arena_try_alloc(&a, SIZE_MAX) == NULL, "a request no block can hold is refused, not wrapped");
	arena_free(&a);
}

int main(void)
{
	test_reset_flat();
	test_marks();
	test_budget();
	return done_testing();
}
