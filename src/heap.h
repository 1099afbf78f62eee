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

/* Size classes: one free list per cell size up to CLASS_MAX bytes (256 words
 * of data), indexed by size / WEE_GRANULE, and one main list for larger cells.
 * Without size classes the main list holds every free cell. */
#define CLASS_MAX     ((256 * WEE_WORD + CELL_HEADER + WEE_GRANULE - 1) / WEE_GRANULE * WEE_GRANULE)
#define CLASS_COUNT   (WEE_SIZE_CLASSES ? CLASS_MAX / WEE_GRANULE + 1 : 0)
#define MAIN_LIST     CLASS_COUNT
#define LIST_COUNT    (CLASS_COUNT + 1)
#define BITS_PER_WORD (8 * sizeof(uintptr_t))
#define LIST_WORDS    ((LIST_COUNT + BITS_PER_WORD - 1) / BITS_PER_WORD)

typedef struct heap {
    wee_lock lock;
    char *top;      /* end of the newest region as the backend gave it */
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

/* The list a free cell of `size` bytes belongs on. */
static inline size_t list_index(size_t size) {
    return WEE_SIZE_CLASSES && size <= CLASS_MAX ? size / WEE_GRANULE : MAIN_LIST;
}

/* Returns an allocated cell of at least `size` bytes (a cell size) whose
 * data plus one word is aligned to `align` (a power of two; 16 and below
 * need nothing beyond the cell phase): the best-fitting size class first,
 * then first fit on the main list, then fresh memory from the backend.
 * NULL when the backend fails. */
cell *wee_cell_alloc_locked(heap *h, size_t size, size_t align);
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
 * neighbours allow, otherwise by moving its first min(keep, capacity, bytes)
 * bytes into a new block aligned as by wee_block_alloc(bytes, align) and
 * freeing the old one. Returns the block, or NULL with the old block
 * untouched. */
void *wee_block_realloc(wee_heap *h, void *block, size_t keep, size_t bytes, size_t align);
/* Usable bytes of a block. */
size_t wee_block_capacity(wee_heap *h, void *block);

#endif /* WEE_HEAP_H */
