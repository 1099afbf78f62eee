/*
 * cliff: time per operation with a given number of live blocks of a size
 * range, to show whether an allocator slows down as its heap fills.
 *
 * Usage: cliff --min A --max B --live L [--ops M] [--pattern [--passes P]]
 *              [--seed S]
 *
 * Allocates L blocks of random sizes in [A, B] bytes (uniform), then:
 *
 *   random mode (default): replaces random blocks, M times (default
 *     1,000,000): free a random block, allocate one of a new random size
 *     in [A, B] in its place. M / 4 replacements first, untimed, so that
 *     the heap is in its steady state; then M timed ones, in 10 groups.
 *   --pattern: passes that free every other block (the even ones in one
 *     pass, the odd ones in the next), then allocate, in each slot freed,
 *     a block slightly larger than the one it held (size + size / 8 + 16;
 *     from A again, at random, past B), so that the holes the frees left
 *     are a little too small for the new blocks. P passes (default: as
 *     many as make M operations, at least 4), after one untimed pass. To
 *     compare runs with different L, give them the same P: the sizes
 *     drift from pass to pass.
 *
 * Every block gets a tag word (from its address and size) at its start,
 * its end and every 4 KiB in between, so that each of its pages is
 * touched as a program would; the tags are checked before the block is
 * freed and at the end. The slot table comes from mmap, not from the
 * allocator under test.
 *
 * Output (stdout, one line):
 *   bench=cliff mode=random|pattern min=A max=B live=L ops=... seconds=...
 *   ns_per_op=... ns_per_op_median=... mem=rss mem_peak_kb=...
 *   live_bytes=... faults=... errors=...
 * In random mode an operation is one replacement (a free and a malloc),
 * in pattern mode one call (malloc or free). ns_per_op is the average over
 * the timed operations, ns_per_op_median the median over the groups
 * (random) or passes (pattern). live_bytes is the sum of requested sizes
 * live at the end. faults is the number of minor page faults during the
 * timed operations (getrusage): first touches of pages the process had
 * not used, or had given back. errors counts bad tags (exit status 1); 2 on a usage
 * error or when malloc fails. Native only.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "clock_memory.h"

#define GOLDEN   UINT64_C(0x9E3779B97F4A7C15)
#define PAGE     4096
#define GROUPS   10
#define MAX_PASS 4096

struct slot {
    unsigned char *p;
    size_t size;
};

static uint64_t rng;
static size_t lo, hi, nerrors;

static uint64_t next(void) {
    uint64_t z = (rng += GOLDEN);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static long minor_faults(void) {
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_minflt : 0;
}

static size_t random_size(void) { return lo + (size_t)(next() % (hi - lo + 1)); }

static uint64_t tag(const void *p, size_t size, size_t off) {
    return ((uintptr_t)p ^ size ^ (off << 20)) * GOLDEN;
}

/* The offsets of a block's tags: every PAGE from 0 that leaves room for the
 * last, and size - 8. */
static void put_tags(unsigned char *p, size_t size) {
    for (size_t off = 0; off + 16 <= size; off += PAGE) {
        uint64_t t = tag(p, size, off);
        memcpy(p + off, &t, 8);
    }
    uint64_t t = tag(p, size, size - 8);
    memcpy(p + size - 8, &t, 8);
}

static void check_tags(const unsigned char *p, size_t size) {
    uint64_t got;
    bool ok = true;
    for (size_t off = 0; off + 16 <= size && ok; off += PAGE) {
        memcpy(&got, p + off, 8);
        ok = got == tag(p, size, off);
    }
    memcpy(&got, p + size - 8, 8);
    if (!ok || got != tag(p, size, size - 8)) {
        if (nerrors < 10)
            fprintf(stderr, "cliff: block %p of %zu bytes: bad tag\n", (const void *)p, size);
        nerrors++;
    }
}

static void fill(struct slot *s, size_t size) {
    s->p = malloc(size);
    if (s->p == NULL) {
        fprintf(stderr, "cliff: malloc(%zu) failed\n", size);
        exit(2);
    }
    s->size = size;
    put_tags(s->p, size);
}

static void release(struct slot *s) {
    check_tags(s->p, s->size);
    free(s->p);
    s->p = NULL;
}

