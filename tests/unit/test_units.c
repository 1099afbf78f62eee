/* Units and rounding: cell sizes, the cell phase, list choice, and the
 * limits that turn absurd requests into NULL instead of overflow. */
#include "test_util.h"

static void cell_sizes_round_to_granules(void **state) {
    (void)state;
    assert_int_equal(cell_size_for(0), CELL_MIN);
    assert_int_equal(cell_size_for(1), CELL_MIN);
    assert_int_equal(cell_size_for(CELL_MIN - CELL_HEADER), CELL_MIN);
    assert_int_equal(cell_size_for(CELL_MIN - CELL_HEADER + 1), CELL_MIN + WEE_GRANULE);
    for (size_t bytes = 0; bytes < 5000; bytes++) {
        size_t size = cell_size_for(bytes);
        assert_int_equal(size % WEE_GRANULE, 0);
        assert_true(size >= bytes + CELL_HEADER);
        assert_true(size < bytes + CELL_HEADER + WEE_GRANULE || size == CELL_MIN);
    }
}

static void layout_constants(void **state) {
    (void)state;
    assert_int_equal(CELL_HEADER, 2 * sizeof(void *));
    assert_int_equal((CELL_PHASE + CELL_HEADER + WEE_WORD) % 16, 0);
    assert_true(CELL_MIN >= CELL_HEADER + 2 * WEE_WORD);
    assert_int_equal(CLASS_MAX, cell_size_for(256 * WEE_WORD));
    assert_true(sizeof(heap) <= sizeof(wee_heap));
}

static void lists_by_size(void **state) {
    (void)state;
#if WEE_SIZE_CLASSES
    assert_int_equal(list_index(CELL_MIN), CELL_MIN / WEE_GRANULE);
    assert_int_equal(list_index(CLASS_MAX), CLASS_MAX / WEE_GRANULE);
    assert_int_equal(list_index(CLASS_MAX + WEE_GRANULE), CLASS_COUNT);
    assert_int_equal(CLASS_COUNT, CLASS_MAX / WEE_GRANULE + 1);
#else
    assert_int_equal(list_index(CELL_MIN), 0);
    assert_int_equal(CLASS_COUNT, 0);
#endif
    /* bins after the classes: ordered by size, two per power of two, the
     * last one open-ended */
    size_t prev = list_index(CELL_MIN);
    for (size_t size = CELL_MIN; size < SIZE_MAX / 4;
         size += size / 8 / WEE_GRANULE * WEE_GRANULE + WEE_GRANULE) {
        size_t k = list_index(size);
        assert_true(k >= prev && k < LIST_COUNT);
        prev = k;
    }
    assert_int_equal(list_index(SIZE_MAX / 2), LIST_COUNT - 1);
    size_t first = (size_t)1 << BIN_LOG_MIN << 1;
    if (WEE_SIZE_CLASSES || first > CELL_MIN) {
        assert_int_equal(list_index(first) + 1, list_index(first + first / 2));
        assert_int_equal(list_index(first) + 2, list_index(2 * first));
    }
}

static void absurd_requests_fail_cleanly(void **state) {
    (void)state;
    FRESH_HEAP(h);
    assert_null(wee_heap_alloc(&h, SIZE_MAX, 1));
    assert_null(wee_heap_alloc(&h, SIZE_MAX - 15, 8));
    assert_null(wee_heap_alloc(&h, SIZE_MAX / 2 + 1, 1));
    assert_null(wee_heap_alloc(&h, WEE_BYTES_MAX + 1, 16));
    assert_null(wee_heap_alloc(&h, 16, 0));
    assert_null(wee_heap_alloc(&h, 16, 3));
    assert_null(wee_heap_alloc(&h, 16, 48));
    assert_null(wee_heap_alloc(&h, 16, SIZE_MAX / 2 + 1));
    void *p = wee_heap_alloc(&h, 10, 8);
    assert_non_null(p);
    assert_null(wee_heap_realloc(&h, p, 10, 8, SIZE_MAX));
    wee_heap_dealloc(&h, p, 10, 8);
    assert_heap_ok(&h);
}

static void zero_size_gives_unique_pointers(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *a = wee_heap_alloc(&h, 0, 1), *b = wee_heap_alloc(&h, 0, 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    wee_heap_dealloc(&h, a, 0, 1);
    wee_heap_dealloc(&h, b, 0, 1);
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(cell_sizes_round_to_granules), cmocka_unit_test(layout_constants),
    cmocka_unit_test(lists_by_size), cmocka_unit_test(absurd_requests_fail_cleanly),
    cmocka_unit_test(zero_size_gives_unique_pointers))
