/*
 * Test hook of the static-array backend (backend_static.c).
 */
#ifndef WEE_BACKEND_STATIC_H
#define WEE_BACKEND_STATIC_H

/* The next `n` grow requests succeed (while the array lasts), every later one
 * fails, until the next call; n < 0 lifts the limit. */
void wee_backend_static_fail_after(long n);

/* Takes back every page handed out: the array is zero-filled and free again,
 * and the fail-after limit is lifted. Every heap that grew from it must be
 * abandoned first (the fuzzer starts each input on a fresh heap this way).
 * Single-threaded tests only. */
void wee_backend_static_reset(void);

#endif /* WEE_BACKEND_STATIC_H */
