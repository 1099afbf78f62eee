/*
 * src/backend_wasm.c itself, compiled natively over a fake linear memory, so
 * that the whole unit suite runs on the real wasm32 backend and wasm's
 * memory layout:
 *
 *  - a linear memory of WEE_STATIC_BYTES (whole 64 KiB pages) in a static
 *    array aligned to 64 KiB; memory.size counts pages from address 0, as
 *    if the pages below the array existed, so that the backend's addresses
 *    (page number times 64 KiB) are real pointers into the array;
 *  - INITIAL_PAGES of it exist at the start, like a module's initial
 *    memory; memory.grow adds pages at the top and fails when the array is
 *    full, returning SIZE_MAX as the instruction returns -1;
 *  - __heap_base lies inside the first page, 16-aligned but not 32-aligned
 *    (below it a module keeps its data and stack).
 *
 * The backend takes the memory above __heap_base only when it may
 * (WEE_BACKEND_OWNS_HEAP_BASE: the malloc shim is linked, no other malloc
 * shares the memory), which src/backend_wasm.c learns at build time.
 *
 * wee_backend_pages_fail_after(n) is the test hook of backend_static.c's
 * kind: the next n backend grows succeed (while the memory lasts), every
 * later one fails, until the next call; n < 0 lifts the limit.
 * wee_backend_pages_memory_grow(pages) grows the memory as another part of
 * the program would; wee_backend_pages_heap_base() is the fake __heap_base.
 */
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define FAKE_PAGE     ((size_t)65536)
#define INITIAL_PAGES 2
#define HEAP_BASE     ((size_t)0x5a30) /* 16 * 1443: 16-aligned, not 32-aligned */

#ifndef WEE_STATIC_BYTES
#define WEE_STATIC_BYTES (512 * FAKE_PAGE)
#endif
#define MAX_PAGES (WEE_STATIC_BYTES / FAKE_PAGE)
_Static_assert(WEE_STATIC_BYTES % FAKE_PAGE == 0, "the memory is whole 64 KiB pages");
_Static_assert(MAX_PAGES >= INITIAL_PAGES, "the memory holds the initial pages");
_Static_assert(HEAP_BASE % 16 == 0 && HEAP_BASE % 32 != 0 && HEAP_BASE < FAKE_PAGE,
               "the heap base is 16- but not 32-aligned, inside the first page");

/* The backend may use the initial memory above __heap_base, as in
 * libwee_malloc, whatever the core objects' settings say. */
#undef WEE_BACKEND_OWNS_HEAP_BASE
#define WEE_BACKEND_OWNS_HEAP_BASE 1
static _Alignas(FAKE_PAGE) unsigned char memory[WEE_STATIC_BYTES];
static size_t memory_pages = INITIAL_PAGES;
static unsigned char *fake_heap_base = memory + HEAP_BASE;

/* Pages below the array, counted by memory.size as if they were there. */
static size_t pages_below(void) { return (size_t)((uintptr_t)memory / FAKE_PAGE); }

static size_t fake_memory_size(int index) {
    (void)index;
    return pages_below() + memory_pages;
}

static size_t fake_memory_grow(int index, size_t pages) {
    (void)index;
    if (pages > MAX_PAGES - memory_pages)
        return SIZE_MAX;
    size_t old = fake_memory_size(0);
    memory_pages += pages;
    return old;
}

/* What the backend sees of the platform. The macros also rename its
 * wee_backend_grow, wrapped below by the test hook. */
#define __builtin_wasm_memory_size(index)        fake_memory_size(index)
#define __builtin_wasm_memory_grow(index, pages) fake_memory_grow(index, pages)
#define __heap_base                              (*fake_heap_base)
#define wee_backend_grow                         wasm_backend_grow

#include "../../src/backend_wasm.c"

#undef wee_backend_grow
#undef __heap_base
#undef __builtin_wasm_memory_grow
#undef __builtin_wasm_memory_size

static long grows_allowed = -1; /* grows left before failing; -1 = no limit */

void wee_backend_pages_fail_after(long n);
void wee_backend_pages_fail_after(long n) { grows_allowed = n < 0 ? -1 : n; }

size_t wee_backend_pages_memory_grow(size_t pages);
size_t wee_backend_pages_memory_grow(size_t pages) { return fake_memory_grow(0, pages); }

void *wee_backend_pages_heap_base(void);
void *wee_backend_pages_heap_base(void) { return fake_heap_base; }

void *wee_backend_grow(size_t bytes) {
    if (grows_allowed == 0)
        return NULL;
    void *p = wasm_backend_grow(bytes);
    if (p && grows_allowed > 0)
        grows_allowed--;
    return p;
}
