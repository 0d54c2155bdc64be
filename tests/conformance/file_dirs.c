/* Directory and name operations: mkdir/mkdirat, rmdir, unlink/unlinkat, rename/renameat2,
 * getcwd/chdir/fchdir, symlink with access/faccessat, umask, truncate/ftruncate. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_renameat2
#define SYS_renameat2 316
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#define LT_RENAME_NOREPLACE 1

static int exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

static int is_dir(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void make_file(const char *p, const char *content) {
    int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
    close(fd);
}

/* Reads a small file into buf (NUL-terminated); returns its length or -1. */
static long slurp(const char *p, char *buf, size_t n) {
    int fd = open(p, O_RDONLY);
    if (fd < 0) return -1;
    long r = read(fd, buf, n - 1);
    close(fd);
    if (r >= 0) buf[r] = 0;
    return r;
}

static void test_mkdir_rmdir_unlink(void) {
    umask(022);
    CHECK_OK(mkdir("dd_a", 0755));
    CHECK(is_dir("dd_a"));
    CHECK_ERR(mkdir("dd_a", 0755), EEXIST);
    make_file("dd_f", "x");
    CHECK_ERR(mkdir("dd_f", 0755), EEXIST);
    CHECK_ERR(mkdir("dd_missing/sub", 0755), ENOENT);
    CHECK_ERR(mkdir("dd_f/sub", 0755), ENOTDIR);
    CHECK_ERR(mkdir("", 0755), ENOENT);
    /* A trailing slash is fine for a new directory. */
    CHECK_OK(mkdir("dd_slash/", 0755));
    CHECK(is_dir("dd_slash"));
    /* mkdirat relative to a directory descriptor. */
    int dfd = open("dd_a", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(mkdirat(dfd, "inner", 0700));
    CHECK(is_dir("dd_a/inner"));
    CHECK_ERR(mkdirat(dfd, "inner", 0700), EEXIST);
    CHECK_OK(mkdirat(AT_FDCWD, "dd_b", 0755));
    CHECK(is_dir("dd_b"));
    CHECK_ERR(mkdirat(-5, "dd_c", 0755), EBADF);
    int ffd = open("dd_f", O_RDONLY);
    CHECK_ERR(mkdirat(ffd, "dd_c", 0755), ENOTDIR);
    close(ffd);
    CHECK(!exists("dd_c"));
    /* A symlink in the way counts as existing, even if dangling. */
    CHECK_OK(symlink("dd_nowhere", "dd_dangling"));
    CHECK_ERR(mkdir("dd_dangling", 0755), EEXIST);

    /* rmdir */
    CHECK_ERR(rmdir("dd_a"), ENOTEMPTY);
    CHECK_ERR(rmdir("dd_f"), ENOTDIR);
    CHECK_ERR(rmdir("dd_missing"), ENOENT);
    CHECK_ERR(rmdir("dd_f/x"), ENOTDIR);
    CHECK_ERR(rmdir("dd_a/inner/."), EINVAL);
    CHECK_ERR(rmdir("."), EINVAL);
    CHECK_ERR(rmdir("dd_a/inner/.."), ENOTEMPTY);
    CHECK_OK(symlink("dd_b", "dd_blink"));
    CHECK_ERR(rmdir("dd_blink"), ENOTDIR);
    CHECK(is_dir("dd_b"));
    CHECK_OK(rmdir("dd_a/inner"));
    CHECK(!exists("dd_a/inner"));
    CHECK_OK(rmdir("dd_a"));
    CHECK(!exists("dd_a"));
    /* The open descriptor of a removed directory still works for fstat but not creation. */
    struct stat st;
    CHECK_OK(fstat(dfd, &st));
    CHECK(S_ISDIR(st.st_mode));
    CHECK_ERR(openat(dfd, "new", O_CREAT | O_WRONLY, 0644), ENOENT);
    CHECK_ERR(mkdirat(dfd, "newdir", 0755), ENOENT);
    close(dfd);
    CHECK_OK(rmdir("dd_slash/"));

    /* unlink */
    CHECK_ERR(unlink("dd_b"), EISDIR);
    CHECK_ERR(unlink("dd_missing"), ENOENT);
    CHECK_ERR(unlink("dd_f/x"), ENOTDIR);
    CHECK_ERR(unlink(""), ENOENT);
    /* unlink of a symlink removes the link, not the target. */
    CHECK_OK(unlink("dd_blink"));
    CHECK(!exists("dd_blink") && is_dir("dd_b"));
    CHECK_OK(unlink("dd_dangling"));
    /* unlinkat */
    CHECK_ERR(unlinkat(AT_FDCWD, "dd_f", AT_REMOVEDIR), ENOTDIR);
    CHECK_ERR(unlinkat(AT_FDCWD, "dd_b", 0), EISDIR);
    CHECK_ERR(unlinkat(AT_FDCWD, "dd_f", 0x1), EINVAL);
    CHECK_OK(unlinkat(AT_FDCWD, "dd_b", AT_REMOVEDIR));
    CHECK(!exists("dd_b"));
    /* An open file survives unlink. */
    int fd = open("dd_f", O_RDONLY);
    CHECK_OK(unlinkat(AT_FDCWD, "dd_f", 0));
    CHECK(!exists("dd_f"));
    char c = 0;
    CHECK(read(fd, &c, 1) == 1 && c == 'x');
    close(fd);
    CHECK_ERR(unlink("dd_f"), ENOENT);
}

static void test_rename(void) {
    char buf[64];
    make_file("rn_a", "alpha");
    make_file("rn_b", "beta");
    struct stat sa;
    CHECK_OK(stat("rn_a", &sa));
    int fd = open("rn_a", O_RDONLY);
    /* File over file: the target is replaced and the inode moves. */
    CHECK_OK(rename("rn_a", "rn_b"));
    CHECK(!exists("rn_a"));
    CHECK(slurp("rn_b", buf, sizeof buf) == 5 && strcmp(buf, "alpha") == 0);
    struct stat sb;
    CHECK_OK(stat("rn_b", &sb));
    CHECK(sb.st_ino == sa.st_ino);
    /* The open descriptor follows. */
    CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "alpha", 5) == 0);
    close(fd);
    /* Renaming onto itself, or onto a hard link of itself, does nothing. */
    CHECK_OK(rename("rn_b", "rn_b"));
    CHECK(exists("rn_b"));
    CHECK_OK(link("rn_b", "rn_b2"));
    if (exists("rn_b2")) {
        CHECK_OK(rename("rn_b", "rn_b2"));
        CHECK(exists("rn_b") && exists("rn_b2"));
        CHECK_OK(unlink("rn_b2"));
    }
    CHECK_ERR(rename("rn_missing", "rn_x"), ENOENT);
    CHECK_ERR(rename("rn_b", "rn_nodir/x"), ENOENT);
    CHECK_ERR(rename("", "rn_x"), ENOENT);

    /* Directories. */
    CHECK_OK(mkdir("rn_d", 0755));
    CHECK_OK(mkdir("rn_d/sub", 0755));
    make_file("rn_d/sub/f", "in");
    CHECK_ERR(rename("rn_d", "rn_d/sub/inside"), EINVAL);
    CHECK_ERR(rename("rn_d", "rn_d/inside"), EINVAL);
    CHECK_ERR(rename(".", "rn_x"), EBUSY);
    /* Directory over a file, file over a directory (on names used only here). */
    CHECK_OK(mkdir("rn_td", 0755));
    make_file("rn_td/keep", "k");
    make_file("rn_tf", "t");
    CHECK_ERR(rename("rn_td", "rn_tf"), ENOTDIR);
    CHECK(is_dir("rn_td"));
    make_file("rn_tf2", "t");
    CHECK_OK(mkdir("rn_td2", 0755));
    CHECK_ERR(rename("rn_tf2", "rn_td2"), EISDIR);
    CHECK(is_dir("rn_td2"));
    /* Directory over a non-empty directory, and over an empty one. */
    CHECK_OK(mkdir("rn_e", 0755));
    CHECK_ERR(rename("rn_e", "rn_d"), ENOTEMPTY);
    CHECK_OK(rename("rn_d", "rn_e"));
    CHECK(!exists("rn_d") && is_dir("rn_e/sub"));
    CHECK(slurp("rn_e/sub/f", buf, sizeof buf) == 2 && strcmp(buf, "in") == 0);
    /* Moving between directories. */
    CHECK_OK(rename("rn_b", "rn_e/sub/moved"));
    CHECK(!exists("rn_b") && exists("rn_e/sub/moved"));
    CHECK_OK(rename("rn_e/sub", "rn_sub"));
    CHECK(is_dir("rn_sub") && exists("rn_sub/moved"));
    struct stat se;
    CHECK_OK(stat("rn_e", &se));
    CHECK(se.st_nlink == 2);
    /* A trailing slash on a non-directory is ENOTDIR. */
    CHECK_ERR(rename("rn_tf/", "rn_x"), ENOTDIR);
    CHECK(exists("rn_tf") && !exists("rn_x"));

    /* renameat with descriptors and renameat2 RENAME_NOREPLACE. */
    int d1 = open("rn_sub", O_RDONLY | O_DIRECTORY);
    int d2 = open("rn_e", O_RDONLY | O_DIRECTORY);
    CHECK_OK(renameat(d1, "moved", d2, "back"));
    CHECK(exists("rn_e/back") && !exists("rn_sub/moved"));
    make_file("rn_e/other", "o");
    CHECK_ERR(syscall(SYS_renameat2, d2, "back", d2, "other", LT_RENAME_NOREPLACE), EEXIST);
    CHECK(exists("rn_e/back"));
    CHECK_OK(syscall(SYS_renameat2, d2, "back", d2, "fresh", LT_RENAME_NOREPLACE));
    CHECK(exists("rn_e/fresh") && !exists("rn_e/back"));
    CHECK_ERR(syscall(SYS_renameat2, d2, "fresh", d2, "x", 0x80), EINVAL);
    CHECK_ERR(renameat(-5, "fresh", d2, "y"), EBADF);
    close(d1);
    close(d2);
    /* Symlinks are renamed, not followed. */
    CHECK_OK(symlink("rn_e", "rn_l"));
    CHECK_OK(rename("rn_l", "rn_l2"));
    struct stat sl;
    CHECK_OK(lstat("rn_l2", &sl));
    CHECK(S_ISLNK(sl.st_mode));
    CHECK(is_dir("rn_e") && !exists("rn_l"));
}

