/* Fault injection: a stress workload of malloc, calloc, realloc,
 * aligned_alloc and free, through the shim (its prefixed names, over a core
 * on the static backend), run again and again from an empty heap with the
 * backend failing after its first N grows, for every N from 0 up to the
 * first N at which nothing fails. Every failure must be NULL with errno
 * ENOMEM; wee_heap_check() must find nothing wrong after every step; no live
 * block's contents may change, a failed realloc's block included; and after
 * each failure the heap must still serve a request that fits in what it
 * has: a block of the size of one just freed. */
#include <errno.h>

#include "backend_static.h"
#include "test_util.h"

void *wee_shim_malloc(size_t size);
void wee_shim_free(void *ptr);
void *wee_shim_calloc(size_t count, size_t size);
void *wee_shim_realloc(void *ptr, size_t size);
void *wee_shim_aligned_alloc(size_t align, size_t size);

#define STEPS 3000
#define SLOTS 128

typedef struct live_block {
    unsigned char *p;
    size_t size;
    unsigned seed;
    int aligned;
} live_block;

static live_block live[SLOTS];
static uint64_t rng;

static unsigned rnd(unsigned n) {
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (unsigned)(rng >> 33) % n;
}

/* Mostly small sizes, some up to 64 KiB, a few up to 1 MiB. */
static size_t rnd_size(void) {
    unsigned r = rnd(100);
    return r < 70 ? rnd(600) : r < 95 ? rnd(64 * 1024) : rnd(1024 * 1024);
}

static void check_all(void) {
    for (size_t i = 0; i < SLOTS; i++)
        if (live[i].p)
            assert_true(filled(live[i].p, live[i].size, live[i].seed));
}

/* NULL from the shim: ENOMEM, nothing changed, and a block of the size of
 * a live one, once freed, comes back. */
static void after_failure(int err, size_t *failures) {
    assert_int_equal(err, ENOMEM);
    ++*failures;
    assert_heap_ok(wee_default_heap());
    check_all();
    for (size_t i = 0; i < SLOTS; i++) {
        if (!live[i].p || live[i].aligned)
            continue;
        size_t size = live[i].size;
        wee_shim_free(live[i].p);
        live[i].p = wee_shim_malloc(size);
        assert_non_null(live[i].p);
        fill(live[i].p, size, live[i].seed);
        break;
    }
}

/* The workload with the backend failing after n grows; returns how many
 * requests failed. */
static size_t workload(long n) {
    wee_backend_static_reset();
    *wee_default_heap() = (wee_heap)WEE_HEAP_INIT;
    memset(live, 0, sizeof live);
    rng = 42;
    wee_backend_static_fail_after(n);
    size_t failures = 0;
    for (unsigned step = 0; step < STEPS; step++) {
        live_block *b = &live[rnd(SLOTS)];
        unsigned op = rnd(10);
        errno = 0;
        if (b->p && op < 4) {
            assert_true(filled(b->p, b->size, b->seed));
            wee_shim_free(b->p);
            b->p = NULL;
        } else if (b->p && op < 7 && !b->aligned) {
            size_t size = rnd_size();
            unsigned char *q = wee_shim_realloc(b->p, size);
            if (q) {
                size_t keep = size < b->size ? size : b->size;
                assert_true(filled(q, keep, b->seed));
                b->p = q;
                b->size = size;
                b->seed = step;
                fill(q, size, step);
            } else {
                after_failure(errno, &failures);
            }
        } else if (!b->p) {
            size_t size = rnd_size();
            b->aligned = op == 9;
            if (op == 9) {
                b->p = wee_shim_aligned_alloc((size_t)64 << rnd(7), size);
            } else if (op == 8) {
                size_t count = 1 + rnd(8);
                size = size / 8 * count;
                b->p = wee_shim_calloc(count, size / count);
                for (size_t i = 0; b->p && i < size; i++)
                    assert_int_equal(b->p[i], 0);
            } else {
                b->p = wee_shim_malloc(size);
            }
            if (!b->p) {
                after_failure(errno, &failures);
                continue;
            }
            b->size = size;
            b->seed = step;
            fill(b->p, size, step);
        }
        assert_heap_ok(wee_default_heap());
    }
    check_all();
    for (size_t i = 0; i < SLOTS; i++)
        wee_shim_free(live[i].p);
    assert_int_equal(test_stats(wee_default_heap()).live_bytes, 0);
    assert_heap_ok(wee_default_heap());
    wee_backend_static_fail_after(-1);
    return failures;
}

static void every_grow_failing_in_turn(void **state) {
    (void)state;
    size_t total = 0;
    long n = 0;
    for (;; n++) {
        size_t failures = workload(n);
        total += failures;
        if (!failures)
            break;
        assert_true(n < 10000);
    }
    assert_true(n > 2); /* the workload grows the heap several times */
    assert_true(total > (size_t)n);
    printf("fault injection: %ld limits swept, %zu requests failed cleanly\n", n, total);
}

RUN(cmocka_unit_test(every_grow_failing_in_turn))
