/* fallocate's FALLOC_FL_ZERO_RANGE, COLLAPSE_RANGE and INSERT_RANGE as Linux answers them:
 * the flag combinations vfs_fallocate refuses (EOPNOTSUPP), a read-only descriptor (EBADF),
 * tmpfs (/dev/shm) supporting none of the three (EOPNOTSUPP), and on ext4 (/tmp on the host
 * and in the ext4 pass) the data zeroed or moved, block alignment (EINVAL), a collapse
 * reaching EOF and an insert at EOF (EINVAL), the size following, and a shared mapping and
 * the page cache seeing the moved bytes (also what was stored through the mapping). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PG 4096
#define NP 32
#define TMPFS 0x01021994
#define EXT4 0xEF53

static unsigned char model[2 * NP * PG];
static size_t msize;

static int tmpfile_in(const char *dir, int flags) {
    char path[128];
    snprintf(path, sizeof path, "%s/lt-frange-%d", dir, getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | flags, 0600);
    unlink(path);
    return fd;
}

/* The file holds exactly the model. */
static int same(int fd) {
    static unsigned char buf[sizeof model];
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size != msize) {
        printf("size %ld, model %zu\n", (long)st.st_size, msize);
        return 0;
    }
    if (pread(fd, buf, msize, 0) != (ssize_t)msize) return 0;
    for (size_t i = 0; i < msize; i++)
        if (buf[i] != model[i]) {
            printf("byte %zu: %d, model %d\n", i, buf[i], model[i]);
            return 0;
        }
    return 1;
}

static int same_mapped(const unsigned char *m, size_t len) {
    for (size_t i = 0; i < len && i < msize; i++)
        if (m[i] != model[i]) {
            printf("mapped byte %zu: %d, model %d\n", i, m[i], model[i]);
            return 0;
        }
    return 1;
}

static void fill(int fd) {
    for (size_t i = 0; i < NP * PG; i++) model[i] = (unsigned char)(i / PG * 7 + i % 251 + 1);
    msize = NP * PG;
    CHECK(pwrite(fd, model, msize, 0) == (ssize_t)msize);
}

/* What every file system refuses before looking at the file. */
static void refused(const char *dir) {
    int fd = tmpfile_in(dir, 0);
    CHECK(fd >= 0);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE | FALLOC_FL_KEEP_SIZE, 0, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE | FALLOC_FL_COLLAPSE_RANGE, 0, PG),
              EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                        PG),
              EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_COLLAPSE_RANGE, 0, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_NO_HIDE_STALE, 0, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, 0x100, 0, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 0), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, -PG, PG), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0x7fffffffffff0000LL, 0x10000000), EFBIG);
    /* UNSHARE: neither tmpfs nor ext4 shares extents. */
    CHECK_ERR(fallocate(fd, FALLOC_FL_UNSHARE_RANGE, 0, PG), EOPNOTSUPP);
    close(fd);
    /* The mode is checked before the descriptor's access. */
    char path[128];
    snprintf(path, sizeof path, "%s/lt-frange-ro-%d", dir, getpid());
    fd = open(path, O_CREAT | O_RDONLY | O_TRUNC, 0600);
    CHECK(fd >= 0);
    unlink(path);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PG), EBADF);
    CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PG), EBADF);
    close(fd);
}

static void on_tmpfs(const char *dir) {
    int fd = tmpfile_in(dir, 0);
    CHECK(fd >= 0);
    fill(fd);
    CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 100, 200), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, PG, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 10, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, PG, PG), EOPNOTSUPP);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, NP * PG, PG), EOPNOTSUPP);
    /* Allocation and punching still work. */
    CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 2 * NP * PG));
    CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG));
    memset(model + PG, 0, PG);
    CHECK(same(fd));
    close(fd);
}

