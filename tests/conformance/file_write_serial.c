/* Writes of one file from several threads at once are serialised as Linux's inode lock
 * serialises them (POSIX: a write to a regular file is atomic with respect to other writes
 * and truncations of it):
 * - O_APPEND writes through separate open files never overlap or interleave: the file ends
 *   up exactly the sum of the records, each record whole, each thread's in its order
 *   (write, pwrite, which appends on an O_APPEND file, and writev of a record in three
 *   pieces mixed: a writev appends as one, its pieces together, as Linux's holds the
 *   inode lock across them).
 * - Two overlapping writes of a range over several pages leave it wholly one writer's, and
 *   the cached pages (read through a shared mapping) hold what the file holds (read again
 *   after the mapping is gone and the cache dropped): the write reached the file and the
 *   cache in the same order.
 * - pwrites past the end race with ftruncate: the size is the truncation's or the end of a
 *   write that came after it, and the bytes past the truncation are zeros or that write's.
 * Meant for several CPUs and for the ext4 pass (its writes sleep on the disk between the
 * file and the cache); on tmpfs and on one CPU it holds too. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096
#define THREADS 4
#define RECORDS 300
#define REC 100 /* not a divisor of the page: records straddle pages */

static char path[] = "write_serial.XXXXXX";
static atomic_int failed;

/* ---- O_APPEND ---- */

static void *appender(void *arg) {
    int t = (int)(intptr_t)arg;
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0) {
        atomic_fetch_add(&failed, 1);
        return NULL;
    }
    char rec[REC];
    for (int i = 0; i < RECORDS; i++) {
        /* t, then the sequence number, then the same byte to the end. */
        memset(rec, 'a' + t, sizeof rec);
        memcpy(rec + 1, &i, sizeof i);
        rec[0] = (char)t;
        struct iovec iov[3] = {{rec, 1}, {rec + 1, sizeof i}, {rec + 1 + sizeof i, REC - 1 - sizeof i}};
        ssize_t n = i % 3 == 0   ? write(fd, rec, sizeof rec)
                    : i % 3 == 1 ? pwrite(fd, rec, sizeof rec, 0)
                                 : writev(fd, iov, 3);
        if (n != sizeof rec) {
            atomic_fetch_add(&failed, 1);
            break;
        }
    }
    close(fd);
    return NULL;
}

static void appends(void) {
    int fd = open(path, O_RDWR | O_TRUNC);
    CHECK(fd >= 0);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, appender, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    CHECK(atomic_load(&failed) == 0);
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    CHECK(st.st_size == (off_t)THREADS * RECORDS * REC);
    static char all[THREADS * RECORDS * REC];
    CHECK(pread(fd, all, sizeof all, 0) == (ssize_t)sizeof all);
    int next[THREADS] = {0};
    int bad = 0;
    for (size_t r = 0; r < THREADS * RECORDS && !bad; r++) {
        const char *rec = all + r * REC;
        int t = rec[0], i;
        memcpy(&i, rec + 1, sizeof i);
        if (t < 0 || t >= THREADS || i != next[t]) {
            printf("record %zu: thread %d number %d (expected %d)\n", r, t, i,
                   t >= 0 && t < THREADS ? next[t] : -1);
            bad = 1;
            break;
        }
        for (int b = 1 + (int)sizeof i; b < REC; b++)
            if (rec[b] != 'a' + t) {
                printf("record %zu: byte %d is %#x, not thread %d's\n", r, b, rec[b], t);
                bad = 1;
                break;
            }
        next[t]++;
    }
    CHECK(bad == 0);
    close(fd);
}

/* ---- overlapping writes: the file and the cache agree ---- */

#define SPAN (3 * PAGE)
#define AT 1000
#define ROUNDS 150

static int wfd;
static pthread_barrier_t start;

static void *overwriter(void *arg) {
    int t = (int)(intptr_t)arg;
    static char bufs[2][SPAN];
    for (int r = 0; r < ROUNDS; r++) {
        memset(bufs[t], (t ? 'A' : 'a') + r % 26, SPAN);
        pthread_barrier_wait(&start);
        if (pwrite(wfd, bufs[t], SPAN, AT) != SPAN)
            atomic_fetch_add(&failed, 1);
        pthread_barrier_wait(&start);
    }
    return NULL;
}

