/*
 * The heap's state and the functions the core's files share.
 *
 * Two allocators share one heap and its lock:
 *
 *  - runs (run.c) serve small blocks, up to SMALL_MAX bytes with alignment
 *    up to 16. A run is one cell of RUN_BYTES whose data starts one word
 *    below a RUN_BYTES boundary; it holds slots of one size class, carries
 *    no per-slot header, and is found from a slot's address by rounding
 *    down to that boundary. The class comes from the size the caller frees
 *    with, so a slot needs no header at all;
 *  - cells (cell.h, free_list.c) serve everything else and the runs
 *    themselves: boundary-tagged blocks on segregated free lists with a
 *    bitmap, good fit in O(1), merged with both neighbours on free.
 *
 * Everything here is internal (hidden visibility). Functions whose name ends
 * in _locked must be called with the heap's lock held.
 */
#ifndef WEE_HEAP_H
#define WEE_HEAP_H

#include "cell.h"
#include "wee_alloc.h"

#ifndef WEE_EXTRA_ASSERTIONS
#define WEE_EXTRA_ASSERTIONS 0
#endif
/* The smallest build (WEE_TINY, the default of MinSizeRel builds) leaves
 * out the runs, so that every block is a cell, and resizes no cell in
 * place: realloc keeps a cell that still holds the new size as it is, and
 * moves it otherwise (an eighth larger than asked when it grows). */
#ifndef WEE_TINY
#define WEE_TINY 0
#endif
#define WEE_RUNS (!WEE_TINY)
/* Counters beyond the basic ones (requested bytes, reallocs, the peak of
 * memory held): on by default, off in the smallest build (CMake's
 * WEE_INTROSPECT). */
#ifndef WEE_INTROSPECT
#define WEE_INTROSPECT 0
#endif
/* Hardened builds (every native build by default; not the wasm32 one, for
 * its size) check each block handed back for a few instructions and end
 * the process on a misuse they see (misuse.c). */
#ifndef WEE_HARDEN
#define WEE_HARDEN 0
#endif
/* Large blocks in mappings of their own, and free pages given back to the
 * system (release.c): only where the backend can (unix). */
#define WEE_RELEASES WEE_BACKEND_RELEASES

/* For paths that run once in many operations (growing the heap, making a
 * run), and for a search that several paths share: kept out of line so
 * that the code stays small at -O2 too (the smallest build leaves such
 * choices to -Oz). */
#if WEE_TINY
#define WEE_COLD
#define WEE_OUT_OF_LINE
#else
#define WEE_COLD        __attribute__((noinline, cold))
#define WEE_OUT_OF_LINE __attribute__((noinline))
#endif

#define BITS_PER_WORD (8 * sizeof(uintptr_t))
#define FLOOR_LOG2(x) (BITS_PER_WORD - 1 - (size_t)__builtin_clzl(x))

/* --- Small blocks: runs of slots (run.c) ------------------------------ */

/* Blocks of up to SMALL_MAX bytes (alignment 16 or less) are slots; slot
 * sizes are the multiples of 16 up to it, one class each. */
#define SMALL_MAX   ((size_t)512)
#define CLASS_COUNT (SMALL_MAX / WEE_GRANULE)
/* A run: one cell of RUN_BYTES, its data one word below a multiple of
 * RUN_BYTES, where the run's header starts. */
#define RUN_BYTES ((size_t)4096)

/* A run's header, at a multiple of RUN_BYTES. Invariants: `used` slots are
 * handed out and the others are on `free`; the run is on its class's list
 * exactly when `free` is not empty. */
typedef struct run {
    void *free;         /* free slots, linked through their first words */
    struct run *next;   /* next run of the class with free slots */
    struct run **pprev; /* the slot that points at this run */
    uint32_t used;      /* slots handed out */
    uint32_t slot;      /* slot size in bytes */
} run;

/* The word in front of a run's header (its cell's first data word) holds
 * the heap's run mark, so that a heap walk (walk.c) tells runs from other
 * cells of their size and alignment; cleared when the run goes. */
#define RUN_MARK(h) ((uintptr_t)(h) ^ (uintptr_t)0x52554e5f6d61726bULL)

/* The first slot's offset from the run header: slot + one word is
 * 16-aligned, like every cell's data. */
#define RUN_FIRST (((sizeof(run) + WEE_WORD + WEE_GRANULE - 1) & ~(WEE_GRANULE - 1)) - WEE_WORD)
/* The end of a run's slots, from its header: the run cell's end. */
#define RUN_END (RUN_BYTES - CELL_HEADER - WEE_WORD)

_Static_assert((RUN_BYTES & (RUN_BYTES - 1)) == 0, "runs are found by rounding down");
_Static_assert(RUN_FIRST + 4 * SMALL_MAX <= RUN_END, "a run holds four of the largest slots");

/* --- Large blocks: free lists of cells (free_list.c) ------------------ */

