/* Regressions of wee_alloc 0.4.5's defects: the unbounded leak of its
 * free-list walk (upstream issue 106) and memory left unusable; and of
 * large blocks that small ones kept from being reused. */
#include "test_util.h"

static void two_blocks_in_allocation_order_stay_bounded(void **state) {
    (void)state;
    FRESH_HEAP(h);
    size_t after_first = 0;
    for (int i = 0; i < 10000; i++) {
        void *a = wee_heap_alloc(&h, 1024, 8);
        void *b = wee_heap_alloc(&h, 1024 * 9, 8);
        assert_non_null(a);
        assert_non_null(b);
        wee_heap_dealloc(&h, a, 1024, 8);
        wee_heap_dealloc(&h, b, 1024 * 9, 8);
        if (i == 0)
            after_first = test_stats(&h).backend_bytes;
    }
    assert_int_equal(test_stats(&h).backend_bytes, after_first);
    assert_heap_ok(&h);
}

static void mixed_sizes_repeated_stay_bounded(void **state) {
    (void)state;
    FRESH_HEAP(h);
    size_t after_first = 0;
    for (int round = 0; round < 200; round++) {
        void *p[64];
        for (int i = 0; i < 64; i++)
            assert_non_null(p[i] = wee_heap_alloc(&h, (size_t)((i * 977) % 6000), 8));
        for (int i = 0; i < 64; i += 2)
            wee_heap_dealloc(&h, p[i], (size_t)((i * 977) % 6000), 8);
        for (int i = 1; i < 64; i += 2)
            wee_heap_dealloc(&h, p[i], (size_t)((i * 977) % 6000), 8);
        if (round == 0)
            after_first = test_stats(&h).backend_bytes;
    }
    assert_int_equal(test_stats(&h).backend_bytes, after_first);
    assert_int_equal(test_free_cells(&h), test_stats(&h).regions);
    assert_heap_ok(&h);
}

/* A large block is shrunk and freed while small blocks that outlive it are
 * allocated: the small ones must not take the free space the next large
 * block needs, or every round grows the heap by a large block. */
static void large_blocks_between_small_ones_stay_bounded(void **state) {
    (void)state;
    FRESH_HEAP(h);
    enum { ROUNDS = 40, SMALL = 24, BIG = 1 << 20 };
    static void *small[ROUNDS * SMALL];
    for (int round = 0; round < ROUNDS; round++) {
        char *big = wee_heap_alloc(&h, BIG, 8);
        assert_non_null(big);
        fill(big, BIG, (unsigned)round);
        big = wee_heap_realloc(&h, big, BIG, 8, BIG / 4 * 3);
        assert_non_null(big);
        assert_true(filled(big, BIG / 4 * 3, (unsigned)round));
        for (int i = 0; i < SMALL; i++)
            assert_non_null(small[round * SMALL + i] = wee_heap_alloc(&h, 100, 8));
        wee_heap_dealloc(&h, big, BIG / 4 * 3, 8);
    }
    /* one large block and the small ones fit in 1.75 MiB here; small blocks
     * carved from the top once made it 4 MiB */
    assert_true(test_stats(&h).backend_bytes <= (size_t)BIG / 2 * 5);
    for (int i = 0; i < ROUNDS * SMALL; i++)
        wee_heap_dealloc(&h, small[i], 100, 8);
    assert_int_equal(test_free_cells(&h), test_stats(&h).regions);
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(two_blocks_in_allocation_order_stay_bounded),
    cmocka_unit_test(mixed_sizes_repeated_stay_bounded),
    cmocka_unit_test(large_blocks_between_small_ones_stay_bounded))
