/*
 * The shim's wasi glue. wasi-libc's own allocator (dlmalloc) also defines
 * __libc_malloc, __libc_free and __libc_calloc, which libc's atexit and
 * locale code call; defining them here keeps dlmalloc out of every link.
 */
#include <stdlib.h>

#include "shim.h"
#include "wee_alloc.h"

size_t wee_shim_page_size(void) { return 65536; }

void *__libc_malloc(size_t size);
void __libc_free(void *ptr);
void *__libc_calloc(size_t count, size_t size);

WEE_API void *__libc_malloc(size_t size) { return malloc(size); }

WEE_API void __libc_free(void *ptr) { free(ptr); }

WEE_API void *__libc_calloc(size_t count, size_t size) { return calloc(count, size); }
