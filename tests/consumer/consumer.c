/*
 * A program built against an installed wee_alloc, the way a user builds one.
 *
 * WEE_EXPECT_MALLOC=1: the program links the malloc shim (statically or
 * shared), so malloc, libc's own allocations (strdup) and the aligned entry
 * points must all show up in the default heap's statistics.
 * WEE_EXPECT_MALLOC=0: it links the core alone, so malloc stays the C
 * library's and leaves those statistics untouched.
 * WEE_EXPECT_VERSION, when defined, is the version the package announced;
 * the header must agree with it.
 *
 * Prints "consumer: ok (...)" and exits 0, or names the failed check and
 * exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wee_alloc.h>

#ifndef WEE_EXPECT_MALLOC
#error "define WEE_EXPECT_MALLOC to 0 or 1"
#endif

static int failures;

/* Pointers stored here escape, so the compiler cannot drop an allocation
 * whose result is only checked and freed. */
static void *volatile sink;
#define KEEP(p) (sink = (p))

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "consumer: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static wee_stats stats(void) {
    wee_stats s;
    wee_heap_stats(wee_default_heap(), &s);
    return s;
}

static void check_version(void) {
    char joined[32];
    snprintf(joined, sizeof joined, "%d.%d.%d", WEE_ALLOC_VERSION_MAJOR, WEE_ALLOC_VERSION_MINOR,
             WEE_ALLOC_VERSION_PATCH);
    CHECK(strcmp(joined, WEE_ALLOC_VERSION_STRING) == 0);
    CHECK(WEE_ALLOC_VERSION == WEE_ALLOC_VERSION_MAJOR * 10000 + WEE_ALLOC_VERSION_MINOR * 100 +
                                   WEE_ALLOC_VERSION_PATCH);
#ifdef WEE_EXPECT_VERSION
    CHECK(strcmp(WEE_ALLOC_VERSION_STRING, WEE_EXPECT_VERSION) == 0);
#endif
}

/* The sized core, on the default heap and on a heap of our own. */
static void check_core(void) {
    wee_stats before = stats();
    char *p = KEEP(wee_alloc(1000, 64));
    wee_stats during = stats();
    CHECK(p != NULL);
    CHECK((uintptr_t)p % 64 == 0);
    CHECK(during.allocs == before.allocs + 1);
    CHECK(during.live_bytes >= before.live_bytes + 1000);
    memset(p, 0xa5, 1000);
    p = wee_realloc(p, 1000, 64, 3000);
    CHECK(p != NULL && p[999] == (char)0xa5);
    wee_dealloc(p, 3000, 64);
    wee_stats after = stats();
    CHECK(after.deallocs >= before.deallocs + 1);
    CHECK(wee_heap_check(wee_default_heap()) == 0);

    static wee_heap own = WEE_HEAP_INIT;
    void *q = wee_heap_alloc(&own, 24, 8);
    wee_stats s;
    wee_heap_stats(&own, &s);
    CHECK(q != NULL && s.allocs == 1 && s.regions == 1);
    wee_heap_dealloc(&own, q, 24, 8);
    wee_heap_stats(&own, &s);
    CHECK(s.deallocs == 1 && s.live_bytes == 0);
    CHECK(wee_heap_check(&own) == 0);
}

#if WEE_EXPECT_MALLOC
/* malloc and friends are wee_alloc's, and so is libc's own malloc. */
static void check_malloc(void) {
    wee_stats before = stats();
    char *p = KEEP(malloc(5000));
    wee_stats during = stats();
    CHECK(p != NULL && (uintptr_t)p % 16 == 0);
    CHECK(during.allocs == before.allocs + 1);
    CHECK(during.live_bytes >= before.live_bytes + 5000);
    CHECK(malloc_usable_size(p) >= 5000);
    free(p);
    CHECK(stats().deallocs == during.deallocs + 1);
    CHECK(stats().live_bytes == before.live_bytes);

    /* sizes above the shim's thread caches, so that every call reaches the
     * heap and its counts are exact */
    char text[2048];
    memset(text, 'w', sizeof text - 1);
    text[sizeof text - 1] = 0;
    before = stats();
    char *copy = KEEP(strdup(text));
    CHECK(copy != NULL && stats().allocs == before.allocs + 1);
    free(copy);

    before = stats();
    int *zeros = KEEP(calloc(1000, sizeof *zeros));
    void *aligned = KEEP(aligned_alloc(4096, 4096));
    void *memaligned = NULL;
    int rc = posix_memalign(&memaligned, 256, 100);
    KEEP(memaligned);
    char *grown = KEEP(realloc(NULL, 2000));
    grown = KEEP(realloc(grown, 100000));
    CHECK(stats().allocs >= before.allocs + 4); /* the second realloc may grow in place */
    CHECK(zeros != NULL && zeros[0] == 0 && zeros[999] == 0);
    CHECK(aligned != NULL && (uintptr_t)aligned % 4096 == 0);
    CHECK(rc == 0 && (uintptr_t)memaligned % 256 == 0);
    CHECK(grown != NULL && malloc_usable_size(grown) >= 100000);
    free(zeros);
    free(aligned);
    free(memaligned);
    free(grown);
    CHECK(stats().live_bytes == before.live_bytes);
    CHECK(wee_heap_check(wee_default_heap()) == 0);
}
#else
/* The core alone leaves malloc to the C library, and the two allocators
 * must not hand out the same memory. */
static void check_malloc(void) {
    wee_stats before = stats();
    char *p = KEEP(malloc(5000));
    char *w = KEEP(wee_alloc(5000, 16));
    wee_stats after = stats();
    CHECK(p != NULL && w != NULL);
    CHECK(after.allocs == before.allocs + 1);
    CHECK((uintptr_t)p + 5000 <= (uintptr_t)w || (uintptr_t)w + 5000 <= (uintptr_t)p);
    free(p);
    wee_dealloc(w, 5000, 16);
    after = stats();
    CHECK(after.deallocs == before.deallocs + 1);
}
#endif

int main(void) {
    check_version();
    check_core();
    check_malloc();
    if (failures) {
        fprintf(stderr, "consumer: %d checks failed\n", failures);
        return 1;
    }
    printf("consumer: ok (wee_alloc %s, malloc is %s)\n", WEE_ALLOC_VERSION_STRING,
           WEE_EXPECT_MALLOC ? "wee_alloc's" : "the C library's");
    return 0;
}
