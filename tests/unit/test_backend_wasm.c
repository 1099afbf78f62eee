/* src/backend_wasm.c over backend_pages.c's fake linear memory, through the
 * backend seam (backend.h): where grows start, that they are adjacent, that
 * memory another party grew is skipped, and that a grow the memory cannot
 * hold fails and leaves the backend as it was. Runs in its own process: the
 * backend's cursor is global. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend.h"

#define PAGE ((size_t)65536)

/* backend_pages.c's hooks */
size_t wee_backend_pages_memory_grow(size_t pages);
void *wee_backend_pages_heap_base(void);

static uintptr_t addr(const void *p) { return (uintptr_t)p; }

static void grows_start_at_the_heap_base_and_are_adjacent(void **state) {
    (void)state;
    uintptr_t base = (addr(wee_backend_pages_heap_base()) + 15) & ~(uintptr_t)15;
    size_t pages = wee_backend_pages_memory_grow(0);
    unsigned char *a = wee_backend_grow(PAGE);
    assert_non_null(a);
    assert_int_equal(addr(a), base);
    assert_int_equal(wee_backend_pages_memory_grow(0), pages); /* the initial memory sufficed */
    a[0] = 1;
    a[PAGE - 1] = 2;
    /* beyond the initial memory: memory.grow, and still adjacent */
    unsigned char *b = wee_backend_grow(4 * PAGE);
    assert_non_null(b);
    assert_int_equal(addr(b), addr(a) + PAGE);
    assert_true(wee_backend_pages_memory_grow(0) > pages);
    b[4 * PAGE - 1] = 3;
    assert_int_equal(a[PAGE - 1], 2);
}

static void memory_grown_by_another_party_is_skipped(void **state) {
    (void)state;
    unsigned char *before = wee_backend_grow(PAGE);
    assert_non_null(before);
    size_t old = wee_backend_pages_memory_grow(1); /* someone else's page */
    assert_int_not_equal(old, SIZE_MAX);
    uintptr_t foreign = old * PAGE;
    unsigned char *after = wee_backend_grow(PAGE);
    assert_non_null(after);
    assert_true(addr(after) >= foreign + PAGE);
    assert_int_equal(addr(after) % 16, 0);
}

static void a_grow_too_large_fails_and_changes_nothing(void **state) {
    (void)state;
    unsigned char *a = wee_backend_grow(PAGE);
    assert_non_null(a);
    size_t pages = wee_backend_pages_memory_grow(0);
    assert_null(wee_backend_grow((size_t)WEE_STATIC_BYTES));
    assert_int_equal(wee_backend_pages_memory_grow(0), pages);
    unsigned char *b = wee_backend_grow(PAGE);
    assert_non_null(b);
    assert_int_equal(addr(b), addr(a) + PAGE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_start_at_the_heap_base_and_are_adjacent),
        cmocka_unit_test(memory_grown_by_another_party_is_skipped),
        cmocka_unit_test(a_grow_too_large_fails_and_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
