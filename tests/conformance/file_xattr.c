/* Extended attributes. One probe finds whether the test directory's file system keeps user
 * attributes (Linux's and Lintel's ext4 and tmpfs do; one without xattr handlers answers
 * EOPNOTSUPP); every other check then requires the one answer Linux
 * gives for that kind of file system: ENODATA for a missing attribute where supported, the
 * value, its length and ERANGE for a short buffer, EEXIST/ENODATA for XATTR_CREATE/REPLACE,
 * the list; and, whatever the file system, the checks Linux's VFS makes before it asks the
 * file system: ERANGE for empty and over-long names, E2BIG for an over-long value, EFAULT,
 * EINVAL for bad flags, ENOENT/ENOTDIR/EBADF, an unknown namespace (EOPNOTSUPP), and user.*
 * on symlinks and special files (ENODATA to read, EPERM to write). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define NAME "user.lintel"

static int supported;
static char buf[256];
static char big[65537];
/* An address no program maps (volatile: the compiler must not see through it). */
static void *volatile bad = (void *)1;

/* A call that reads or removes an attribute the file lacks. */
#define CHECK_MISSING(expr) CHECK_ERR(expr, supported ? ENODATA : EOPNOTSUPP)

static void test_missing(int fd) {
    CHECK_MISSING(getxattr("xf", NAME, buf, sizeof buf));
    CHECK_MISSING(getxattr("xf", NAME, NULL, 0));
    CHECK_MISSING(lgetxattr("xf", NAME, buf, sizeof buf));
    CHECK_MISSING(getxattr("xl", NAME, buf, sizeof buf)); /* follows the link */
    CHECK_MISSING(fgetxattr(fd, NAME, buf, sizeof buf));
    CHECK_MISSING(removexattr("xf", NAME));
    CHECK_MISSING(fremovexattr(fd, NAME));
    CHECK_MISSING(getxattr(".", NAME, buf, sizeof buf));
    /* XATTR_REPLACE needs an existing attribute. */
    CHECK_MISSING(setxattr("xf", NAME, "v", 1, XATTR_REPLACE));
    /* Nothing listed (size 0 asks for the length). */
    CHECK(listxattr("xf", buf, sizeof buf) == 0);
    CHECK(listxattr("xf", NULL, 0) == 0);
    CHECK(llistxattr("xl", buf, sizeof buf) == 0);
    CHECK(flistxattr(fd, buf, sizeof buf) == 0);
}

static void test_set_get(int fd) {
    if (!supported) {
        CHECK_ERR(setxattr("xf", NAME, "v", 1, 0), EOPNOTSUPP);
        CHECK_ERR(fsetxattr(fd, NAME, "v", 1, XATTR_CREATE), EOPNOTSUPP);
        CHECK_ERR(setxattr(".", NAME, "v", 1, 0), EOPNOTSUPP);
        return;
    }
    CHECK_OK(setxattr("xf", NAME, "value", 5, XATTR_CREATE));
    CHECK_ERR(setxattr("xf", NAME, "v", 1, XATTR_CREATE), EEXIST);
    memset(buf, 0, sizeof buf);
    CHECK(getxattr("xf", NAME, buf, sizeof buf) == 5 && memcmp(buf, "value", 5) == 0);
    CHECK(getxattr("xf", NAME, NULL, 0) == 5);
    CHECK(getxattr("xl", NAME, buf, sizeof buf) == 5);
    CHECK(fgetxattr(fd, NAME, buf, sizeof buf) == 5);
    CHECK_ERR(getxattr("xf", NAME, buf, 4), ERANGE);
    CHECK_ERR(getxattr("xf", NAME, bad, sizeof buf), EFAULT);
    /* Replace with a shorter value, then an empty one. */
    CHECK_OK(fsetxattr(fd, NAME, "vv", 2, XATTR_REPLACE));
    CHECK(fgetxattr(fd, NAME, buf, sizeof buf) == 2 && memcmp(buf, "vv", 2) == 0);
    CHECK_OK(setxattr("xf", NAME, "", 0, 0));
    CHECK(getxattr("xf", NAME, buf, sizeof buf) == 0);
    /* The list holds the name with its NUL. */
    long n = listxattr("xf", NULL, 0);
    CHECK(n == (long)sizeof NAME);
    CHECK(listxattr("xf", buf, sizeof buf) == n && memcmp(buf, NAME, sizeof NAME) == 0);
    CHECK_ERR(listxattr("xf", buf, 3), ERANGE);
    CHECK_ERR(listxattr("xf", bad, sizeof buf), EFAULT);
    CHECK(flistxattr(fd, buf, sizeof buf) == n);
    CHECK_OK(removexattr("xf", NAME));
    CHECK_ERR(removexattr("xf", NAME), ENODATA);
    CHECK(listxattr("xf", buf, sizeof buf) == 0);
    /* Directories take user attributes too. */
    CHECK_OK(setxattr(".", NAME, "d", 1, 0));
    CHECK(getxattr(".", NAME, buf, sizeof buf) == 1);
    CHECK_OK(removexattr(".", NAME));
}

