/* wee_heap_alloc_many and wee_heap_dealloc_many: many blocks under one lock,
 * as the thread caches refill and flush. */
#include "test_util.h"

static void many_blocks_come_and_go(void **state) {
    (void)state;
    FRESH_HEAP(h);
    static const size_t sizes[] = {0, 8, 24, 100, 500, 1000, 5000, 300000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        void *out[40];
        size_t got = wee_heap_alloc_many(&h, sizes[s], 16, out, 40);
        assert_int_equal(got, 40);
        for (size_t i = 0; i < got; i++) {
            assert_true(((uintptr_t)out[i] & 15) == 0);
            assert_true(wee_heap_usable_size(&h, out[i], sizes[s], 16) >= sizes[s]);
            for (size_t j = 0; j < i; j++)
                assert_true(out[j] != out[i]);
            fill(out[i], sizes[s], (unsigned)i);
        }
        for (size_t i = 0; i < got; i++)
            assert_true(filled(out[i], sizes[s], (unsigned)i));
        assert_int_equal(test_stats(&h).allocs, 40);
        wee_heap_dealloc_many(&h, out, got, sizes[s], 16);
        assert_int_equal(test_stats(&h).deallocs, 40);
        assert_all_returned(&h);
        h = (wee_heap)WEE_HEAP_INIT;
    }
    wee_heap_dealloc_many(&h, NULL, 0, 8, 16);
    void *out[2];
    assert_int_equal(wee_heap_alloc_many(&h, 8, 3, out, 2), 0); /* bad alignment */
    assert_int_equal(wee_heap_alloc_many(&h, SIZE_MAX, 16, out, 2), 0);
    assert_int_equal(test_stats(&h).live_bytes, 0);
}

RUN(cmocka_unit_test(many_blocks_come_and_go))
