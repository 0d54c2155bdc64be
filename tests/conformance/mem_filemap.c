/* File-backed mmap semantics. MAP_SHARED mappings of a regular file and the page cache are one:
 * stores show in read()/pread() through another descriptor at once, write()/pwrite() show in
 * the mapping, two shared mappings (in one process and across fork) see each other, msync
 * succeeds, the data survives munmap and close, and nonzero page-aligned offsets map the right
 * page. MAP_PRIVATE: stores stay private, while pages never stored to (untouched or only read)
 * still follow later writes to the file; a stored page is a private copy. Errors: EACCES for
 * write access the descriptor lacks (also via mprotect), ENODEV for a directory or a pipe,
 * EINVAL for an unaligned offset, EOPNOTSUPP for unknown MAP_SHARED_VALIDATE flags.
 * Truncation: pages past the end give SIGBUS (BUS_ADRERR, exact si_addr), also private copies;
 * the tail of a partial last page reads zeros; growing the file brings pages back as zeros.
 * A file extended with ftruncate and filled only through a mapping reads back after munmap.
 * memfd: shared with a forked child; F_SEAL_WRITE refused (EBUSY) while a writable shared
 * mapping exists (a forked child's inherited one too), then writable shared mappings and
 * write() fail with EPERM;
 * F_SEAL_SHRINK/F_SEAL_GROW. A 1 MiB file checksums the same through a mapping and read().
 * Error cases use the raw system call because libc checks some arguments itself. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define PAGE 4096UL

#define sub(name, fn) lt_sub(name, fn, 5000)

static long kmmap(void *addr, size_t len, int prot, int flags, int fd, long off) {
    return syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* The byte a test file holds at offset off. */
static unsigned char pat(size_t off, int seed) {
    return (unsigned char)(off * 31 + (off >> 12) * 7 + seed);
}

/* Creates name with npages pages of pat(seed); returns an O_RDWR descriptor. */
static int make_file(const char *name, size_t npages, int seed) {
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    unsigned char buf[PAGE];
    for (size_t pg = 0; pg < npages; pg++) {
        for (size_t i = 0; i < PAGE; i++) buf[i] = pat(pg * PAGE + i, seed);
        CHECK(write(fd, buf, PAGE) == (ssize_t)PAGE);
    }
    return fd;
}

static int is_pat(const volatile unsigned char *p, size_t off, size_t n, int seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != pat(off + i, seed)) return 0;
    return 1;
}

