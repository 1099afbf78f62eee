/*
 * The backend seam: everything the core needs from its platform.
 *
 * Exactly one backend_*.c is compiled, chosen by CMake (WEE_BACKEND); the
 * core includes no platform header. A backend supplies pages, the heap lock,
 * and a way to die loudly when extra assertions find a broken invariant.
 */
#ifndef WEE_BACKEND_H
#define WEE_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Page size in bytes, set by the build for the chosen backend. */
#ifndef WEE_PAGE_BYTES
#error "WEE_PAGE_BYTES must be defined by the build"
#endif

#ifndef WEE_SINGLE_THREADED
#define WEE_SINGLE_THREADED 0
#endif

/* Smallest amount the core asks of the backend at once, in bytes. */
#ifndef WEE_GROW_MIN_BYTES
#define WEE_GROW_MIN_BYTES (64 * 1024)
#endif

_Static_assert((WEE_PAGE_BYTES & (WEE_PAGE_BYTES - 1)) == 0, "page size is a power of two");
_Static_assert(WEE_GROW_MIN_BYTES % WEE_PAGE_BYTES == 0, "grow minimum is whole pages");

/*
 * Returns `bytes` bytes of fresh, zero-filled memory aligned to 16 bytes
 * (`bytes` is a non-zero multiple of WEE_PAGE_BYTES), or NULL when no more
 * memory can be had. Successive grows should return adjacent memory where
 * the platform allows: the heap then extends its newest region. Called with
 * a heap lock held. Never allocates through the heap.
 */
void *wee_backend_grow(size_t bytes);

/*
 * Giving memory back (WEE_BACKEND_RELEASES, set by the build for backends
 * that can: unix). Without it none of these exists and the core compiles
 * out everything that would call them: memory.grow cannot shrink, and a
 * static array has nothing to give back to.
 */
#ifndef WEE_BACKEND_RELEASES
#define WEE_BACKEND_RELEASES 0
#endif
#if WEE_BACKEND_RELEASES
/* A mapping of its own for one large block: `bytes` (a multiple of
 * WEE_PAGE_BYTES) of zero-filled memory aligned to WEE_PAGE_BYTES, or NULL.
 * Called without any lock held. */
void *wee_backend_map(size_t bytes);
/* Gives a mapping from wee_backend_map() (or _remap()) back, whole. */
void wee_backend_unmap(void *base, size_t bytes);
/* Resizes a mapping from `old_bytes` to `new_bytes` (multiples of
 * WEE_PAGE_BYTES), keeping its contents; the memory added reads as zero.
 * Returns its base, which may have moved, or NULL with the old mapping
 * intact. */
void *wee_backend_remap(void *base, size_t old_bytes, size_t new_bytes);
/* Hands a mapping from wee_backend_map() (or _remap()), `bytes` long, over
 * to the heap, contents kept: where the platform can, its pages move to
 * where the next grow would start, so that the heap extends its newest
 * region with them. Returns where they are (`base` when they stayed).
 * Called with a heap lock held. */
void *wee_backend_adopt(void *base, size_t bytes);
/* Tells the system that the whole pages [addr, addr + bytes) hold nothing:
 * they stay reserved and usable, read as zero afterwards, and stop counting
 * in the process's resident memory. Called with a heap lock held. */
void wee_backend_release(void *addr, size_t bytes);
/* A monotonic clock in milliseconds, cheap enough to read every few dozen
 * frees. */
uint64_t wee_backend_clock_ms(void);
#endif

/* The heap lock. All-zero bits are the unlocked state, so zero-filled heaps
 * are ready to use. */
typedef struct wee_lock {
    atomic_int state;
} wee_lock;

#if WEE_SINGLE_THREADED
/* A build for a platform without threads (wasm32 without atomics) has
 * nothing to lock. */
static inline void wee_lock_acquire(wee_lock *lock) { (void)lock; }
static inline void wee_lock_release(wee_lock *lock) { (void)lock; }
#else
/* Takes the lock, waiting as long as needed. Not recursive. */
void wee_lock_acquire(wee_lock *lock);
/* Releases a lock held by the caller. */
void wee_lock_release(wee_lock *lock);
#endif

/* Reports a broken invariant: writes `msg` (len bytes, no allocation, no
 * stdio) where the platform can show it, then traps. */
_Noreturn void wee_backend_fatal(const char *msg, size_t len);

#endif /* WEE_BACKEND_H */
