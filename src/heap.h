/*
 * The heap's state and the functions the core's files share.
 *
 * Everything here is internal (hidden visibility). Functions whose name ends
 * in _locked must be called with the heap's lock held.
 */
#ifndef WEE_HEAP_H
#define WEE_HEAP_H

#include "cell.h"
#include "wee_alloc.h"

#ifndef WEE_SIZE_CLASSES
#define WEE_SIZE_CLASSES 1
#endif
#ifndef WEE_EXTRA_ASSERTIONS
#define WEE_EXTRA_ASSERTIONS 0
#endif

/* Free lists. Size classes: one list per cell size up to CLASS_MAX bytes
 * (256 words of data), indexed by size / WEE_GRANULE; every cell on one is
 * the same size. Bins, after the classes: larger cells by size range, two
 * bins per power of two from the first size above the classes, and a last
 * bin for everything from 2^(BIN_LOG_MIN + BIN_LEVELS) up. Without size
 * classes the bins start at CELL_MIN. */
#define BITS_PER_WORD (8 * sizeof(uintptr_t))
#define FLOOR_LOG2(x) (BITS_PER_WORD - 1 - (size_t)__builtin_clzl(x))
#define CLASS_MAX     ((256 * WEE_WORD + CELL_HEADER + WEE_GRANULE - 1) / WEE_GRANULE * WEE_GRANULE)
#define CLASS_COUNT   (WEE_SIZE_CLASSES ? CLASS_MAX / WEE_GRANULE + 1 : 0)
#define BIN_LOG_MIN   FLOOR_LOG2(WEE_SIZE_CLASSES ? CLASS_MAX + WEE_GRANULE : CELL_MIN)
#define BIN_LEVELS    20
#define LIST_COUNT    (CLASS_COUNT + 2 * BIN_LEVELS + 1)
#define LIST_WORDS    ((LIST_COUNT + BITS_PER_WORD - 1) / BITS_PER_WORD)

typedef struct heap {
    wee_lock lock;
    cell *sentinel; /* the newest region's sentinel (its end: cell_next) */
    void **regions; /* newest region's base; each base holds the one before */
    wee_stats stats;
    uintptr_t list_bits[LIST_WORDS]; /* bit k set when lists[k] is not empty (and
                                        perhaps when it is: cleared lazily) */
    cell *lists[LIST_COUNT];         /* free cells, doubly linked through cell_links() */
} heap;

_Static_assert(sizeof(heap) <= sizeof(wee_heap), "WEE_HEAP_WORDS holds the heap");

static inline heap *heap_of(wee_heap *h) { return (heap *)(void *)h; }

/* --- Invariant checks (check.c) ---------------------------------------- */