static void on_ext4(const char *dir) {
    int fd = tmpfile_in(dir, 0);
    CHECK(fd >= 0);
    if (fd < 0) return;
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    long bs = st.st_blksize;
    CHECK(bs == PG); /* the test's arithmetic assumes 4 KiB blocks */
    fill(fd);

    /* ZERO_RANGE with KEEP_SIZE inside the file: zeros, same size, no blocks freed. */
    CHECK_OK(fstat(fd, &st));
    long blocks = st.st_blocks;
    CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 100, 3 * PG));
    memset(model + 100, 0, 3 * PG);
    CHECK(same(fd));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_blocks == blocks);
    /* Without KEEP_SIZE past EOF: the size grows to the end of the range. */
    CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE, msize + 10, PG));
    memset(model + msize, 0, PG + 10);
    msize += PG + 10;
    CHECK(same(fd));
    /* With KEEP_SIZE past EOF: blocks are allocated, the size stays. (The extent tree may
     * need a block of its own for the new extent.) */
    CHECK_OK(fstat(fd, &st));
    blocks = st.st_blocks;
    CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 40 * PG, 2 * PG));
    CHECK_OK(fstat(fd, &st));
    CHECK((size_t)st.st_size == msize);
    CHECK(st.st_blocks == blocks + 2 * PG / 512 || st.st_blocks == blocks + 3 * PG / 512);
    /* Back to NP pages. */
    CHECK_OK(ftruncate(fd, NP * PG));
    msize = NP * PG;

    /* COLLAPSE_RANGE: block alignment of offset and length, no range reaching EOF. */
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 100, PG), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, PG, 100), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, PG, (NP - 1) * PG), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, PG, NP * PG), EINVAL);
    /* INSERT_RANGE: alignment, offset before EOF, the size limit. */
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, 100, PG), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, PG, 100), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, NP * PG, PG), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, 2 * NP * PG, PG), EINVAL);
    CHECK_ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, PG, 0x7ffffffff000LL), EFBIG);
    CHECK(same(fd));

    /* A shared mapping, with a store through it not yet written back. */
    size_t mlen = 2 * NP * PG;
    unsigned char *m = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    CHECK(same_mapped(m, msize));
    m[6 * PG + 5] = 0xee;
    model[6 * PG + 5] = 0xee;

    /* Collapse pages 2..4: page 6 becomes page 3; the mapping and read agree. */
    CHECK_OK(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 2 * PG, 3 * PG));
    memmove(model + 2 * PG, model + 5 * PG, msize - 5 * PG);
    msize -= 3 * PG;
    CHECK(same(fd));
    CHECK(same_mapped(m, msize));
    CHECK(m[3 * PG + 5] == 0xee);

    /* Insert two pages at page 1: a hole reading zeros, the rest moves up. */
    CHECK_OK(fallocate(fd, FALLOC_FL_INSERT_RANGE, PG, 2 * PG));
    memmove(model + 3 * PG, model + PG, msize - PG);
    memset(model + PG, 0, 2 * PG);
    msize += 2 * PG;
    CHECK(same(fd));
    CHECK(same_mapped(m, msize));
    CHECK(m[5 * PG + 5] == 0xee);

    /* Stores into the inserted hole land in the file. */
    m[PG + 1] = 0x42;
    model[PG + 1] = 0x42;
    CHECK_OK(msync(m, mlen < msize ? mlen : msize, MS_SYNC));
    CHECK(same(fd));

    /* ZERO_RANGE under the mapping. */
    CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 4 * PG + 7, 2 * PG));
    memset(model + 4 * PG + 7, 0, 2 * PG);
    CHECK(same(fd));
    CHECK(same_mapped(m, msize));
    munmap(m, mlen);
    close(fd);

    /* O_APPEND does not matter: only the append-only inode attribute would. */
    fd = tmpfile_in(dir, O_APPEND);
    CHECK(fd >= 0);
    fill(fd);
    CHECK_OK(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PG));
    CHECK_OK(fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, PG));
    CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PG));
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == NP * PG);
    close(fd);
}

static void test_dir(const char *dir) {
    struct statfs sf;
    if (statfs(dir, &sf) != 0) return;
    refused(dir);
    if ((unsigned long)sf.f_type == TMPFS)
        on_tmpfs(dir);
    else if ((unsigned long)sf.f_type == EXT4)
        on_ext4(dir);
}

int main(void) {
    test_dir("/dev/shm");
    test_dir("/tmp");
    DONE();
}
