/*
 * valgrind client requests: how the core tells memcheck about its blocks.
 *
 * With WEE_VALGRIND (set by the build when <valgrind/memcheck.h> is found
 * and the option is on; never on wasm32) the entry points describe each
 * block handed out as malloc-like and each block taken back as free-like,
 * so memcheck reports reads and writes after free, outside a block, and
 * leaks, as it does for glibc's malloc. Everything else the heap owns (cell
 * headers, free cells, run headers, free slots, memory not handed out yet)
 * is no-access to the program. The core's own work on that memory happens
 * with memcheck's error reporting off for the thread (WEE_VG_QUIET_BEGIN /
 * _END, around every locked section).
 *
 * Outside valgrind each request is a load and a branch (whether valgrind
 * runs is asked once); without WEE_VALGRIND the macros are empty. The core's entry
 * points (wee_alloc.c) and the heap's growth include this header, and the
 * unix shim's thread cache, which stays closed under valgrind.
 */
#ifndef WEE_VG_CLIENT_H
#define WEE_VG_CLIENT_H

#ifndef WEE_VALGRIND
#define WEE_VALGRIND 0
#endif

#if WEE_VALGRIND
#include <stdatomic.h>
#include <valgrind/memcheck.h>

/* Whether the program runs under valgrind: asked once, then remembered, so
 * that outside valgrind every request below costs a load and a branch. */
static inline int wee_vg_running(void) {
    static atomic_int state; /* 0: not asked yet, 1: no, 2: yes */
    int s = atomic_load_explicit(&state, memory_order_relaxed);
    if (__builtin_expect(s == 0, 0)) {
        s = RUNNING_ON_VALGRIND ? 2 : 1;
        atomic_store_explicit(&state, s, memory_order_relaxed);
    }
    return s == 2;
}

/* A client request, made only under valgrind. */
#define WEE_VG_REQUEST(request)                                                                    \
    do {                                                                                           \
        if (wee_vg_running())                                                                      \
            request;                                                                               \
    } while (0)

#define WEE_VG_RUNNING()     wee_vg_running()
#define WEE_VG_QUIET_BEGIN() WEE_VG_REQUEST(VALGRIND_DISABLE_ERROR_REPORTING)
#define WEE_VG_QUIET_END()   WEE_VG_REQUEST(VALGRIND_ENABLE_ERROR_REPORTING)
/* `bytes` at p are handed out: a malloc-like block, undefined. */
#define WEE_VG_ALLOC(p, bytes) WEE_VG_REQUEST(VALGRIND_MALLOCLIKE_BLOCK((p), (bytes), 0, 0))
/* The block at p is taken back: no-access from here on. */
#define WEE_VG_FREE(p) WEE_VG_REQUEST(VALGRIND_FREELIKE_BLOCK((p), 0))
/* The block at p now has `now` bytes instead of `was`. */
#define WEE_VG_RESIZE(p, was, now)                                                                 \
    WEE_VG_REQUEST(VALGRIND_RESIZEINPLACE_BLOCK((p), (was), (now), 0))
#define WEE_VG_NOACCESS(p, bytes)  WEE_VG_REQUEST(VALGRIND_MAKE_MEM_NOACCESS((p), (bytes)))
#define WEE_VG_UNDEFINED(p, bytes) WEE_VG_REQUEST(VALGRIND_MAKE_MEM_UNDEFINED((p), (bytes)))
/* `bytes` at p hold what the program put there (moved along, or zero). */
#define WEE_VG_DEFINED(p, bytes) WEE_VG_REQUEST(VALGRIND_MAKE_MEM_DEFINED((p), (bytes)))
#else
#define WEE_VG_RUNNING()           0
#define WEE_VG_QUIET_BEGIN()       ((void)0)
#define WEE_VG_QUIET_END()         ((void)0)
#define WEE_VG_ALLOC(p, bytes)     ((void)(p), (void)(bytes))
#define WEE_VG_FREE(p)             ((void)(p))
#define WEE_VG_RESIZE(p, was, now) ((void)(p), (void)(was), (void)(now))
#define WEE_VG_NOACCESS(p, bytes)  ((void)(p), (void)(bytes))
#define WEE_VG_UNDEFINED(p, bytes) ((void)(p), (void)(bytes))
#define WEE_VG_DEFINED(p, bytes)   ((void)(p), (void)(bytes))
#endif

#endif /* WEE_VG_CLIENT_H */
