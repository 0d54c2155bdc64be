/* A file's data stays in the page cache after its last close, as on Linux, seen through
 * /proc/diskstats: 8 MiB written and fsynced through one open file, closed, read through a
 * new open file: (almost) nothing comes from the disk, the written pages were cached (issue
 * 21; each try writes the file anew, so a try cannot warm the cache for the next), closed,
 * then read through yet another open file: (almost) nothing comes from the disk;
 * and reads of cached pages into user memory that is not mapped: EFAULT, the file position
 * unmoved (a buffer whose second page is not mapped: file_partial_buf). An unlinked file's blocks are free
 * again once it is closed (statfs). On a file system with no disk in /proc/diskstats
 * (tmpfs) only the data and errnos are checked. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "diskstats.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MB (1 << 20)
#define SIZE (8 * MB)
#define SECTORS (SIZE / 512)

static char *buf;

/* Opens the file, reads it whole (256 KiB a call) and checks its bytes, closes it. */
static void read_all(void) {
    static char got[SIZE];
    int fd = open("rc.dat", O_RDONLY);
    CHECK_OK(fd);
    if (fd < 0) return;
    size_t have = 0;
    ssize_t n;
    while (have < SIZE && (n = read(fd, got + have, 256 << 10)) > 0) have += n;
    CHECK(have == SIZE);
    CHECK(memcmp(got, buf, SIZE) == 0);
    close(fd);
}

/* Writes the file anew (its old pages go with O_TRUNC) and fsyncs it. */
static int write_all(void) {
    int fd = open("rc.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) return -1;
    for (size_t off = 0; off < SIZE; off += MB) CHECK(write(fd, buf + off, MB) == MB);
    CHECK_OK(fsync(fd));
    return fd;
}

/* Sectors read from disk `d` by one read_all (the fewest of a few tries: the host is shared
 * with programs that read the same disk). With `fresh`, each try first writes the file
 * anew, so that the read is the first after the write; without, the first try may read the
 * file in, and it counts only if it read (almost) nothing. */
static unsigned long long sectors_of_read(const struct disk *d, int fresh) {
    unsigned long long best = ~0ULL;
    for (int attempt = 0; attempt < 4; attempt++) {
        if (fresh) {
            int fd = write_all();
            if (fd < 0) return best;
            close(fd);
        }
        struct dstats s0, s1;
        if (ds_read(d, &s0) != 0) return 0;
        read_all();
        if (ds_read(d, &s1) != 0) return 0;
        unsigned long long r = s1.v[DS_SECTORS_READ] - s0.v[DS_SECTORS_READ];
        if (r < best) best = r;
        if (best < SECTORS / 4) break;
        sleep(1);
    }
    return best;
}

int main(void) {
    buf = malloc(SIZE);
    CHECK(buf != NULL);
    if (!buf) DONE();
    for (size_t i = 0; i < SIZE; i += 4096) {
        memset(buf + i, (int)(i / 4096 * 7 + 1), 4096);
        memcpy(buf + i, &i, sizeof i);
    }
    int fd = write_all();
    if (fd < 0) DONE();
    struct disk d;
    int disk = ds_disk_of(fd, &d) == 0;
    close(fd);
    if (disk) {
        unsigned long long first = sectors_of_read(&d, 1);
        unsigned long long again = sectors_of_read(&d, 0);
        printf("disk %s: %llu sectors read after the write, %llu on a second open (file %d)\n",
               d.name, first, again, SECTORS);
        CHECK(first < SECTORS / 4);
        CHECK(again < SECTORS / 4);
    } else {
        printf("no disk under the file: data checks only\n");
        read_all();
        read_all();
    }

    /* Reads of cached pages into user memory that ends early. */
    long pg = sysconf(_SC_PAGESIZE);
    char *two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(two != MAP_FAILED);
    if (two == MAP_FAILED) DONE();
    CHECK_OK(munmap(two + pg, pg));
    fd = open("rc.dat", O_RDONLY);
    CHECK_OK(fd);
    CHECK(lseek(fd, 100, SEEK_SET) == 100);
    CHECK(read(fd, two, 16) == 16);
    CHECK(memcmp(two, buf + 100, 16) == 0);
    CHECK_ERR(read(fd, two + pg, 16), EFAULT);
    char *volatile nowhere = NULL;
    CHECK_ERR(pread(fd, nowhere, 16, 0), EFAULT);
    CHECK(lseek(fd, 0, SEEK_CUR) == 116);
    /* At the end of the file the buffer is not looked at. */
    CHECK(pread(fd, two + pg, 16, SIZE) == 0);
    close(fd);

    /* The blocks come back once the name and the last open file are gone. */
    struct statvfs before, after;
    CHECK_OK(statvfs(".", &before));
    CHECK_OK(unlink("rc.dat"));
    sync();
    int freed = 0;
    for (int attempt = 0; attempt < 20 && !freed; attempt++) {
        CHECK_OK(statvfs(".", &after));
        /* At least 3/4 of the file's blocks (tmpfs counts pages, ext4 blocks). */
        freed = (after.f_bfree - before.f_bfree) * after.f_frsize >= SIZE / 4 * 3;
        if (!freed) usleep(100000);
    }
    if (!freed)
        printf("free blocks %llu -> %llu (block %lu)\n", (unsigned long long)before.f_bfree,
               (unsigned long long)after.f_bfree, after.f_frsize);
    CHECK(freed);
    DONE();
}
