/* Address-space layout randomization: with /proc/sys/kernel/randomize_va_space at 2, two runs
 * of the same program get different stack and mmap addresses (and PIE load addresses); with
 * personality(ADDR_NO_RANDOMIZE), as `setarch -R` sets it, two runs get the same ones. The
 * personality value is inherited across fork and execve and queried with 0xffffffff. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/personality.h>

static char self[256];

/* Runs this program again with "report" and reads its three addresses. */
static int addresses(uintptr_t out[3]) {
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
    char buf[256] = {0};
    ssize_t n = 0, r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    unsigned long a, b, c;
    if (sscanf(buf, "%lx %lx %lx", &a, &b, &c) != 3) return -1;
    out[0] = a;
    out[1] = b;
    out[2] = c;
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "report") == 0) {
        int local;
        void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("%lx %lx %lx\n", (unsigned long)(uintptr_t)&local, (unsigned long)(uintptr_t)m,
               (unsigned long)(uintptr_t)&addresses);
        return 0;
    }
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(sl > 0);

    int base = personality(0xffffffff);
    CHECK(base >= 0);
    char va[8] = {0};
    int fd = open("/proc/sys/kernel/randomize_va_space", O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(read(fd, va, sizeof va - 1) > 0);
        close(fd);
    }
    uintptr_t a[3], b[3];
    if (va[0] == '2' && !(base & ADDR_NO_RANDOMIZE)) {
        CHECK(addresses(a) == 0);
        CHECK(addresses(b) == 0);
        CHECK(a[0] != b[0]); /* stack */
        CHECK(a[1] != b[1]); /* mmap */
    }

    /* setarch -R: the same layout every time, inherited by children. */
    CHECK(personality(base | ADDR_NO_RANDOMIZE) == base);
    CHECK(personality(0xffffffff) == (base | ADDR_NO_RANDOMIZE));
    CHECK(addresses(a) == 0);
    CHECK(addresses(b) == 0);
    CHECK(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
    pid_t pid = fork();
    if (pid == 0) _exit(personality(0xffffffff) == (base | ADDR_NO_RANDOMIZE) ? 0 : 1);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(personality(base) == (base | ADDR_NO_RANDOMIZE));
    DONE();
}
