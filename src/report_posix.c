/*
 * Failure report for hosted builds: one write(2) to standard error, then a
 * trap. Nothing here allocates.
 */
#include <unistd.h>

#include "backend.h"

_Noreturn void wee_backend_fatal(const char *msg, size_t len) {
    ssize_t n = write(2, msg, len);
    (void)n;
    __builtin_trap();
}
