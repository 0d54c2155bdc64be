/* Uses its C library's shared code paths (stdio formatting, qsort, strtod, getenv, dlsym
 * of its own libc when dynamic) so a program added with `--add` shows that its interpreter
 * and libraries came along; the boot test compares its output with the host's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    qsort(argv + 1, argc - 1, sizeof *argv, cmp);
    for (int i = 1; i < argc; i++) printf("arg %s\n", argv[i]);
    printf("pi %.5f hex %#x str %-6s|\n", strtod("3.14159265", 0), 48879, "ok");
    const char *home = getenv("HOME");
    printf("home %s\n", home ? home : "(none)");
    return 0;
}
