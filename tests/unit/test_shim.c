/* The malloc shim's contract, clause by clause, with the shim linked into
 * this program in place of the C library's malloc. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdalign.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

static wee_heap *dh(void) { return wee_default_heap(); }

/* Values the compiler cannot see through, so that it does not reject the
 * absurd requests these tests make on purpose. */
static size_t opaque(size_t x) {
    volatile size_t v = x;
    return v;
}
static void *opaque_ptr(void *p) {
    void *volatile v = p;
    return v;
}

static void malloc_is_ours(void **state) {
    (void)state;
    wee_stats before = test_stats(dh());
    void *p = malloc(5000); /* above the thread caches' sizes */
    assert_non_null(p);
    assert_int_equal(test_stats(dh()).allocs, before.allocs + 1);
    free(p);
    assert_int_equal(test_stats(dh()).deallocs, before.deallocs + 1);
}

static void results_are_max_align_t_aligned(void **state) {
    (void)state;
    void *p[600];
    for (size_t i = 0; i < 600; i++) {
        p[i] = i % 3 == 0 ? malloc(i) : i % 3 == 1 ? calloc(1, i) : realloc(NULL, i);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
        fill(p[i], i, (unsigned)i);
    }
    for (size_t i = 0; i < 600; i++) {
        p[i] = realloc(p[i], i * 3 + 1);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
        assert_true(filled(p[i], i, (unsigned)i));
        free(p[i]);
    }
}

static void small_requests_are_slots(void **state) {
    (void)state;
    void *a = malloc(24), *p = malloc(100), *b = malloc(24);
    assert_non_null(a);
    assert_non_null(p);
    assert_non_null(b);
    if (WEE_RUNS) { /* 100 bytes and the size word: a slot of 112 bytes in a run */
        run *r = run_of((char *)opaque_ptr(p) - WEE_WORD);
        assert_int_equal(r->slot, 112);
        assert_true(r->used > 0);
    } else { /* the smallest build: a cell for 100 bytes and both words (and
              * a rest too small to be a cell of its own) */
        size_t size = cell_size(test_cell_of((char *)opaque_ptr(p) - WEE_WORD));
        assert_true(size >= cell_size_for(100 + WEE_WORD));
        assert_true(size < cell_size_for(100 + WEE_WORD) + CELL_MIN);
    }
    free(p);
    assert_ptr_equal(malloc(100), p); /* O(1) reuse from the cache, the run or the list */
    free(p);
    free(a);
    free(b);
    assert_heap_ok(dh());
}

static void exhaustion_and_overflow_set_enomem(void **state) {
    (void)state;
    errno = 0;
    assert_null(malloc(opaque(SIZE_MAX)));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(malloc(opaque(SIZE_MAX / 2 + 1)));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(calloc(opaque(SIZE_MAX / 2), 3));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(calloc(opaque(SIZE_MAX), opaque(SIZE_MAX)));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(aligned_alloc(64, opaque(SIZE_MAX - 10)));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(pvalloc(opaque(SIZE_MAX - 10)));
    assert_int_equal(errno, ENOMEM);
    static void *volatile kept;
    kept = malloc(16);
    errno = 0;
    assert_null(reallocarray(kept, opaque(SIZE_MAX / 4), 8));
    assert_int_equal(errno, ENOMEM);
    free(kept);
}

static void failed_realloc_keeps_the_block(void **state) {
    (void)state;
    static char *volatile kept;
    kept = malloc(100);
    fill(kept, 100, 77);
    errno = 0;
    assert_null(realloc(kept, opaque(SIZE_MAX - 100)));
    assert_int_equal(errno, ENOMEM);
    assert_true(filled(kept, 100, 77));
    free(kept);
    assert_heap_ok(dh());
}

static void posix_memalign_rules(void **state) {
    (void)state;
    void *sentinel = (void *)0x1234, *out = sentinel;
    static const size_t bad[] = {0, 1, 3, 24, sizeof(void *) / 2, sizeof(void *) + 1, 48};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(posix_memalign(&out, bad[i], 16), EINVAL);
        assert_ptr_equal(out, sentinel);
    }
    errno = 42;
    assert_int_equal(posix_memalign(&out, 64, opaque(SIZE_MAX - 100)), ENOMEM);
    assert_ptr_equal(out, sentinel);
    assert_int_equal(errno, 42);
    for (size_t align = sizeof(void *); align <= 65536; align *= 2) {
        assert_int_equal(posix_memalign(&out, align, 100), 0);
        assert_non_null(out);
        assert_int_equal((uintptr_t)out % align, 0);
        fill(out, 100, 1);
        free(out);
    }
}