static int all_zero(const volatile unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static int pread_byte(int fd, off_t off) {
    unsigned char c;
    if (pread(fd, &c, 1, off) != 1) return -1;
    return c;
}

/* ---- SIGBUS probing ---- */

static sigjmp_buf jb;
static volatile int bus_count, bus_code;
static void *volatile bus_addr;

static void on_bus(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    bus_count++;
    bus_code = si->si_code;
    bus_addr = si->si_addr;
    siglongjmp(jb, 1);
}

static void install_bus(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
}

/* Loads (or stores 0x77 to) *p; returns 1 when that raised SIGBUS with BUS_ADRERR at p,
 * 0 when the access went through, -1 on a SIGBUS with the wrong code or address. */
static int faults(volatile unsigned char *p, int store) {
    bus_count = 0;
    bus_code = 0;
    bus_addr = NULL;
    if (sigsetjmp(jb, 1) == 0) {
        if (store)
            *p = 0x77;
        else
            (void)*p;
        return 0;
    }
    if (bus_count != 1 || bus_code != BUS_ADRERR || bus_addr != (void *)p) {
        printf("SIGBUS at %p: count %d code %d addr %p\n", (void *)p, bus_count, bus_code, bus_addr);
        return -1;
    }
    return 1;
}

/* ---- 1. MAP_SHARED ---- */

static void t_shared(void) {
    int fd = make_file("fm_shared", 3, 1);
    int rfd = open("fm_shared", O_RDONLY);
    CHECK(rfd >= 0);
    volatile unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    CHECK(is_pat(m, 0, 3 * PAGE, 1));

    /* A store is seen by pread and read through another descriptor, without msync. */
    m[10] = 0xa1;
    m[PAGE + 20] = 0xa2;
    m[3 * PAGE - 1] = 0xa3;
    CHECK(pread_byte(rfd, 10) == 0xa1);
    CHECK(pread_byte(rfd, PAGE + 20) == 0xa2);
    CHECK(pread_byte(rfd, 3 * PAGE - 1) == 0xa3);
    unsigned char buf[32];
    CHECK(lseek(rfd, 8, SEEK_SET) == 8);
    CHECK(read(rfd, buf, 4) == 4);
    CHECK(buf[2] == 0xa1 && buf[0] == pat(8, 1) && buf[3] == pat(11, 1));

    /* pwrite and write are seen by the mapping at once. */
    CHECK(pwrite(fd, "PWRITE", 6, 100) == 6);
    CHECK(memcmp((const void *)(m + 100), "PWRITE", 6) == 0);
    CHECK(lseek(fd, 2 * PAGE + 7, SEEK_SET) == (off_t)(2 * PAGE + 7));
    CHECK(write(fd, "write", 5) == 5);
    CHECK(memcmp((const void *)(m + 2 * PAGE + 7), "write", 5) == 0);
    CHECK(m[2 * PAGE + 6] == pat(2 * PAGE + 6, 1) && m[2 * PAGE + 12] == pat(2 * PAGE + 12, 1));

    /* A second shared mapping in the same process sees the first one's stores and back. */
    volatile unsigned char *m2 = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m2 != MAP_FAILED && m2 != m);
    if (m2 != MAP_FAILED) {
        CHECK(m2[10] == 0xa1 && m2[PAGE + 20] == 0xa2 && m2[100] == 'P');
        m2[PAGE + 1] = 0xb1;
        CHECK(m[PAGE + 1] == 0xb1);
        m[PAGE + 2] = 0xb2;
        CHECK(m2[PAGE + 2] == 0xb2);
    }

    /* A mapping at a nonzero page-aligned offset shows that part of the file. */
    volatile unsigned char *mo = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * PAGE);
    CHECK(mo != MAP_FAILED);
    if (mo != MAP_FAILED) {
        CHECK(mo[0] == pat(2 * PAGE, 1) && mo[PAGE - 1] == 0xa3);
        CHECK(memcmp((const void *)(mo + 7), "write", 5) == 0);
        mo[50] = 0xc1;
        CHECK(m[2 * PAGE + 50] == 0xc1);
        CHECK(pread_byte(rfd, 2 * PAGE + 50) == 0xc1);
        m[2 * PAGE + 51] = 0xc2;
        CHECK(mo[51] == 0xc2);
        CHECK(munmap((void *)mo, PAGE) == 0);
    }

    /* Across fork: the inherited mapping is shared, and a mapping the child makes itself
     * of the same file is too; the parent sees both children's stores and they see its. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = m[10] == 0xa1 && m[PAGE + 1] == 0xb1;
        m[200] = 0xd1;
        int cfd = open("fm_shared", O_RDWR);
        volatile unsigned char *cm =
            cfd < 0 ? MAP_FAILED : mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, PAGE);
        if (cm == MAP_FAILED) _exit(4);
        if (cm[20] != 0xa2) ok = 0;
        cm[300] = 0xd2;
        _exit(ok ? 0 : 3);
    }
    CHECK(pid > 0);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(m[200] == 0xd1);
    CHECK(m[PAGE + 300] == 0xd2);
    if (m2 != MAP_FAILED) CHECK(m2[PAGE + 300] == 0xd2 && m2[200] == 0xd1);
    CHECK(pread_byte(rfd, PAGE + 300) == 0xd2);

    /* msync in both modes returns 0 and keeps the data; an unaligned address is EINVAL. */
    CHECK(msync((void *)m, 3 * PAGE, MS_SYNC) == 0);
    CHECK(msync((void *)m, 3 * PAGE, MS_ASYNC) == 0);
    CHECK(msync((void *)(m + PAGE), PAGE, MS_SYNC) == 0);
    CHECK_ERR(msync((void *)(m + 1), PAGE, MS_SYNC), EINVAL);
    CHECK(m[10] == 0xa1);

    /* After munmap and close, a fresh open and read sees everything stored. */
    m[PAGE - 1] = 0xe1;
    if (m2 != MAP_FAILED) CHECK(munmap((void *)m2, 3 * PAGE) == 0);
    CHECK(munmap((void *)m, 3 * PAGE) == 0);
    CHECK(close(fd) == 0);
    CHECK(close(rfd) == 0);
    fd = open("fm_shared", O_RDONLY);
    CHECK(fd >= 0);
    static unsigned char all[3 * PAGE];
    CHECK(read(fd, all, sizeof all) == (ssize_t)sizeof all);
    CHECK(all[10] == 0xa1 && all[PAGE + 20] == 0xa2 && all[3 * PAGE - 1] == 0xa3);
    CHECK(all[PAGE - 1] == 0xe1 && all[200] == 0xd1 && all[PAGE + 300] == 0xd2);
    CHECK(all[PAGE + 1] == 0xb1 && all[PAGE + 2] == 0xb2 && all[2 * PAGE + 50] == 0xc1);
    CHECK(memcmp(all + 100, "PWRITE", 6) == 0 && memcmp(all + 2 * PAGE + 7, "write", 5) == 0);
    CHECK(all[11] == pat(11, 1) && all[PAGE + 3] == pat(PAGE + 3, 1));
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0 && sb.st_size == (off_t)(3 * PAGE));
    CHECK(close(fd) == 0);
    CHECK(unlink("fm_shared") == 0);
}

