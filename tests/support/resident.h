/*
 * The resident set of this process, in bytes, from /proc/self/statm (Linux):
 * what the tests of memory given back to the system read. Include after
 * cmocka (the assertions are cmocka's).
 */
#ifndef WEE_TEST_RESIDENT_H
#define WEE_TEST_RESIDENT_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline size_t resident(void) {
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(n > 0);
    buf[n] = '\0';
    const char *s = strchr(buf, ' ');
    assert_non_null(s);
    return (size_t)strtoul(s + 1, NULL, 10) * (size_t)sysconf(_SC_PAGESIZE);
}

#endif /* WEE_TEST_RESIDENT_H */