/* user.* exists only on regular files and directories: reading elsewhere finds nothing,
 * writing is not permitted, before the file system is asked. */
static void test_special_files(void) {
    CHECK_ERR(lgetxattr("xl", NAME, buf, sizeof buf), ENODATA);
    CHECK_ERR(lsetxattr("xl", NAME, "v", 1, 0), EPERM);
    CHECK_ERR(lremovexattr("xl", NAME), EPERM);
    CHECK_OK(mkfifo("xp", 0644));
    CHECK_ERR(getxattr("xp", NAME, buf, sizeof buf), ENODATA);
    CHECK_ERR(setxattr("xp", NAME, "v", 1, 0), EPERM);
    CHECK_ERR(removexattr("xp", NAME), EPERM);
    unlink("xp");
}

/* The VFS's own checks, the same on every file system. */
static void test_vfs_checks(int fd) {
    CHECK_ERR(getxattr("nonexistent", NAME, buf, sizeof buf), ENOENT);
    CHECK_ERR(setxattr("nonexistent", NAME, "v", 1, 0), ENOENT);
    CHECK_ERR(listxattr("nonexistent", buf, sizeof buf), ENOENT);
    CHECK_ERR(removexattr("nonexistent", NAME), ENOENT);
    CHECK_ERR(getxattr("xf/sub", NAME, buf, sizeof buf), ENOTDIR);
    CHECK_ERR(listxattr("xf/", buf, sizeof buf), ENOTDIR);
    CHECK_ERR(getxattr(bad, NAME, buf, sizeof buf), EFAULT);
    CHECK_ERR(fgetxattr(-1, NAME, buf, sizeof buf), EBADF);
    CHECK_ERR(fsetxattr(-1, NAME, "v", 1, 0), EBADF);
    CHECK_ERR(flistxattr(-1, buf, sizeof buf), EBADF);
    CHECK_ERR(fremovexattr(-1, NAME), EBADF);
    /* Names: 1 to 255 bytes, readable. */
    CHECK_ERR(getxattr("xf", "", buf, sizeof buf), ERANGE);
    CHECK_ERR(setxattr("xf", "", "v", 1, 0), ERANGE);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    memcpy(longname, "user.", 5);
    CHECK_ERR(getxattr("xf", longname, buf, sizeof buf), ERANGE);
    CHECK_ERR(removexattr("xf", longname), ERANGE);
    longname[255] = 0; /* the longest name is fine: just missing */
    CHECK_MISSING(getxattr("xf", longname, buf, sizeof buf));
    CHECK_ERR(getxattr("xf", bad, buf, sizeof buf), EFAULT);
    CHECK_ERR(fgetxattr(fd, bad, buf, sizeof buf), EFAULT);
    /* A name outside the known namespaces. */
    CHECK_ERR(getxattr("xf", "lintel", buf, sizeof buf), EOPNOTSUPP);
    CHECK_ERR(setxattr("xf", "lintel.x", "v", 1, 0), EOPNOTSUPP);
    /* Set: only XATTR_CREATE and XATTR_REPLACE; values up to 64 KiB, readable. */
    CHECK_ERR(setxattr("xf", NAME, "v", 1, 4), EINVAL);
    CHECK_ERR(fsetxattr(fd, NAME, "v", 1, -1), EINVAL);
    CHECK_ERR(setxattr("xf", NAME, big, sizeof big, 0), E2BIG);
    CHECK_ERR(setxattr("xf", NAME, bad, 1, 0), EFAULT);
    CHECK_ERR(fsetxattr(fd, NAME, bad, 1, 0), EFAULT);
    /* None of that left an attribute behind. */
    CHECK_MISSING(getxattr("xf", NAME, buf, sizeof buf));
}

int main(void) {
    int fd = open("xf", O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_OK(symlink("xf", "xl"));

    /* The probe: the only call whose answer may be either. */
    CHECK_OK(close(open("xprobe", O_RDWR | O_CREAT, 0644)));
    errno = 0;
    supported = setxattr("xprobe", "user.probe", "1", 1, 0) == 0;
    CHECK(supported || errno == EOPNOTSUPP);
    unlink("xprobe");

    test_missing(fd);
    test_set_get(fd);
    test_special_files();
    test_vfs_checks(fd);

    close(fd);
    unlink("xl");
    unlink("xf");
    DONE();
}
