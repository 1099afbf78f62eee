/*
 * wee_alloc: a tiny, sized-deallocation memory allocator.
 *
 * This is the public API of the core. Every allocation is described by its
 * size and alignment, and the same pair is handed back on deallocation, in
 * the manner of Rust's GlobalAlloc. The libc names (malloc, free, ...) are
 * not defined here: they come from the separate shim library, wee_malloc.
 *
 * All functions are thread-safe: each heap carries its own lock. A heap needs
 * no set-up: a zero-filled wee_heap (WEE_HEAP_INIT) is ready to use, so heaps
 * can live in static storage and be used before any constructor has run.
 *
 * The version macros (WEE_ALLOC_VERSION, WEE_ALLOC_VERSION_MAJOR, _MINOR,
 * _PATCH and _STRING) come from wee_alloc_version.h, included below.
 */
#ifndef WEE_ALLOC_H
#define WEE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "wee_alloc_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the symbols exported from the shared library. */
#if defined(__GNUC__) || defined(__clang__)
#define WEE_API __attribute__((visibility("default")))
#else
#define WEE_API
#endif

/** Size of the opaque heap state, in pointer-sized words. */
#define WEE_HEAP_WORDS 256

/**
 * A heap: independent size classes and free lists drawing pages from the
 * backend. Its contents are private. A heap's regions are never handed back
 * to the backend (on unix their free pages are released to the system, and
 * large blocks are mappings of their own, unmapped when freed), so a heap
 * should live as long as the program.
 */
typedef struct wee_heap {
    void *opaque[WEE_HEAP_WORDS];
} wee_heap;

/** Static initializer for a wee_heap: `wee_heap h = WEE_HEAP_INIT;`. */
#define WEE_HEAP_INIT                                                                              \
    {                                                                                              \
        { 0 }                                                                                      \
    }

/**
 * Counters kept by every heap. Byte counts are of the blocks the heap hands
 * out, rounded up to their slot or cell size (a cell with its header).
 */
typedef struct wee_stats {
    size_t backend_bytes; /**< bytes held from the backend: regions, and large blocks' mappings */
    size_t regions;       /**< separate memory regions (adjacent grows merge) */
    size_t live_bytes;    /**< bytes of blocks currently handed out */
    size_t peak_bytes;    /**< largest value live_bytes has had */
    size_t allocs;        /**< successful allocations */
    size_t deallocs;      /**< deallocations */
    size_t failures;      /**< allocations that returned NULL */
    /** bytes of free heap pages given back to the system, in all (0 where the backend
     *  cannot); they stay in backend_bytes, reserved for the heap */
    size_t released_bytes;
    /* The counters below are kept by builds with WEE_INTROSPECT (the
     * default, except in the smallest build, MinSizeRel/WEE_TINY on wasm32,
     * where they stay 0). */
    size_t held_peak_bytes;   /**< largest value backend_bytes has had */
    size_t requested_bytes;   /**< bytes asked for, of the blocks handed out now */
    size_t requested_peak;    /**< largest value requested_bytes has had */
    size_t reallocs_in_place; /**< reallocations that kept their block */
    size_t reallocs_moved;    /**< reallocations that moved (also counted in allocs, deallocs) */
    size_t run_bytes;         /**< bytes of the runs that hold small blocks, headers included */
    size_t slot_bytes;        /**< bytes of small blocks handed out (also in live_bytes) */
    size_t slot_free_bytes;   /**< bytes of small blocks free in the runs */
    size_t mapped_blocks;     /**< large blocks that are mappings of their own (unix) */
    size_t mapped_bytes;      /**< their mappings' bytes (in backend_bytes and live_bytes) */
} wee_stats;

/** The process-wide heap behind wee_alloc() and the malloc shim. */
WEE_API wee_heap *wee_default_heap(void);

