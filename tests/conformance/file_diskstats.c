/* /proc/diskstats counts the requests of the disk under a file: writing and fsyncing 4 MiB
 * adds at least 8192 sectors written and a write request, reading them back after the page
 * cache dropped them (POSIX_FADV_DONTNEED) at least 8192 sectors read and a read request;
 * every counter only grows (in flight aside), each line has Linux >= 5.5's 17 counters, and
 * /sys/dev/block/MAJ:MIN/stat shows the same counters (read after, so at least as large) with
 * inflight's two numbers beside it. On a file system without a disk in /proc/diskstats
 * (tmpfs, overlay) there is nothing to count: only the format is checked. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "diskstats.h"
#include <fcntl.h>
#include <unistd.h>

#define MB (1 << 20)
#define SIZE (4 * MB)

static void check_format(void) {
    FILE *f = fopen("/proc/diskstats", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned maj, min;
        char name[64];
        int off = 0, n = 0;
        CHECK(sscanf(line, "%u %u %63s%n", &maj, &min, name, &off) == 3);
        for (char *p = line + off;;) {
            char *end;
            (void)strtoull(p, &end, 10);
            if (end == p) break;
            n++;
            p = end;
        }
        if (n != DS_N) printf("%s: %d counters, expected %d\n", name, n, DS_N);
        CHECK(n == DS_N);
        lines++;
    }
    fclose(f);
    printf("%d lines in /proc/diskstats\n", lines);
}

int main(void) {
    check_format();
    static char buf[SIZE];
    for (int i = 0; i < SIZE; i++) buf[i] = (char)(i * 7 + 1);
    int fd = open("ds.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) DONE();
    struct disk d;
    if (ds_disk_of(fd, &d) != 0) {
        printf("skip: the file is on no disk /proc/diskstats lists\n");
        close(fd);
        unlink("ds.dat");
        DONE();
    }
    printf("disk %s (%u:%u)\n", d.name, d.maj, d.min);

    struct dstats a, b, c;
    CHECK(ds_read(&d, &a) == 0 && a.n == DS_N);
    CHECK(pwrite(fd, buf, SIZE, 0) == SIZE);
    CHECK_OK(fsync(fd));
    CHECK(ds_read(&d, &b) == 0 && b.n == DS_N);
    printf("written: %llu requests, %llu sectors, %llu ms\n", b.v[DS_WRITES] - a.v[DS_WRITES],
           b.v[DS_SECTORS_WRITTEN] - a.v[DS_SECTORS_WRITTEN],
           b.v[DS_MS_WRITING] - a.v[DS_MS_WRITING]);
    CHECK(b.v[DS_WRITES] > a.v[DS_WRITES]);
    CHECK(b.v[DS_SECTORS_WRITTEN] - a.v[DS_SECTORS_WRITTEN] >= SIZE / 512);

    /* Out of the page cache, then read back from the disk. */
    CHECK_OK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
    static char back[SIZE];
    size_t got = 0;
    while (got < SIZE) {
        ssize_t n = pread(fd, back + got, SIZE - got, got);
        CHECK(n > 0);
        if (n <= 0) break;
        got += n;
    }
    CHECK(got == SIZE && memcmp(buf, back, SIZE) == 0);
    CHECK(ds_read(&d, &c) == 0 && c.n == DS_N);
    printf("read: %llu requests, %llu sectors, %llu ms\n", c.v[DS_READS] - b.v[DS_READS],
           c.v[DS_SECTORS_READ] - b.v[DS_SECTORS_READ], c.v[DS_MS_READING] - b.v[DS_MS_READING]);
    CHECK(c.v[DS_READS] > b.v[DS_READS]);
    CHECK(c.v[DS_SECTORS_READ] - b.v[DS_SECTORS_READ] >= SIZE / 512);

    /* Counters only grow; the busy time cannot pass the weighted time. */
    for (int i = 0; i < DS_N; i++) {
        if (i == DS_IN_FLIGHT) continue;
        if (c.v[i] < a.v[i]) printf("counter %d went from %llu to %llu\n", i, a.v[i], c.v[i]);
        CHECK(c.v[i] >= a.v[i] && b.v[i] >= a.v[i]);
    }

    /* The same counters in sysfs, read later: at least as large. */
    struct dstats s;
    if (ds_sysfs_read(&d, &s) == 0) {
        CHECK(s.n == DS_N);
        CHECK(s.v[DS_SECTORS_WRITTEN] >= c.v[DS_SECTORS_WRITTEN]);
        CHECK(s.v[DS_SECTORS_READ] >= c.v[DS_SECTORS_READ]);
        CHECK(s.v[DS_READS] >= c.v[DS_READS] && s.v[DS_WRITES] >= c.v[DS_WRITES]);
        char path[128];
        snprintf(path, sizeof path, "/sys/dev/block/%u:%u/inflight", d.maj, d.min);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        if (f) {
            unsigned long long r, w;
            CHECK(fscanf(f, "%llu %llu", &r, &w) == 2);
            fclose(f);
        }
    } else {
        printf("no /sys/dev/block/%u:%u/stat\n", d.maj, d.min);
    }
    close(fd);
    CHECK_OK(unlink("ds.dat"));
    DONE();
}
