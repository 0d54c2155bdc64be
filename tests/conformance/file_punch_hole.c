/* fallocate(FALLOC_FL_PUNCH_HOLE) frees the blocks it wholly covers, on tmpfs (/dev/shm)
 * and on /tmp (tmpfs, or ext4 in the ext4 pass and on the host): st_blocks drops, the range
 * reads as zeros, the size stays; partial blocks are zeroed and stay allocated; a shared
 * mapping of the file sees the zeros. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE */
#define PUNCH 3
#define PG 4096

static long blocks(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (long)st.st_blocks : -1;
}

/* Whether [off, off + len) of fd holds only `byte`. */
static int all(int fd, off_t off, size_t len, unsigned char byte) {
    static unsigned char buf[16 * PG];
    if (len > sizeof buf || pread(fd, buf, len, off) != (ssize_t)len) return 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] != byte) return 0;
    return 1;
}

/* Sectors of the whole blocks of size bs in [off, end). */
static long whole(long off, long end, long bs) {
    long first = (off + bs - 1) / bs, last = end / bs;
    return last > first ? (last - first) * (bs / 512) : 0;
}

static void punch_in(const char *dir) {
    char path[128];
    snprintf(path, sizeof path, "%s/lt-punch-%d", dir, getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd < 0) return;
    unlink(path);
    static unsigned char data[16 * PG];
    memset(data, 0x5a, sizeof data);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    long full = blocks(fd);
    CHECK(full == 16 * PG / 512);

    /* Pages 4..11 wholly: 8 pages (64 sectors) go. */
    CHECK_OK(fallocate(fd, PUNCH, 4 * PG, 8 * PG));
    CHECK(blocks(fd) == full - 8 * PG / 512);
    CHECK(all(fd, 4 * PG, 8 * PG, 0));
    CHECK(all(fd, 0, 4 * PG, 0x5a));
    CHECK(all(fd, 12 * PG, 4 * PG, 0x5a));
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 16 * PG);

    /* Parts of pages: zeroed, still allocated. */
    long before = blocks(fd);
    CHECK_OK(fallocate(fd, PUNCH, 100, 200));
    CHECK(blocks(fd) == before);
    CHECK(all(fd, 100, 200, 0));
    CHECK(all(fd, 0, 100, 0x5a));
    CHECK(all(fd, 300, PG - 300, 0x5a));

    /* From the middle of page 12 to the middle of page 14: the blocks between go. */
    CHECK_OK(fstat(fd, &st));
    CHECK_OK(fallocate(fd, PUNCH, 12 * PG + 10, 2 * PG));
    CHECK(blocks(fd) == before - whole(12 * PG + 10, 14 * PG + 10, st.st_blksize));
    CHECK(all(fd, 12 * PG + 10, 2 * PG, 0));
    CHECK(all(fd, 14 * PG + 10, 2 * PG - 10, 0x5a));

    /* A shared mapping sees the punched range as zeros, and writes through it land. */
    unsigned char *m = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(m[2 * PG] == 0x5a);
        CHECK_OK(fallocate(fd, PUNCH, 2 * PG, PG));
        CHECK(m[2 * PG] == 0 && m[3 * PG - 1] == 0 && m[3 * PG] == 0x5a);
        m[2 * PG] = 7;
        unsigned char c = 0;
        CHECK(pread(fd, &c, 1, 2 * PG) == 1 && c == 7);
        munmap(m, 16 * PG);
    }

    /* Punching everything leaves only what partial pages need (none here). */
    CHECK_OK(fallocate(fd, PUNCH, 0, 16 * PG));
    CHECK(blocks(fd) == 0);
    if (blocks(fd) != 0) printf("%s: %ld blocks left\n", dir, blocks(fd));
    CHECK(all(fd, 0, 16 * PG, 0));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == 16 * PG);
    close(fd);
}

int main(void) {
    punch_in("/dev/shm");
    punch_in("/tmp");
    DONE();
}
