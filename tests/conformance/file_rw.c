/* Opening, reading and writing files: openat flags and errors, creat, read/write/close, readv/writev,
 * pread64/pwrite64 and lseek (including holes past end of file). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static off_t size_of(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    return st.st_size;
}

static void test_openat(void) {
    int fd = openat(AT_FDCWD, "rw_a", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello", 5) == 5);
    CHECK_OK(close(fd));

    /* O_EXCL on an existing file. */
    CHECK_ERR(openat(AT_FDCWD, "rw_a", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
    /* O_CREAT alone on an existing file opens it. */
    fd = openat(AT_FDCWD, "rw_a", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(size_of(fd) == 5);
    CHECK_OK(close(fd));

    /* Missing file, missing directory component, empty path. */
    CHECK_ERR(openat(AT_FDCWD, "rw_missing", O_RDONLY), ENOENT);
    CHECK_ERR(openat(AT_FDCWD, "rw_nodir/x", O_RDONLY), ENOENT);
    CHECK_ERR(openat(AT_FDCWD, "rw_nodir/x", O_CREAT | O_RDWR, 0644), ENOENT);
    CHECK_ERR(openat(AT_FDCWD, "", O_RDONLY), ENOENT);

    /* O_DIRECTORY on a regular file; a file used as a directory component. */
    CHECK_ERR(openat(AT_FDCWD, "rw_a", O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK_ERR(openat(AT_FDCWD, "rw_a/x", O_RDONLY), ENOTDIR);
    CHECK_ERR(openat(AT_FDCWD, "rw_a/", O_RDONLY), ENOTDIR);

    /* Directories: O_DIRECTORY works, opening for writing fails with EISDIR. */
    CHECK_OK(mkdir("rw_dir", 0755));
    int dfd = openat(AT_FDCWD, "rw_dir", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_ERR(openat(AT_FDCWD, "rw_dir", O_WRONLY), EISDIR);
    CHECK_ERR(openat(AT_FDCWD, "rw_dir", O_RDWR), EISDIR);
    CHECK_ERR(openat(AT_FDCWD, "rw_dir", O_CREAT | O_WRONLY, 0644), EISDIR);
    char c;
    CHECK_ERR(read(dfd, &c, 1), EISDIR);

    /* openat relative to a directory fd. */
    fd = openat(dfd, "inner", O_CREAT | O_EXCL | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "xyz", 3) == 3);
    CHECK_OK(close(fd));
    fd = openat(AT_FDCWD, "rw_dir/inner", O_RDONLY);
    CHECK(fd >= 0);
    char buf[16] = {0};
    CHECK(read(fd, buf, sizeof buf) == 3);
    CHECK(memcmp(buf, "xyz", 3) == 0);
    CHECK_OK(close(fd));
    /* A relative path with a bad dirfd or a dirfd that is not a directory. */
    CHECK_ERR(openat(-5, "inner", O_RDONLY), EBADF);
    CHECK_ERR(openat(9999, "inner", O_RDONLY), EBADF);
    int ffd = open("rw_a", O_RDONLY);
    CHECK(ffd >= 0);
    CHECK_ERR(openat(ffd, "inner", O_RDONLY), ENOTDIR);
    /* An absolute path ignores dirfd, even a bad one. */
    fd = openat(-5, "/dev/null", O_RDONLY);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK_OK(close(ffd));
    CHECK_OK(close(dfd));

    /* Access mode enforcement. */
    fd = openat(AT_FDCWD, "rw_a", O_RDONLY);
    CHECK(fd >= 0);
    CHECK_ERR(write(fd, "x", 1), EBADF);
    CHECK_ERR(pwrite(fd, "x", 1, 0), EBADF);
    CHECK(read(fd, buf, 2) == 2);
    CHECK_OK(close(fd));
    fd = openat(AT_FDCWD, "rw_a", O_WRONLY);
    CHECK(fd >= 0);
    CHECK_ERR(read(fd, buf, 1), EBADF);
    CHECK_ERR(pread(fd, buf, 1, 0), EBADF);
    CHECK_OK(close(fd));

    /* O_TRUNC empties the file; without write access it is not applied to O_RDONLY
     * here, so only check the writable case. */
    fd = openat(AT_FDCWD, "rw_a", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    CHECK(size_of(fd) == 0);
    CHECK(write(fd, "abc", 3) == 3);
    CHECK_OK(close(fd));
    fd = openat(AT_FDCWD, "rw_a", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(size_of(fd) == 0);
    CHECK(read(fd, buf, sizeof buf) == 0);
    CHECK_OK(close(fd));

    /* O_APPEND: every write goes to the end, whatever the offset. */
    fd = openat(AT_FDCWD, "rw_app", O_CREAT | O_RDWR | O_APPEND, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "one", 3) == 3);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(write(fd, "two", 3) == 3);
    CHECK(lseek(fd, 0, SEEK_CUR) == 6);
    CHECK(size_of(fd) == 6);
    /* On Linux pwrite on an O_APPEND file appends too. */
    CHECK(pwrite(fd, "3", 1, 0) == 1);
    CHECK(size_of(fd) == 7);
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, sizeof buf, 0) == 7);
    CHECK(memcmp(buf, "onetwo3", 7) == 0);
    CHECK_OK(close(fd));
    /* A second, non-append descriptor overwrites from its own offset. */
    fd = openat(AT_FDCWD, "rw_app", O_WRONLY);
    CHECK(fd >= 0);
    CHECK(write(fd, "ON", 2) == 2);
    CHECK_OK(close(fd));
    fd = openat(AT_FDCWD, "rw_app", O_RDONLY);
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, sizeof buf) == 7);
    CHECK(memcmp(buf, "ONetwo3", 7) == 0);
    CHECK_OK(close(fd));
}

static void test_read_write_close(void) {
    int fd = open("rw_b", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    char buf[64];
    /* Zero-length transfers. */
    CHECK(write(fd, "", 0) == 0);
    CHECK(read(fd, buf, 0) == 0);
    CHECK(size_of(fd) == 0);
    CHECK(write(fd, "0123456789", 10) == 10);
    CHECK(lseek(fd, 0, SEEK_CUR) == 10);
    /* Read at end of file returns 0. */
    CHECK(read(fd, buf, sizeof buf) == 0);
    CHECK(lseek(fd, 2, SEEK_SET) == 2);
    /* Short read near the end. */
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, 4) == 4);
    CHECK(memcmp(buf, "2345", 4) == 0);
    CHECK(read(fd, buf, sizeof buf) == 4);
    CHECK(memcmp(buf, "6789", 4) == 0);
    CHECK(read(fd, buf, sizeof buf) == 0);
    /* Overwrite in the middle keeps the size. */
    CHECK(lseek(fd, 3, SEEK_SET) == 3);
    CHECK(write(fd, "ab", 2) == 2);
    CHECK(size_of(fd) == 10);
    CHECK(pread(fd, buf, 10, 0) == 10);
    CHECK(memcmp(buf, "012ab56789", 10) == 0);

    CHECK_OK(close(fd));
    CHECK_ERR(close(fd), EBADF);
    CHECK_ERR(read(fd, buf, 1), EBADF);
    CHECK_ERR(write(fd, buf, 1), EBADF);
    CHECK_ERR(close(-1), EBADF);
    CHECK_ERR(close(12345), EBADF);
    CHECK_ERR(read(-1, buf, 1), EBADF);
    CHECK_ERR(write(-1, buf, 1), EBADF);

    /* The lowest free descriptor is reused. */
    int a = open("/dev/null", O_RDONLY);
    int b = open("/dev/null", O_RDONLY);
    CHECK(a >= 0 && b == a + 1);
    CHECK_OK(close(a));
    int c = open("/dev/null", O_RDONLY);
    CHECK(c == a);
    close(b);
    close(c);

    /* /dev/null and /dev/zero semantics. */
    fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0);
    CHECK(write(fd, "xyz", 3) == 3);
    CHECK(read(fd, buf, sizeof buf) == 0);
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    CHECK(fd >= 0);
    memset(buf, 'q', sizeof buf);
    CHECK(read(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
    int allzero = 1;
    for (size_t i = 0; i < sizeof buf; i++) allzero &= buf[i] == 0;
    CHECK(allzero);
    close(fd);
    /* Neither /dev/null nor /dev/zero looks at what is written (Linux's write_null): even
     * a NULL buffer is taken whole. A read of /dev/null copies nothing, so any buffer does. */
    fd = open("/dev/null", O_RDWR);
    CHECK(syscall(SYS_write, fd, NULL, 5) == 5);
    CHECK(syscall(SYS_read, fd, NULL, 5) == 0);
    CHECK(syscall(SYS_pread64, fd, buf, 4, 100) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    close(fd);
    fd = open("/dev/zero", O_RDWR);
    CHECK(syscall(SYS_write, fd, NULL, 7) == 7);
    memset(buf, 'q', sizeof buf);
    CHECK(pread(fd, buf, 5, 1000) == 5);
    CHECK(buf[0] == 0 && buf[4] == 0 && buf[5] == 'q');
    /* A read into a PROT_NONE page fails; one that runs into it stops there. */
    char *pn = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pn != MAP_FAILED);
    if (pn != MAP_FAILED) {
        CHECK_OK(mprotect(pn + 4096, 4096, PROT_NONE));
        CHECK_ERR(read(fd, pn + 4096, 10), EFAULT);
        memset(pn, 'q', 4096);
        CHECK(read(fd, pn + 4090, 100) == 6);
        CHECK(pn[4089] == 'q' && pn[4090] == 0 && pn[4095] == 0);
        /* A page written before it became PROT_NONE, and one mapped PROT_NONE from the start
         * (a thread stack's guard): the kernel cannot write the first nor read or write the
         * second; a pipe write from either is EFAULT and leaves the pipe empty. */
        int pp[2];
        CHECK_OK(pipe(pp));
        CHECK_OK(mprotect(pn, 4096, PROT_NONE));
        CHECK_ERR(read(fd, pn, 10), EFAULT);
        CHECK_ERR(write(pp[1], pn, 10), EFAULT);
        CHECK_ERR(write(pp[1], pn + 4000, 10), EFAULT);
        int queued = -1;
        CHECK(ioctl(pp[0], FIONREAD, &queued) == 0 && queued == 0);
        char *fresh = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(fresh != MAP_FAILED);
        if (fresh != MAP_FAILED) {
            CHECK_ERR(read(fd, fresh, 10), EFAULT);
            CHECK_ERR(write(pp[1], fresh, 10), EFAULT);
            munmap(fresh, 4096);
        }
        close(pp[0]);
        close(pp[1]);
        munmap(pn, 8192);
    }
    close(fd);
    fd = open("/dev/full", O_RDWR);
    CHECK(fd >= 0);
    memset(buf, 'q', sizeof buf);
    CHECK(read(fd, buf, 3) == 3);
    CHECK(buf[0] == 0 && buf[2] == 0 && buf[3] == 'q');
    CHECK_ERR(write(fd, "x", 1), ENOSPC);
    close(fd);
}

static void test_vectors(void) {
    int fd = open("rw_v", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    struct iovec w[4] = {
        {(void *)"abc", 3},
        {(void *)"", 0},
        {(void *)"defg", 4},
        {(void *)"h", 1},
    };
    CHECK(writev(fd, w, 4) == 8);
    CHECK(lseek(fd, 0, SEEK_CUR) == 8);
    CHECK(size_of(fd) == 8);
    /* Zero iovecs write nothing. */
    CHECK(writev(fd, w, 0) == 0);
    CHECK(size_of(fd) == 8);

    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    char p[2] = {0}, q[1] = {0}, r[10];
    memset(r, 0, sizeof r);
    struct iovec rv[4] = {{p, 2}, {NULL, 0}, {q, 1}, {r, sizeof r}};
    CHECK(readv(fd, rv, 4) == 8);
    CHECK(memcmp(p, "ab", 2) == 0);
    CHECK(q[0] == 'c');
    CHECK(memcmp(r, "defgh", 5) == 0);
    /* At end of file readv returns 0. */
    CHECK(readv(fd, rv, 4) == 0);

    /* Invalid iovec counts. */
    CHECK_ERR(syscall(SYS_writev, fd, w, -1), EINVAL);
    CHECK_ERR(syscall(SYS_readv, fd, rv, -1), EINVAL);
    static struct iovec many[IOV_MAX + 1];
    for (int i = 0; i <= IOV_MAX; i++) {
        many[i].iov_base = p;
        many[i].iov_len = 1;
    }
    CHECK_ERR(writev(fd, many, IOV_MAX + 1), EINVAL);
    CHECK_ERR(readv(fd, many, IOV_MAX + 1), EINVAL);
    CHECK(size_of(fd) == 8);
    /* IOV_MAX itself is allowed. */
    CHECK(lseek(fd, 0, SEEK_END) == 8);
    CHECK(writev(fd, many, IOV_MAX) == IOV_MAX);
    CHECK(size_of(fd) == 8 + IOV_MAX);
    /* A segment length that is negative as ssize_t. */
    struct iovec big[2] = {{p, 1}, {q, (size_t)SSIZE_MAX + 1}};
    CHECK_ERR(writev(fd, big, 2), EINVAL);
    CHECK_ERR(readv(fd, big, 2), EINVAL);
    CHECK_ERR(writev(-1, w, 1), EBADF);
    CHECK_OK(close(fd));
}

static void test_positional(void) {
    int fd = open("rw_p", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "abcdefgh", 8) == 8);
    CHECK(lseek(fd, 2, SEEK_SET) == 2);
    char buf[16];
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 3, 4) == 3);
    CHECK(memcmp(buf, "efg", 3) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2);
    CHECK(pwrite(fd, "XY", 2, 6) == 2);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2);
    CHECK(size_of(fd) == 8);
    /* Short pread at the end, 0 past the end. */
    CHECK(pread(fd, buf, sizeof buf, 5) == 3);
    CHECK(memcmp(buf, "fXY", 3) == 0);
    CHECK(pread(fd, buf, sizeof buf, 8) == 0);
    CHECK(pread(fd, buf, sizeof buf, 1000) == 0);
    /* pwrite past the end extends the file with a zero-filled gap. */
    CHECK(pwrite(fd, "Z", 1, 12) == 1);
    CHECK(size_of(fd) == 13);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2);
    memset(buf, 'q', sizeof buf);
    CHECK(pread(fd, buf, sizeof buf, 0) == 13);
    CHECK(memcmp(buf, "abcdefXY\0\0\0\0Z", 13) == 0);
    /* The ordinary read continues from the unchanged offset. */
    CHECK(read(fd, buf, 2) == 2);
    CHECK(memcmp(buf, "cd", 2) == 0);

    /* Negative offsets. */
    CHECK_ERR(syscall(SYS_pread64, fd, buf, 1, (long)-1), EINVAL);
    CHECK_ERR(syscall(SYS_pwrite64, fd, "x", 1, (long)-1), EINVAL);
    CHECK_ERR(pread(fd, buf, 1, -4096), EINVAL);
    CHECK_ERR(pwrite(fd, "x", 1, -4096), EINVAL);
    CHECK_ERR(pread(-1, buf, 1, 0), EBADF);

    /* preadv/pwritev also keep the offset. */
    struct iovec iv[2] = {{(void *)"12", 2}, {(void *)"34", 2}};
    CHECK(pwritev(fd, iv, 2, 0) == 4);
    CHECK(lseek(fd, 0, SEEK_CUR) == 4);
    char a[3] = {0}, b[3] = {0};
    struct iovec rv[2] = {{a, 2}, {b, 2}};
    CHECK(preadv(fd, rv, 2, 0) == 4);
    CHECK(memcmp(a, "12", 2) == 0 && memcmp(b, "34", 2) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 4);
    CHECK_OK(close(fd));

    /* Pipes cannot be positioned. */
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(write(p[1], "pp", 2) == 2);
    CHECK_ERR(pread(p[0], buf, 1, 0), ESPIPE);
    CHECK_ERR(pwrite(p[1], "x", 1, 0), ESPIPE);
    CHECK_ERR(lseek(p[0], 0, SEEK_CUR), ESPIPE);
    CHECK_ERR(lseek(p[1], 0, SEEK_SET), ESPIPE);
    /* The data is still there. */
    CHECK(read(p[0], buf, sizeof buf) == 2);
    close(p[0]);
    close(p[1]);
}

