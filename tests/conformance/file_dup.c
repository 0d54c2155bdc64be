/* Descriptor duplication: dup, dup2, dup3, fcntl F_DUPFD/F_DUPFD_CLOEXEC, F_GETFD/F_SETFD,
 * F_GETFL/F_SETFL, and the offset and status flags shared between duplicates. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

static int same_file(int a, int b) {
    struct stat x, y;
    if (fstat(a, &x) || fstat(b, &y)) return 0;
    return x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

static void test_dup(void) {
    int fd = open("dup_a", O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    int d = dup(fd);
    CHECK(d >= 0 && d != fd);
    CHECK(same_file(fd, d));
    /* The duplicate does not inherit close-on-exec. */
    CHECK(fcntl(d, F_GETFD) == 0);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    /* dup returns the lowest free descriptor. */
    int d2 = dup(fd);
    CHECK(d2 == d + 1);
    CHECK_OK(close(d));
    int d3 = dup(fd);
    CHECK(d3 == d);

    /* Shared offset. */
    CHECK(write(fd, "abcdef", 6) == 6);
    CHECK(lseek(d3, 0, SEEK_CUR) == 6);
    CHECK(lseek(d2, 2, SEEK_SET) == 2);
    char c = 0;
    CHECK(read(fd, &c, 1) == 1 && c == 'c');
    CHECK(lseek(d3, 0, SEEK_CUR) == 3);
    /* Closing the original leaves the duplicate working. */
    CHECK_OK(close(fd));
    CHECK(read(d3, &c, 1) == 1 && c == 'd');
    CHECK(lseek(d2, 0, SEEK_CUR) == 4);
    close(d2);
    close(d3);

    CHECK_ERR(dup(-1), EBADF);
    CHECK_ERR(dup(fd), EBADF);
    CHECK_ERR(dup(99999), EBADF);
}

static void test_dup2_dup3(void) {
    int fd = open("dup_b", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(other >= 0);

    /* dup2 onto itself returns it and changes nothing. */
    CHECK(dup2(fd, fd) == fd);
#ifdef SYS_dup2 /* x86_64 only: asm-generic (riscv64, aarch64) has dup3 */
    CHECK(syscall(SYS_dup2, fd, fd) == fd);
    CHECK(is_open(fd));
    CHECK_ERR(syscall(SYS_dup2, 77777, 77777), EBADF);
    CHECK_ERR(syscall(SYS_dup2, -1, -1), EBADF);
#endif

    /* dup2 onto an open descriptor closes it first; the result has no close-on-exec. */
    CHECK(dup2(fd, other) == other);
    CHECK(same_file(fd, other));
    CHECK(fcntl(other, F_GETFD) == 0);
    /* dup2 to a high unused number. */
    CHECK(dup2(fd, 100) == 100);
    CHECK(same_file(fd, 100));
    CHECK(write(100, "xy", 2) == 2);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2);
    CHECK_OK(close(100));
    /* Errors. */
    CHECK_ERR(dup2(-1, 100), EBADF);
    CHECK_ERR(dup2(99999, 100), EBADF);
    CHECK(!is_open(100));
#ifdef SYS_dup2
    CHECK_ERR(syscall(SYS_dup2, fd, -1), EBADF);
    CHECK_ERR(syscall(SYS_dup2, fd, INT_MAX), EBADF);
#endif

    /* dup3 */
    CHECK_ERR(syscall(SYS_dup3, fd, fd, 0), EINVAL);
    CHECK_ERR(syscall(SYS_dup3, fd, fd, O_CLOEXEC), EINVAL);
    CHECK_ERR(syscall(SYS_dup3, fd, 101, O_NONBLOCK), EINVAL);
    CHECK_ERR(syscall(SYS_dup3, fd, 101, 1), EINVAL);
    CHECK(!is_open(101));
    CHECK_ERR(syscall(SYS_dup3, -1, 101, 0), EBADF);
    CHECK_ERR(syscall(SYS_dup3, fd, -1, 0), EBADF);
    CHECK(syscall(SYS_dup3, fd, 101, O_CLOEXEC) == 101);
    CHECK(fcntl(101, F_GETFD) == FD_CLOEXEC);
    CHECK(same_file(fd, 101));
    CHECK(syscall(SYS_dup3, fd, 102, 0) == 102);
    CHECK(fcntl(102, F_GETFD) == 0);
    /* dup3 over an existing descriptor replaces it. */
    CHECK(syscall(SYS_dup3, other, 101, 0) == 101);
    CHECK(fcntl(101, F_GETFD) == 0);
    CHECK(dup3(fd, 103, O_CLOEXEC) == 103);
    CHECK(fcntl(103, F_GETFD) == FD_CLOEXEC);
    close(101);
    close(102);
    close(103);
    close(other);
    close(fd);
}

