/* A ptmx node (5:2) outside any devpts instance opens a pty in the instance mounted on the
 * `pts` beside it (Linux's devpts_acquire, path_pts): with no `pts` there, open gives
 * ENOENT; with a `pts` that is not a devpts (a plain folder, a file, a symlink to a devpts:
 * path_pts does not follow it), ENODEV; with a devpts mounted there, a pty of that instance
 * (numbered from 0, its slave node in that instance). As root, on a private tmpfs, on the
 * host too. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int open_ptmx(void) {
    return open(at("ptmx"), O_RDWR | O_NOCTTY);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_ptmxalone_XXXXXX", "size=1m");
    CHECK_OK(mknod(at("ptmx"), S_IFCHR | 0666, makedev(5, 2)));

    /* No pts beside it. */
    CHECK_ERR(open_ptmx(), ENOENT);

    /* A pts that is a plain folder, then a file. */
    CHECK_OK(mkdir(at("pts"), 0755));
    CHECK_ERR(open_ptmx(), ENODEV);
    CHECK_OK(rmdir(at("pts")));
    int f = open(at("pts"), O_CREAT | O_WRONLY, 0644);
    CHECK(f >= 0);
    if (f >= 0) close(f);
    CHECK_ERR(open_ptmx(), ENODEV);
    CHECK_OK(unlink(at("pts")));

    /* A symlink to a devpts is not followed. */
    CHECK_OK(mkdir(at("real"), 0755));
    CHECK_OK(mount("devpts", at("real"), "devpts", 0, "ptmxmode=0666"));
    CHECK_OK(symlink("real", at("pts")));
    CHECK_ERR(open_ptmx(), ENODEV);
    CHECK_OK(unlink(at("pts")));

    /* A devpts on pts: the pty is that instance's. */
    CHECK_OK(mkdir(at("pts"), 0755));
    CHECK_OK(mount("devpts", at("pts"), "devpts", 0, "ptmxmode=0666"));
    int m = open_ptmx();
    CHECK(m >= 0);
    unsigned n = 99;
    CHECK_OK(ioctl(m, TIOCGPTN, &n));
    CHECK(n == 0);
    CHECK_OK(access(at("pts/0"), F_OK));
    CHECK_ERR(access(at("real/0"), F_OK), ENOENT);
    if (m >= 0) close(m);

    CHECK_OK(umount2(at("pts"), 0));
    CHECK_OK(umount2(at("real"), 0));
    scratch_done();
    DONE();
}
