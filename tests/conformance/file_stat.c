/* File status: fstat, newfstatat (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, errors), st_size,
 * st_mode and st_nlink as files change, statx and its agreement with fstat, device nodes. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "statx.h"

#define LT_STATX_TYPE 0x1u
#define LT_STATX_MODE 0x2u
#define LT_STATX_NLINK 0x4u
#define LT_STATX_SIZE 0x200u
#define LT_STATX_BASIC_STATS 0x7ffu
#define LT_STATX_RESERVED 0x80000000u

static long xstatx(int dfd, const char *path, int flags, unsigned mask, struct lt_statx *sx) {
    memset(sx, 0xa5, sizeof *sx);
    return syscall(SYS_statx, dfd, path, flags, mask, sx);
}

static long xfstatat(int dfd, const char *path, struct stat *st, int flags) {
    memset(st, 0xa5, sizeof *st);
    return syscall(SYS_newfstatat, dfd, path, st, flags);
}

static void test_fstat_basic(void) {
    umask(022);
    int fd = open("st_a", O_CREAT | O_EXCL | O_RDWR, 0666);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0644);
    CHECK(st.st_size == 0);
    CHECK(st.st_nlink == 1);
    CHECK(st.st_uid == geteuid());
    CHECK(st.st_gid == getegid());
    CHECK(st.st_ino != 0);
    dev_t dev = st.st_dev;
    ino_t ino = st.st_ino;

    /* Size follows writes, including sparse ones. */
    CHECK(write(fd, "hello world", 11) == 11);
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 11);
    CHECK(pwrite(fd, "x", 1, 99) == 1);
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 100);
    CHECK(st.st_ino == ino && st.st_dev == dev);

    /* stat by name agrees with fstat. */
    struct stat ps;
    CHECK_OK(stat("st_a", &ps));
    CHECK(ps.st_ino == ino && ps.st_dev == dev && ps.st_size == 100);
    CHECK(ps.st_mode == st.st_mode);
    CHECK(ps.st_mtime == st.st_mtime);

    /* Mode changes. */
    CHECK_OK(fchmod(fd, 0600));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_mode == (S_IFREG | 0600));
    CHECK_OK(chmod("st_a", 04755));
    CHECK_OK(stat("st_a", &st));
    CHECK(st.st_mode == (S_IFREG | 04755));
    CHECK_OK(chmod("st_a", 0644));

    /* Hard links share the inode and count up and down. */
    CHECK_OK(link("st_a", "st_a2"));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_nlink == 2);
    CHECK_OK(stat("st_a2", &ps));
    CHECK(ps.st_ino == ino && ps.st_nlink == 2 && ps.st_size == 100);
    CHECK_OK(linkat(AT_FDCWD, "st_a", AT_FDCWD, "st_a3", 0));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_nlink == 3);
    CHECK_ERR(link("st_a", "st_a2"), EEXIST);
    CHECK_ERR(link("st_missing", "st_x"), ENOENT);
    CHECK_OK(unlink("st_a2"));
    CHECK_OK(unlink("st_a3"));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_nlink == 1);
    /* An open but unlinked file has no links and keeps its data. */
    CHECK_OK(unlink("st_a"));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_nlink == 0);
    CHECK(st.st_size == 100);
    CHECK_ERR(stat("st_a", &ps), ENOENT);
    CHECK_OK(close(fd));

    /* Bad descriptors. */
    CHECK_ERR(fstat(-1, &st), EBADF);
    CHECK_ERR(fstat(fd, &st), EBADF);
    CHECK_ERR(fstat(4321, &st), EBADF);
}

