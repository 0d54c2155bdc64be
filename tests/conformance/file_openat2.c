/* openat2: struct open_how size rules (EINVAL below 24 bytes, E2BIG for nonzero unknown
 * bytes, larger zeroed structs accepted), stricter flag and mode checks than openat, and every
 * RESOLVE_* flag: NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV, BENEATH, IN_ROOT, CACHED. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#define RESOLVE_CACHED 0x20

struct how {
    uint64_t flags, mode, resolve;
};

static long oa2(int dirfd, const char *p, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct how h = {flags, mode, resolve};
    return syscall(SYS_openat2, dirfd, p, &h, sizeof h);
}

/* The inode number of what fd names, to tell which file was opened. */
static long ino_of(long fd) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return -1;
    close(fd);
    return (long)st.st_ino;
}

static long ino_path(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_ino : -2;
}

int main(void) {
    char dir[64];
    snprintf(dir, sizeof dir, "oa2_%d", getpid());
    CHECK_OK(mkdir(dir, 0755));
    CHECK_OK(chdir(dir));
    CHECK_OK(mkdir("a", 0755));
    CHECK_OK(mkdir("a/b", 0755));
    int fd = open("a/f", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    fd = open("x", O_CREAT | O_WRONLY, 0644);
    close(fd);
    CHECK_OK(symlink("b", "a/rel"));
    CHECK_OK(symlink("../a/f", "a/up"));
    CHECK_OK(symlink("/", "a/abs"));
    CHECK_OK(symlink("f", "a/lf"));

    /* Sizes. */
    struct {
        struct how h;
        uint64_t extra;
    } big = {{O_RDONLY, 0, 0}, 0};
    fd = syscall(SYS_openat2, AT_FDCWD, "a/f", &big, sizeof big);
    CHECK(fd >= 0);
    close(fd);
    big.extra = 1;
    CHECK_ERR(syscall(SYS_openat2, AT_FDCWD, "a/f", &big, sizeof big), E2BIG);
    CHECK_ERR(syscall(SYS_openat2, AT_FDCWD, "a/f", &big, 16), EINVAL);
    CHECK_ERR(syscall(SYS_openat2, AT_FDCWD, "a/f", &big, 0), EINVAL);
    CHECK_ERR(syscall(SYS_openat2, AT_FDCWD, "a/f", &big, 8192), E2BIG);
    CHECK_ERR(syscall(SYS_openat2, AT_FDCWD, "a/f", (void *)8, 24), EFAULT);

    /* Flags and mode. */
    CHECK_ERR(oa2(AT_FDCWD, "a/f", 1ULL << 40, 0, 0), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a/f", 0x4 /* unknown bit */ << 28, 0, 0), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a/f", O_RDONLY, 0644, 0), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a/n", O_CREAT | O_WRONLY, 010644, 0), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a/n", O_CREAT | O_DIRECTORY, 0644, 0), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a/f", O_PATH | O_APPEND, 0, 0), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a/f", O_RDONLY, 0, 0x40), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a/f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "a", (O_TMPFILE & ~O_DIRECTORY) | O_RDWR, 0600, 0), EINVAL);
    CHECK_ERR(oa2(AT_FDCWD, "", O_RDONLY, 0, 0), ENOENT);
    fd = oa2(AT_FDCWD, "a/n", O_CREAT | O_WRONLY | O_CLOEXEC, 0640, 0);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    close(fd);
    struct stat st;
    CHECK(stat("a/n", &st) == 0 && (st.st_mode & 0777) == (0640 & ~umask(022)));
    CHECK(oa2(AT_FDCWD, "a/lf", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS) >= 0);

    /* RESOLVE_NO_SYMLINKS: any symlink on the way, even one that would be fine. */
    long f_ino = ino_path("a/f"), b_ino = ino_path("a/b"), x_ino = ino_path("x");
    CHECK_ERR(oa2(AT_FDCWD, "a/rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
    CHECK_ERR(oa2(AT_FDCWD, "a/rel/.", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
    CHECK_ERR(oa2(AT_FDCWD, "a/lf", O_CREAT | O_WRONLY, 0600, RESOLVE_NO_SYMLINKS), ELOOP);
    CHECK(ino_of(oa2(AT_FDCWD, "a/rel", O_RDONLY, 0, 0)) == b_ino);

    /* RESOLVE_NO_MAGICLINKS: /proc/self/fd/N, not ordinary links such as /proc/self. */
    int xf = open("x", O_RDONLY);
    char magic[64];
    snprintf(magic, sizeof magic, "/proc/self/fd/%d", xf);
    CHECK_ERR(oa2(AT_FDCWD, magic, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
    CHECK_ERR(oa2(AT_FDCWD, magic, O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
    CHECK(ino_of(oa2(AT_FDCWD, magic, O_RDONLY, 0, 0)) == x_ino);
    CHECK(ino_of(oa2(AT_FDCWD, magic, O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS)) >= 0);
    fd = oa2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
    CHECK(fd >= 0);
    close(fd);

    /* RESOLVE_NO_XDEV: /proc is another mount, in both directions. */
    CHECK_ERR(oa2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
    int proc = open("/proc", O_RDONLY | O_DIRECTORY);
    CHECK(proc >= 0);
    fd = oa2(proc, "version", O_RDONLY, 0, RESOLVE_NO_XDEV);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERR(oa2(proc, "..", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
    CHECK_ERR(oa2(proc, magic + 6, O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
    close(proc);
    CHECK(ino_of(oa2(AT_FDCWD, "a/up", O_RDONLY, 0, RESOLVE_NO_XDEV)) == f_ino);

    /* RESOLVE_BENEATH: nothing outside the dirfd. */
    int a = open("a", O_RDONLY | O_DIRECTORY);
    CHECK(ino_of(oa2(a, "f", O_RDONLY, 0, RESOLVE_BENEATH)) == f_ino);
    CHECK(ino_of(oa2(a, "b/../f", O_RDONLY, 0, RESOLVE_BENEATH)) == f_ino);
    CHECK(ino_of(oa2(a, "rel", O_RDONLY, 0, RESOLVE_BENEATH)) == b_ino);
    CHECK_ERR(oa2(a, "..", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
    CHECK_ERR(oa2(a, "up", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
    CHECK_ERR(oa2(a, "abs", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
    CHECK_ERR(oa2(a, "/etc", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
    CHECK_ERR(oa2(a, magic, O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
    CHECK_ERR(oa2(a, "../x", O_CREAT | O_WRONLY, 0600, RESOLVE_BENEATH), EXDEV);
    fd = oa2(a, "b/new", O_CREAT | O_WRONLY, 0600, RESOLVE_BENEATH);
    CHECK(fd >= 0);
    close(fd);
    CHECK(access("a/b/new", F_OK) == 0);

    /* RESOLVE_IN_ROOT: the dirfd is the root; "/" and ".." stay inside it. */
    CHECK(ino_of(oa2(a, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT)) == f_ino);
    CHECK(ino_of(oa2(a, "../../../f", O_RDONLY, 0, RESOLVE_IN_ROOT)) == f_ino);
    CHECK(ino_of(oa2(a, "abs", O_RDONLY | O_DIRECTORY, 0, RESOLVE_IN_ROOT)) == ino_path("a"));
    CHECK_ERR(oa2(a, "up", O_RDONLY, 0, RESOLVE_IN_ROOT), ENOENT);
    CHECK_ERR(oa2(a, "/x", O_RDONLY, 0, RESOLVE_IN_ROOT), ENOENT);
    CHECK_ERR(oa2(a, magic, O_RDONLY, 0, RESOLVE_IN_ROOT), ENOENT);
    close(a);

    /* RESOLVE_CACHED: never for creating or truncating opens. */
    CHECK_ERR(oa2(AT_FDCWD, "a/f", O_WRONLY | O_TRUNC, 0, RESOLVE_CACHED), EAGAIN);
    CHECK_ERR(oa2(AT_FDCWD, "a/c", O_WRONLY | O_CREAT, 0600, RESOLVE_CACHED), EAGAIN);
    fd = oa2(AT_FDCWD, "a/f", O_RDONLY, 0, RESOLVE_CACHED);
    CHECK(fd >= 0 || errno == EAGAIN);
    if (fd >= 0) close(fd);
    close(xf);

    unlink("a/b/new");
    unlink("a/n");
    unlink("a/f");
    unlink("a/rel");
    unlink("a/up");
    unlink("a/abs");
    unlink("a/lf");
    rmdir("a/b");
    rmdir("a");
    unlink("x");
    CHECK_OK(chdir(".."));
    CHECK_OK(rmdir(dir));
    DONE();
}