/* ---- 2. MAP_PRIVATE ---- */

static void t_private(void) {
    int fd = make_file("fm_private", 4, 2);
    volatile unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    volatile unsigned char *s = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    volatile unsigned char *p2 = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED && s != MAP_FAILED && p2 != MAP_FAILED);
    if (p == MAP_FAILED || s == MAP_FAILED || p2 == MAP_FAILED) return;
    CHECK(is_pat(p, 0, 4 * PAGE, 2));

    /* Page 0: a private store reaches neither the file nor other mappings. */
    p[5] = 0x11;
    CHECK(p[5] == 0x11);
    CHECK(pread_byte(fd, 5) == pat(5, 2));
    CHECK(s[5] == pat(5, 2));
    CHECK(p2[5] == pat(5, 2));
    /* ... and the private copy no longer follows the file, in any byte of the page. */
    CHECK(pwrite(fd, "X", 1, 6) == 1);
    s[7] = 'Y';
    CHECK(p[6] == pat(6, 2) && p[7] == pat(7, 2));
    CHECK(s[6] == 'X' && p2[6] == 'X' && p2[7] == 'Y');

    /* Page 1, never touched, and page 2, only read: writes to the file show through. */
    CHECK(p[2 * PAGE + 9] == pat(2 * PAGE + 9, 2));
    CHECK(pwrite(fd, "AB", 2, PAGE + 9) == 2);
    CHECK(pwrite(fd, "CD", 2, 2 * PAGE + 9) == 2);
    CHECK(p[PAGE + 9] == 'A' && p[PAGE + 10] == 'B');
    CHECK(p[2 * PAGE + 9] == 'C' && p[2 * PAGE + 10] == 'D');
    /* So do stores through a shared mapping of the file. */
    s[PAGE + 11] = 'E';
    s[2 * PAGE + 11] = 'F';
    CHECK(p[PAGE + 11] == 'E' && p[2 * PAGE + 11] == 'F');

    /* Page 2 stored to: from then on a private copy, keeping what it saw before. */
    p[2 * PAGE + 100] = 0x22;
    CHECK(pwrite(fd, "GH", 2, 2 * PAGE + 9) == 2);
    s[2 * PAGE + 200] = 0x33;
    CHECK(p[2 * PAGE + 9] == 'C' && p[2 * PAGE + 10] == 'D' && p[2 * PAGE + 11] == 'F');
    CHECK(p[2 * PAGE + 200] == pat(2 * PAGE + 200, 2) && p[2 * PAGE + 100] == 0x22);
    CHECK(pread_byte(fd, 2 * PAGE + 100) == pat(2 * PAGE + 100, 2));
    CHECK(s[2 * PAGE + 9] == 'G' && p2[2 * PAGE + 9] == 'G');

    /* Page 3, the read-only private mapping and untouched pages keep following the file. */
    CHECK(pwrite(fd, "IJ", 2, 3 * PAGE) == 2);
    CHECK(p[3 * PAGE] == 'I' && p2[3 * PAGE + 1] == 'J');

    /* A private copy made by a forked child is its own; the parent's pages are unchanged. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = p[5] == 0x11 && p[PAGE + 9] == 'A';
        p[5] = 0x44;
        p[3 * PAGE + 5] = 0x45;
        _exit(ok && p[5] == 0x44 ? 0 : 3);
    }
    CHECK(pid > 0);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(p[5] == 0x11 && p[3 * PAGE + 5] == pat(3 * PAGE + 5, 2));
    CHECK(pread_byte(fd, 3 * PAGE + 5) == pat(3 * PAGE + 5, 2));

    CHECK(munmap((void *)p, 4 * PAGE) == 0);
    CHECK(munmap((void *)s, 4 * PAGE) == 0);
    CHECK(munmap((void *)p2, 4 * PAGE) == 0);
    /* Nothing private ever reached the file. */
    CHECK(pread_byte(fd, 5) == pat(5, 2) && pread_byte(fd, 2 * PAGE + 100) == pat(2 * PAGE + 100, 2));
    CHECK(close(fd) == 0);
    CHECK(unlink("fm_private") == 0);
}

