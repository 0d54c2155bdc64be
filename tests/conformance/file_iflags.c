/* Inode flags (chattr/lsattr: FS_IOC_GETFLAGS/SETFLAGS, FS_IOC_FSGETXATTR/FSSETXATTR), as
 * root, on the test folder's file system when it is ext4 or tmpfs and on a fresh tmpfs
 * mounted on a folder here (on the host too). For each: reading and setting the flags
 * through both interfaces, the flags each file system refuses (EOPNOTSUPP), inheritance by
 * new files, statx's attributes; the permission rules (the owner or CAP_FOWNER; a change of
 * append-only or immutable needs CAP_LINUX_IMMUTABLE; EROFS on a read-only mount); and what
 * the flags forbid: an immutable file cannot be opened for writing, truncated, removed,
 * renamed, linked, changed in mode, owner, times or attributes, fallocated or copied into
 * (on ext4 not written through a descriptor opened before either), and nothing
 * is created in or removed from an immutable folder; an append-only file opens for writing
 * only with O_APPEND, keeps O_APPEND (F_SETFL), is neither truncated nor removed, renamed or
 * linked, has no hole punched, no shared mapping through a writable descriptor; an
 * append-only folder takes new names but loses none; no-atime reads leave atime alone.
 * procfs keeps no flags (ENOTTY; EOPNOTSUPP on newer Linux). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

/* linux/fs.h's (musl has no kernel headers; glibc's clash with sys/mount.h). */
struct lt_fsxattr {
    uint32_t fsx_xflags, fsx_extsize, fsx_nextents, fsx_projid, fsx_cowextsize;
    unsigned char fsx_pad[8];
};
#define LT_GETFLAGS _IOR('f', 1, long)
#define LT_SETFLAGS _IOW('f', 2, long)
#define LT_FSGETXATTR _IOR('X', 31, struct lt_fsxattr)
#define LT_FSSETXATTR _IOW('X', 32, struct lt_fsxattr)
#define FL_SYNC 0x8
#define FL_IMMUTABLE 0x10
#define FL_APPEND 0x20
#define FL_NODUMP 0x40
#define FL_NOATIME 0x80
#define FL_DIRSYNC 0x10000
#define FL_USER 0xf0 /* the four flags tmpfs keeps */
#define XF_IMMUTABLE 0x8
#define XF_APPEND 0x10
#define XF_SYNC 0x20
#define XF_NOATIME 0x40
#define XF_NODUMP 0x80
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 1
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 2
#endif
#ifndef FALLOC_FL_COLLAPSE_RANGE
#define FALLOC_FL_COLLAPSE_RANGE 8
#endif

#include "statx.h"
#define ATTR_IMMUTABLE 0x10
#define ATTR_APPEND 0x20
#define ATTR_NODUMP 0x40

#define TMPFS_MAGIC 0x01021994
#define EXT4_MAGIC 0xef53
#define CAP_LINUX_IMMUTABLE 9

static int is_ext4;

static int getfl(int fd) {
    int v = -1;
    if (ioctl(fd, LT_GETFLAGS, &v) != 0) return -1;
    return v;
}

static int setfl(int fd, int v) {
    return ioctl(fd, LT_SETFLAGS, &v);
}