/**
 * Allocates `size` bytes aligned to `align` from heap `h`.
 * `align` must be a power of two (any size up to a quarter of the address
 * space). `size` 0 is allowed and gives a unique pointer.
 * Returns NULL when the backend is exhausted, on arithmetic overflow, or when
 * `align` is not a power of two. The memory is not cleared.
 *
 * With `align` above sizeof(void *), the word in front of the returned
 * pointer belongs to the block too: a caller may keep a word of its own
 * there (the malloc shim keeps the size, asking for 16). Requests are
 * interchangeable, so that a block allocated with one may be deallocated,
 * reallocated or measured with the other: when both alignments are at most
 * sizeof(void *), or both above it and at most 16, and the sizes, each plus
 * that word when there is one, round up to the same multiple of 16; and
 * when both alignments are above 16 and the second size is at most the
 * first. On 64-bit targets a block of the first kind holds the largest
 * request it is interchangeable with: wee_heap_usable_size() gives at least
 * that, less the word. On 32-bit targets it may hold only the request it
 * was allocated with.
 */
WEE_API void *wee_heap_alloc(wee_heap *h, size_t size, size_t align);

/**
 * Allocates up to `count` blocks of `size` bytes aligned to `align` from heap
 * `h` under one taking of its lock, and stores them in out[0], out[1], ...
 * Each block is exactly what wee_heap_alloc(h, size, align) would return,
 * and is freed the same ways. Returns how many blocks were stored: `count`,
 * or fewer when memory runs out (0 also for the requests wee_heap_alloc()
 * rejects). Meant for caches that refill a few blocks at a time.
 */
WEE_API size_t wee_heap_alloc_many(wee_heap *h, size_t size, size_t align, void **out,
                                   size_t count);

/**
 * Returns a block to heap `h`. `ptr` must come from wee_heap_alloc() or
 * wee_heap_realloc() on the same heap with the same `align`; `size` must be
 * the size it was last allocated with. `ptr` may be NULL (nothing happens).
 */
WEE_API void wee_heap_dealloc(wee_heap *h, void *ptr, size_t size, size_t align);

/**
 * Returns `count` blocks to heap `h` under one taking of its lock: the
 * non-NULL pointers among blocks[0] to blocks[count - 1], each allocated with
 * the same `size` and `align` (as wee_heap_dealloc() requires of one).
 */
WEE_API void wee_heap_dealloc_many(wee_heap *h, void *const *blocks, size_t count, size_t size,
                                   size_t align);

/**
 * Resizes the block `ptr` (allocated with `old_size` and `align`) to
 * `new_size` bytes, in place when the neighbouring memory allows, otherwise
 * by moving it. The first min(old_size, new_size) bytes are kept. On failure
 * returns NULL and the old block is left intact and still owned by the
 * caller.
 */
WEE_API void *wee_heap_realloc(wee_heap *h, void *ptr, size_t old_size, size_t align,
                               size_t new_size);

/**
 * Usable bytes of the block `ptr` allocated from heap `h` with `size` and
 * `align`: at least `size`; all of them may be written. Takes no lock.
 */
WEE_API size_t wee_heap_usable_size(wee_heap *h, const void *ptr, size_t size, size_t align);

/**
 * wee_heap_alloc() of a block that reads as zero. Memory known to be zero
 * already (a large block's fresh mapping) is not cleared again. Returns NULL
 * as wee_heap_alloc() does.
 */
WEE_API void *wee_heap_alloc_zeroed(wee_heap *h, size_t size, size_t align);

/**
 * Gives the whole free pages inside heap `h` back to the system now, but
 * `pad` bytes at the end of its newest region, like glibc's malloc_trim().
 * They stay reserved for the heap and read as zero when used again. Returns 1
 * when some memory was released, 0 otherwise (always 0 where the backend
 * cannot give memory back: wasm32, the static backend).
 */
WEE_API int wee_heap_trim(wee_heap *h, size_t pad);

