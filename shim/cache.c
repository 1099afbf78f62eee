/*
 * Thread caches (see cache.h): per thread, singly linked bins of blocks,
 * linked through their first words: one bin per cell size up to
 * CACHE_EXACT bytes, then one per CACHE_STEP bytes up to CACHE_MAX. A
 * request takes from the bin that rounds its cell size up (a refill makes
 * cells of the bin's size); a freed block goes to the bin that rounds its
 * size down, so every block in a bin holds the bin's size. A thread caches
 * at most CACHE_BYTES; while the process has a single thread, less, and
 * only cells up to CACHE_ONLY_MAX.
 *
 * A thread's cache opens on its first use once the shim's constructor has
 * made the key whose destructor empties the cache at thread exit; before
 * that (allocations by the dynamic loader, other constructors) and after
 * the destructor ran, every call goes to the heap. The cache lives in
 * initial-exec TLS, which never allocates.
 */
#include <pthread.h>

#include "cache.h"
#include "heap.h"

#include "only_thread.h"

#define CACHE_EXACT 1024                /* bins of every cell size up to here */
#define CACHE_STEP  256                 /* then bins this far apart */
#define CACHE_MAX   (4096 + CACHE_STEP) /* the largest cached cell, bytes */
#define CACHE_BINS  (CACHE_EXACT / WEE_GRANULE + (CACHE_MAX - CACHE_EXACT) / CACHE_STEP + 1)
/* How much a cache keeps. With other threads, enough that refills and
 * flushes, which take the shared heap lock, stay rare; while the process
 * has one thread the lock costs little, and the cache keeps little. */
#define CACHE_HOLD  (ONLY_THREAD() ? 16 : 32)                  /* blocks a bin holds */
#define CACHE_BYTES (ONLY_THREAD() ? 256 * 1024 : 1024 * 1024) /* bytes a cache holds */
/* The largest cell cached while the process has one thread: larger cached
 * cells, pinned wherever they were freed, split the free space that large
 * blocks need (tests-git's replays: 4.8 MB peak RSS with 1 KiB, 3.6 MB
 * with 256 B, docs/BENCHMARKS.md). */
#define CACHE_ONLY_MAX 256
#define CACHE_TOP      (ONLY_THREAD() ? CACHE_ONLY_MAX / WEE_GRANULE + 1 : CACHE_BINS) /* bins used */

enum { CACHE_NEW, CACHE_OPEN, CACHE_CLOSED };

typedef struct thread_cache {
    void *bins[CACHE_BINS];
    unsigned char held[CACHE_BINS]; /* blocks in each bin */
    unsigned char state;
    size_t bytes;            /* in the bins */
    wee_cache_counts counts; /* served from the cache, not yet counted by the heap */
} thread_cache;

static __thread thread_cache cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static int key_ready; /* written once by the constructor, before any thread */

static void cache_close(void *unused) {
    (void)unused;
    cache.state = CACHE_CLOSED; /* frees from here on go to the heap */
    for (size_t k = 0; k < CACHE_BINS; k++) {
        wee_block_drain(&wee_heap_default, cache.bins[k], &cache.counts);
        cache.bins[k] = NULL;
        cache.held[k] = 0;
        cache.bytes = 0;
    }
}

__attribute__((constructor)) static void cache_init(void) {
    key_ready = pthread_key_create(&cache_key, cache_close) == 0;
}

/* Opens this thread's cache on first use: registers it for emptying at
 * thread exit. Closed while registering, in case that allocates. */
static int cache_open(void) {
    if (cache.state == CACHE_OPEN)
        return 1;
    if (cache.state == CACHE_CLOSED || !key_ready)
        return 0;
    cache.state = CACHE_CLOSED;
    if (pthread_setspecific(cache_key, &cache) != 0)
        return 0;
    cache.state = CACHE_OPEN;
    return 1;
}

/* The bin of cell size `size`, rounded up (`up`) or down; CACHE_BINS when
 * the size is not cached. */
static size_t cache_bin(size_t size, size_t up) {
    if (size <= CACHE_EXACT)
        return size / WEE_GRANULE;
    if (size > CACHE_MAX)
        return CACHE_BINS;
    return CACHE_EXACT / WEE_GRANULE + (size - CACHE_EXACT + up * (CACHE_STEP - 1)) / CACHE_STEP;
}

/* The cell size of bin k. */
static size_t cache_bin_size(size_t k) {
    size_t exact = CACHE_EXACT / WEE_GRANULE;
    return k <= exact ? k * WEE_GRANULE : CACHE_EXACT + (k - exact) * CACHE_STEP;
}

/* Frees bin k's blocks after the first `keep`. */
static void cache_trim(size_t k, size_t keep) {
    void **last = (void **)&cache.bins[k];
    for (size_t i = 0; i < keep; i++)
        last = *last;
    for (void **b = *last; b; b = *b)
        cache.bytes -= cell_size(cell_of(b));
    wee_block_drain(&wee_heap_default, *last, &cache.counts);
    *last = NULL;
    cache.held[k] = (unsigned char)keep;
}

void *wee_cache_take(size_t size) {
    size_t k = cache_bin(size, 1);
    if (k >= CACHE_TOP || !cache_open())
        return NULL;
    void *block = cache.bins[k];
    if (!block) {
        size_t got = wee_block_fill(&wee_heap_default, cache_bin_size(k) - CELL_HEADER,
                                    CACHE_HOLD / 2, &block, &cache.counts);
        if (!got)
            return NULL;
        cache.held[k] = (unsigned char)got;
        for (void **b = block; b; b = *b)
            cache.bytes += cell_size(cell_of(b));
    }
    size_t cell = cell_size(cell_of(block)); /* a refill may give a larger cell */
    cache.bins[k] = *(void **)block;
    cache.held[k]--;
    cache.bytes -= cell;
    cache.counts.allocs++;
    cache.counts.live += cell;
    return block;
}

int wee_cache_keep(void *block) {
    size_t size = cell_size(cell_of(block)), k = cache_bin(size, 0);
    if (k >= CACHE_TOP || !cache_open())
        return 0;
    *(void **)block = cache.bins[k];
    cache.bins[k] = block;
    cache.bytes += size;
    cache.counts.deallocs++;
    cache.counts.live -= size;
    size_t hold = CACHE_HOLD;
    if (cache.bytes > CACHE_BYTES) /* first the bins no longer used (a forked child) */
        for (size_t j = CACHE_TOP; j < CACHE_BINS; j++)
            if (cache.held[j])
                cache_trim(j, 0);
    if (++cache.held[k] > hold || cache.bytes > CACHE_BYTES)
        cache_trim(k, hold / 2 < cache.held[k] ? hold / 2 : cache.held[k] / 2);
    return 1;
}

void wee_cache_sync(void) {
    if (cache.counts.allocs || cache.counts.deallocs)
        wee_block_drain(&wee_heap_default, NULL, &cache.counts);
}
