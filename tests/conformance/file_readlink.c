/* Reading symbolic links: readlink/readlinkat on /proc/self/exe, /proc/self/fd and links we
 * create; truncation, no NUL terminator, and the error cases. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif

static long rl(const char *path, char *buf, long n) {
#ifdef SYS_readlink
    return syscall(SYS_readlink, path, buf, n);
#else /* asm-generic (riscv64, aarch64): readlinkat only, which readlink is */
    return syscall(SYS_readlinkat, AT_FDCWD, path, buf, n);
#endif
}

static long rlat(int dfd, const char *path, char *buf, long n) {
    return syscall(SYS_readlinkat, dfd, path, buf, n);
}

static void test_proc_exe(void) {
    char buf[PATH_MAX + 8];
    memset(buf, 'X', sizeof buf);
    long n = rl("/proc/self/exe", buf, PATH_MAX);
    CHECK(n > 1 && n < PATH_MAX);
    if (n <= 1 || n >= PATH_MAX) return;
    CHECK(buf[0] == '/');
    /* Not NUL-terminated: the byte after the result is untouched. */
    CHECK(buf[n] == 'X');
    CHECK(memchr(buf, 0, n) == NULL);
    char path[PATH_MAX + 8];
    memcpy(path, buf, n);
    path[n] = 0;
    /* The target is this program. */
    struct stat a, b;
    CHECK_OK(stat(path, &a));
    CHECK_OK(stat("/proc/self/exe", &b));
    CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    CHECK(S_ISREG(a.st_mode));

    /* readlinkat with AT_FDCWD and an absolute path, and with an ignored dirfd. */
    char buf2[PATH_MAX + 8];
    memset(buf2, 'Y', sizeof buf2);
    CHECK(rlat(AT_FDCWD, "/proc/self/exe", buf2, PATH_MAX) == n);
    CHECK(memcmp(buf, buf2, n) == 0 && buf2[n] == 'Y');
    CHECK(rlat(-7, "/proc/self/exe", buf2, PATH_MAX) == n);
    /* Relative to a descriptor for /proc/self. */
    int pfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
    CHECK(pfd >= 0);
    memset(buf2, 'Y', sizeof buf2);
    CHECK(rlat(pfd, "exe", buf2, PATH_MAX) == n);
    CHECK(memcmp(buf, buf2, n) == 0);
    close(pfd);
    /* The libc wrappers agree. */
    memset(buf2, 'Y', sizeof buf2);
    CHECK(readlink("/proc/self/exe", buf2, PATH_MAX) == n);
    CHECK(memcmp(buf, buf2, n) == 0 && buf2[n] == 'Y');

    /* Truncation returns bufsiz and writes exactly bufsiz bytes. */
    for (long k = 1; k <= 4 && k < n; k++) {
        memset(buf2, 'Z', sizeof buf2);
        CHECK(rl("/proc/self/exe", buf2, k) == k);
        CHECK(memcmp(buf2, buf, k) == 0);
        CHECK(buf2[k] == 'Z');
    }
    memset(buf2, 'Z', sizeof buf2);
    CHECK(rl("/proc/self/exe", buf2, n - 1) == n - 1);
    CHECK(memcmp(buf2, buf, n - 1) == 0 && buf2[n - 1] == 'Z');
    CHECK(rl("/proc/self/exe", buf2, n) == n);
    CHECK(rlat(AT_FDCWD, "/proc/self/exe", buf2, 1) == 1 && buf2[0] == '/');

    /* /proc/self is a link to our pid. */
    memset(buf2, 0, sizeof buf2);
    char want[32];
    int wl = snprintf(want, sizeof want, "%d", (int)getpid());
    CHECK(rl("/proc/self", buf2, sizeof buf2 - 1) == wl);
    CHECK(strcmp(buf2, want) == 0);
}

