/* Bind mounts (as root, inside a fresh private tmpfs on a temporary folder, on the host too):
 * MS_BIND of a directory and of a file, the same files through both names, mountinfo's root
 * field, parent id and device; MS_BIND|MS_REMOUNT|MS_RDONLY making only the bind read-only
 * (EROFS through it, the original still writable, statfs's ST_RDONLY, "ro" in /proc/mounts);
 * a plain bind leaving submounts out and MS_REC taking them; umount2 EBUSY with a submount,
 * MNT_DETACH taking the tree, EBUSY for an open file or a working directory in it; MS_MOVE;
 * and the errnos (ENOTDIR, ENOENT, EINVAL). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* statx's mount id (stx_mnt_id, STATX_MNT_ID) and STATX_ATTR_MOUNT_ROOT, by the raw call (the
 * field is newer than some C libraries' struct). */
static int statx_mnt(const char *p, unsigned long long *mnt_id, int *root) {
    unsigned char b[256];
    memset(b, 0, sizeof b);
    if (syscall(SYS_statx, AT_FDCWD, p, 0, 0x1000u, b) != 0) return -1;
    unsigned mask;
    unsigned long long attrs, attrs_mask;
    memcpy(&mask, b, 4);
    memcpy(&attrs, b + 8, 8);
    memcpy(&attrs_mask, b + 56, 8);
    memcpy(mnt_id, b + 144, 8);
    *root = (attrs_mask & 0x2000) ? !!(attrs & 0x2000) : -1;
    return (mask & 0x1000) ? 0 : -1;
}

/* The mountinfo line whose mount point is `point`: its id, parent, device and root. */
struct mi {
    int found, id, parent;
    unsigned maj, min;
    char root[256], opts[256], super[256];
};

static struct mi mountinfo(const char *point) {
    static char buf[65536];
    struct mi r;
    memset(&r, 0, sizeof r);
    read_all("/proc/self/mountinfo", buf, sizeof buf);
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
        struct mi m;
        memset(&m, 0, sizeof m);
        char pt[256];
        if (sscanf(p, "%d %d %u:%u %255s %255s %255s", &m.id, &m.parent, &m.maj, &m.min, m.root,
                   pt, m.opts) != 7)
            continue;
        char *sep = strstr(p, " - ");
        if (sep) sscanf(sep + 3, "%*s %*s %255s", m.super);
        if (strcmp(pt, point) == 0) {
            m.found = 1;
            r = m;
        }
    }
    return r;
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static void write_file(const char *p, const char *s) {
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
    close(fd);
}

