/* mremap (grow in place, shrink, move, MREMAP_FIXED, MREMAP_DONTUNMAP, duplicating a shared
 * mapping) and its errors; mincore residency and errors; madvise(MADV_DONTNEED) on anonymous
 * and private file memory; MAP_GROWSDOWN and MAP_POPULATE; growth of the main stack; and
 * RLIMIT_AS / RLIMIT_DATA limits on mmap, mremap and brk. Calls go through the raw system
 * call where libc checks arguments itself. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define PAGE 4096UL

static void *kmremap(void *old, size_t old_len, size_t new_len, long flags, void *new_addr) {
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}

static void *anon(void *hint, size_t len, int extra) {
    return mmap(hint, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
}

static int mapped(void *addr, size_t len) {
    unsigned char v[64];
    return syscall(SYS_mincore, addr, len, v) == 0;
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 31 + seed);
}

static int filled(const unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed)) return 0;
    return 1;
}

/* A range of `len` bytes nothing is mapped in (reserved, then released). */
static unsigned char *hole(size_t len) {
    unsigned char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    munmap(p, len);
    return p;
}

/* Touches `kib` KiB of this frame's stack; returns a checksum of what it wrote and read. */
static __attribute__((noinline)) unsigned long deep_stack(int kib) {
    volatile unsigned char big[1 << 20];
    unsigned long sum = 0;
    size_t n = (size_t)kib * 1024;
    if (n > sizeof big) n = sizeof big;
    for (size_t i = 0; i < n; i += 512) big[i] = (unsigned char)(i >> 9);
    for (size_t i = 0; i < n; i += 512) sum += big[i];
    return sum;
}

static __attribute__((noinline)) unsigned long recurse(int depth) {
    volatile char frame[4096];
    frame[0] = (char)depth;
    frame[4095] = (char)depth;
    if (depth == 0) return 0;
    return recurse(depth - 1) + (unsigned char)frame[0] + (unsigned char)frame[4095];
}

