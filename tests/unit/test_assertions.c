/* The extra-assertions build catches misuse: a write to freed memory and a
 * double free each end the process with a trap after one message on
 * standard error. Each case runs in a child process. Skipped in builds
 * without extra assertions. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

#define BIG (CLASS_MAX + 100)

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
        FRESH_HEAP(h);
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

static void double_free(wee_heap *h) {
    char *a = wee_heap_alloc(h, 64, 8), *b = wee_heap_alloc(h, 64, 8);
    wee_heap_dealloc(h, b, 64, 8);
    wee_heap_dealloc(h, b, 64, 8);
    (void)a;
}

static void writes_after_free_are_caught(void **state) {
    (void)state;
    if (!WEE_EXTRA_ASSERTIONS)
        skip();
    assert_caught(write_after_free);
}

static void double_frees_are_caught(void **state) {
    (void)state;
    if (!WEE_EXTRA_ASSERTIONS)
        skip();
    assert_caught(double_free);
}

RUN(cmocka_unit_test(writes_after_free_are_caught), cmocka_unit_test(double_frees_are_caught))