static void test_fstatat(void) {
    int fd = open("st_t", O_CREAT | O_TRUNC | O_WRONLY, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "12345", 5) == 5);
    CHECK_OK(symlink("st_t", "st_l"));
    CHECK_OK(symlink("st_nowhere", "st_dangle"));

    struct stat st, lst, fst;
    CHECK_OK(fstat(fd, &fst));
    /* Without AT_SYMLINK_NOFOLLOW the link is followed. */
    CHECK_OK(xfstatat(AT_FDCWD, "st_l", &st, 0));
    CHECK(S_ISREG(st.st_mode) && st.st_ino == fst.st_ino && st.st_size == 5);
    /* With it, the link itself: its size is the length of the target. */
    CHECK_OK(xfstatat(AT_FDCWD, "st_l", &lst, AT_SYMLINK_NOFOLLOW));
    CHECK(S_ISLNK(lst.st_mode));
    CHECK(lst.st_size == 4);
    CHECK(lst.st_ino != fst.st_ino);
    CHECK(lst.st_nlink == 1);
    CHECK_OK(lstat("st_l", &lst));
    CHECK(S_ISLNK(lst.st_mode));
    /* On a non-link AT_SYMLINK_NOFOLLOW changes nothing. */
    CHECK_OK(xfstatat(AT_FDCWD, "st_t", &st, AT_SYMLINK_NOFOLLOW));
    CHECK(S_ISREG(st.st_mode) && st.st_ino == fst.st_ino);
    /* A dangling link: following fails, not following works. */
    CHECK_ERR(xfstatat(AT_FDCWD, "st_dangle", &st, 0), ENOENT);
    CHECK_OK(xfstatat(AT_FDCWD, "st_dangle", &st, AT_SYMLINK_NOFOLLOW));
    CHECK(S_ISLNK(st.st_mode) && st.st_size == 10);

    /* AT_EMPTY_PATH stats the descriptor itself. */
    CHECK_OK(xfstatat(fd, "", &st, AT_EMPTY_PATH));
    CHECK(st.st_ino == fst.st_ino && st.st_size == 5 && S_ISREG(st.st_mode));
    CHECK_OK(xfstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH));
    CHECK(S_ISDIR(st.st_mode));
    /* Without it an empty path is ENOENT. */
    CHECK_ERR(xfstatat(fd, "", &st, 0), ENOENT);
    CHECK_ERR(xfstatat(AT_FDCWD, "", &st, 0), ENOENT);
    CHECK_ERR(stat("", &st), ENOENT);
    /* Bad descriptors. */
    CHECK_ERR(xfstatat(-5, "st_t", &st, 0), EBADF);
    CHECK_ERR(xfstatat(9999, "st_t", &st, 0), EBADF);
    CHECK_ERR(xfstatat(-5, "", &st, AT_EMPTY_PATH), EBADF);
    CHECK_ERR(xfstatat(9999, "", &st, AT_EMPTY_PATH), EBADF);
    /* Relative to a file descriptor that is not a directory. */
    CHECK_ERR(xfstatat(fd, "st_t", &st, 0), ENOTDIR);
    /* Absolute paths ignore dirfd. */
    CHECK_OK(xfstatat(-5, "/dev/null", &st, 0));
    CHECK(S_ISCHR(st.st_mode));
    /* Invalid flags. */
    CHECK_ERR(xfstatat(AT_FDCWD, "st_t", &st, 0x1), EINVAL);
    /* Path errors. */
    CHECK_ERR(xfstatat(AT_FDCWD, "st_missing", &st, 0), ENOENT);
    CHECK_ERR(xfstatat(AT_FDCWD, "st_t/x", &st, 0), ENOTDIR);
    CHECK_ERR(xfstatat(AT_FDCWD, "st_t/", &st, 0), ENOTDIR);

    /* Relative to a directory descriptor. */
    CHECK_OK(mkdir("st_d", 0755));
    int dfd = open("st_d", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    int f2 = openat(dfd, "in", O_CREAT | O_WRONLY, 0600);
    CHECK(f2 >= 0);
    CHECK(write(f2, "abc", 3) == 3);
    close(f2);
    CHECK_OK(xfstatat(dfd, "in", &st, 0));
    CHECK(st.st_size == 3 && st.st_mode == (S_IFREG | 0600));
    CHECK_OK(xfstatat(dfd, "..", &st, 0));
    struct stat cwd;
    CHECK_OK(stat(".", &cwd));
    CHECK(st.st_ino == cwd.st_ino && st.st_dev == cwd.st_dev);
    CHECK_OK(close(dfd));
    CHECK_OK(close(fd));
}

