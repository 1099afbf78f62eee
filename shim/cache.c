/*
 * Thread caches (see cache.h): per thread, singly linked bins of blocks,
 * linked through their first words, one bin per multiple of 16 bytes up to
 * CACHE_MAX. A thread caches at most CACHE_BYTES; while the process has a
 * single thread, less, and only blocks up to CACHE_ONLY_MAX.
 *
 * A thread's cache opens on its first use once the shim's constructor has
 * made the key whose destructor empties the cache at thread exit; before
 * that (allocations by the dynamic loader, other constructors) and after
 * the destructor ran, every call goes to the heap. The cache lives in
 * initial-exec TLS, which never allocates.
 */
#include <pthread.h>
#include <string.h>

#include "cache.h"
#include "wee_alloc.h"

#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define ONLY_THREAD() (__libc_single_threaded != 0)
#endif
#endif
#ifndef ONLY_THREAD
#define ONLY_THREAD() 0
#endif

#define GRANULE    ((size_t)16)
#define WORD       sizeof(size_t)
#define CACHE_MAX  ((size_t)1024) /* the largest cached block, bytes */
#define CACHE_BINS (CACHE_MAX / GRANULE + 1)
/* How much a cache keeps. With other threads, enough that refills and
 * flushes, which take the shared heap lock, stay rare; while the process
 * has one thread the lock costs little, and the cache keeps little. */
#define CACHE_HOLD     (ONLY_THREAD() ? 16 : 32)                 /* blocks a bin holds */
#define CACHE_BYTES    (ONLY_THREAD() ? 64 * 1024 : 1024 * 1024) /* bytes a cache holds */
#define CACHE_ONLY_MAX ((size_t)256)
#define CACHE_TOP      (ONLY_THREAD() ? CACHE_ONLY_MAX / GRANULE + 1 : CACHE_BINS) /* bins used */

enum { CACHE_NEW, CACHE_OPEN, CACHE_CLOSED };

typedef struct thread_cache {
    void *bins[CACHE_BINS];
    unsigned char held[CACHE_BINS]; /* blocks in each bin */
    unsigned char state;
    size_t bytes; /* in the bins */
} thread_cache;

static __thread thread_cache cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static int key_ready; /* written once by the constructor, before any thread */

/* Frees bin k's blocks after the first `keep`, under one heap lock. */
static void cache_trim(size_t k, size_t keep) {
    void **last = (void **)&cache.bins[k];
    for (size_t i = 0; i < keep; i++)
        last = *last;
    cache.bytes -= (cache.held[k] - keep) * k * GRANULE;
    wee_heap_dealloc_many(wee_default_heap(), *last, k * GRANULE - WORD, GRANULE);
    *last = NULL;
    cache.held[k] = (unsigned char)keep;
}

static void cache_close(void *unused) {
    (void)unused;
    cache.state = CACHE_CLOSED; /* frees from here on go to the heap */
    for (size_t k = 0; k < CACHE_BINS; k++)
        cache_trim(k, 0);
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

/* The bin of a block of `size` bytes aligned to 16: the multiple of 16 its
 * size and the size word in front round up to, which the core guarantees
 * makes blocks interchangeable. */
static size_t cache_bin(size_t size) { return (size + WORD + GRANULE - 1) / GRANULE; }

void *wee_cache_take(size_t size) {
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    if (k >= CACHE_TOP || !cache_open())
        return NULL;
    void **block = cache.bins[k];
    if (!block) { /* a refill, under one heap lock */
        void *fresh[32];
        size_t got = wee_heap_alloc_many(wee_default_heap(), k * GRANULE - WORD, GRANULE, fresh,
                                         CACHE_HOLD / 2);
        if (!got)
            return NULL;
        for (size_t i = got; i-- > 0;) {
            *(void **)fresh[i] = block;
            block = fresh[i];
        }
        cache.held[k] = (unsigned char)got;
        cache.bytes += got * k * GRANULE;
    }
    cache.bins[k] = *block;
    cache.held[k]--;
    cache.bytes -= k * GRANULE;
    return block;
}

int wee_cache_keep(void *block, size_t size) {
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    if (k >= CACHE_TOP || !cache_open())
        return 0;
    *(void **)block = cache.bins[k];
    cache.bins[k] = block;
    cache.bytes += k * GRANULE;
    size_t hold = CACHE_HOLD;
    if (cache.bytes > CACHE_BYTES) /* first the bins no longer used (a forked child) */
        for (size_t j = CACHE_TOP; j < CACHE_BINS; j++)
            if (cache.held[j])
                cache_trim(j, 0);
    if (++cache.held[k] > hold || cache.bytes > CACHE_BYTES)
        cache_trim(k, hold / 2 < cache.held[k] ? hold / 2 : cache.held[k] / 2);
    return 1;
}

void wee_cache_flush(void) {
    if (cache.state == CACHE_OPEN)
        for (size_t k = 0; k < CACHE_BINS; k++)
            cache_trim(k, 0);
}

void *wee_cache_resize(void *block, size_t size, size_t new_size) {
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    size_t n = new_size <= CACHE_MAX ? cache_bin(new_size) : CACHE_BINS;
    if (k >= CACHE_TOP || n >= CACHE_TOP || cache.state != CACHE_OPEN)
        return NULL;
    if (k == n)
        return block;
    void *moved = wee_cache_take(new_size);
    if (!moved)
        return NULL;
    size_t keep = wee_heap_usable_size(wee_default_heap(), block, size, GRANULE);
    memcpy(moved, block, keep < new_size ? keep : new_size);
    if (!wee_cache_keep(block, size))
        wee_dealloc(block, size, GRANULE);
    return moved;
}
