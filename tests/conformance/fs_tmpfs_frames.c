/* tmpfs data in page frames (as root; a fresh tmpfs on a temporary folder, on the host too):
 * a file larger than Lintel's kernel heap (a quarter of RAM; the guest has 1 GiB) is written,
 * read back and counted by statfs and /proc/meminfo's Shmem, and its memory comes back on
 * unlink (MemFree is checked by boot.tmpfs-frames: this host, a VM, does not show it
 * dependably); a MAP_SHARED mapping and write()/read() see each other's bytes at once, a store into
 * a hole takes one block, truncation gives blocks back and a mapping past the new end raises
 * SIGBUS; /dev/shm is a tmpfs. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define TMPFS_MAGIC 0x01021994
#define PAGE 4096L
#define BIG (320L << 20) /* more than the 256 MiB heap of a 1 GiB guest */
#define LIMIT (512L << 20)

static char dir[64];

static long meminfo_kb(const char *key) {
    static char buf[8192];
    if (lt_slurp("/proc/meminfo", buf, sizeof buf) <= 0) return -1;
    char *p = strstr(buf, key);
    return p ? atol(p + strlen(key) + 1) : -1;
}

/* The tmpfs under test, open as a folder: files are made and statfs asked through it. */
static int dfd = -1;

static struct statfs st(void) {
    struct statfs s;
    memset(&s, 0, sizeof s);
    CHECK_OK(fstatfs(dfd, &s));
    return s;
}

/* Every 8 bytes of page i hold i * 1000 + the word's index: a page read from the wrong
 * place shows. */
static void stamp(long *words, long page) {
    for (long w = 0; w < PAGE / 8; w++) words[w] = page * 1000 + w;
}

