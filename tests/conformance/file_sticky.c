/* The sticky bit on a directory: only the owner of an entry, the owner of the directory or
 * root may unlink, rmdir or rename it away (EPERM otherwise); without the bit, write
 * permission on the directory is enough. Also /dev is root's alone (mode 0755), as
 * devtmpfs. trinity as nobody deleted /dev/zero, which exposed both. Needs root to set up
 * (passes trivially otherwise). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void as_nobody(void) {
    CHECK_OK(setresgid(65534, 65534, 65534));
    CHECK_OK(setresuid(65534, 65534, 65534));
    char p[128], q[128];
    snprintf(p, sizeof p, "%s/sticky/rootfile", dir);
    CHECK_ERR(unlink(p), EPERM);
    snprintf(q, sizeof q, "%s/sticky/mine", dir);
    CHECK_ERR(rename(p, q), EPERM);
    snprintf(p, sizeof p, "%s/sticky/rootdir", dir);
    CHECK_ERR(rmdir(p), EPERM);
    /* Its own file: create, rename over nothing, unlink. */
    int fd = open(q, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    snprintf(p, sizeof p, "%s/sticky/mine2", dir);
    CHECK_OK(rename(q, p));
    /* Renaming onto root's file would remove it: EPERM too. */
    snprintf(q, sizeof q, "%s/sticky/rootfile", dir);
    CHECK_ERR(rename(p, q), EPERM);
    CHECK_OK(unlink(p));
    /* Without the sticky bit, write permission on the directory is enough. */
    snprintf(p, sizeof p, "%s/open/rootfile", dir);
    CHECK_OK(unlink(p));
    /* /dev: no new nodes, no removals. */
    CHECK_ERR(unlink("/dev/null"), EACCES);
    CHECK_ERR(mkdir("/dev/nobody-was-here", 0755), EACCES);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct stat st;
    CHECK_OK(stat("/dev", &st));
    CHECK((st.st_mode & 07777) == 0755 && st.st_uid == 0);
    if (getuid() != 0) DONE();
    snprintf(dir, sizeof dir, "/tmp/sticky.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    CHECK_OK(chmod(dir, 0755));
    char p[128];
    snprintf(p, sizeof p, "%s/sticky", dir);
    CHECK_OK(mkdir(p, 0777));
    CHECK_OK(chmod(p, 01777));
    snprintf(p, sizeof p, "%s/open", dir);
    CHECK_OK(mkdir(p, 0777));
    CHECK_OK(chmod(p, 0777));
    snprintf(p, sizeof p, "%s/sticky/rootfile", dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0666);
    CHECK(fd >= 0);
    close(fd);
    snprintf(p, sizeof p, "%s/sticky/rootdir", dir);
    CHECK_OK(mkdir(p, 0777));
    snprintf(p, sizeof p, "%s/open/rootfile", dir);
    fd = open(p, O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    lt_sub("as_nobody", as_nobody, 10000);
    /* Root may remove anything. */
    snprintf(p, sizeof p, "%s/sticky/rootfile", dir);
    CHECK_OK(unlink(p));
    snprintf(p, sizeof p, "%s/sticky/rootdir", dir);
    CHECK_OK(rmdir(p));
    snprintf(p, sizeof p, "%s/sticky", dir);
    CHECK_OK(rmdir(p));
    snprintf(p, sizeof p, "%s/open", dir);
    CHECK_OK(rmdir(p));
    CHECK_OK(rmdir(dir));
    DONE();
}
