/*
 * What the malloc shim needs from its platform file (unix.c; each platform
 * brings its own). malloc.c references it, so a static link that pulls in
 * malloc also pulls in the platform file and its constructors.
 */
#ifndef WEE_SHIM_H
#define WEE_SHIM_H

#include <stddef.h>

/* The page size valloc() and pvalloc() align to, in bytes. */
size_t wee_shim_page_size(void);

/* Writes the heap summary (shim/introspect.c, unix only) to `fd`: text, or
 * one JSON object when `json`. Allocates nothing. */
void wee_shim_summary(int fd, int json);

#endif /* WEE_SHIM_H */
