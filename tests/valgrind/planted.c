/* Planted bugs for memcheck (run_memcheck.sh): a use after free and a leak,
 * through malloc and through the sized core API, and a clean run. Linked
 * statically with libwee_malloc.a; run under valgrind with
 * --soname-synonyms=somalloc=nouserintercepts, so that the program's own
 * malloc (ours) serves it and memcheck learns about blocks through the
 * core's client requests.
 *
 * Usage: planted malloc-uaf | malloc-leak | malloc-overread | core-uaf | core-leak |
 *                core-underwrite | clean
 *
 * Prints "served: N" (allocations our heap served for the planted calls)
 * and exits 3 when that is 0: then something else served them, and
 * memcheck's reports would prove nothing about our heap. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wee_alloc.h"

static size_t allocs(void) {
    wee_stats s;
    wee_heap_stats(wee_default_heap(), &s);
    return s.allocs;
}

static void *volatile sink;

__attribute__((noinline)) static int planted_malloc_uaf(void) {
    char *p = malloc(100);
    memset(p, 1, 100);
    free(p);
    return ((volatile char *)p)[10]; /* the use after free */
}

__attribute__((noinline)) static void planted_malloc_leak(void) {
    sink = malloc(1234);
    memset(sink, 2, 1234);
    sink = NULL; /* the last pointer to it gone */
}

/* A read just past the usable size: the next slot, free. */
__attribute__((noinline)) static int planted_malloc_overread(void) {
    char *p = malloc(100);
    memset(p, 1, 100);
    int r = ((volatile char *)p)[malloc_usable_size(p)];
    free(p);
    return r;
}

/* A write just in front of a cell: its header. */
__attribute__((noinline)) static void planted_core_underwrite(void) {
    char *p = wee_alloc(5000, 8);
    ((volatile char *)p)[-1] = 0;
    wee_dealloc(p, 5000, 8);
}

__attribute__((noinline)) static int planted_core_uaf(void) {
    char *p = wee_alloc(5000, 8);
    memset(p, 3, 5000);
    wee_dealloc(p, 5000, 8);
    return ((volatile char *)p)[4000];
}

__attribute__((noinline)) static void planted_core_leak(void) {
    sink = wee_alloc(48, 16);
    memset(sink, 4, 48);
    sink = NULL;
}

/* Everything used within bounds, initialised and freed. */
__attribute__((noinline)) static int clean(void) {
    int sum = 0;
    char *keep[64];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 64; i++) {
            size_t n = (size_t)(i * 37 % 3000) + 1;
            keep[i] = i % 2 ? malloc(n) : wee_alloc(n, 16);
            memset(keep[i], i, n);
            sum += keep[i][n - 1];
        }
        for (int i = 0; i < 64; i += 3) {
            size_t n = (size_t)(i * 37 % 3000) + 1;
            char *q = i % 2 ? realloc(keep[i], 2 * n) : wee_realloc(keep[i], n, 16, 2 * n);
            memset(q + n, 5, n);
            keep[i] = q;
        }
        for (int i = 0; i < 64; i++) {
            size_t n = (size_t)(i * 37 % 3000) + 1;
            n = i % 3 == 0 ? 2 * n : n;
            sum += keep[i][n - 1];
            if (i % 2)
                free(keep[i]);
            else
                wee_dealloc(keep[i], n, 16);
        }
    }
    char *z = calloc(10, 100);
    sum += z[999];
    free(z);
    return sum;
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    const char *mode = argv[1];
    size_t before = allocs();
    int r = 0;
    if (!strcmp(mode, "malloc-uaf"))
        r = planted_malloc_uaf();
    else if (!strcmp(mode, "malloc-leak"))
        planted_malloc_leak();
    else if (!strcmp(mode, "malloc-overread"))
        r = planted_malloc_overread();
    else if (!strcmp(mode, "core-underwrite"))
        planted_core_underwrite();
    else if (!strcmp(mode, "core-uaf"))
        r = planted_core_uaf();
    else if (!strcmp(mode, "core-leak"))
        planted_core_leak();
    else if (!strcmp(mode, "clean"))
        r = clean();
    else
        return 2;
    size_t served = allocs() - before;
    printf("served: %zu (%d)\n", served, r & 1);
    return served ? 0 : 3;
}
