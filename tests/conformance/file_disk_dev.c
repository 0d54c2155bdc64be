/* Disk file systems report their block device (on the host too; under Lintel's ext4 pass the
 * root is on /dev/vda): for every mount of a /dev/ source, mountinfo's major:minor is the
 * device's own number (as stat of the node, /proc/partitions and /sys/dev/block show it) and
 * stat of the mount point agrees; tmpfs and proc keep anonymous devices (major 0). A read-only
 * bind of a folder of the root file system refuses writes while the root stays writable. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char buf[65536];

static int in_partitions(unsigned maj, unsigned min) {
    static char p[16384];
    int fd = open("/proc/partitions", O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, p, sizeof p - 1);
    close(fd);
    p[n > 0 ? n : 0] = 0;
    for (char *l = strtok(p, "\n"); l; l = strtok(NULL, "\n")) {
        unsigned a, b;
        if (sscanf(l, "%u %u", &a, &b) == 2 && a == maj && b == min) return 1;
    }
    return 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int fd = open("/proc/self/mountinfo", O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n, len = 0;
    while (fd >= 0 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += n;
    if (fd >= 0) close(fd);
    buf[len] = 0;
    int disks = 0;
    char *save;
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned maj, min;
        char root[256], point[256], type[64] = "", source[256] = "";
        if (sscanf(l, "%*d %*d %u:%u %255s %255s", &maj, &min, root, point) != 4) continue;
        char *sep = strstr(l, " - ");
        if (sep) sscanf(sep + 3, "%63s %255s", type, source);
        struct stat st, dev;
        if (strcmp(type, "tmpfs") == 0 || strcmp(type, "proc") == 0) {
            CHECK(maj == 0);
            continue;
        }
        if (strcmp(type, "ext4") != 0 || strncmp(source, "/dev/", 5) != 0) continue;
        if (stat(source, &dev) != 0 || !S_ISBLK(dev.st_mode)) continue;
        disks++;
        CHECK(major(dev.st_rdev) == maj && minor(dev.st_rdev) == min);
        CHECK(in_partitions(maj, min));
        char sys[128];
        snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u", maj, min);
        CHECK_OK(access(sys, F_OK));
        if (strcmp(root, "/") == 0 && stat(point, &st) == 0) CHECK(st.st_dev == dev.st_rdev);
    }
    printf("disk mounts: %d\n", disks);

    /* A read-only bind of a folder of the file system /tmp is on. */
    char base[64] = "/tmp/lt_diskdev_XXXXXX", ro[96], rw[96], p[160];
    CHECK(mkdtemp(base) != NULL);
    snprintf(ro, sizeof ro, "%s/ro", base);
    snprintf(rw, sizeof rw, "%s/rw", base);
    CHECK_OK(mkdir(ro, 0755));
    CHECK_OK(mkdir(rw, 0755));
    CHECK_OK(mount(rw, ro, NULL, MS_BIND, NULL));
    CHECK_OK(mount(NULL, ro, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
    struct stat a, b;
    CHECK_OK(stat(ro, &a));
    CHECK_OK(stat(rw, &b));
    CHECK(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    snprintf(p, sizeof p, "%s/f", ro);
    CHECK_ERR(open(p, O_WRONLY | O_CREAT, 0644), EROFS);
    snprintf(p, sizeof p, "%s/f", rw);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "x", 1) == 1);
        close(fd);
    }
    snprintf(p, sizeof p, "%s/f", ro);
    CHECK_ERR(open(p, O_WRONLY), EROFS);
    CHECK_ERR(unlink(p), EROFS);
    CHECK_OK(access(p, R_OK));
    CHECK_OK(umount2(ro, 0));
    snprintf(p, sizeof p, "%s/f", rw);
    CHECK_OK(unlink(p));
    CHECK_OK(rmdir(ro));
    CHECK_OK(rmdir(rw));
    CHECK_OK(rmdir(base));
    DONE();
}