static void aligned_family(void **state) {
    (void)state;
    errno = 0;
    assert_null(aligned_alloc(opaque(24), 48));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memalign(opaque(3), 48));
    assert_int_equal(errno, EINVAL);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t align = 1; align <= 65536; align *= 2) {
        void *a = aligned_alloc(align, 3 * align), *m = memalign(align, 10);
        assert_non_null(a);
        assert_non_null(m);
        fill(a, 3 * align, 1);
        fill(m, 10, 2);
        assert_true(filled(a, 3 * align, 1));
        assert_int_equal((uintptr_t)a % align, 0);
        assert_int_equal((uintptr_t)m % align, 0);
        assert_int_equal((uintptr_t)a % alignof(max_align_t), 0);
        free(a);
        free(m);
    }
    void *v = valloc(100), *pv = pvalloc(100), *pz = pvalloc(0);
    assert_non_null(v);
    assert_non_null(pv);
    assert_non_null(pz);
    assert_int_equal((uintptr_t)v % page, 0);
    assert_int_equal((uintptr_t)pv % page, 0);
    assert_int_equal((uintptr_t)pz % page, 0);
    fill(pv, page, 3); /* pvalloc rounds the size up to whole pages */
    assert_true(filled(pv, page, 3));
    assert_true(malloc_usable_size(pv) >= page);
    assert_true(malloc_usable_size(pz) >= page);
    free(v);
    free(pv);
    free(pz);
}

static void free_edges(void **state) {
    (void)state;
    errno = 99;
    free(NULL);
    assert_int_equal(errno, 99);
    void *p = malloc(50);
    assert_non_null(p);
    errno = 1234;
    free(p);
    assert_int_equal(errno, 1234);
    p = malloc(50000);
    assert_non_null(p);
    errno = 4321;
    free(p);
    assert_int_equal(errno, 4321);
}

static void malloc_zero_is_unique(void **state) {
    (void)state;
    wee_stats before = test_stats(dh());
    void *a = malloc(0), *b = malloc(0);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    /* realloc(p, 0) keeps a unique minimal block (glibc frees p and returns
     * NULL): not NULL, not a or b, usable and freeable */
    char *p = malloc(10);
    assert_non_null(p);
    char *r = realloc(p, 0);
    assert_non_null(r);
    assert_ptr_not_equal(r, a);
    assert_ptr_not_equal(r, b);
    size_t u = malloc_usable_size(r);
    assert_true(u >= 1);
    memset(r, 0x33, u);
    free(r);
    free(a);
    free(b);
    /* all three were freed: the heap holds no more than before (blocks
     * freed into this thread's cache stay live in the heap's count, so the
     * count may not come back to the byte), and minimal requests get all
     * three back (from the cache or their run, last freed first) */
    assert_true(test_stats(dh()).live_bytes <= before.live_bytes);
    enum { TRIES = 64 };
    void *again[TRIES];
    int found = 0;
    for (int i = 0; i < TRIES; i++) {
        again[i] = malloc(0);
        assert_non_null(again[i]);
        found += again[i] == a || again[i] == b || again[i] == (void *)r;
    }
    assert_int_equal(found, 3);
    for (int i = 0; i < TRIES; i++)
        free(again[i]);
    assert_heap_ok(dh());
}

static void usable_size_covers_the_request(void **state) {
    (void)state;
    assert_int_equal(malloc_usable_size(NULL), 0);
    for (size_t n = 0; n < 5000; n += 13) {
        char *p = malloc(n);
        assert_non_null(p);
        size_t u = malloc_usable_size(p);
        assert_true(u >= n);
        memset(p, 0x5a, u); /* all of it is really usable */
        char *q = realloc(p, u + 100);
        assert_non_null(q);
        for (size_t i = 0; i < u; i++)
            assert_int_equal((unsigned char)q[i], 0x5a);
        free(q);
    }
}

