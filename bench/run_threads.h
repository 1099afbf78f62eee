/*
 * What the threaded benchmarks (larson_like.c, threads.c) share: their
 * random numbers, the tag words they check blocks with, and the timed run
 * of their worker threads. Native only (POSIX threads).
 */
#ifndef BENCH_RUN_THREADS_H
#define BENCH_RUN_THREADS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock_memory.h"

#define GOLDEN UINT64_C(0x9E3779B97F4A7C15)

/* splitmix64: the next number of the sequence in *s. */
static inline uint64_t next(uint64_t *s) {
    uint64_t z = (*s += GOLDEN);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A tag of a block's address and size, for its first word. */
static inline uint64_t tag(const void *p, size_t size) { return ((uintptr_t)p ^ size) * GOLDEN; }

/* Set when the time is up; the workers poll it. */
static atomic_bool stop;
/* Every worker waits here once ready, and so does run_threads(): the
 * clock starts when all are there. */
static pthread_barrier_t start;

/*
 * Runs `work` in n threads, the ith with the argument workers + i * stride
 * (an array of n worker records of `stride` bytes), for `seconds`: starts
 * them all, waits for them at the barrier `start`, sleeps, sets `stop` and
 * joins them. Returns when the clock started (now_seconds()). A thread that
 * cannot be created ends the program with status 2, named `program`.
 */
static inline double run_threads(const char *program, void *(*work)(void *), void *workers,
                                 size_t stride, unsigned n, double seconds) {
    pthread_t *tid = calloc(n, sizeof *tid);
    if (tid == NULL) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(2);
    }
    pthread_barrier_init(&start, NULL, n + 1);
    for (unsigned i = 0; i < n; i++)
        if (pthread_create(&tid[i], NULL, work, (char *)workers + i * stride) != 0) {
            fprintf(stderr, "%s: cannot create a thread\n", program);
            exit(2);
        }
    pthread_barrier_wait(&start);
    double t0 = now_seconds();
    sleep_seconds(seconds);
    atomic_store(&stop, 1);
    for (unsigned i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&start);
    free(tid);
    return t0;
}

#endif /* BENCH_RUN_THREADS_H */
