/* tmpfs limits (as root; a fresh tmpfs mounted on a temporary folder, on the host too): the
 * size=, nr_blocks=, nr_inodes=, mode=, uid= and gid= options with k/m/g and % suffixes, the
 * default size (half of RAM), statfs counting blocks and inodes, ENOSPC at either limit (a
 * write cut short first), space coming back on unlink, remount with a new size (EINVAL below
 * what is used), bad options (EINVAL), and a NULL source. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994

static char dir[64];

static long meminfo_kb(const char *key) {
    static char buf[8192];
    int fd = open("/proc/meminfo", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strstr(buf, key);
    return p ? atol(p + strlen(key) + 1) : -1;
}

/* The /proc/mounts line of `dir`, or "". */
static const char *mount_line(void) {
    static char buf[16384], line[512];
    line[0] = 0;
    int fd = open("/proc/mounts", O_RDONLY);
    if (fd < 0) return line;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
        char src[128], path[128];
        if (sscanf(p, "%127s %127s", src, path) == 2 && strcmp(path, dir) == 0) {
            snprintf(line, sizeof line, "%s", p);
        }
    }
    return line;
}

static struct statfs st(void) {
    struct statfs s;
    memset(&s, 0, sizeof s);
    CHECK_OK(statfs(dir, &s));
    return s;
}

static char path_buf[128];
static const char *at(const char *name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    return path_buf;
}

static ssize_t write_file(const char *name, size_t len) {
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        ssize_t w = write(fd, chunk, n);
        if (w < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return done ? (ssize_t)done : -1;
        }
        done += w;
        if ((size_t)w < n) break;
    }
    close(fd);
    return done;
}

