/* epoll: creation flags, epoll_ctl errors, level-triggered, edge-triggered and one-shot
 * readiness, EPOLLHUP/EPOLLOUT/EPOLLRDHUP, data round trip, epoll_wait arguments and
 * timeouts, epoll_pwait's signal mask, nested epoll sets, closed fds leaving the set, and a
 * large set built, searched and thinned in a scrambled order. */
#define _GNU_SOURCE
#include "epoll_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_watchdog(int s) {
    (void)s;
    static const char m[] = "io_epoll: watchdog: a call blocked for 20 s\n";
    if (write(1, m, sizeof m - 1) < 0) {
    }
    _exit(2);
}

static long ms_since(struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int s) {
    (void)s;
    got_usr1++;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_watchdog);
    alarm(20);
    struct epoll_event ev, evs[8];

    /* Creation: flags, EPOLL_CLOEXEC, bad flags and sizes. */
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    CHECK(fcntl(ep, F_GETFD) == 0);
    int epc = epoll_create1(EPOLL_CLOEXEC);
    CHECK(epc >= 0);
    CHECK(fcntl(epc, F_GETFD) == FD_CLOEXEC);
    close(epc);
    CHECK_ERR(epoll_create1(0x4), EINVAL);
#ifdef SYS_epoll_create
    /* The raw syscall: some libcs do not pass the size on. */
    CHECK_ERR(syscall(SYS_epoll_create, 0), EINVAL);
    CHECK_ERR(syscall(SYS_epoll_create, -1), EINVAL);