static int getfl_path(const char *p) {
    int fd = open(p, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return -1;
    int v = getfl(fd);
    close(fd);
    return v;
}

/* Sets (on) or clears flag `bit` of `p` as chattr does: read, change, write. */
static int chattr(const char *p, int bit, int on) {
    int fd = open(p, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return -1;
    int v = getfl(fd);
    int r = v < 0 ? -1 : setfl(fd, on ? v | bit : v & ~bit);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static uint64_t attrs(const char *p, uint64_t *mask) {
    struct lt_statx sx;
    memset(&sx, 0, sizeof sx);
    if (syscall(SYS_statx, AT_FDCWD, p, 0, 0x7ff, &sx) != 0) return ~0ull;
    if (mask) *mask = sx.stx_attributes_mask;
    return sx.stx_attributes & (ATTR_IMMUTABLE | ATTR_APPEND | ATTR_NODUMP);
}

static void put(const char *p, const char *text) {
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

/* Reading and setting, both interfaces, what the file system refuses, inheritance. */
static void test_get_set(void) {
    put("g", "data");
    int fd = open("g", O_RDONLY);
    CHECK(fd >= 0);
    int v = getfl(fd);
    CHECK(v >= 0 && (v & FL_USER) == 0);
    /* tmpfs shows nothing else (ext4 shows how the file is mapped: extents). */
    CHECK(is_ext4 || v == 0);
    uint64_t mask = 0;
    CHECK(attrs("g", &mask) == 0);
    CHECK((mask & (ATTR_IMMUTABLE | ATTR_APPEND | ATTR_NODUMP)) ==
          (ATTR_IMMUTABLE | ATTR_APPEND | ATTR_NODUMP));
    CHECK_OK(setfl(fd, v | FL_NODUMP));
    CHECK(getfl(fd) == (v | FL_NODUMP));
    CHECK(attrs("g", NULL) == ATTR_NODUMP);
    struct lt_fsxattr fa;
    memset(&fa, 0xa5, sizeof fa);
    CHECK_OK(ioctl(fd, LT_FSGETXATTR, &fa));
    CHECK(fa.fsx_xflags == XF_NODUMP && fa.fsx_extsize == 0 && fa.fsx_projid == 0 &&
          fa.fsx_nextents == 0 && fa.fsx_cowextsize == 0);
    /* FSSETXATTR replaces the flags it mirrors and keeps the others. */
    memset(&fa, 0, sizeof fa);
    fa.fsx_xflags = XF_NOATIME;
    CHECK_OK(ioctl(fd, LT_FSSETXATTR, &fa));
    CHECK(getfl(fd) == (v | FL_NOATIME));
    CHECK(attrs("g", NULL) == 0);
    CHECK_OK(setfl(fd, v));
    CHECK(getfl(fd) == v);
    /* Flags the file system does not keep. */
    if (is_ext4) {
        CHECK_ERR(setfl(fd, v | (int)0x80000000u), EOPNOTSUPP); /* not a visible flag */
        CHECK_ERR(setfl(fd, v | FL_DIRSYNC), EOPNOTSUPP);        /* folders only */
    } else {
        CHECK_ERR(setfl(fd, v | FL_SYNC), EOPNOTSUPP);
        memset(&fa, 0, sizeof fa);
        fa.fsx_xflags = XF_SYNC;
        CHECK_ERR(ioctl(fd, LT_FSSETXATTR, &fa), EOPNOTSUPP);
    }
    CHECK(getfl(fd) == v);
    /* Bad addresses. */
    CHECK_ERR(ioctl(fd, LT_GETFLAGS, (void *)1), EFAULT);
    CHECK_ERR(ioctl(fd, LT_SETFLAGS, (void *)1), EFAULT);
    CHECK_ERR(ioctl(fd, LT_FSGETXATTR, (void *)1), EFAULT);
    close(fd);
    /* A folder's no-dump and no-atime flags go to what is made in it. */
    CHECK_OK(mkdir("gd", 0755));
    int d = open("gd", O_RDONLY | O_DIRECTORY);
    CHECK(d >= 0);
    int dv = getfl(d);
    CHECK(dv >= 0 && (dv & FL_USER) == 0);
    CHECK_OK(setfl(d, dv | FL_NODUMP | FL_NOATIME));
    CHECK(getfl(d) == (dv | FL_NODUMP | FL_NOATIME));
    put("gd/f", "x");
    CHECK_OK(mkdir("gd/sub", 0755));
    CHECK((getfl_path("gd/f") & FL_USER) == (FL_NODUMP | FL_NOATIME));
    CHECK((getfl_path("gd/sub") & FL_USER) == (FL_NODUMP | FL_NOATIME));
    CHECK(attrs("gd/f", NULL) == ATTR_NODUMP);
    CHECK_OK(setfl(d, dv));
    close(d);
    CHECK_OK(unlink("gd/f"));
    CHECK_OK(rmdir("gd/sub"));
    CHECK_OK(rmdir("gd"));
    CHECK_OK(unlink("g"));
}

/* Who may change the flags. */
static void drop_to_user(void) {
    CHECK_OK(setgroups(0, NULL));
    CHECK_OK(setresgid(1000, 1000, 1000));
    CHECK_OK(setresuid(1000, 1000, 1000));
}

static int g_mine, g_root;

static void unprivileged(void) {
    drop_to_user();
    int v = getfl(g_root);
    CHECK(v >= 0); /* reading needs nothing */
    CHECK_ERR(setfl(g_root, v | FL_NODUMP), EPERM);
    CHECK_ERR(setfl(g_root, v), EPERM);
    /* The owner changes the ordinary flags, not append-only or immutable. */
    int m = getfl(g_mine);
    CHECK_OK(setfl(g_mine, m | FL_NODUMP));
    CHECK_ERR(setfl(g_mine, m | FL_IMMUTABLE), EPERM);
    CHECK_ERR(setfl(g_mine, m | FL_APPEND), EPERM);
    struct lt_fsxattr fa;
    memset(&fa, 0, sizeof fa);
    fa.fsx_xflags = XF_APPEND;
    CHECK_ERR(ioctl(g_mine, LT_FSSETXATTR, &fa), EPERM);
    CHECK_OK(setfl(g_mine, m));
}

/* Root without CAP_LINUX_IMMUTABLE. */
static void no_cap(void) {
    struct {
        uint32_t version;
        int pid;
    } h = {0x20080522, 0};
    struct {
        uint32_t eff, perm, inh;
    } d[2];
    CHECK_OK(syscall(SYS_capget, &h, d));
    d[0].eff &= ~(1u << CAP_LINUX_IMMUTABLE);
    CHECK_OK(syscall(SYS_capset, &h, d));
    int v = getfl(g_root);
    CHECK_ERR(setfl(g_root, v | FL_IMMUTABLE), EPERM);
    CHECK_OK(setfl(g_root, v | FL_NODUMP));
    CHECK_OK(setfl(g_root, v));
}

static void test_permissions(void) {
    put("pm", "x");
    put("pr", "x");
    CHECK_OK(chown("pm", 1000, 1000));
    g_mine = open("pm", O_RDONLY);
    g_root = open("pr", O_RDONLY);
    CHECK(g_mine >= 0 && g_root >= 0);
    lt_sub("unprivileged", unprivileged, 10000);
    lt_sub("no CAP_LINUX_IMMUTABLE", no_cap, 10000);
    close(g_mine);
    close(g_root);
    CHECK_OK(unlink("pm"));
    CHECK_OK(unlink("pr"));
}

/* What an immutable file and folder refuse. */
static void test_immutable(void) {
    put("im", "abc");
    CHECK_OK(mkdir("imd", 0755));
    put("imd/x", "x");
    int rw = open("im", O_RDWR);
    CHECK(rw >= 0);
    CHECK_OK(chattr("im", FL_IMMUTABLE, 1));
    CHECK_OK(chattr("imd", FL_IMMUTABLE, 1));
    CHECK(attrs("im", NULL) == ATTR_IMMUTABLE);
    CHECK_ERR(open("im", O_WRONLY), EPERM);
    CHECK_ERR(open("im", O_RDWR), EPERM);
    CHECK_ERR(open("im", O_WRONLY | O_APPEND), EPERM);
    CHECK_ERR(open("im", O_RDONLY | O_TRUNC), EPERM);
    int r = open("im", O_RDONLY);
    CHECK(r >= 0);
    close(r);
    CHECK_ERR(access("im", W_OK), EPERM);
    CHECK_OK(access("im", R_OK));
    CHECK_ERR(truncate("im", 0), EPERM);
    CHECK_ERR(unlink("im"), EPERM);
    CHECK_ERR(rename("im", "im2"), EPERM);
    put("other", "o");
    CHECK_ERR(rename("other", "im"), EPERM); /* nor replaced */
    CHECK_ERR(link("im", "im2"), EPERM);
    CHECK_ERR(chmod("im", 0600), EPERM);
    CHECK_ERR(chown("im", 0, 0), EPERM);
    CHECK_ERR(utimensat(AT_FDCWD, "im", NULL, 0), EPERM);
    struct timespec ts[2] = {{1000, 0}, {1000, 0}};
    CHECK_ERR(utimensat(AT_FDCWD, "im", ts, 0), EPERM);
    CHECK_ERR(setxattr("im", "user.x", "v", 1, 0), EPERM);
    CHECK_ERR(removexattr("im", "user.x"), EPERM);
    /* A descriptor opened before: no allocation, nothing copied in (nor, on ext4, a write
     * of any kind, an empty one too, or a truncation; Linux's tmpfs lets those through). */
    CHECK_ERR(fallocate(rw, 0, 0, 4096), EPERM);
    if (is_ext4) {
        CHECK_ERR(ftruncate(rw, 0), EPERM);
        CHECK_ERR(write(rw, "a", 1), EPERM);
        CHECK_ERR(write(rw, "", 0), EPERM);
        CHECK_ERR(pwrite(rw, "a", 1, 0), EPERM);
        struct iovec iv = {"a", 1};
        CHECK_ERR(pwritev(rw, &iv, 1, 0), EPERM);
        int ap = open("im", O_RDONLY);
        CHECK(ap >= 0);
        CHECK_ERR(write(ap, "a", 1), EBADF); /* no write access comes first */
        close(ap);
    } else {
        CHECK(pwrite(rw, "a", 1, 0) == 1);
        CHECK(write(rw, "", 0) == 0);
    }
    put("src", "a");
    int src = open("src", O_RDONLY);
    CHECK(src >= 0);
    off_t so = 0;
    CHECK_ERR(copy_file_range(src, &so, rw, NULL, 1, 0), EPERM);
    CHECK_ERR(copy_file_range(src, &so, rw, NULL, 0, 0), EPERM);
    if (is_ext4) {
        so = 0;
        CHECK_ERR(sendfile(rw, src, &so, 1), EPERM);
    }
    close(src);
    CHECK_OK(unlink("src"));
    /* ext4: while immutable stays set, no other flag changes. */
    int v = getfl_path("im");
    int fd = open("im", O_RDONLY);
    if (is_ext4)
        CHECK_ERR(setfl(fd, v | FL_NODUMP), EPERM);
    else
        CHECK_OK(setfl(fd, v | FL_NODUMP));
    CHECK_OK(setfl(fd, v & ~(FL_NODUMP | FL_IMMUTABLE)));
    close(fd);
    /* Reading is fine, and the content is intact. */
    char buf[8] = {0};
    fd = open("im", O_RDONLY);
    CHECK(read(fd, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    close(fd);
    /* The folder: no names in or out, nor the folder itself moved or removed. */
    CHECK_ERR(open("imd/new", O_WRONLY | O_CREAT, 0644), EPERM);
    CHECK_ERR(mkdir("imd/sub", 0755), EPERM);
    CHECK_ERR(symlink("x", "imd/l"), EPERM);
    CHECK_ERR(link("other", "imd/l"), EPERM);
    CHECK_ERR(unlink("imd/x"), EPERM);
    CHECK_ERR(rename("imd/x", "imd/y"), EPERM);
    CHECK_ERR(rename("imd/x", "moved"), EPERM);
    CHECK_ERR(rename("other", "imd/o"), EPERM);
    CHECK_ERR(rename("imd", "imd2"), EPERM);
    CHECK_ERR(rmdir("imd"), EPERM);
    /* Its entries are files of their own. */
    fd = open("imd/x", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    close(fd);
    CHECK_OK(chattr("imd", FL_IMMUTABLE, 0));
    CHECK_OK(unlink("imd/x"));
    CHECK_OK(rmdir("imd"));
    CHECK(attrs("im", NULL) == 0);
    CHECK_OK(ftruncate(rw, 1));
    close(rw);
    CHECK_OK(unlink("im"));
    CHECK_OK(unlink("other"));
}

/* What an append-only file and folder refuse. */
static void test_append(void) {
    put("ap", "abc");
    CHECK_OK(mkdir("apd", 0755));
    put("apd/x", "x");
    int rw = open("ap", O_RDWR | O_APPEND);
    CHECK(rw >= 0);
    CHECK_OK(chattr("ap", FL_APPEND, 1));
    CHECK_OK(chattr("apd", FL_APPEND, 1));
    CHECK(attrs("ap", NULL) == ATTR_APPEND);
    CHECK_ERR(open("ap", O_WRONLY), EPERM);
    CHECK_ERR(open("ap", O_RDWR), EPERM);
    CHECK_ERR(open("ap", O_WRONLY | O_APPEND | O_TRUNC), EPERM);
    CHECK_ERR(open("ap", O_RDONLY | O_TRUNC), EPERM);
    int ro = open("ap", O_RDONLY);
    CHECK(ro >= 0);
    int fd = open("ap", O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "d", 1) == 1);
    CHECK(pwrite(fd, "e", 1, 0) == 1); /* O_APPEND: at the end all the same */
    /* O_APPEND stays as it is, on every descriptor of the file. */
    CHECK_ERR(fcntl(fd, F_SETFL, 0), EPERM);
    CHECK_ERR(fcntl(ro, F_SETFL, O_APPEND), EPERM);
    CHECK_OK(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
    close(fd);
    char buf[8] = {0};
    CHECK(pread(ro, buf, sizeof buf, 0) == 5 && memcmp(buf, "abcde", 5) == 0);
    CHECK_ERR(truncate("ap", 0), EPERM);
    CHECK_ERR(ftruncate(rw, 0), EPERM);
    CHECK_ERR(unlink("ap"), EPERM);
    CHECK_ERR(rename("ap", "ap2"), EPERM);
    CHECK_ERR(link("ap", "ap2"), EPERM);
    CHECK_ERR(chmod("ap", 0600), EPERM);
    CHECK_ERR(chown("ap", 0, 0), EPERM);
    struct timespec ts[2] = {{1000, 0}, {1000, 0}};
    CHECK_ERR(utimensat(AT_FDCWD, "ap", ts, 0), EPERM);
    CHECK_OK(utimensat(AT_FDCWD, "ap", NULL, 0)); /* "now" is allowed */
    CHECK_ERR(setxattr("ap", "user.x", "v", 1, 0), EPERM);
    /* No hole and no collapse; allocating at the end is fine. */
    CHECK_ERR(fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1), EPERM);
    CHECK_ERR(fallocate(rw, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), EPERM);
    CHECK_OK(fallocate(rw, FALLOC_FL_KEEP_SIZE, 0, 8192));
    /* No shared mapping through a writable descriptor, whatever the protection. */
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, rw, 0) == MAP_FAILED && errno == EACCES);
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) munmap(m, 4096);
    close(ro);
    /* The folder takes new names but keeps its old ones. */
    put("apd/new", "n");
    CHECK_ERR(unlink("apd/x"), EPERM);
    CHECK_ERR(unlink("apd/new"), EPERM);
    CHECK_ERR(rename("apd/x", "apd/y"), EPERM);
    CHECK_OK(chattr("apd", FL_APPEND, 0));
    CHECK_OK(unlink("apd/x"));
    CHECK_OK(unlink("apd/new"));
    CHECK_OK(rmdir("apd"));
    CHECK_OK(chattr("ap", FL_APPEND, 0));
    CHECK_OK(ftruncate(rw, 0));
    close(rw);
    CHECK_OK(unlink("ap"));
}

/* No access-time updates for a no-atime file. */
static void test_noatime(void) {
    put("na", "data");
    struct timespec ts[2] = {{1000, 0}, {UTIME_OMIT, 0}};
    CHECK_OK(utimensat(AT_FDCWD, "na", ts, 0));
    CHECK_OK(chattr("na", FL_NOATIME, 1));
    int fd = open("na", O_RDONLY);
    char buf[8];
    CHECK(read(fd, buf, sizeof buf) == 4);
    close(fd);
    struct stat st;
    CHECK_OK(stat("na", &st));
    CHECK(st.st_atime == 1000);
    CHECK_OK(chattr("na", FL_NOATIME, 0));
    CHECK_OK(unlink("na"));
}

/* Every part, in the current folder. */
static void run_here(const char *where) {
    printf("%s\n", where);
    fflush(stdout);
    test_get_set();
    test_permissions();
    test_immutable();
    test_append();
    test_noatime();
}

int main(void) {
    struct statfs sf;
    CHECK_OK(statfs(".", &sf));
    if (sf.f_type == EXT4_MAGIC || sf.f_type == TMPFS_MAGIC) {
        is_ext4 = sf.f_type == EXT4_MAGIC;
        run_here(is_ext4 ? "test folder: ext4" : "test folder: tmpfs");
    }
    /* A fresh tmpfs. */
    CHECK_OK(mkdir("tm", 0755));
    CHECK_OK(mount("none", "tm", "tmpfs", 0, "size=1m"));
    CHECK_OK(chdir("tm"));
    is_ext4 = 0;
    run_here("tmpfs");
    /* A read-only mount: the flags read, but change no more. */
    put("ro", "x");
    CHECK_OK(chdir(".."));
    CHECK_OK(mount(NULL, "tm", NULL, MS_REMOUNT | MS_RDONLY, NULL));
    int fd = open("tm/ro", O_RDONLY);
    CHECK(fd >= 0);
    CHECK(getfl(fd) == 0);
    CHECK_ERR(setfl(fd, FL_NODUMP), EROFS);
    close(fd);
    CHECK_OK(umount("tm"));
    CHECK_OK(rmdir("tm"));
    /* procfs keeps none (ENOTTY on Linux 6.1, EOPNOTSUPP on newer kernels). */
    fd = open("/proc/self/status", O_RDONLY);
    CHECK(fd >= 0);
    int v;
    errno = 0;
    CHECK(ioctl(fd, LT_GETFLAGS, &v) == -1 && (errno == ENOTTY || errno == EOPNOTSUPP));
    close(fd);
    /* Nor does a pipe. */
    int p[2];
    CHECK_OK(pipe(p));
    errno = 0;
    CHECK(ioctl(p[0], LT_GETFLAGS, &v) == -1 && (errno == ENOTTY || errno == EOPNOTSUPP));
    close(p[0]);
    close(p[1]);
    DONE();
}
