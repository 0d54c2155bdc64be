/* Write-life hints: fcntl F_SET_RW_HINT/F_GET_RW_HINT keep a hint on the inode (every open
 * of the file sees it, also pipes' ends), refuse values past RWH_WRITE_LIFE_EXTREME, fault
 * on a bad pointer; the per-file forms are gone (EINVAL); only the owner or CAP_FOWNER sets
 * a hint (Linux since 6.9). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef F_GET_RW_HINT
#define F_GET_RW_HINT 1035
#define F_SET_RW_HINT 1036
#endif
#define F_GET_FILE_RW_HINT_ 1037
#define F_SET_FILE_RW_HINT_ 1038

static uint64_t get_hint(int fd) {
    uint64_t h = 99;
    CHECK_OK(fcntl(fd, F_GET_RW_HINT, &h));
    return h;
}

static int set_hint(int fd, uint64_t h) {
    return fcntl(fd, F_SET_RW_HINT, &h);
}

int main(void) {
    int fd = open("rw_hint_file", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    /* A new file has none (RWH_WRITE_LIFE_NOT_SET). */
    CHECK(get_hint(fd) == 0);
    for (uint64_t h = 1; h <= 5; h++) {
        CHECK_OK(set_hint(fd, h));
        CHECK(get_hint(fd) == h);
    }
    CHECK_ERR(set_hint(fd, 6), EINVAL);
    CHECK_ERR(set_hint(fd, UINT64_MAX), EINVAL);
    CHECK(get_hint(fd) == 5);
    CHECK_ERR(fcntl(fd, F_SET_RW_HINT, (void *)1), EFAULT);
    CHECK_ERR(fcntl(fd, F_GET_RW_HINT, (void *)1), EFAULT);
    CHECK_ERR(fcntl(fd, F_GET_RW_HINT, NULL), EFAULT);

    /* The hint is the inode's: another open, read-only, sees it. */
    CHECK_OK(set_hint(fd, 3));
    int ro = open("rw_hint_file", O_RDONLY);
    CHECK(ro >= 0);
    CHECK(get_hint(ro) == 3);
    CHECK_OK(set_hint(ro, 2));
    CHECK(get_hint(fd) == 2);
    /* Another file's is its own. */
    int other = open("rw_hint_other", O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(other >= 0);
    CHECK(get_hint(other) == 0);
    /* Back to none. */
    CHECK_OK(set_hint(fd, 0));
    CHECK(get_hint(ro) == 0);

    /* The per-file forms were removed in Linux 5.18. */
    uint64_t h = 1;
    CHECK_ERR(fcntl(fd, F_GET_FILE_RW_HINT_, &h), EINVAL);
    CHECK_ERR(fcntl(fd, F_SET_FILE_RW_HINT_, &h), EINVAL);

    /* A pipe's two ends share one inode. */
    int p[2];
    CHECK_OK(pipe(p));
    CHECK(get_hint(p[0]) == 0);
    CHECK_OK(set_hint(p[1], 4));
    CHECK(get_hint(p[0]) == 4);
    close(p[0]);
    close(p[1]);

    /* Only the owner or CAP_FOWNER: a user who owns neither gets EPERM, and may still read. */
    if (geteuid() == 0) {
        CHECK_OK(set_hint(fd, 1));
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) || setuid(65534)) _exit(10);
            uint64_t v = 99;
            if (fcntl(ro, F_GET_RW_HINT, &v) || v != 1) _exit(11);
            v = 2;
            errno = 0;
            if (fcntl(ro, F_SET_RW_HINT, &v) != -1 || errno != EPERM) _exit(12);
            /* EPERM comes before the pointer is read. */
            errno = 0;
            if (fcntl(ro, F_SET_RW_HINT, (void *)1) != -1 || errno != EPERM) _exit(13);
            _exit(0);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_EXIT(st, 0);
        CHECK(get_hint(fd) == 1);
    }

    CHECK_ERR(fcntl(-1, F_GET_RW_HINT, &h), EBADF);
    close(ro);
    close(other);
    close(fd);
    unlink("rw_hint_file");
    unlink("rw_hint_other");
    DONE();
}
