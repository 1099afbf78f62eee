/*
 * The libc allocation functions over the sized core.
 *
 * Every pointer handed out is preceded by one hidden word holding the size
 * it was requested with, so free() can give the core its size back:
 *
 *     cell header (2 words) | size word | user data ...
 *                                       ^ pointer returned, 16-aligned
 *
 * The core places every cell's data one word below a 16-byte boundary, so
 * the prefixed pointer is aligned to alignof(max_align_t) (16) while small
 * requests still come from the O(1) size classes. Larger alignments ask the
 * core for a block whose data plus one word is so aligned.
 *
 * Failures follow C11/POSIX: NULL and errno = ENOMEM on exhaustion or size
 * overflow, EINVAL for an alignment that is not a power of two; a failed
 * realloc leaves the old block untouched; free() never changes errno.
 * Defining WEE_SHIM_PREFIX renames every function to wee_shim_NAME, so the
 * shim can be tested beside another malloc (for sanitizer runs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cache.h"
#include "heap.h"
#include "shim.h"

#ifdef WEE_SHIM_PREFIX
#define WEE_SHIM(name) wee_shim_##name
#else
#define WEE_SHIM(name) name
#endif

#define SHIM_ALIGN WEE_GRANULE /* alignof(max_align_t) on the targets we serve */

static size_t *prefix_of(void *ptr) { return (size_t *)ptr - 1; }

/* The user's pointer into `block` (NULL for none), with the size recorded
 * in front of it. */
static void *shim_user(size_t *block, size_t size) {
    if (!block)
        return NULL;
    *block = size;
    return block + 1;
}

/* A pointer, or NULL with errno ENOMEM. */
static void *shim_enomem(void *ptr) {
    if (!ptr)
        errno = ENOMEM;
    return ptr;
}

/* A block for `size` bytes aligned to `align` (16 or more) with the size
 * recorded in front: returns the user's pointer, or NULL with errno ENOMEM. */
static void *shim_alloc(size_t size, size_t align) {
    size_t *block = NULL;
    if (size <= WEE_BYTES_MAX && align <= WEE_ALIGN_MAX) {
        if (align <= WEE_GRANULE)
            block = wee_cache_take(cell_size_for(size + WEE_WORD));
        if (!block)
            block = wee_block_alloc(&wee_heap_default, size + WEE_WORD, align);
    }
    return shim_enomem(shim_user(block, size));
}

static void *shim_aligned(size_t align, size_t size) {
    if (align == 0 || (align & (align - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return shim_alloc(size, align < SHIM_ALIGN ? SHIM_ALIGN : align);
}

/* count * size, or SIZE_MAX (which no allocation satisfies) on overflow. */
static size_t shim_product(size_t count, size_t size) {
    size_t total;
    return __builtin_mul_overflow(count, size, &total) ? SIZE_MAX : total;
}

WEE_API void *WEE_SHIM(malloc)(size_t size) { return shim_alloc(size, SHIM_ALIGN); }

/* Linked with malloc: tells the backend that no other allocator shares the
 * platform's heap (see src/backend_wasm.c). */
const char wee_shim_owns_malloc = 1;

WEE_API void WEE_SHIM(free)(void *ptr) {
    if (ptr) {
        size_t *block = prefix_of(ptr);
        if (!wee_cache_keep(block))
            wee_block_free(&wee_heap_default, block, *block + WEE_WORD);
    }
}

WEE_API void *WEE_SHIM(calloc)(size_t count, size_t size) {
    size_t total = shim_product(count, size);
    void *ptr = shim_alloc(total, SHIM_ALIGN);
    if (ptr)
        memset(ptr, 0, total);
    return ptr;
}

WEE_API void *WEE_SHIM(realloc)(void *ptr, size_t size) {
    if (!ptr)
        return shim_alloc(size, SHIM_ALIGN);
    /* moves all of the old block's capacity: malloc_usable_size() promised it */
    size_t *block = NULL;
    if (size <= WEE_BYTES_MAX)
        block = wee_block_realloc(&wee_heap_default, prefix_of(ptr), size + WEE_WORD, SHIM_ALIGN);
    return shim_enomem(shim_user(block, size));
}

WEE_API void *WEE_SHIM(reallocarray)(void *ptr, size_t count, size_t size) {
    return WEE_SHIM(realloc)(ptr, shim_product(count, size));
}

WEE_API int WEE_SHIM(posix_memalign)(void **out, size_t align, size_t size) {
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    int saved = errno; /* reports through its result, errno untouched */
    void *ptr = shim_alloc(size, align < SHIM_ALIGN ? SHIM_ALIGN : align);
    if (!ptr) {
        errno = saved;
        return ENOMEM;
    }
    *out = ptr;
    return 0;
}

WEE_API void *WEE_SHIM(aligned_alloc)(size_t align, size_t size) {
    return shim_aligned(align, size);
}

WEE_API void *WEE_SHIM(memalign)(size_t align, size_t size) { return shim_aligned(align, size); }

WEE_API void *WEE_SHIM(valloc)(size_t size) { return shim_aligned(wee_shim_page_size(), size); }

WEE_API void *WEE_SHIM(pvalloc)(size_t size) {
    size_t page = wee_shim_page_size();
    if (size > WEE_BYTES_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    size = size ? (size + page - 1) & ~(page - 1) : page;
    return shim_aligned(page, size);
}

WEE_API size_t WEE_SHIM(malloc_usable_size)(void *ptr) {
    return ptr ? wee_block_capacity(&wee_heap_default, prefix_of(ptr)) - WEE_WORD : 0;
}
