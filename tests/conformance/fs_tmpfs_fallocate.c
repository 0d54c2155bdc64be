/* fallocate on a tmpfs with size= (as root; a fresh tmpfs on a temporary folder, on the host
 * too), as Linux's shmem_fallocate: mode 0 and FALLOC_FL_KEEP_SIZE make the pages, so
 * statfs's f_bfree drops and st_blocks counts them, yet they read as zeros and SEEK_DATA
 * passes over them until written (a second fallocate over one makes it data); a range larger
 * than the whole file system, or one whose pages run past the limit, fails with ENOSPC and
 * takes back the pages that call made (not the size, times or set-id bits either: they
 * change only when it works); a write into reserved space succeeds when the file system is
 * otherwise full; KEEP_SIZE past the end leaves the size alone, and a punch there or a
 * truncation to the same size gives the pages back. memfd seals: F_SEAL_GROW refuses a
 * range past the end even with KEEP_SIZE, F_SEAL_WRITE refuses a punch (EPERM). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define PG 4096L

static char dir[64];

/* Free blocks of the tmpfs each part mounts on `dir` and works in (its current folder). */
static long bfree(void) {
    struct statfs s = {0};
    return statfs(".", &s) == 0 ? (long)s.f_bfree : -1;
}

/* A fresh 16-page tmpfs on `dir`, entered. */
static void mount_small(void) {
    CHECK_OK(mount("none", dir, "tmpfs", 0, "size=64k"));
    CHECK_OK(chdir(dir));
}

static void unmount_small(void) {
    CHECK_OK(chdir("/"));
    CHECK_OK(umount(dir));
}

static struct stat st(int fd) {
    struct stat sb;
    memset(&sb, 0, sizeof sb);
    CHECK_OK(fstat(fd, &sb));
    return sb;
}

static long pages_of(int fd) {
    return (long)st(fd).st_blocks / 8; /* 512-byte units to pages */
}

static int open_new(const char *name) {
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    return fd;
}

/* Sets the file's times well in the past, so a change shows without waiting. */
static void age(int fd) {
    struct timespec old[2] = {{1000000, 0}, {1000000, 0}};
    CHECK_OK(futimens(fd, old));
}

static void reserve(void) {
    mount_small();
    CHECK(bfree() == 16);
    int fd = open_new("f");
    /* Mode 0 over 4 pages and a byte: five pages, the size to the range's end. */
    CHECK_OK(fallocate(fd, 0, 0, 4 * PG + 1));
    CHECK(bfree() == 11);
    CHECK(pages_of(fd) == 5);
    CHECK(st(fd).st_size == 4 * PG + 1);
    /* Zeros, and holes to SEEK_DATA. */
    char b[16];
    memset(b, 1, sizeof b);
    CHECK(pread(fd, b, sizeof b, PG) == (ssize_t)sizeof b);
    for (size_t i = 0; i < sizeof b; i++) CHECK(b[i] == 0);
    CHECK_ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
    CHECK(lseek(fd, 0, SEEK_HOLE) == 0);
    /* A second fallocate over a page makes it data; so does a write. */
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1));
    CHECK(lseek(fd, 0, SEEK_DATA) == 0);
    CHECK(lseek(fd, 0, SEEK_HOLE) == PG);
    CHECK(pwrite(fd, "x", 1, 2 * PG + 7) == 1);
    CHECK(lseek(fd, PG, SEEK_DATA) == 2 * PG);
    CHECK(lseek(fd, 2 * PG, SEEK_HOLE) == 3 * PG);
    CHECK(bfree() == 11);
    /* KEEP_SIZE past the end: the pages count, the size stays. */
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 8 * PG, 3 * PG));
    CHECK(bfree() == 8);
    CHECK(pages_of(fd) == 8);
    CHECK(st(fd).st_size == 4 * PG + 1);
    /* A punch past the end gives them back... */
    CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10 * PG, PG));
    CHECK(bfree() == 9);
    /* ... and so does a truncation, even to the same size. */
    CHECK_OK(ftruncate(fd, 4 * PG + 1));
    CHECK(bfree() == 11);
    CHECK(pages_of(fd) == 5);
    CHECK_OK(close(fd));
    CHECK_OK(unlink("f"));
    CHECK(bfree() == 16);
    unmount_small();
}

