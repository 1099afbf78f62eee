/*
 * Static-array backend: pages bumped out of one array whose size is fixed at
 * build time (WEE_STATIC_BYTES), for bare metal and deterministic tests. The
 * array is never handed back, so successive grows are always adjacent. The
 * lock spins: bare-metal targets have no scheduler to yield to.
 */
#include "backend_static.h"
#include "backend.h"

#ifndef WEE_STATIC_BYTES
#define WEE_STATIC_BYTES (32u * 1024 * 1024)
#endif
_Static_assert(WEE_STATIC_BYTES % WEE_PAGE_BYTES == 0, "array is whole pages");

static _Alignas(WEE_PAGE_BYTES) unsigned char arena[WEE_STATIC_BYTES];
static atomic_size_t arena_used; /* bytes handed out, from the start */
static long grows_allowed = -1;  /* test hook: grows left before failing; -1 = no limit */

void wee_backend_static_fail_after(long n) { grows_allowed = n < 0 ? -1 : n; }

void wee_backend_static_reset(void) {
    size_t used = atomic_load_explicit(&arena_used, memory_order_relaxed);
    __builtin_memset(arena, 0, used);
    atomic_store_explicit(&arena_used, 0, memory_order_relaxed);
    grows_allowed = -1;
}

/* Heaps grow under their own locks, so several may grow at once: the bump
 * is atomic. The test hook is for single-threaded tests. */
void *wee_backend_grow(size_t bytes) {
    if (grows_allowed == 0)
        return NULL;
    size_t at = atomic_load_explicit(&arena_used, memory_order_relaxed);
    do {
        if (bytes > sizeof arena - at)
            return NULL;
    } while (!atomic_compare_exchange_weak(&arena_used, &at, at + bytes));
    if (grows_allowed > 0)
        grows_allowed--;
    return arena + at;
}

void wee_lock_acquire(wee_lock *lock) {
    while (atomic_exchange_explicit(&lock->state, 1, memory_order_acquire))
        while (atomic_load_explicit(&lock->state, memory_order_relaxed))
            ;
}

void wee_lock_release(wee_lock *lock) {
    atomic_store_explicit(&lock->state, 0, memory_order_release);
}
