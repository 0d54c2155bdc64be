/* What a fault on a file mapping reads when its page is not cached (mincore shows the page
 * cache; the file's pages are dropped with POSIX_FADV_DONTNEED after fsync):
 * - by default a window around the fault: pages before it are read too, not only after
 *   (Linux's mmap read-around, ra->start = pgoff - ra_pages / 2);
 * - after madvise(MADV_RANDOM) the page alone;
 * - after madvise(MADV_SEQUENTIAL) the page and the ones after it, none before;
 * - madvise(MADV_WILLNEED) reads a mapped range in without a fault;
 * - /proc/self/smaps shows "rr" and "sr" on the advised VMAs, split at the range's edges,
 *   and MADV_NORMAL clears them.
 * On a file system whose pages are the file (tmpfs) only the advice and smaps are checked. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PAGES 256
#define AT 128
#define TMPFS_MAGIC 0x01021994
#define RAMFS_MAGIC 0x858458f6

static long pg;
static char smaps[1 << 20];

/* Whether the smaps entry starting at `addr` has the two-letter VmFlag `flag`. */
static int has_flag(void *addr, const char *flag) {
    char head[32];
    snprintf(head, sizeof head, "%lx-", (unsigned long)addr);
    lt_slurp("/proc/self/smaps", smaps, sizeof smaps);
    for (char *p = smaps; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, head, strlen(head)) != 0)
            continue;
        char *f = strstr(p, "VmFlags:");
        if (!f)
            return 0;
        size_t n = strcspn(f, "\n");
        for (char *q = f + 8; q + 2 <= f + n; q++)
            if (q[0] == flag[0] && q[1] == flag[1] && q[-1] == ' ')
                return 1;
        return 0;
    }
    return 0;
}

/* Whether page `i` of the file is in the page cache (mincore of the mapping `m`). */
static int cached(char *m, int i) {
    unsigned char v = 0;
    CHECK_OK(mincore(m + (long)i * pg, pg, &v));
    return v & 1;
}

/* Whether page `i` is in the page cache within two seconds (a read-ahead may still be on
 * its way: a page counts once its read is done). */
static int soon_cached(char *m, int i) {
    for (int t = 0; t < 200; t++) {
        if (cached(m, i))
            return 1;
        lt_sleep_ms(10);
    }
    return 0;
}

/* Drops the file's pages from the cache (written back and not mapped: all of them go). */
static int drop(int fd, char *m) {
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    for (int i = 0; i < PAGES; i++)
        if (cached(m, i)) {
            printf("page %d still cached after POSIX_FADV_DONTNEED\n", i);
            CHECK(0);
            return 0;
        }
    return 1;
}

int main(void) {
    pg = sysconf(_SC_PAGESIZE);
    const char *path = "readaround.data";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    char *buf = malloc(pg);
    for (int i = 0; i < PAGES; i++) {
        memset(buf, i, pg);
        CHECK(write(fd, buf, pg) == pg);
    }
    CHECK_OK(fsync(fd));
    struct statfs sf;
    CHECK_OK(fstatfs(fd, &sf));
    int in_memory = sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;

    /* The advice in smaps: split at the edges, cleared by MADV_NORMAL. */
    char *m = mmap(NULL, PAGES * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(madvise(m + 16 * pg, 16 * pg, MADV_RANDOM));
    CHECK_OK(madvise(m + 64 * pg, 16 * pg, MADV_SEQUENTIAL));
    CHECK(!has_flag(m, "rr") && !has_flag(m, "sr"));
    CHECK(has_flag(m + 16 * pg, "rr") && !has_flag(m + 16 * pg, "sr"));
    CHECK(!has_flag(m + 32 * pg, "rr"));
    CHECK(has_flag(m + 64 * pg, "sr") && !has_flag(m + 64 * pg, "rr"));
    /* One replaces the other. */
    CHECK_OK(madvise(m + 64 * pg, 16 * pg, MADV_RANDOM));
    CHECK(has_flag(m + 64 * pg, "rr") && !has_flag(m + 64 * pg, "sr"));
    CHECK_OK(madvise(m, PAGES * pg, MADV_NORMAL));
    CHECK(!has_flag(m + 16 * pg, "rr") && !has_flag(m + 64 * pg, "rr"));
    CHECK(munmap(m, PAGES * pg) == 0);
    /* A hole in the range: ENOMEM, the mapped part advised all the same. */
    m = mmap(NULL, 3 * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK(munmap(m + pg, pg) == 0);
    CHECK_ERR(madvise(m, 3 * pg, MADV_RANDOM), ENOMEM);
    CHECK(has_flag(m, "rr") && has_flag(m + 2 * pg, "rr"));
    CHECK(munmap(m, 3 * pg) == 0);
    if (in_memory) {
        close(fd);
        unlink(path);
        DONE();
    }

    volatile char c;
    /* Default: around the fault. */
    m = mmap(NULL, PAGES * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (drop(fd, m)) {
        c = m[AT * pg];
        CHECK(c == (char)AT);
        CHECK(cached(m, AT));
        CHECK(soon_cached(m, AT - 1) && soon_cached(m, AT + 1));
    }
    CHECK(munmap(m, PAGES * pg) == 0);

    /* MADV_RANDOM: the page alone. */
    m = mmap(NULL, PAGES * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(madvise(m, PAGES * pg, MADV_RANDOM));
    if (drop(fd, m)) {
        c = m[AT * pg];
        CHECK(c == (char)AT);
        CHECK(cached(m, AT));
        CHECK(!cached(m, AT - 1) && !cached(m, AT + 1));
    }
    CHECK(munmap(m, PAGES * pg) == 0);

    /* MADV_SEQUENTIAL: from the fault on. */
    m = mmap(NULL, PAGES * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(madvise(m, PAGES * pg, MADV_SEQUENTIAL));
    if (drop(fd, m)) {
        c = m[AT * pg];
        CHECK(c == (char)AT);
        CHECK(cached(m, AT) && soon_cached(m, AT + 1));
        CHECK(!cached(m, AT - 1));
    }
    CHECK(munmap(m, PAGES * pg) == 0);

    /* MADV_WILLNEED: read in without a fault. */
    m = mmap(NULL, PAGES * pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (drop(fd, m)) {
        CHECK_OK(madvise(m + 8 * pg, 4 * pg, MADV_WILLNEED));
        for (int i = 8; i < 12; i++)
            CHECK(soon_cached(m, i));
    }
    CHECK(munmap(m, PAGES * pg) == 0);
    close(fd);
    unlink(path);
    DONE();
}
