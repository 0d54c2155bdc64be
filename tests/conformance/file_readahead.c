/* readahead(2) and posix_fadvise fill the page cache ahead of reads, as Linux's do:
 * - readahead brings the range into the cache: mincore on a mapping of the file shows the
 *   pages resident before anything touched them, and touching them is no major fault;
 * - POSIX_FADV_WILLNEED does the same (a length of 0: to the end of the file);
 * - after POSIX_FADV_RANDOM a read brings in only the page it asks for;
 * - NORMAL, SEQUENTIAL and NOREUSE are accepted; DONTNEED drops unmapped clean pages;
 * - the advice is the open file's: after RANDOM through one open of the file, sequential
 *   reads through another open still read ahead, and through the first they do not;
 * - EBADF for readahead on a file not open for reading, EINVAL for a pipe; ESPIPE for
 *   fadvise on a pipe, EINVAL for unknown advice.
 * On tmpfs the pages are the file itself: always resident. Linux's read-ahead is
 * asynchronous: a page shows in mincore once its read completed. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PAGES 64
#define TMPFS_MAGIC 0x01021994
#define RAMFS_MAGIC 0x858458f6

static long pg;
static char *m;
static int in_memory;

static int resident(int page) {
    unsigned char v[PAGES];
    CHECK_OK(mincore(m, PAGES * pg, v));
    return v[page] & 1;
}

/* Pages [from, to) resident (want 1) or not (want 0; resident regardless on tmpfs). Linux
 * reads ahead asynchronously: a page counts once its read completed, so wait for it. */
static void expect(int from, int to, int want) {
    for (int i = from; i < to; i++) {
        int r = resident(i);
        for (int tries = 0; want && !r && tries < 200; tries++) {
            usleep(10000);
            r = resident(i);
        }
        if (r != (want || in_memory)) {
            printf("page %d: resident %d, expected %d\n", i, r, want || in_memory);
            CHECK(0);
            return;
        }
    }
}

static long majflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_majflt;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pg = sysconf(_SC_PAGESIZE);
    const char *path = "readahead.data";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    char *buf = malloc(pg);
    for (int i = 0; i < PAGES; i++) {
        memset(buf, 'a' + i % 26, pg);
        CHECK(write(fd, buf, pg) == pg);
    }
    CHECK_OK(fsync(fd));
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    struct statfs sf;
    CHECK_OK(fstatfs(fd, &sf));
    in_memory = sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
    m = mmap(NULL, PAGES * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    expect(0, PAGES, 0);

    /* readahead: exactly the range. */
    CHECK_OK(readahead(fd, 0, 8 * pg));
    expect(0, 8, 1);
    expect(8, 16, 0);
    long maj = majflt();
    for (int i = 0; i < 8; i++) CHECK(((volatile char *)m)[i * pg] == 'a' + i);
    CHECK(majflt() == maj);

    /* WILLNEED on a range, then to the end of the file. */
    CHECK(posix_fadvise(fd, 16 * pg, 8 * pg, POSIX_FADV_WILLNEED) == 0);
    expect(16, 24, 1);
    expect(24, 32, 0);

    /* RANDOM: a read brings in only its own page. */
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) == 0);
    CHECK(pread(fd, buf, pg, 40 * pg) == pg);
    CHECK(buf[0] == 'a' + 40 % 26);
    expect(40, 41, 1);
    expect(41, 48, 0);

    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_NORMAL) == 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_NOREUSE) == 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
    CHECK(posix_fadvise(fd, 56 * pg, 0, POSIX_FADV_WILLNEED) == 0);
    expect(56, PAGES, 1);

    /* DONTNEED drops the clean pages nothing maps (pages 0..7 are mapped here). */
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    expect(0, 8, 1);
    expect(16, 24, 0);
    expect(56, PAGES, 0);

    /* The advice is per open file (Linux's f_ra): RANDOM through `fd` leaves another open of
     * the file reading ahead, and NORMAL through that one leaves `fd` random. */
    int fd2 = open(path, O_RDONLY);
    CHECK(fd2 >= 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) == 0);
    CHECK(posix_fadvise(fd2, 0, 0, POSIX_FADV_NORMAL) == 0);
    CHECK(pread(fd2, buf, pg, 32 * pg) == pg);
    CHECK(pread(fd2, buf, pg, 33 * pg) == pg && buf[0] == 'a' + 33 % 26);
    expect(33, 36, 1);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    expect(32, 48, 0);
    CHECK(pread(fd, buf, pg, 32 * pg) == pg);
    CHECK(pread(fd, buf, pg, 33 * pg) == pg && buf[0] == 'a' + 33 % 26);
    expect(32, 34, 1);
    expect(34, 48, 0);
    close(fd2);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_NORMAL) == 0);

    /* Errors. */
    CHECK(posix_fadvise(fd, 0, 0, 6) == EINVAL);
    int wfd = open(path, O_WRONLY);
    CHECK(wfd >= 0);
    CHECK_ERR(readahead(wfd, 0, pg), EBADF);
    close(wfd);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERR(readahead(p[0], 0, pg), EINVAL);
    CHECK(posix_fadvise(p[0], 0, 0, POSIX_FADV_WILLNEED) == ESPIPE);
    close(p[0]);
    close(p[1]);

    munmap(m, PAGES * pg);
    close(fd);
    unlink(path);
    DONE();
}