/* ---- 3. Errors ---- */

static void t_errors(void) {
    int fd = make_file("fm_errors", 2, 3);
    CHECK(close(fd) == 0);

    /* O_RDONLY: no writable shared mapping, not even via mprotect; private is fine. */
    int ro = open("fm_errors", O_RDONLY);
    CHECK(ro >= 0);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, ro, 0), EACCES);
    volatile unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, ro, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(m[1] == pat(1, 3) && m[2 * PAGE - 1] == pat(2 * PAGE - 1, 3));
        CHECK_ERR(mprotect((void *)m, 2 * PAGE, PROT_READ | PROT_WRITE), EACCES);
        CHECK_ERR(mprotect((void *)(m + PAGE), PAGE, PROT_WRITE), EACCES);
        CHECK(mprotect((void *)m, 2 * PAGE, PROT_NONE) == 0);
        CHECK(mprotect((void *)m, 2 * PAGE, PROT_READ) == 0);
        CHECK(m[1] == pat(1, 3));
        CHECK(munmap((void *)m, 2 * PAGE) == 0);
    }
    volatile unsigned char *pv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    CHECK(pv != MAP_FAILED);
    if (pv != MAP_FAILED) {
        pv[0] = 0x99;
        CHECK(pv[0] == 0x99 && pv[1] == pat(1, 3));
        CHECK(pread_byte(ro, 0) == pat(0, 3));
        CHECK(munmap((void *)pv, 2 * PAGE) == 0);
    }
    /* A read-only private mapping of an O_RDONLY fd can be made writable: it is a COW. */
    pv = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, 0);
    CHECK(pv != MAP_FAILED);
    if (pv != MAP_FAILED) {
        CHECK(mprotect((void *)pv, PAGE, PROT_READ | PROT_WRITE) == 0);
        pv[2] = 0x98;
        CHECK(pv[2] == 0x98 && pread_byte(ro, 2) == pat(2, 3));
        CHECK(munmap((void *)pv, PAGE) == 0);
    }

    /* An offset that is not page aligned. */
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 100), EINVAL);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, PAGE + 1), EINVAL);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, PAGE / 2), EINVAL);

    /* MAP_SHARED_VALIDATE: known flags work, an unknown one or MAP_SYNC on a file without
     * DAX is EOPNOTSUPP. Plain MAP_SHARED ignores the unknown flag. */
    long v = kmmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE, ro, 0);
    CHECK(v != -1);
    if (v != -1) {
        CHECK(*(volatile unsigned char *)v == pat(0, 3));
        CHECK(munmap((void *)v, PAGE) == 0);
    }
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, ro, 0), EOPNOTSUPP);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, ro, 0), EOPNOTSUPP);
    v = kmmap(NULL, PAGE, PROT_READ, MAP_SHARED | 0x200000, ro, 0);
    CHECK(v != -1);
    if (v != -1) CHECK(munmap((void *)v, PAGE) == 0);
    CHECK(close(ro) == 0);

    /* O_WRONLY: no mapping of any kind. */
    int wo = open("fm_errors", O_WRONLY);
    CHECK(wo >= 0);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_SHARED, wo, 0), EACCES);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, wo, 0), EACCES);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, wo, 0), EACCES);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, wo, 0), EACCES);
    CHECK(close(wo) == 0);

    /* O_PATH descriptors cannot be mapped at all. */
    int op = open("fm_errors", O_PATH);
    CHECK(op >= 0);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, op, 0), EBADF);
    CHECK(close(op) == 0);

    /* A directory and a pipe have no mmap. */
    CHECK(mkdir("fm_dir", 0755) == 0);
    int dfd = open("fm_dir", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, dfd, 0), ENODEV);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_SHARED, dfd, 0), ENODEV);
    CHECK(close(dfd) == 0);
    CHECK(rmdir("fm_dir") == 0);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, pfd[0], 0), ENODEV);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_SHARED, pfd[0], 0), ENODEV);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, pfd[1], 0), EACCES);
    CHECK(close(pfd[0]) == 0 && close(pfd[1]) == 0);
    CHECK(unlink("fm_errors") == 0);
}

