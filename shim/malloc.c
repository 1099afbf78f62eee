/*
 * The libc allocation functions over the sized core, through its public API
 * only (include/wee_alloc.h).
 *
 * Every pointer handed out is preceded by one hidden word holding the size
 * it was requested with, so free() can give the core its size back:
 *
 *     size word | user data ...
 *               ^ pointer returned, aligned to 16 or more
 *
 * The core keeps that word for us: every request asks for an alignment of
 * 16 or more, and the core then gives the word in front of the pointer to
 * the block. The size word's top bit marks a block aligned above 16; the
 * core takes any alignment above 16 back for such a block, so the shim
 * needs to remember no more.
 *
 * Failures follow C11/POSIX: NULL and errno = ENOMEM on exhaustion or size
 * overflow, EINVAL for an alignment that is not a power of two; a failed
 * realloc leaves the old block untouched; free() never changes errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cache.h"
#include "shim.h"
#include "wee_alloc.h"

#define SHIM_ALIGN ((size_t)16) /* alignof(max_align_t) on the targets we serve */
#define ALIGNED    ((size_t)1 << (8 * sizeof(size_t) - 1)) /* size word: aligned above 16 */
#define WORD       sizeof(size_t)

/* The size a size word gives. */
static size_t shim_size(size_t word) { return word & ~(ALIGNED | WEE_CACHE_TAGS); }

/* A pointer, or NULL with errno ENOMEM. */
static void *shim_enomem(void *ptr) {
    if (!ptr)
        errno = ENOMEM;
    return ptr;
}

/* The user's pointer (NULL for none), with `word` recorded in front of it. */
static void *shim_user(size_t *user, size_t word) {
    if (user)
        user[-1] = word;
    return shim_enomem(user);
}

/* The alignment the core knows a block by: 16, or any above. */
static size_t shim_align(size_t word) { return word & ALIGNED ? 2 * SHIM_ALIGN : SHIM_ALIGN; }

/* A block of `size` bytes aligned to `align` (a power of two): returns the
 * user's pointer, or NULL with errno ENOMEM. */
static void *shim_alloc(size_t size, size_t align) {
    if (align <= SHIM_ALIGN) {
        void *cached = wee_cache_take(size); /* its size word written */
        if (cached)
            return cached;
        align = SHIM_ALIGN;
    }
    /* NULL for sizes and alignments the core cannot serve */
    size_t *user = wee_heap_alloc(wee_default_heap(), size, align);
    return shim_user(user, size | (align > SHIM_ALIGN ? ALIGNED : 0));
}

static void *shim_aligned(size_t align, size_t size) {
    if (align == 0 || (align & (align - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return shim_alloc(size, align);
}

/* count * size, or SIZE_MAX (which no allocation satisfies) on overflow. */
static size_t shim_product(size_t count, size_t size) {
    size_t total;
    return __builtin_mul_overflow(count, size, &total) ? SIZE_MAX : total;
}

WEE_API void *malloc(size_t size) { return shim_alloc(size, SHIM_ALIGN); }

/* Frees a block to the heap. With thread caches, only blocks aligned above
 * 16 come here, out of line, so that free() itself saves no registers. */
#if WEE_SHIM_CACHE
__attribute__((noinline))
#endif
static void
shim_dealloc(void *ptr, size_t word) {
    wee_heap_dealloc(wee_default_heap(), ptr, shim_size(word), shim_align(word));
}

WEE_API void free(void *ptr) {
    if (!ptr)
        return;
    size_t word = ((size_t *)ptr)[-1];
    if (WEE_SHIM_CACHE && !(word & ALIGNED))
        wee_cache_free(ptr, word);
    else
        shim_dealloc(ptr, word);
}

#if WEE_BACKEND_RELEASES
/* Blocks a thread cache serves hold old data; the heap clears only what may
 * (a large block's fresh mapping is zero already). */
WEE_API void *calloc(size_t count, size_t size) {
    size_t total = shim_product(count, size);
    void *cached = wee_cache_take(total);
    if (cached)
        return memset(cached, 0, total);
    return shim_user(wee_heap_alloc_zeroed(wee_default_heap(), total, SHIM_ALIGN), total);
}

/* glibc's malloc_trim: this thread's cache back to the heap, then every
 * whole free page back to the system but `pad` bytes at the heap's top.
 * 1 when memory was released. */
WEE_API int malloc_trim(size_t pad) {
    wee_cache_flush();
    return wee_heap_trim(wee_default_heap(), pad);
}
#else
WEE_API void *calloc(size_t count, size_t size) {
    size_t total = shim_product(count, size);
    void *ptr = shim_alloc(total, SHIM_ALIGN);
    if (ptr)
        memset(ptr, 0, total);
    return ptr;
}
#endif

/* A block aligned above 16 stays aligned to 32 at least, and keeps its mark. */
WEE_API void *realloc(void *ptr, size_t size) {
    if (!ptr)
        return shim_alloc(size, SHIM_ALIGN);
    size_t word = ((size_t *)ptr)[-1];
    void *moved = word & ALIGNED ? NULL : wee_cache_resize(ptr, word, size);
    if (moved) /* its size word written */
        return moved;
    moved = wee_heap_realloc(wee_default_heap(), ptr, shim_size(word), shim_align(word), size);
    return shim_user(moved, size | (word & ALIGNED));
}

WEE_API void *reallocarray(void *ptr, size_t count, size_t size) {
    return realloc(ptr, shim_product(count, size));
}

WEE_API int posix_memalign(void **out, size_t align, size_t size) {
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    int saved = errno; /* reports through its result, errno untouched */
    void *ptr = shim_alloc(size, align);
    if (!ptr) {
        errno = saved;
        return ENOMEM;
    }
    *out = ptr;
    return 0;
}

WEE_API void *aligned_alloc(size_t align, size_t size) { return shim_aligned(align, size); }

WEE_API void *memalign(size_t align, size_t size) { return shim_aligned(align, size); }

WEE_API void *valloc(size_t size) { return shim_aligned(wee_shim_page_size(), size); }

WEE_API void *pvalloc(size_t size) {
    size_t page = wee_shim_page_size();
    if (size > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    size = size ? (size + page - 1) & ~(page - 1) : page;
    return shim_aligned(page, size);
}

/* The usable size of a block the core may have served from a slot or a
 * cell: asked of the core. */
__attribute__((noinline)) static size_t shim_usable(void *ptr, size_t word) {
    return wee_heap_usable_size(wee_default_heap(), ptr, shim_size(word), shim_align(word));
}

/* On 64-bit targets, blocks of up to SHIM_SMALL bytes aligned to 16 need
 * no call: each holds the largest request of those whose sizes plus the
 * size word round up to the same multiple of 16 (wee_alloc.h). */
#define SHIM_SMALL ((size_t)1024 - WORD)
#define SHIM_KNOWS (SIZE_MAX > 0xffffffffu)

WEE_API size_t malloc_usable_size(void *ptr) {
    if (!ptr)
        return 0;
    size_t word = ((size_t *)ptr)[-1], size = word & ~WEE_CACHE_TAGS; /* ALIGNED kept */
    if (SHIM_KNOWS && size <= SHIM_SMALL)
        return ((size + WORD + SHIM_ALIGN - 1) & ~(SHIM_ALIGN - 1)) - WORD;
    return shim_usable(ptr, word);
}
