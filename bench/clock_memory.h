/*
 * The clocks and memory readings the benchmark programs share.
 *
 * Natively, memory is the process's resident set from /proc/self/status
 * (VmHWM: peak, VmRSS: current), read with read(2) into a stack buffer so
 * that measuring allocates nothing. On wasm32-wasi it is the linear memory
 * above __heap_base, which never shrinks: its size is its peak.
 */
#ifndef BENCH_CLOCK_MEMORY_H
#define BENCH_CLOCK_MEMORY_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef __wasi__
#include <fcntl.h>
#include <unistd.h>
#endif

static inline double clock_seconds(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* Sleeps `seconds`, through interruptions by signals. */
static inline void sleep_seconds(double seconds) {
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
        ;
}

#ifdef __wasi__
extern unsigned char __heap_base;

/* Linear memory above the static data, in KiB. */
static inline long memory_kb(bool peak) {
    (void)peak;
    size_t bytes = __builtin_wasm_memory_size(0) * 65536;
    return (long)((bytes - (size_t)(uintptr_t)&__heap_base) / 1024);
}
#define MEMORY_KIND "wasm"

/* The peak cannot be reset on wasm32: the linear memory only grows. */
static inline void memory_reset_peak(void) {}
#else
/* VmHWM (peak) or VmRSS (current), in KiB; -1 if unavailable. */
static inline long memory_kb(bool peak) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *key = peak ? "\nVmHWM:" : "\nVmRSS:";
    const char *s = strstr(buf, key);
    return s ? strtol(s + strlen(key), NULL, 10) : -1;
}
#define MEMORY_KIND "rss"

/* Makes VmHWM start again from the current resident set (Linux 4.0+). */
static inline void memory_reset_peak(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        ssize_t n = write(fd, "5", 1);
        (void)n;
        close(fd);
    }
}
#endif

/* The peak memory, in KiB. */
static inline long peak_kb(void) { return memory_kb(true); }

/* Median of n values (sorts them); 0 for none. */
static inline double median(double *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    if (n == 0)
        return 0.0;
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* BENCH_CLOCK_MEMORY_H */
