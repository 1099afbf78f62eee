/* Out of memory, driven by the static backend's fail-after hook and by
 * exhausting its array: NULL comes back, nothing is lost, and the heap stays
 * valid and usable. Built against the static backend in every
 * configuration. */
#include "backend_static.h"
#include "test_util.h"

static void failing_backend_gives_null(void **state) {
    (void)state;
    FRESH_HEAP(h);
    wee_backend_static_fail_after(0);
    assert_null(wee_heap_alloc(&h, 10, 8));
    assert_null(wee_heap_alloc(&h, 100000, 64));
    assert_int_equal(test_stats(&h).failures, 2);
    assert_heap_ok(&h);
    wee_backend_static_fail_after(-1);
    void *p = wee_heap_alloc(&h, 10, 8);
    assert_non_null(p);
    wee_heap_dealloc(&h, p, 10, 8);
    assert_heap_ok(&h);
}

static void nth_grow_fails_and_heap_survives(void **state) {
    (void)state;
    FRESH_HEAP(h);
    wee_backend_static_fail_after(2);
    enum { N = 4096 };
    static void *p[N];
    int got = 0;
    while (got < N && (p[got] = wee_heap_alloc(&h, 1000, 8)) != NULL) {
        fill(p[got], 1000, (unsigned)got);
        got++;
    }
    assert_true(got > 0 && got < N);
    assert_int_equal(test_stats(&h).failures, 1);
    assert_heap_ok(&h);
    /* freeing one makes room again without the backend */
    wee_heap_dealloc(&h, p[got / 2], 1000, 8);
    void *again = wee_heap_alloc(&h, 1000, 8);
    assert_ptr_equal(again, p[got / 2]);
    /* a failed realloc leaves the block intact */
    assert_null(wee_heap_realloc(&h, p[0], 1000, 8, 1 << 20));
    assert_true(filled(p[0], 1000, 0));
    for (int i = 0; i < got; i++) {
        if (i != got / 2)
            assert_true(filled(p[i], 1000, (unsigned)i));
        wee_heap_dealloc(&h, p[i], 1000, 8);
    }
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
    wee_backend_static_fail_after(-1);
}

/* A batch stops where memory runs out: the blocks it did get are whole and
 * counted, the failure is counted once, and the heap serves what fits. */
static void batch_stops_at_exhaustion(void **state) {
    (void)state;
    FRESH_HEAP(h);
    enum { N = 4096 };
    static void *p[N];
    wee_backend_static_fail_after(1);
    size_t got = wee_heap_alloc_many(&h, 1000, 16, p, N);
    assert_true(got > 0 && got < N);
    assert_int_equal(test_stats(&h).allocs, got);
    assert_int_equal(test_stats(&h).failures, 1);
    for (size_t i = 0; i < got; i++)
        fill(p[i], 1000, (unsigned)i);
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, p[1], 1000, 16);
    assert_int_equal(wee_heap_alloc_many(&h, 1000, 16, &p[1], 1), 1);
    for (size_t i = 0; i < got; i++)
        if (i != 1)
            assert_true(filled(p[i], 1000, (unsigned)i));
    wee_heap_dealloc_many(&h, p, got, 1000, 16);
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
    wee_backend_static_fail_after(-1);
}

static void exhausting_the_array(void **state) {
    (void)state;
    FRESH_HEAP(h);
    /* far more than the array holds: NULL, not a crash */
    assert_null(wee_heap_alloc(&h, (size_t)WEE_STATIC_BYTES * 2, 8));
    assert_int_equal(test_stats(&h).failures, 1);
    size_t n = 0, chunk = 256 * 1024;
    void *first = NULL;
    for (;;) {
        void *p = wee_heap_alloc(&h, chunk, 8);
        if (!p)
            break;
        if (!first)
            first = p;
        n++;
    }
    assert_true(n >= (size_t)WEE_STATIC_BYTES / chunk / 2);
    assert_int_equal(test_stats(&h).failures, 2);
    assert_heap_ok(&h);
    size_t live = test_stats(&h).live_bytes;
    /* Small requests take what is left, each one usable and apart from
     * the others, until one fails cleanly: less than a chunk and a grow is
     * left. */
    enum { SMALL = 64, MAX_SMALL = 1024 * 1024 / SMALL };
    static unsigned char *small[MAX_SMALL];
    size_t got = 0;
    while (got < MAX_SMALL && (small[got] = wee_heap_alloc(&h, SMALL, 8)) != NULL) {
        fill(small[got], SMALL, (unsigned)got);
        got++;
    }
    assert_true(got < MAX_SMALL);
    assert_int_equal(test_stats(&h).failures, 3);
    assert_null(wee_heap_alloc(&h, SMALL, 8)); /* and keeps failing */
    assert_int_equal(test_stats(&h).failures, 4);
    assert_heap_ok(&h);
    for (size_t i = 0; i < got; i++) {
        assert_true(filled(small[i], SMALL, (unsigned)i));
        wee_heap_dealloc(&h, small[i], SMALL, 8);
    }
    assert_int_equal(test_stats(&h).live_bytes, live);
    /* the space of a freed chunk serves a new request */
    wee_heap_dealloc(&h, first, chunk, 8);
    void *again = wee_heap_alloc(&h, chunk / 2, 8);
    assert_non_null(again);
    fill(again, chunk / 2, 5);
    assert_true(filled(again, chunk / 2, 5));
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(failing_backend_gives_null), cmocka_unit_test(batch_stops_at_exhaustion),
    cmocka_unit_test(nth_grow_fails_and_heap_survives), cmocka_unit_test(exhausting_the_array))
