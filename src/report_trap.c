/*
 * Failure report for bare metal: nowhere to write, so just trap.
 */
#include "backend.h"

_Noreturn void wee_backend_fatal(const char *msg, size_t len) {
    (void)msg;
    (void)len;
    __builtin_trap();
}
