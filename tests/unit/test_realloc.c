/* Resizing: a cell in place when the neighbour allows (growing into a free
 * successor, shrinking by splitting off the tail), a slot in place within
 * its class, by moving otherwise, with the contents kept. */
#include "test_util.h"

#define BIG (SMALL_MAX + 512)

/* A cell grows in place into a free successor; the smallest build grows it
 * by moving it, an eighth larger than asked, and the old cell is freed. */
static void grows_in_place_into_free_successor(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *b = wee_heap_alloc(&h, BIG, 8);
    char *a = wee_heap_alloc(&h, BIG, 8);     /* right after b */
    char *guard = wee_heap_alloc(&h, BIG, 8); /* keeps a from the free top */
    assert_non_null(b);
    assert_non_null(a);
    assert_non_null(guard);
    fill(b, BIG, 3);
    wee_heap_dealloc(&h, a, BIG, 8);
    char *g = wee_heap_realloc(&h, b, BIG, 8, BIG / 2 * 3);
    assert_non_null(g);
    assert_true(filled(g, BIG, 3));
    if (WEE_TINY) {
        assert_ptr_not_equal(g, b);
        assert_true(wee_heap_usable_size(&h, g, BIG / 2 * 3, 8) >= BIG / 2 * 3 + BIG / 2 * 3 / 8);
        assert_false(cell_is_allocated(test_cell_of(b))); /* freed, merged with a's cell */
    } else {
        assert_ptr_equal(g, b);
        assert_int_equal(cell_size(test_cell_of(g)), cell_size_for(BIG / 2 * 3));
        /* the rest of a's cell stayed free as its own cell, before the guard */
        cell *rest = cell_next(test_cell_of(g));
        assert_false(cell_is_allocated(rest));
        assert_ptr_equal(cell_next(rest), test_cell_of(guard));
    }
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, g, BIG / 2 * 3, 8);
    wee_heap_dealloc(&h, guard, BIG, 8);
    assert_int_equal(test_free_cells(&h), 1);
    assert_heap_ok(&h);
}

static void shrinks_in_place(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *a = wee_heap_alloc(&h, 10000, 8);
    char *keep = wee_heap_alloc(&h, BIG, 8);
    assert_non_null(keep);
    fill(a, 10000, 5);
    size_t before = test_free_cells(&h);
    size_t live = test_stats(&h).live_bytes;
    char *s = wee_heap_realloc(&h, a, 10000, 8, BIG);
    assert_ptr_equal(s, a);
    assert_true(filled(s, BIG, 5));
    if (WEE_TINY) { /* the cell still holds it: kept as it is */
        assert_int_equal(cell_size(test_cell_of(s)), cell_size_for(10000));
        assert_int_equal(test_free_cells(&h), before);
        assert_int_equal(test_stats(&h).live_bytes, live);
    } else {
        assert_int_equal(cell_size(test_cell_of(s)), cell_size_for(BIG));
        assert_int_equal(test_free_cells(&h), before + 1); /* the tail */
        assert_int_equal(test_stats(&h).live_bytes,
                         live - cell_size_for(10000) + cell_size_for(BIG));
    }
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, s, BIG, 8);
    wee_heap_dealloc(&h, keep, BIG, 8);
    assert_int_equal(test_free_cells(&h), 1);
    assert_int_equal(test_stats(&h).live_bytes, 0);
}

static void moves_when_it_must(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *b = wee_heap_alloc(&h, BIG, 8);
    char *a = wee_heap_alloc(&h, BIG, 8); /* right after b: no room to grow */
    assert_ptr_equal(cell_next(test_cell_of(b)), test_cell_of(a));
    fill(b, BIG, 9);
    char *m = wee_heap_realloc(&h, b, BIG, 8, 5000);
    assert_non_null(b);
    assert_non_null(a);
    assert_non_null(m);
    assert_ptr_not_equal(m, b);
    assert_true(filled(m, BIG, 9));
    wee_heap_dealloc(&h, m, 5000, 8);
    wee_heap_dealloc(&h, a, BIG, 8);
    assert_heap_ok(&h);
    assert_int_equal(test_stats(&h).live_bytes, 0);
}

static void aligned_blocks_resize(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *p = wee_heap_alloc(&h, 300, 256);
    assert_non_null(p);
    fill(p, 300, 4);
    size_t n = 300;
    for (; n < 70000; n = n * 3 / 2) {
        char *q = wee_heap_realloc(&h, p, n, 256, n * 3 / 2);
        assert_non_null(q);
        assert_int_equal((uintptr_t)q % 256, 0);
        assert_true(filled(q, 300, 4));
        p = q;
    }
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, p, n, 256);
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
}

static void null_realloc_allocates(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *p = wee_heap_realloc(&h, NULL, 0, 8, 100);
    assert_non_null(p);
    wee_heap_dealloc(&h, p, 100, 8);
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(grows_in_place_into_free_successor), cmocka_unit_test(shrinks_in_place),
    cmocka_unit_test(moves_when_it_must), cmocka_unit_test(aligned_blocks_resize),
    cmocka_unit_test(null_realloc_allocates))
