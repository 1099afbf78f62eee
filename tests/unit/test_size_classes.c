/* Size classes: one free list per cell size up to CLASS_MAX, found through a
 * bitmap; the smallest class that fits is used first. Without size classes
 * the same requests must still work from the main list. */
#include "test_util.h"

static void small_cells_return_to_their_class(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *keep = wee_heap_alloc(&h, 8, 8);
    void *p = wee_heap_alloc(&h, 40, 8);
    void *guard = wee_heap_alloc(&h, 8, 8); /* keeps p from merging */
    cell *c = test_cell_of(p);
    wee_heap_dealloc(&h, p, 40, 8);
#if WEE_SIZE_CLASSES
    assert_true(test_on_list(&h, cell_size(c) / WEE_GRANULE, c));
    uintptr_t bit = heap_of(&h)->list_bits[list_index(cell_size(c)) / BITS_PER_WORD];
    assert_true(bit & ((uintptr_t)1 << (list_index(cell_size(c)) % BITS_PER_WORD)));
#else
    assert_true(test_on_list(&h, list_index(cell_size(c)), c));
#endif
    /* the same size comes straight back */
    assert_ptr_equal(wee_heap_alloc(&h, 40, 8), p);
    wee_heap_dealloc(&h, p, 40, 8);
    wee_heap_dealloc(&h, guard, 8, 8);
    wee_heap_dealloc(&h, keep, 8, 8);
    assert_heap_ok(&h);
}

static void every_class_size_round_trips(void **state) {
    (void)state;
    FRESH_HEAP(h);
    for (size_t bytes = 0; bytes <= 256 * WEE_WORD; bytes += WEE_WORD) {
        void *a = wee_heap_alloc(&h, bytes, 8), *sep = wee_heap_alloc(&h, 1, 8);
        assert_non_null(a);
        fill(a, bytes, (unsigned)bytes);
        wee_heap_dealloc(&h, a, bytes, 8);
        void *b = wee_heap_alloc(&h, bytes, 8);
        assert_ptr_equal(a, b); /* reused from its class */
        fill(b, bytes, 1);
        wee_heap_dealloc(&h, b, bytes, 8);
        wee_heap_dealloc(&h, sep, 1, 8);
    }
    assert_heap_ok(&h);
    assert_int_equal(test_stats(&h).live_bytes, 0);
}

static void larger_class_is_split_before_growing(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *left = wee_heap_alloc(&h, 8, 8);
    void *big = wee_heap_alloc(&h, 1000, 8);
    void *right = wee_heap_alloc(&h, 8, 8);
    cell *c = test_cell_of(big);
    wee_heap_dealloc(&h, big, 1000, 8);
    /* a small request is carved from the freed 1000-byte cell, not from the
     * large free cell at the top */
    char *small = wee_heap_alloc(&h, 100, 8);
    assert_ptr_equal(small, big);
    assert_ptr_equal(cell_next(c)->prev, c);
    assert_false(cell_is_allocated(cell_next(c)));
    assert_non_null(small);
    wee_heap_dealloc(&h, small, 100, 8);
    wee_heap_dealloc(&h, left, 8, 8);
    wee_heap_dealloc(&h, right, 8, 8);
    assert_heap_ok(&h);
}

static void no_memory_is_held_by_classes(void **state) {
    (void)state;
    FRESH_HEAP(h);
    /* sizes that only grow: freed small cells must merge and be reused */
    void *prev = NULL;
    size_t prev_size = 0;
    for (size_t size = 16; size < 200000; size += size / 8 + 8) {
        void *p = wee_heap_alloc(&h, size, 8);
        assert_non_null(p);
        memset(p, 1, size);
        wee_heap_dealloc(&h, prev, prev_size, 8);
        prev = p;
        prev_size = size;
    }
    wee_heap_dealloc(&h, prev, prev_size, 8);
    wee_stats s = test_stats(&h);
    assert_true(s.backend_bytes <= 4 * 200000);
    assert_int_equal(test_free_cells(&h), s.regions);
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(small_cells_return_to_their_class),
    cmocka_unit_test(every_class_size_round_trips),
    cmocka_unit_test(larger_class_is_split_before_growing),
    cmocka_unit_test(no_memory_is_held_by_classes))
