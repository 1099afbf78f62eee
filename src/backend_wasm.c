/*
 * wasm32 backend: pages from memory.grow.
 *
 * The first grow hands out the memory between __heap_base and the end of the
 * initial memory (the linker's layout puts data and stack below
 * __heap_base); every grow after that asks memory.grow for just enough
 * 64 KiB pages and returns them together with whatever the last grow left at
 * the top, so the heap's regions stay contiguous and the core extends its
 * last region instead of starting new ones. Memory another party grew in
 * between (a program calling memory.grow itself) is skipped.
 *
 * Without threads (the default) nothing can run concurrently and the lock
 * is empty. Built with -pthread (atomics), the lock spins, and grows take a
 * lock of their own since several heaps may grow at once.
 */
#include <stdint.h>

#include "backend.h"

#define WASM_PAGE ((size_t)65536)

extern unsigned char __heap_base;

static uintptr_t grown_to; /* end of the memory handed out; 0 before the first grow */

#ifdef __wasm_atomics__
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
#else
#define GROW_LOCK()   ((void)0)
#define GROW_UNLOCK() ((void)0)

void wee_lock_acquire(wee_lock *lock) { (void)lock; }

void wee_lock_release(wee_lock *lock) { (void)lock; }
#endif

void *wee_backend_grow(size_t *bytes) {
    GROW_LOCK();
    uintptr_t end = __builtin_wasm_memory_size(0) * WASM_PAGE;
    uintptr_t base = grown_to ? grown_to : ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    if (grown_to && end != grown_to)
        base = end; /* memory.grow was called by someone else */
    if (end - base < *bytes) {
        size_t pages = (*bytes - (end - base) + WASM_PAGE - 1) / WASM_PAGE;
        if (__builtin_wasm_memory_grow(0, pages) == SIZE_MAX) {
            GROW_UNLOCK();
            return NULL;
        }
        end += pages * WASM_PAGE;
    }
    grown_to = end;
    *bytes = end - base;
    GROW_UNLOCK();
    return (void *)base;
}
