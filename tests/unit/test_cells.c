/* Cell headers: tag bits, neighbour links, the data phase that makes the
 * shim's pointers 16-aligned, and what the whole-heap check notices. */
#include "test_util.h"

static void fresh_cells_are_tagged(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *p = wee_heap_alloc(&h, 100, 8);
    assert_non_null(p);
    cell *c = test_cell_of(p);
    assert_true(cell_is_allocated(c));
    assert_int_equal(cell_size(c), cell_size_for(100));
    /* carved from the start of the region's only cell; the rest stays free
     * and the region's sentinel follows it */
    assert_null(c->prev);
    assert_false(cell_is_last(c));
    cell *rest = cell_next(c);
    assert_false(cell_is_allocated(rest));
    assert_false(cell_is_last(rest));
    assert_ptr_equal(rest->prev, c);
    cell *sentinel = cell_next(rest);
    assert_true(cell_is_allocated(sentinel));
    assert_true(cell_is_last(sentinel));
    assert_ptr_equal(sentinel->prev, rest);
    assert_ptr_equal(sentinel, heap_of(&h)->sentinel);
    assert_true(cell_size(sentinel) < 2 * WEE_GRANULE);
    wee_heap_dealloc(&h, p, 100, 8);
    assert_heap_ok(&h);
    /* merged back: one free cell spans the region up to the sentinel */
    assert_int_equal(test_free_cells(&h), 1);
    assert_ptr_equal(sentinel->prev, c);
    assert_null(c->prev);
}

static void data_sits_one_word_below_a_granule(void **state) {
    (void)state;
    FRESH_HEAP(h);
    for (size_t size = 0; size < 3000; size += 7) {
        char *p = wee_heap_alloc(&h, size, 1);
        assert_non_null(p);
        assert_int_equal(((uintptr_t)p + WEE_WORD) % 16, 0);
        assert_int_equal((uintptr_t)test_cell_of(p) % 16, CELL_PHASE);
        memset(p, 0xab, size);
    }
    assert_heap_ok(&h);
}

static void neighbours_link_both_ways(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *p[20];
    for (int i = 0; i < 20; i++)
        p[i] = wee_heap_alloc(&h, 64 * (size_t)(i + 1), 8);
    for (int i = 0; i < 20; i++) {
        cell *c = test_cell_of(p[i]);
        if (c->prev)
            assert_ptr_equal(cell_next(c->prev), c);
        if (!cell_is_last(c))
            assert_ptr_equal(cell_next(c)->prev, c);
    }
    for (int i = 0; i < 20; i += 2)
        wee_heap_dealloc(&h, p[i], 64 * (size_t)(i + 1), 8);
    assert_heap_ok(&h);
    for (int i = 1; i < 20; i += 2)
        wee_heap_dealloc(&h, p[i], 64 * (size_t)(i + 1), 8);
    assert_heap_ok(&h);
    assert_int_equal(test_stats(&h).live_bytes, 0);
}

static void check_counts_broken_invariants(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *a = wee_heap_alloc(&h, 5000, 8), *b = wee_heap_alloc(&h, 5000, 8);
    assert_heap_ok(&h);
    cell *cb = test_cell_of(b);
    cell *saved = cb->prev;
    cb->prev = cb; /* a broken back link */
    assert_true(wee_heap_check(&h) > 0);
    cb->prev = saved;
    assert_heap_ok(&h);
    cb->next &= ~(uintptr_t)CELL_ALLOCATED; /* free but not listed */
    assert_true(wee_heap_check(&h) > 0);
    cb->next |= CELL_ALLOCATED;
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, a, 5000, 8);
    wee_heap_dealloc(&h, b, 5000, 8);
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(fresh_cells_are_tagged), cmocka_unit_test(data_sits_one_word_below_a_granule),
    cmocka_unit_test(neighbours_link_both_ways), cmocka_unit_test(check_counts_broken_invariants))