/* ---- 4. Truncation and mapping past the end ---- */

static void t_truncate(void) {
    install_bus();
    int fd = make_file("fm_trunc", 2, 4);
    volatile unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    volatile unsigned char *pc = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    volatile unsigned char *pr = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED && pc != MAP_FAILED && pr != MAP_FAILED);
    if (m == MAP_FAILED || pc == MAP_FAILED || pr == MAP_FAILED) return;
    /* Fault every page in first, so truncation has to take them away. */
    CHECK(faults(m + PAGE + 5, 0) == 0);
    CHECK(faults(m + PAGE + 6, 1) == 0);
    CHECK(m[PAGE + 6] == 0x77 && m[PAGE + 5] == pat(PAGE + 5, 4));
    CHECK(faults(pc + PAGE + 6, 1) == 0); /* a private copy of the second page */
    CHECK(faults(pr + PAGE + 5, 0) == 0);

    /* Down to one page: the second page is gone from every mapping, even the private copy. */
    CHECK(ftruncate(fd, PAGE) == 0);
    CHECK(faults(m + PAGE + 5, 0) == 1);
    CHECK(faults(m + PAGE, 1) == 1);
    CHECK(faults(m + 2 * PAGE - 1, 0) == 1);
    CHECK(faults(pc + PAGE + 6, 0) == 1);
    CHECK(faults(pr + PAGE + 5, 0) == 1);
    CHECK(m[PAGE - 1] == pat(PAGE - 1, 4) && pr[0] == pat(0, 4));

    /* Down to 100 bytes: the rest of the first page reads zeros, in the shared mapping and in
     * a private one that never stored there. */
    CHECK(ftruncate(fd, 100) == 0);
    CHECK(is_pat(m, 0, 100, 4));
    CHECK(all_zero(m + 100, PAGE - 100));
    CHECK(all_zero(pr + 100, PAGE - 100) && is_pat(pr, 0, 100, 4));
    CHECK(faults(m + PAGE, 0) == 1);
    /* Stores past the end within the last page stay out of the file's contents. */
    m[50] = 0x51;
    m[300] = 0x52;
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0 && sb.st_size == 100);
    unsigned char buf[400];
    CHECK(pread(fd, buf, sizeof buf, 0) == 100);
    CHECK(buf[50] == 0x51);

    /* Growing the file again: the second page is back and reads zeros. */
    CHECK(ftruncate(fd, 2 * PAGE) == 0);
    CHECK(faults(m + PAGE + 5, 0) == 0);
    CHECK(all_zero(m + PAGE, PAGE));
    CHECK(faults(pr + PAGE + 5, 0) == 0);
    CHECK(all_zero(pr + PAGE, PAGE));
    CHECK(faults(m + PAGE + 8, 1) == 0);
    CHECK(pread_byte(fd, PAGE + 8) == 0x77);
    CHECK(m[50] == 0x51 && is_pat(m, 0, 50, 4) && m[99] == pat(99, 4));
    CHECK(munmap((void *)m, 2 * PAGE) == 0);
    CHECK(munmap((void *)pc, 2 * PAGE) == 0);
    CHECK(munmap((void *)pr, 2 * PAGE) == 0);
    CHECK(close(fd) == 0);
    CHECK(unlink("fm_trunc") == 0);

    /* A one-page file mapped with three pages: pages two and three raise SIGBUS. */
    fd = make_file("fm_short", 1, 5);
    m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    pc = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED && pc != MAP_FAILED);
    if (m == MAP_FAILED || pc == MAP_FAILED) return;
    CHECK(is_pat(m, 0, PAGE, 5));
    CHECK(faults(m + PAGE, 0) == 1);
    CHECK(faults(m + PAGE + 123, 1) == 1);
    CHECK(faults(m + 2 * PAGE, 0) == 1);
    CHECK(faults(m + 3 * PAGE - 1, 1) == 1);
    CHECK(faults(pc + PAGE + 1, 0) == 1);
    CHECK(faults(pc + 2 * PAGE + 2, 1) == 1);
    CHECK(faults(pc + PAGE - 1, 1) == 0); /* the page inside the file is fine */
    /* The handler ran with SIGBUS blocked and siglongjmp restored the mask each time. */
    sigset_t cur;
    CHECK(sigprocmask(SIG_SETMASK, NULL, &cur) == 0 && !sigismember(&cur, SIGBUS));
    /* Nothing stored past the end reached the file. */
    CHECK(fstat(fd, &sb) == 0 && sb.st_size == (off_t)PAGE);
    CHECK(munmap((void *)m, 3 * PAGE) == 0);
    CHECK(munmap((void *)pc, 3 * PAGE) == 0);
    CHECK(close(fd) == 0);
    CHECK(unlink("fm_short") == 0);
}

