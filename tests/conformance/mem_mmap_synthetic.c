/* mmap of files whose contents are made on each read rather than stored: procfs' per-process
 * files and sysctls, nsfs' namespace files and sysfs' attributes have no mmap (ENODEV);
 * procfs' entries made with proc_create (/proc/meminfo, /proc/version, /proc/net/...) answer
 * EIO (Linux's proc_reg_mmap); pipes, eventfds and /dev/null have none either (ENODEV).
 * A refused mmap leaves the file readable as before (Lintel once made a page-cache mapping
 * for a /proc file that then served its reads from an empty cache). Regular files of tmpfs
 * and memfd_create map. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

/* Both kinds of mapping of `fd` fail with `err`; the fd is closed. */
static void refused(const char *what, int fd, int err) {
    if (fd < 0) {
        printf("SKIP %s: not there (errno %d)\n", what, errno);
        return;
    }
    void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    int e1 = p == MAP_FAILED ? errno : 0;
    p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    int e2 = p == MAP_FAILED ? errno : 0;
    if (e1 != err || e2 != err) {
        printf("FAIL %s: private errno %d, shared errno %d, want %d\n", what, e1, e2, err);
        lt_failures++;
    }
    close(fd);
}

static void refused_path(const char *path, int err) {
    refused(path, open(path, O_RDONLY), err);
}

/* Reads the whole file; its length. */
static long read_all(const char *path) {
    static char buf[65536];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long len = 0, n;
    while ((n = read(fd, buf, sizeof buf)) > 0) len += n;
    close(fd);
    return len;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    refused_path("/proc/self/status", ENODEV);
    refused_path("/proc/self/maps", ENODEV);
    refused_path("/proc/self/cmdline", ENODEV);
    refused_path("/proc/self/stat", ENODEV);
    refused_path("/proc/sys/kernel/pid_max", ENODEV);
    refused_path("/proc/self/ns/uts", ENODEV);
    refused_path("/proc/meminfo", EIO);
    refused_path("/proc/version", EIO);
    refused_path("/proc/self/net/dev", EIO);
    refused_path("/sys/devices/system/cpu/online", ENODEV);
    refused_path("/dev/null", ENODEV);

    int p[2];
    CHECK(pipe(p) == 0);
    refused("pipe", p[0], ENODEV);
    close(p[1]);
    refused("eventfd", eventfd(0, 0), ENODEV);

    /* The refused files still read what they hold. */
    CHECK(read_all("/proc/self/status") > 0);
    CHECK(read_all("/proc/meminfo") > 0);
    CHECK(read_all("/proc/sys/kernel/pid_max") > 1);

    /* /proc/self/mem written and read back after its mmap was refused. */
    static char target[16] = "before";
    int mem = open("/proc/self/mem", O_RDWR);
    CHECK(mem >= 0);
    if (mem >= 0) {
        CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, mem, 0) == MAP_FAILED && errno == ENODEV);
        CHECK(pwrite(mem, "after!", 6, (long)target) == 6);
        char back[7] = {0};
        CHECK(pread(mem, back, 6, (long)target) == 6);
        CHECK(memcmp(back, "after!", 6) == 0 && memcmp(target, "after!", 6) == 0);
        close(mem);
    }

    /* Files that store their bytes map: tmpfs (memfd_create) and the file shows through. */
    int m = memfd_create("mmap_synthetic", 0);
    CHECK(m >= 0);
    CHECK(write(m, "stored", 6) == 6);
    char *q = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, m, 0);
    CHECK(q != MAP_FAILED);
    if (q != MAP_FAILED) {
        CHECK(memcmp(q, "stored", 6) == 0);
        munmap(q, PAGE);
    }
    close(m);

    DONE();
}
