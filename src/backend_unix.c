/*
 * Unix backend: pages from anonymous mmap, a spin lock that yields to the
 * scheduler while it waits. Each mapping is asked for right after the last
 * one, so that successive grows usually extend one region.
 */
#define _DEFAULT_SOURCE
#include <sched.h>
#include <sys/mman.h>

#include "backend.h"

static char *next_hint; /* end of the last mapping; guarded by the heap lock */

void *wee_backend_grow(size_t *bytes) {
    void *p = mmap(next_hint, *bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    next_hint = (char *)p + *bytes;
    return p;
}

void wee_lock_acquire(wee_lock *lock) {
    unsigned spins = 0;
    while (atomic_exchange_explicit(&lock->state, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&lock->state, memory_order_relaxed))
            if (++spins > 64)
                sched_yield();
    }
}

void wee_lock_release(wee_lock *lock) {
    atomic_store_explicit(&lock->state, 0, memory_order_release);
}
