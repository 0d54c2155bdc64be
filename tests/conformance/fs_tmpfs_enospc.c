/* A full tmpfs (as root; a fresh tmpfs with size= on a temporary folder, on the host too):
 * a write that reaches the size limit is cut short at the last page that fits, unaligned
 * starts, pwrite and writev included (the count, not an error), and the next one fails with
 * ENOSPC (never EIO or ENOMEM); writes into pages the file has already are not limited; a
 * file grown with ftruncate takes no space until written; space comes back on truncation
 * and unlink. (fallocate's reservation: fs_tmpfs_fallocate.) */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

static char dir[64];
static char buf[1 << 20];

static const char *at(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static long bfree(void) {
    struct statfs s;
    memset(&s, 0, sizeof s);
    CHECK_OK(statfs(dir, &s));
    return (long)s.f_bfree;
}

static long blocks_of(int fd) {
    struct stat sb;
    memset(&sb, 0, sizeof sb);
    CHECK_OK(fstat(fd, &sb));
    return (long)sb.st_blocks / 8; /* 512-byte units to pages */
}

static void full(void) {
    /* 16 pages. */
    CHECK_OK(mount("none", dir, "tmpfs", 0, "size=64k"));
    CHECK(bfree() == 16);
    memset(buf, 'w', sizeof buf);
    int fd = open(at("f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "a", 1) == 1);
    CHECK(bfree() == 15);
    /* An unaligned write past the limit: to the end of the last page that fits. */
    CHECK(pwrite(fd, buf, 100000, 1) == 65535);
    CHECK(bfree() == 0);
    CHECK(lseek(fd, 0, SEEK_END) == 65536);
    CHECK_ERR(write(fd, buf, 1), ENOSPC);
    CHECK_ERR(pwrite(fd, buf, 4096, 65536), ENOSPC);
    /* A failed write changes nothing: not the size, not the offset. */
    CHECK(lseek(fd, 0, SEEK_CUR) == 65536);
    struct stat sb;
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_size == 65536);
    /* Pages the file has take writes when the file system is full... */
    CHECK(pwrite(fd, buf, 8192, 100) == 8192);
    /* ... up to where a new page would be needed. */
    CHECK(pwrite(fd, buf, 8000, 65536 - 100) == 100);
    CHECK(blocks_of(fd) == 16);

    /* Truncation gives the pages back; writev past the limit is cut the same way. */
    CHECK_OK(ftruncate(fd, 32768 + 100));
    CHECK(bfree() == 7);
    CHECK(lseek(fd, 32768 + 100, SEEK_SET) == 32768 + 100);
    struct iovec iov[3] = {{buf, 10000}, {buf, 10000}, {buf, 20000}};
    CHECK(writev(fd, iov, 3) == 32768 - 100);
    CHECK(bfree() == 0);
    CHECK_ERR(writev(fd, iov, 3), ENOSPC);

    /* A file grown by ftruncate is a hole: no space, and writing into it needs some. */
    int g = open(at("g"), O_RDWR | O_CREAT, 0644);
    CHECK(g >= 0);
    CHECK_OK(ftruncate(g, 1 << 20));
    CHECK(blocks_of(g) == 0);
    CHECK_ERR(pwrite(g, buf, 10, 4096), ENOSPC);
    /* Reading the hole works. */
    char c = 1;
    CHECK(pread(g, &c, 1, 4096) == 1 && c == 0);

    /* Truncation to 0 gives everything back. */
    CHECK_OK(ftruncate(fd, 0));
    CHECK(bfree() == 16);
    CHECK_OK(close(g));
    CHECK_OK(unlink(at("g")));
    /* A write larger than the whole file system. */
    CHECK(pwrite(fd, buf, sizeof buf, 0) == 65536);
    CHECK_OK(close(fd));
    CHECK_OK(unlink(at("f")));
    CHECK(bfree() == 16);
    CHECK_OK(umount(dir));
}

int main(void) {
    if (geteuid() != 0) DONE();
    snprintf(dir, sizeof dir, "/tmp/tmpfs_enospc.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    lt_sub("full", full, 20000);
    umount(dir);
    CHECK_OK(rmdir(dir));
    DONE();
}