static void test_lseek(void) {
    int fd = open("rw_s", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "0123456789", 10) == 10);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(lseek(fd, 4, SEEK_SET) == 4);
    CHECK(lseek(fd, 3, SEEK_CUR) == 7);
    CHECK(lseek(fd, -2, SEEK_CUR) == 5);
    CHECK(lseek(fd, 0, SEEK_END) == 10);
    CHECK(lseek(fd, -3, SEEK_END) == 7);
    char c = 0;
    CHECK(read(fd, &c, 1) == 1 && c == '7');
    CHECK(lseek(fd, 0, SEEK_CUR) == 8);

    /* Seeking past the end is allowed and does not change the size. */
    CHECK(lseek(fd, 100, SEEK_SET) == 100);
    CHECK(size_of(fd) == 10);
    CHECK(read(fd, &c, 1) == 0);
    CHECK(lseek(fd, 10, SEEK_END) == 20);
    CHECK(size_of(fd) == 10);
    /* Writing there leaves a hole that reads as zeros. */
    CHECK(write(fd, "END", 3) == 3);
    CHECK(size_of(fd) == 23);
    CHECK(lseek(fd, 0, SEEK_CUR) == 23);
    CHECK(lseek(fd, 10, SEEK_SET) == 10);
    char buf[32];
    memset(buf, 'q', sizeof buf);
    CHECK(read(fd, buf, sizeof buf) == 13);
    int zeros = 1;
    for (int i = 0; i < 10; i++) zeros &= buf[i] == 0;
    CHECK(zeros);
    CHECK(memcmp(buf + 10, "END", 3) == 0);

    /* A large hole spanning pages. */
    CHECK(lseek(fd, 3 * 4096 + 5, SEEK_SET) == 3 * 4096 + 5);
    CHECK(write(fd, "!", 1) == 1);
    CHECK(size_of(fd) == 3 * 4096 + 6);
    static char page[4096];
    memset(page, 'q', sizeof page);
    CHECK(pread(fd, page, sizeof page, 4096) == 4096);
    zeros = 1;
    for (int i = 0; i < 4096; i++) zeros &= page[i] == 0;
    CHECK(zeros);

    /* Errors: negative results and bad whence leave the offset alone. */
    CHECK(lseek(fd, 5, SEEK_SET) == 5);
    CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK_ERR(lseek(fd, -6, SEEK_CUR), EINVAL);
    CHECK_ERR(lseek(fd, -100000, SEEK_END), EINVAL);
    CHECK_ERR(lseek(fd, 0, 17), EINVAL);
    CHECK_ERR(lseek(fd, 0, -1), EINVAL);
    CHECK(lseek(fd, 0, SEEK_CUR) == 5);
    CHECK_ERR(lseek(-1, 0, SEEK_SET), EBADF);
    CHECK_ERR(lseek(9999, 0, SEEK_SET), EBADF);
    CHECK_OK(close(fd));
    CHECK_ERR(lseek(fd, 0, SEEK_SET), EBADF);

    /* /dev/null and /dev/zero accept any seek and report 0. */
    fd = open("/dev/null", O_RDONLY);
    CHECK(lseek(fd, 123, SEEK_SET) == 0);
    close(fd);
}

