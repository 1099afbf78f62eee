/*
 * Ends with status 3: tools/wasi-run.mjs must pass it on. With an argument
 * N, it first grows the memory one page at a time N times (a heap that grows
 * in small steps does the same).
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    unsigned long grows = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
    for (unsigned long i = 0; i < grows; i++)
        if (__builtin_wasm_memory_grow(0, 1) == (size_t)-1)
            return 1;
    printf("exiting with status 3 after %lu memory.grow calls\n", grows);
    return 3;
}
