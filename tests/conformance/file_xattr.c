/* Extended attributes, as far as a file system without them and one with them agree: the
 * path and fd checks, the name checks (ERANGE for an empty or over-long name), get and remove
 * of a missing attribute (ENODATA with xattr support, EOPNOTSUPP without), list. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/xattr.h>

static int missing(long r) { return r == -1 && (errno == ENODATA || errno == EOPNOTSUPP); }

int main(void) {
    int fd = open("xf", O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_OK(symlink("xf", "xl"));
    char buf[256];

    CHECK(missing(getxattr("xf", "user.lintel", buf, sizeof buf)));
    CHECK(missing(lgetxattr("xf", "user.lintel", buf, sizeof buf)));
    CHECK(missing(fgetxattr(fd, "user.lintel", buf, sizeof buf)));
    CHECK(missing(removexattr("xf", "user.lintel")));
    CHECK(missing(fremovexattr(fd, "user.lintel")));
    CHECK(listxattr("xf", buf, sizeof buf) >= 0);
    CHECK(llistxattr("xl", buf, sizeof buf) >= 0);
    CHECK(flistxattr(fd, buf, sizeof buf) >= 0);

    /* A set either works (then get returns it) or is not supported. */
    int r = setxattr("xf", "user.lintel", "v", 1, 0);
    if (r == 0) {
        CHECK(getxattr("xf", "user.lintel", buf, sizeof buf) == 1);
        CHECK_OK(removexattr("xf", "user.lintel"));
    } else {
        CHECK(errno == EOPNOTSUPP);
    }

    CHECK_ERR(getxattr("nonexistent", "user.lintel", buf, sizeof buf), ENOENT);
    CHECK_ERR(setxattr("nonexistent", "user.lintel", "v", 1, 0), ENOENT);
    CHECK_ERR(listxattr("nonexistent", buf, sizeof buf), ENOENT);
    CHECK_ERR(fgetxattr(-1, "user.lintel", buf, sizeof buf), EBADF);
    CHECK_ERR(flistxattr(-1, buf, sizeof buf), EBADF);
    CHECK_ERR(getxattr("xf", "", buf, sizeof buf), ERANGE);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    memcpy(longname, "user.", 5);
    CHECK_ERR(getxattr("xf", longname, buf, sizeof buf), ERANGE);
    CHECK_ERR(getxattr("xf", (const char *)1, buf, sizeof buf), EFAULT);

    close(fd);
    unlink("xl");
    unlink("xf");
    DONE();
}
