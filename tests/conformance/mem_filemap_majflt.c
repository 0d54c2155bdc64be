/* Major and minor page faults (getrusage's ru_majflt and ru_minflt, /proc/PID/stat's fields
 * 10 and 12): a fault on a file page that is not in the page cache, so that it waits for the
 * file to be read, is major; every other fault is minor.
 * - a written, synced file whose pages POSIX_FADV_DONTNEED dropped from the cache: the first
 *   touch of its mapping is one major fault (on a disk file system; on tmpfs the pages are
 *   the file itself, and the fault is minor);
 * - touching fresh anonymous memory counts minor faults only;
 * - /proc/self/stat agrees with getrusage. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PAGES 16
#define TMPFS_MAGIC 0x01021994
#define RAMFS_MAGIC 0x858458f6

static void usage(long *minflt, long *majflt) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *minflt = ru.ru_minflt;
    *majflt = ru.ru_majflt;
}

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    const char *path = "majflt.data";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    char *buf = malloc(pg);
    for (int i = 0; i < PAGES; i++) {
        memset(buf, 'a' + i, pg);
        CHECK(write(fd, buf, pg) == pg);
    }
    CHECK_OK(fsync(fd));
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    struct statfs sf;
    CHECK_OK(fstatfs(fd, &sf));
    int in_memory = sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;

    char *m = mmap(NULL, PAGES * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    long min0, maj0, min1, maj1;
    usage(&min0, &maj0);
    volatile char c = m[0];
    usage(&min1, &maj1);
    CHECK(c == 'a');
    if (in_memory) {
        CHECK(maj1 == maj0);
        CHECK(min1 == min0 + 1);
    } else {
        if (maj1 != maj0 + 1)
            printf("first touch of an uncached file page: majflt %ld -> %ld, minflt %ld -> %ld\n",
                   maj0, maj1, min0, min1);
        CHECK(maj1 == maj0 + 1);
        CHECK(min1 == min0);
    }
    /* The rest of the file: read ahead or mapped around, never more majors than pages. */
    for (int i = 1; i < PAGES; i++) CHECK(m[i * pg] == 'a' + i);
    long min2, maj2;
    usage(&min2, &maj2);
    CHECK(maj2 - maj1 <= PAGES - 1);
    CHECK(munmap(m, PAGES * pg) == 0);

    /* Anonymous memory: minor faults only. */
    char *a = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED);
    long min3, maj3, min4, maj4;
    usage(&min3, &maj3);
    for (int i = 0; i < 8; i++) a[i * pg] = 1;
    usage(&min4, &maj4);
    CHECK(maj4 == maj3);
    CHECK(min4 >= min3 + 8);

    /* /proc/self/stat: minflt (10) and majflt (12) as getrusage counts them. */
    long smaj = lt_stat_field(12), smin = lt_stat_field(10);
    long min5, maj5;
    usage(&min5, &maj5);
    CHECK(smaj == maj5);
    CHECK(smin <= min5 && smin >= min4);
    close(fd);
    unlink(path);
    DONE();
}
