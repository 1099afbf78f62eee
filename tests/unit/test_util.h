/*
 * Shared set-up for the cmocka unit tests: cmocka's required headers, the
 * core's internals (the tests are white-box), and helpers to look at a heap.
 */
#ifndef WEE_TEST_UTIL_H
#define WEE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../support/pattern.h"
#include "heap.h"

/* A fresh, empty heap for one test. */
#define FRESH_HEAP(name) wee_heap name = WEE_HEAP_INIT

/* Every invariant of the heap holds. */
#define assert_heap_ok(h) assert_int_equal(wee_heap_check(h), 0)

static inline cell *test_cell_of(void *ptr) { return cell_of(ptr); }

/* Number of free cells on all lists of heap h. */
static inline size_t test_free_cells(wee_heap *wh) {
    heap *h = heap_of(wh);
    size_t n = 0;
    for (size_t k = 0; k < LIST_COUNT; k++)
        for (cell *c = h->lists[k]; c; c = cell_links(c)->next)
            n++;
    return n;
}

/* Whether cell c is on free list k of heap h. */
static inline int test_on_list(wee_heap *wh, size_t k, const cell *c) {
    for (cell *x = heap_of(wh)->lists[k]; x; x = cell_links(x)->next)
        if (x == c)
            return 1;
    return 0;
}

/* The cell that holds run r. */
static inline cell *test_run_cell(run *r) { return cell_of((char *)r - WEE_WORD); }

/* Number of runs of class k that have free slots (on the class's list). */
static inline size_t test_runs_listed(wee_heap *wh, size_t k) {
    size_t n = 0;
    for (run *r = heap_of(wh)->runs[k]; r; r = r->next)
        n++;
    return n;
}

/* Whether run r is on class k's list. */
static inline int test_run_listed(wee_heap *wh, size_t k, const run *r) {
    for (run *x = heap_of(wh)->runs[k]; x; x = x->next)
        if (x == r)
            return 1;
    return 0;
}

/* Runs kept with every slot free, one at most per class. */
static inline size_t test_empty_runs(wee_heap *wh) {
    size_t n = 0;
    for (size_t k = 1; k <= CLASS_COUNT; k++)
        for (run *r = heap_of(wh)->runs[k]; r; r = r->next)
            n += r->used == 0;
    return n;
}

/* After every block is freed: no slot is out, the only runs left are the
 * empty ones kept (one per class at most), and the free cells are one per
 * region, or split by a kept run (each splits at most one free cell). */
#define assert_all_returned(h)                                                                     \
    do {                                                                                           \
        assert_int_equal(test_stats(h).live_bytes, 0);                                             \
        assert_int_equal(heap_of(h)->slot_bytes, 0);                                               \
        for (size_t k_ = 1; k_ <= CLASS_COUNT; k_++)                                               \
            assert_true(test_runs_listed(h, k_) <= 1);                                             \
        assert_int_equal(heap_of(h)->run_bytes, test_empty_runs(h) * RUN_BYTES);                   \
        assert_true(test_free_cells(h) >= test_stats(h).regions);                                  \
        assert_true(test_free_cells(h) <= test_stats(h).regions + test_empty_runs(h));             \
        assert_heap_ok(h);                                                                         \
    } while (0)

static inline wee_stats test_stats(wee_heap *h) {
    wee_stats s;
    wee_heap_stats(h, &s);
    return s;
}

/* Fills n bytes with a pattern from seed (tests/support/pattern.h);
 * checks it back. */
static inline void fill(void *p, size_t n, unsigned seed) {
    pattern_fill(p, 0, n, pattern_seed(seed));
}
static inline int filled(const void *p, size_t n, unsigned seed) {
    return pattern_ok(p, n, pattern_seed(seed));
}

#define RUN(...)                                                                                   \
    int main(void) {                                                                               \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

/* RUN, when the build has what the tests need; otherwise the program exits
 * 77, which ctest reports as a skipped test. */
#define RUN_IF(cond, why, ...)                                                                     \
    int main(void) {                                                                               \
        if (!(cond)) {                                                                             \
            printf("skipped: %s\n", why);                                                          \
            return 77;                                                                             \
        }                                                                                          \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

#endif /* WEE_TEST_UTIL_H */
