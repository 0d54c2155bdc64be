/* mlock, mlock2, munlock, mlockall, munlockall and MAP_LOCKED: locked pages are resident
 * at once (mincore) unless MLOCK_ONFAULT/MCL_ONFAULT, VmLck and smaps' Locked count them,
 * MCL_FUTURE locks later mappings and is not inherited by fork, madvise(DONTNEED) refuses
 * locked pages, and without CAP_IPC_LOCK RLIMIT_MEMLOCK bounds it all (ENOMEM, EAGAIN,
 * EPERM at 0). Run as root; the limit checks run in a child that became nobody. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

#define PG 4096L

static long mlock2_(void *p, size_t len, unsigned flags) {
    return syscall(SYS_mlock2, p, len, flags);
}

/* A "Name:   N kB" line of a /proc file, for the entry starting at `at` (smaps) or the
 * whole file (at == 0); -1 when absent. Read without stdio: a buffer malloc'd here would
 * be a new mapping, locked under MCL_FUTURE. */
static long kb_of(const char *file, unsigned long at, const char *name) {
    static char buf[1 << 18];
    int fd = open(file, O_RDONLY);
    if (fd < 0) return -1;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += n;
    close(fd);
    buf[len] = 0;
    int in = at == 0;
    size_t nl = strlen(name);
    for (char *line = buf; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        unsigned long s, e;
        if (at && sscanf(line, "%lx-%lx ", &s, &e) == 2) {
            in = s == at;
            continue;
        }
        if (in && strncmp(line, name, nl) == 0 && line[nl] == ':')
            return strtol(line + nl + 1, NULL, 10);
    }
    return -1;
}

static long vmlck(void) {
    return kb_of("/proc/self/status", 0, "VmLck");
}

/* Resident pages of [p, p + n pages). */
static int resident(void *p, long n) {
    unsigned char v[64];
    if (n > 64 || mincore(p, n * PG, v) != 0) return -1;
    int r = 0;
    for (long i = 0; i < n; i++) r += v[i] & 1;
    return r;
}