/* ---- 5. Filled only through a mapping ---- */

static void t_fill(void) {
    int fd = open("fm_fill", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 3 * PAGE + 500) == 0);
    volatile unsigned char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    CHECK(all_zero(m, 3 * PAGE + 500));
    for (size_t i = 0; i < PAGE; i++) m[i] = pat(i, 6);
    /* page 1 left as a hole */
    for (size_t i = 2 * PAGE; i < 3 * PAGE + 500; i += 3) m[i] = pat(i, 6);
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0 && sb.st_size == (off_t)(3 * PAGE + 500));
    CHECK(munmap((void *)m, 4 * PAGE) == 0);
    CHECK(fstat(fd, &sb) == 0 && sb.st_size == (off_t)(3 * PAGE + 500));
    CHECK(close(fd) == 0);

    fd = open("fm_fill", O_RDONLY);
    CHECK(fd >= 0);
    static unsigned char buf[4 * PAGE];
    CHECK(read(fd, buf, sizeof buf) == (ssize_t)(3 * PAGE + 500));
    CHECK(is_pat(buf, 0, PAGE, 6));
    CHECK(all_zero(buf + PAGE, PAGE));
    int ok = 1;
    for (size_t i = 2 * PAGE; i < 3 * PAGE + 500; i++)
        if (buf[i] != ((i - 2 * PAGE) % 3 == 0 ? pat(i, 6) : 0)) ok = 0;
    CHECK(ok);
    CHECK(read(fd, buf, 1) == 0);
    CHECK(close(fd) == 0);
    CHECK(unlink("fm_fill") == 0);
}

