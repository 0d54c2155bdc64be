/* Huge pages with an empty pool (vm.nr_hugepages 0, as on the host and always in Lintel):
 * mmap(MAP_HUGETLB) and shmget(SHM_HUGETLB) are ENOMEM, with EINVAL for a page size Linux has
 * no pool for (12, the base page), a MAP_FIXED address off the huge page size, a length of 0,
 * a file not on hugetlbfs (after EBADF) and a segment smaller than SHMMIN; the size bits mean
 * nothing without MAP_HUGETLB, and an existing segment's key ignores SHM_HUGETLB. The
 * NORESERVE forms, which reserve nothing, are left alone (Linux maps them and raises SIGBUS
 * when touched). /proc/meminfo's HugePages_Total and /proc/sys/vm/nr_hugepages (if present)
 * read 0. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define HUGE (2UL << 20)
#define SIZE_BITS(log2) ((log2) << 26)

static void *map(size_t len, int flags, int fd) {
    return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
}

static void mmap_calls(void) {
    int anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
    CHECK(map(HUGE, anon, -1) == MAP_FAILED && errno == ENOMEM);
    CHECK(map(4096, anon, -1) == MAP_FAILED && errno == ENOMEM);
    CHECK(map(HUGE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1) == MAP_FAILED &&
          errno == ENOMEM);
    CHECK(map(HUGE, anon | SIZE_BITS(21), -1) == MAP_FAILED && errno == ENOMEM);
    /* The fd of an anonymous mapping is not looked at. */
    CHECK(map(HUGE, anon, 99) == MAP_FAILED && errno == ENOMEM);
    CHECK(mmap(NULL, HUGE, PROT_NONE, anon, -1, 0) == MAP_FAILED && errno == ENOMEM);
    CHECK(map(HUGE, anon | SIZE_BITS(12), -1) == MAP_FAILED && errno == EINVAL);
    CHECK(map(0, anon, -1) == MAP_FAILED && errno == EINVAL);

    /* A free, huge-page-aligned place for the MAP_FIXED calls. */
    char *area = map(4 * HUGE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    CHECK(area != MAP_FAILED);
    char *aligned = (char *)(((unsigned long)area + HUGE - 1) & ~(HUGE - 1));
    CHECK(munmap(area, 4 * HUGE) == 0);
    CHECK(mmap(aligned + 4096, HUGE, PROT_READ, anon | MAP_FIXED, -1, 0) == MAP_FAILED &&
          errno == EINVAL);
    CHECK(mmap(aligned, HUGE, PROT_READ, anon | MAP_FIXED, -1, 0) == MAP_FAILED &&
          errno == ENOMEM);
    /* A hint off the huge page size is only a hint. */
    CHECK(mmap(aligned + 4096, HUGE, PROT_READ, anon, -1, 0) == MAP_FAILED && errno == ENOMEM);

    /* Without MAP_HUGETLB the size bits are ignored. */
    void *p = map(HUGE, MAP_PRIVATE | MAP_ANONYMOUS | SIZE_BITS(21), -1);
    CHECK(p != MAP_FAILED);
    CHECK(p == MAP_FAILED || munmap(p, HUGE) == 0);
    p = map(HUGE, MAP_PRIVATE | MAP_ANONYMOUS | SIZE_BITS(12), -1);
    CHECK(p != MAP_FAILED);
    CHECK(p == MAP_FAILED || munmap(p, HUGE) == 0);

    /* Files: EBADF for a bad fd, then EINVAL for any file not on hugetlbfs. */
    CHECK(map(HUGE, MAP_PRIVATE | MAP_HUGETLB, 99) == MAP_FAILED && errno == EBADF);
    int fd = memfd_create("hugetlb", 0);
    CHECK(fd >= 0);
    CHECK_OK(ftruncate(fd, HUGE));
    CHECK(map(HUGE, MAP_PRIVATE | MAP_HUGETLB, fd) == MAP_FAILED && errno == EINVAL);
    CHECK(map(HUGE, MAP_SHARED | MAP_HUGETLB, fd) == MAP_FAILED && errno == EINVAL);
    CHECK(map(HUGE, MAP_SHARED_VALIDATE | MAP_HUGETLB, fd) == MAP_FAILED && errno == EINVAL);
    close(fd);
}

static void shm_calls(void) {
    CHECK_ERR(shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SHM_HUGETLB | 0600), ENOMEM);
    CHECK_ERR(shmget(IPC_PRIVATE, 4096, IPC_CREAT | SHM_HUGETLB | 0600), ENOMEM);
    CHECK_ERR(shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SHM_HUGETLB | SIZE_BITS(21) | 0600), ENOMEM);
    CHECK_ERR(shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SHM_HUGETLB | SIZE_BITS(12) | 0600), EINVAL);
    CHECK_ERR(shmget(IPC_PRIVATE, 0, IPC_CREAT | SHM_HUGETLB | 0600), EINVAL);
    /* Without SHM_HUGETLB the size bits are ignored. */
    int id = shmget(IPC_PRIVATE, HUGE, IPC_CREAT | SIZE_BITS(21) | 0600);
    CHECK(id >= 0);
    if (id >= 0)
        CHECK_OK(shmctl(id, IPC_RMID, NULL));
    /* An existing segment is found whatever the flags say of huge pages. */
    key_t key = 0x4b1d18 ^ getpid();
    int made = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(made >= 0);
    if (made >= 0) {
        CHECK(shmget(key, 4096, SHM_HUGETLB | 0600) == made);
        CHECK_OK(shmctl(made, IPC_RMID, NULL));
    }
    CHECK_ERR(shmget(key, HUGE, SHM_HUGETLB | 0600), ENOENT);
}

static void pool_is_empty(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    CHECK(f != NULL);
    char line[256];
    int seen = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long n;
        if (sscanf(line, "HugePages_Total: %lu", &n) == 1) {
            CHECK(n == 0);
            seen = 1;
        }
    }
    if (f)
        fclose(f);
    CHECK(seen);
    f = fopen("/proc/sys/vm/nr_hugepages", "r");
    if (f) {
        unsigned long n = 99;
        CHECK(fscanf(f, "%lu", &n) == 1 && n == 0);
        fclose(f);
    }
}

int main(void) {
    pool_is_empty();
    mmap_calls();
    shm_calls();
    DONE();
}