static void calloc_zeroes_reused_memory(void **state) {
    (void)state;
    for (int round = 0; round < 50; round++) {
        unsigned char *p = malloc(3000);
        assert_non_null(p);
        memset(p, 0xff, 3000);
        free(p);
        unsigned char *z = calloc(1000, 3);
        assert_non_null(z);
        for (int i = 0; i < 3000; i++)
            assert_int_equal(z[i], 0);
        free(z);
    }
}

static void realloc_in_place(void **state) {
    (void)state;
    char *keep = malloc(16);
    char *p = malloc(20000);
    assert_non_null(keep);
    assert_non_null(p);
    fill(p, 20000, 8);
    char *s = realloc(p, 1000); /* shrink a cell (above the slot sizes): same place */
    assert_ptr_equal(s, p);
    assert_true(filled(s, 1000, 8));
    char *g = realloc(s, 15000); /* grow back into the freed tail */
    assert_non_null(g);
    if (!WEE_TINY) /* the smallest build grows by moving */
        assert_ptr_equal(g, p);
    assert_true(filled(g, 1000, 8));
    free(g);
    free(keep);
    assert_heap_ok(dh());
}

static void reallocarray_works(void **state) {
    (void)state;
    int *p = reallocarray(NULL, 10, sizeof(int));
    assert_non_null(p);
    for (int i = 0; i < 10; i++)
        p[i] = i;
    p = reallocarray(p, 1000, sizeof(int));
    assert_non_null(p);
    for (int i = 0; i < 10; i++)
        assert_int_equal(p[i], i);
    free(p);
}

/* Statistics count every call that reaches the heap, exactly for one
 * thread: counts, live bytes and a peak that never runs away. Blocks a
 * thread cache keeps stay live blocks of the heap. */
static void statistics_count_every_call(void **state) {
    (void)state;
    wee_stats before = test_stats(dh());
    char *p[40];
    for (int i = 0; i < 40; i++) { /* above the thread caches' sizes */
        p[i] = malloc((size_t)(i % 5) * 400 + 2000);
        assert_non_null(p[i]);
    }
    p[0] = realloc(p[0], 1990);  /* in place */
    p[1] = realloc(p[1], 30000); /* moved */
    assert_non_null(p[0]);
    assert_non_null(p[1]);
    for (int i = 0; i < 40; i++)
        free(p[i]);
    wee_stats after = test_stats(dh());
    assert_int_equal(after.allocs - before.allocs, 40 + 1);
    assert_int_equal(after.deallocs - before.deallocs, 40 + 1);
    assert_int_equal(after.live_bytes, before.live_bytes);
    assert_true(after.peak_bytes < after.backend_bytes);
    assert_heap_ok(dh());
    /* small blocks may stay in this thread's cache, live for the heap and
     * bounded by the cache's size; the heap's counts still match its blocks
     * (wee_heap_check compares live_bytes with the cells and slots) */
    for (int i = 0; i < 40; i++)
        p[i] = malloc((size_t)(i % 5) * 40 + 8);
    for (int i = 0; i < 40; i++)
        free(p[i]);
    after = test_stats(dh());
    assert_true(after.live_bytes - before.live_bytes <= (size_t)1 << 20);
    assert_true(after.allocs - before.allocs >= 41);
    assert_heap_ok(dh());
}

RUN(cmocka_unit_test(malloc_is_ours), cmocka_unit_test(statistics_count_every_call),
    cmocka_unit_test(results_are_max_align_t_aligned), cmocka_unit_test(small_requests_are_slots),
    cmocka_unit_test(exhaustion_and_overflow_set_enomem),
    cmocka_unit_test(failed_realloc_keeps_the_block), cmocka_unit_test(posix_memalign_rules),
    cmocka_unit_test(aligned_family), cmocka_unit_test(free_edges),
    cmocka_unit_test(malloc_zero_is_unique), cmocka_unit_test(usable_size_covers_the_request),
    cmocka_unit_test(calloc_zeroes_reused_memory), cmocka_unit_test(realloc_in_place),
    cmocka_unit_test(reallocarray_works))
