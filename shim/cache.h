/*
 * Thread caches in front of the default heap (unix shim).
 *
 * Each thread keeps a few freed small blocks per size and hands them out
 * again without taking the heap's lock; it refills and empties its bins a
 * few blocks at a time. Threads therefore share the heap's lock only once
 * every few operations. Blocks in a cache stay allocated blocks of the heap
 * (counted in its live bytes); a thread's cache goes back to the heap when
 * the thread exits. A block one thread's cache handed out and another
 * thread frees goes back to the first thread, onto a list other threads
 * push to without a lock, which the owner takes whole when a bin runs
 * empty. The cache uses the core's public API only: a bin holds
 * blocks whose sizes, plus the word in front, round up to the same multiple
 * of 16, which the core guarantees are interchangeable.
 *
 * Builds without the cache (wasm32, extra assertions) get inline functions
 * that go to the heap, so the shim calls them unconditionally.
 */
#ifndef WEE_SHIM_CACHE_H
#define WEE_SHIM_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "wee_alloc.h"

#ifndef WEE_SHIM_CACHE
#define WEE_SHIM_CACHE 0
#endif

#if WEE_SHIM_CACHE && SIZE_MAX > 0xffffffffu
/* A block a thread's cache hands out carries the thread's tag in bits 48 to
 * 62 of its size word (no block is that large), so that a free by another
 * thread can send it back to its owner. */
#define WEE_CACHE_TAGS ((size_t)0x7fff << 48)
#else
#define WEE_CACHE_TAGS ((size_t)0)
#endif

#if WEE_SHIM_CACHE
/* A 16-aligned block of `size` bytes from this thread's cache, refilled
 * from the heap when empty, its size word in front written (`size` and this
 * thread's tag); NULL when the size is not cached or memory is out. */
void *wee_cache_take(size_t size);
/* Frees `block`, whose size word (read in front of it, alignment 16) is
 * `word`: to the thread that allocated it when another thread's cache
 * handed it out and that thread is alive, into this thread's cache when it
 * takes it, else to the heap. */
void wee_cache_free(void *block, size_t word);
/* The takes every thread's cache served from its bins, and the blocks and
 * bytes the calling thread's cache holds (each block counted by its bin's
 * size, the word in front included). */
void wee_cache_counts(size_t *hits, size_t *held_blocks, size_t *held_bytes);
/* Gives every block of this thread's cache back to the heap, those other
 * threads sent back to it included. */
void wee_cache_flush(void);
/* realloc of `block` (16-aligned, its size word `word`) to `new_size` when
 * this thread's cache serves both sizes: the block itself when both round
 * to the same bin, else a block from the cache holding the contents, the
 * old one freed as wee_cache_free() does; the size word in front written.
 * NULL when the cache does not serve them (the caller goes to the heap). */
void *wee_cache_resize(void *block, size_t word, size_t new_size);
#else
static inline void *wee_cache_take(size_t size) {
    (void)size;
    return NULL;
}
static inline void wee_cache_free(void *block, size_t word) {
    wee_heap_dealloc(wee_default_heap(), block, word, 16);
}
static inline void wee_cache_counts(size_t *hits, size_t *held_blocks, size_t *held_bytes) {
    *hits = *held_blocks = *held_bytes = 0;
}
static inline void wee_cache_flush(void) {}
static inline void *wee_cache_resize(void *block, size_t word, size_t new_size) {
    (void)block;
    (void)word;
    (void)new_size;
    return NULL;
}
#endif

#endif /* WEE_SHIM_CACHE_H */
