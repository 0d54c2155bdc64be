/* tmpfs files (here a memfd, which lives on Linux's internal tmpfs) are sparse: ftruncate
 * to a size beyond RAM succeeds and costs no blocks, holes read as zeros, st_blocks counts
 * only the pages written, and a shared mapping of the big file works page by page.
 * stress-ng's msync stressor (ftruncate of its 256 MiB file on tmpfs) found the ENOSPC. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const off_t big = 1L << 30;
    int fd = memfd_create("sparse", 0);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, big));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == big);
    CHECK(st.st_blocks == 0);
    char buf[16];
    memset(buf, 7, sizeof buf);
    CHECK(pread(fd, buf, sizeof buf, big / 2) == (ssize_t)sizeof buf);
    int zero = 1;
    for (size_t i = 0; i < sizeof buf; i++) zero &= buf[i] == 0;
    CHECK(zero);
    CHECK(pread(fd, buf, sizeof buf, big) == 0);

    /* One byte written: one page allocated. */
    CHECK(pwrite(fd, "x", 1, 100L << 20) == 1);
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_blocks == 8);
    CHECK(st.st_size == big);

    /* A shared mapping of the whole file: touch two pages, sync, read back with pread. */
    char *p = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        CHECK(p[(100L << 20)] == 'x');
        CHECK(p[12345] == 0);
        p[12345] = 'a';
        p[big - 1] = 'z';
        CHECK_OK(msync(p, big, MS_SYNC));
        char c = 0;
        CHECK(pread(fd, &c, 1, 12345) == 1 && c == 'a');
        CHECK(pread(fd, &c, 1, big - 1) == 1 && c == 'z');
        CHECK_OK(munmap(p, big));
    }
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_blocks == 3 * 8);

    /* Shrinking frees the pages past the end; growing again shows zeros there. */
    CHECK_OK(ftruncate(fd, 12346));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_blocks == 8);
    CHECK_OK(ftruncate(fd, big));
    char c = 1;
    CHECK(pread(fd, &c, 1, 100L << 20) == 1 && c == 0);
    CHECK(pread(fd, &c, 1, 12345) == 1 && c == 'a');
    close(fd);
    DONE();
}
