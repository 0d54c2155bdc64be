/* A thread waiting for the disk lets another one run: one thread reads parts of a file that
 * nothing has read yet (so they come from the disk) while a second thread counts in a loop.
 * On a disk file system (ext4; tmpfs has no disk to wait for, so there the reads are only
 * checked for their bytes) the count must move during at least one of the reads, even on
 * one CPU: the reader sleeps until the disk's interrupt and the counter runs meanwhile.
 * (On one CPU this does not tell a sleeping reader from one that halted the CPU: a read
 * that outlasts its time slice lets the counter run on its way back to user mode, before
 * the second look at the count. A stricter form, reads shorter than a slice, was not
 * reliable on a loaded host, where it must pass too.)
 * The page cache is asked to drop the file before each pass over it (POSIX_FADV_DONTNEED:
 * the written pages are cached, on Linux and on Lintel), so the reads wait for the disk; on
 * the host the counter runs on another core anyway, but a loaded host may give it no core
 * during one pass's reads, so passes repeat (a fresh drop each time) for up to 20 s. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define FILE_MB 8
#define CHUNK (256 * 1024)
#define EXT_MAGIC 0xEF53

static atomic_long count;
static atomic_int stop;

static void *counter(void *arg) {
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed))
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
    static char buf[CHUNK];
    int fd = open("overlap.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK_OK(fd);
    if (fd < 0) DONE();
    /* Every 4 KiB block carries its number, so each read can be checked. */
    for (off_t off = 0; off < (off_t)FILE_MB << 20; off += CHUNK) {
        for (int i = 0; i < CHUNK; i += 4096) {
            long blk = (long)(off + i) / 4096;
            memset(buf + i, (int)(blk & 0xff), 4096);
            memcpy(buf + i, &blk, sizeof blk);
        }
        CHECK(pwrite(fd, buf, CHUNK, off) == CHUNK);
    }
    CHECK_OK(fsync(fd));
    struct statfs sf;
    CHECK_OK(fstatfs(fd, &sf));
    int disk = sf.f_type == EXT_MAGIC;

    pthread_t t;
    CHECK(pthread_create(&t, NULL, counter, NULL) == 0);
    int overlapped = 0, reads = 0;
    double start = now();
    /* One pass on tmpfs; on a disk, passes until two reads overlapped or 20 s. */
    for (int pass = 0;
         pass == 0 || (disk && lt_failures == 0 && overlapped < 2 && now() - start <= 20);
         pass++) {
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        for (off_t off = 0; off < (off_t)FILE_MB << 20; off += CHUNK) {
            long before = atomic_load(&count);
            ssize_t n = pread(fd, buf, CHUNK, off);
            long after = atomic_load(&count);
            CHECK(n == CHUNK);
            if (n != CHUNK) break;
            reads++;
            overlapped += after > before;
            for (int i = 0; i < CHUNK; i += 4096) {
                long blk, want = (long)(off + i) / 4096;
                memcpy(&blk, buf + i, sizeof blk);
                if (blk != want || (unsigned char)buf[i + 4095] != (unsigned char)(want & 0xff)) {
                    printf("block %ld reads as %ld\n", want, blk);
                    lt_failures++;
                    break;
                }
            }
            /* Enough evidence; the rest would only cost time. */
            if (overlapped >= 2 || now() - start > 20) break;
        }
    }
    atomic_store(&stop, 1);
    CHECK(pthread_join(t, NULL) == 0);
    if (disk && overlapped == 0) {
        printf("the counter never ran during %d disk reads\n", reads);
        lt_failures++;
    }
    CHECK_OK(close(fd));
    CHECK_OK(unlink("overlap.dat"));
    DONE();
}
