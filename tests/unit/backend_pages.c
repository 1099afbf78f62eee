/*
 * A native backend that hands out memory the way src/backend_wasm.c does on
 * wasm32, so the whole unit suite can run against wasm's memory layout:
 *
 *  - a linear memory of WEE_STATIC_BYTES (whole 64 KiB pages), of which the
 *    first INITIAL_PAGES exist at the start, like a module's initial memory;
 *  - a simulated __heap_base inside the first page, 16-aligned but not
 *    32-aligned (below it a module keeps its data and stack);
 *  - grows hand out memory from a cursor that starts at the heap base (as on
 *    wasm32 with the malloc shim linked, when no other malloc owns that
 *    memory): first what is left of the initial memory, then whole pages
 *    added at the top by memory_grow() as the cursor passes the end.
 *    Successive grows are adjacent, as on wasm32.
 *
 * wee_backend_pages_fail_after(n) is the test hook of backend_static.c's
 * kind: the next n grows succeed (while the memory lasts), every later one
 * fails, until the next call; n < 0 lifts the limit.
 */
#include <stdint.h>

#include "backend.h"

#define WASM_PAGE     ((size_t)65536)
#define INITIAL_PAGES 2
#define HEAP_BASE     ((size_t)0x5a30) /* 16 * 1443: 16-aligned, not 32-aligned */

#ifndef WEE_STATIC_BYTES
#define WEE_STATIC_BYTES (512 * WASM_PAGE)
#endif
#define MAX_PAGES (WEE_STATIC_BYTES / WASM_PAGE)
_Static_assert(WEE_STATIC_BYTES % WASM_PAGE == 0, "the memory is whole 64 KiB pages");
_Static_assert(MAX_PAGES >= INITIAL_PAGES, "the memory holds the initial pages");
_Static_assert(HEAP_BASE % 16 == 0 && HEAP_BASE % 32 != 0 && HEAP_BASE < WASM_PAGE,
               "the heap base is 16- but not 32-aligned, inside the first page");

static _Alignas(WASM_PAGE) unsigned char memory[WEE_STATIC_BYTES];
static size_t memory_pages = INITIAL_PAGES;
static long grows_allowed = -1; /* test hook: grows left before failing; -1 = no limit */

void wee_backend_pages_fail_after(long n);
void wee_backend_pages_fail_after(long n) { grows_allowed = n < 0 ? -1 : n; }

/* memory.size and memory.grow: the size in pages; the old size, or
 * SIZE_MAX when the memory cannot grow that much. */
static size_t memory_size(void) { return memory_pages; }

static size_t memory_grow(size_t pages) {
    if (pages > MAX_PAGES - memory_pages)
        return SIZE_MAX;
    size_t old = memory_pages;
    memory_pages += pages;
    return old;
}

/* Offsets into the memory, as addresses are on wasm32 (0 is never handed
 * out: it lies below the heap base). */
static size_t cursor; /* start of the memory not handed out yet */
static size_t limit;  /* end of the memory that is ours; 0 before the first grow */
static wee_lock grow_lock;

void *wee_backend_grow(size_t bytes) {
    wee_lock_acquire(&grow_lock);
    size_t end = memory_size() * WASM_PAGE, at = cursor, top = limit;
    if (grows_allowed == 0) {
        at = 0;
    } else {
        if (end != top) /* the first grow (nothing else grows this memory) */
            at = top ? end : HEAP_BASE;
        if (end - at < bytes) {
            size_t pages = (bytes - (end - at) + WASM_PAGE - 1) / WASM_PAGE;
            if (memory_grow(pages) == SIZE_MAX)
                at = 0;
            end += pages * WASM_PAGE;
        }
    }
    if (at) {
        cursor = at + bytes;
        limit = end;
        if (grows_allowed > 0)
            grows_allowed--;
    }
    wee_lock_release(&grow_lock);
    return at ? memory + at : NULL;
}

/* Heaps of several threads may grow at once: the lock spins, as the
 * wasm32 backend's does when built with threads. */
void wee_lock_acquire(wee_lock *lock) {
    while (atomic_exchange_explicit(&lock->state, 1, memory_order_acquire))
        while (atomic_load_explicit(&lock->state, memory_order_relaxed))
            ;
}

void wee_lock_release(wee_lock *lock) {
    atomic_store_explicit(&lock->state, 0, memory_order_release);
}
