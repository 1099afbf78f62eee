/*
 * The smallest size probe: malloc and free only, as a program that never
 * calls the rest of the family links.
 */
#include <stdlib.h>

int main(int argc, char **argv) {
    (void)argv;
    char *a = malloc((size_t)argc * 10);
    int r = a[0];
    free(a);
    return r;
}
