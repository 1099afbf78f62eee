/*
 * Unix backend: pages from anonymous mmap; a spin lock that yields to the
 * scheduler while it waits, and costs no atomic read-modify-write while the
 * process has a single thread (glibc's __libc_single_threaded).
 *
 * Address space is reserved once (PROT_NONE, so it costs nothing until used)
 * and handed out from its start with mprotect, so successive grows are
 * adjacent and the heap extends one region instead of starting new ones.
 * When the reservation cannot be made or is used up, each grow is a mapping
 * of its own.
 *
 * Large blocks get mappings of their own (wee_backend_map), resized with
 * mremap where the system has it; free pages inside the heap are released
 * with madvise(MADV_DONTNEED) and stay reserved.
 */
#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "backend.h"

/* ONLY_THREAD(): true while the process has a single thread, as glibc tells
 * through __libc_single_threaded; elsewhere always false (assume threads).
 * Nothing can make the process multi-threaded from inside the allocator, so
 * code that holds a lock taken under ONLY_THREAD() stays alone until it
 * releases it. */
#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define ONLY_THREAD() (__libc_single_threaded != 0)
#endif
#endif
#ifndef ONLY_THREAD
#define ONLY_THREAD() 0
#endif

#define RESERVE_BYTES ((size_t)1 << (sizeof(void *) > 4 ? 36 : 28))

/* The reservation: 0 before the first grow, 1 when it could not be made. */
static atomic_uintptr_t reserve_base;
static atomic_size_t reserve_used; /* bytes of it handed out */

static char *reservation(void) {
    uintptr_t base = atomic_load_explicit(&reserve_base, memory_order_acquire);
    if (base == 0) {
        void *p = mmap(NULL, RESERVE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
        uintptr_t mine = p == MAP_FAILED ? 1 : (uintptr_t)p;
        if (atomic_compare_exchange_strong(&reserve_base, &base, mine))
            base = mine;
        else if (p != MAP_FAILED)
            munmap(p, RESERVE_BYTES); /* another heap reserved first */
    }
    return base == 1 ? NULL : (char *)base;
}

void *wee_backend_grow(size_t bytes) {
    char *base = reservation();
    size_t at = atomic_load_explicit(&reserve_used, memory_order_relaxed);
    while (base && bytes <= RESERVE_BYTES && at <= RESERVE_BYTES - bytes) {
        if (atomic_compare_exchange_weak(&reserve_used, &at, at + bytes)) {
            if (mprotect(base + at, bytes, PROT_READ | PROT_WRITE) == 0)
                return base + at;
            break;
        }
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* While there is one thread, nothing can contend: the lock is taken with a
 * plain store. A process becomes multi-threaded only through a call the
 * lock's holder does not make while holding it, and releasing is the same
 * store either way. */
void wee_lock_acquire(wee_lock *lock) {
    if (ONLY_THREAD()) {
        atomic_store_explicit(&lock->state, 1, memory_order_relaxed);
        return;
    }
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

#if WEE_BACKEND_RELEASES
void *wee_backend_map(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* free() leaves errno alone: so do the calls it can reach. */
void wee_backend_unmap(void *base, size_t bytes) {
    int saved = errno;
    munmap(base, bytes);
    errno = saved;
}

/* mremap moves the pages (their page table entries: no copy, no fault
 * later) into the reservation, where wee_backend_grow would hand out the
 * next bytes. When the reservation is used up or the move fails, the
 * mapping stays where it is (a region of its own); a failed move leaves its
 * part of the reservation unused. */
void *wee_backend_adopt(void *base, size_t bytes) {
#ifdef MREMAP_FIXED
    char *r = reservation();
    size_t at = atomic_load_explicit(&reserve_used, memory_order_relaxed);
    while (r && bytes <= RESERVE_BYTES && at <= RESERVE_BYTES - bytes) {
        if (atomic_compare_exchange_weak(&reserve_used, &at, at + bytes)) {
            void *p = mremap(base, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, r + at);
            return p == MAP_FAILED ? base : p;
        }
    }
#else
    (void)bytes;
#endif
    return base;
}

/* mremap moves the pages, not their contents; elsewhere a shrink unmaps the
 * tail and a growth copies. */
void *wee_backend_remap(void *base, size_t old_bytes, size_t new_bytes) {
#ifdef MREMAP_MAYMOVE
    void *p = mremap(base, old_bytes, new_bytes, MREMAP_MAYMOVE);
    return p == MAP_FAILED ? NULL : p;
#else
    if (new_bytes <= old_bytes) {
        if (new_bytes < old_bytes)
            munmap((char *)base + new_bytes, old_bytes - new_bytes);
        return base;
    }
    void *p = wee_backend_map(new_bytes);
    if (p) {
        memcpy(p, base, old_bytes);
        munmap(base, old_bytes);
    }
    return p;
#endif
}

/* MADV_DONTNEED rather than MADV_FREE: the pages leave the resident set at
 * once (MADV_FREE leaves them counted until the system runs short), and they
 * read as zero afterwards, which calloc relies on. */
void wee_backend_release(void *addr, size_t bytes) {
    int saved = errno;
    madvise(addr, bytes, MADV_DONTNEED);
    errno = saved;
}

uint64_t wee_backend_clock_ms(void) {
    struct timespec t;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
#else
    clock_gettime(CLOCK_MONOTONIC, &t);
#endif
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}
#endif
