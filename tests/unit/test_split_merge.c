/* Splitting and merging: allocations are carved from the start of a free
 * cell, the rest stays free, and a freed cell merges with both neighbours
 * at once. Sizes above SMALL_MAX make these blocks cells, not slots. */
#include "test_util.h"

#define BIG (SMALL_MAX + 1000)

static void carving_keeps_the_rest_free(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *a = wee_heap_alloc(&h, BIG, 8);
    char *b = wee_heap_alloc(&h, BIG, 8);
    assert_non_null(a);
    assert_non_null(b);
    /* b is carved just above a, and the free rest above b */
    assert_ptr_equal(cell_next(test_cell_of(a)), test_cell_of(b));
    assert_false(cell_is_allocated(cell_next(test_cell_of(b))));
    assert_int_equal(test_free_cells(&h), 1);
    wee_heap_dealloc(&h, a, BIG, 8);
    wee_heap_dealloc(&h, b, BIG, 8);
    assert_heap_ok(&h);
}

static void free_merges_both_neighbours(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *a = wee_heap_alloc(&h, BIG, 8); /* lowest */
    char *b = wee_heap_alloc(&h, BIG, 8);
    char *c = wee_heap_alloc(&h, BIG, 8);
    char *guard = wee_heap_alloc(&h, BIG, 8); /* keeps c away from the free rest */
    size_t before = test_free_cells(&h);
    wee_heap_dealloc(&h, a, BIG, 8);
    assert_int_equal(test_free_cells(&h), before + 1);
    wee_heap_dealloc(&h, c, BIG, 8);
    assert_int_equal(test_free_cells(&h), before + 2);
    /* b's neighbours are both free: the three become one cell */
    wee_heap_dealloc(&h, b, BIG, 8);
    assert_int_equal(test_free_cells(&h), before + 1);
    cell *merged = test_cell_of(a);
    assert_false(cell_is_allocated(merged));
    assert_ptr_equal(cell_next(merged), test_cell_of(guard));
    assert_heap_ok(&h);
    /* and the merged cell serves a request as large as all three */
    char *all = wee_heap_alloc(&h, 3 * cell_size_for(BIG) - CELL_HEADER, 8);
    assert_ptr_equal(all, a);
    wee_heap_dealloc(&h, all, 3 * cell_size_for(BIG) - CELL_HEADER, 8);
    wee_heap_dealloc(&h, guard, BIG, 8);
    assert_int_equal(test_free_cells(&h), 1);
    assert_heap_ok(&h);
}

static void whole_cell_taken_when_rest_too_small(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *a = wee_heap_alloc(&h, BIG, 8);
    char *b = wee_heap_alloc(&h, BIG, 8);
    char *c = wee_heap_alloc(&h, BIG, 8);
    wee_heap_dealloc(&h, b, BIG, 8);
    /* slightly smaller: the rest would be under CELL_MIN, so b's cell is
     * handed out whole */
    size_t smaller = BIG - (CELL_MIN - WEE_GRANULE);
    char *d = wee_heap_alloc(&h, smaller, 8);
    assert_ptr_equal(d, b);
    assert_int_equal(cell_size(test_cell_of(d)), cell_size_for(BIG));
    wee_heap_dealloc(&h, d, smaller, 8);
    wee_heap_dealloc(&h, a, BIG, 8);
    wee_heap_dealloc(&h, c, BIG, 8);
    assert_int_equal(test_free_cells(&h), 1);
    assert_heap_ok(&h);
}

static void random_frees_always_coalesce(void **state) {
    (void)state;
    FRESH_HEAP(h);
    enum { N = 400 };
    char *p[N];
    size_t s[N];
    unsigned x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = SMALL_MAX + 1 + (x >> 8) % 3000; /* cells only */
        p[i] = wee_heap_alloc(&h, s[i], 8);
        assert_non_null(p[i]);
        fill(p[i], s[i], (unsigned)i);
    }
    for (int i = 0; i < N; i++) {
        int j = (i * 37) % N;
        assert_true(filled(p[j], s[j], (unsigned)j));
        wee_heap_dealloc(&h, p[j], s[j], 8);
        if (i % 50 == 0)
            assert_heap_ok(&h);
    }
    assert_int_equal(test_stats(&h).live_bytes, 0);
    /* everything merged back into one free cell per region */
    assert_int_equal(test_free_cells(&h), test_stats(&h).regions);
    assert_heap_ok(&h);
}

static void random_frees_coalesce_with_slots_around(void **state) {
    (void)state;
    FRESH_HEAP(h);
    enum { N = 600 };
    char *p[N];
    size_t s[N];
    unsigned x = 777;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (x >> 8) % 3000; /* slots and cells */
        p[i] = wee_heap_alloc(&h, s[i], 16);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        fill(p[i], s[i], (unsigned)i);
    }
    for (int i = 0; i < N; i++) {
        int j = (i * 37) % N;
        assert_true(filled(p[j], s[j], (unsigned)j));
        wee_heap_dealloc(&h, p[j], s[j], 16);
        if (i % 50 == 0)
            assert_heap_ok(&h);
    }
    assert_all_returned(&h);
}

RUN(cmocka_unit_test(carving_keeps_the_rest_free), cmocka_unit_test(free_merges_both_neighbours),
    cmocka_unit_test(whole_cell_taken_when_rest_too_small),
    cmocka_unit_test(random_frees_always_coalesce),
    cmocka_unit_test(random_frees_coalesce_with_slots_around))
