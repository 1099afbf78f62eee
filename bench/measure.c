/*
 * measure: runs a program and reports its wall-clock time and peak
 * resident set, for benchmarks that are whole programs (an interpreter
 * running a script) rather than C code of their own.
 *
 * Usage: measure --name NAME [--repeat N] -- PROGRAM [ARG...]
 *
 * Runs PROGRAM N times (default 1), one after the other, with the same
 * environment (so an LD_PRELOAD reaches it); its standard streams are
 * this program's. Each run's time is from just before fork to just after
 * wait4 returns, and its peak resident set is wait4's ru_maxrss of that
 * child alone.
 *
 * Output (stdout, one line, after the program's own output):
 *   bench=NAME runs=N seconds=... seconds_min=... mem=rss mem_peak_kb=...
 *   errors=...
 * seconds is the median run time, seconds_min the shortest, mem_peak_kb
 * the largest peak resident set of the runs. errors counts runs that did
 * not exit with status 0 (a script checks its own results and exits
 * non-zero when they are wrong); the exit status is 1 if there were any,
 * 2 on a usage error or when the program cannot be started.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock_memory.h"

#define MAX_RUNS 100

static void usage(void) {
    fprintf(stderr, "usage: measure --name NAME [--repeat N] -- PROGRAM [ARG...]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *name = NULL;
    int repeat = 1, i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (*end != '\0' || v < 1 || v > MAX_RUNS)
                usage();
            repeat = (int)v;
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            usage();
        }
    }
    if (name == NULL || i >= argc)
        usage();

    double secs[MAX_RUNS];
    long peak = 0;
    int errors = 0;
    for (int k = 0; k < repeat; k++) {
        fflush(stdout);
        double t0 = now_seconds();
        pid_t pid = fork();
        if (pid < 0) {
            perror("measure: fork");
            return 2;
        }
        if (pid == 0) {
            execvp(argv[i], argv + i);
            fprintf(stderr, "measure: cannot run %s: %s\n", argv[i], strerror(errno));
            _exit(127);
        }
        int status;
        struct rusage ru;
        while (wait4(pid, &status, 0, &ru) < 0)
            if (errno != EINTR) {
                perror("measure: wait4");
                return 2;
            }
        secs[k] = now_seconds() - t0;
        if (ru.ru_maxrss > peak)
            peak = ru.ru_maxrss;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "measure: %s: %s %d\n", argv[i],
                    WIFEXITED(status) ? "exit status" : "killed by signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return 2;
            errors++;
        }
    }
    double min = secs[0];
    for (int k = 1; k < repeat; k++)
        if (secs[k] < min)
            min = secs[k];
    for (int a = 1; a < repeat; a++) /* sort, for the median */
        for (int b = a; b > 0 && secs[b - 1] > secs[b]; b--) {
            double x = secs[b];
            secs[b] = secs[b - 1];
            secs[b - 1] = x;
        }
    double med = repeat % 2 ? secs[repeat / 2] : (secs[repeat / 2 - 1] + secs[repeat / 2]) / 2;
    printf("bench=%s runs=%d seconds=%.6f seconds_min=%.6f mem=rss mem_peak_kb=%ld errors=%d\n",
           name, repeat, med, min, peak, errors);
    return errors ? 1 : 0;
}
