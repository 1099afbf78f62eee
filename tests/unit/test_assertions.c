/* The extra-assertions build catches misuse: a write to freed memory and a
 * double free each end the process with a trap after one message on
 * standard error. Each case runs in a child process.
 *
 * A build without extra assertions has nothing to catch these: the program
 * then exits with 77, which ctest reports as skipped (SKIP_RETURN_CODE), and
 * scripts/test knows in which configurations to expect that.
 *
 * Only the public API: sizes are chosen to be far above any size class. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/death.h"
#include "wee_alloc.h"

#ifndef WEE_EXTRA_ASSERTIONS
#define WEE_EXTRA_ASSERTIONS 0
#endif

/* Exit status that ctest counts as a skipped test. */
#define SKIPPED 77

#define BIG 8192 /* a cell: above the largest slot */

typedef void (*misuse)(wee_heap *h);

typedef struct misuse_fn {
    misuse bad;
} misuse_fn;

/* Runs a misuse on a fresh heap (in the child). */
static void on_fresh_heap(void *ctx) {
    wee_heap h = WEE_HEAP_INIT;
    ((misuse_fn *)ctx)->bad(&h);
}

/* Runs `bad` in a child; asserts it died of a signal after writing a
 * message that starts with "wee_alloc:". */
static void assert_caught(misuse bad) {
    misuse_fn fn = {bad};
    death d = death_run(on_fresh_heap, &fn);
    assert_true(WIFSIGNALED(d.status));
    assert_true(strlen(d.msg) > 10);
    assert_memory_equal(d.msg, "wee_alloc:", 10);
}

static void write_after_free(wee_heap *h) {
    char *keep = wee_heap_alloc(h, BIG, 8);
    char *p = wee_heap_alloc(h, BIG, 8);
    char *guard = wee_heap_alloc(h, BIG, 8);
    wee_heap_dealloc(h, p, BIG, 8);
    p[BIG / 2] = 1; /* the use after free */
    (void)wee_heap_alloc(h, BIG, 8);
    (void)keep;
    (void)guard;
}

static void write_after_free_of_a_slot(wee_heap *h) {
    char *p = wee_heap_alloc(h, 40, 8);
    wee_heap_dealloc(h, p, 40, 8);
    p[20] = 1; /* the use after free, past the slot's free-list link */
    (void)wee_heap_alloc(h, 40, 8);
}

static void double_free(wee_heap *h) {
    char *a = wee_heap_alloc(h, 64, 8), *b = wee_heap_alloc(h, 64, 8);
    wee_heap_dealloc(h, b, 64, 8);
    wee_heap_dealloc(h, b, 64, 8);
    (void)a;
}

/* The misuse itself is well-formed: without the double free and the write,
 * the same calls succeed (so a child that dies has died of the check). */
static void the_same_calls_without_misuse_succeed(void **state) {
    (void)state;
    wee_heap h = WEE_HEAP_INIT;
    char *keep = wee_heap_alloc(&h, BIG, 8), *p = wee_heap_alloc(&h, BIG, 8);
    char *guard = wee_heap_alloc(&h, BIG, 8);
    assert_non_null(keep);
    assert_non_null(p);
    assert_non_null(guard);
    wee_heap_dealloc(&h, p, BIG, 8);
    p = wee_heap_alloc(&h, BIG, 8);
    assert_non_null(p);
    wee_heap_dealloc(&h, p, BIG, 8);
    wee_heap_dealloc(&h, guard, BIG, 8);
    wee_heap_dealloc(&h, keep, BIG, 8);
    assert_int_equal(wee_heap_check(&h), 0);
}

static void writes_after_free_are_caught(void **state) {
    (void)state;
    assert_caught(write_after_free);
}

static void writes_after_free_of_slots_are_caught(void **state) {
    (void)state;
    assert_caught(write_after_free_of_a_slot);
}

static void double_frees_are_caught(void **state) {
    (void)state;
    assert_caught(double_free);
}

int main(void) {
    if (!WEE_EXTRA_ASSERTIONS) {
        printf("skipped: built without WEE_EXTRA_ASSERTIONS, which these tests need\n");
        return SKIPPED;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_same_calls_without_misuse_succeed),
        cmocka_unit_test(writes_after_free_are_caught),
        cmocka_unit_test(writes_after_free_of_slots_are_caught),
        cmocka_unit_test(double_frees_are_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
