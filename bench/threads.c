/*
 * threads: allocation throughput with 1 or more threads that each work on
 * their own blocks (no sharing), to show how an allocator scales.
 *
 * Usage: threads [--threads N] [--seconds S] [--slots K]
 *
 * Each thread keeps a table of K blocks (default 1024) and, until the time
 * is up (default 1 second), replaces a random one: it checks the block's
 * tag words, frees it and allocates a new one of a random size, mostly
 * 8 to 256 bytes, one in eight 256 to 4096, whose first and (from 16
 * bytes) last words it tags. All threads start together; the clock runs
 * from their start to the last one's stop. With a scalable allocator, N
 * threads on N idle cores do about N times the work of one.
 *
 * Output (stdout, one line):
 *   bench=threads threads=N seconds=... ops=... ops_per_sec=...
 *   cores_used=... mem=rss mem_peak_kb=... errors=...
 * ops counts mallocs and frees; cores_used is the CPU time the threads got
 * divided by the elapsed time (below N when other processes took cores,
 * so that the throughput says little about scaling); errors counts bad
 * tags (exit status 1).
 * Native only (POSIX threads).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run_threads.h"

struct worker {
    unsigned id;
    uint64_t ops, errors;
    double end, cpu; /* when it stopped; CPU seconds it used until then */
    char pad[64];
};

static unsigned nslots = 1024;

static void put_tags(unsigned char *p, size_t size) {
    uint64_t t = tag(p, size);
    memcpy(p, &t, 8);
    if (size >= 16)
        memcpy(p + size - 8, &t, 8);
}

static int tags_ok(const unsigned char *p, size_t size) {
    uint64_t t = tag(p, size), a, b;
    memcpy(&a, p, 8);
    if (size < 16)
        return a == t;
    memcpy(&b, p + size - 8, 8);
    return a == t && b == t;
}

static void *work(void *arg) {
    struct worker *w = arg;
    unsigned char **slot = calloc(nslots, sizeof *slot);
    size_t *size = calloc(nslots, sizeof *size);
    if (slot == NULL || size == NULL) {
        fprintf(stderr, "threads: out of memory\n");
        exit(2);
    }
    uint64_t rng = 0x1234 + w->id * UINT64_C(0x10001);
    uint64_t ops = 0, errors = 0;
    pthread_barrier_wait(&start);
    double cpu0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int i = 0; i < 256; i++) {
            uint64_t x = next(&rng);
            unsigned k = (unsigned)(x % nslots);
            if (slot[k] != NULL) {
                if (!tags_ok(slot[k], size[k]))
                    errors++;
                free(slot[k]);
                ops++;
            }
            size_t n = (x >> 32) % 8 ? 8 + (x >> 40) % 249 : 256 + (x >> 40) % 3841;
            unsigned char *p = malloc(n);
            if (p == NULL) {
                fprintf(stderr, "threads: malloc(%zu) failed\n", n);
                exit(2);
            }
            put_tags(p, n);
            slot[k] = p;
            size[k] = n;
            ops++;
        }
    }
    w->end = now_seconds();
    w->cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    for (unsigned k = 0; k < nslots; k++) {
        if (slot[k] != NULL && !tags_ok(slot[k], size[k]))
            errors++;
        free(slot[k]);
    }
    free(slot);
    free(size);
    w->ops = ops;
    w->errors = errors;
    return NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: threads [--threads N] [--seconds S] [--slots K]\n");
    exit(2);
}

int main(int argc, char **argv) {
    unsigned nthreads = 1;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        errno = 0;
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (v == 0 || v > 256)
                usage();
            nthreads = (unsigned)v;
        } else if (strcmp(argv[i], "--slots") == 0 && i + 1 < argc) {
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (v == 0 || v > 1u << 24)
                usage();
            nslots = (unsigned)v;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = strtod(argv[++i], &end);
            if (!(seconds > 0 && seconds < 3600))
                usage();
        } else {
            usage();
        }
        if (errno != 0 || *end != '\0')
            usage();
    }

    struct worker *w = calloc(nthreads, sizeof *w);
    if (w == NULL)
        return 2;
    for (unsigned i = 0; i < nthreads; i++)
        w[i].id = i;
    double t0 = run_threads("threads", work, w, sizeof *w, nthreads, seconds);
    uint64_t ops = 0, errors = 0;
    double t1 = t0, cpu = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        ops += w[i].ops;
        errors += w[i].errors;
        cpu += w[i].cpu;
        if (w[i].end > t1)
            t1 = w[i].end;
    }
    double elapsed = t1 - t0;
    printf("bench=threads threads=%u seconds=%.6f ops=%llu ops_per_sec=%.0f cores_used=%.2f "
           "mem=rss mem_peak_kb=%ld errors=%llu\n",
           nthreads, elapsed, (unsigned long long)ops, (double)ops / elapsed, cpu / elapsed,
           peak_kb(), (unsigned long long)errors);
    free(w);
    return errors ? 1 : 0;
}
