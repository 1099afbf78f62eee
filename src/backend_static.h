/*
 * Test hook of the static-array backend (backend_static.c).
 */
#ifndef WEE_BACKEND_STATIC_H
#define WEE_BACKEND_STATIC_H

/* The next `n` grow requests succeed (while the array lasts), every later one
 * fails, until the next call; n < 0 lifts the limit. */
void wee_backend_static_fail_after(long n);

#endif /* WEE_BACKEND_STATIC_H */
