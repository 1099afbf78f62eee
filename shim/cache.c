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
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "vg_client.h"
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
#define CACHE_BATCH    16 /* blocks that go to or come from the heap at once */
#define CACHE_TOP      (ONLY_THREAD() ? CACHE_ONLY_MAX / GRANULE + 1 : CACHE_BINS) /* bins used */

enum { CACHE_NEW, CACHE_OPEN, CACHE_CLOSED };

typedef struct thread_cache {
    void *bins[CACHE_BINS];
    unsigned char held[CACHE_BINS]; /* blocks in each bin */
    unsigned char state;
    size_t bytes;                   /* in the bins */
    atomic_size_t hits;             /* takes served from a bin; written by its thread only */
    struct thread_cache *next_open; /* the open caches (under caches_lock) */
    struct thread_cache **pprev_open;
} thread_cache;

static __thread thread_cache cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static int key_ready; /* written once by the constructor, before any thread */
/* The open caches, and the hits of caches closed since, for the statistics. */
static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;
static thread_cache *caches_open;
static size_t caches_closed_hits;

#ifndef WEE_HARDEN
#define WEE_HARDEN 0
#endif

/* Ends the process with "wee_alloc: <what>: 0x<addr>", as the core does. */
__attribute__((noinline, cold, noreturn)) static void cache_fail(const char *what,
                                                                 const void *addr) {
    char msg[128] = "wee_alloc: ";
    size_t len = 11;
    while (*what && len < sizeof msg - 24)
        msg[len++] = *what++;
    msg[len++] = ':';
    msg[len++] = ' ';
    msg[len++] = '0';
    msg[len++] = 'x';
    for (int shift = 8 * (int)sizeof(uintptr_t) - 4; shift >= 0; shift -= 4)
        msg[len++] = "0123456789abcdef"[(uintptr_t)addr >> shift & 15];
    msg[len++] = '\n';
    ssize_t n = write(2, msg, len);
    (void)n;
    __builtin_trap();
}

/* Safe-linking of the bins (hardened builds): a block's link is stored xor
 * its address / 4096, and a link that does not come out 16-aligned ends
 * the process, as glibc does for its tcache. */
static inline uintptr_t link_key(const void *block) {
    return WEE_HARDEN ? (uintptr_t)block >> 12 : 0;
}

static inline void *cache_next(void *block) {
    void *next = (void *)(*(uintptr_t *)block ^ link_key(block));
    if (WEE_HARDEN && (uintptr_t)next % GRANULE != 0)
        cache_fail("thread cache corrupted (write after free?)", block);
    return next;
}

static inline void cache_set_next(void *block, void *next) {
    *(uintptr_t *)block = (uintptr_t)next ^ link_key(block);
}

/* Frees bin k's blocks after the first `keep`, up to CACHE_BATCH at a time
 * under one taking of the heap's lock. */
static void cache_trim(size_t k, size_t keep) {
    void *batch[CACHE_BATCH], *b = cache.bins[k], *last = NULL;
    for (size_t i = 0; i < keep; i++) {
        last = b;
        b = cache_next(b);
    }
    if (last)
        cache_set_next(last, NULL);
    else
        cache.bins[k] = NULL;
    cache.bytes -= (cache.held[k] - keep) * k * GRANULE;
    cache.held[k] = (unsigned char)keep;
    while (b) {
        size_t n = 0;
        for (; b && n < CACHE_BATCH; b = cache_next(b))
            batch[n++] = b;
        wee_heap_dealloc_many(wee_default_heap(), batch, n, k * GRANULE - WORD, GRANULE);
    }
}

static void cache_close(void *unused) {
    (void)unused;
    cache.state = CACHE_CLOSED; /* frees from here on go to the heap */
    pthread_mutex_lock(&caches_lock);
    if (cache.pprev_open) {
        *cache.pprev_open = cache.next_open;
        if (cache.next_open)
            cache.next_open->pprev_open = cache.pprev_open;
        cache.pprev_open = NULL;
        caches_closed_hits += atomic_load_explicit(&cache.hits, memory_order_relaxed);
    }
    pthread_mutex_unlock(&caches_lock);
    for (size_t k = 0; k < CACHE_BINS; k++)
        cache_trim(k, 0);
}

static void caches_lock_take(void) { pthread_mutex_lock(&caches_lock); }

static void caches_lock_give(void) { pthread_mutex_unlock(&caches_lock); }

__attribute__((constructor)) static void cache_init(void) {
    key_ready = pthread_key_create(&cache_key, cache_close) == 0;
    /* a child must not inherit the list of caches in the middle of a change */
    pthread_atfork(caches_lock_take, caches_lock_give, caches_lock_give);
}

/* Opens this thread's cache on first use: registers it for emptying at
 * thread exit. Closed while registering, in case that allocates. Returns
 * whether the cache is open. */
