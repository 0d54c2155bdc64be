/* lseek SEEK_DATA and SEEK_HOLE see a sparse file's holes, on tmpfs (/dev/shm) and on /tmp
 * (tmpfs, or ext4 in the ext4 pass and on the host): data runs are the pages written, the
 * end of the file is a hole, ENXIO at or past the end and for SEEK_DATA with only holes
 * after the offset; punched ranges become holes, fallocated (unwritten) ranges stay holes,
 * pages stored through a shared mapping are data; the file offset moves to the answer. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096L
/* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE */
#define PUNCH 3

static long seek(int fd, long off, int whence) {
    off_t r = lseek(fd, off, whence);
    if (r >= 0 && lseek(fd, 0, SEEK_CUR) != r) return -2; /* the offset moved elsewhere */
    return r < 0 ? -errno : (long)r;
}

static void page_at(int fd, long idx, char byte) {
    char buf[PG];
    memset(buf, byte, sizeof buf);
    CHECK(pwrite(fd, buf, sizeof buf, idx * PG) == (ssize_t)sizeof buf);
}

static void seek_in(const char *dir) {
    char path[128];
    snprintf(path, sizeof path, "%s/lt-seekdata-%d", dir, getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd < 0) return;
    unlink(path);

    /* Empty file: everything is past the end. */
    CHECK(seek(fd, 0, SEEK_DATA) == -ENXIO);
    CHECK(seek(fd, 0, SEEK_HOLE) == -ENXIO);

    /* Data in pages 0 and 4, size 10 pages. */
    page_at(fd, 0, 'a');
    page_at(fd, 4, 'b');
    CHECK_OK(ftruncate(fd, 10 * PG));
    CHECK(seek(fd, 0, SEEK_DATA) == 0);
    CHECK(seek(fd, 100, SEEK_DATA) == 100);
    CHECK(seek(fd, 0, SEEK_HOLE) == PG);
    CHECK(seek(fd, PG, SEEK_HOLE) == PG);
    CHECK(seek(fd, PG, SEEK_DATA) == 4 * PG);
    CHECK(seek(fd, 3 * PG + 7, SEEK_DATA) == 4 * PG);
    CHECK(seek(fd, 4 * PG + 10, SEEK_HOLE) == 5 * PG);
    CHECK(seek(fd, 5 * PG, SEEK_DATA) == -ENXIO);
    CHECK(seek(fd, 9 * PG, SEEK_HOLE) == 9 * PG);
    CHECK(seek(fd, 10 * PG - 1, SEEK_HOLE) == 10 * PG - 1);
    CHECK(seek(fd, 10 * PG, SEEK_DATA) == -ENXIO);
    CHECK(seek(fd, 10 * PG, SEEK_HOLE) == -ENXIO);
    CHECK(seek(fd, -1, SEEK_DATA) == -ENXIO);
    CHECK(seek(fd, -1, SEEK_HOLE) == -ENXIO);

    /* Adjacent writes make one run. */
    page_at(fd, 5, 'c');
    page_at(fd, 6, 'd');
    CHECK(seek(fd, 4 * PG, SEEK_HOLE) == 7 * PG);

    /* A punched page in the middle of the run is a hole. */
    CHECK_OK(fallocate(fd, PUNCH, 5 * PG, PG));
    CHECK(seek(fd, 4 * PG, SEEK_HOLE) == 5 * PG);
    CHECK(seek(fd, 5 * PG, SEEK_DATA) == 6 * PG);

    /* A page stored through a shared mapping (not synced) is data. */
    char *m = mmap(NULL, 10 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        m[8 * PG + 5] = 'e';
        CHECK(seek(fd, 7 * PG, SEEK_DATA) == 8 * PG);
        CHECK(seek(fd, 8 * PG, SEEK_HOLE) == 9 * PG);
        CHECK_OK(munmap(m, 10 * PG));
    }

    /* A fallocated range (unwritten blocks, never read) stays a hole. The file is fresh:
     * Linux counts unwritten blocks as data once its page cache holds them (read ahead by
     * a fault nearby, say). */
    int fa = open(dir, O_TMPFILE | O_RDWR, 0600);
    CHECK(fa >= 0);
    if (fa >= 0) {
        page_at(fa, 0, 'g');
        CHECK_OK(ftruncate(fa, 8 * PG));
        CHECK_OK(fallocate(fa, 0, 2 * PG, 2 * PG));
        CHECK_OK(fallocate(fa, FALLOC_FL_KEEP_SIZE, 6 * PG, 4 * PG));
        CHECK(seek(fa, PG, SEEK_DATA) == -ENXIO);
        CHECK(seek(fa, 0, SEEK_HOLE) == PG);
        CHECK(seek(fa, 2 * PG, SEEK_HOLE) == 2 * PG);
        close(fa);
    }

    /* A dense file whose size is not a page multiple: the only hole is its end. */
    CHECK_OK(ftruncate(fd, 0));
    char buf[3 * PG + 100];
    memset(buf, 'f', sizeof buf);
    CHECK(pwrite(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf);
    CHECK(seek(fd, 0, SEEK_HOLE) == (long)sizeof buf);
    CHECK(seek(fd, 3 * PG + 50, SEEK_DATA) == 3 * PG + 50);
    CHECK(seek(fd, 3 * PG + 50, SEEK_HOLE) == (long)sizeof buf);
    close(fd);
}

int main(void) {
    seek_in("/dev/shm");
    seek_in("/tmp");
    DONE();
}
