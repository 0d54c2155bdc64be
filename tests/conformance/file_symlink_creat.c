/* open(O_CREAT) through symbolic links: a dangling link creates its target (relative to the
 * link's directory, through chains of links and absolute targets), O_EXCL refuses the link
 * itself (EEXIST), O_NOFOLLOW gives ELOOP, a missing target directory ENOENT, a target with a
 * trailing slash EISDIR, a file in the target's path ENOTDIR, a loop ELOOP. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

static int is_link(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

static void test_dangling(void) {
    CHECK_OK(symlink("cs_target", "cs_link"));
    /* O_EXCL: the link itself exists; nothing is created. */
    CHECK_ERR(open("cs_link", O_CREAT | O_EXCL | O_WRONLY, 0640), EEXIST);
    CHECK(!exists("cs_target"));
    /* O_NOFOLLOW: the last component is a link. */
    CHECK_ERR(open("cs_link", O_CREAT | O_NOFOLLOW | O_WRONLY, 0640), ELOOP);
    CHECK(!exists("cs_target"));
    /* Plain O_CREAT creates the target, a regular file with the requested mode. */
    umask(022);
    int fd = open("cs_link", O_CREAT | O_WRONLY, 0640);
    CHECK(fd >= 0);
    CHECK(write(fd, "abc", 3) == 3);
    close(fd);
    struct stat st;
    CHECK_OK(lstat("cs_target", &st));
    CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0640 && st.st_size == 3);
    CHECK(is_link("cs_link"));
    /* Now the target exists: O_CREAT opens it, O_CREAT|O_EXCL still refuses. */
    fd = open("cs_link", O_CREAT | O_RDONLY, 0600);
    CHECK(fd >= 0);
    char buf[4] = {0};
    CHECK(read(fd, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    close(fd);
    CHECK_ERR(open("cs_link", O_CREAT | O_EXCL | O_WRONLY, 0640), EEXIST);
    /* creat(2) is open(O_CREAT|O_WRONLY|O_TRUNC) and follows the same way. */
    CHECK_OK(symlink("cs_target2", "cs_link2"));
    fd = creat("cs_link2", 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(exists("cs_target2") && !is_link("cs_target2"));
}

static void test_relative_and_chains(void) {
    CHECK_OK(mkdir("cs_sub", 0755));
    /* A relative target is relative to the link's directory, not the caller's. */
    CHECK_OK(symlink("t", "cs_sub/l"));
    int fd = open("cs_sub/l", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(exists("cs_sub/t") && !exists("t"));
    /* Through openat with a directory fd. */
    int dfd = open("cs_sub", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_OK(symlinkat("t2", dfd, "l2"));
    fd = openat(dfd, "l2", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(exists("cs_sub/t2"));
    close(dfd);
    /* A chain of dangling links: the last one's target is created. */
    CHECK_OK(symlink("cs_c2", "cs_c1"));
    CHECK_OK(symlink("cs_sub/c3", "cs_c2"));
    fd = open("cs_c1", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(exists("cs_sub/c3") && is_link("cs_c1") && is_link("cs_c2"));
    /* An absolute target. */
    char cwd[PATH_MAX], abs[PATH_MAX + 32];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(abs, sizeof abs, "%s/cs_sub/abs", cwd);
    CHECK_OK(symlink(abs, "cs_abs"));
    fd = open("cs_abs", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(exists("cs_sub/abs"));
    /* A link to a directory in the middle of the path. */
    CHECK_OK(symlink("cs_sub", "cs_dirlink"));
    fd = open("cs_dirlink/mid", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(exists("cs_sub/mid"));
}

static void test_errors(void) {
    /* The target's directory does not exist. */
    CHECK_OK(symlink("cs_nodir/x", "cs_e1"));
    CHECK_ERR(open("cs_e1", O_CREAT | O_WRONLY, 0600), ENOENT);
    CHECK(!exists("cs_nodir"));
    /* A file where the target needs a directory. */
    CHECK_OK(close(open("cs_file", O_CREAT | O_WRONLY, 0600)));
    CHECK_OK(symlink("cs_file/x", "cs_e2"));
    CHECK_ERR(open("cs_e2", O_CREAT | O_WRONLY, 0600), ENOTDIR);
    /* A target with a trailing slash, and a trailing slash after the link. */
    CHECK_OK(symlink("cs_newdir/", "cs_e3"));
    CHECK_ERR(open("cs_e3", O_CREAT | O_WRONLY, 0600), EISDIR);
    CHECK(!exists("cs_newdir"));
    CHECK_ERR(open("cs_e1/", O_CREAT | O_WRONLY, 0600), EISDIR);
    /* A link to "..": an existing directory. */
    CHECK_OK(symlink("..", "cs_e4"));
    CHECK_ERR(open("cs_e4", O_CREAT | O_WRONLY, 0600), EISDIR);
    /* Links that loop. */
    CHECK_OK(symlink("cs_self", "cs_self"));
    CHECK_ERR(open("cs_self", O_CREAT | O_WRONLY, 0600), ELOOP);
    CHECK_OK(symlink("cs_pong", "cs_ping"));
    CHECK_OK(symlink("cs_ping", "cs_pong"));
    CHECK_ERR(open("cs_ping", O_CREAT | O_WRONLY, 0600), ELOOP);
    /* Without O_CREAT a dangling link is ENOENT and creates nothing. */
    CHECK_OK(symlink("cs_never", "cs_e5"));
    CHECK_ERR(open("cs_e5", O_WRONLY), ENOENT);
    CHECK(!exists("cs_never"));
}

int main(void) {
    test_dangling();
    test_relative_and_chains();
    test_errors();
    DONE();
}