/* ---- 6. memfd ---- */

static void t_memfd(void) {
    int fd = memfd_create("fm_memfd", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 2 * PAGE) == 0);
    volatile unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    CHECK(all_zero(m, 2 * PAGE));
    m[0] = 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = m[0] == 1;
        m[1] = 0x61;
        m[2 * PAGE - 1] = 0x62;
        /* The child's own mapping of the inherited descriptor is the same memory too. */
        volatile unsigned char *cm = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
        if (cm == MAP_FAILED) _exit(4);
        cm[10] = 0x63;
        _exit(ok ? 0 : 3);
    }
    CHECK(pid > 0);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(m[1] == 0x61 && m[2 * PAGE - 1] == 0x62 && m[PAGE + 10] == 0x63);
    CHECK(pread_byte(fd, 1) == 0x61 && pread_byte(fd, PAGE + 10) == 0x63);
    CHECK(pwrite(fd, "Z", 1, 2) == 1);
    CHECK(m[2] == 'Z');
    CHECK(munmap((void *)m, 2 * PAGE) == 0);
    CHECK(close(fd) == 0);

    /* F_SEAL_WRITE needs every writable shared mapping gone. */
    fd = memfd_create("fm_sealed", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 2 * PAGE) == 0);
    CHECK(pwrite(fd, "sealed", 6, 0) == 6);
    m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    m[PAGE] = 0x71;
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
    CHECK(fcntl(fd, F_GET_SEALS) == 0);
    /* A forked child's inherited mapping stands in the way too, the parent's gone. */
    int go[2], held[2];
    CHECK(pipe(go) == 0 && pipe(held) == 0);
    fflush(stdout);
    pid_t holder = fork();
    if (holder == 0) {
        char c;
        close(go[1]);
        if (write(held[1], "h", 1) != 1 || read(go[0], &c, 1) != 1) _exit(6);
        _exit(m[PAGE] == 0x71 ? 0 : 5);
    }
    char hc = 0;
    CHECK(read(held[0], &hc, 1) == 1);
    CHECK(munmap((void *)m, 2 * PAGE) == 0);
    CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
    CHECK(write(go[1], "g", 1) == 1);
    /* A read-only shared mapping of the file open for writing may become writable
     * (mprotect): it stands in the way too (Linux's VM_MAYWRITE). */
    volatile unsigned char *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(ro != MAP_FAILED);
    if (ro != MAP_FAILED) {
        CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
        CHECK(munmap((void *)ro, PAGE) == 0);
    }
    CHECK(waitpid(holder, &st, 0) == holder);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(go[0]);
    close(go[1]);
    close(held[0]);
    close(held[1]);
    /* A private writable mapping does not stand in the way. */
    volatile unsigned char *pv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(pv != MAP_FAILED);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
    CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_WRITE);
    if (pv != MAP_FAILED) {
        pv[0] = 'S';
        CHECK(pv[0] == 'S' && pread_byte(fd, 0) == 's');
        CHECK(munmap((void *)pv, PAGE) == 0);
    }
    /* Sealed: no writable shared mapping, no write(); read-only shared and private work. */
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, fd, PAGE), EPERM);
    volatile unsigned char *r = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(r != MAP_FAILED);
    if (r != MAP_FAILED) {
        CHECK(memcmp((const void *)r, "sealed", 6) == 0 && r[PAGE] == 0x71);
        CHECK_ERR(mprotect((void *)r, PAGE, PROT_READ | PROT_WRITE), EACCES);
        CHECK(munmap((void *)r, 2 * PAGE) == 0);
    }
    pv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(pv != MAP_FAILED);
    if (pv != MAP_FAILED) {
        pv[1] = 'E';
        CHECK(pv[1] == 'E' && pv[0] == 's');
        CHECK(munmap((void *)pv, PAGE) == 0);
    }
    CHECK_ERR(write(fd, "x", 1), EPERM);
    CHECK_ERR(pwrite(fd, "x", 1, 10), EPERM);
    CHECK(pread_byte(fd, 10) == 0 && pread_byte(fd, 0) == 's');
    CHECK(close(fd) == 0);

    /* F_SEAL_SHRINK and F_SEAL_GROW. */
    fd = memfd_create("fm_size", MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 2 * PAGE) == 0);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
    CHECK_ERR(ftruncate(fd, PAGE), EPERM);
    CHECK_ERR(ftruncate(fd, 0), EPERM);
    CHECK(ftruncate(fd, 3 * PAGE) == 0);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == 0);
    CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW));
    CHECK_ERR(ftruncate(fd, 4 * PAGE), EPERM);
    CHECK(ftruncate(fd, 3 * PAGE) == 0);
    CHECK_ERR(pwrite(fd, "gg", 2, 3 * PAGE), EPERM);
    CHECK_ERR(pwrite(fd, "gg", 2, 5 * PAGE), EPERM);
    CHECK(pwrite(fd, "ok", 2, 3 * PAGE - 2) == 2);
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0 && sb.st_size == (off_t)(3 * PAGE));
    /* Size seals do not block writable shared mappings. */
    m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        m[5] = 5;
        CHECK(pread_byte(fd, 5) == 5 && m[3 * PAGE - 2] == 'o');
        CHECK(munmap((void *)m, 3 * PAGE) == 0);
    }
    CHECK(close(fd) == 0);
}

