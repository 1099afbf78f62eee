/*
 * ONLY_THREAD(): true while the process has a single thread, as glibc
 * tells through __libc_single_threaded; elsewhere always false (assume
 * threads). Nothing can make the process multi-threaded from inside the
 * allocator, so code that holds a lock taken under ONLY_THREAD() stays
 * alone until it releases it.
 */
#ifndef WEE_ONLY_THREAD_H
#define WEE_ONLY_THREAD_H

#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define ONLY_THREAD() (__libc_single_threaded != 0)
#endif
#endif
#ifndef ONLY_THREAD
#define ONLY_THREAD() 0
#endif

#endif /* WEE_ONLY_THREAD_H */
