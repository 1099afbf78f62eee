/* Cell headers: tag bits, neighbour links, the data phase that makes the
 * shim's pointers 16-aligned, and what the whole-heap check notices. Blocks
 * above SMALL_MAX are cells; smaller ones are slots (test_runs.c). */
#include "test_util.h"

#define CELL_BYTES (SMALL_MAX + 100)

static void fresh_cells_are_tagged(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *p = wee_heap_alloc(&h, CELL_BYTES, 8);
    assert_non_null(p);
    cell *c = test_cell_of(p);
    assert_true(cell_is_allocated(c));
    assert_int_equal(cell_size(c), cell_size_for(CELL_BYTES));
    assert_int_equal(heap_of(&h)->run_bytes, 0); /* no run: a cell alone */
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
    wee_heap_dealloc(&h, p, CELL_BYTES, 8);
    assert_heap_ok(&h);
    /* merged back: one free cell spans the region up to the sentinel */
    assert_int_equal(test_free_cells(&h), 1);
    assert_ptr_equal(sentinel->prev, c);
    assert_null(c->prev);
}

static void data_sits_one_word_below_a_granule(void **state) {
    (void)state;
    FRESH_HEAP(h);
    /* slots and cells alike */
    for (size_t size = 0; size < 3000; size += 7) {
        char *p = wee_heap_alloc(&h, size, 1);
        assert_non_null(p);
        assert_int_equal(((uintptr_t)p + WEE_WORD) % 16, 0);
        if (size > SMALL_MAX)
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
        p[i] = wee_heap_alloc(&h, SMALL_MAX + 64 * (size_t)(i + 1), 8);
    for (int i = 0; i < 20; i++) {
        cell *c = test_cell_of(p[i]);
        assert_true(cell_is_allocated(c));
        /* carved one after the other from the region's start */
        if (i > 0)
            assert_ptr_equal(c->prev, test_cell_of(p[i - 1]));
        else
            assert_null(c->prev);
        assert_ptr_equal(cell_next(c)->prev, c);
        assert_false(cell_is_last(c));
    }
    for (int i = 0; i < 20; i += 2)
        wee_heap_dealloc(&h, p[i], SMALL_MAX + 64 * (size_t)(i + 1), 8);
    assert_heap_ok(&h);
    assert_int_equal(test_free_cells(&h), 11); /* ten holes and the top */
    for (int i = 1; i < 20; i += 2)
        wee_heap_dealloc(&h, p[i], SMALL_MAX + 64 * (size_t)(i + 1), 8);
    assert_heap_ok(&h);
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_int_equal(test_free_cells(&h), 1);
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

static void grow_turns_the_sentinel_into_a_cell(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *a = wee_heap_alloc(&h, CELL_BYTES, 8);
    cell *s0 = heap_of(&h)->sentinel;
    size_t region = test_stats(&h).backend_bytes;
    /* more than the region has left: the backend's next pages follow it */
    size_t big = region + CELL_BYTES;
    char *b = wee_heap_alloc(&h, big, 8);
    assert_non_null(b);
    memset(b, 1, big);
    assert_int_equal(test_stats(&h).regions, 1);
    cell *s1 = heap_of(&h)->sentinel;
    assert_true((char *)s1 > (char *)s0 + big);
    assert_true(cell_is_last(s1) && cell_is_allocated(s1));
    /* the old sentinel's place lies inside b's cell now */
    assert_true((char *)test_cell_of(b) <= (char *)s0);
    assert_true((char *)cell_next(test_cell_of(b)) > (char *)s0);
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, a, CELL_BYTES, 8);
    wee_heap_dealloc(&h, b, big, 8);
    assert_int_equal(test_free_cells(&h), 1);
    assert_ptr_equal(s1->prev, test_cell_of(a));
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(fresh_cells_are_tagged), cmocka_unit_test(grow_turns_the_sentinel_into_a_cell),
    cmocka_unit_test(data_sits_one_word_below_a_granule),
    cmocka_unit_test(neighbours_link_both_ways), cmocka_unit_test(check_counts_broken_invariants))