static void test_proc_fd(void) {
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    int fd = open("rl_file", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    char lp[64], buf[PATH_MAX + 64], want[PATH_MAX + 64];
    snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
    snprintf(want, sizeof want, "%s/rl_file", strcmp(cwd, "/") == 0 ? "" : cwd);
    memset(buf, 0, sizeof buf);
    long n = rl(lp, buf, sizeof buf - 1);
    CHECK(n == (long)strlen(want));
    CHECK(strcmp(buf, want) == 0);
    close(fd);

    int p[2];
    CHECK_OK(pipe(p));
    snprintf(lp, sizeof lp, "/proc/self/fd/%d", p[0]);
    memset(buf, 0, sizeof buf);
    n = rl(lp, buf, sizeof buf - 1);
    CHECK(n > 7);
    CHECK(strncmp(buf, "pipe:[", 6) == 0 && buf[n - 1] == ']');
    struct stat st;
    CHECK_OK(fstat(p[0], &st));
    snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
    CHECK(strcmp(buf, want) == 0);
    close(p[0]);
    close(p[1]);

    fd = open("/dev/null", O_RDONLY);
    snprintf(lp, sizeof lp, "/proc/self/fd/%d", fd);
    memset(buf, 0, sizeof buf);
    CHECK(rl(lp, buf, sizeof buf - 1) == 9);
    CHECK(strcmp(buf, "/dev/null") == 0);
    close(fd);
}

static void test_own_links(void) {
    char buf[512];
    CHECK_OK(symlink("some/target/path", "rl_l"));
    memset(buf, 'X', sizeof buf);
    CHECK(rl("rl_l", buf, sizeof buf) == 16);
    CHECK(memcmp(buf, "some/target/path", 16) == 0 && buf[16] == 'X');
    memset(buf, 'X', sizeof buf);
    CHECK(readlink("rl_l", buf, sizeof buf) == 16);
    CHECK(memcmp(buf, "some/target/path", 16) == 0 && buf[16] == 'X');
    /* Truncated. */
    memset(buf, 'X', sizeof buf);
    CHECK(rl("rl_l", buf, 4) == 4);
    CHECK(memcmp(buf, "someX", 5) == 0);
    CHECK(rl("rl_l", buf, 1) == 1 && buf[0] == 's');

    /* A long target, and an absolute one. */
    char target[300];
    memset(target, 'a', sizeof target);
    for (int i = 10; i < 299; i += 10) target[i] = '/';
    target[299] = 0;
    CHECK_OK(symlink(target, "rl_long"));
    memset(buf, 0, sizeof buf);
    CHECK(rl("rl_long", buf, sizeof buf) == 299);
    CHECK(strcmp(buf, target) == 0);
    CHECK_OK(symlink("/dev/null", "rl_abs"));
    memset(buf, 0, sizeof buf);
    CHECK(rl("rl_abs", buf, sizeof buf) == 9 && strcmp(buf, "/dev/null") == 0);

    /* The last component is not followed: a link to a link reads the first link. */
    CHECK_OK(symlink("rl_abs", "rl_chain"));
    memset(buf, 0, sizeof buf);
    CHECK(rl("rl_chain", buf, sizeof buf) == 6 && strcmp(buf, "rl_abs") == 0);
    /* Intermediate links are followed. */
    CHECK_OK(mkdir("rl_dir", 0755));
    CHECK_OK(symlink("../rl_abs", "rl_dir/up"));
    CHECK_OK(symlink("rl_dir", "rl_dlink"));
    memset(buf, 0, sizeof buf);
    CHECK(rl("rl_dlink/up", buf, sizeof buf) == 9 && strcmp(buf, "../rl_abs") == 0);
    /* readlinkat relative to a directory descriptor. */
    int dfd = open("rl_dir", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    memset(buf, 0, sizeof buf);
    CHECK(rlat(dfd, "up", buf, sizeof buf) == 9 && strcmp(buf, "../rl_abs") == 0);
    memset(buf, 0, sizeof buf);
    CHECK(readlinkat(dfd, "up", buf, sizeof buf) == 9 && strcmp(buf, "../rl_abs") == 0);
    /* An empty path with an O_PATH|O_NOFOLLOW descriptor of the link reads that link. */
    int lfd = openat(dfd, "up", O_PATH | O_NOFOLLOW);
    CHECK(lfd >= 0);
    memset(buf, 0, sizeof buf);
    CHECK(rlat(lfd, "", buf, sizeof buf) == 9 && strcmp(buf, "../rl_abs") == 0);
    close(lfd);

    /* Errors. */
    int fd = open("rl_file2", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK_ERR(rl("rl_file2", buf, sizeof buf), EINVAL);
    CHECK_ERR(rl("rl_dir", buf, sizeof buf), EINVAL);
    CHECK_ERR(rl(".", buf, sizeof buf), EINVAL);
    CHECK_ERR(rl("/dev/null", buf, sizeof buf), EINVAL);
    /* A trailing slash follows the link: the directory is not a link. */
    CHECK_ERR(rl("rl_dlink/", buf, sizeof buf), EINVAL);
    CHECK_ERR(rl("rl_missing", buf, sizeof buf), ENOENT);
    CHECK_ERR(rl("rl_nodir/x", buf, sizeof buf), ENOENT);
    CHECK_ERR(rl("rl_file2/x", buf, sizeof buf), ENOTDIR);
    CHECK_ERR(rl("", buf, sizeof buf), ENOENT);
    CHECK_ERR(rlat(AT_FDCWD, "", buf, sizeof buf), ENOENT);
    /* A dangling link resolves as a path component: ENOENT. */
    CHECK_ERR(rl("rl_l/x", buf, sizeof buf), ENOENT);
    /* bufsiz 0 and negative. */
    CHECK_ERR(rl("rl_l", buf, 0), EINVAL);
    CHECK_ERR(rlat(AT_FDCWD, "rl_l", buf, 0), EINVAL);
    CHECK_ERR(rl("/proc/self/exe", buf, 0), EINVAL);
    CHECK_ERR(rl("rl_l", buf, -1), EINVAL);
    /* Bad directory descriptors. */
    CHECK_ERR(rlat(-7, "rl_l", buf, sizeof buf), EBADF);
    CHECK_ERR(rlat(9999, "rl_l", buf, sizeof buf), EBADF);
    CHECK_ERR(rlat(fd, "rl_l", buf, sizeof buf), ENOTDIR);
    /* symlink() errors. */
    CHECK_ERR(symlink("x", "rl_l"), EEXIST);
    CHECK_ERR(symlink("x", "rl_file2"), EEXIST);
    CHECK_ERR(symlink("", "rl_empty"), ENOENT);
    CHECK_ERR(symlink("x", "rl_nodir/y"), ENOENT);
    close(fd);
    close(dfd);
}

int main(void) {
    test_proc_exe();
    test_proc_fd();
    test_own_links();
    DONE();
}