static void *map(long pages, int extra) {
    void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void flags_checked(void) {
    char *p = map(4, 0);
    CHECK(p != NULL);
    CHECK_ERR(mlock2_(p, PG, 2), EINVAL);
    CHECK_ERR(mlockall(0), EINVAL);
    CHECK_ERR(mlockall(MCL_ONFAULT), EINVAL);
    CHECK_ERR(mlockall(8), EINVAL);
    /* A hole in the range: ENOMEM, with what comes before it locked (not faulted in), as
     * Linux's VMA walk leaves it; a range starting in the hole locks nothing. */
    long before = vmlck();
    CHECK_OK(munmap(p + 2 * PG, PG));
    CHECK_ERR(mlock(p + 2 * PG, 2 * PG), ENOMEM);
    CHECK(vmlck() == before);
    CHECK_ERR(mlock(p, 4 * PG), ENOMEM);
    CHECK(vmlck() == before + 8);
    CHECK(resident(p, 2) == 0);
    CHECK_OK(munlock(p, 2 * PG));
    CHECK_OK(mlock(p, 0));
    munmap(p, 4 * PG);
}

static void ranges(void) {
    long base = vmlck();
    CHECK(base >= 0);
    char *p = map(16, 0);
    CHECK(p != NULL);
    if (!p) return;
    CHECK(resident(p, 16) == 0);
    /* An unaligned start locks its whole page. */
    CHECK_OK(mlock(p + 100, 4 * PG - 100));
    CHECK(vmlck() == base + 16);
    CHECK(resident(p, 16) == 4);
    CHECK(kb_of("/proc/self/smaps", (unsigned long)p, "Locked") == 16);
    CHECK(kb_of("/proc/self/smaps", (unsigned long)(p + 4 * PG), "Locked") == 0);
    /* Locking again counts nothing new. */
    CHECK_OK(mlock(p, 2 * PG));
    CHECK(vmlck() == base + 16);
    CHECK_ERR(madvise(p, PG, MADV_DONTNEED), EINVAL);
    p[0] = 'x';
    CHECK_OK(madvise(p, PG, MADV_DONTNEED_LOCKED));
    CHECK(p[0] == 0);
    CHECK_OK(munlock(p, 4 * PG));
    CHECK(vmlck() == base);
    CHECK_OK(madvise(p, PG, MADV_DONTNEED));
    /* On fault: counted at once, resident only when touched. */
    CHECK_OK(mlock2_(p + 8 * PG, 8 * PG, MLOCK_ONFAULT));
    CHECK(vmlck() == base + 32);
    CHECK(resident(p + 8 * PG, 8) == 0);
    p[9 * PG] = 1;
    CHECK(resident(p + 8 * PG, 8) == 1);
    CHECK_OK(munmap(p, 16 * PG));
    CHECK(vmlck() == base);
    /* MAP_LOCKED: resident without a touch. */
    char *q = map(4, MAP_LOCKED);
    CHECK(q != NULL);
    if (q) {
        CHECK(resident(q, 4) == 4);
        CHECK(vmlck() == base + 16);
        munmap(q, 4 * PG);
    }
}

static void all(void) {
    CHECK_OK(mlockall(MCL_CURRENT | MCL_FUTURE));
    long locked = vmlck();
    CHECK(locked > 0);
    char *p = map(8, 0);
    CHECK(p != NULL);
    if (p) {
        CHECK(resident(p, 8) == 8);
        CHECK(vmlck() == locked + 32);
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* Neither the locks nor MCL_FUTURE pass to the child. */
        int bad = vmlck() != 0;
        char *c = map(4, 0);
        bad |= c == NULL || resident(c, 4) != 0 || vmlck() != 0;
        _exit(bad);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* MCL_FUTURE alone leaves the current locks; MCL_CURRENT alone ends MCL_FUTURE. */
    CHECK_OK(mlockall(MCL_CURRENT));
    char *q = map(4, 0);
    CHECK(q != NULL);
    if (q) {
        CHECK(resident(q, 4) == 0);
        munmap(q, 4 * PG);
    }
    CHECK_OK(munlockall());
    CHECK(vmlck() == 0);
    CHECK_OK(mlockall(MCL_FUTURE | MCL_ONFAULT));
    CHECK(vmlck() == 0);
    q = map(4, 0);
    CHECK(q != NULL);
    if (q) {
        CHECK(resident(q, 4) == 0);
        CHECK(vmlck() == 16);
        munmap(q, 4 * PG);
    }
    CHECK_OK(munlockall());
    if (p) munmap(p, 8 * PG);
}

/* As nobody (no CAP_IPC_LOCK) with RLIMIT_MEMLOCK at 8 pages. */
static int limited(void) {
    struct rlimit r = {8 * PG, 8 * PG};
    int bad = 0;
#define WANT(cond)                                                                             \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "line %d: %s failed (errno %d)\n", __LINE__, #cond, errno);        \
            bad = 1;                                                                           \
        }                                                                                      \
    } while (0)
    WANT(setrlimit(RLIMIT_MEMLOCK, &r) == 0);
    WANT(setuid(65534) == 0);
    char *p = map(16, 0);
    WANT(p != NULL);
    if (!p) return 1;
    WANT(mlock(p, 16 * PG) == -1 && errno == ENOMEM);
    WANT(mlock(p, 4 * PG) == 0);
    WANT(mlock(p, 4 * PG) == 0);
    WANT(mlock(p + 4 * PG, 4 * PG) == 0);
    WANT(mlock(p + 8 * PG, PG) == -1 && errno == ENOMEM);
    WANT(map(1, MAP_LOCKED) == NULL && errno == EAGAIN);
    WANT(mlockall(MCL_CURRENT) == -1 && errno == ENOMEM);
    WANT(munlock(p, 8 * PG) == 0);
    WANT(mlockall(MCL_FUTURE) == 0);
    WANT(map(16, 0) == NULL && errno == EAGAIN);
    WANT(munlockall() == 0);
    r.rlim_cur = r.rlim_max = 0;
    WANT(setrlimit(RLIMIT_MEMLOCK, &r) == 0);
    WANT(mlock(p, PG) == -1 && errno == EPERM);
    WANT(mlockall(MCL_CURRENT) == -1 && errno == EPERM);
    /* The raw call: musl's mmap turns this EPERM into ENOMEM. */
    WANT(syscall(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0) ==
             -1 &&
         errno == EPERM);
    WANT(munlock(p, PG) == 0);
    return bad;
}

int main(void) {
    flags_checked();
    ranges();
    all();
    pid_t pid = fork();
    if (pid == 0) _exit(limited());
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    DONE();
}