/** Options for wee_heap_set_option(). */
enum wee_option {
    /**
     * Milliseconds free pages stay in the heap before they are given back
     * (checked every 64 deallocations; 0: at once, on every free that leaves
     * a whole page free). Default 1000. Free memory beyond 16 MiB since the
     * last release is given back at once whatever the decay.
     */
    WEE_OPTION_DECAY_MS = 1,
    /**
     * Blocks of at least this many bytes (above 512 bytes, alignment up to
     * a page) get a mapping of their own unless a free piece of the heap
     * holds them (not in wee_heap_alloc_zeroed), unmapped when freed (or,
     * once the threshold rose above its size, its pages given to the heap
     * while the heap's free bytes stay within 32 MiB or the live ones). Default
     * 128 KiB, rising to the size of each large block freed (up to 32 MiB on
     * 64-bit systems); setting it fixes it.
     */
    WEE_OPTION_MMAP_THRESHOLD = 2
};

/**
 * Sets `option` (enum wee_option) of heap `h` to `value`. Returns 1 when the
 * build has the option, 0 when it has not (the backend cannot give memory
 * back) or the option is unknown.
 */
WEE_API int wee_heap_set_option(wee_heap *h, int option, size_t value);

/** Copies heap `h`'s counters into `*out`. */
WEE_API void wee_heap_stats(wee_heap *h, wee_stats *out);

/** A block seen by wee_heap_walk(). */
typedef struct wee_block_info {
    void *addr;  /**< first byte of the block */
    size_t size; /**< bytes from addr that belong to the block */
    int in_use;  /**< nonzero when the block is handed out */
} wee_block_info;

/** Called by wee_heap_walk() for each block; a nonzero result stops the walk. */
typedef int (*wee_walk_fn)(const wee_block_info *block, void *ctx);

/**
 * Calls `fn(block, ctx)` for every block of heap `h` and returns how many
 * blocks it visited (counting one whose callback stopped the walk).
 *
 * Blocks are visited once each, in address order within each region
 * (regions newest first). A small block (a slot of a run) is visited as
 * its slot, in use or free; every other block is visited as the data of
 * its cell, the cell header left out. Headers, runs' headers and their
 * unused tails, and region ends are not blocks. So every live allocation
 * lies inside exactly one visited block that is in use, visited blocks
 * never overlap, and their sizes add up to less than backend_bytes. Large
 * blocks that are mappings of their own (unix) come after the regions. A block that a thread cache
 * of the malloc shim holds is in use as far as the heap knows, and is visited as in use.
 *
 * The walk holds the heap's lock throughout, allocates nothing, and is
 * safe while other threads use the heap (they wait). `fn` must not
 * allocate from, free to or otherwise call into heap `h` (it would wait on
 * the lock forever); under the malloc shim, that means no malloc or free
 * in `fn` when `h` is the default heap.
 */
WEE_API size_t wee_heap_walk(wee_heap *h, wee_walk_fn fn, void *ctx);

/**
 * Walks every block, run and free list of heap `h` and returns how many of its
 * invariants are broken (0 for a healthy heap). Never crashes on a healthy
 * heap; meant for tests and debugging. Takes the heap lock.
 */
WEE_API size_t wee_heap_check(wee_heap *h);

/**
 * Takes and releases heap `h`'s lock. Used around fork(): take every heap's
 * lock before forking and release it in both parent and child, so that the
 * child never inherits a heap in the middle of an update.
 */
WEE_API void wee_heap_lock(wee_heap *h);
/** Releases the lock taken by wee_heap_lock(). */
WEE_API void wee_heap_unlock(wee_heap *h);

/** wee_heap_alloc() on the default heap. */
WEE_API void *wee_alloc(size_t size, size_t align);
/** wee_heap_dealloc() on the default heap. */
WEE_API void wee_dealloc(void *ptr, size_t size, size_t align);
/** wee_heap_realloc() on the default heap. */
WEE_API void *wee_realloc(void *ptr, size_t old_size, size_t align, size_t new_size);

#ifdef __cplusplus
}
#endif

#endif /* WEE_ALLOC_H */
