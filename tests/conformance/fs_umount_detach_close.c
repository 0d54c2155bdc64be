/* A lazily unmounted file system goes at the last close of its files (as root, on a private
 * tmpfs, on the host too): a tmpfs detached with umount2(MNT_DETACH) while a file of it is
 * open keeps its memory (Shmem in /proc/meminfo) while the file is open, and gives it back
 * by the time close(2) of the last one returns, as Linux's fput runs the last mntput before
 * the return to user mode. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "mounts.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#define MB (1024L * 1024)

/* Shmem in /proc/meminfo, in bytes (-1 when missing). */
static long shmem(void) {
    static char buf[8192];
    read_all("/proc/meminfo", buf, sizeof buf);
    char *p = strstr(buf, "\nShmem:");
    return p ? atol(p + 7) * 1024 : -1;
}

int main(void) {
    (void)mounts_opts;
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch_tmpfs("/tmp/lt_detclose_XXXXXX", "size=1m");
    CHECK_OK(mkdir(at("m"), 0755));
    CHECK_OK(mount("none", at("m"), "tmpfs", 0, "size=32m"));
    int fd = open(at("m/f"), O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 16; i++) CHECK(write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk);
    /* A second open file of it: the first one's close is not the last. */
    int fd2 = open(at("m/f"), O_RDONLY);
    CHECK(fd2 >= 0);

    long before = shmem();
    CHECK(before >= 16 * MB);
    CHECK_OK(umount2(at("m"), MNT_DETACH));
    CHECK_OK(close(fd));
    long held = shmem();
    CHECK(held > before - 4 * MB);
    CHECK_OK(close(fd2));
    long after = shmem();
    CHECK(after < held - 12 * MB);
    if (!(held > before - 4 * MB && after < held - 12 * MB))
        printf("Shmem: %ld before, %ld detached, %ld after the last close\n", before, held,
               after);
    scratch_done();
    DONE();
}