#define WEE_STR2(x) #x
#define WEE_STR(x)  WEE_STR2(x)
#if WEE_EXTRA_ASSERTIONS
#define WEE_ASSERT(c)                                                                              \
    ((c) ? (void)0                                                                                 \
         : wee_fail("wee_alloc: assertion failed: " __FILE__ ":" WEE_STR(__LINE__) ": " #c "\n"))
#else
#define WEE_ASSERT(c) ((void)sizeof(!(c)))
#endif

/* Writes msg through the backend and traps. */
_Noreturn void wee_fail(const char *msg);
/* Counts broken invariants. Quick (full == 0): the first cells of every free
 * list. Full: every free list, and every cell of every region. */
size_t wee_check_locked(heap *h, int full);
/* Fills [from, to) with `fill` (extra-assertion builds). */
void wee_poison(void *from, void *to, int fill);
/* Asserts that [from, to) still holds `fill`: catches writes after free. */
void wee_poison_check(const void *from, const void *to, int fill);

/* --- Free lists (free_list.c) ---------------------------------------- */

/* The list a free cell of `size` bytes belongs on. Lists are ordered by
 * size: every cell on a list is larger than any size that maps to an
 * earlier list. Inlined even at -Oz: every allocation and free computes it,
 * and on wasm32 the call costs more than its body (docs/BENCHMARKS.md). */
__attribute__((always_inline)) static inline size_t list_index(size_t size) {
    if (WEE_SIZE_CLASSES && size <= CLASS_MAX)
        return size / WEE_GRANULE;
    size_t log = FLOOR_LOG2(size);
    size_t k = CLASS_COUNT + 2 * (log - BIN_LOG_MIN) + (size >> (log - 1) & 1);
    return k < LIST_COUNT ? k : LIST_COUNT - 1;
}

/* Returns an allocated cell of at least `size` bytes (a cell size) whose
 * data plus one word is aligned to `align` (a power of two; 16 and below
 * need nothing beyond the cell phase): the first fitting cell on the
 * request's own list, else the first cell of the next non-empty list (the
 * newest region's free last cell only when no other fits), else fresh
 * memory from the backend. NULL when the backend fails. */
cell *wee_cell_alloc_locked(heap *h, size_t size, size_t align);
/* Returns the first of n adjacent allocated cells of `size` bytes (the last
 * may be larger), carved from one free cell; cell_next leads from one to
 * the next. NULL when no free cell holds them: it never grows the heap. */
cell *wee_cell_alloc_run_locked(heap *h, size_t size, size_t n);
/* Frees an allocated cell, merging it with both neighbours when free. */
void wee_cell_free_locked(heap *h, cell *c);
/* Shortens allocated cell `c` to `size` bytes and frees the rest, when the
 * rest makes a cell of its own. */
void wee_cell_shrink_locked(heap *h, cell *c, size_t size);
/* Grows allocated cell `c` in place to at least `size` bytes by taking a free
 * successor. Returns 1 on success. */
int wee_cell_grow_locked(cell *c, size_t size);

/* --- Blocks: the cell API the malloc shim builds on (wee_alloc.c) ------- */

/* A block is a cell's data. wee_block_alloc returns a block of at least
 * `bytes` bytes, bytes <= WEE_BYTES_MAX, with (block + one word) aligned to
 * max(align, 16). NULL when memory is out. */
void *wee_block_alloc(wee_heap *h, size_t bytes, size_t align);
/* Frees a block; `bytes` is the size it was requested with. */
void wee_block_free(wee_heap *h, void *block, size_t bytes);
/* Resizes a block to at least `bytes` (<= WEE_BYTES_MAX): in place when its
 * neighbours allow, otherwise by moving as much of it as the new size holds
 * into a new block aligned as by wee_block_alloc(bytes, align) and freeing
 * the old one. Returns the block, or NULL with the old block untouched. */
void *wee_block_realloc(wee_heap *h, void *block, size_t bytes, size_t align);
/* Usable bytes of a block. */
size_t wee_block_capacity(wee_heap *h, void *block);

/* Batches for a cache of blocks in front of the heap (the shim's thread
 * caches), each under one lock. A cache counts what it serves by itself:
 * allocations and deallocations, and `live`, the bytes of cells it handed
 * out minus those it took back (modulo SIZE_MAX + 1). Each batch hands the
 * counts to the heap's statistics and zeroes them. Cells in a cache count
 * as cached_bytes, cells handed out from it as live_bytes.
 *
 * wee_block_fill makes up to n blocks of `bytes` and links them through
 * their first words into *list (NULL-terminated); returns how many (0 when
 * out of memory). While other threads run, the blocks are one run of
 * adjacent cells, so that two threads' cached blocks share no cache line
 * but at the run's ends. wee_block_drain frees a list linked the same way (NULL:
 * none, to hand in counts only). */
typedef struct wee_cache_counts {
    size_t allocs, deallocs, live;
} wee_cache_counts;

size_t wee_block_fill(wee_heap *h, size_t bytes, size_t n, void **list, wee_cache_counts *counts);
void wee_block_drain(wee_heap *h, void *list, wee_cache_counts *counts);

/* The default heap itself (wee_default_heap() returns it). */
extern wee_heap wee_heap_default;

/* Defined by the shim when it has thread caches: hands the calling thread's
 * counts to the default heap. */
void wee_cache_sync(void) __attribute__((weak));

#endif /* WEE_HEAP_H */
