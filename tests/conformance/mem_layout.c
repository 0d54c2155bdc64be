/* Where mmap's area begins without randomization (personality(ADDR_NO_RANDOMIZE), as gdb
 * runs a program): Linux's mmap_base leaves RLIMIT_STACK plus the 1 MiB stack guard gap below
 * the top of the stack, and at least 128 MiB. The first mappings of a program (its
 * interpreter, the vDSO, or a static PIE itself) go top-down from there, so the highest
 * mapping below [stack] ends exactly at that address. The limit that counts is the one at
 * execve: this program re-executes itself with each limit and reads /proc/self/maps. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <stdint.h>
#include <sys/personality.h>
#include <sys/resource.h>

static char self[256];

/* Prints the end of [stack] and the highest end of a mapping below it. */
static int report(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 1;
    unsigned long start[512], end[512], stack_start = 0, stack_end = 0;
    int n = 0;
    char line[512];
    while (n < 512 && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx", &start[n], &end[n]) != 2) return 1;
        if (strstr(line, "[stack]")) {
            stack_start = start[n];
            stack_end = end[n];
        }
        n++;
    }
    fclose(f);
    unsigned long top = 0;
    for (int i = 0; i < n; i++)
        if (end[i] <= stack_start && end[i] > top) top = end[i];
    printf("%lx %lx\n", stack_end, top);
    return 0;
}

/* The child's (stack end, mmap top) when it starts with RLIMIT_STACK at `limit`. */
static int layout(rlim_t limit, unsigned long *stack_end, unsigned long *top) {
    int p[2];
    if (pipe(p) < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {limit, limit};
        if (setrlimit(RLIMIT_STACK, &rl) < 0) _exit(126);
        dup2(p[1], 1);
        close(p[0]);
        execl(self, self, "report", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[128] = {0};
    ssize_t n = 0, r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
    close(p[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    return sscanf(buf, "%lx %lx", stack_end, top) == 2 ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "report") == 0) return report();
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(sl > 0);
    int base = personality(0xffffffff);
    CHECK(personality(base | ADDR_NO_RANDOMIZE) == base);
    const unsigned long mib = 1 << 20;
    /* RLIMIT_STACK: below 127 MiB the 128 MiB floor holds; above, limit + guard gap. */
    const rlim_t limits[] = {8 * mib, 1 * mib, 512 * mib};
    for (unsigned i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        unsigned long stack_end = 0, top = 0;
        if (layout(limits[i], &stack_end, &top) != 0) {
            printf("RLIMIT_STACK %lu MiB: the child did not report\n", limits[i] / mib);
            lt_failures++;
            continue;
        }
        unsigned long gap = limits[i] + mib < 128 * mib ? 128 * mib : limits[i] + mib;
        if (top != stack_end - gap) {
            printf("RLIMIT_STACK %lu MiB: mappings reach %lx, expected %lx (stack ends at %lx)\n",
                   limits[i] / mib, top, stack_end - gap, stack_end);
            lt_failures++;
        }
    }
    personality(base);
    DONE();
}