static void test_dirs_and_devices(void) {
    struct stat st, sub;
    CHECK_OK(mkdir("st_dir", 0750));
    CHECK_OK(stat("st_dir", &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 07777) == 0750);
    CHECK(st.st_nlink == 2);
    CHECK_OK(mkdir("st_dir/sub", 0755));
    CHECK_OK(stat("st_dir", &st));
    CHECK(st.st_nlink == 3);
    CHECK_OK(stat("st_dir/sub/..", &sub));
    CHECK(sub.st_ino == st.st_ino);
    CHECK_OK(stat("st_dir/.", &sub));
    CHECK(sub.st_ino == st.st_ino);
    CHECK_OK(rmdir("st_dir/sub"));
    CHECK_OK(stat("st_dir", &st));
    CHECK(st.st_nlink == 2);

    /* Character devices. */
    CHECK_OK(stat("/dev/null", &st));
    CHECK(S_ISCHR(st.st_mode));
    CHECK(major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
    CHECK(st.st_size == 0);
    CHECK_OK(stat("/dev/zero", &st));
    CHECK(S_ISCHR(st.st_mode));
    CHECK(major(st.st_rdev) == 1 && minor(st.st_rdev) == 5);
    CHECK_OK(stat("/dev/full", &st));
    CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 7);
    CHECK_OK(stat("/dev/urandom", &st));
    CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 9);
    int fd = open("/dev/null", O_WRONLY);
    CHECK(fd >= 0);
    struct stat fs;
    CHECK_OK(fstat(fd, &fs));
    CHECK(S_ISCHR(fs.st_mode) && fs.st_rdev == makedev(1, 3));
    CHECK_OK(stat("/dev/null", &st));
    CHECK(fs.st_ino == st.st_ino && fs.st_rdev == st.st_rdev);
    close(fd);
    CHECK_OK(stat("/dev", &st));
    CHECK(S_ISDIR(st.st_mode));

    /* /proc/self/exe is a link to a regular file. */
    CHECK_OK(lstat("/proc/self/exe", &st));
    CHECK(S_ISLNK(st.st_mode));
    CHECK_OK(stat("/proc/self/exe", &st));
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 0111) != 0);
}

static void test_statx(void) {
    int fd = open("st_x", O_CREAT | O_TRUNC | O_RDWR, 0640);
    CHECK(fd >= 0);
    CHECK(write(fd, "statx data", 10) == 10);
    CHECK_OK(fchmod(fd, 0640));
    CHECK_OK(link("st_x", "st_x2"));
    struct stat st;
    CHECK_OK(fstat(fd, &st));

    struct lt_statx sx;
    CHECK_OK(xstatx(AT_FDCWD, "st_x", 0, LT_STATX_BASIC_STATS, &sx));
    CHECK((sx.stx_mask & LT_STATX_BASIC_STATS) == LT_STATX_BASIC_STATS);
    CHECK(sx.stx_size == 10);
    CHECK(sx.stx_mode == (S_IFREG | 0640));
    CHECK(sx.stx_nlink == 2);
    CHECK(sx.stx_ino == st.st_ino);
    CHECK(sx.stx_uid == st.st_uid && sx.stx_gid == st.st_gid);
    CHECK(sx.stx_blocks == (uint64_t)st.st_blocks);
    CHECK(makedev(sx.stx_dev_major, sx.stx_dev_minor) == st.st_dev);
    CHECK(sx.stx_mtime.tv_sec == st.st_mtim.tv_sec);
    CHECK(sx.stx_mtime.tv_nsec == (uint32_t)st.st_mtim.tv_nsec);
    CHECK(sx.stx_ctime.tv_sec == st.st_ctim.tv_sec);
    CHECK(sx.stx_atime.tv_sec == st.st_atim.tv_sec);

    /* AT_EMPTY_PATH on the descriptor. */
    CHECK_OK(xstatx(fd, "", AT_EMPTY_PATH, LT_STATX_BASIC_STATS, &sx));
    CHECK(sx.stx_ino == st.st_ino && sx.stx_size == 10);
    CHECK_ERR(xstatx(fd, "", 0, LT_STATX_BASIC_STATS, &sx), ENOENT);
    /* A narrow request still fills at least what was asked. */
    CHECK_OK(xstatx(AT_FDCWD, "st_x", 0, LT_STATX_SIZE, &sx));
    CHECK((sx.stx_mask & LT_STATX_SIZE) != 0);
    CHECK(sx.stx_size == 10);
    /* Mask 0 is allowed. */
    CHECK_OK(xstatx(AT_FDCWD, "st_x", 0, 0, &sx));

    /* Symlinks. */
    CHECK_OK(symlink("st_x", "st_xl"));
    CHECK_OK(xstatx(AT_FDCWD, "st_xl", AT_SYMLINK_NOFOLLOW, LT_STATX_BASIC_STATS, &sx));
    CHECK((sx.stx_mode & S_IFMT) == S_IFLNK);
    CHECK(sx.stx_size == 4);
    CHECK_OK(xstatx(AT_FDCWD, "st_xl", 0, LT_STATX_BASIC_STATS, &sx));
    CHECK((sx.stx_mode & S_IFMT) == S_IFREG && sx.stx_ino == st.st_ino);

    /* Directories and devices. */
    CHECK_OK(xstatx(AT_FDCWD, ".", 0, LT_STATX_BASIC_STATS, &sx));
    CHECK((sx.stx_mode & S_IFMT) == S_IFDIR);
    CHECK_OK(xstatx(AT_FDCWD, "/dev/null", 0, LT_STATX_BASIC_STATS, &sx));
    CHECK((sx.stx_mode & S_IFMT) == S_IFCHR);
    CHECK(sx.stx_rdev_major == 1 && sx.stx_rdev_minor == 3);

    /* Errors. */
    CHECK_ERR(xstatx(AT_FDCWD, "st_missing", 0, LT_STATX_BASIC_STATS, &sx), ENOENT);
    CHECK_ERR(xstatx(AT_FDCWD, "st_x/y", 0, LT_STATX_BASIC_STATS, &sx), ENOTDIR);
    CHECK_ERR(xstatx(-5, "st_x", 0, LT_STATX_BASIC_STATS, &sx), EBADF);
    CHECK_ERR(xstatx(9999, "", AT_EMPTY_PATH, LT_STATX_BASIC_STATS, &sx), EBADF);
    CHECK_ERR(xstatx(AT_FDCWD, "st_x", 0, LT_STATX_RESERVED, &sx), EINVAL);
    CHECK_ERR(xstatx(AT_FDCWD, "st_x", 0x1, LT_STATX_BASIC_STATS, &sx), EINVAL);
    /* Both sync flags at once. */
    CHECK_ERR(xstatx(AT_FDCWD, "st_x", 0x6000, LT_STATX_BASIC_STATS, &sx), EINVAL);
    CHECK_OK(close(fd));
}