static void full(void) {
    mount_small();
    int fd = open_new("f");
    /* Larger than the whole file system: ENOSPC before any page is made. */
    CHECK_ERR(fallocate(fd, 0, 0, 16 * PG + 1), ENOSPC);
    CHECK_ERR(fallocate(fd, FALLOC_FL_KEEP_SIZE, PG - 1, 16 * PG), ENOSPC);
    CHECK(bfree() == 16);
    CHECK(st(fd).st_size == 0);
    /* Pages 0 and 5 reserved, page 1 written; g takes 11 pages: two are free. */
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, PG));
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 5 * PG, PG));
    CHECK(pwrite(fd, "data", 4, PG) == 4);
    int g = open_new("g");
    static char buf[11 * PG];
    memset(buf, 'g', sizeof buf);
    CHECK(write(g, buf, sizeof buf) == (ssize_t)sizeof buf);
    CHECK(bfree() == 2);
    /* Pages 0 to 5 need three more: the call fails and takes back the two it made; the
     * size, the times and the set-id bits stay. */
    CHECK_OK(fchmod(fd, 02755));
    age(fd);
    CHECK_ERR(fallocate(fd, 0, 0, 6 * PG), ENOSPC);
    CHECK(bfree() == 2);
    CHECK(pages_of(fd) == 3);
    struct stat sb = st(fd);
    CHECK(sb.st_size == PG + 4);
    CHECK(sb.st_mtime == 1000000 && sb.st_ctime != 1000000);
    CHECK((sb.st_mode & 07777) == 02755);
    CHECK_ERR(lseek(fd, 2 * PG, SEEK_DATA), ENXIO);
    /* Reserve the last two pages: the file system is full... */
    time_t before = st(fd).st_ctime;
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 2 * PG, 2 * PG));
    CHECK(bfree() == 0);
    sb = st(fd);
    CHECK(sb.st_mtime != 1000000 && sb.st_ctime >= before);
    CHECK(pages_of(fd) == 5);
    CHECK_ERR(pwrite(g, "y", 1, 11 * PG), ENOSPC);
    CHECK_ERR(fallocate(g, 0, 11 * PG, 1), ENOSPC);
    /* ... yet writes into the reserved pages work, and take nothing more. */
    CHECK(pwrite(fd, buf, 2 * PG, 2 * PG) == 2 * PG);
    CHECK(st(fd).st_size == 4 * PG);
    CHECK(pwrite(fd, buf, PG, 5 * PG) == PG);
    CHECK(bfree() == 0);
    CHECK(pages_of(fd) == 5);
    char c = 0;
    CHECK(pread(fd, &c, 1, 3 * PG + 5) == 1 && c == 'g');
    /* A mapping's store into reserved space works too. */
    CHECK_OK(ftruncate(fd, 6 * PG));
    CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5 * PG, PG));
    CHECK(bfree() == 1);
    CHECK_OK(fallocate(fd, 0, 5 * PG, PG));
    CHECK(bfree() == 0);
    CHECK_ERR(lseek(fd, 4 * PG, SEEK_DATA), ENXIO);
    char *m = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        m[5 * PG + 1] = 'm';
        CHECK(pread(fd, &c, 1, 5 * PG + 1) == 1 && c == 'm');
        CHECK(lseek(fd, 4 * PG, SEEK_DATA) == 5 * PG);
        CHECK_OK(munmap(m, 6 * PG));
    }
    CHECK(bfree() == 0);
    CHECK_OK(close(fd));
    CHECK_OK(close(g));
    CHECK_OK(unlink("f"));
    CHECK_OK(unlink("g"));
    CHECK(bfree() == 16);
    unmount_small();
}

static void seals(void) {
    int m = memfd_create("falloc", MFD_ALLOW_SEALING);
    CHECK(m >= 0);
    CHECK_OK(ftruncate(m, PG));
    CHECK_OK(fcntl(m, F_ADD_SEALS, F_SEAL_GROW));
    CHECK_ERR(fallocate(m, FALLOC_FL_KEEP_SIZE, 0, 2 * PG), EPERM);
    CHECK_ERR(fallocate(m, 0, PG, 1), EPERM);
    CHECK_OK(fallocate(m, FALLOC_FL_KEEP_SIZE, 0, PG));
    CHECK_OK(fallocate(m, 0, 0, PG));
    CHECK(st(m).st_size == PG);
    CHECK_OK(fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
    CHECK_ERR(fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG), EPERM);
    CHECK_OK(fallocate(m, FALLOC_FL_KEEP_SIZE, 0, PG));
    CHECK_OK(close(m));
}

int main(void) {
    lt_sub("seals", seals, 20000);
    /* Mounting a tmpfs needs root. */
    strcpy(dir, "/tmp/tmpfs_falloc.XXXXXX");
    if (geteuid() == 0) {
        CHECK(mkdtemp(dir) != NULL);
        lt_sub("reserve", reserve, 20000);
        lt_sub("full", full, 20000);
        /* What a failed part left mounted. */
        while (umount(dir) == 0) {
        }
        CHECK_OK(rmdir(dir));
    }
    DONE();
}