/* Lists by size range: LIST_SUB lists per power of two from CELL_MIN, and a
 * last one for everything from 2^(LIST_LOG_MIN + LIST_LEVELS) up. Every cell on list k is at least
 * list_floor(k) bytes. */
#define LIST_SUB_LOG 2
#define LIST_SUB     ((size_t)1 << LIST_SUB_LOG)
#define LIST_LOG_MIN FLOOR_LOG2(CELL_MIN)
#define LIST_LEVELS  (sizeof(void *) > 4 ? 32 : 27)
#define LIST_COUNT   (LIST_SUB * LIST_LEVELS + 1)
#define LIST_WORDS   ((LIST_COUNT + BITS_PER_WORD - 1) / BITS_PER_WORD)

typedef struct heap {
    wee_lock lock;
    cell *sentinel; /* the newest region's sentinel (its end: cell_next) */
    void **regions; /* newest region's base; each base holds the one before */
    wee_stats stats;
    size_t run_bytes;                /* bytes of cells that are runs */
    size_t slot_bytes;               /* bytes of slots handed out (in live_bytes too) */
    size_t slot_room;                /* bytes of all slots of all runs */
    run *runs[CLASS_COUNT + 1];      /* per class (index: slot / 16), runs with free slots */
    uintptr_t list_bits[LIST_WORDS]; /* bit k set when lists[k] is not empty (and
                                        perhaps when it is: cleared lazily) */
    cell *lists[LIST_COUNT];         /* free cells, doubly linked through cell_links() */
    uintptr_t lo, hi; /* lowest and highest address of any region (hardened builds) */
#if WEE_RELEASES
    struct large_links *large;    /* the large blocks, each a mapping of its own (release.c) */
    atomic_size_t mmap_threshold; /* large blocks from this many bytes (0: the default) */
    size_t mmap_fixed;            /* 1 when an option set the threshold: it stays */
    size_t mapped_bytes;          /* bytes of large blocks' own mappings */
    size_t decay_ms;              /* the decay plus one (0: the default) */
    size_t dirty_bytes;           /* bytes freed to the cells since the last release, or seen by the
                                     last aging and not released yet */
    uint64_t released_ms;         /* when free pages were last released or aged */
    uintptr_t zero_from, zero_to; /* released pages inside one free cell, untouched since */
#endif
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
/* Writes "wee_alloc: <what>: 0x<addr>" through the backend and traps. */
_Noreturn void wee_fail_at(const char *what, const void *addr);
/* Whether a block handed back with `bytes` (its pad included), `align` and
 * slot class k (0: a cell) is one the heap handed out and has not taken
 * back: the thorough check of extra-assertion builds (misuse.c). */
int wee_block_sound_locked(heap *h, void *block, size_t bytes, size_t align, size_t k);
/* Ends the process with a message naming what is wrong with the block at
 * `ptr` (the caller's pointer), which a check refused (misuse.c). */
__attribute__((cold)) _Noreturn void wee_misuse_locked(heap *h, void *ptr, size_t bytes,
                                                       size_t align, size_t k);
/* Counts broken invariants. Quick (full == 0): the first cells of every free
 * list and the first runs of every class. Full: every free list, every run
 * with free slots, and every cell of every region. */
size_t wee_check_locked(heap *h, int full);
/* Fills [from, to) with `fill` (extra-assertion builds). */
void wee_poison(void *from, void *to, int fill);
/* Asserts that [from, to) still holds `fill`: catches writes after free. */
void wee_poison_check(const void *from, const void *to, int fill);

/* --- Cells (free_list.c) ----------------------------------------------- */

/* The list a free cell of `size` bytes belongs on. */
__attribute__((always_inline)) static inline size_t list_index(size_t size) {
    size_t log = FLOOR_LOG2(size);
    size_t k = LIST_SUB * (log - LIST_LOG_MIN) + (size >> (log - LIST_SUB_LOG) & (LIST_SUB - 1));
    return k < LIST_COUNT ? k : LIST_COUNT - 1;
}

/* Returns an allocated cell of at least `size` bytes (a cell size) whose
 * data plus one word is aligned to `align` (a power of two; 16 and below
 * need nothing beyond the cell phase), or NULL when the backend fails. */
cell *wee_cell_alloc_locked(heap *h, size_t size, size_t align);
/* Frees an allocated cell, merging it with both neighbours when free. */
void wee_cell_free_locked(heap *h, cell *c);
/* Shortens allocated cell `c` to `size` bytes and frees the rest, when the
 * rest makes a cell of its own. */
void wee_cell_shrink_locked(heap *h, cell *c, size_t size);
/* Grows allocated cell `c` in place to at least `size` bytes by taking a free
 * successor. Returns 1 on success. */
int wee_cell_grow_locked(cell *c, size_t size);

/* Adds `bytes` (whole pages) at `base`, page-aligned, to the heap as a
 * free cell: the newest region's growth when it follows that region (`s`
 * is h->sentinel), else a new region. Shared with release.c, where the
 * heap takes a freed large block's pages; the cell code's own otherwise. */
#if WEE_RELEASES
#define HEAP_ADD
void wee_heap_add_locked(heap *h, cell *s, char *base, size_t bytes);
#else
#define HEAP_ADD static
#endif

/* --- Slots (run.c) ----------------------------------------------------- */

/* The class of a small block of `bytes` (1 to SMALL_MAX): its slot size / 16. */
static inline size_t class_of(size_t bytes) { return (bytes + WEE_GRANULE - 1) / WEE_GRANULE; }
/* A free slot of class k, or NULL when the backend fails. */
void *wee_slot_alloc_locked(heap *h, size_t k);
/* Frees a slot of class k; a run left empty goes back to the cells unless
 * it is the class's last run with free slots. */
void wee_slot_free_locked(heap *h, void *slot, size_t k);
/* Safe-linking (hardened builds): a free slot's link to the next one is
 * stored xor the slot's run number (its address / RUN_BYTES), so a pointer
 * written over it by a use after free comes out as an address outside the
 * run, which taking the slot checks for (wee_slot_alloc_locked). */
static inline uintptr_t slot_key(const void *s) {
    return WEE_HARDEN ? (uintptr_t)s / RUN_BYTES : 0;
}
/* The free slot after free slot s on its run's list. */
static inline void *slot_next(const void *s) {
    return (void *)(*(const uintptr_t *)s ^ slot_key(s));
}
/* Links free slot s to `next` (NULL: the end of the list). */
static inline void slot_set_next(void *s, void *next) {
    *(uintptr_t *)s = (uintptr_t)next ^ slot_key(s);
}
/* The run holding a slot. */
static inline run *run_of(const void *slot) {
    return (run *)((uintptr_t)slot & ~(uintptr_t)(RUN_BYTES - 1));
}

/* --- Giving memory back (release.c; WEE_RELEASES builds) --------------- */

#if WEE_RELEASES
/* At the base of each large block's mapping: the heap's list of large
 * blocks, which wee_heap_walk() visits after the regions. */
typedef struct large_links {
    struct large_links *next, **pprev;
    cell *block; /* the large block's cell header */
} large_links;
/* Blocks of at least this many bytes (pad included) are large. */
size_t wee_large_threshold(heap *h);
/* A large block is a mapping of its own that starts with a cell header
 * tagged CELL_ALLOCATED | CELL_LAST, like a sentinel, which no block handed
 * out from a region ever is: `next` is the mapping's end, `prev` its base.
 * The cell code never sees such a cell. */
static inline int cell_is_mapped(const cell *c) { return (c->next & CELL_TAGS) == CELL_TAGS; }
/* Where a free cell of a page or more keeps the mark that its pages are
 * released: its third data word, after the list links. */
static inline uintptr_t *cell_release_mark(cell *c) {
    return (uintptr_t *)(void *)(cell_links(c) + 1);
}
/* Whether a free cell of at least `size` bytes (a cell size) is there, the
 * top included: one the heap can hand out without growing. */
int wee_cell_fits_locked(heap *h, size_t size);
/* Whether a block of `bytes` (pad included) with `align` is large. */
static inline int large_wanted(heap *h, size_t bytes, size_t align) {
    return bytes > SMALL_MAX && align <= WEE_PAGE_BYTES && bytes >= wee_large_threshold(h);
}
/* A large block of `bytes` whose data plus one word is aligned to `align`
 * (at most WEE_PAGE_BYTES): its cell's data, or NULL. Takes the lock. */
char *wee_large_alloc(heap *h, size_t bytes, size_t align);
/* Unmaps large block `c`. Takes the lock. */
void wee_large_free(heap *h, cell *c);
/* Resizes large block `c` to hold `bytes`: its cell's data, perhaps moved,
 * or NULL with the block intact. Takes the lock. */
char *wee_large_resize(heap *h, cell *c, size_t bytes);
/* After a free that gave `freed` bytes back to the cells: releases the free
 * pages when the decay says so. */
void wee_release_freed_locked(heap *h, size_t freed);
/* Memory [from, to) is handed out (or written): it leaves the known-zero
 * range, with the page that holds the header and links of a cell that may
 * follow it. */
void wee_zero_taken_locked(heap *h, char *from, char *to);
/* Releases the whole, aligned blocks of `unit` bytes (a power of two, a
 * page or more) inside every free cell, but `pad` bytes at the top; returns
 * how many bytes it released. */
size_t wee_release_locked(heap *h, size_t pad, size_t unit);
#define HEAP_MAPPED_BYTES(h) ((h)->mapped_bytes)
#else
#define HEAP_MAPPED_BYTES(h) ((size_t)0)
#endif

/* The default heap itself (wee_default_heap() returns it). */
extern wee_heap wee_heap_default;

#endif /* WEE_HEAP_H */
