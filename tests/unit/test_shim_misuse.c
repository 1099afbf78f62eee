/* Misuse through malloc and free, with the shim linked into this program in
 * place of the C library's malloc: a double free and a freed block's link
 * overwritten are caught in the thread cache (hardened builds) or, where
 * there is no cache (extra assertions), in the core. Each case runs in a
 * child process that must die of a signal after writing the expected line. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static int report_fd = -1;
static int cache_on; /* free() of a small block keeps it in the thread cache */

static void report(const void *ptr) {
    uintptr_t a = (uintptr_t)ptr;
    assert_int_equal(write(report_fd, &a, sizeof a), sizeof a);
}

static void *opaque_ptr(void *p) {
    void *volatile v = p;
    return v;
}

static void assert_caught(void (*bad)(void), const char *kind) {
    int err[2], ptrs[2];
    assert_int_equal(pipe(err), 0);
    assert_int_equal(pipe(ptrs), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static const int sigs[] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
            signal(sigs[i], SIG_DFL);
        dup2(err[1], 2);
        report_fd = ptrs[1];
        bad();
        _exit(0);
    }
    close(err[1]);
    close(ptrs[1]);
    char msg[256] = {0};
    size_t n = 0;
    ssize_t got;
    while (n < sizeof msg - 1 && (got = read(err[0], msg + n, sizeof msg - 1 - n)) > 0)
        n += (size_t)got;
    uintptr_t at = 0;
    assert_int_equal(read(ptrs[0], &at, sizeof at), sizeof at);
    close(err[0]);
    close(ptrs[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char want[256];
    snprintf(want, sizeof want, "wee_alloc: %s: 0x%0*" PRIxPTR "\n", kind,
             (int)(2 * sizeof(uintptr_t)), at);
    if (strcmp(msg, want) != 0)
        fail_msg("expected \"%s\", got \"%s\"", want, msg);
    assert_true(WIFSIGNALED(status));
}

static void free_twice(void) {
    char *p = malloc(40);
    free(p);
    report(p);
    free(opaque_ptr(p));
}

/* A use after free writes over the first word of a freed block, where its
 * list link is kept xor its address / 4096. The value written here comes
 * out as an address 8 bytes past a 16-byte boundary, as 15 in 16 pointers
 * written there by chance do. */
static void link_overwritten(void) {
    char *p = malloc(40), *q = malloc(40), here[32];
    free(p);
    free(q);
    report(q);
    *(uintptr_t *)opaque_ptr(q) = ((uintptr_t)q >> 12) ^ ((uintptr_t)here | 8);
    (void)opaque_ptr(malloc(40)); /* q */
    (void)opaque_ptr(malloc(40)); /* the link */
}

static void double_free_is_caught(void **state) {
    (void)state;
    assert_caught(free_twice, "double free");
}

static void overwritten_link_is_caught(void **state) {
    (void)state;
    if (!cache_on || !WEE_HARDEN)
        skip();
    assert_caught(link_overwritten, "thread cache corrupted (write after free?)");
}

int main(void) {
    if (!WEE_HARDEN && !WEE_EXTRA_ASSERTIONS) {
        printf("skipped: this build checks no freed block (WEE_HARDEN and extra assertions off)\n");
        return 77;
    }
    size_t before = test_stats(wee_default_heap()).deallocs;
    free(opaque_ptr(malloc(40)));
    cache_on = test_stats(wee_default_heap()).deallocs == before;
    /* Without the cache (extra assertions) the core's poison check sees
     * the write first; test_misuse.c covers the core's links. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(double_free_is_caught),
        cmocka_unit_test(overwritten_link_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