/* creat(path, mode) is open(path, O_CREAT | O_WRONLY | O_TRUNC, mode). */
static void test_creat(void) {
#ifndef SYS_creat
    /* creat is x86_64 only: not in asm-generic (riscv64, aarch64). */
    return;
#else
    int fd = syscall(SYS_creat, "creat.f", 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, "abcdef", 6) == 6);
    char c;
    CHECK_ERR(read(fd, &c, 1), EBADF);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY);
    close(fd);
    struct stat st;
    CHECK_OK(stat("creat.f", &st));
    CHECK((st.st_mode & 0777) == (0600 & ~umask(022)) && st.st_size == 6);
    umask(022);
    fd = syscall(SYS_creat, "creat.f", 0644); /* an existing file is truncated */
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(stat("creat.f", &st));
    CHECK(st.st_size == 0 && (st.st_mode & 0777) == 0600);
    CHECK_ERR(syscall(SYS_creat, "no/such/dir/f", 0644), ENOENT);
    CHECK_ERR(syscall(SYS_creat, ".", 0644), EISDIR);
    CHECK_OK(unlink("creat.f"));
#endif
}

int main(void) {
    test_openat();
    test_read_write_close();
    test_vectors();
    test_positional();
    test_lseek();
    test_creat();
    DONE();
}