static void big_file(void) {
    struct statfs s = st();
    CHECK(s.f_type == TMPFS_MAGIC && s.f_bsize == PAGE);
    CHECK((long)s.f_blocks == LIMIT / PAGE && s.f_bfree == s.f_blocks);
    long shmem0 = meminfo_kb("Shmem");
    CHECK(shmem0 >= 0);

    int fd = openat(dfd, "big", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    static long chunk[(1 << 20) / 8];
    long pages_per_chunk = sizeof chunk / PAGE, written = 0;
    for (long c = 0; c < BIG / (long)sizeof chunk; c++) {
        for (long p = 0; p < pages_per_chunk; p++)
            stamp(chunk + p * (PAGE / 8), c * pages_per_chunk + p);
        ssize_t w = write(fd, chunk, sizeof chunk);
        if (w != (ssize_t)sizeof chunk) {
            printf("write at %ld: %zd (%s)\n", written, w, strerror(errno));
            lt_failures++;
            break;
        }
        written += w;
    }
    CHECK(written == BIG);
    s = st();
    CHECK((long)(s.f_blocks - s.f_bfree) == BIG / PAGE);
    struct stat sb;
    CHECK_OK(fstat(fd, &sb));
    CHECK(sb.st_size == BIG && sb.st_blocks == BIG / 512);
    long shmem1 = meminfo_kb("Shmem");
    /* The file's pages are memory in use, counted as shared memory. */
    if (shmem1 - shmem0 < BIG / 1024 * 9 / 10) {
        printf("after writing: Shmem %ld -> %ld kB\n", shmem0, shmem1);
        lt_failures++;
    }
    /* Read back pages from all over the file. */
    static long page[PAGE / 8], want[PAGE / 8];
    for (long p = 0; p < BIG / PAGE; p += 7919) {
        CHECK(pread(fd, page, PAGE, p * PAGE) == PAGE);
        stamp(want, p);
        if (memcmp(page, want, PAGE) != 0) {
            printf("page %ld reads wrong\n", p);
            lt_failures++;
            break;
        }
    }
    /* A mapping of it shows the same bytes. */
    long *map = mmap(NULL, BIG, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED);
    if (map != MAP_FAILED) {
        CHECK(map[(BIG / PAGE - 1) * (PAGE / 8) + 5] == (BIG / PAGE - 1) * 1000 + 5);
        CHECK(map[12345 * (PAGE / 8)] == 12345 * 1000);
        CHECK_OK(munmap(map, BIG));
    }
    /* Unlinked while open: the space stays until the last close, then comes back. */
    CHECK_OK(unlinkat(dfd, "big", 0));
    CHECK((long)(st().f_blocks - st().f_bfree) == BIG / PAGE);
    CHECK_OK(close(fd));
    s = st();
    CHECK(s.f_bfree == s.f_blocks);
    long shmem2 = meminfo_kb("Shmem");
    if (shmem1 - shmem2 < BIG / 1024 * 9 / 10) {
        printf("after unlink: Shmem %ld -> %ld kB\n", shmem1, shmem2);
        lt_failures++;
    }
}

static sigjmp_buf bus_jmp;
static void on_bus(int sig) {
    (void)sig;
    siglongjmp(bus_jmp, 1);
}

static void shared_map(void) {
    int fd = openat(dfd, "m", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, 16 * PAGE));
    /* A hole costs nothing. */
    struct statfs s = st();
    CHECK(s.f_bfree == s.f_blocks);
    char *a = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(a != MAP_FAILED && b != MAP_FAILED);
    if (a == MAP_FAILED || b == MAP_FAILED) return;
    /* A store into a hole takes one block, seen by read() and the other mapping. */
    memcpy(a + 3 * PAGE + 100, "hello", 5);
    s = st();
    CHECK(s.f_blocks - s.f_bfree == 1);
    char buf[16] = {0};
    CHECK(pread(fd, buf, 5, 3 * PAGE + 100) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(memcmp(b + 3 * PAGE + 100, "hello", 5) == 0);
    /* write() is seen through both mappings at once. */
    CHECK(pwrite(fd, "WORLD", 5, 3 * PAGE + 101) == 5);
    CHECK(memcmp(a + 3 * PAGE + 100, "hWORLD", 6) == 0);
    CHECK(memcmp(b + 3 * PAGE + 100, "hWORLD", 6) == 0);
    CHECK(pwrite(fd, "x", 1, 9 * PAGE) == 1);
    CHECK(b[9 * PAGE] == 'x');
    b[9 * PAGE + 1] = 'y';
    CHECK(pread(fd, buf, 2, 9 * PAGE) == 2 && memcmp(buf, "xy", 2) == 0);
    s = st();
    CHECK(s.f_blocks - s.f_bfree == 2);
    /* A private mapping sees the file until it writes its own copy. */
    char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        CHECK(p[9 * PAGE] == 'x');
        p[9 * PAGE] = 'P';
        CHECK(a[9 * PAGE] == 'x');
        CHECK(pread(fd, buf, 1, 9 * PAGE) == 1 && buf[0] == 'x');
        CHECK_OK(munmap(p, 16 * PAGE));
    }
    /* Shrinking gives the blocks past the end back; the mapping past it raises SIGBUS. */
    CHECK_OK(ftruncate(fd, 4 * PAGE));
    s = st();
    CHECK(s.f_blocks - s.f_bfree == 1);
    CHECK(memcmp(a + 3 * PAGE + 100, "hWORLD", 6) == 0);
    struct sigaction sa = {.sa_handler = on_bus}, old;
    sigaction(SIGBUS, &sa, &old);
    volatile int bused = 0;
    if (sigsetjmp(bus_jmp, 1) == 0) {
        (void)*(volatile char *)(a + 9 * PAGE);
    } else {
        bused = 1;
    }
    sigaction(SIGBUS, &old, NULL);
    CHECK(bused);
    CHECK_OK(munmap(a, 16 * PAGE));
    CHECK_OK(munmap(b, 16 * PAGE));
    CHECK_OK(close(fd));
    CHECK_OK(unlinkat(dfd, "m", 0));
    s = st();
    CHECK(s.f_bfree == s.f_blocks);
}

int main(void) {
    if (geteuid() != 0) DONE();
    struct statfs s;
    CHECK_OK(statfs("/dev/shm", &s));
    CHECK(s.f_type == TMPFS_MAGIC);
    snprintf(dir, sizeof dir, "/tmp/tmpfs_frames.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_OK(mount("none", dir, "tmpfs", 0, "size=512m"));
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    lt_sub("big_file", big_file, 120000);
    lt_sub("shared_map", shared_map, 20000);
    CHECK_OK(close(dfd));
    CHECK_OK(umount(dir));
    CHECK_OK(rmdir(dir));
    DONE();
}
