/* poll, ppoll, select and pselect on pipes and regular files: readiness, timeouts, POLLNVAL,
 * POLLHUP and POLLERR, and the errors for bad arguments. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long ms_since(struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(void) {
    int p[2];
    CHECK_OK(pipe(p));

    /* Empty pipe: read end not ready, write end ready. */
    struct pollfd f[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 77}};
    CHECK(poll(f, 3, 0) == 1);
    CHECK(f[0].revents == 0);
    CHECK(f[1].revents == POLLOUT);
    CHECK(f[2].revents == 0); /* negative fd: ignored, revents cleared */

    /* A timeout really waits. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(poll(f, 1, 50) == 0);
    CHECK(ms_since(&t0) >= 45);

    /* Data makes the read end ready. */
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(poll(f, 1, -1) == 1);
    CHECK(f[0].revents == POLLIN);

    /* A closed fd gives POLLNVAL. */
    int bad = dup(p[0]);
    close(bad);
    struct pollfd nv = {bad, POLLIN, 0};
    CHECK(poll(&nv, 1, 0) == 1);
    CHECK(nv.revents == POLLNVAL);

    /* Writer closed: POLLHUP (with POLLIN while data remains). */
    close(p[1]);
    CHECK(poll(f, 1, 0) == 1);
    CHECK(f[0].revents == (POLLIN | POLLHUP));
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    CHECK(poll(f, 1, 0) == 1);
    CHECK(f[0].revents == POLLHUP);
    close(p[0]);

    /* Reader closed: the write end reports POLLERR. */
    CHECK_OK(pipe(p));
    close(p[0]);
    struct pollfd w = {p[1], POLLOUT, 0};
    CHECK(poll(&w, 1, 0) == 1);
    CHECK(w.revents & POLLERR);
    close(p[1]);

    /* Regular files are always ready. */
    int fd = open("pollfile", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    struct pollfd rf = {fd, POLLIN | POLLOUT, 0};
    CHECK(poll(&rf, 1, 0) == 1);
    CHECK(rf.revents == (POLLIN | POLLOUT));

    /* A child writes after a delay; the parent's poll wakes up. */
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec d = {0, 30 * 1000000};
        nanosleep(&d, NULL);
        write(p[1], "y", 1);
        _exit(0);
    }
    struct pollfd pr = {p[0], POLLIN, 0};
    CHECK(poll(&pr, 1, 5000) == 1);
    CHECK(pr.revents == POLLIN);
    waitpid(pid, NULL, 0);

    /* select: the same readiness through fd sets, and timeout written back. */
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(p[0], &rs);
    FD_SET(p[1], &ws);
    struct timeval tv = {1, 0};
    CHECK(select(p[1] + 1, &rs, &ws, NULL, &tv) == 2);
    CHECK(FD_ISSET(p[0], &rs) && FD_ISSET(p[1], &ws));
    CHECK(read(p[0], &c, 1) == 1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    tv.tv_sec = 0;
    tv.tv_usec = 20000;
#ifdef SYS_select /* x86_64 only: asm-generic (riscv64, aarch64) has pselect6 alone */
    /* The raw syscall writes the time left back (libcs differ in what they show). */
    CHECK(syscall(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv) == 0);
    CHECK(!FD_ISSET(p[0], &rs));
    CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);
#endif

    /* select on a closed fd: EBADF; negative timeout: EINVAL; a microsecond count over a
     * second is normalized, not refused; negative nfds: EINVAL. */
    /* Linux ignores fds beyond the size of the fd table, so grow it to cover fd 100
     * first (dup2 then close) so the result does not depend on how the test started. */
    CHECK(dup2(p[0], 100) == 100);
    CHECK(close(100) == 0);
    FD_ZERO(&rs);
    FD_SET(100, &rs);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    CHECK_ERR(select(101, &rs, NULL, NULL, &tv), EBADF);
    tv.tv_usec = -1;
    FD_ZERO(&rs);
    CHECK_ERR(select(1, &rs, NULL, NULL, &tv), EINVAL);
    tv.tv_usec = 1000001;
    tv.tv_sec = -1;
    CHECK_ERR(select(1, &rs, NULL, NULL, &tv), EINVAL);
    tv.tv_sec = 0;
    tv.tv_usec = 1000;
#ifdef SYS_select
    CHECK(syscall(SYS_select, 1, &rs, NULL, NULL, &tv) == 0);
    CHECK_ERR(syscall(SYS_select, -1, NULL, NULL, NULL, NULL), EINVAL);
#endif

    /* pselect and ppoll with a signal mask and a timespec. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    struct timespec ts = {0, 10 * 1000000};
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    CHECK(pselect(p[0] + 1, &rs, NULL, NULL, &ts, &mask) == 0);
    struct pollfd pp = {p[1], POLLOUT, 0};
    CHECK(ppoll(&pp, 1, &ts, &mask) == 1);
    CHECK(pp.revents == POLLOUT);
    ts.tv_nsec = 1000000000;
    CHECK_ERR(ppoll(&pp, 1, &ts, NULL), EINVAL);

    /* Bad pointers. */
    CHECK_ERR(poll((struct pollfd *)8, 1, 0), EFAULT);
    DONE();
}
