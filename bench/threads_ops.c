/*
 * threads_ops: what two threads pay for realloc, malloc_usable_size and
 * frees of blocks another thread allocated (issue #14's thread targets).
 *
 * Usage: threads_ops realloc|usable|handoff [--threads N] [--seconds S]
 *
 *   realloc  each thread keeps 1024 blocks of 8 to 512 bytes and, until the
 *            time is up, reallocs a random one to a new random size in the
 *            same range, checking and rewriting its first and last byte;
 *   usable   the same blocks, malloc_usable_size of a random one, checked
 *            against its size;
 *   handoff  one producer mallocs 5 million blocks of 16 to 256 bytes and
 *            passes them through a ring of 4096 slots to one consumer,
 *            which checks and frees them (--threads and --seconds unused).
 *
 * Output (stdout, one line):
 *   bench=threads_ops mode=M threads=N seconds=... ops=... ops_per_sec=...
 *   mem=rss mem_peak_kb=... errors=...
 * Native only (POSIX threads).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock_memory.h"

enum { BLOCKS = 1024, HANDOFF = 5000000, RING = 4096 };

static atomic_bool stop;
static const char *mode;
static atomic_ulong total_ops, total_errors;

static uint64_t step(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void *worker(void *arg) {
    uint64_t seed = (uintptr_t)arg * 7919 + 1, ops = 0, errors = 0;
    unsigned char *p[BLOCKS];
    size_t size[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        size[i] = 8 + step(&seed) % 505;
        p[i] = malloc(size[i]);
        p[i][0] = p[i][size[i] - 1] = (unsigned char)size[i];
    }
    int realloc_mode = strcmp(mode, "realloc") == 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int n = 0; n < 256; n++, ops++) {
            int i = (int)(step(&seed) % BLOCKS);
            if (realloc_mode) {
                size_t s = 8 + step(&seed) % 505;
                errors += p[i][0] != (unsigned char)size[i];
                unsigned char *q = realloc(p[i], s);
                if (!q) {
                    errors++;
                    continue;
                }
                errors += q[0] != (unsigned char)size[i];
                p[i] = q;
                size[i] = s;
                q[0] = q[s - 1] = (unsigned char)s;
            } else {
                errors += malloc_usable_size(p[i]) < size[i];
            }
        }
    }
    for (int i = 0; i < BLOCKS; i++) {
        errors += p[i][size[i] - 1] != (unsigned char)size[i];
        free(p[i]);
    }
    atomic_fetch_add(&total_ops, ops);
    atomic_fetch_add(&total_errors, errors);
    return NULL;
}

static _Atomic(unsigned char *) ring[RING];

static void *producer(void *arg) {
    (void)arg;
    uint64_t seed = 12345;
    for (unsigned long i = 0; i < HANDOFF; i++) {
        size_t s = 16 + step(&seed) % 241;
        unsigned char *b = malloc(s);
        b[0] = 0xa5;
        b[s - 1] = (unsigned char)s;
        _Atomic(unsigned char *) *slot = &ring[i % RING];
        while (atomic_load_explicit(slot, memory_order_acquire))
            ;
        atomic_store_explicit(slot, b, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    unsigned long errors = 0;
    for (unsigned long i = 0; i < HANDOFF; i++) {
        _Atomic(unsigned char *) *slot = &ring[i % RING];
        unsigned char *b;
        while (!(b = atomic_load_explicit(slot, memory_order_acquire)))
            ;
        atomic_store_explicit(slot, NULL, memory_order_relaxed);
        errors += b[0] != 0xa5;
        free(b);
    }
    atomic_fetch_add(&total_ops, 2 * HANDOFF);
    atomic_fetch_add(&total_errors, errors);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = 2;
    double seconds = 1.0;
    mode = argc > 1 ? argv[1] : "";
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
    }
    int handoff = strcmp(mode, "handoff") == 0;
    if ((!handoff && strcmp(mode, "realloc") != 0 && strcmp(mode, "usable") != 0) || threads < 1 ||
        threads > 64) {
        fprintf(stderr, "usage: %s realloc|usable|handoff [--threads N] [--seconds S]\n", argv[0]);
        return 2;
    }
    pthread_t t[64];
    double start = now_seconds();
    if (handoff) {
        threads = 2;
        pthread_create(&t[0], NULL, producer, NULL);
        pthread_create(&t[1], NULL, consumer, NULL);
    } else {
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
        sleep_seconds(seconds);
        atomic_store(&stop, true);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double elapsed = now_seconds() - start;
    unsigned long ops = atomic_load(&total_ops), errors = atomic_load(&total_errors);
    printf("bench=threads_ops mode=%s threads=%d seconds=%.4f ops=%lu ops_per_sec=%.0f mem=%s "
           "mem_peak_kb=%ld errors=%lu\n",
           mode, threads, elapsed, ops, (double)ops / elapsed, MEMORY_KIND, peak_kb(), errors);
    return errors != 0;
}