static int read_is(const char *p, const char *s) {
    char buf[64] = "";
    int fd = open(p, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return 0;
    buf[n] = 0;
    return strcmp(buf, s) == 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_bind_XXXXXX", "size=1m");
    struct mi bm = mountinfo(base);
    CHECK(bm.found);
    const char *dirs[] = {"src", "dst", "plain", "rec", "moved", "src/sub", "dir"};
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) CHECK_OK(mkdir(at(dirs[i]), 0755));
    write_file(at("src/file"), "hello");
    write_file(at("f"), "file");
    write_file(at("fdst"), "");

    /* A directory bound elsewhere: the same files, the same device and inode numbers. */
    CHECK_OK(mount(at("src"), at("dst"), NULL, MS_BIND, NULL));
    struct stat a, b;
    CHECK_OK(stat(at("src/file"), &a));
    CHECK_OK(stat(at("dst/file"), &b));
    CHECK(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    CHECK(read_is(at("dst/file"), "hello"));
    write_file(at("dst/new"), "through");
    CHECK(read_is(at("src/new"), "through"));
    struct mi dm = mountinfo(at("dst"));
    CHECK(dm.found);
    CHECK(strcmp(dm.root, "/src") == 0);
    CHECK(dm.parent == bm.id);
    CHECK(dm.id != bm.id);
    CHECK(dm.maj == bm.maj && dm.min == bm.min);
    CHECK(major(a.st_dev) == dm.maj && minor(a.st_dev) == dm.min);
    CHECK(strncmp(dm.opts, "rw", 2) == 0);
    unsigned long long mid = 0;
    int is_root = -1;
    CHECK_OK(statx_mnt(at("dst"), &mid, &is_root));
    CHECK(mid == (unsigned long long)dm.id && is_root == 1);
    CHECK_OK(statx_mnt(at("dst/file"), &mid, &is_root));
    CHECK(mid == (unsigned long long)dm.id && is_root == 0);
    CHECK_OK(statx_mnt(at("src/file"), &mid, &is_root));
    CHECK(mid == (unsigned long long)bm.id && is_root == 0);

    /* Read-only bind: only this mount becomes read-only. */
    CHECK_OK(mount(NULL, at("dst"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
    CHECK_ERR(open(at("dst/file"), O_WRONLY), EROFS);
    CHECK_ERR(open(at("dst/other"), O_WRONLY | O_CREAT, 0644), EROFS);
    CHECK_ERR(mkdir(at("dst/d"), 0755), EROFS);
    CHECK_ERR(unlink(at("dst/file")), EROFS);
    CHECK_ERR(rename(at("dst/file"), at("dst/file2")), EROFS);
    CHECK_ERR(chmod(at("dst/file"), 0600), EROFS);
    CHECK_ERR(truncate(at("dst/file"), 0), EROFS);
    CHECK_ERR(symlink("x", at("dst/l")), EROFS);
    CHECK(read_is(at("dst/file"), "hello"));
    int fd = open(at("src/file"), O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "!", 1) == 1);
        close(fd);
    }
    CHECK(read_is(at("dst/file"), "hello!"));
    struct statfs sf;
    CHECK_OK(statfs(at("dst"), &sf));
    CHECK(sf.f_flags & ST_RDONLY);
    CHECK_OK(statfs(at("src"), &sf));
    CHECK(!(sf.f_flags & ST_RDONLY));
    struct statvfs sv;
    CHECK_OK(statvfs(at("dst/file"), &sv));
    CHECK(sv.f_flag & ST_RDONLY);
    dm = mountinfo(at("dst"));
    CHECK(strncmp(dm.opts, "ro", 2) == 0);
    CHECK(strncmp(dm.super, "rw", 2) == 0);
    CHECK(strncmp(mounts_opts(at("dst")), "ro,", 3) == 0);
    CHECK(strncmp(mounts_opts(base), "rw,", 3) == 0);
    /* And writable again. */
    CHECK_OK(mount(NULL, at("dst"), NULL, MS_REMOUNT | MS_BIND, NULL));
    write_file(at("dst/file"), "again");
    CHECK(read_is(at("src/file"), "again"));

    /* A file bound over a file; type mismatches are ENOTDIR. */
    CHECK_OK(mount(at("f"), at("fdst"), NULL, MS_BIND, NULL));
    CHECK(read_is(at("fdst"), "file"));
    CHECK(strcmp(mountinfo(at("fdst")).root, "/f") == 0);
    CHECK_ERR(mount(at("src"), at("f"), NULL, MS_BIND, NULL), ENOTDIR);
    CHECK_ERR(mount(at("f"), at("dir"), NULL, MS_BIND, NULL), ENOTDIR);
    CHECK_ERR(mount(at("nothing"), at("dir"), NULL, MS_BIND, NULL), ENOENT);
    CHECK_ERR(mount(at("src"), at("nothing"), NULL, MS_BIND, NULL), ENOENT);
    CHECK_OK(umount2(at("fdst"), 0));
    CHECK(read_is(at("fdst"), ""));

    /* Submounts: a plain bind leaves them out, MS_REC takes them. */
    CHECK_OK(mount("none", at("src/sub"), "tmpfs", 0, "size=64k"));
    write_file(at("src/sub/inner"), "inner");
    CHECK_OK(mount(at("src"), at("plain"), NULL, MS_BIND, NULL));
    CHECK(exists(at("plain/file")));
    CHECK(!exists(at("plain/sub/inner")));
    CHECK_OK(mount(at("src"), at("rec"), NULL, MS_BIND | MS_REC, NULL));
    CHECK(read_is(at("rec/sub/inner"), "inner"));
    struct mi rm = mountinfo(at("rec")), rsm = mountinfo(at("rec/sub"));
    CHECK(rm.found && rsm.found);
    CHECK(rsm.parent == rm.id);
    CHECK(strcmp(rsm.root, "/") == 0);
    CHECK(!mountinfo(at("plain/sub")).found);
    /* A mount with a submount is busy; MNT_DETACH takes the whole tree. */
    CHECK_ERR(umount2(at("rec"), 0), EBUSY);
    CHECK_OK(umount2(at("rec"), MNT_DETACH));
    CHECK(!exists(at("rec/file")));
    CHECK(!mountinfo(at("rec/sub")).found);
    CHECK(!mountinfo(at("rec")).found);
    CHECK_ERR(umount2(at("rec"), 0), EINVAL);
    CHECK_ERR(umount2(at("src/file"), 0), EINVAL);

    /* MS_MOVE: the mount leaves its old place. */
    CHECK_OK(mount(at("plain"), at("moved"), NULL, MS_MOVE, NULL));
    CHECK(exists(at("moved/file")));
    CHECK(!exists(at("plain/file")));
    CHECK(mountinfo(at("moved")).found);
    CHECK(!mountinfo(at("plain")).found);
    CHECK_ERR(mount(at("dir"), at("plain"), NULL, MS_MOVE, NULL), EINVAL);

    /* A mount in use (an open file, a working directory) is busy; MNT_DETACH would do. */
    int busy = open(at("dst/file"), O_RDONLY);
    CHECK(busy >= 0);
    CHECK_ERR(umount2(at("dst"), 0), EBUSY);
    if (busy >= 0) close(busy);
    char cwd[256];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK_OK(chdir(at("dst")));
    CHECK_ERR(umount2(at("dst"), 0), EBUSY);
    CHECK_OK(chdir(cwd));
    /* The root bound below itself is not the root: ".." and getcwd go on up. */
    CHECK_OK(mount("/", at("dir"), NULL, MS_BIND, NULL));
    char want[256], got[256];
    snprintf(want, sizeof want, "%s/tmp", at("dir"));
    CHECK_OK(chdir(at("dir/tmp")));
    CHECK(getcwd(got, sizeof got) != NULL && strcmp(got, want) == 0);
    CHECK_OK(chdir(".."));
    CHECK_OK(chdir(".."));
    CHECK(getcwd(got, sizeof got) != NULL && strcmp(got, base) == 0);
    CHECK_OK(chdir(cwd));
    CHECK_OK(umount2(at("dir"), 0));
    /* Unmounting the bind leaves the original alone. */
    CHECK_OK(umount2(at("dst"), 0));
    CHECK(!exists(at("dst/file")));
    CHECK(read_is(at("src/file"), "again"));
    CHECK_OK(umount2(at("moved"), 0));
    CHECK_OK(umount2(at("src/sub"), 0));
    scratch_done();
    DONE();
}