static void limits(void) {
    CHECK_OK(mount("none", dir, "tmpfs", 0, "size=1m,nr_inodes=8,mode=0710,uid=1234,gid=5678"));
    /* /proc/mounts shows what differs from the defaults. */
    const char *ml = mount_line();
    if (strncmp(ml, "none ", 5) != 0 ||
        !strstr(ml, " tmpfs rw,relatime,size=1024k,nr_inodes=8,mode=710,uid=1234,gid=5678")) {
        printf("/proc/mounts: %s\n", ml);
        lt_failures++;
    }
    struct stat sb;
    CHECK_OK(stat(dir, &sb));
    CHECK(sb.st_mode == (S_IFDIR | 0710));
    CHECK(sb.st_uid == 1234 && sb.st_gid == 5678);
    struct statfs s = st();
    CHECK(s.f_type == TMPFS_MAGIC);
    CHECK(s.f_bsize == 4096);
    CHECK(s.f_blocks == 256 && s.f_bfree == 256 && s.f_bavail == 256);
    CHECK(s.f_files == 8 && s.f_ffree == 7); /* the root is one */

    CHECK(write_file("a", 10 * 4096) == 10 * 4096);
    s = st();
    CHECK(s.f_bfree == 246 && s.f_ffree == 6);
    /* A partial page is a whole block. */
    CHECK(write_file("b", 1) == 1);
    s = st();
    CHECK(s.f_bfree == 245 && s.f_ffree == 5);
    /* Directories and short symbolic links take an inode, no block. */
    CHECK_OK(mkdir(at("d"), 0755));
    CHECK_OK(symlink("a", at("l")));
    s = st();
    CHECK(s.f_bfree == 245 && s.f_ffree == 3);

    /* Filling up: a write is cut at the last free block, the next one fails. */
    int fd = open(at("big"), O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    static char mb[2 << 20];
    ssize_t w = write(fd, mb, sizeof mb);
    CHECK(w == 245 * 4096);
    CHECK_ERR(write(fd, mb, 1), ENOSPC);
    CHECK(st().f_bfree == 0);
    CHECK_OK(close(fd));
    CHECK_ERR(write_file("c", 4096), ENOSPC);
    /* The failed write left "c" created and empty. */
    CHECK_OK(stat(at("c"), &sb));
    CHECK(sb.st_size == 0);
    /* Space comes back on unlink, also while still open until the last close. */
    fd = open(at("big"), O_RDONLY);
    CHECK_OK(unlink(at("big")));
    CHECK(st().f_bfree == 0);
    CHECK_OK(close(fd));
    CHECK(st().f_bfree == 245);
    CHECK(write_file("c", 4096) == 4096);
    CHECK_OK(unlink(at("c")));

    /* Inodes: "a", "b", "d", "l" and the root are 5 of 8. */
    CHECK(st().f_ffree == 3);
    CHECK(write_file("i1", 0) == 0);
    CHECK(write_file("i2", 0) == 0);
    CHECK_OK(mkdir(at("i3"), 0755));
    CHECK(st().f_ffree == 0);
    CHECK_ERR(open(at("i4"), O_WRONLY | O_CREAT, 0644), ENOSPC);
    CHECK_ERR(mkdir(at("i4"), 0755), ENOSPC);
    CHECK_ERR(symlink("a", at("i4")), ENOSPC);
    CHECK_ERR(mknod(at("i4"), S_IFIFO | 0644, 0), ENOSPC);
    CHECK_OK(unlink(at("i1")));
    CHECK(st().f_ffree == 1);
    CHECK_OK(mkdir(at("i4"), 0755));

    /* Remount: bigger is fine, smaller than what is used is not. */
    CHECK_OK(mount(NULL, dir, NULL, MS_REMOUNT, "size=2m"));
    s = st();
    CHECK(s.f_blocks == 512 && s.f_bfree == 512 - 11);
    CHECK(strstr(mount_line(), ",size=2048k,nr_inodes=8,") != NULL);
    CHECK_ERR(mount(NULL, dir, NULL, MS_REMOUNT, "size=8k"), EINVAL);
    CHECK_ERR(mount(NULL, dir, NULL, MS_REMOUNT, "nr_inodes=2"), EINVAL);
    CHECK_ERR(mount(NULL, dir, NULL, MS_REMOUNT, "size=1q"), EINVAL);
    CHECK(st().f_blocks == 512);
    CHECK_OK(mount(NULL, dir, NULL, MS_REMOUNT, "size=44k,nr_inodes=16"));
    s = st();
    CHECK(s.f_blocks == 11 && s.f_bfree == 0 && s.f_files == 16 && s.f_ffree == 8);
    /* O_TRUNC gives back the page of "b": one page fits, the second does not. */
    CHECK(write_file("b", 4097) == 4096);
    CHECK_ERR(write_file("c", 1), ENOSPC);
    CHECK_OK(umount(dir));
}

static void options(void) {
    long ram_pages = meminfo_kb("MemTotal") / 4;
    /* size=N% is N% of RAM in bytes, rounded up to pages. */
#define PERCENT(n) ((ram_pages * 4096 * (n) / 100 + 4095) / 4096)
    struct {
        const char *opts;
        long blocks, inodes;
    } ok[] = {
        {"size=100k", 25, -1},      {"size=1g", 262144, -1},   {"size=2M", 512, -1},
        {"size=50%", PERCENT(50), -1}, {"size=10%", PERCENT(10), -1},
        {"nr_blocks=300", 300, -1}, {"nr_inodes=1k", -1, 1024}, {"nr_inodes=77", -1, 77},
        {"size=4096,nr_inodes=3", 1, 3},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (mount("none", dir, "tmpfs", 0, ok[i].opts) != 0) {
            printf("mount -o %s: %s\n", ok[i].opts, strerror(errno));
            lt_failures++;
            continue;
        }
        struct statfs s = st();
        if ((ok[i].blocks >= 0 && (long)s.f_blocks != ok[i].blocks) ||
            (ok[i].inodes >= 0 && (long)s.f_files != ok[i].inodes)) {
            printf("-o %s: %ld blocks %ld inodes, expected %ld %ld\n", ok[i].opts,
                   (long)s.f_blocks, (long)s.f_files, ok[i].blocks, ok[i].inodes);
            lt_failures++;
        }
        CHECK_OK(umount(dir));
    }
    const char *bad[] = {"size=1x", "size=", "size=-1", "mode=9", "nr_inodes=1%",
                         "bogus=1", "uid=abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        if (mount("none", dir, "tmpfs", 0, bad[i]) == 0) {
            printf("mount -o %s succeeded\n", bad[i]);
            lt_failures++;
            umount(dir);
        } else if (errno != EINVAL) {
            printf("mount -o %s: %s, expected EINVAL\n", bad[i], strerror(errno));
            lt_failures++;
        }
    }
    /* Defaults: a NULL source and no options; half of RAM, root's 1777 folder. */
    CHECK_OK(mount(NULL, dir, "tmpfs", 0, NULL));
    const char *ml = mount_line();
    if (strncmp(ml, "none ", 5) != 0 || !strstr(ml, " tmpfs rw,relatime")) {
        printf("/proc/mounts: %s\n", ml);
        lt_failures++;
    }
    CHECK(strstr(ml, "size=") == NULL && strstr(ml, "mode=") == NULL);
    struct statfs s = st();
    CHECK((long)s.f_blocks == ram_pages / 2);
    CHECK(s.f_files > 0 && s.f_ffree == s.f_files - 1);
    struct stat sb;
    CHECK_OK(stat(dir, &sb));
    CHECK(sb.st_mode == (S_IFDIR | 01777) && sb.st_uid == 0);
    /* size=0 and nr_inodes=0 mean no limit: statfs shows zeros. */
    CHECK_OK(umount(dir));
    CHECK_OK(mount("none", dir, "tmpfs", 0, "size=0,nr_inodes=0"));
    s = st();
    CHECK(s.f_blocks == 0 && s.f_bfree == 0 && s.f_files == 0 && s.f_ffree == 0);
    CHECK(write_file("f", 8192) == 8192);
    /* Such a file system cannot get a limit later. */
    CHECK_ERR(mount(NULL, dir, NULL, MS_REMOUNT, "size=1m"), EINVAL);
    CHECK_OK(umount(dir));
}

int main(void) {
    if (geteuid() != 0) DONE();
    snprintf(dir, sizeof dir, "/tmp/tmpfs_limits.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    lt_sub("limits", limits, 20000);
    umount(dir);
    lt_sub("options", options, 20000);
    umount(dir);
    CHECK_OK(rmdir(dir));
    DONE();
}
