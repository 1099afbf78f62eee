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

#include "wee_alloc.h"

#ifndef WEE_EXTRA_ASSERTIONS
#define WEE_EXTRA_ASSERTIONS 0
#endif

/* Exit status that ctest counts as a skipped test. */
#define SKIPPED 77

#define BIG 8192 /* a cell: above the largest slot */

typedef void (*misuse)(wee_heap *h);

/* Runs `bad` in a child; asserts it died of a signal after writing a
 * message that starts with "wee_alloc:". */
static void assert_caught(misuse bad) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* die of the trap itself, not through cmocka's handlers */
        static const int sigs[] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
            signal(sigs[i], SIG_DFL);
        dup2(fds[1], 2);
        wee_heap h = WEE_HEAP_INIT;
        bad(&h);
        _exit(0); /* not caught */
    }
    close(fds[1]);
    char msg[256] = {0};
    ssize_t n = read(fds[0], msg, sizeof msg - 1);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_true(n > 10);
    assert_memory_equal(msg, "wee_alloc:", 10);
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