static void test_fcntl_dupfd(void) {
    int fd = open("dup_c", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    int a = fcntl(fd, F_DUPFD, 50);
    CHECK(a == 50);
    int b = fcntl(fd, F_DUPFD, 50);
    CHECK(b == 51);
    CHECK(fcntl(b, F_GETFD) == 0);
    int c = fcntl(fd, F_DUPFD_CLOEXEC, 50);
    CHECK(c == 52);
    CHECK(fcntl(c, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(fd, F_GETFD) == 0);
    CHECK_OK(close(a));
    /* The lowest free descriptor at or above the minimum. */
    CHECK(fcntl(fd, F_DUPFD, 45) == 45);
    CHECK(fcntl(fd, F_DUPFD, 50) == 50);
    /* A minimum below the lowest free descriptor. */
    int low = fcntl(fd, F_DUPFD, 0);
    CHECK(low >= 0 && low < 45);
    CHECK(same_file(low, fd));
    close(low);
    close(45);
    close(50);
    close(b);
    close(c);
    CHECK_ERR(fcntl(fd, F_DUPFD, -1), EINVAL);
    CHECK_ERR(fcntl(fd, F_DUPFD, INT_MAX), EINVAL);
    CHECK_ERR(fcntl(fd, F_DUPFD_CLOEXEC, INT_MAX), EINVAL);
    CHECK_ERR(fcntl(-1, F_DUPFD, 0), EBADF);
    CHECK_ERR(fcntl(99999, F_DUPFD_CLOEXEC, 0), EBADF);

    /* F_SETFD is per descriptor. */
    int d = dup(fd);
    CHECK_OK(fcntl(d, F_SETFD, FD_CLOEXEC));
    CHECK(fcntl(d, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(fd, F_GETFD) == 0);
    CHECK_OK(fcntl(d, F_SETFD, 0));
    CHECK(fcntl(d, F_GETFD) == 0);
    close(d);
    CHECK_ERR(fcntl(-1, F_GETFD), EBADF);
    CHECK_ERR(fcntl(-1, F_SETFD, 0), EBADF);
    CHECK_ERR(fcntl(fd, 0x7fff), EINVAL);
    close(fd);
}

static void test_fcntl_fl(void) {
    int fd = open("dup_d", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl != -1);
    CHECK((fl & O_ACCMODE) == O_RDWR);
    CHECK((fl & (O_APPEND | O_NONBLOCK)) == 0);
    /* O_CREAT/O_TRUNC are not kept. */
    CHECK((fl & (O_CREAT | O_TRUNC | O_EXCL)) == 0);

    int d = dup(fd);
    CHECK_OK(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
    fl = fcntl(fd, F_GETFL);
    CHECK((fl & O_APPEND) && (fl & O_NONBLOCK));
    CHECK((fl & O_ACCMODE) == O_RDWR);
    /* Status flags belong to the open file, so the duplicate sees them. */
    int dl = fcntl(d, F_GETFL);
    CHECK((dl & O_APPEND) && (dl & O_NONBLOCK));
    /* O_APPEND now applies. */
    CHECK(write(fd, "12345", 5) == 5);
    CHECK(lseek(d, 0, SEEK_SET) == 0);
    CHECK(write(d, "67", 2) == 2);
    CHECK(lseek(fd, 0, SEEK_CUR) == 7);
    char buf[8] = {0};
    CHECK(pread(fd, buf, 7, 0) == 7);
    CHECK(memcmp(buf, "1234567", 7) == 0);

    /* The access mode and creation flags cannot be changed. */
    CHECK_OK(fcntl(fd, F_SETFL, O_RDONLY));
    fl = fcntl(fd, F_GETFL);
    CHECK((fl & O_ACCMODE) == O_RDWR);
    CHECK((fl & (O_APPEND | O_NONBLOCK)) == 0);
    CHECK_OK(fcntl(fd, F_SETFL, O_WRONLY | O_CREAT | O_TRUNC));
    fl = fcntl(fd, F_GETFL);
    CHECK((fl & O_ACCMODE) == O_RDWR);
    CHECK((fl & (O_CREAT | O_TRUNC)) == 0);
    /* Clearing took effect on the duplicate too. */
    dl = fcntl(d, F_GETFL);
    CHECK((dl & (O_APPEND | O_NONBLOCK)) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(write(fd, "A", 1) == 1);
    CHECK(pread(fd, buf, 7, 0) == 7);
    CHECK(memcmp(buf, "A234567", 7) == 0);

    /* Access modes reported for other opens. */
    int w = open("/dev/null", O_WRONLY);
    CHECK((fcntl(w, F_GETFL) & O_ACCMODE) == O_WRONLY);
    close(w);
    int r = open("/dev/null", O_RDONLY | O_NONBLOCK | O_APPEND);
    fl = fcntl(r, F_GETFL);
    CHECK((fl & O_ACCMODE) == O_RDONLY && (fl & O_NONBLOCK) && (fl & O_APPEND));
    close(r);
    /* O_CLOEXEC is a descriptor flag, not a status flag. */
    int ce = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(fcntl(ce, F_GETFD) == FD_CLOEXEC);
    CHECK((fcntl(ce, F_GETFL) & O_CLOEXEC) == 0);
    close(ce);

    CHECK_ERR(fcntl(-1, F_GETFL), EBADF);
    CHECK_ERR(fcntl(-1, F_SETFL, 0), EBADF);
    close(d);
    close(fd);
    CHECK_ERR(fcntl(fd, F_GETFL), EBADF);
}

int main(void) {
    test_dup();
    test_dup2_dup3();
    test_fcntl_dupfd();
    test_fcntl_fl();
    DONE();
}