/* The total size of this process's mappings, from /proc/self/maps. */
static size_t vm_size(void) {
    static char buf[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0) return 0;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += n;
    close(fd);
    buf[len] = 0;
    size_t total = 0;
    for (char *line = buf; *line;) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) == 2 && e > s) total += e - s;
        char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
    return total;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned char vec[64];

    /* Grow in place: the pages after the mapping are free. */
    {
        unsigned char *r = hole(8 * PAGE);
        CHECK(r != NULL);
        unsigned char *p = anon(r, PAGE, MAP_FIXED);
        CHECK(p == r);
        fill(p, PAGE, 1);
        unsigned char *q = kmremap(p, PAGE, 4 * PAGE, 0, NULL);
        CHECK(q == p);
        if (q == p) {
            CHECK(filled(q, PAGE, 1));
            CHECK(all_zero(q + PAGE, 3 * PAGE));
            q[4 * PAGE - 1] = 7;
            CHECK(mapped(q, 4 * PAGE));
            CHECK(!mapped(q + 4 * PAGE, PAGE));
        }
        /* Shrink: the tail goes away, the head stays. */
        q = kmremap(p, 4 * PAGE, 2 * PAGE, 0, NULL);
        CHECK(q == p);
        CHECK(filled(p, PAGE, 1));
        CHECK(mapped(p, 2 * PAGE));
        CHECK_ERR(syscall(SYS_mincore, p + 2 * PAGE, PAGE, vec), ENOMEM);
        /* A shrink to a size that is not a page multiple rounds up. */
        q = kmremap(p, 2 * PAGE, PAGE + 1, 0, NULL);
        CHECK(q == p);
        CHECK(mapped(p, 2 * PAGE));
        /* Same size is a no-op. */
        CHECK(kmremap(p, 2 * PAGE, 2 * PAGE, 0, NULL) == p);
        munmap(p, 2 * PAGE);
    }

    /* Growing without MREMAP_MAYMOVE when the next page is taken: ENOMEM, nothing changes. */
    {
        unsigned char *r = hole(4 * PAGE);
        unsigned char *p = anon(r, 2 * PAGE, MAP_FIXED);
        unsigned char *b = anon(r + 2 * PAGE, PAGE, MAP_FIXED);
        CHECK(p == r && b == r + 2 * PAGE);
        fill(p, 2 * PAGE, 2);
        b[0] = 0x5a;
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 3 * PAGE, 0, NULL), ENOMEM);
        CHECK(filled(p, 2 * PAGE, 2));
        CHECK(b[0] == 0x5a);

        /* With MREMAP_MAYMOVE it moves, keeping the contents; the old range is unmapped. */
        unsigned char *q = kmremap(p, 2 * PAGE, 6 * PAGE, MREMAP_MAYMOVE, NULL);
        CHECK(q != MAP_FAILED && q != p);
        if (q != MAP_FAILED) {
            CHECK(filled(q, 2 * PAGE, 2));
            CHECK(all_zero(q + 2 * PAGE, 4 * PAGE));
            q[6 * PAGE - 1] = 1;
            CHECK(!mapped(p, PAGE));
            CHECK(!mapped(p + PAGE, PAGE));
            CHECK(b[0] == 0x5a);
            munmap(q, 6 * PAGE);
        }
        munmap(b, PAGE);
    }

    /* MREMAP_FIXED moves to a chosen address (replacing what was there). */
    {
        unsigned char *p = anon(NULL, 3 * PAGE, 0);
        unsigned char *t = anon(NULL, 5 * PAGE, 0);
        CHECK(p != MAP_FAILED && t != MAP_FAILED);
        fill(p, 3 * PAGE, 3);
        memset(t, 0x77, 5 * PAGE);
        unsigned char *q = kmremap(p, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, t + PAGE);
        CHECK(q == t + PAGE);
        if (q == t + PAGE) {
            CHECK(filled(q, 3 * PAGE, 3));
            CHECK(t[0] == 0x77 && t[4 * PAGE] == 0x77);
        }
        CHECK(!mapped(p, 3 * PAGE));
        /* Into a hole, growing at the same time. */
        unsigned char *h = hole(8 * PAGE);
        unsigned char *q2 = kmremap(t + PAGE, 3 * PAGE, 6 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, h);
        CHECK(q2 == h);
        if (q2 == h) {
            CHECK(filled(h, 3 * PAGE, 3));
            CHECK(all_zero(h + 3 * PAGE, 3 * PAGE));
            munmap(h, 6 * PAGE);
        }
        CHECK(mapped(t, PAGE) && !mapped(t + PAGE, 3 * PAGE) && mapped(t + 4 * PAGE, PAGE));
        munmap(t, 5 * PAGE);
    }

    /* MREMAP_DONTUNMAP: moves the pages, leaving the old range mapped and empty. */
    {
        unsigned char *p = anon(NULL, 2 * PAGE, 0);
        fill(p, 2 * PAGE, 4);
        unsigned char *q = kmremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
        CHECK(q != MAP_FAILED && q != p);
        if (q != MAP_FAILED) {
            CHECK(filled(q, 2 * PAGE, 4));
            CHECK(mapped(p, 2 * PAGE));
            CHECK(all_zero(p, 2 * PAGE));
            munmap(q, 2 * PAGE);
        }
        /* It needs MREMAP_MAYMOVE and equal sizes. */
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 2 * PAGE, MREMAP_DONTUNMAP, NULL), EINVAL);
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL), EINVAL);
        munmap(p, 2 * PAGE);
    }

    /* old_size 0 on a shared mapping makes a second mapping of the same pages. */
    {
        unsigned char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK(s != MAP_FAILED);
        unsigned char *d = kmremap(s, 0, PAGE, MREMAP_MAYMOVE, NULL);
        CHECK(d != MAP_FAILED && d != s);
        if (d != MAP_FAILED) {
            s[10] = 0x42;
            CHECK(d[10] == 0x42);
            d[20] = 0x43;
            CHECK(s[20] == 0x43);
            munmap(d, PAGE);
        }
        munmap(s, PAGE);
        /* ...but on a private mapping it is EINVAL. */
        unsigned char *p = anon(NULL, PAGE, 0);
        CHECK_ERR((long)kmremap(p, 0, PAGE, MREMAP_MAYMOVE, NULL), EINVAL);
        munmap(p, PAGE);
    }

    /* mremap errors. The mapping sits at the start of a hole, so nothing follows it. */
    {
        unsigned char *p = anon(hole(8 * PAGE), 2 * PAGE, MAP_FIXED);
        CHECK(p != MAP_FAILED);
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 2 * PAGE, 0x80, NULL), EINVAL);                    /* bad flags */
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 2 * PAGE, MREMAP_FIXED, p + 8 * PAGE), EINVAL);     /* FIXED without MAYMOVE */
        CHECK_ERR((long)kmremap(p + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL), EINVAL);           /* unaligned old */
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 0, MREMAP_MAYMOVE, NULL), EINVAL);                  /* new size 0 */
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 0, 0, NULL), EINVAL);
        unsigned char *h = hole(4 * PAGE);
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, h + 1), EINVAL); /* unaligned new */
        CHECK_ERR((long)kmremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, p + PAGE), EINVAL); /* overlap */
        CHECK_ERR((long)kmremap(h, PAGE, 2 * PAGE, MREMAP_MAYMOVE, NULL), EFAULT);               /* unmapped old */
        CHECK_ERR((long)kmremap(h, PAGE, PAGE, 0, NULL), EFAULT);
        /* An old range that runs past the end of the mapping. */
        CHECK_ERR((long)kmremap(p, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, NULL), EFAULT);
        CHECK(mapped(p, 2 * PAGE));
        munmap(p, 2 * PAGE);
    }

    /* mincore: touched pages are resident; untouched anonymous pages are not. The mapping
     * sits at the start of a hole so nothing follows it. */
    {
        unsigned char *p = anon(hole(10 * PAGE), 8 * PAGE, MAP_FIXED);
        CHECK(p != MAP_FAILED);
        memset(vec, 0xee, sizeof vec);
        CHECK(syscall(SYS_mincore, p, 8 * PAGE, vec) == 0);
        int untouched = 0;
        for (int i = 0; i < 8; i++) untouched |= vec[i] & 1;
        CHECK(untouched == 0);
        CHECK(vec[8] == 0xee); /* only one byte per page is written */
        p[0] = 1;
        p[3 * PAGE + 5] = 1;
        p[7 * PAGE] = 1;
        memset(vec, 0, sizeof vec);
        CHECK(syscall(SYS_mincore, p, 8 * PAGE, vec) == 0);
        CHECK(vec[0] & 1);
        CHECK(vec[3] & 1);
        CHECK(vec[7] & 1);
        CHECK((vec[1] & 1) == 0 && (vec[5] & 1) == 0);
        for (int i = 0; i < 8; i++) CHECK((vec[i] & ~1) == 0);
        /* A length that is not a page multiple covers the partial page. */
        memset(vec, 0xee, sizeof vec);
        CHECK(syscall(SYS_mincore, p, PAGE + 1, vec) == 0);
        CHECK(vec[0] == 1 && vec[1] == 0 && vec[2] == 0xee);
        /* Errors. */
        CHECK_ERR(syscall(SYS_mincore, p + 1, PAGE, vec), EINVAL);
        CHECK_ERR(syscall(SYS_mincore, p, 8 * PAGE, (void *)8), EFAULT);
        unsigned char *h = hole(4 * PAGE);
        CHECK_ERR(syscall(SYS_mincore, h, PAGE, vec), ENOMEM);
        CHECK_ERR(syscall(SYS_mincore, p + 7 * PAGE, 2 * PAGE, vec), ENOMEM); /* runs off the end */
        CHECK(syscall(SYS_mincore, p, 0, vec) == 0);

        /* MADV_DONTNEED: private anonymous memory reads back as zero and is no longer resident. */
        memset(p, 0xab, 8 * PAGE);
        CHECK(madvise(p + 2 * PAGE, 3 * PAGE, MADV_DONTNEED) == 0);
        CHECK(p[0] == 0xab && p[2 * PAGE - 1] == 0xab);
        CHECK(all_zero(p + 2 * PAGE, 3 * PAGE));
        CHECK(p[5 * PAGE] == 0xab);
        memset(vec, 0xee, sizeof vec);
        CHECK(syscall(SYS_mincore, p, 8 * PAGE, vec) == 0);
        CHECK((vec[0] & 1) && (vec[5] & 1));
        /* madvise errors and harmless advice. */
        CHECK(madvise(p, 8 * PAGE, MADV_WILLNEED) == 0);
        CHECK(madvise(p, 8 * PAGE, MADV_NORMAL) == 0);
        CHECK(madvise(p, 8 * PAGE, MADV_SEQUENTIAL) == 0);
        CHECK(madvise(p, 8 * PAGE, MADV_RANDOM) == 0);
        CHECK_ERR(syscall(SYS_madvise, p + 1, PAGE, MADV_DONTNEED), EINVAL);
        CHECK_ERR(syscall(SYS_madvise, p, PAGE, 12345), EINVAL);
        CHECK_ERR(syscall(SYS_madvise, h, PAGE, MADV_DONTNEED), ENOMEM);
        CHECK(syscall(SYS_madvise, p, 0, MADV_DONTNEED) == 0);
        munmap(p, 8 * PAGE);
    }

    /* MADV_DONTNEED on a private file mapping brings back the file's contents. */
    {
        int fd = open("remap.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
        CHECK(fd >= 0);
        char data[2 * PAGE];
        for (size_t i = 0; i < sizeof data; i++) data[i] = (char)('a' + i % 26);
        CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
        unsigned char *f = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK(f != MAP_FAILED);
        if (f != MAP_FAILED) {
            memset(f, 'X', 2 * PAGE);
            CHECK(madvise(f, PAGE, MADV_DONTNEED) == 0);
            CHECK(memcmp(f, data, PAGE) == 0);
            CHECK(f[PAGE] == 'X');
            /* A file page that was read is resident. */
            CHECK(syscall(SYS_mincore, f, 2 * PAGE, vec) == 0);
            CHECK((vec[0] & 1) && (vec[1] & 1));
            /* mremap of a file mapping keeps the file backing. */
            unsigned char *g = kmremap(f, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, hole(2 * PAGE));
            CHECK(g != MAP_FAILED);
            if (g != MAP_FAILED) {
                CHECK(memcmp(g, data, PAGE) == 0 && g[PAGE] == 'X');
                CHECK(madvise(g + PAGE, PAGE, MADV_DONTNEED) == 0);
                CHECK(memcmp(g + PAGE, data + PAGE, PAGE) == 0);
                munmap(g, 2 * PAGE);
            }
        }
        close(fd);
        unlink("remap.dat");
    }

    /* MAP_POPULATE makes the pages resident up front. */
    {
        unsigned char *p = anon(NULL, 16 * PAGE, MAP_POPULATE);
        CHECK(p != MAP_FAILED);
        memset(vec, 0, sizeof vec);
        CHECK(syscall(SYS_mincore, p, 16 * PAGE, vec) == 0);
        int all = 1;
        for (int i = 0; i < 16; i++) all &= vec[i] & 1;
        CHECK(all);
        CHECK(all_zero(p, 16 * PAGE));
        munmap(p, 16 * PAGE);
    }

    /* MAP_GROWSDOWN is accepted and gives ordinary writable memory. */
    {
        unsigned char *g = anon(NULL, 4 * PAGE, MAP_GROWSDOWN);
        CHECK(g != MAP_FAILED);
        if (g != MAP_FAILED) {
            CHECK(all_zero(g, 4 * PAGE));
            fill(g, 4 * PAGE, 5);
            CHECK(filled(g, 4 * PAGE, 5));
            munmap(g, 4 * PAGE);
        }
    }

    /* The main stack grows on demand: a 1 MiB frame, then 256 nested 4 KiB frames. */
    {
        unsigned long want = 0;
        for (size_t i = 0; i < (1u << 20); i += 512) want += (unsigned char)(i >> 9);
        CHECK(deep_stack(1024) == want);
        unsigned long rsum = 0;
        for (int d = 1; d <= 256; d++) rsum += 2 * (unsigned long)(unsigned char)d;
        CHECK(recurse(256) == rsum);
    }

    /* RLIMIT_AS: in a child, a limit 64 MiB above current use stops a 256 MiB mmap. */
    {
        pid_t pid = fork();
        if (pid == 0) {
            size_t used = vm_size();
            if (used == 0) used = 64UL << 20;
            struct rlimit rl = {used + (64UL << 20), used + (64UL << 20)}, got;
            if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(2);
            if (getrlimit(RLIMIT_AS, &got) != 0 || got.rlim_cur != rl.rlim_cur) _exit(3);
            errno = 0;
            void *big = mmap(NULL, 256UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (big != MAP_FAILED) _exit(4);
            if (errno != ENOMEM) _exit(5);
            /* PROT_NONE reservations count too. */
            big = mmap(NULL, 256UL << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (big != MAP_FAILED || errno != ENOMEM) _exit(6);
            /* A small one still fits. */
            unsigned char *s = mmap(NULL, 4UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (s == MAP_FAILED) _exit(7);
            s[0] = 1;
            /* Growing it past the limit with mremap fails with ENOMEM too. */
            errno = 0;
            if (kmremap(s, 4UL << 20, 256UL << 20, MREMAP_MAYMOVE, NULL) != MAP_FAILED || errno != ENOMEM) _exit(8);
            if (s[0] != 1) _exit(9);
            /* And so does brk. */
            void *cur = (void *)syscall(SYS_brk, 0);
            void *want = (char *)cur + (256UL << 20);
            if ((void *)syscall(SYS_brk, want) == want) _exit(10);
            _exit(0);
        }
        int st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("RLIMIT_AS child status %#x\n", st);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }

    /* RLIMIT_DATA: private writable mappings and brk count against it. */
    {
        pid_t pid = fork();
        if (pid == 0) {
            struct rlimit rl = {32UL << 20, 32UL << 20};
            if (setrlimit(RLIMIT_DATA, &rl) != 0) _exit(2);
            errno = 0;
            void *big = mmap(NULL, 256UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (big != MAP_FAILED || errno != ENOMEM) {
                printf("RLIMIT_DATA 32 MiB: mmap 256 MiB private rw gave %p errno %d, expected ENOMEM\n", big, errno);
                _exit(3);
            }
            void *cur = (void *)syscall(SYS_brk, 0);
            void *want = (char *)cur + (256UL << 20);
            if ((void *)syscall(SYS_brk, want) == want) _exit(4);
            /* Read-only and shared mappings are not data. */
            big = mmap(NULL, 256UL << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (big == MAP_FAILED) _exit(5);
            munmap(big, 256UL << 20);
            _exit(0);
        }
        int st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("RLIMIT_DATA child status %#x\n", st);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }

    DONE();
}
