/* umount2 with MNT_DETACH (lazy unmount) of a busy mount (as root, on a private tmpfs of its
 * own, on the host too): it succeeds where a plain umount2 is EBUSY, the mount and the
 * mounts on it leave /proc/self/mounts and the path shows what lies under, while the open
 * files keep working through the detached mount (reads, writes, openat and fstatfs from a
 * descriptor of its folder, fchdir into it, /proc/self/fd naming the file from the detached
 * mount's root). A detached mount is no mount of the tree any more: umount2 of it is EINVAL
 * and nothing can be mounted inside it (ENOENT). MNT_DETACH with MNT_EXPIRE is EINVAL. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994

/* Whether `point` is a mount point in /proc/self/mounts. */
static int mounted(const char *point) {
    static char buf[65536];
    read_all("/proc/self/mounts", buf, sizeof buf);
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
        char src[128], pt[256];
        if (sscanf(p, "%127s %255s", src, pt) == 2 && strcmp(pt, point) == 0) return 1;
    }
    return 0;
}

int main(void) {
    (void)mounts_opts;
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_detach_XXXXXX", "size=1m");
    CHECK_OK(mkdir(at("m"), 0755));
    /* What lies under the mount. */
    int fd0 = open(at("m/under"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd0 >= 0);
    if (fd0 >= 0) close(fd0);
    CHECK_OK(mount("none", at("m"), "tmpfs", 0, "size=1m"));
    CHECK_OK(mkdir(at("m/sub"), 0755));
    CHECK_OK(mount("none", at("m/sub"), "tmpfs", 0, "size=1m"));
    fd0 = open(at("m/sub/onsub"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd0 >= 0);
    if (fd0 >= 0) close(fd0);

    int fd = open(at("m/f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello", 5) == 5);
    int dfd = open(at("m"), O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);

    CHECK_ERR(umount2(at("m"), 0), EBUSY);
    CHECK_ERR(umount2(at("m"), MNT_DETACH | MNT_EXPIRE), EINVAL);
    CHECK_OK(umount2(at("m"), MNT_DETACH));
    CHECK(!mounted(at("m")));
    CHECK(!mounted(at("m/sub")));
    /* The path shows the folder under the mount again. */
    CHECK_OK(access(at("m/under"), F_OK));
    CHECK_ERR(access(at("m/f"), F_OK), ENOENT);

    /* The open file and folder still work. */
    CHECK(write(fd, " world", 6) == 6);
    char buf[32] = {0};
    CHECK(pread(fd, buf, sizeof buf, 0) == 11 && memcmp(buf, "hello world", 11) == 0);
    CHECK_OK(faccessat(dfd, "f", F_OK, 0));
    int g = openat(dfd, "g", O_RDWR | O_CREAT, 0644);
    CHECK(g >= 0);
    if (g >= 0) close(g);
    /* The mount that was on it is detached too: its folder is a plain one now. */
    CHECK_OK(faccessat(dfd, "sub", F_OK, 0));
    CHECK_ERR(faccessat(dfd, "sub/onsub", F_OK, 0), ENOENT);
    struct statfs sf;
    CHECK_OK(fstatfs(fd, &sf));
    CHECK((unsigned long)sf.f_type == TMPFS_MAGIC);
    char link[256] = {0}, proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    CHECK(readlink(proc, link, sizeof link - 1) > 0);
    CHECK(strcmp(link, "/f") == 0);
    if (strcmp(link, "/f") != 0) printf("fd link: %s\n", link);

    /* Working inside the detached mount. */
    CHECK_OK(fchdir(dfd));
    int r = open("f", O_RDONLY);
    CHECK(r >= 0);
    if (r >= 0) close(r);
    CHECK_ERR(mount("none", "sub", "tmpfs", 0, NULL), ENOENT);
    CHECK_ERR(umount2(".", 0), EINVAL);
    CHECK_ERR(umount2(".", MNT_DETACH), EINVAL);
    CHECK_OK(chdir("/"));
    /* Its old place is no mount. */
    CHECK_ERR(umount2(at("m"), MNT_DETACH), EINVAL);

    close(fd);
    close(dfd);
    scratch_done();
    DONE();
}
