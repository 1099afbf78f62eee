/*
 * Thread caches in front of the default heap (unix shim).
 *
 * Each thread keeps a few freed small blocks per size and hands them out
 * again without taking the heap's lock; it refills and empties its bins a
 * few blocks at a time. Threads therefore share the heap's lock only once
 * every few operations. Blocks in a cache stay allocated blocks of the heap
 * (counted in its live bytes); a thread's cache goes back to the heap when
 * the thread exits. The cache uses the core's public API only: a bin holds
 * blocks whose sizes, plus the word in front, round up to the same multiple
 * of 16, which the core guarantees are interchangeable.
 *
 * Builds without the cache (wasm32, extra assertions) get inline functions
 * that go to the heap, so the shim calls them unconditionally.
 */
#ifndef WEE_SHIM_CACHE_H
#define WEE_SHIM_CACHE_H

#include <stddef.h>

#include "wee_alloc.h"

#ifndef WEE_SHIM_CACHE
#define WEE_SHIM_CACHE 0
#endif

#if WEE_SHIM_CACHE
/* A 16-aligned block of `size` bytes with a word in front, from this
 * thread's cache, refilled from the heap when empty; NULL when the size is
 * not cached or memory is out. */
void *wee_cache_take(size_t size);
/* Frees `block` (allocated with `size` bytes and alignment 16): into this
 * thread's cache when it takes it, else to the heap. */
void wee_cache_free(void *block, size_t size);
/* The takes every thread's cache served from its bins, and the blocks and
 * bytes the calling thread's cache holds (each block counted by its bin's
 * size, the word in front included). */
void wee_cache_counts(size_t *hits, size_t *held_blocks, size_t *held_bytes);
/* Gives every block of this thread's cache back to the heap. */
void wee_cache_flush(void);
/* realloc of `block` (16-aligned, of `size` bytes with a word in front) to
 * `new_size` when this thread's cache serves both sizes: the block itself
 * when both round to the same bin, else a block from the cache holding the
 * contents, the old one kept in the cache. NULL when the cache does not
 * serve them (the caller goes to the heap). */
void *wee_cache_resize(void *block, size_t size, size_t new_size);
#else
static inline void *wee_cache_take(size_t size) {
    (void)size;
    return NULL;
}
static inline void wee_cache_free(void *block, size_t size) {
    wee_heap_dealloc(wee_default_heap(), block, size, 16);
}
static inline void wee_cache_counts(size_t *hits, size_t *held_blocks, size_t *held_bytes) {
    *hits = *held_blocks = *held_bytes = 0;
}
static inline void wee_cache_flush(void) {}
static inline void *wee_cache_resize(void *block, size_t size, size_t new_size) {
    (void)block;
    (void)size;
    (void)new_size;
    return NULL;
}
#endif

#endif /* WEE_SHIM_CACHE_H */
