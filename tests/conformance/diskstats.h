/* Finding the disk a file lives on and reading its /proc/diskstats counters (Linux >= 5.5's
 * 20 fields: major, minor, name, then 17 counters; Documentation/admin-guide/iostats.rst). */
#ifndef DISKSTATS_H
#define DISKSTATS_H
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Counter indexes after the name. */
enum {
    DS_READS, DS_READS_MERGED, DS_SECTORS_READ, DS_MS_READING,
    DS_WRITES, DS_WRITES_MERGED, DS_SECTORS_WRITTEN, DS_MS_WRITING,
    DS_IN_FLIGHT, DS_MS_IO, DS_MS_WEIGHTED,
    DS_DISCARDS, DS_DISCARDS_MERGED, DS_SECTORS_DISCARDED, DS_MS_DISCARDING,
    DS_FLUSHES, DS_MS_FLUSHING,
    DS_N
};

struct disk {
    char name[64];
    unsigned maj, min;
};

struct dstats {
    unsigned long long v[DS_N];
    int n; /* counters on the line */
};

/* Reads the line of disk `d`; 0 when found. */
static inline int ds_read(const struct disk *d, struct dstats *s) {
    FILE *f = fopen("/proc/diskstats", "r");
    if (!f) return -1;
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned maj, min;
        char name[64];
        int off = 0;
        if (sscanf(line, "%u %u %63s%n", &maj, &min, name, &off) != 3) continue;
        if (strcmp(name, d->name) != 0) continue;
        memset(s, 0, sizeof *s);
        char *p = line + off;
        while (s->n < DS_N) {
            char *end;
            unsigned long long x = strtoull(p, &end, 10);
            if (end == p) break;
            s->v[s->n++] = x;
            p = end;
        }
        found = 0;
        break;
    }
    fclose(f);
    return found;
}

/* Looks `maj:min`, else the device named `name`, up in /proc/diskstats. */
static inline int ds_find(unsigned maj, unsigned min, const char *name, struct disk *out) {
    FILE *f = fopen("/proc/diskstats", "r");
    if (!f) return -1;
    char line[512];
    int found = -1;
    while (found && fgets(line, sizeof line, f)) {
        struct disk d;
        if (sscanf(line, "%u %u %63s", &d.maj, &d.min, d.name) != 3) continue;
        if ((d.maj == maj && d.min == min) || (name && strcmp(d.name, name) == 0)) {
            *out = d;
            found = 0;
        }
    }
    fclose(f);
    return found;
}

/* The disk (or partition) holding the file system of `fd`'s file: the device of its st_dev,
 * else the source of the mount with that st_dev in /proc/self/mountinfo (Lintel numbers its
 * file systems apart from their devices; a host file system may be on /dev/root or a
 * device-mapper link). -1 when the file is not on a disk that /proc/diskstats lists (tmpfs,
 * overlay). */
static inline int ds_disk_of(int fd, struct disk *out) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    unsigned maj = major(st.st_dev), min = minor(st.st_dev);
    if (ds_find(maj, min, NULL, out) == 0) return 0;
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f) return -1;
    char line[4096];
    int found = -1;
    while (found && fgets(line, sizeof line, f)) {
        unsigned m, n;
        if (sscanf(line, "%*d %*d %u:%u", &m, &n) != 2 || m != maj || n != min) continue;
        char *sep = strstr(line, " - ");
        char fstype[64], source[1024];
        if (!sep || sscanf(sep + 3, "%63s %1023s", fstype, source) != 2) continue;
        if (strncmp(source, "/dev/", 5) != 0) continue;
        char real[PATH_MAX];
        const char *path = realpath(source, real) ? real : source;
        const char *base = strrchr(path, '/');
        found = ds_find(UINT_MAX, UINT_MAX, base ? base + 1 : path, out);
    }
    fclose(f);
    return found;
}

/* A counter of /sys/dev/block/MAJ:MIN/stat (-1 when there is no such file). */
static inline int ds_sysfs_read(const struct disk *d, struct dstats *s) {
    char path[128];
    snprintf(path, sizeof path, "/sys/dev/block/%u:%u/stat", d->maj, d->min);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    memset(s, 0, sizeof *s);
    while (s->n < DS_N && fscanf(f, "%llu", &s->v[s->n]) == 1) s->n++;
    fclose(f);
    return 0;
}
#endif
