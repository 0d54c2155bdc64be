/* Mappings above 1 << 39 (past riscv64 Sv39's user half, inside the 47-bit user space of
 * x86_64 and of riscv64 Sv48): a hint there is granted, MAP_FIXED_NOREPLACE and MAP_FIXED work
 * there, the page keeps what is written, mprotect, mremap to another high address and fork
 * see it, /proc/self/maps lists it; a MAP_FIXED at 1 << 47 (past TASK_SIZE on both) is
 * ENOMEM, and a hint there is ignored: the mapping goes below it. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096UL

static char maps[1 << 16];

int main(void) {
    const int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;

    /* A hint at 1 TiB (2^40) is free and granted. */
    char *hint = (char *)(1UL << 40);
    char *p = mmap(hint, 2 * PAGE, rw, anon, -1, 0);
    CHECK(p == hint);
    if (p == hint) {
        p[0] = 7;
        p[2 * PAGE - 1] = 9;
        CHECK(p[0] == 7 && p[2 * PAGE - 1] == 9);
        /* It shows in /proc/self/maps at its address. */
        long n = lt_slurp("/proc/self/maps", maps, sizeof maps);
        CHECK(n > 0 && strstr(maps, "10000000000-10000002000 rw-p") != NULL);
        /* A child sees it (a copy). */
        pid_t pid = fork();
        if (pid == 0) _exit(p[0] == 7 ? 0 : 3);
        int st = 0;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* Read-only, then moved to 2^44 with its contents. */
        CHECK_OK(mprotect(p, 2 * PAGE, PROT_READ));
        char *to = (char *)(1UL << 44);
        char *q = mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
        CHECK(q == to);
        if (q == to) {
            CHECK(q[0] == 7 && q[2 * PAGE - 1] == 9);
            CHECK_OK(munmap(q, 2 * PAGE));
        }
    }

    /* MAP_FIXED_NOREPLACE at 2^45, then a second one there is EEXIST. */
    char *f = (char *)(1UL << 45);
    char *r = mmap(f, PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(r == f);
    if (r == f) {
        r[5] = 1;
        CHECK(mmap(f, PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED &&
              errno == EEXIST);
        CHECK_OK(munmap(r, PAGE));
    }

    /* MAP_FIXED just below 2^47 - 4096 (the top page x86_64 keeps out of user space). */
    char *hi = (char *)((1UL << 47) - 3 * PAGE);
    r = mmap(hi, PAGE, rw, anon | MAP_FIXED, -1, 0);
    CHECK(r == hi);
    if (r == hi) {
        r[0] = 3;
        CHECK(r[0] == 3);
        CHECK_OK(munmap(r, PAGE));
    }

    /* Past TASK_SIZE: MAP_FIXED fails, a hint is ignored. */
    CHECK(mmap((void *)(1UL << 47), PAGE, rw, anon | MAP_FIXED, -1, 0) == MAP_FAILED &&
          errno == ENOMEM);
    r = mmap((void *)(1UL << 47), PAGE, rw, anon, -1, 0);
    CHECK(r != MAP_FAILED && (uintptr_t)r < (1UL << 47));
    if (r != MAP_FAILED) CHECK_OK(munmap(r, PAGE));

    DONE();
}
