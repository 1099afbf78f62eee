/*
 * larson_like: threads that replace random blocks in tables they pass to
 * one another, so that many blocks are freed by a thread other than the one
 * that allocated them (the pattern of a server whose requests migrate
 * between worker threads).
 *
 * Usage: larson_like [--threads N] [--seconds S] [--slots K] [--min A]
 *                    [--max B]
 *
 * There are N + 1 tables of K blocks (default 1000) of random sizes from A
 * to B bytes (default 8 to 1000), filled by the main thread. Each thread
 * takes a table from a shared queue and, K times, frees a random block of it
 * (after checking its tag words) and allocates a new one in its place; then
 * it puts the table at the back of the queue and takes the one at the front,
 * which another thread worked on last. This goes on until the time is up
 * (default 2 seconds). The main thread then checks and frees every block.
 *
 * Output (stdout, one line):
 *   bench=larson_like threads=N seconds=... ops=... ops_per_sec=...
 *   cross_frees=... cores_used=... mem=rss mem_peak_kb=... errors=...
 * ops counts mallocs and frees, cross_frees the frees of blocks another
 * thread (or the main thread) allocated, among the blocks of 16 bytes or
 * more, cores_used the CPU time the threads got divided by the elapsed
 * time, errors bad tags (exit status 1). Native only.
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

struct table {
    unsigned char **block;
    size_t *size;
};

struct worker {
    unsigned id;
    uint64_t ops, cross, errors;
    double end, cpu; /* when it stopped; CPU seconds it used until then */
    char pad[64];
};

static unsigned nslots = 1000, nthreads = 2;
static size_t min_size = 8, max_size = 1000;

/* The queue of tables not in use: a ring of nthreads + 1 entries. */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct table **queue;
static unsigned queue_head, queue_len;

static struct table *take(void) {
    pthread_mutex_lock(&queue_lock);
    struct table *t = queue[queue_head];
    queue_head = (queue_head + 1) % (nthreads + 1);
    queue_len--;
    pthread_mutex_unlock(&queue_lock);
    return t;
}

static void give(struct table *t) {
    pthread_mutex_lock(&queue_lock);
    queue[(queue_head + queue_len) % (nthreads + 1)] = t;
    queue_len++;
    pthread_mutex_unlock(&queue_lock);
}

/* A block's first word holds a tag of its address and size, its last word
 * (from 16 bytes) the number of the thread that allocated it. */

static unsigned char *new_block(size_t size, uint64_t owner) {
    unsigned char *p = malloc(size);
    if (p == NULL) {
        fprintf(stderr, "larson_like: malloc(%zu) failed\n", size);
        exit(2);
    }
    uint64_t t = tag(p, size);
    memcpy(p, &t, 8);
    if (size >= 16)
        memcpy(p + size - 8, &owner, 8);
    return p;
}

/* Checks and frees a block; returns its owner (UINT64_MAX if unknown) and
 * counts a bad tag in *errors. */
static uint64_t free_block(unsigned char *p, size_t size, uint64_t *errors) {
    uint64_t t, owner = UINT64_MAX;
    memcpy(&t, p, 8);
    if (t != tag(p, size))
        ++*errors;
    if (size >= 16)
        memcpy(&owner, p + size - 8, 8);
    free(p);
    return owner;
}

static size_t random_size(uint64_t x) { return min_size + x % (max_size - min_size + 1); }

static void *work(void *arg) {
    struct worker *w = arg;
    uint64_t rng = 0xABCD + w->id * UINT64_C(0x10001);
    uint64_t ops = 0, cross = 0, errors = 0, me = w->id;
    pthread_barrier_wait(&start);
    double cpu0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    struct table *t = take();
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (unsigned i = 0; i < nslots; i++) {
            uint64_t x = next(&rng);
            unsigned k = (unsigned)(x % nslots);
            uint64_t owner = free_block(t->block[k], t->size[k], &errors);
            cross += owner != me && owner != UINT64_MAX;
            size_t n = random_size(x >> 32);
            t->block[k] = new_block(n, me);
            t->size[k] = n;
            ops += 2;
            if (i % 64 == 63 && atomic_load_explicit(&stop, memory_order_relaxed))
                break;
        }
        give(t);
        t = take();
    }
    give(t);
    w->end = now_seconds();
    w->cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    w->ops = ops;
    w->cross = cross;
    w->errors = errors;
    return NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: larson_like [--threads N] [--seconds S] [--slots K] [--min A] "
                    "[--max B]\n");
    exit(2);
}

int main(int argc, char **argv) {
    double seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        errno = 0;
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--seconds") == 0) {
            seconds = strtod(v, &end);
            if (!(seconds > 0 && seconds < 3600))
                usage();
        } else {
            unsigned long n = strtoul(v, &end, 10);
            if (strcmp(a, "--threads") == 0 && n >= 1 && n <= 256)
                nthreads = (unsigned)n;
            else if (strcmp(a, "--slots") == 0 && n >= 1 && n <= 1u << 24)
                nslots = (unsigned)n;
            else if (strcmp(a, "--min") == 0 && n >= 8)
                min_size = n;
            else if (strcmp(a, "--max") == 0 && n >= 8)
                max_size = n;
            else
                usage();
        }
        if (errno != 0 || *end != '\0')
            usage();
    }
    if (max_size < min_size)
        usage();

    /* The tables, filled by the main thread. */
    uint64_t rng = 0x5EED;
    queue = calloc(nthreads + 1, sizeof *queue);
    struct worker *w = calloc(nthreads, sizeof *w);
    if (queue == NULL || w == NULL)
        return 2;
    const uint64_t main_owner = UINT64_MAX - 1;
    for (unsigned i = 0; i <= nthreads; i++) {
        struct table *t = malloc(sizeof *t);
        if (t == NULL)
            return 2;
        t->block = malloc(nslots * sizeof *t->block);
        t->size = malloc(nslots * sizeof *t->size);
        if (t->block == NULL || t->size == NULL)
            return 2;
        for (unsigned k = 0; k < nslots; k++) {
            t->size[k] = random_size(next(&rng));
            t->block[k] = new_block(t->size[k], main_owner);
        }
        give(t);
    }

    for (unsigned i = 0; i < nthreads; i++)
        w[i].id = i;
    double t0 = run_threads("larson_like", work, w, sizeof *w, nthreads, seconds);
    uint64_t ops = 0, cross = 0, errors = 0;
    double t1 = t0, cpu = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        ops += w[i].ops;
        cross += w[i].cross;
        errors += w[i].errors;
        cpu += w[i].cpu;
        if (w[i].end > t1)
            t1 = w[i].end;
    }
    long mem = peak_kb();
    for (unsigned i = 0; i <= nthreads; i++) {
        struct table *t = take();
        for (unsigned k = 0; k < nslots; k++)
            free_block(t->block[k], t->size[k], &errors);
        free(t->block);
        free(t->size);
        free(t);
    }
    double elapsed = t1 - t0;
    printf("bench=larson_like threads=%u seconds=%.6f ops=%llu ops_per_sec=%.0f "
           "cross_frees=%llu cores_used=%.2f mem=rss mem_peak_kb=%ld errors=%llu\n",
           nthreads, elapsed, (unsigned long long)ops, (double)ops / elapsed,
           (unsigned long long)cross, cpu / elapsed, mem, (unsigned long long)errors);
    free(queue);
    free(w);
    return errors ? 1 : 0;
}
