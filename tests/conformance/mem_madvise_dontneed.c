/* MADV_DONTNEED on file and shared memory mappings, as Linux's zap of the page-table entries:
 * the resident set (statm's resident) drops by the pages unmapped, for shared and private
 * mappings of a file on disk, of a memfd (tmpfs) and of a System V segment; the next touch
 * of a shared mapping faults the page back from the file or segment (what was stored through
 * the mapping is kept, what was written to the file since shows), and a private mapping's
 * written copies are gone: it reads the file's current contents again. Shared anonymous
 * memory keeps its contents too. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define N 1024
#define PG 4096L
/* Slack in pages: libc's own allocations and Linux's per-CPU counters (read without the
 * CPUs' pending parts), as in proc_rss_counters. */
#define SLACK 96

static char statm[256];

static long long resident(void) {
    long long size = 0, res = 0;
    CHECK(lt_slurp("/proc/self/statm", statm, sizeof statm) > 0);
    if (sscanf(statm, "%lld %lld", &size, &res) != 2)
        printf("statm unreadable: %s\n", statm);
    return res;
}

static void touch(volatile char *p, long pages) {
    for (long i = 0; i < pages; i++)
        (void)p[i * PG];
}

/* Touches N pages of `p`, checks resident grew by about N since `r0` (read before the
 * caller touched any), then MADV_DONTNEED takes them back. */
static void drops(const char *what, char *p, long long r0) {
    touch(p, N);
    long long r1 = resident();
    CHECK_OK(madvise(p, N * PG, MADV_DONTNEED));
    long long r2 = resident();
    if (r1 - r0 < N - SLACK || r1 - r2 < N - SLACK) {
        printf("%s: resident %lld, %lld after touching %d pages, %lld after MADV_DONTNEED\n",
               what, r0, r1, N, r2);
        lt_failures++;
    }
}

/* A file of N pages of 'a' (fd open for reading and writing). */
static void fill(int fd) {
    static char page[PG];
    memset(page, 'a', sizeof page);
    for (int i = 0; i < N; i++)
        CHECK(pwrite(fd, page, PG, i * PG) == PG);
}

static void file_mappings(const char *what, int fd) {
    fill(fd);
    /* Shared: stores through the mapping stay, writes to the file show. */
    char *s = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(s != MAP_FAILED);
    if (s == MAP_FAILED)
        return;
    long long r0 = resident();
    s[0] = 'b';
    drops(what, s, r0);
    CHECK(s[0] == 'b');
    CHECK(pwrite(fd, "c", 1, PG) == 1);
    CHECK(s[PG] == 'c');
    char got = 0;
    CHECK(pread(fd, &got, 1, 0) == 1 && got == 'b');

    /* Private: a written copy goes, the file's current contents show again. */
    char *p = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    if (p == MAP_FAILED)
        return;
    r0 = resident();
    p[2 * PG] = 'p';
    CHECK(pwrite(fd, "d", 1, 2 * PG) == 1);
    CHECK(p[2 * PG] == 'p');
    drops(what, p, r0);
    CHECK(p[2 * PG] == 'd');
    CHECK(p[0] == 'b' && p[PG] == 'c');
    /* Written copies of every page go too. */
    for (long i = 0; i < N; i++)
        p[i * PG] = 'q';
    long long r1 = resident();
    CHECK_OK(madvise(p, N * PG, MADV_DONTNEED));
    long long r2 = resident();
    if (r1 - r2 < N - SLACK) {
        printf("%s: private copies: resident %lld, %lld after MADV_DONTNEED\n", what, r1, r2);
        lt_failures++;
    }
    CHECK(p[3 * PG] == 'a');
    CHECK_OK(munmap(p, N * PG));
    CHECK_OK(munmap(s, N * PG));
}

int main(void) {
    /* A file on the disk (the test's directory), and a memfd (tmpfs). */
    char name[] = "madv_dontneed_XXXXXX";
    int fd = mkstemp(name);
    CHECK(fd >= 0);
    if (fd >= 0) {
        unlink(name);
        file_mappings("disk file", fd);
        close(fd);
    }
    int mfd = memfd_create("dontneed", 0);
    CHECK(mfd >= 0);
    if (mfd >= 0) {
        file_mappings("memfd", mfd);
        close(mfd);
    }

    /* A System V segment: its pages stay in the segment. */
    int id = shmget(IPC_PRIVATE, N * PG, IPC_CREAT | 0600);
    CHECK(id >= 0);
    if (id >= 0) {
        char *m = shmat(id, NULL, 0);
        CHECK(m != (void *)-1);
        if (m != (void *)-1) {
            long long r0 = resident();
            memset(m, 's', N * PG);
            drops("System V segment", m, r0);
            CHECK(m[0] == 's' && m[(N - 1) * PG] == 's');
            CHECK_OK(shmdt(m));
        }
        CHECK_OK(shmctl(id, IPC_RMID, NULL));
    }

    /* Shared anonymous memory keeps its contents. */
    char *a = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED);
    if (a != MAP_FAILED) {
        a[0] = 'x';
        a[15 * PG] = 'y';
        CHECK_OK(madvise(a, 16 * PG, MADV_DONTNEED));
        CHECK(a[0] == 'x' && a[15 * PG] == 'y');
        CHECK_OK(munmap(a, 16 * PG));
    }
    DONE();
}
