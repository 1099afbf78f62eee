/*
 * objects: the memory that millions of small live blocks take.
 *
 * Usage: objects [--count N] [--size S]
 *
 * Allocates N blocks (default 4,000,000) of S bytes (default 16, at least
 * 8) with malloc, writes every byte of each (a pattern derived from the
 * block's number), reads the peak resident set, checks every byte of every
 * block and frees them all. The blocks are chained through their first
 * word, so the program needs no table of its own: what the heap grows is
 * what the allocator takes for the blocks.
 *
 * Output (stdout, one line):
 *   bench=objects size=S count=N seconds=... ns_per_op=... mem=rss
 *   mem_base_kb=... mem_peak_kb=... heap_peak_kb=... bytes_per_object=...
 *   errors=...
 * mem_base_kb is the resident set (VmRSS) just before the first block,
 * after one malloc/free pair has set the allocator up and the peak was
 * reset through /proc/self/clear_refs; mem_peak_kb the peak (VmHWM) after
 * the last block was written; heap_peak_kb their difference;
 * bytes_per_object is heap_peak_kb * 1024 / N. seconds covers the
 * allocations, writes, checks and frees; ns_per_op is seconds over 2N
 * (mallocs and frees). errors counts blocks with a wrong byte; the exit
 * status is 1 if there were any, 2 on a usage error or when malloc fails.
 * Native only.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock_memory.h"

/* The byte at offset k (from 8, after the link) of block i. */
static unsigned char pattern(size_t i, size_t k) { return (unsigned char)(i * 131 + k * 7 + 1); }

static void usage(void) {
    fprintf(stderr, "usage: objects [--count N] [--size S]\n");
    exit(2);
}

int main(int argc, char **argv) {
    size_t count = 4000000, size = 16;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        unsigned long long v;
        errno = 0;
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            v = strtoull(argv[++i], &end, 10);
            if (v == 0 || v > (1ull << 32))
                usage();
            count = (size_t)v;
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            v = strtoull(argv[++i], &end, 10);
            if (v < 8 || v > (1u << 20))
                usage();
            size = (size_t)v;
        } else {
            usage();
        }
        if (errno != 0 || *end != '\0')
            usage();
    }

    free(malloc(size)); /* the allocator's set-up does not count */
    memory_reset_peak();
    long base = memory_kb(false);
    double t0 = now_seconds();

    /* Allocate and write: each block's first word points to the previous. */
    unsigned char *head = NULL;
    for (size_t i = 0; i < count; i++) {
        unsigned char *p = malloc(size);
        if (p == NULL) {
            fprintf(stderr, "objects: malloc(%zu) failed after %zu blocks\n", size, i);
            return 2;
        }
        memcpy(p, &head, sizeof head);
        for (size_t k = sizeof head; k < size; k++)
            p[k] = pattern(i, k);
        head = p;
    }
    double t1 = now_seconds();
    long peak = peak_kb();
    double t2 = now_seconds();

    /* Check and free, newest first. */
    size_t errors = 0, i = count;
    while (head != NULL) {
        unsigned char *p = head, *prev;
        memcpy(&prev, p, sizeof prev);
        i--;
        for (size_t k = sizeof prev; k < size; k++)
            if (p[k] != pattern(i, k)) {
                if (errors < 10)
                    fprintf(stderr, "objects: block %zu: wrong byte at %zu\n", i, k);
                errors++;
                break;
            }
        free(p);
        head = prev;
    }
    if (i != 0) {
        fprintf(stderr, "objects: the chain lost %zu blocks\n", i);
        errors++;
    }
    double seconds = (t1 - t0) + (now_seconds() - t2);
    long heap = base >= 0 && peak >= 0 ? peak - base : -1;
    printf("bench=objects size=%zu count=%zu seconds=%.6f ns_per_op=%.2f mem=rss "
           "mem_base_kb=%ld mem_peak_kb=%ld heap_peak_kb=%ld bytes_per_object=%.2f errors=%zu\n",
           size, count, seconds, seconds * 1e9 / (2.0 * (double)count), base, peak, heap,
           heap >= 0 ? (double)heap * 1024.0 / (double)count : -1.0, errors);
    return errors ? 1 : 0;
}
