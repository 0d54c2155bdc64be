/* Mappings above 1 << 39 (past riscv64 Sv39's user half, inside the 47-bit user space of
 * x86_64 and of riscv64 Sv48 and the 48-bit one of arm64): a hint there is granted,
 * MAP_FIXED_NOREPLACE and MAP_FIXED work there, the page keeps what is written, mprotect,
 * mremap to another high address and fork see it, /proc/self/maps lists it; the stack sits
 * in the top 64 GiB below TASK_SIZE; a MAP_FIXED at TASK_SIZE (1 << 47 on x86_64 and riscv64
 * Sv48, 1 << 48 on arm64 with 48-bit VAs) is ENOMEM, and a hint there is ignored: the
 * mapping goes below it. On arm64, 1 << 47 and the last page below 1 << 48 are user space
 * (measured on Debian's arm64 6.1 kernel: MAP_FIXED_NOREPLACE at 0x800000000000 and
 * 0xfffffffff000 succeed, at 0x1000000000000 it is ENOMEM). */
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

/* TASK_SIZE: where user space ends. */
#ifdef __aarch64__
#define TASK_TOP (1UL << 48)
#else
#define TASK_TOP (1UL << 47)
#endif

static char maps[1 << 16];

/* Maps one page at `at` with `flags` (MAP_FIXED or MAP_FIXED_NOREPLACE); when granted there,
 * writes both ends, reads them back and unmaps it. 1 when granted, else 0 (errno says why). */
static int map_touch(char *at, int flags) {
    char *r = mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (r == MAP_FAILED) return 0;
    if (r != at) {
        munmap(r, PAGE);
        errno = 0;
        return 0;
    }
    r[0] = 3;
    r[PAGE - 1] = 5;
    CHECK(r[0] == 3 && r[PAGE - 1] == 5);
    CHECK_OK(munmap(r, PAGE));
    return 1;
}

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
    CHECK(map_touch((char *)((1UL << 47) - 3 * PAGE), MAP_FIXED));

#ifdef __aarch64__
    /* arm64: 1 << 47 is user space, and so is the last page below 1 << 48 (no guard page;
     * the stack may hold it when its top is not shifted down: EEXIST then). */
    CHECK(map_touch((char *)(1UL << 47), MAP_FIXED_NOREPLACE));
    CHECK(map_touch((char *)(TASK_TOP - PAGE), MAP_FIXED_NOREPLACE) || errno == EEXIST);
#endif

    /* The stack is near the top: within 64 GiB of TASK_SIZE (x86_64 shifts it by up to
     * 16 GiB, arm64 and riscv64 by up to 1 GiB). */
    int local = 0;
    CHECK((uintptr_t)&local < TASK_TOP && (uintptr_t)&local > TASK_TOP - (1UL << 36));

    /* Past TASK_SIZE: MAP_FIXED fails, a hint is ignored. */
    CHECK(mmap((void *)TASK_TOP, PAGE, rw, anon | MAP_FIXED, -1, 0) == MAP_FAILED &&
          errno == ENOMEM);
    r = mmap((void *)TASK_TOP, PAGE, rw, anon, -1, 0);
    CHECK(r != MAP_FAILED && (uintptr_t)r < TASK_TOP);
    if (r != MAP_FAILED) CHECK_OK(munmap(r, PAGE));

    DONE();
}
