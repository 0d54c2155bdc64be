/* fallocate: growing a file, FALLOC_FL_KEEP_SIZE, punching holes (zeros read back, size
 * kept), and the errors for bad modes, ranges, fds and file kinds. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 1
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 2
#endif
#include <sys/stat.h>

static off_t size_of(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    return st.st_size;
}

int main(void) {
    int fd = open("falloc", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);

    /* Mode 0 grows the size; the new bytes read as zeros; it never shrinks. */
    CHECK(write(fd, "abcdef", 6) == 6);
    CHECK_OK(fallocate(fd, 0, 0, 10000));
    CHECK(size_of(fd) == 10000);
    char buf[16];
    CHECK(pread(fd, buf, 4, 9000) == 4);
    CHECK(memcmp(buf, "\0\0\0\0", 4) == 0);
    CHECK_OK(fallocate(fd, 0, 0, 10));
    CHECK(size_of(fd) == 10000);
    CHECK(pread(fd, buf, 6, 0) == 6 && memcmp(buf, "abcdef", 6) == 0);

    /* KEEP_SIZE past the end leaves the size alone. */
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 50000));
    CHECK(size_of(fd) == 10000);

    /* A punched hole reads zeros and keeps the size, even when it runs past the end. */
    CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1, 3));
    CHECK(pread(fd, buf, 6, 0) == 6 && memcmp(buf, "a\0\0\0ef", 6) == 0);
    CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4, 20000));
    CHECK(size_of(fd) == 10000);
    CHECK(pread(fd, buf, 6, 0) == 6 && memcmp(buf, "a\0\0\0\0\0", 6) == 0);

    /* Errors. */
    CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
    CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
    CHECK_ERR(fallocate(fd, 0, 0, -5), EINVAL);
    CHECK_ERR(fallocate(-1, 0, 0, 10), EBADF);
    int ro = open("falloc", O_RDONLY);
    CHECK(ro >= 0);
    CHECK_ERR(fallocate(ro, 0, 0, 10), EBADF);
    close(ro);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERR(fallocate(p[1], 0, 0, 10), ESPIPE);
    close(p[0]);
    close(p[1]);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(dir >= 0);
    CHECK_ERR(fallocate(dir, 0, 0, 10), EBADF); /* not open for writing comes first */
    close(dir);
    int null = open("/dev/null", O_WRONLY);
    CHECK(null >= 0);
    CHECK_ERR(fallocate(null, 0, 0, 10), ENODEV);
    close(null);

    close(fd);
    CHECK_OK(unlink("falloc"));
    DONE();
}
