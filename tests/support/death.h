/*
 * Death tests: a misuse runs in a forked child, which must die of a signal
 * after writing one line to standard error. The parent collects that line,
 * the pointer the child said the line must name (death_report), and how
 * the child ended.
 *
 * Include after cmocka (the assertions below are cmocka's). POSIX only.
 */
#ifndef WEE_TEST_DEATH_H
#define WEE_TEST_DEATH_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: where death_report() writes. */
static int death_report_fd = -1;

/* In the child: tells the parent which pointer the message must name. */
static inline void death_report(const void *ptr) {
    uintptr_t a = (uintptr_t)ptr;
    assert_int_equal(write(death_report_fd, &a, sizeof a), sizeof a);
}

/* How a child ended: what it wrote to standard error, the pointer it
 * reported (0 for none), and its wait status. */
typedef struct death {
    char msg[256];
    uintptr_t at;
    int status;
} death;

/* Runs child(ctx) in a forked child with the fatal signals at their
 * defaults (so that it dies of the trap, not through cmocka's handlers),
 * and standard error into a pipe. */
static inline death death_run(void (*child)(void *), void *ctx) {
    death d = {{0}, 0, 0};
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
        death_report_fd = ptrs[1];
        child(ctx);
        _exit(0); /* not caught */
    }
    close(err[1]);
    close(ptrs[1]);
    size_t n = 0;
    ssize_t got;
    while (n < sizeof d.msg - 1 && (got = read(err[0], d.msg + n, sizeof d.msg - 1 - n)) > 0)
        n += (size_t)got;
    if (read(ptrs[0], &d.at, sizeof d.at) != sizeof d.at)
        d.at = 0;
    close(err[0]);
    close(ptrs[0]);
    assert_int_equal(waitpid(pid, &d.status, 0), pid);
    return d;
}

/* Asserts that the child died of a signal after writing exactly
 * "wee_alloc: <kind>: 0x<the pointer it reported>\n". */
static inline void death_assert_named(const death *d, const char *kind) {
    assert_true(d->at != 0);
    char want[256];
    snprintf(want, sizeof want, "wee_alloc: %s: 0x%0*" PRIxPTR "\n", kind,
             (int)(2 * sizeof(uintptr_t)), d->at);
    if (strcmp(d->msg, want) != 0)
        fail_msg("expected \"%s\", got \"%s\"", want, d->msg);
    assert_true(WIFSIGNALED(d->status));
}

#endif /* WEE_TEST_DEATH_H */
