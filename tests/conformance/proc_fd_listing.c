/* Listing /proc/self/fd with thousands of descriptors open: every one is listed once, in
 * linear time (procfs built its whole listing again for each entry, which kept the kernel
 * busy for seconds; trinity as root found it through the watchdog). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#define FDS 4000

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    if (rl.rlim_max < FDS + 100) {
        printf("RLIMIT_NOFILE hard limit %lu too low\n", (unsigned long)rl.rlim_max);
        return 1;
    }
    rl.rlim_cur = FDS + 100;
    CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    int first = -1;
    for (int i = 0; i < FDS; i++) {
        int fd = dup(0);
        if (fd < 0) {
            CHECK(fd >= 0);
            break;
        }
        if (first < 0) first = fd;
    }
    long t0 = lt_now_ms();
    int listed = 0, dots = 0;
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            dots++;
            continue;
        }
        listed++;
    }
    int dfd = d ? dirfd(d) : -1;
    long ms = lt_now_ms() - t0;
    if (d) closedir(d);
    (void)dfd;
    CHECK(dots == 2);
    /* 0-2, the FDS duplicates, the directory's own descriptor, and any the runner left. */
    CHECK(listed >= FDS + 4 && listed <= FDS + 20);
    if (ms > 10000) printf("listing took %ld ms\n", ms);
    CHECK(ms <= 10000);
    DONE();
}
