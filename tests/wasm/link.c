/*
 * Link test: an ordinary C program using the libc functions that drag
 * wasi-libc's own allocator (dlmalloc) into a link when the replacement
 * misses one of its names: atexit (more than 32 handlers: __libc_calloc),
 * newlocale and freelocale (__libc_malloc, __libc_free), aligned_alloc,
 * strdup and printf. Linked with libwee_malloc.a it must link without a
 * duplicate symbol, and no_dlmalloc.cmake checks that the module holds no
 * dlmalloc code.
 *
 * main returns 1. The first handler registered with atexit runs last: it
 * checks that the others ran and that the memory they and main used is
 * intact, and ends the program with status 0 only if all is well.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* newlocale under -std=c11 */
#endif
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDLERS 40 /* musl's atexit keeps 32 in a static table */

static int handlers_run, exit_allocs_ok;
static char *saved;
static unsigned char *aligned;

static void count_handler(void) {
    handlers_run++;
    /* Allocating during exit works too. */
    unsigned char *p = malloc(100);
    if (p) {
        memset(p, handlers_run, 100);
        exit_allocs_ok += p[0] == (unsigned char)handlers_run && p[99] == p[0];
        free(p);
    }
}

static void last_handler(void) {
    int ok = handlers_run == HANDLERS - 1 && exit_allocs_ok == handlers_run;
    ok = ok && saved && strcmp(saved, "wee_alloc on wasm32") == 0;
    for (int i = 0; i < 256; i++)
        ok = ok && aligned[i] == (unsigned char)i;
    printf("link: %d atexit handlers ran, %d allocated, %s\n", handlers_run, exit_allocs_ok,
           ok ? "all checks passed" : "FAILED");
    fflush(stdout);
    free(saved);
    free(aligned);
    _Exit(ok ? 0 : 1);
}

int main(void) {
    if (atexit(last_handler) != 0)
        return 1;
    for (int i = 1; i < HANDLERS; i++)
        if (atexit(count_handler) != 0)
            return 1;

    saved = strdup("wee_alloc on wasm32");
    aligned = aligned_alloc(64, 256);
    if (!saved || !aligned || (uintptr_t)aligned % 64 != 0) {
        printf("link: strdup or aligned_alloc failed\n");
        return 1;
    }
    for (int i = 0; i < 256; i++)
        aligned[i] = (unsigned char)i;

    /* An unknown LC_MESSAGES name makes musl allocate a locale map and a
     * locale object with __libc_malloc; freelocale gives the object back
     * with __libc_free. */
    locale_t loc = newlocale(LC_MESSAGES_MASK, "wee_alloc_test", (locale_t)0);
    if (!loc) {
        printf("link: newlocale failed\n");
        return 1;
    }
    freelocale(loc);

    printf("link: %s, aligned_alloc gave %p\n", saved, (void *)aligned);
    return 1; /* replaced by last_handler's status */
}
