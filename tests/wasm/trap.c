/* Traps: tools/wasi-run.mjs must report it and exit with status 134. */
#include <stdio.h>

int main(void) {
    puts("trapping");
    fflush(stdout);
    __builtin_trap();
}
