/* mount(2)'s option string for file systems other than tmpfs (as root, on a private tmpfs,
 * on the host too): proc and sysfs refuse options they do not know with EINVAL on a new
 * mount and on MS_REMOUNT (per-mount words such as "nosuid" or "defaults" are no file system
 * options either), take their own (proc's hidepid=, gid=, subset=pid) and the generic ones
 * ("ro", "rw", "sync"); MS_REMOUNT|MS_BIND ignores the string; "ro" in the string makes the
 * file system read-only without MS_RDONLY; a remount to read-only is EBUSY while a file is
 * open for writing; an ext4 mount, where there is one, refuses unknown options on remount
 * (and stays as it was). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void remount_opts(const char *point, unsigned long ro) {
    static const char *bad[] = {"bogus", "rw,bogus", "nosuid", "defaults", "hidepid=3",
                                "gid", "subset=x", "noatime"};
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        errno = 0;
        int r = mount(NULL, point, NULL, MS_REMOUNT | ro, bad[i]);
        CHECK(r == -1 && errno == EINVAL);
        if (r != -1 || errno != EINVAL) printf("remount %s -o %s: %d\n", point, bad[i], r);
    }
}

/* The first ext4 mount point in /proc/mounts and whether it is read-only. */
static int find_ext4(char *point, size_t n, int *ro) {
    static char buf[65536];
    read_all("/proc/mounts", buf, sizeof buf);
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
        char src[128], pt[256], type[64], o[256];
        if (sscanf(p, "%127s %255s %63s %255s", src, pt, type, o) == 4 &&
            strcmp(type, "ext4") == 0) {
            snprintf(point, n, "%s", pt);
            *ro = strncmp(o, "ro", 2) == 0 && (o[2] == ',' || o[2] == 0);
            return 1;
        }
    }
    return 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_mntopt_XXXXXX", "size=1m");
    CHECK_OK(mkdir(at("p"), 0755));
    CHECK_OK(mkdir(at("s"), 0755));

    /* proc */
    CHECK_ERR(mount("proc", at("p"), "proc", 0, "bogus"), EINVAL);
    CHECK_ERR(mount("proc", at("p"), "proc", 0, "hidepid=9"), EINVAL);
    CHECK_OK(mount("proc", at("p"), "proc", 0, "hidepid=0,gid=0"));
    remount_opts(at("p"), 0);
    CHECK_OK(mount(NULL, at("p"), NULL, MS_REMOUNT, ""));
    CHECK_OK(mount(NULL, at("p"), NULL, MS_REMOUNT, "hidepid=invisible"));
    CHECK_OK(mount(NULL, at("p"), NULL, MS_REMOUNT, "hidepid=0,gid=5"));
    CHECK_OK(mount(NULL, at("p"), NULL, MS_REMOUNT, "rw,sync"));
    CHECK_OK(mount(NULL, at("p"), NULL, MS_REMOUNT | MS_BIND, "bogus"));
    CHECK_OK(umount2(at("p"), 0));

    /* sysfs: no options of its own */
    CHECK_ERR(mount("sysfs", at("s"), "sysfs", 0, "bogus"), EINVAL);
    CHECK_OK(mount("sysfs", at("s"), "sysfs", 0, "rw"));
    remount_opts(at("s"), 0);
    CHECK_ERR(mount(NULL, at("s"), NULL, MS_REMOUNT, "hidepid=2"), EINVAL);
    CHECK_OK(mount(NULL, at("s"), NULL, MS_REMOUNT, "ro"));
    CHECK_OK(mount(NULL, at("s"), NULL, MS_REMOUNT, "rw"));
    CHECK_OK(umount2(at("s"), 0));

    /* "ro" in the string without MS_RDONLY: the file system becomes read-only. */
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT, "ro"));
    struct statfs sf;
    CHECK_OK(statfs(base, &sf));
    CHECK(sf.f_flags & ST_RDONLY);
    CHECK_ERR(open(at("f"), O_WRONLY | O_CREAT, 0644), EROFS);
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT, "rw"));
    CHECK_OK(statfs(base, &sf));
    CHECK(!(sf.f_flags & ST_RDONLY));

    /* No read-only remount while a file is open for writing; a reader does not matter. */
    int fd = open(at("f"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK_ERR(mount(NULL, base, NULL, MS_REMOUNT | MS_RDONLY, NULL), EBUSY);
    CHECK_ERR(mount(NULL, base, NULL, MS_REMOUNT, "ro"), EBUSY);
    if (fd >= 0) close(fd);
    fd = open(at("f"), O_RDONLY);
    CHECK(fd >= 0);
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT | MS_RDONLY, NULL));
    CHECK_OK(mount(NULL, base, NULL, MS_REMOUNT, NULL));
    if (fd >= 0) close(fd);

    /* An ext4 mount (the host's root, Lintel's ext4 root where it runs on one): unknown
     * options fail before anything changes. */
    char point[256];
    int ro = 0;
    if (find_ext4(point, sizeof point, &ro)) {
        unsigned long f = ro ? MS_RDONLY : 0;
        remount_opts(point, f);
        CHECK_ERR(mount(NULL, point, NULL, MS_REMOUNT | f, "errors=bogus"), EINVAL);
        CHECK_ERR(mount(NULL, point, NULL, MS_REMOUNT | f, "commit=x"), EINVAL);
        CHECK_ERR(mount(NULL, point, NULL, MS_REMOUNT | f, "acl=1"), EINVAL);
        char o[256];
        snprintf(o, sizeof o, "%s", mounts_opts(point));
        CHECK(strncmp(o, ro ? "ro" : "rw", 2) == 0);
    }

    scratch_done();
    DONE();
}
