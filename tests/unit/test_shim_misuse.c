/* Misuse through malloc and free, with the shim linked into this program in
 * place of the C library's malloc: a double free and a freed block's link
 * overwritten are caught in the thread cache (hardened builds) or, where
 * there is no cache (extra assertions), in the core. Each case runs in a
 * child process that must die of a signal after writing the expected line. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "test_util.h"

#include "../support/death.h"

static int cache_on; /* free() of a small block keeps it in the thread cache */

#define report death_report

static void *opaque_ptr(void *p) {
    void *volatile v = p;
    return v;
}

typedef struct misuse_fn {
    void (*bad)(void);
} misuse_fn;

/* Runs a misuse (in the child). */
static void call(void *ctx) { ((misuse_fn *)ctx)->bad(); }

/* Runs `bad` in a child; asserts that it died of a signal after writing
 * "wee_alloc: <kind>: 0x<the reported pointer>\n". */
static void assert_caught(void (*bad)(void), const char *kind) {
    misuse_fn fn = {bad};
    death d = death_run(call, &fn);
    death_assert_named(&d, kind);
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
