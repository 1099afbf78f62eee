/*
 * Thread caches (see cache.h): per thread, one singly linked bin per cell
 * size up to CACHE_MAX bytes, linked through the blocks' first words.
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

#define CACHE_MAX  1024 /* largest cached cell, bytes */
#define CACHE_BINS (CACHE_MAX / WEE_GRANULE + 1)
#define CACHE_FILL 8  /* blocks a refill takes from the heap */
#define CACHE_HOLD 16 /* blocks a bin holds before half go back */

enum { CACHE_NEW, CACHE_OPEN, CACHE_CLOSED };

typedef struct thread_cache {
    void *bins[CACHE_BINS];
    unsigned char held[CACHE_BINS]; /* blocks in each bin */
    unsigned char state;
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

void *wee_cache_take(size_t size) {
    size_t k = size / WEE_GRANULE;
    if (k >= CACHE_BINS || !cache_open())
        return NULL;
    void *block = cache.bins[k];
    if (!block) {
        size_t got = wee_block_fill(&wee_heap_default, size - CELL_HEADER, CACHE_FILL, &block,
                                    &cache.counts);
        if (!got)
            return NULL;
        cache.held[k] = (unsigned char)got;
    }
    cache.bins[k] = *(void **)block;
    cache.held[k]--;
    cache.counts.allocs++;
    cache.counts.live += cell_size(cell_of(block)); /* a refill may give a larger cell */
    return block;
}

int wee_cache_keep(void *block) {
    size_t size = cell_size(cell_of(block)), k = size / WEE_GRANULE;
    if (k >= CACHE_BINS || !cache_open())
        return 0;
    *(void **)block = cache.bins[k];
    cache.bins[k] = block;
    cache.counts.deallocs++;
    cache.counts.live -= size;
    if (++cache.held[k] > CACHE_HOLD) { /* keep the newest half */
        void **last = block;
        for (int i = 1; i < CACHE_HOLD / 2; i++)
            last = *last;
        wee_block_drain(&wee_heap_default, *last, &cache.counts);
        *last = NULL;
        cache.held[k] = CACHE_HOLD / 2;
    }
    return 1;
}

void wee_cache_sync(void) {
    if (cache.counts.allocs || cache.counts.deallocs)
        wee_block_drain(&wee_heap_default, NULL, &cache.counts);
}
