/* Address-space layout randomization, compared across runs of this program (re-executed as
 * children that report their addresses). With /proc/sys/kernel/randomize_va_space at 1 or 2
 * the stack, mmap, the program's load address when it is a PIE (main() and AT_ENTRY) and the
 * interpreter's (AT_BASE) differ from run to run, and at 2 the brk start too; a program that
 * is not a PIE (the static non-PIE builds) loads at its link address every time. With 0, or
 * with personality(ADDR_NO_RANDOMIZE) as `setarch -R` sets it, every address is the same in
 * every run. The personality value is inherited across fork and execve and queried with
 * 0xffffffff. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>

enum { STACK, MMAP, MAIN, ENTRY, BASE, BRK, NADDR };
static const char *const names[NADDR] = {"stack", "mmap", "main", "AT_ENTRY", "AT_BASE", "brk"};
#define RUNS 3

static char self[256];

/* Runs this program again with "report" and reads its addresses. */
static int addresses(uintptr_t out[NADDR]) {
    int p[2];
    if (pipe(p) < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl(self, self, "report", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[512] = {0};
    ssize_t n = 0, r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    char *s = buf;
    for (int i = 0; i < NADDR; i++) {
        char *end;
        out[i] = strtoul(s, &end, 16);
        if (end == s) return -1;
        s = end;
    }
    return 0;
}

static int report(void) {
    int local;
    void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("%lx %lx %lx %lx %lx %lx\n", (unsigned long)(uintptr_t)&local,
           (unsigned long)(uintptr_t)m, (unsigned long)(uintptr_t)&report, getauxval(AT_ENTRY),
           getauxval(AT_BASE), (unsigned long)(uintptr_t)sbrk(0));
    return 0;
}

/* Whether this executable is position-independent (ET_DYN) rather than fixed (ET_EXEC). */
static int is_pie(void) {
    Elf64_Ehdr eh;
    int fd = open(self, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(read(fd, &eh, sizeof eh) == (ssize_t)sizeof eh);
    close(fd);
    CHECK(eh.e_type == ET_DYN || eh.e_type == ET_EXEC);
    return eh.e_type == ET_DYN;
}

/* Samples RUNS layouts; address i must be the same in all of them (`random` 0) or not the
 * same in all of them (`random` 1: with RUNS samples a false alarm is below one in 10^7
 * even for brk's 13 bits). The entry point always sits at the same offset from main. */
static void compare(const int random[NADDR]) {
    uintptr_t a[RUNS][NADDR];
    for (int r = 0; r < RUNS; r++) {
        if (addresses(a[r]) != 0) {
            printf("a child did not report its addresses\n");
            lt_failures++;
            return;
        }
    }
    for (int i = 0; i < NADDR; i++) {
        int same = 1;
        for (int r = 1; r < RUNS; r++) same &= a[r][i] == a[0][i];
        if (random[i] >= 0 && same == random[i]) {
            printf("%s: %lx %lx %lx, expected %s\n", names[i], (unsigned long)a[0][i],
                   (unsigned long)a[1][i], (unsigned long)a[2][i],
                   random[i] ? "different addresses" : "the same address");
            lt_failures++;
        }
    }
    for (int r = 1; r < RUNS; r++) CHECK(a[r][ENTRY] - a[r][MAIN] == a[0][ENTRY] - a[0][MAIN]);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "report") == 0) return report();
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(sl > 0);
    int pie = is_pie();
    int interp = getauxval(AT_BASE) != 0;

    int base = personality(0xffffffff);
    CHECK(base >= 0);
    char va[8] = {0};
    int fd = open("/proc/sys/kernel/randomize_va_space", O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(read(fd, va, sizeof va - 1) > 0);
        close(fd);
    }
    CHECK(va[0] >= '0' && va[0] <= '2' && va[1] == '\n');
    int level = (base & ADDR_NO_RANDOMIZE) ? 0 : va[0] - '0';

    /* As the system is set: 1 randomizes stack, mmap and PIE/interpreter bases, 2 brk too
     * (-1: not checked, at 1 brk follows a PIE). */
    int on = level > 0;
    int random[NADDR] = {on, on, on && pie, on && pie, on && interp,
                         level == 2 ? 1 : level == 0 ? 0 : -1};
    compare(random);

    /* setarch -R: the same layout every time, inherited by children. */
    CHECK(personality(base | ADDR_NO_RANDOMIZE) == base);
    CHECK(personality(0xffffffff) == (base | ADDR_NO_RANDOMIZE));
    int fixed[NADDR] = {0};
    compare(fixed);
    pid_t pid = fork();
    if (pid == 0) _exit(personality(0xffffffff) == (base | ADDR_NO_RANDOMIZE) ? 0 : 1);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(personality(base) == (base | ADDR_NO_RANDOMIZE));
    CHECK(personality(0xffffffff) == base);
    DONE();
}
