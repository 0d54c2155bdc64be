/* A read that fills the page cache while another thread writes the same pages never leaves
 * the cache older than the file: every pwrite that has returned is seen by every pread that
 * starts after it. The reader drops the cache (POSIX_FADV_DONTNEED) before each read, so
 * each read misses and reads the file (with read-ahead) while the writer runs; a fill that
 * inserted what it read before a write landed would keep the old bytes for good. A second
 * phase shrinks and regrows the file after filling it: a read then sees zeros past the new
 * end, never a word from before the truncation. Meant for the ext4 pass (its reads go
 * through the cache and sleep on the disk) and for several CPUs; on tmpfs it holds too. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#define PAGES 64
#define PAGE 4096

static int fd;
/* The last value the writer's pwrite to each page returned from (0: none yet). */
static _Atomic uint32_t done_value[PAGES];
static atomic_int stop;
static atomic_int stale;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *writer(void *arg) {
    (void)arg;
    for (uint32_t v = 1; !atomic_load(&stop); v++) {
        int p = (v * 7) % PAGES;
        uint32_t word[2] = {v, ~v};
        if (pwrite(fd, word, sizeof word, (off_t)p * PAGE) != sizeof word) {
            atomic_fetch_add(&stale, 1000);
            break;
        }
        atomic_store(&done_value[p], v);
    }
    return NULL;
}

/* Reads every page's word after noting what the writer had finished: each must be at
 * least that (the writer's values only grow). A word written as the read copies it may come
 * out torn (neither Linux's copies nor its writes are atomic): the value's complement beside
 * it tells, and a torn one is a write in progress, not an old page. */
static int check_round(void) {
    uint32_t before[PAGES];
    for (int p = 0; p < PAGES; p++)
        before[p] = atomic_load(&done_value[p]);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    static char buf[PAGES * PAGE];
    if (pread(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf)
        return -1;
    int bad = 0;
    for (int p = 0; p < PAGES; p++) {
        uint32_t got[2];
        memcpy(got, buf + (size_t)p * PAGE, sizeof got);
        int never_written = got[0] == 0 && got[1] == 0;
        if (!never_written && got[1] != ~got[0])
            continue;
        if (got[0] < before[p]) {
            if (!bad)
                printf("page %d: read %u after a write of %u had returned\n", p, got[0], before[p]);
            bad++;
        }
    }
    return bad;
}

int main(void) {
    char path[] = "cache_race.XXXXXX";
    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        DONE();
    unlink(path);
    static char zero[PAGES * PAGE];
    CHECK(pwrite(fd, zero, sizeof zero, 0) == (ssize_t)sizeof zero);
    CHECK_OK(fsync(fd));

    pthread_t w;
    CHECK(pthread_create(&w, NULL, writer, NULL) == 0);
    int rounds = 0;
    double end = now() + 1.5;
    while (now() < end) {
        int bad = check_round();
        CHECK(bad == 0);
        if (bad != 0)
            break;
        rounds++;
    }
    atomic_store(&stop, 1);
    pthread_join(w, NULL);
    CHECK(atomic_load(&stale) == 0);
    CHECK(rounds > 0);

    /* Truncation: shrink to one page and grow back; a read after that sees zeros past the
     * first page, never a word from before. */
    for (int i = 0; i < 50; i++) {
        uint32_t v = 0xabcd0000u + i;
        for (int p = 1; p < PAGES; p++)
            CHECK(pwrite(fd, &v, sizeof v, (off_t)p * PAGE) == sizeof v);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        CHECK_OK(ftruncate(fd, PAGE));
        CHECK_OK(ftruncate(fd, PAGES * PAGE));
        static char buf[PAGES * PAGE];
        CHECK(pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf);
        int nonzero = 0;
        for (size_t b = PAGE; b < sizeof buf; b++)
            nonzero += buf[b] != 0;
        CHECK(nonzero == 0);
        if (nonzero)
            break;
    }
    close(fd);
    DONE();
}
