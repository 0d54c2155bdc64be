/* mmap, munmap and mprotect: anonymous private and shared mappings, MAP_FIXED replacement,
 * file-backed private mappings, the permissions /proc/self/maps reports, and the argument
 * errors Linux gives. Error cases use the raw system call because libc checks some
 * arguments itself (musl rejects unaligned offsets and huge lengths before the kernel). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096UL

static long kmmap(void *addr, size_t len, int prot, int flags, int fd, long off) {
    return syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static char maps[1 << 17];

static void read_maps(void) {
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t len = 0;
    ssize_t n;
    maps[0] = 0;
    if (fd < 0) return;
    while (len < sizeof maps - 1 && (n = read(fd, maps + len, sizeof maps - 1 - len)) > 0) len += n;
    close(fd);
    maps[len] = 0;
}

/* The permission string /proc/self/maps gives for the mapping that contains addr, or "" */
static const char *perms_at(const void *addr) {
    static char perms[8];
    read_maps();
    perms[0] = 0;
    for (char *line = maps; *line;) {
        char *nl = strchr(line, '\n');
        unsigned long s, e;
        char p[8];
        if (sscanf(line, "%lx-%lx %7s", &s, &e, p) == 3 && s <= (uintptr_t)addr && (uintptr_t)addr < e) {
            strcpy(perms, p);
            break;
        }
        if (!nl) break;
        line = nl + 1;
    }
    return perms;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    /* Anonymous private memory: page aligned, zeroed, writable. */
    size_t len = 3 * PAGE;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK(((uintptr_t)p & (PAGE - 1)) == 0);
    CHECK(all_zero(p, len));
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(i * 7);
    int same = 1;
    for (size_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)(i * 7)) same = 0;
    CHECK(same);
    CHECK(strcmp(perms_at(p), "rw-p") == 0);
    CHECK(strcmp(perms_at(p + len - 1), "rw-p") == 0);

    /* A length that is not a page multiple is rounded up. */
    unsigned char *q = mmap(NULL, 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    CHECK(((uintptr_t)q & (PAGE - 1)) == 0);
    q[PAGE - 1] = 1;
    CHECK(q[PAGE - 1] == 1 && q[100] == 0);
    CHECK(munmap(q, 100) == 0);

    /* A non-fixed hint that is unaligned still yields an aligned address. */
    q = mmap((void *)0x10000123, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    CHECK(((uintptr_t)q & (PAGE - 1)) == 0);
    CHECK(munmap(q, PAGE) == 0);

    /* Argument errors. */
    CHECK_ERR(kmmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    CHECK_ERR(kmmap((void *)(0x200000000UL + 123), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
              EINVAL);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
    /* PRIVATE|SHARED is MAP_SHARED_VALIDATE, which anonymous mappings do not accept. */
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0), EINVAL);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 9999, 0), EBADF);
    CHECK_ERR(kmmap(NULL, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
    CHECK_ERR(kmmap(NULL, (size_t)-PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
    CHECK_ERR(syscall(SYS_munmap, p + 1, PAGE), EINVAL);
    CHECK_ERR(syscall(SYS_munmap, p, 0), EINVAL);
    CHECK_ERR(syscall(SYS_munmap, 0xffff800000000000UL, PAGE), EINVAL);
    CHECK_ERR(syscall(SYS_mprotect, p + 1, PAGE, PROT_READ), EINVAL);
    CHECK_ERR(syscall(SYS_mprotect, p, PAGE, 0x1000), EINVAL); /* unknown PROT bit */
    /* An empty range succeeds before the bits are looked at; both growth directions never. */
    CHECK(syscall(SYS_mprotect, p, 0, 0x1000) == 0);
    CHECK_ERR(syscall(SYS_mprotect, p + 1, 0, PROT_READ), EINVAL);
    CHECK_ERR(syscall(SYS_mprotect, p, 0, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), EINVAL);

    /* munmap of a range with nothing mapped succeeds; mprotect there fails with ENOMEM. */
    unsigned char *hole = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(hole != MAP_FAILED);
    CHECK(munmap(hole, 2 * PAGE) == 0);
    CHECK(syscall(SYS_munmap, hole, 2 * PAGE) == 0);
    CHECK_ERR(syscall(SYS_mprotect, hole, PAGE, PROT_READ), ENOMEM);
    CHECK(strcmp(perms_at(hole), "") == 0);

    /* mprotect: the middle page becomes read-only and still reads; maps shows the split. */
    CHECK(mprotect(p + PAGE, PAGE, PROT_READ) == 0);
    CHECK(p[PAGE] == (unsigned char)(PAGE * 7) && p[PAGE + 5] == (unsigned char)((PAGE + 5) * 7));
    CHECK(strcmp(perms_at(p), "rw-p") == 0);
    CHECK(strcmp(perms_at(p + PAGE), "r--p") == 0);
    CHECK(strcmp(perms_at(p + 2 * PAGE), "rw-p") == 0);
    CHECK(mprotect(p + PAGE, PAGE, PROT_NONE) == 0);
    CHECK(strcmp(perms_at(p + PAGE), "---p") == 0);
    CHECK(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0);
    CHECK(strcmp(perms_at(p + PAGE), "rw-p") == 0);
    p[PAGE] = 0x5a; /* writable again, contents kept */
    CHECK(p[PAGE] == 0x5a && p[PAGE + 1] == (unsigned char)((PAGE + 1) * 7));

    /* MAP_FIXED over the existing mapping replaces its contents with zeros. */
    unsigned char *f = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(f == p + PAGE);
    CHECK(all_zero(p + PAGE, PAGE));
    CHECK(p[0] == 0 && p[1] == 7 && p[2 * PAGE + 1] == (unsigned char)((2 * PAGE + 1) * 7));
    f = mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(f == p);
    CHECK(p[1] == 0);
    CHECK(strcmp(perms_at(p), "r--p") == 0);
    /* MAP_FIXED_NOREPLACE refuses to replace. */
    CHECK_ERR(kmmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    CHECK(munmap(p, len) == 0);

    /* A 64 MiB mapping touched sparsely. */
    size_t big = 64UL << 20;
    unsigned char *b = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(b != MAP_FAILED);
    if (b != MAP_FAILED) {
        for (size_t off = 0; off < big; off += 1UL << 20) b[off + (off >> 20)] = (unsigned char)(off >> 20);
        b[big - 1] = 0xee;
        int ok = 1;
        for (size_t off = 0; off < big; off += 1UL << 20)
            if (b[off + (off >> 20)] != (unsigned char)(off >> 20) || b[off + 4096 + 17] != 0) ok = 0;
        CHECK(ok);
        CHECK(b[big - 1] == 0xee && b[big / 2 + 3] == 0);
        CHECK(munmap(b, big) == 0);
    }

    /* A regular file mapped MAP_PRIVATE shows its contents, zero past the end, and private
     * writes do not reach the file. */
    static const char text[] = "mapped file contents\n";
    int fd = open("mmap_file", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(memcmp(m, text, sizeof text - 1) == 0);
        CHECK(all_zero((unsigned char *)m + sizeof text - 1, PAGE - (sizeof text - 1)));
        CHECK(strcmp(perms_at(m), "rw-p") == 0);
        m[0] = 'M';
        char back[8] = {0};
        CHECK(pread(fd, back, 6, 0) == 6);
        CHECK(memcmp(back, "mapped", 6) == 0);
        CHECK(m[0] == 'M');
        CHECK(munmap(m, PAGE) == 0);
    }
    /* Read-only mapping of the same file; offsets must be page aligned. */
    m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(memcmp(m, text, sizeof text - 1) == 0);
        CHECK(strcmp(perms_at(m), "r--p") == 0);
        CHECK(munmap(m, PAGE) == 0);
    }
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
    CHECK(close(fd) == 0);
    /* A read-only descriptor cannot back a writable shared mapping. */
    fd = open("mmap_file", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0); /* private is fine */
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(m[0] == 'm');
        CHECK(munmap(m, PAGE) == 0);
    }
    CHECK(close(fd) == 0);
    /* A write-only descriptor cannot back any mapping. */
    fd = open("mmap_file", O_WRONLY);
    CHECK(fd >= 0);
    CHECK_ERR(kmmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0), EACCES);
    CHECK(close(fd) == 0);
    /* An O_APPEND descriptor backs a writable shared mapping as any other (only the
     * append-only inode flag refuses it), and stores through it reach the file. */
    fd = open("mmap_file", O_RDWR | O_APPEND);
    CHECK(fd >= 0);
    m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(strcmp(perms_at(m), "rw-s") == 0);
        char was = m[0];
        m[0] = 'A';
        char b = 0;
        CHECK(pread(fd, &b, 1, 0) == 1 && b == 'A');
        m[0] = was;
        CHECK(munmap(m, PAGE) == 0);
    }
    m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK_OK(mprotect(m, PAGE, PROT_READ | PROT_WRITE));
        CHECK(munmap(m, PAGE) == 0);
    }
    m = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED_VALIDATE, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) CHECK(munmap(m, PAGE) == 0);
    CHECK(close(fd) == 0);

    /* MAP_ANONYMOUS|MAP_SHARED: zeroed, usable, and shared with a forked child. */
    volatile unsigned char *s = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED);
    if (s != MAP_FAILED) {
        CHECK(all_zero((unsigned char *)s, 2 * PAGE));
        s[0] = 1;
        s[2 * PAGE - 1] = 2;
        CHECK(s[0] == 1 && s[2 * PAGE - 1] == 2);
        CHECK(strcmp(perms_at((void *)s), "rw-s") == 0);
        pid_t pid = fork();
        if (pid == 0) {
            int ok = s[0] == 1 && s[2 * PAGE - 1] == 2;
            s[PAGE] = 42;
            _exit(ok ? 0 : 3);
        }
        CHECK(pid > 0);
        int st = 0;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK(s[PAGE] == 42);
        CHECK(munmap((void *)s, 2 * PAGE) == 0);
    }

    DONE();
}
