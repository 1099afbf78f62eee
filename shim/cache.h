/*
 * Thread caches in front of the default heap (unix shim).
 *
 * Each thread keeps a few freed small blocks per cell size and hands them out
 * again without taking the heap's lock; it refills and empties its bins in
 * batches, one lock per batch. Threads therefore share the heap's lock only
 * once every few operations, and the frees and allocations of a busy size
 * skip the free lists altogether. Blocks in a cache stay allocated cells of
 * the heap, counted as cached_bytes in its statistics; a thread's cache goes
 * back to the heap when the thread exits. wee_cache_sync() (declared in
 * heap.h, where the core looks for it) hands a thread's counts over.
 *
 * Builds without the cache (wasm32, extra assertions) get empty inline
 * functions, so the shim calls them unconditionally.
 */
#ifndef WEE_SHIM_CACHE_H
#define WEE_SHIM_CACHE_H

#include <stddef.h>

#ifndef WEE_SHIM_CACHE
#define WEE_SHIM_CACHE 0
#endif

#if WEE_SHIM_CACHE
/* A block of cell size `size` from this thread's cache, refilled from the
 * heap when empty; NULL when the size is not cached or memory is out. */
void *wee_cache_take(size_t size);
/* Keeps freed `block` in this thread's cache. Returns 0 when the cache does
 * not take it (the caller frees it to the heap). */
int wee_cache_keep(void *block);
#else
static inline void *wee_cache_take(size_t size) {
    (void)size;
    return NULL;
}
static inline int wee_cache_keep(void *block) {
    (void)block;
    return 0;
}
#endif

#endif /* WEE_SHIM_CACHE_H */