static void test_cwd(void) {
    char start[PATH_MAX], now[PATH_MAX];
    CHECK(getcwd(start, sizeof start) == start);
    CHECK(start[0] == '/');
    CHECK_OK(mkdir("cw_d", 0755));
    CHECK_OK(mkdir("cw_d/deeper", 0755));
    CHECK_OK(chdir("cw_d"));
    CHECK(getcwd(now, sizeof now) == now);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/cw_d", strcmp(start, "/") == 0 ? "" : start);
    CHECK(strcmp(now, want) == 0);
    /* Relative names now resolve from the new directory. */
    make_file("here", "h");
    CHECK_OK(chdir("deeper"));
    CHECK(exists("../here"));
    CHECK_OK(chdir("../.."));
    CHECK(getcwd(now, sizeof now) && strcmp(now, start) == 0);
    CHECK(exists("cw_d/here"));
    /* The raw syscall returns the length including the NUL. */
    char raw[PATH_MAX];
    CHECK(syscall(SYS_getcwd, raw, sizeof raw) == (long)strlen(start) + 1);
    CHECK(strcmp(raw, start) == 0);
    CHECK_ERR(syscall(SYS_getcwd, raw, 1), ERANGE);
    CHECK_ERR(syscall(SYS_getcwd, raw, strlen(start)), ERANGE);
    CHECK_ERR(syscall(SYS_getcwd, raw, 0), ERANGE);

    /* fchdir */
    int dfd = open("cw_d/deeper", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(fchdir(dfd));
    CHECK(getcwd(now, sizeof now) != NULL);
    snprintf(want, sizeof want, "%s/cw_d/deeper", strcmp(start, "/") == 0 ? "" : start);
    CHECK(strcmp(now, want) == 0);
    int root = open("/", O_RDONLY | O_DIRECTORY);
    CHECK_OK(fchdir(root));
    CHECK(getcwd(now, sizeof now) && strcmp(now, "/") == 0);
    close(root);
    CHECK_OK(chdir(start));
    CHECK(getcwd(now, sizeof now) && strcmp(now, start) == 0);
    /* chdir through a symlink lands in the target. */
    CHECK_OK(symlink("cw_d/deeper", "cw_link"));
    CHECK_OK(chdir("cw_link"));
    CHECK(getcwd(now, sizeof now) && strcmp(now, want) == 0);
    CHECK_OK(chdir(start));

    /* Errors. */
    make_file("cw_file", "f");
    CHECK_ERR(chdir("cw_file"), ENOTDIR);
    CHECK_ERR(chdir("cw_missing"), ENOENT);
    CHECK_ERR(chdir(""), ENOENT);
    int ffd = open("cw_file", O_RDONLY);
    CHECK_ERR(fchdir(ffd), ENOTDIR);
    close(ffd);
    CHECK_ERR(fchdir(-1), EBADF);
    CHECK_ERR(fchdir(9999), EBADF);
    CHECK(getcwd(now, sizeof now) && strcmp(now, start) == 0);
    close(dfd);
}

static void test_access(void) {
    make_file("ac_f", "data");
    CHECK_OK(chmod("ac_f", 0644));
    CHECK_OK(symlink("ac_f", "ac_l"));
    CHECK_OK(symlink("ac_none", "ac_dangle"));
    CHECK_OK(mkdir("ac_d", 0755));
    CHECK_OK(access("ac_f", F_OK));
    CHECK_OK(access("ac_f", R_OK));
    CHECK_OK(access("ac_l", F_OK));
    CHECK_OK(access("ac_l", R_OK));
    /* No execute bit for anyone: EACCES even for root. */
    CHECK_ERR(access("ac_f", X_OK), EACCES);
    CHECK_ERR(access("ac_l", X_OK), EACCES);
    CHECK_OK(access("ac_d", X_OK));
    CHECK_OK(access("ac_d", R_OK | X_OK));
    CHECK_OK(access("/dev/null", R_OK | W_OK));
    /* A dangling link is followed and missing. */
    CHECK_ERR(access("ac_dangle", F_OK), ENOENT);
    CHECK_ERR(access("ac_missing", F_OK), ENOENT);
    CHECK_ERR(access("ac_f/x", F_OK), ENOTDIR);
    CHECK_ERR(access("", F_OK), ENOENT);
    CHECK_ERR(access("ac_f", 0x10), EINVAL);
    CHECK_ERR(access("ac_f", -1), EINVAL);
    /* faccessat */
    int dfd = open("ac_d", O_RDONLY | O_DIRECTORY);
    make_file("ac_d/in", "i");
    CHECK_OK(faccessat(dfd, "in", R_OK, 0));
    CHECK_ERR(faccessat(dfd, "ac_f", F_OK, 0), ENOENT);
    CHECK_OK(faccessat(AT_FDCWD, "ac_f", F_OK, 0));
    CHECK_ERR(syscall(SYS_faccessat, -5, "in", F_OK), EBADF);
    int ffd = open("ac_f", O_RDONLY);
    CHECK_ERR(syscall(SYS_faccessat, ffd, "in", F_OK), ENOTDIR);
    /* faccessat2: AT_SYMLINK_NOFOLLOW checks the link itself. */
    long r = syscall(SYS_faccessat2, AT_FDCWD, "ac_dangle", F_OK, AT_SYMLINK_NOFOLLOW);
    CHECK(r == 0);
    CHECK_ERR(syscall(SYS_faccessat2, AT_FDCWD, "ac_dangle", F_OK, 0), ENOENT);
    CHECK_OK(syscall(SYS_faccessat2, AT_FDCWD, "ac_f", R_OK, AT_EACCESS));
    CHECK_OK(syscall(SYS_faccessat2, ffd, "", R_OK, AT_EMPTY_PATH));
    CHECK_ERR(syscall(SYS_faccessat2, AT_FDCWD, "ac_f", F_OK, 0x1), EINVAL);
    close(ffd);
    close(dfd);
}

static void test_umask(void) {
    mode_t old = umask(027);
    CHECK(old == 022);
    CHECK(umask(027) == 027);
    int fd = open("um_a", O_CREAT | O_EXCL | O_WRONLY, 0666);
    CHECK(fd >= 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK((st.st_mode & 07777) == 0640);
    close(fd);
    CHECK_OK(mkdir("um_d", 0777));
    CHECK_OK(stat("um_d", &st));
    CHECK((st.st_mode & 07777) == 0750);
    /* The umask does not apply to chmod, nor to an existing file opened with O_CREAT. */
    CHECK_OK(chmod("um_a", 0666));
    CHECK_OK(stat("um_a", &st));
    CHECK((st.st_mode & 07777) == 0666);
    fd = open("um_a", O_CREAT | O_WRONLY, 0600);
    CHECK_OK(fstat(fd, &st));
    CHECK((st.st_mode & 07777) == 0666);
    close(fd);
    /* A zero umask keeps the requested mode; only permission bits are kept in the mask. */
    CHECK(umask(0) == 027);
    fd = open("um_b", O_CREAT | O_EXCL | O_WRONLY, 0666);
    CHECK_OK(fstat(fd, &st));
    CHECK((st.st_mode & 07777) == 0666);
    close(fd);
    CHECK_OK(mkdirat(AT_FDCWD, "um_d2", 0777));
    CHECK_OK(stat("um_d2", &st));
    CHECK((st.st_mode & 07777) == 0777);
    CHECK(umask(0177777) == 0);
    CHECK(umask(022) == 0777);
    /* Symlinks are always 0777. */
    CHECK(umask(077) == 022);
    CHECK_OK(symlink("um_a", "um_l"));
    CHECK_OK(lstat("um_l", &st));
    CHECK((st.st_mode & 07777) == 0777);
    umask(022);
}

static void test_truncate(void) {
    char buf[64];
    make_file("tr_f", "0123456789");
    int fd = open("tr_f", O_RDWR);
    CHECK(fd >= 0);
    CHECK(lseek(fd, 8, SEEK_SET) == 8);
    /* Shrink: the offset is untouched, data past the end is gone. */
    CHECK_OK(ftruncate(fd, 4));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 4);
    CHECK(lseek(fd, 0, SEEK_CUR) == 8);
    CHECK(read(fd, buf, sizeof buf) == 0);
    /* Grow: the new part reads as zeros, not the old data. */
    CHECK_OK(ftruncate(fd, 10));
    memset(buf, 'q', sizeof buf);
    CHECK(pread(fd, buf, sizeof buf, 0) == 10);
    CHECK(memcmp(buf, "0123\0\0\0\0\0\0", 10) == 0);
    /* truncate by name. */
    CHECK_OK(truncate("tr_f", 2));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 2);
    CHECK_OK(truncate("tr_f", 5000));
    CHECK_OK(stat("tr_f", &st));
    CHECK(st.st_size == 5000);
    CHECK(pread(fd, buf, 8, 4990) == 8);
    int zero = 1;
    for (int i = 0; i < 8; i++) zero &= buf[i] == 0;
    CHECK(zero);
    CHECK_OK(truncate("tr_f", 0));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 0);
    /* Writing at the old offset after shrinking leaves a hole. */
    CHECK(write(fd, "Z", 1) == 1);
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 9);
    close(fd);

    /* Errors. */
    fd = open("tr_f", O_RDWR);
    CHECK_ERR(ftruncate(fd, -1), EINVAL);
    CHECK_ERR(truncate("tr_f", -1), EINVAL);
    close(fd);
    fd = open("tr_f", O_RDONLY);
    CHECK_ERR(ftruncate(fd, 0), EINVAL);
    close(fd);
    CHECK_ERR(ftruncate(-1, 0), EBADF);
    CHECK_ERR(ftruncate(9999, 0), EBADF);
    CHECK_OK(mkdir("tr_d", 0755));
    CHECK_ERR(truncate("tr_d", 0), EISDIR);
    CHECK_ERR(truncate("tr_missing", 0), ENOENT);
    CHECK_ERR(truncate("tr_f/x", 0), ENOTDIR);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERR(ftruncate(p[1], 0), EINVAL);
    close(p[0]);
    close(p[1]);
    /* Through a symlink the target is truncated. */
    CHECK_OK(symlink("tr_f", "tr_l"));
    CHECK_OK(truncate("tr_l", 3));
    CHECK_OK(stat("tr_f", &st));
    CHECK(st.st_size == 3);
}

int main(void) {
    test_mkdir_rmdir_unlink();
    test_rename();
    test_cwd();
    test_access();
    test_umask();
    test_truncate();
    DONE();
}