#endif
    int ep1 = epoll_create(1);
    CHECK(ep1 >= 0);
    close(ep1);

    int p[2];
    CHECK_OK(pipe(p));

    /* epoll_ctl errors. */
    CHECK_OK(add(ep, p[0], EPOLLIN, 1));
    CHECK_ERR(add(ep, p[0], EPOLLIN, 1), EEXIST);
    CHECK_ERR(mod(ep, p[1], EPOLLOUT, 2), ENOENT);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), ENOENT);
    CHECK_ERR(add(ep, 999, EPOLLIN, 0), EBADF);
    CHECK_ERR(add(999, p[0], EPOLLIN, 0), EBADF);
    CHECK_ERR(add(ep, ep, EPOLLIN, 0), EINVAL);
    CHECK_ERR(add(p[1], p[0], EPOLLIN, 0), EINVAL); /* epfd is not an epoll fd */
    memset(&ev, 0, sizeof ev);
    CHECK_ERR(epoll_ctl(ep, 77, p[0], &ev), EINVAL);
    int rf = open("epollfile", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(rf >= 0);
    CHECK_ERR(add(ep, rf, EPOLLIN, 0), EPERM);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);

    /* epoll_wait arguments. */
    volatile int zero = 0, minus1 = -1;
    CHECK_ERR(epoll_wait(ep, evs, zero, 0), EINVAL);
    CHECK_ERR(epoll_wait(ep, evs, minus1, 0), EINVAL);
    CHECK_ERR(epoll_wait(p[0], evs, 1, 0), EINVAL);
    CHECK_ERR(epoll_wait(999, evs, 1, 0), EBADF);

    /* Empty set, timeout 0: returns at once; a short timeout really waits. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(ms_since(&t0) < 200);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(epoll_wait(ep, evs, 8, 50) == 0);
    CHECK(ms_since(&t0) >= 45);

    /* Level-triggered: reported on every wait while data remains; data.u64 round trips. */
    const uint64_t tag = 0x123456789abcdef0ULL;
    CHECK_OK(add(ep, p[0], EPOLLIN, tag));
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(write(p[1], "ab", 2) == 2);
    for (int i = 0; i < 3; i++) {
        memset(evs, 0, sizeof evs);
        CHECK(epoll_wait(ep, evs, 8, 0) == 1);
        CHECK(evs[0].events == EPOLLIN);
        CHECK(evs[0].data.u64 == tag);
    }
    char buf[64];
    CHECK(read(p[0], buf, sizeof buf) == 2);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);

    /* EPOLLOUT on the writable end, alongside the read end. */
    CHECK_OK(add(ep, p[1], EPOLLOUT, 2));
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].events == EPOLLOUT && evs[0].data.u64 == 2);
    CHECK(write(p[1], "c", 1) == 1);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 0) == 2);
    /* maxevents 1 returns just one of the two. */
    CHECK(epoll_wait(ep, evs, 1, 0) == 1);
    CHECK(read(p[0], buf, sizeof buf) == 1);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));

    /* MOD changes the data and the events. */
    CHECK_OK(mod(ep, p[0], EPOLLIN, 42));
    CHECK(write(p[1], "d", 1) == 1);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].data.u64 == 42);
    CHECK(read(p[0], buf, sizeof buf) == 1);

    /* Edge-triggered: reported once per new arrival. */
    CHECK_OK(mod(ep, p[0], EPOLLIN | EPOLLET, 5));
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(write(p[1], "e", 1) == 1);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].events == EPOLLIN && evs[0].data.u64 == 5);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(write(p[1], "f", 1) == 1);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 2);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);

    /* One-shot: disabled after one event until re-armed with MOD. */
    CHECK_OK(mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 6));
    CHECK(write(p[1], "g", 1) == 1);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].data.u64 == 6);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(write(p[1], "h", 1) == 1);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK_ERR(add(ep, p[0], EPOLLIN, 0), EEXIST); /* still registered */
    CHECK_OK(mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 7));
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].data.u64 == 7);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK(read(p[0], buf, sizeof buf) == 2);
    CHECK_OK(mod(ep, p[0], EPOLLIN, 8));

    /* A blocking wait wakes when a child writes. */
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec d = {0, 30 * 1000000};
        nanosleep(&d, NULL);
        write(p[1], "y", 1);
        _exit(0);
    }
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 5000) == 1);
    CHECK(evs[0].events == EPOLLIN && evs[0].data.u64 == 8);
    waitpid(pid, NULL, 0);

    /* The write end closes: EPOLLIN|EPOLLHUP while data remains, then EPOLLHUP alone
     * (reported even though it was not asked for). */
    close(p[1]);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].events == (EPOLLIN | EPOLLHUP));
    CHECK(read(p[0], buf, sizeof buf) == 1);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].events == EPOLLHUP);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    close(p[0]);

    /* The read end closes: the write end reports EPOLLERR. */
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[1], EPOLLOUT, 9));
    close(p[0]);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].events & EPOLLERR);
    close(p[1]); /* the only fd: leaves the set */
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);

    /* EPOLLRDHUP on a socket whose peer shut down writing. */
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(add(ep, sv[0], EPOLLIN | EPOLLRDHUP, 10));
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    CHECK_OK(shutdown(sv[1], SHUT_WR));
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].events == (EPOLLIN | EPOLLRDHUP));
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL));
    close(sv[0]);
    close(sv[1]);

    /* epoll_pwait: a pending blocked signal is delivered during the wait when the given
     * mask unblocks it, and the old mask is back afterwards. */
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 11));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, empty, cur;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    CHECK(got_usr1 == 0);
    /* A mask that keeps it blocked: plain timeout. */
    CHECK(epoll_pwait(ep, evs, 8, 10, &block) == 0);
    CHECK(got_usr1 == 0);
    CHECK(epoll_pwait(ep, evs, 8, 1000, &empty) == -1 && errno == EINTR);
    CHECK(got_usr1 == 1);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    CHECK(sigismember(&cur, SIGUSR1));
    /* A NULL mask is plain epoll_wait. */
    CHECK(write(p[1], "z", 1) == 1);
    CHECK(epoll_pwait(ep, evs, 8, 0, NULL) == 1);
    CHECK(evs[0].data.u64 == 11);
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    /* Nested: an epoll fd inside another reports EPOLLIN when its own set is ready, and
     * poll() on an epoll fd works too. */
    int inner = epoll_create1(0);
    int outer = epoll_create1(0);
    CHECK(inner >= 0 && outer >= 0);
    int q[2];
    CHECK_OK(pipe(q));
    CHECK_OK(add(inner, q[0], EPOLLIN, 20));
    CHECK_OK(add(outer, inner, EPOLLIN, 21));
    CHECK(epoll_wait(outer, evs, 8, 0) == 0);
    struct pollfd pf = {inner, POLLIN, 0};
    CHECK(poll(&pf, 1, 0) == 0);
    CHECK(write(q[1], "n", 1) == 1);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(outer, evs, 8, 0) == 1);
    CHECK(evs[0].events == EPOLLIN && evs[0].data.u64 == 21);
    CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(inner, evs, 8, 0) == 1);
    CHECK(evs[0].data.u64 == 20);
    CHECK(read(q[0], buf, sizeof buf) == 1);
    CHECK(epoll_wait(outer, evs, 8, 0) == 0);
    /* A blocking wait on the outer set wakes for a write into the inner set's pipe. */
    pid = fork();
    if (pid == 0) {
        struct timespec d = {0, 30 * 1000000};
        nanosleep(&d, NULL);
        write(q[1], "m", 1);
        _exit(0);
    }
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(outer, evs, 8, 5000) == 1);
    CHECK(evs[0].data.u64 == 21);
    waitpid(pid, NULL, 0);
    /* Loops are refused. */
    CHECK_ERR(add(inner, outer, EPOLLIN, 0), ELOOP);
    close(outer);
    close(inner);

    /* Closing the only fd of a file removes it; while a dup remains, it stays. */
    CHECK(write(p[1], "w", 1) == 1);
    int d = dup(p[0]);
    CHECK(d >= 0);
    close(p[0]);
    CHECK(epoll_wait(ep, evs, 8, 0) == 1);
    CHECK(evs[0].data.u64 == 11);
    close(d);
    CHECK(epoll_wait(ep, evs, 8, 0) == 0);
    /* The fd number is free again and can be added anew. */
    int p2[2];
    CHECK_OK(pipe(p2));
    CHECK_OK(add(ep, p2[0], EPOLLIN, 30));
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p2[0], NULL));

    close(p[1]);
    close(ep);

    /* A large set: 300 eventfds added in a scrambled order (the list grows and splits in
     * the middle), every one a duplicate the second time, a third deleted, the rest ready:
     * each reported once with its data. */
    enum { BIG = 300 };
    static int big[BIG], seen[BIG];
    ep = epoll_create1(0);
    CHECK(ep >= 0);
    for (int i = 0; i < BIG; i++) {
        big[i] = eventfd(1, 0);
        CHECK(big[i] >= 0);
    }
    for (int i = 0; i < BIG; i++) {
        int j = (i * 7919) % BIG;
        CHECK_OK(add(ep, big[j], EPOLLIN, j));
    }
    for (int i = 0; i < BIG; i++) CHECK_ERR(add(ep, big[i], EPOLLIN, i), EEXIST);
    for (int i = 0; i < BIG; i += 3) CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, big[i], NULL));
    for (int i = 0; i < BIG; i += 3) CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, big[i], NULL), ENOENT);
    static struct epoll_event many[BIG];
    int got = epoll_wait(ep, many, BIG, 0);
    CHECK(got == BIG - (BIG + 2) / 3);
    for (int i = 0; i < got; i++)
        if (many[i].data.u64 < BIG) seen[many[i].data.u64]++;
    int right = 1;
    for (int i = 0; i < BIG; i++) right &= seen[i] == (i % 3 ? 1 : 0);
    CHECK(right);
    for (int i = 0; i < BIG; i++) close(big[i]);
    close(ep);
    DONE();
}