static void replace(struct slot *t, size_t live, size_t n) {
    for (size_t i = 0; i < n; i++) {
        struct slot *s = &t[next() % live];
        release(s);
        fill(s, random_size());
    }
}

/* One pass of the pattern: frees the slots of parity `odd`, then refills
 * them slightly larger. Returns the number of calls. */
static size_t pattern_pass(struct slot *t, size_t live, unsigned odd) {
    size_t calls = 0;
    for (size_t i = odd; i < live; i += 2) {
        size_t old = t[i].size;
        release(&t[i]);
        t[i].size = old;
        calls++;
    }
    for (size_t i = odd; i < live; i += 2) {
        size_t size = t[i].size + t[i].size / 8 + 16;
        fill(&t[i], size <= hi ? size : random_size());
        calls++;
    }
    return calls;
}

static void usage(void) {
    fprintf(stderr, "usage: cliff --min A --max B --live L [--ops M] [--pattern [--passes P]] "
                    "[--seed S]\n");
    exit(2);
}

static unsigned long long number(const char *s, unsigned long long min, unsigned long long max) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        usage();
    return v;
}

int main(int argc, char **argv) {
    size_t live = 0, ops = 1000000, passes = 0;
    bool pattern = false;
    rng = 42;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--min") == 0 && i + 1 < argc)
            lo = (size_t)number(argv[++i], 8, 1ull << 30);
        else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
            hi = (size_t)number(argv[++i], 8, 1ull << 30);
        else if (strcmp(argv[i], "--live") == 0 && i + 1 < argc)
            live = (size_t)number(argv[++i], 2, 1ull << 28);
        else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc)
            ops = (size_t)number(argv[++i], GROUPS, 1ull << 40);
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = (size_t)number(argv[++i], 1, MAX_PASS);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            rng = number(argv[++i], 0, UINT64_MAX);
        else if (strcmp(argv[i], "--pattern") == 0)
            pattern = true;
        else
            usage();
    }
    if (lo == 0 || hi < lo || live == 0)
        usage();

    struct slot *t =
        mmap(NULL, live * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED) {
        fprintf(stderr, "cliff: no memory for the slot table\n");
        return 2;
    }
    for (size_t i = 0; i < live; i++)
        fill(&t[i], random_size());

    double times[MAX_PASS > GROUPS ? MAX_PASS : GROUPS];
    int ntimes = 0;
    size_t done = 0;
    double seconds = 0;
    long faults = 0;
    if (!pattern) {
        replace(t, live, ops / 4);
        for (int g = 0; g < GROUPS; g++) {
            size_t n = ops / GROUPS + (g < (int)(ops % GROUPS) ? 1 : 0);
            long f0 = minor_faults();
            double t0 = now_seconds();
            replace(t, live, n);
            double dt = now_seconds() - t0;
            faults += minor_faults() - f0;
            seconds += dt;
            done += n;
            times[ntimes++] = dt * 1e9 / (double)n;
        }
    } else {
        if (passes == 0) { /* a pass is live / 2 frees and live / 2 mallocs */
            passes = (ops + live - 1) / live;
            passes = passes < 4 ? 4 : passes > MAX_PASS ? MAX_PASS : passes;
        }
        pattern_pass(t, live, 1);
        for (size_t k = 0; k < passes; k++) {
            long f0 = minor_faults();
            double t0 = now_seconds();
            size_t n = pattern_pass(t, live, (unsigned)(k % 2));
            double dt = now_seconds() - t0;
            faults += minor_faults() - f0;
            seconds += dt;
            done += n;
            times[ntimes++] = dt * 1e9 / (double)n;
        }
    }

    size_t live_bytes = 0;
    for (size_t i = 0; i < live; i++)
        live_bytes += t[i].size;
    long peak = peak_kb();
    for (size_t i = 0; i < live; i++)
        release(&t[i]);
    munmap(t, live * sizeof *t);
    printf("bench=cliff mode=%s min=%zu max=%zu live=%zu ops=%zu seconds=%.6f ns_per_op=%.2f "
           "ns_per_op_median=%.2f mem=rss mem_peak_kb=%ld live_bytes=%zu faults=%ld errors=%zu\n",
           pattern ? "pattern" : "random", lo, hi, live, done, seconds,
           seconds * 1e9 / (double)done, median(times, ntimes), peak, live_bytes, faults, nerrors);
    return nerrors ? 1 : 0;
}
