/*
 * A tiny assertion harness for the wasm32 test programs (cmocka needs
 * setjmp, which this wasi-libc lacks).
 *
 *     static void some_test(void) {
 *         CHECK(x == 1);             // counts a failure and goes on
 *         CHECK_EQ(wee_heap_check(h), 0);
 *         REQUIRE(p != NULL);        // counts a failure and leaves the test
 *     }
 *     int main(void) {
 *         RUN(some_test);
 *         return check_summary("smoke");
 *     }
 *
 * Failures go to stderr with file and line. check_summary() prints
 * "NAME: P passed, F failed" and returns the exit status: 0 only when no
 * check failed and at least one ran. Include it in one file per program.
 */
#ifndef WEE_WASM_CHECK_H
#define WEE_WASM_CHECK_H

#include <stdio.h>

static unsigned long check_passed, check_failed;
static const char *check_test = "";

static inline int check_fail(const char *file, int line, const char *what) {
    check_failed++;
    fprintf(stderr, "%s:%d: %s: check failed: %s\n", file, line, check_test, what);
    return 0;
}

static inline int check_fail_eq(const char *file, int line, const char *what, unsigned long long a,
                                unsigned long long b) {
    check_fail(file, line, what);
    fprintf(stderr, "    left %llu (%#llx), right %llu (%#llx)\n", a, a, b, b);
    return 0;
}

/* Each evaluates to 1 when the check held, 0 when it failed. */
#define CHECK(cond) ((cond) ? (check_passed++, 1) : check_fail(__FILE__, __LINE__, #cond))
#define CHECK_EQ(a, b)                                                                             \
    ((unsigned long long)(a) == (unsigned long long)(b)                                            \
         ? (check_passed++, 1)                                                                     \
         : check_fail_eq(__FILE__, __LINE__, #a " == " #b, (unsigned long long)(a),                \
                         (unsigned long long)(b)))
/* Leaves the current (void) test function when the check fails. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!CHECK(cond))                                                                          \
            return;                                                                                \
    } while (0)

#define RUN(test)                                                                                  \
    do {                                                                                           \
        unsigned long failed_before = check_failed;                                                \
        check_test = #test;                                                                        \
        test();                                                                                    \
        printf("%-44s %s\n", #test, check_failed == failed_before ? "ok" : "FAILED");              \
        fflush(stdout);                                                                            \
    } while (0)

static inline int check_summary(const char *name) {
    printf("%s: %lu passed, %lu failed\n", name, check_passed, check_failed);
    fflush(stdout);
    return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif /* WEE_WASM_CHECK_H */
