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
 *
 * An open cache owns a tag, 1 to OWNERS - 1, which it writes into the size
 * word of each block it hands out, and a return list in `owners`, outside
 * TLS so that it outlives its thread. Another thread that frees the block
 * pushes it onto that list with a compare-and-swap, unless the list holds
 * RETURN_MAX blocks already or no thread has the tag any more; the owner
 * takes the whole list with one exchange when one of its bins runs empty,
 * and gives it to the heap when it exits. A tag freed by an exiting thread
 * goes to the next thread that opens a cache: the blocks still tagged with
 * it then go to that thread, which serves them as well as any. Threads
 * beyond the first OWNERS - 1 at once tag nothing, and blocks freed by
 * another thread then stay in that thread's cache.
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

#define OWNERS     256
#define RETURN_MAX 256 /* blocks an owner's return list takes at most */
/* The head of the return list of a tag some open cache owns, while the
 * list is empty; NULL is the head of a tag nobody owns. */
#define RETURN_EMPTY ((void *)1)
#define TAG_SHIFT    48

enum { CACHE_NEW, CACHE_OPEN, CACHE_CLOSED };

/* A tag's return list, one cache line each. */
typedef struct owner {
    _Atomic(void *) returned; /* linked through first words, NULL-terminated */
    atomic_size_t count;      /* blocks on it, or about to be */
} __attribute__((aligned(64))) owner;

static owner owners[OWNERS]; /* under caches_lock: which are owned */

typedef struct thread_cache {
    void *bins[CACHE_BINS];
    unsigned char held[CACHE_BINS]; /* blocks in each bin */
    unsigned char state;
    size_t tag;                     /* in the size words of the blocks it hands out */
    owner *own;                     /* its return list; NULL without a tag */
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

/* The bin of a block of `size` bytes aligned to 16: the multiple of 16 its
 * size and the size word in front round up to, which the core guarantees
 * makes blocks interchangeable. */
static size_t cache_bin(size_t size) { return (size + WORD + GRANULE - 1) / GRANULE; }

/* The size a block's size word gives. */
static size_t word_size(size_t word) { return word & ~WEE_CACHE_TAGS; }

/* Pushes `block` onto the return list of `tag`'s
 * owner. 0 when no thread owns the tag or its list is full. */
static int cache_return(void *block, size_t tag) {
    owner *o = &owners[tag >> TAG_SHIFT];
    if (atomic_load_explicit(&o->count, memory_order_relaxed) >= RETURN_MAX)
        return 0;
    atomic_fetch_add_explicit(&o->count, 1, memory_order_relaxed);
    void *head = atomic_load_explicit(&o->returned, memory_order_relaxed);
    do {
        if (!head) { /* its thread exited */
            atomic_fetch_sub_explicit(&o->count, 1, memory_order_relaxed);
            return 0;
        }
        cache_set_next(block, head == RETURN_EMPTY ? NULL : head);
    } while (!atomic_compare_exchange_weak_explicit(&o->returned, &head, block,
                                                    memory_order_release, memory_order_relaxed));
    return 1;
}

/* Takes the blocks on this thread's return list, leaving `head` (empty, or
 * NULL to disown the tag); returns the first, linked to the others. */
static void *cache_returned(void *head) {
    void *list = atomic_exchange_explicit(&cache.own->returned, head, memory_order_acquire);
    return list == RETURN_EMPTY ? NULL : list;
}

/* Puts the blocks of a return list into their bins; gives them to the heap
 * instead when the cache is closed. */
static void cache_take_back(void *list);

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
    void *list = cache.own ? cache_returned(NULL) : NULL; /* the tag is free again */
    pthread_mutex_unlock(&caches_lock);
    cache_take_back(list);
    cache.own = NULL;
    cache.tag = 0;
    for (size_t k = 0; k < CACHE_BINS; k++)
        cache_trim(k, 0);
}

static void caches_lock_take(void) { pthread_mutex_lock(&caches_lock); }

static void caches_lock_give(void) { pthread_mutex_unlock(&caches_lock); }

/* In a child after fork: the other threads are gone, and their tags with
 * them (the blocks on their lists are lost to the child, as those in their
 * caches are). */
static void caches_lock_give_child(void) {
    for (size_t t = 1; t < OWNERS; t++)
        if (&owners[t] != cache.own) {
            atomic_store_explicit(&owners[t].returned, NULL, memory_order_relaxed);
            atomic_store_explicit(&owners[t].count, 0, memory_order_relaxed);
        }
    pthread_mutex_unlock(&caches_lock);
}

__attribute__((constructor)) static void cache_init(void) {
    key_ready = pthread_key_create(&cache_key, cache_close) == 0;
    /* a child must not inherit the list of caches in the middle of a change */
    pthread_atfork(caches_lock_take, caches_lock_give, caches_lock_give_child);
}

/* A tag nobody owns for this thread, with an empty return list; under
 * caches_lock. Tags exist on 64-bit targets only. */
