/* madvise's walk over a range as Linux does it, for the advice that changes memory:
 * MADV_REMOVE punches shared memory (a shared anonymous mapping reads zeros in every process
 * sharing it; a shared file mapping's bytes read as zeros through read() too, the size kept),
 * EINVAL for private anonymous memory, EACCES for private or read-only file mappings;
 * MADV_FREE is for private anonymous memory only (EINVAL otherwise); MADV_DONTNEED_LOCKED
 * drops private pages as MADV_DONTNEED does; a hole in the range is ENOMEM after the mapped
 * parts around it were advised. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PAGE 4096UL
#ifndef MADV_REMOVE
#define MADV_REMOVE 9
#endif
#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

static int all_bytes(const unsigned char *p, size_t len, unsigned char b) {
    for (size_t i = 0; i < len; i++)
        if (p[i] != b) return 0;
    return 1;
}

static void t_shared_anon(void) {
    unsigned char *m = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 'x', 3 * PAGE);
    int go[2], done[2];
    CHECK_OK(pipe(go));
    CHECK_OK(pipe(done));
    pid_t pid = fork();
    if (pid == 0) {
        char b;
        if (read(go[0], &b, 1) != 1) _exit(10);
        int bad = (!all_bytes(m, PAGE, 'x')) | (!all_bytes(m + PAGE, PAGE, 0)) << 1 |
                  (!all_bytes(m + 2 * PAGE, PAGE, 'x')) << 2;
        /* The punched page is still shared memory: a store shows in the parent. */
        m[PAGE] = 'y';
        if (write(done[1], "d", 1) != 1) _exit(11);
        _exit(bad);
    }
    CHECK_OK(madvise(m + PAGE, PAGE, MADV_REMOVE));
    CHECK(all_bytes(m + PAGE, PAGE, 0));
    CHECK(write(go[1], "g", 1) == 1);
    char b;
    CHECK(read(done[0], &b, 1) == 1);
    CHECK(m[PAGE] == 'y');
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    CHECK(all_bytes(m, PAGE, 'x'));
    /* MADV_FREE is for private anonymous memory. */
    CHECK_ERR(madvise(m, PAGE, MADV_FREE), EINVAL);
    munmap(m, 3 * PAGE);
}

static void t_private(void) {
    unsigned char *m = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 'p', 2 * PAGE);
    CHECK_ERR(madvise(m, PAGE, MADV_REMOVE), EINVAL);
    CHECK(all_bytes(m, PAGE, 'p'));
    CHECK_OK(madvise(m, PAGE, MADV_FREE));
    CHECK_OK(madvise(m + PAGE, PAGE, MADV_DONTNEED_LOCKED));
    CHECK(all_bytes(m + PAGE, PAGE, 0));
    munmap(m, 2 * PAGE);
}

static void t_file(void) {
    char path[] = "/tmp/madvise_remove_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unsigned char buf[3 * PAGE];
    for (int i = 0; i < 3; i++) memset(buf + i * PAGE, 'a' + i, PAGE);
    CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
    unsigned char *m = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(madvise(m + PAGE, PAGE, MADV_REMOVE));
    CHECK(all_bytes(m + PAGE, PAGE, 0));
    CHECK(all_bytes(m, PAGE, 'a'));
    CHECK(all_bytes(m + 2 * PAGE, PAGE, 'c'));
    CHECK(pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf);
    CHECK(all_bytes(buf, PAGE, 'a'));
    CHECK(all_bytes(buf + PAGE, PAGE, 0));
    CHECK(all_bytes(buf + 2 * PAGE, PAGE, 'c'));
    struct stat sb;
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_size == 3 * PAGE);
    CHECK_ERR(madvise(m, PAGE, MADV_FREE), EINVAL);
    munmap(m, 3 * PAGE);

    /* A shared mapping of a file not open for writing, and a private file mapping, may not
     * punch the file. (A read-only shared mapping of a writable descriptor may since Linux
     * 6.7, not before: left untested.) */
    int rfd = open(path, O_RDONLY);
    CHECK(rfd >= 0);
    void *ro = mmap(0, PAGE, PROT_READ, MAP_SHARED, rfd, 0);
    CHECK(ro != MAP_FAILED);
    CHECK_ERR(madvise(ro, PAGE, MADV_REMOVE), EACCES);
    munmap(ro, PAGE);
    close(rfd);
    unsigned char *pv = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(pv != MAP_FAILED);
    CHECK_ERR(madvise(pv, PAGE, MADV_REMOVE), EACCES);
    CHECK_ERR(madvise(pv, PAGE, MADV_FREE), EINVAL);
    CHECK(all_bytes(pv, PAGE, 'a'));
    munmap(pv, PAGE);
    close(fd);
    unlink(path);
}

/* A hole: the pages on both sides are dropped, then ENOMEM. A walk that meets an unsuitable
 * VMA stops there with the VMAs before it done. */
static void t_holes(void) {
    unsigned char *m = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 'h', 3 * PAGE);
    CHECK_OK(munmap(m + PAGE, PAGE));
    CHECK_ERR(madvise(m, 3 * PAGE, MADV_DONTNEED), ENOMEM);
    CHECK(all_bytes(m, PAGE, 0));
    CHECK(all_bytes(m + 2 * PAGE, PAGE, 0));
    munmap(m, 3 * PAGE);

    unsigned char *p = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK(mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1,
               0) == p + PAGE);
    memset(p, 'f', 2 * PAGE);
    CHECK_ERR(madvise(p, 2 * PAGE, MADV_FREE), EINVAL);
    CHECK(all_bytes(p + PAGE, PAGE, 'f'));
    munmap(p, 2 * PAGE);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    t_shared_anon();
    t_private();
    t_file();
    t_holes();
    DONE();
}
