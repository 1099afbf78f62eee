/*
 * wasm32 backend: pages from memory.grow.
 *
 * Grows hand out memory from a cursor that starts at __heap_base (the
 * linker's layout puts data and stack below it): first what is left of the
 * initial memory, then pages asked of memory.grow as the cursor passes the
 * end. That initial memory is ours only when the malloc shim is linked:
 * otherwise wasi-libc's own malloc takes it, and the cursor starts at the
 * memory's end. The build says which: libwee_malloc's backend is compiled
 * with WEE_BACKEND_OWNS_HEAP_BASE=1, libwee_alloc's without. Successive grows are therefore
 * adjacent and the core extends its last region instead of starting new ones. Memory another party
 * grew (a program calling memory.grow itself) is skipped, never handed out.
 *
 * Without threads (WEE_THREADS=OFF, the default for wasm32) nothing runs
 * concurrently and the lock is empty (backend.h); compiling such a build
 * with -pthread is an error. With WEE_THREADS=ON (wasi-threads, atomics)
 * the lock spins, and grows take a lock of their own since several heaps
 * may grow at once.
 */
#include <stdint.h>

#include "backend.h"

#define WASM_PAGE ((size_t)65536)

#ifndef WEE_BACKEND_OWNS_HEAP_BASE
#define WEE_BACKEND_OWNS_HEAP_BASE 0
#endif

extern unsigned char __heap_base;

static uintptr_t cursor; /* start of the memory not handed out yet */
static uintptr_t limit;  /* end of the memory that is ours; 0 before the first grow */

#if WEE_SINGLE_THREADED
#ifdef __wasm_atomics__
#error "built with threads (-pthread) for a single-threaded heap: configure with -DWEE_THREADS=ON"
#endif
#define GROW_LOCK()   ((void)0)
#define GROW_UNLOCK() ((void)0)
#else
static wee_lock grow_lock;
#define GROW_LOCK()   wee_lock_acquire(&grow_lock)
#define GROW_UNLOCK() wee_lock_release(&grow_lock)

void wee_lock_acquire(wee_lock *lock) {
    while (atomic_exchange_explicit(&lock->state, 1, memory_order_acquire))
        while (atomic_load_explicit(&lock->state, memory_order_relaxed))
            ;
}

void wee_lock_release(wee_lock *lock) {
    atomic_store_explicit(&lock->state, 0, memory_order_release);
}
#endif

void *wee_backend_grow(size_t bytes) {
    GROW_LOCK();
    uintptr_t end = __builtin_wasm_memory_size(0) * WASM_PAGE, at = cursor, top = limit;
    if (end != top) /* the first grow, or memory.grow was called by someone else */
        at = top || !WEE_BACKEND_OWNS_HEAP_BASE ? end
                                                : ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    if (end - at < bytes) {
        size_t pages = (bytes - (end - at) + WASM_PAGE - 1) / WASM_PAGE;
        if (__builtin_wasm_memory_grow(0, pages) == SIZE_MAX)
            at = 0;
        end += pages * WASM_PAGE;
    }
    if (at) {
        cursor = at + bytes;
        limit = end;
    }
    GROW_UNLOCK();
    return (void *)at;
}
