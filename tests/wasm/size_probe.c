/*
 * The size probe: calls each allocator entry point once, so the module holds
 * exactly the code they reach. tools/wasm_size.py builds and measures it.
 */
#include <stdlib.h>

int main(int argc, char **argv) {
    (void)argv;
    char *a = malloc((size_t)argc * 10);
    char *b = calloc((size_t)argc, 20);
    a = realloc(a, (size_t)argc * 100);
    void *c = NULL;
    if (posix_memalign(&c, 64, (size_t)argc * 30) != 0)
        return 1;
    int r = a[0] + b[0];
    free(a);
    free(b);
    free(c);
    return r;
}