/* stx_attributes_mask: every file reports automount, DAX and mount root (0x203000), and its
 * file system adds the inode flags it keeps: tmpfs append, immutable, no-dump (0x70), ext4
 * those and compressed, encrypted, verity (0x100874). Newer kernels may add
 * STATX_ATTR_WRITE_ATOMIC (0x400000), left out of the comparison. */
#define LT_ATTR_WRITE_ATOMIC 0x400000ULL
static uint64_t attr_mask(int dfd, const char *path, int flags) {
    struct lt_statx sx;
    memset(&sx, 0, sizeof sx);
    CHECK_OK(xstatx(dfd, path, flags, LT_STATX_BASIC_STATS, &sx));
    return sx.stx_attributes_mask & ~LT_ATTR_WRITE_ATOMIC;
}

static void test_statx_attributes_mask(void) {
    const uint64_t every = 0x203000;
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(attr_mask(p[0], "", AT_EMPTY_PATH) == every);
    close(p[0]);
    close(p[1]);
    CHECK(attr_mask(AT_FDCWD, "/proc/self/status", 0) == every);
    int m = memfd_create("attrs", 0);
    CHECK(m >= 0);
    CHECK(attr_mask(m, "", AT_EMPTY_PATH) == (every | 0x70));
    close(m);

    struct statfs fs;
    CHECK_OK(statfs(".", &fs));
    int fd = open("st_attrs", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    uint64_t want = 0;
    if (fs.f_type == 0x01021994) /* TMPFS_MAGIC */
        want = every | 0x70;
    else if (fs.f_type == 0xEF53) /* EXT4_SUPER_MAGIC */
        want = every | 0x100874;
    if (want) {
        CHECK(attr_mask(fd, "", AT_EMPTY_PATH) == want);
        CHECK(attr_mask(AT_FDCWD, "st_attrs", 0) == want);
        CHECK(attr_mask(AT_FDCWD, ".", 0) == want);
        /* No flag is set on a new file. */
        struct lt_statx sx;
        CHECK_OK(xstatx(fd, "", AT_EMPTY_PATH, LT_STATX_BASIC_STATS, &sx));
        CHECK((sx.stx_attributes & 0x100874) == 0);
    }
    close(fd);
    unlink("st_attrs");
}

int main(void) {
    test_fstat_basic();
    test_fstatat();
    test_dirs_and_devices();
    test_statx();
    test_statx_attributes_mask();
    DONE();
}
