/* Alignments from 1 byte to 64 KiB, at many sizes, on fresh heaps; and the
 * large aligned request on a fresh heap that must not come back NULL. */
#include "test_util.h"

static void every_alignment_up_to_64k(void **state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 7, 16, 17, 100, 1000, 4096, 5000, 100000};
    for (size_t align = 1; align <= 65536; align *= 2) {
        FRESH_HEAP(h);
        void *p[sizeof sizes / sizeof *sizes];
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            p[i] = wee_heap_alloc(&h, sizes[i], align);
            assert_non_null(p[i]);
            assert_int_equal((uintptr_t)p[i] % align, 0);
            fill(p[i], sizes[i], (unsigned)i);
        }
        assert_heap_ok(&h);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            assert_true(filled(p[i], sizes[i], (unsigned)i));
            wee_heap_dealloc(&h, p[i], sizes[i], align);
        }
        assert_int_equal(test_stats(&h).live_bytes, 0);
        assert_heap_ok(&h);
    }
}

static void aligned_requests_interleaved(void **state) {
    (void)state;
    FRESH_HEAP(h);
    enum { N = 300 };
    void *p[N];
    size_t s[N], a[N];
    unsigned x = 99;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (size_t)1 << ((x >> 10) % 14);
        s[i] = (x >> 16) % 2000;
        p[i] = wee_heap_alloc(&h, s[i], a[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % a[i], 0);
        fill(p[i], s[i], (unsigned)i);
        if (i % 3 == 2) {
            int j = i - 1;
            assert_true(filled(p[j], s[j], (unsigned)j));
            wee_heap_dealloc(&h, p[j], s[j], a[j]);
            p[j] = NULL;
        }
    }
    assert_heap_ok(&h);
    for (int i = 0; i < N; i++)
        if (p[i]) {
            assert_true(filled(p[i], s[i], (unsigned)i));
            wee_heap_dealloc(&h, p[i], s[i], a[i]);
        }
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
}

static void large_aligned_request_on_fresh_heap(void **state) {
    (void)state;
    /* wee_alloc 0.4.5 returned NULL here: its refill ignored the alignment */
    FRESH_HEAP(h);
    void *p = wee_heap_alloc(&h, 100000, 32);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 32, 0);
    wee_heap_dealloc(&h, p, 100000, 32);
    FRESH_HEAP(h2);
    p = wee_heap_alloc(&h2, 1 << 20, 65536);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 65536, 0);
    /* the alignment slack past the block went back to the heap */
    assert_true(cell_size(test_cell_of((char *)p - WEE_WORD)) < (1 << 20) + 2 * CELL_MIN);
    wee_heap_dealloc(&h2, p, 1 << 20, 65536);
    assert_heap_ok(&h);
    assert_heap_ok(&h2);
}

RUN(cmocka_unit_test(every_alignment_up_to_64k), cmocka_unit_test(aligned_requests_interleaved),
    cmocka_unit_test(large_aligned_request_on_fresh_heap))
