/* Splitting and merging: allocations are carved from the start of a free
 * cell, the rest stays free, and a freed cell merges with both neighbours
 * at once. Sizes above CLASS_MAX keep these cells on the main list. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "test_util.h"

#define BIG (CLASS_MAX + 1000)

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
        s[i] = (x >> 8) % 3000;
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

static void *wait_at(void *barrier) {
    pthread_barrier_wait(barrier);
    return NULL;
}

/* With a second thread alive, a batch for a thread cache is one run of
 * adjacent cells, even when free cells of its size lie scattered. */
static void with_threads_a_batch_is_one_run(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *scattered[8], *keep[8];
    for (int i = 0; i < 8; i++) {
        scattered[i] = wee_heap_alloc(&h, 40, 8);
        keep[i] = wee_heap_alloc(&h, 8, 8);
    }
    for (int i = 0; i < 8; i++)
        wee_heap_dealloc(&h, scattered[i], 40, 8);
    pthread_barrier_t barrier;
    pthread_t other;
    pthread_barrier_init(&barrier, NULL, 2);
    assert_int_equal(pthread_create(&other, NULL, wait_at, &barrier), 0);
    void *list = NULL;
    wee_cache_counts counts = {0};
    assert_int_equal(wee_block_fill(&h, 40, 6, &list, &counts), 6);
    pthread_barrier_wait(&barrier);
    pthread_join(other, NULL);
    pthread_barrier_destroy(&barrier);
    /* the list runs from the last cell of the run down to the first */
    int cells = 1;
    for (void *b = list; *(void **)b; b = *(void **)b, cells++)
        assert_ptr_equal(cell_next(cell_of(*(void **)b)), cell_of(b));
    assert_int_equal(cells, 6);
    wee_block_drain(&h, list, &counts);
    for (int i = 0; i < 8; i++)
        wee_heap_dealloc(&h, keep[i], 8, 8);
    assert_int_equal(test_free_cells(&h), test_stats(&h).regions);
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(carving_keeps_the_rest_free), cmocka_unit_test(free_merges_both_neighbours),
    cmocka_unit_test(whole_cell_taken_when_rest_too_small),
    cmocka_unit_test(random_frees_always_coalesce),
    cmocka_unit_test(with_threads_a_batch_is_one_run))
