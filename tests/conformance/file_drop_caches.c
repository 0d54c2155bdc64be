/* echo 1, 2 and 3 > /proc/sys/vm/drop_caches as Linux does them, seen through /proc/diskstats:
 * a 32 MiB file written and fsynced, read once (into the page cache), then
 *  - 3 (and 1) drop its clean pages and the clean metadata blocks: the next read brings ~32 MiB
 *    from the disk again, and /proc/meminfo's Cached and Buffers go down;
 *  - a read without dropping brings (almost) nothing from the disk;
 *  - 2 drops only unused dentries and inodes: the open file keeps its pages, so again almost
 *    nothing is read.
 * Dirty pages are not dropped (Linux's drop_caches does not write
 * back): bytes written but not synced still read back. Needs root (the harness runs the host
 * side as root; without it the test passes after the format checks). On a file system with
 * no disk in /proc/diskstats (tmpfs) only the errnos and the data are checked. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "diskstats.h"
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define MB (1 << 20)
#define SIZE (32 * MB)
#define SECTORS (SIZE / 512)

static char *buf;
static int fd;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads the whole file, checks its bytes; the seconds it took. */
static double read_all(void) {
    static char chunk[1 << 20];
    double t = now();
    for (size_t off = 0; off < SIZE; off += sizeof chunk) {
        ssize_t n = pread(fd, chunk, sizeof chunk, off);
        CHECK(n == (ssize_t)sizeof chunk);
        if (n != (ssize_t)sizeof chunk) break;
        if (memcmp(chunk, buf + off, sizeof chunk) != 0) {
            printf("bytes differ at %zu\n", off);
            lt_failures++;
            break;
        }
    }
    return now() - t;
}

/* Writes `what` to /proc/sys/vm/drop_caches: 0, or -1 with errno. */
static int drop(const char *what) {
    return lt_write_file("/proc/sys/vm/drop_caches", what);
}

static long meminfo(const char *name) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':') v = atol(line + len + 1);
    fclose(f);
    return v;
}

/* Reads the file into the cache, drops `what` (nothing when NULL) and reads it again: true
 * when that read brought ~32 MiB from the disk and, at the drop, Cached fell by half of that
 * and Buffers fell but for a few dirty blocks or to the floor an earlier drop reached (`reread`), or when it brought less than half (not `reread`), in one of a few tries. */
/* Buffers (kB) left by the first drop that emptied them: what the file system keeps in use
 * (Linux keeps its journal's and superblock's buffers, some hundred kB on the host), which a
 * later drop cannot lower further. -1 before the first drop. */
static long floor_kb = -1;

static int round_ok(const struct disk *d, const char *what, int reread) {
    for (int attempt = 1; attempt <= 4; attempt++) {
        read_all();
        long c0 = meminfo("Cached"), b0 = meminfo("Buffers");
        if (what) CHECK_OK(drop(what));
        long c1 = meminfo("Cached"), b1 = meminfo("Buffers");
        struct dstats s0, s1;
        if (d && ds_read(d, &s0) != 0) return 0;
        double t = read_all();
        if (d && ds_read(d, &s1) != 0) return 0;
        if (!d) return 1;
        unsigned long long r = s1.v[DS_SECTORS_READ] - s0.v[DS_SECTORS_READ];
        printf("drop %s: read %.3f s, %llu sectors (file %d); Cached %ld -> %ld kB, Buffers "
               "%ld -> %ld kB\n",
               what ? what : "-", t, r, SECTORS, c0, c1, b0, b1);
        /* Dropping also empties the buffer cache (metadata: the file's extents, its inode)
         * of all but dirty blocks (a read's access time may leave an inode block dirty). */
        int ok = reread ? r >= SECTORS * 9 / 10 && c1 < c0 - SIZE / 2 / 1024 &&
                              (b1 < b0 || b0 <= 64 || (floor_kb >= 0 && b1 <= floor_kb))
                        : r < SECTORS / 2;
        if (ok && reread && (floor_kb < 0 || b1 < floor_kb)) floor_kb = b1;
        if (ok) return 1;
        sleep(1);
    }
    return 0;
}

int main(void) {
    /* Errnos first (root or not). */
    int p = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (p < 0 && (errno == EACCES || errno == EPERM)) {
        printf("skip: drop_caches needs root\n");
        DONE();
    }
    CHECK_OK(p);
    if (p < 0) DONE();
    close(p);
    /* Mode 0200, and /proc/sys's rule gives root the owner bits alone: no reading it. */
    CHECK_ERR(open("/proc/sys/vm/drop_caches", O_RDONLY), EACCES);

    buf = malloc(SIZE);
    CHECK(buf != NULL);
    if (!buf) DONE();
    for (size_t i = 0; i < SIZE; i += 4096) {
        memset(buf + i, (int)(i / 4096 * 13), 4096);
        memcpy(buf + i, &i, sizeof i);
    }
    fd = open("dc.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) DONE();
    for (size_t off = 0; off < SIZE; off += MB) CHECK(pwrite(fd, buf + off, MB, off) == MB);
    CHECK_OK(fsync(fd));

    struct disk d;
    int disk = ds_disk_of(fd, &d) == 0;
    if (disk)
        printf("disk %s (%u:%u)\n", d.name, d.maj, d.min);
    else
        printf("no disk under the file: data checks only\n");

    /* The host is shared with other programs, whose reads move the same counters (a drop
     * makes them read again too): each check gets a few tries. */
    CHECK(round_ok(disk ? &d : NULL, "3", 1));
    CHECK(round_ok(disk ? &d : NULL, "1", 1));
    CHECK(round_ok(disk ? &d : NULL, "2", 0));
    CHECK(round_ok(disk ? &d : NULL, NULL, 0));

    /* Dirty data is not dropped: a write not yet synced reads back after a drop. */
    memset(buf, 0x5a, MB);
    CHECK(pwrite(fd, buf, MB, 0) == MB);
    CHECK_OK(drop("3"));
    read_all();
    CHECK_OK(drop("4")); /* only silences the kernel's log line */
    close(fd);
    CHECK_OK(unlink("dc.dat"));
    free(buf);
    DONE();
}
