/*
 * release: does the allocator give memory back, and does it pay for memory
 * nobody touches? Issue #14's scenarios, one per run (each in a fresh
 * process, so that peak RSS is the scenario's own).
 *
 * Usage: release SCENARIO
 *
 *   free1g      1024 blocks of 1 MiB, each written, then all freed:
 *               rss_after_kb is the resident set after the frees.
 *   mixed       ~1 GiB of live blocks of random sizes, 64 B to 256 KiB
 *               (log-uniform), each written, then 98% of them freed in a
 *               random order: rss_after_kb after the frees (with no
 *               malloc_trim), rss_trim_kb after malloc_trim(0).
 *   calloc4g    calloc(4 GiB), one byte per MiB read and written, freed:
 *               seconds is the time of the calloc and the touches.
 *   realloc1g   one block grown by realloc from 1 KiB, doubling up to
 *               1 GiB, each new half written: seconds and peak.
 *   pingpong    2 million malloc/free pairs of 1 MiB, one byte written:
 *               what the decay costs a program that frees and takes the
 *               same memory again.
 *
 * Output (stdout, one line):
 *   bench=release scenario=NAME seconds=... rss_after_kb=... rss_trim_kb=...
 *   peak_kb=... errors=...
 * errors counts blocks whose contents were lost (exit status 1). Native only.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock_memory.h"

#define MIB ((size_t)1 << 20)

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next_random(void) {
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static long errors;
static long rss_after = -1, rss_trim = -1;

static void free1g(void) {
    static char *p[1024];
    for (int i = 0; i < 1024; i++) {
        p[i] = malloc(MIB);
        if (!p[i]) {
            errors++;
            return;
        }
        memset(p[i], i, MIB);
    }
    for (int i = 0; i < 1024; i++) {
        errors += p[i][MIB - 1] != (char)i;
        free(p[i]);
    }
    rss_after = memory_kb(false);
}

static void mixed(void) {
    enum { MAX_BLOCKS = 1 << 20 };
    static char *p[MAX_BLOCKS];
    static size_t size[MAX_BLOCKS];
    size_t total = 0;
    int n = 0;
    while (total < 1024 * MIB && n < MAX_BLOCKS) {
        /* log-uniform from 64 B (2^6) to 256 KiB (2^18) */
        double e = 6.0 + 12.0 * (double)(next_random() >> 11) / (double)(1ull << 53);
        size_t s = (size_t)__builtin_exp2(e);
        p[n] = malloc(s);
        if (!p[n]) {
            errors++;
            return;
        }
        memset(p[n], n & 0xff, s);
        size[n++] = s;
        total += s;
    }
    for (int i = n - 1; i > 0; i--) { /* a random order */
        int j = (int)(next_random() % (uint64_t)(i + 1));
        char *t = p[i];
        size_t ts = size[i];
        p[i] = p[j], size[i] = size[j];
        p[j] = t, size[j] = ts;
    }
    int keep = n / 50;
    for (int i = keep; i < n; i++)
        free(p[i]);
    rss_after = memory_kb(false);
    malloc_trim(0);
    rss_trim = memory_kb(false);
    for (int i = 0; i < keep; i++) {
        for (size_t b = 0; b < size[i]; b += 4096)
            errors += p[i][b] != p[i][size[i] - 1];
        free(p[i]);
    }
}

static void calloc4g(void) {
    size_t bytes = (size_t)4 << 30;
    unsigned char *p = calloc(1, bytes);
    if (!p) {
        errors++;
        return;
    }
    for (size_t at = 0; at < bytes; at += MIB) {
        errors += p[at] != 0;
        p[at] = 1;
    }
    rss_after = memory_kb(false);
    free(p);
}

static void realloc1g(void) {
    size_t size = 1024;
    char *p = malloc(size);
    if (!p) {
        errors++;
        return;
    }
    memset(p, 7, size);
    while (size < 1024 * MIB) {
        char *q = realloc(p, 2 * size);
        if (!q) {
            errors++;
            free(p);
            return;
        }
        p = q;
        errors += p[0] != 7 || p[size - 1] != 7;
        memset(p + size, 7, size);
        size *= 2;
    }
    rss_after = memory_kb(false);
    free(p);
}

static void pingpong(void) {
    for (int i = 0; i < 2 * 1000 * 1000; i++) {
        char *p = malloc(MIB);
        if (!p) {
            errors++;
            return;
        }
        p[(size_t)i % MIB] = (char)i;
        free(p);
    }
    rss_after = memory_kb(false);
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        void (*run)(void);
    } scenarios[] = {{"free1g", free1g},
                     {"mixed", mixed},
                     {"calloc4g", calloc4g},
                     {"realloc1g", realloc1g},
                     {"pingpong", pingpong}};
    for (size_t i = 0; argc == 2 && i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strcmp(argv[1], scenarios[i].name) != 0)
            continue;
        double start = now_seconds();
        scenarios[i].run();
        double seconds = now_seconds() - start;
        printf("bench=release scenario=%s seconds=%.4f rss_after_kb=%ld rss_trim_kb=%ld "
               "peak_kb=%ld errors=%ld\n",
               argv[1], seconds, rss_after, rss_trim, peak_kb(), errors);
        return errors != 0;
    }
    fprintf(stderr, "usage: %s free1g|mixed|calloc4g|realloc1g|pingpong\n", argv[0]);
    return 2;
}