static int cache_open_first(void) {
    if (cache.state == CACHE_CLOSED || !key_ready)
        return 0;
    cache.state = CACHE_CLOSED;
    if (WEE_VG_RUNNING()) /* memcheck sees every free when blocks go to the heap */
        return 0;
    if (pthread_setspecific(cache_key, &cache) != 0)
        return 0;
    pthread_mutex_lock(&caches_lock);
    cache.next_open = caches_open;
    cache.pprev_open = &caches_open;
    if (caches_open)
        caches_open->pprev_open = &cache.next_open;
    caches_open = &cache;
    pthread_mutex_unlock(&caches_lock);
    cache.state = CACHE_OPEN;
    return 1;
}

/* The bin of a block of `size` bytes aligned to 16: the multiple of 16 its
 * size and the size word in front round up to, which the core guarantees
 * makes blocks interchangeable. */
static size_t cache_bin(size_t size) { return (size + WORD + GRANULE - 1) / GRANULE; }

/* Refills empty bin k from the heap and takes a block from it; NULL when
 * memory is out. */
__attribute__((noinline)) static void *cache_refill(size_t k) {
    void *batch[CACHE_BATCH], *block = NULL;
    size_t got =
        wee_heap_alloc_many(wee_default_heap(), k * GRANULE - WORD, GRANULE, batch, CACHE_HOLD / 2);
    if (!got)
        return NULL;
    for (size_t i = 1; i < got; i++) {
        cache_set_next(batch[i], block);
        block = batch[i];
    }
    cache.bins[k] = block;
    cache.held[k] = (unsigned char)(got - 1);
    cache.bytes += (got - 1) * k * GRANULE;
    return batch[0];
}

/* Bin k holds more blocks than it may, or the cache more bytes: gives
 * blocks back to the heap, first those of bins no longer used (in a forked
 * child), then half of bin k's. */
__attribute__((noinline)) static void cache_spill(size_t k) {
    size_t hold = CACHE_HOLD;
    if (cache.bytes > CACHE_BYTES)
        for (size_t j = CACHE_TOP; j < CACHE_BINS; j++)
            if (cache.held[j])
                cache_trim(j, 0);
    if (cache.held[k] > hold || cache.bytes > CACHE_BYTES)
        cache_trim(k, hold / 2 < cache.held[k] ? hold / 2 : cache.held[k] / 2);
}

/* A block from bin k of this thread's open cache. */
static inline void *cache_pop(size_t k) {
    void *block = cache.bins[k];
    if (!block)
        return cache_refill(k);
    cache.bins[k] = cache_next(block);
    cache.held[k]--;
    cache.bytes -= k * GRANULE;
    atomic_store_explicit(&cache.hits, atomic_load_explicit(&cache.hits, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    return block;
}

/* Puts `block` in bin k of this thread's open cache. */
static inline void cache_push(void *block, size_t k) {
    if (WEE_HARDEN && block == cache.bins[k]) /* freed twice in a row */
        cache_fail("double free", block);
    cache_set_next(block, cache.bins[k]);
    cache.bins[k] = block;
    cache.bytes += k * GRANULE;
    if (++cache.held[k] > CACHE_HOLD || cache.bytes > CACHE_BYTES)
        cache_spill(k);
}

/* The first calls of a thread, those after its cache closed, and frees of
 * blocks the cache does not take: kept out of line, so that the common case
 * saves no registers. */
__attribute__((noinline)) static void *cache_take_first(size_t k) {
    return cache_open_first() ? cache_pop(k) : NULL;
}

__attribute__((noinline)) static void cache_free_first(void *block, size_t size, size_t k) {
    if (k < CACHE_TOP && cache_open_first())
        cache_push(block, k);
    else
        wee_heap_dealloc(wee_default_heap(), block, size, GRANULE);
}

void *wee_cache_take(size_t size) {
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    if (k >= CACHE_TOP)
        return NULL;
    return cache.state == CACHE_OPEN ? cache_pop(k) : cache_take_first(k);
}

void wee_cache_free(void *block, size_t size) {
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    if (k < CACHE_TOP && cache.state == CACHE_OPEN)
        cache_push(block, k);
    else
        cache_free_first(block, size, k);
}

void wee_cache_counts(size_t *hits, size_t *held_blocks, size_t *held_bytes) {
    pthread_mutex_lock(&caches_lock);
    size_t sum = caches_closed_hits;
    for (thread_cache *c = caches_open; c; c = c->next_open)
        sum += atomic_load_explicit(&c->hits, memory_order_relaxed);
    pthread_mutex_unlock(&caches_lock);
    size_t blocks = 0;
    for (size_t k = 0; k < CACHE_BINS; k++)
        blocks += cache.held[k];
    *hits = sum;
    *held_blocks = blocks;
    *held_bytes = cache.bytes;
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
    wee_cache_free(block, size);
    return moved;
}