static void cache_own_tag(void) {
    for (size_t t = 1; WEE_CACHE_TAGS && t < OWNERS; t++)
        if (!atomic_load_explicit(&owners[t].returned, memory_order_relaxed)) {
            atomic_store_explicit(&owners[t].returned, RETURN_EMPTY, memory_order_relaxed);
            cache.own = &owners[t];
            cache.tag = t << TAG_SHIFT;
            return;
        }
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
    cache_own_tag();
    pthread_mutex_unlock(&caches_lock);
    cache.state = CACHE_OPEN;
    return 1;
}

/* Takes the first block of bin k, which has one. */
static inline void *cache_unlink(size_t k) {
    void *block = cache.bins[k];
    cache.bins[k] = cache_next(block);
    cache.held[k]--;
    cache.bytes -= k * GRANULE;
    return block;
}

/* Refills empty bin k from the heap and takes a block from it; NULL when
 * memory is out. */
static void *cache_refill(size_t k) {
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

static void cache_take_back(void *list) {
    size_t n = 0;
    for (void *next; list; list = next, n++) {
        next = cache_next(list);
        size_t size = word_size(((size_t *)list)[-1]), k = cache_bin(size);
        if (cache.state == CACHE_OPEN && k < CACHE_TOP)
            cache_push(list, k);
        else
            wee_heap_dealloc(wee_default_heap(), list, size, GRANULE);
    }
    if (n)
        atomic_fetch_sub_explicit(&cache.own->count, n, memory_order_relaxed);
}

/* A block of `size` bytes, from bin k of this thread's cache, which is
 * empty or not open yet: the first calls of a thread, those after its cache
 * closed, and refills, kept out of line so that the common case saves no
 * registers. The size word written. */
__attribute__((noinline)) static void *cache_take_slow(size_t size, size_t k) {
    if (cache.state != CACHE_OPEN && !cache_open_first())
        return NULL;
    /* blocks other threads sent back come before the heap */
    if (!cache.bins[k] && cache.own &&
        atomic_load_explicit(&cache.own->returned, memory_order_relaxed) != RETURN_EMPTY)
        cache_take_back(cache_returned(RETURN_EMPTY));
    size_t *block = cache.bins[k] ? cache_unlink(k) : cache_refill(k);
    if (block)
        block[-1] = size | cache.tag;
    return block;
}

/* Frees a block another thread's cache handed out, or one without a tag,
 * or any block while this thread's cache is not open: kept out of line. */
__attribute__((noinline)) static void cache_free_other(void *block, size_t word) {
    size_t tag = word & WEE_CACHE_TAGS, size = word_size(word);
    if (tag && tag != cache.tag && cache_return(block, tag))
        return;
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    if (k < CACHE_TOP && (cache.state == CACHE_OPEN || cache_open_first()))
        cache_push(block, k);
    else
        wee_heap_dealloc(wee_default_heap(), block, size, GRANULE);
}

void *wee_cache_take(size_t size) {
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    if (k >= CACHE_TOP)
        return NULL;
    size_t *block = cache.bins[k];
    if (!block || cache.state != CACHE_OPEN)
        return cache_take_slow(size, k);
    cache_unlink(k);
    atomic_store_explicit(&cache.hits, atomic_load_explicit(&cache.hits, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    block[-1] = size | cache.tag;
    return block;
}

void wee_cache_free(void *block, size_t word) {
    /* the size, when this thread's open cache handed the block out */
    size_t size = word ^ cache.tag;
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    if (k < CACHE_TOP && cache.state == CACHE_OPEN)
        cache_push(block, k);
    else
        cache_free_other(block, word);
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
    if (cache.state != CACHE_OPEN)
        return;
    if (cache.own)
        cache_take_back(cache_returned(RETURN_EMPTY));
    for (size_t k = 0; k < CACHE_BINS; k++)
        cache_trim(k, 0);
}

void *wee_cache_resize(void *block, size_t word, size_t new_size) {
    size_t size = word_size(word);
    size_t k = size <= CACHE_MAX ? cache_bin(size) : CACHE_BINS;
    size_t n = new_size <= CACHE_MAX ? cache_bin(new_size) : CACHE_BINS;
    if (k >= CACHE_TOP || n >= CACHE_TOP || cache.state != CACHE_OPEN)
        return NULL;
    if (k == n) {
        ((size_t *)block)[-1] = new_size | (word & WEE_CACHE_TAGS);
        return block;
    }
    void *moved = wee_cache_take(new_size);
    if (!moved)
        return NULL;
    /* what malloc_usable_size says the block holds (wee_alloc.h) */
    size_t keep = SIZE_MAX > 0xffffffffu
                      ? k * GRANULE - WORD
                      : wee_heap_usable_size(wee_default_heap(), block, size, GRANULE);
    memcpy(moved, block, keep < new_size ? keep : new_size);
    wee_cache_free(block, word);
    return moved;
}