/* The range's bytes are all one value (returned), else -1. */
static int uniform(const char *b) {
    for (int i = 1; i < SPAN; i++)
        if (b[i] != b[0])
            return -1;
    return (unsigned char)b[0];
}

static void overlaps(void) {
    wfd = open(path, O_RDWR | O_TRUNC);
    CHECK(wfd >= 0);
    CHECK_OK(ftruncate(wfd, 4 * PAGE));
    CHECK(pthread_barrier_init(&start, NULL, 3) == 0);
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&th[t], NULL, overwriter, (void *)(intptr_t)t) == 0);
    int bad = 0;
    static char via_cache[SPAN], via_file[SPAN];
    for (int r = 0; r < ROUNDS; r++) {
        /* The pages cached (and mapped) before the writes. */
        char *m = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, wfd, 0);
        CHECK(m != MAP_FAILED);
        if (m == MAP_FAILED)
            break;
        volatile char sink = 0;
        for (int p = 0; p < 4; p++)
            sink += m[p * PAGE];
        (void)sink;
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&start);
        memcpy(via_cache, m + AT, SPAN);
        munmap(m, 4 * PAGE);
        posix_fadvise(wfd, 0, 0, POSIX_FADV_DONTNEED);
        if (pread(wfd, via_file, SPAN, AT) != SPAN)
            bad++;
        int c = uniform(via_cache), f = uniform(via_file);
        if (c < 0 || f < 0 || c != f) {
            if (!bad)
                printf("round %d: cached %d, file %d (-1: mixed)\n", r, c, f);
            bad++;
        }
    }
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    CHECK(bad == 0);
    CHECK(atomic_load(&failed) == 0);
    pthread_barrier_destroy(&start);
    close(wfd);
}

/* ---- pwrite past the end against ftruncate ---- */

#define TRUNC_AT (2 * PAGE + 123)
#define WRITE_AT (5 * PAGE + 7)
#define WLEN 3000

static void *extender(void *arg) {
    (void)arg;
    static char b[WLEN];
    memset(b, 'w', sizeof b);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&start);
        if (pwrite(wfd, b, sizeof b, WRITE_AT) != sizeof b)
            atomic_fetch_add(&failed, 1);
        pthread_barrier_wait(&start);
    }
    return NULL;
}

static void truncations(void) {
    wfd = open(path, O_RDWR | O_TRUNC);
    CHECK(wfd >= 0);
    CHECK(pthread_barrier_init(&start, NULL, 2) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, extender, NULL) == 0);
    static char big[8 * PAGE];
    int bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        memset(big, 'o', sizeof big);
        if (pwrite(wfd, big, sizeof big, 0) != (ssize_t)sizeof big)
            bad++;
        pthread_barrier_wait(&start);
        if (ftruncate(wfd, TRUNC_AT) != 0)
            bad++;
        pthread_barrier_wait(&start);
        struct stat st;
        fstat(wfd, &st);
        int write_last = st.st_size == WRITE_AT + WLEN;
        if (st.st_size != TRUNC_AT && !write_last) {
            if (!bad)
                printf("round %d: size %lld\n", r, (long long)st.st_size);
            bad++;
            continue;
        }
        memset(big, 0x55, sizeof big);
        ssize_t n = pread(wfd, big, sizeof big, 0);
        if (n != st.st_size) {
            bad++;
            continue;
        }
        for (ssize_t i = 0; i < n; i++) {
            char want = i < TRUNC_AT ? 'o' : (i >= WRITE_AT ? 'w' : 0);
            if (big[i] != want) {
                if (!bad)
                    printf("round %d: byte %zd is %#x, expected %#x (size %zd)\n", r, i,
                           big[i], want, n);
                bad++;
                break;
            }
        }
    }
    pthread_join(th, NULL);
    CHECK(bad == 0);
    CHECK(atomic_load(&failed) == 0);
    pthread_barrier_destroy(&start);
    close(wfd);
}

int main(void) {
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        DONE();
    close(fd);
    appends();
    overlaps();
    truncations();
    unlink(path);
    DONE();
}
