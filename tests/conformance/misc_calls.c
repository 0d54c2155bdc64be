/* Calls without a test of their own elsewhere: symlinkat, fchmodat, execveat, fsync and
 * friends, mount/umount2 of tmpfs, chroot, setfsuid/setfsgid, utime/utimes/futimesat, tee,
 * fadvise64/readahead, msync, the mlock family, preadv2/pwritev2, epoll_pwait2,
 * sched_setattr/getattr. Raw syscalls where libcs differ. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <utime.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "abcdef", 6) == 6);

    /* symlinkat and fchmodat relative to a directory fd. */
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    CHECK_OK(syscall(SYS_symlinkat, "f", dfd, "l"));
    char t[16] = {0};
    CHECK(readlink("l", t, sizeof t) == 1 && t[0] == 'f');
    CHECK_OK(syscall(SYS_fchmodat, dfd, "f", 0600));
    struct stat st;
    CHECK_OK(stat("f", &st));
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_ERR(syscall(SYS_fchmodat, dfd, "missing", 0600), ENOENT);

    /* fsync, fdatasync, sync, syncfs-free flush calls; fadvise and readahead. */
    CHECK_OK(fsync(fd));
    CHECK_OK(fdatasync(fd));
    sync();
    CHECK_ERR(fsync(-1), EBADF);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
    CHECK(posix_fadvise(fd, 0, 0, 99) == EINVAL);
    CHECK_OK(syscall(SYS_readahead, fd, 0L, 4096L));

    /* preadv2/pwritev2 at an offset and at the file position (-1). */
    char a[3] = {0};
    struct iovec iv = {a, 2};
    CHECK(syscall(SYS_preadv2, fd, &iv, 1, 2L, 0L, 0) == 2);
    CHECK(memcmp(a, "cd", 2) == 0);
    struct iovec wv = {(void *)"XY", 2};
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(syscall(SYS_pwritev2, fd, &wv, 1, -1L, 0L, 0) == 2);
    CHECK(lseek(fd, 0, SEEK_CUR) == 2);
    CHECK_ERR(syscall(SYS_preadv2, fd, &iv, 1, 0L, 0L, 0x1000), EOPNOTSUPP);

    /* utime, utimes, futimesat. */
    struct utimbuf ub = {1000, 2000};
    CHECK_OK(utime("f", &ub));
    CHECK_OK(stat("f", &st));
    CHECK(st.st_atime == 1000 && st.st_mtime == 2000);
    struct timeval tv[2] = {{3000, 0}, {4000, 0}};
    CHECK_OK(utimes("f", tv));
    CHECK_OK(stat("f", &st));
    CHECK(st.st_mtime == 4000);
#ifdef SYS_futimesat /* not in asm-generic (riscv64, aarch64) */
    tv[1].tv_sec = 5000;
    CHECK_OK(syscall(SYS_futimesat, dfd, "f", tv));
    CHECK_OK(stat("f", &st));
    CHECK(st.st_mtime == 5000);
#endif

    /* tee copies without consuming. */
    int p[2], q[2];
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    CHECK(write(p[1], "tee!", 4) == 4);
    CHECK(tee(p[0], q[1], 16, 0) == 4);
    char b[8] = {0};
    CHECK(read(q[0], b, 8) == 4 && memcmp(b, "tee!", 4) == 0);
    CHECK(read(p[0], b, 8) == 4);
    CHECK_ERR(tee(p[0], q[1], 16, SPLICE_F_NONBLOCK), EAGAIN);
    CHECK_ERR(tee(fd, q[1], 16, 0), EINVAL);

    /* msync and the mlock family on anonymous memory. */
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK_OK(msync(m, 8192, MS_SYNC));
    CHECK_ERR(msync(m + 1, 4096, MS_SYNC), EINVAL);
    CHECK_ERR(msync(m, 4096, MS_SYNC | MS_ASYNC), EINVAL);
    CHECK_OK(mlock(m, 8192));
    CHECK_OK(munlock(m, 8192));
    CHECK_OK(syscall(SYS_mlock2, m, 4096L, 0));
    CHECK_ERR(mlockall(0), EINVAL);
    CHECK_OK(munlockall());
    munmap(m, 8192);
    CHECK_ERR(mlock(m, 4096), ENOMEM);

    /* epoll_pwait2 with a timespec timeout. */
    int ep = epoll_create1(0);
    struct timespec ts = {0, 10 * 1000000};
    struct epoll_event ev;
    CHECK(syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8) == 0);

    /* sched_setattr / sched_getattr round trip (SCHED_OTHER, nice 3). */
    struct {
        unsigned size, policy;
        unsigned long long flags;
        int nice;
        unsigned prio;
        unsigned long long rt, dl, per;
    } at = {48, 0, 0, 3, 0, 0, 0, 0}, got;
    memset(&got, 0, sizeof got);
    CHECK_OK(syscall(SYS_sched_setattr, 0, &at, 0));
    CHECK_OK(syscall(SYS_sched_getattr, 0, &got, sizeof got, 0));
    CHECK(got.size == 48 && got.policy == 0 && got.nice == 3);
    CHECK_ERR(syscall(SYS_sched_getattr, 0, &got, 8, 0), EINVAL);

    /* setfsuid/setfsgid return the previous value. */
    CHECK(syscall(SYS_setfsuid, -1) == (long)getuid());
    CHECK(syscall(SYS_setfsgid, -1) == (long)getgid());

    /* mount/umount2 of a tmpfs, then chroot into it (in a child), then execveat. */
    CHECK_OK(mkdir("mnt", 0755));
    CHECK_OK(mount("none", "mnt", "tmpfs", 0, NULL));
    int g = open("mnt/g", O_CREAT | O_WRONLY, 0644);
    CHECK(g >= 0);
    close(g);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = chroot("mnt") == 0 && chdir("/") == 0 && access("/g", F_OK) == 0 && access("/f", F_OK) != 0;
        _exit(ok ? 0 : 1);
    }
    int s = -1;
    CHECK(waitpid(pid, &s, 0) == pid && WIFEXITED(s) && WEXITSTATUS(s) == 0);
    CHECK_ERR(umount2("f", 0), EINVAL);
    CHECK_OK(umount2("mnt", 0));
    CHECK_ERR(access("mnt/g", F_OK), ENOENT);
    pid = fork();
    if (pid == 0) {
        int bb = open("/bin/busybox", O_RDONLY);
        char *argv[] = {"true", NULL};
        syscall(SYS_execveat, bb, "", argv, NULL, AT_EMPTY_PATH);
        _exit(9);
    }
    CHECK(waitpid(pid, &s, 0) == pid && WIFEXITED(s) && WEXITSTATUS(s) == 0);
    DONE();
}
