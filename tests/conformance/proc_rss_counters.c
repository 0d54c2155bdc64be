/* The resident set's parts as Linux counts them (MM_ANONPAGES, MM_FILEPAGES,
 * MM_SHMEMPAGES): touching N pages of a private anonymous mapping grows statm's resident
 * and status' RssAnon by about N pages, reading N pages of a file mapping grows RssFile,
 * writing N pages of a shared anonymous mapping grows RssShmem, and munmap or
 * MADV_DONTNEED takes them away again; a fork's child starts with its parent's anonymous
 * pages, a private mapping's written file pages are its own (RssAnon), mremap moves them,
 * and oom_score and VmHWM follow. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 1024
#define PG 4096L
/* Slack in pages: libc's own allocations, the stack, and Linux's counters, which are
 * per-CPU (6.2 on; per-task before) and read without the CPUs' pending parts. */
#define SLACK 96

static char buf[1 << 16];

struct rss {
    long long resident, anon, file, shmem, hwm;
};

static struct rss now(void) {
    struct rss r = {0};
    long long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lld %lld", &size, &res) != 2)
        printf("statm unreadable\n");
    if (f)
        fclose(f);
    r.resident = res;
    CHECK(lt_slurp("/proc/self/status", buf, sizeof buf) > 0);
    r.anon = lt_field_num(buf, "RssAnon") / 4;
    r.file = lt_field_num(buf, "RssFile") / 4;
    r.shmem = lt_field_num(buf, "RssShmem") / 4;
    r.hwm = lt_field_num(buf, "VmHWM") / 4;
    return r;
}

/* `got` grew (or shrank, for a negative `want`) by about `want` pages. */
static int about(const char *what, long long got, long long want) {
    if (got < want - SLACK || got > want + SLACK) {
        printf("%s changed by %lld pages, expected about %lld\n", what, got, want);
        return 0;
    }
    return 1;
}

static void touch(volatile char *p, long pages, int write) {
    for (long i = 0; i < pages; i++) {
        if (write)
            p[i * PG] = 1;
        else
            (void)p[i * PG];
    }
}

/* N pages of anonymous memory (`flags`: private or shared), written: the counts before
 * in `a`, after in `b`. */
static char *written(int flags, struct rss *a, struct rss *b) {
    *a = now();
    char *p = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    touch(p, N, 1);
    *b = now();
    return p;
}

static void test_anon(void) {
    struct rss a, b;
    char *p = written(MAP_PRIVATE, &a, &b);
    CHECK(about("resident after touching anon", b.resident - a.resident, N));
    CHECK(about("RssAnon after touching anon", b.anon - a.anon, N));
    CHECK(about("RssFile after touching anon", b.file - a.file, 0));
    CHECK(b.hwm >= b.resident - SLACK);
    /* A fork's child has its parent's private pages mapped (copy-on-write): the same
     * counts. */
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct rss k = now();
        char ok = about("RssAnon in a fork's child", k.anon - b.anon, 0);
        if (write(pipefd[1], &ok, 1) != 1)
            _exit(2);
        _exit(0);
    }
    CHECK(pid > 0);
    char ok = 0;
    CHECK(read(pipefd[0], &ok, 1) == 1);
    CHECK(ok);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(pipefd[0]);
    close(pipefd[1]);
    CHECK(madvise(p, N / 2 * PG, MADV_DONTNEED) == 0);
    struct rss c = now();
    CHECK(about("RssAnon after MADV_DONTNEED", c.anon - b.anon, -N / 2));
    CHECK(about("resident after MADV_DONTNEED", c.resident - b.resident, -N / 2));
    /* mremap moves the pages: the counts stay. */
    char *q = mremap(p, N * PG, 2 * N * PG, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED);
    struct rss d = now();
    CHECK(about("RssAnon after mremap", d.anon - c.anon, 0));
    CHECK(munmap(q, 2 * N * PG) == 0);
    struct rss e = now();
    CHECK(about("RssAnon after munmap", e.anon - a.anon, 0));
    CHECK(about("resident after munmap", e.resident - a.resident, 0));
    CHECK(e.hwm >= b.resident - SLACK);
}

static void test_file(void) {
    char path[] = "/tmp/proc_rss_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    static char page[PG];
    memset(page, 'x', sizeof page);
    for (int i = 0; i < N; i++)
        CHECK(write(fd, page, PG) == PG);
    struct rss a = now();
    char *p = mmap(NULL, N * PG, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    touch(p, N, 0);
    struct rss b = now();
    /* /tmp may be tmpfs: its pages are shared memory then. */
    long long grown = b.file - a.file + b.shmem - a.shmem;
    CHECK(about("RssFile+RssShmem after reading a file mapping", grown, N));
    CHECK(about("resident after reading a file mapping", b.resident - a.resident, N));
    CHECK(about("RssAnon after reading a file mapping", b.anon - a.anon, 0));
    CHECK(munmap(p, N * PG) == 0);
    struct rss c = now();
    CHECK(about("RssFile+RssShmem after munmap", c.file - a.file + c.shmem - a.shmem, 0));

    /* A private writable mapping: read pages are the file's, written ones its own. */
    p = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    touch(p, N, 0);
    struct rss d = now();
    CHECK(about("file pages of a private mapping", d.file - a.file + d.shmem - a.shmem, N));
    touch(p, N / 2, 1);
    struct rss e = now();
    CHECK(about("RssAnon after writing a private file mapping", e.anon - d.anon, N / 2));
    CHECK(about("file pages after writing a private mapping",
                e.file - d.file + e.shmem - d.shmem, -N / 2));
    CHECK(madvise(p, N * PG, MADV_DONTNEED) == 0);
    struct rss f = now();
    CHECK(about("RssAnon after MADV_DONTNEED of a private file mapping", f.anon - a.anon, 0));
    CHECK(about("file pages after MADV_DONTNEED", f.file - a.file + f.shmem - a.shmem, 0));
    touch(p, N / 4, 1);
    CHECK(munmap(p, N * PG) == 0);
    struct rss g = now();
    CHECK(about("RssAnon after munmap of a private file mapping", g.anon - a.anon, 0));
    CHECK(about("file pages after munmap", g.file - a.file + g.shmem - a.shmem, 0));
    close(fd);
}

static void test_shmem(void) {
    struct rss a, b;
    char *p = written(MAP_SHARED, &a, &b);
    CHECK(about("RssShmem after writing shared anonymous memory", b.shmem - a.shmem, N));
    CHECK(about("RssAnon after writing shared anonymous memory", b.anon - a.anon, 0));
    CHECK(munmap(p, N * PG) == 0);
    struct rss d = now();
    CHECK(about("RssShmem after munmap", d.shmem - a.shmem, 0));
}

/* oom_score is the resident set's share of memory: it does not fall as memory is touched. */
static void test_oom_score(void) {
    long before = 0, after = 0;
    FILE *f = fopen("/proc/self/oom_score", "r");
    CHECK(f && fscanf(f, "%ld", &before) == 1);
    if (f)
        fclose(f);
    size_t len = 64L << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    touch(p, len / PG, 1);
    f = fopen("/proc/self/oom_score", "r");
    CHECK(f && fscanf(f, "%ld", &after) == 1);
    if (f)
        fclose(f);
    if (after < before)
        printf("oom_score %ld -> %ld after touching 64 MiB\n", before, after);
    CHECK(after >= before);
    munmap(p, len);
}

int main(void) {
    test_anon();
    test_file();
    test_shmem();
    test_oom_score();
    DONE();
}