/* ---- 7. A 1 MiB file ---- */

static void t_large(void) {
    const size_t size = 1UL << 20;
    int fd = open("fm_large", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    static unsigned char buf[64 * 1024];
    uint32_t x = 12345;
    uint64_t want = 0;
    for (size_t off = 0; off < size; off += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (unsigned char)(x >> 16);
            want = want * 31 + buf[i];
        }
        CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
    }
    const unsigned char *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    uint64_t got_map = 0, got_read = 0;
    for (size_t i = 0; i < size; i++) got_map = got_map * 31 + m[i];
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) got_read = got_read * 31 + buf[i];
        total += n;
    }
    CHECK(total == size);
    CHECK(got_read == want);
    CHECK(got_map == want);
    CHECK(munmap((void *)m, size) == 0);
    /* A private mapping at an offset inside agrees with pread. */
    const unsigned char *p = mmap(NULL, 64 * PAGE, PROT_READ, MAP_PRIVATE, fd, 128 * PAGE);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        CHECK(pread(fd, buf, 64 * PAGE < sizeof buf ? 64 * PAGE : sizeof buf, 128 * PAGE) ==
              (ssize_t)sizeof buf);
        CHECK(memcmp(p, buf, sizeof buf) == 0);
        CHECK(munmap((void *)p, 64 * PAGE) == 0);
    }
    CHECK(close(fd) == 0);
    CHECK(unlink("fm_large") == 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sub("shared", t_shared);
    sub("private", t_private);
    sub("errors", t_errors);
    sub("truncate", t_truncate);
    sub("fill", t_fill);
    sub("memfd", t_memfd);
    sub("large", t_large);
    /* Leftovers of a part that died early. */
    static const char *const names[] = {"fm_shared", "fm_private", "fm_errors", "fm_trunc",
                                        "fm_short",  "fm_fill",    "fm_large"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(names[i]);
    rmdir("fm_dir");
    DONE();
}
