/* eventfd counter semantics (sum and reset, semaphore mode, overflow, short buffers, poll
 * readiness) and timerfd (flags, one-shot, periodic overrun counts, absolute times,
 * timerfd_gettime, disarming, non-blocking reads, poll and epoll wakeups, bad arguments). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_watchdog(int s) {
    (void)s;
    static const char m[] = "io_eventfd_timerfd: watchdog: a call blocked for 20 s\n";
    if (write(1, m, sizeof m - 1) < 0) {
    }
    _exit(2);
}

static long ms_since(struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&d, &d) == -1 && errno == EINTR) {
    }
}

static int set_rel(int fd, long value_ms, long interval_ms) {
    struct itimerspec its = {{interval_ms / 1000, (interval_ms % 1000) * 1000000},
                             {value_ms / 1000, (value_ms % 1000) * 1000000}};
    return timerfd_settime(fd, 0, &its, NULL);
}

static int revents(int fd, short events) {
    struct pollfd p = {fd, events, 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

static long long ts_ns(const struct timespec *t) {
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void test_eventfd(void) {
    uint64_t v;

    /* Flags. */
    int e = eventfd(0, 0);
    CHECK(e >= 0);
    CHECK(fcntl(e, F_GETFD) == 0);
    CHECK((fcntl(e, F_GETFL) & O_NONBLOCK) == 0);
    close(e);
    e = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    CHECK(e >= 0);
    CHECK(fcntl(e, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(e, F_GETFL) & O_NONBLOCK);
    CHECK_ERR(eventfd(0, 0x1234), EINVAL);

    /* Counter 0: writable, not readable; a read would block. */
    CHECK(revents(e, POLLIN | POLLOUT) == POLLOUT);
    CHECK_ERR(read(e, &v, 8), EAGAIN);

    /* Writes add up; a read returns the sum and resets. */
    v = 3;
    CHECK(write(e, &v, 8) == 8);
    v = 4;
    CHECK(write(e, &v, 8) == 8);
    CHECK(revents(e, POLLIN | POLLOUT) == (POLLIN | POLLOUT));
    v = 0;
    CHECK(read(e, &v, 8) == 8);
    CHECK(v == 7);
    CHECK_ERR(read(e, &v, 8), EAGAIN);
    CHECK(revents(e, POLLIN) == 0);

    /* Writing 0 is allowed and changes nothing. */
    v = 0;
    CHECK(write(e, &v, 8) == 8);
    CHECK_ERR(read(e, &v, 8), EAGAIN);

    /* Bad sizes and the forbidden value. */
    char small[4] = {1, 0, 0, 0};
    CHECK_ERR(read(e, small, 4), EINVAL);
    CHECK_ERR(write(e, small, 4), EINVAL);
    v = 0xffffffffffffffffULL;
    CHECK_ERR(write(e, &v, 8), EINVAL);
    /* A larger read buffer is fine; 8 bytes move. */
    uint64_t big[2] = {5, 99};
    CHECK(write(e, big, 8) == 8);
    big[0] = big[1] = 0;
    CHECK(read(e, big, 16) == 8);
    CHECK(big[0] == 5 && big[1] == 0);

    /* The maximum is 0xfffffffffffffffe: it can be reached; then the fd is not writable
     * and any further add would block. */
    v = 0xfffffffffffffffeULL;
    CHECK(write(e, &v, 8) == 8);
    CHECK(revents(e, POLLIN | POLLOUT) == POLLIN);
    v = 1;
    CHECK_ERR(write(e, &v, 8), EAGAIN);
    CHECK(read(e, &v, 8) == 8);
    CHECK(v == 0xfffffffffffffffeULL);
    close(e);

    /* Initial value. */
    e = eventfd(5, EFD_NONBLOCK);
    CHECK(read(e, &v, 8) == 8);
    CHECK(v == 5);
    CHECK_ERR(read(e, &v, 8), EAGAIN);
    close(e);

    /* Semaphore mode: each read returns 1 and decrements. */
    e = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK(e >= 0);
    for (int i = 0; i < 3; i++) {
        v = 0;
        CHECK(read(e, &v, 8) == 8);
        CHECK(v == 1);
    }
    CHECK_ERR(read(e, &v, 8), EAGAIN);
    v = 2;
    CHECK(write(e, &v, 8) == 8);
    CHECK(read(e, &v, 8) == 8 && v == 1);
    CHECK(revents(e, POLLIN) == POLLIN);
    CHECK(read(e, &v, 8) == 8 && v == 1);
    CHECK(revents(e, POLLIN) == 0);
    close(e);

    /* A blocking read wakes up when another process adds. */
    e = eventfd(0, 0);
    /* The clock starts before the fork: a parent that runs late after it (a loaded host)
     * must not see less than the child's sleep. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(30);
        uint64_t one = 9;
        write(e, &one, 8);
        _exit(0);
    }
    v = 0;
    CHECK(read(e, &v, 8) == 8);
    CHECK(v == 9);
    CHECK(ms_since(&t0) >= 20);
    waitpid(pid, NULL, 0);
    close(e);
}

static void test_timerfd(void) {
    uint64_t n;
    struct itimerspec its, old;
    struct timespec t0;

    /* Creation flags and bad arguments. */
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK(t >= 0);
    CHECK(fcntl(t, F_GETFD) == 0);
    CHECK((fcntl(t, F_GETFL) & O_NONBLOCK) == 0);
    int tn = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK(tn >= 0);
    CHECK(fcntl(tn, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(tn, F_GETFL) & O_NONBLOCK);
    int tr = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    CHECK(tr >= 0);
    int tb = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
    CHECK(tb >= 0);
    close(tb);
    CHECK_ERR(timerfd_create(12345, 0), EINVAL);
    CHECK_ERR(timerfd_create(-1, 0), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 0x1234), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);

    /* Unarmed: gettime is all zeros, a non-blocking read gives EAGAIN, not readable. */
    memset(&its, 0xff, sizeof its);
    CHECK_OK(timerfd_gettime(tn, &its));
    CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0);
    CHECK(its.it_interval.tv_sec == 0 && its.it_interval.tv_nsec == 0);
    CHECK_ERR(read(tn, &n, 8), EAGAIN);
    CHECK(revents(tn, POLLIN) == 0);

    /* settime/gettime errors. */
    struct itimerspec bad = {{0, 0}, {0, 1000000000}};
    CHECK_ERR(timerfd_settime(tn, 0, &bad, NULL), EINVAL);
    bad.it_value.tv_nsec = -1;
    CHECK_ERR(timerfd_settime(tn, 0, &bad, NULL), EINVAL);
    struct itimerspec ok = {{0, 0}, {1, 0}};
    CHECK_ERR(timerfd_settime(tn, 0x100, &ok, NULL), EINVAL);
    CHECK_ERR(timerfd_settime(999, 0, &ok, NULL), EBADF);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERR(timerfd_settime(p[0], 0, &ok, NULL), EINVAL);
    CHECK_ERR(timerfd_gettime(p[0], &its), EINVAL);
    close(p[0]);
    close(p[1]);

    /* Relative one-shot: a blocking read waits until expiry and returns 1. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(set_rel(t, 50, 0));
    CHECK_OK(timerfd_gettime(t, &its));
    CHECK(its.it_interval.tv_sec == 0 && its.it_interval.tv_nsec == 0);
    CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec > 0 &&
          its.it_value.tv_nsec <= 50000000);
    n = 0;
    CHECK(read(t, &n, 8) == 8);
    CHECK(n == 1);
    CHECK(ms_since(&t0) >= 45);
    /* Expired one-shot: disarmed. */
    CHECK_OK(timerfd_gettime(t, &its));
    CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0);
    /* Short buffer. */
    CHECK_OK(set_rel(tn, 1, 0));
    sleep_ms(10);
    char small[4];
    CHECK_ERR(read(tn, small, 4), EINVAL);
    CHECK(read(tn, &n, 8) == 8 && n == 1);
    CHECK_ERR(read(tn, &n, 8), EAGAIN);

    /* Non-blocking read before expiry: EAGAIN; poll readiness follows expiry. */
    CHECK_OK(set_rel(tn, 40, 0));
    CHECK_ERR(read(tn, &n, 8), EAGAIN);
    CHECK(revents(tn, POLLIN) == 0);
    struct pollfd pf = {tn, POLLIN, 0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(poll(&pf, 1, 2000) == 1);
    CHECK(pf.revents == POLLIN);
    CHECK(ms_since(&t0) >= 30);
    CHECK(read(tn, &n, 8) == 8 && n == 1);

    /* Periodic: missed expirations are counted; the count resets on read. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(set_rel(tn, 10, 10));
    sleep_ms(55);
    n = 0;
    CHECK(read(tn, &n, 8) == 8);
    long el = ms_since(&t0);
    CHECK(n >= 5);
    CHECK((long)n <= el / 10 + 1);
    CHECK_OK(timerfd_gettime(tn, &its));
    CHECK(its.it_interval.tv_sec == 0 && its.it_interval.tv_nsec == 10000000);
    CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec > 0 &&
          its.it_value.tv_nsec <= 10000000);

    /* Re-arming returns the old setting; disarming with zero stops it. */
    memset(&old, 0xff, sizeof old);
    struct itimerspec one_sec = {{0, 0}, {1, 0}};
    CHECK_OK(timerfd_settime(tn, 0, &one_sec, &old));
    CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_nsec == 10000000);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_nsec <= 10000000);
    CHECK_OK(timerfd_gettime(tn, &its));
    CHECK(its.it_value.tv_sec == 0 || (its.it_value.tv_sec == 1 && its.it_value.tv_nsec == 0));
    CHECK(ts_ns(&its.it_value) > 900000000LL);
    struct itimerspec zero = {{0, 0}, {0, 0}};
    CHECK_OK(timerfd_settime(tn, 0, &zero, &old));
    CHECK(ts_ns(&old.it_value) > 900000000LL && ts_ns(&old.it_value) <= 1000000000LL);
    CHECK_OK(timerfd_gettime(tn, &its));
    CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0);
    CHECK_ERR(read(tn, &n, 8), EAGAIN);
    /* Re-arming discards the pending expiration count. */
    CHECK_OK(set_rel(tn, 1, 0));
    sleep_ms(10);
    CHECK(revents(tn, POLLIN) == POLLIN);
    CHECK_OK(timerfd_settime(tn, 0, &one_sec, NULL));
    CHECK(revents(tn, POLLIN) == 0);
    CHECK_ERR(read(tn, &n, 8), EAGAIN);
    CHECK_OK(timerfd_settime(tn, 0, &zero, NULL));

    /* TFD_TIMER_ABSTIME on CLOCK_MONOTONIC. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long target = ts_ns(&now) + 40000000LL;
    struct itimerspec abs = {{0, 0}, {target / 1000000000LL, target % 1000000000LL}};
    CHECK_OK(timerfd_settime(t, TFD_TIMER_ABSTIME, &abs, NULL));
    CHECK_OK(timerfd_gettime(t, &its)); /* gettime is relative */
    CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec > 0 &&
          its.it_value.tv_nsec <= 40000000);
    n = 0;
    CHECK(read(t, &n, 8) == 8);
    CHECK(n == 1);
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(ts_ns(&now) >= target);
    /* An absolute time in the past (the clock has moved on since it was read) expires at
     * once. The monotonic clock may be young (since boot), so go no further back. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    abs.it_value = now;
    CHECK_OK(timerfd_settime(tn, TFD_TIMER_ABSTIME, &abs, NULL));
    CHECK(read(tn, &n, 8) == 8 && n == 1);
    /* ... and with an interval, counts every period since then: 500 ms ago, every 50 ms
     * makes 10 or 11 expirations. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ts_ns(&now) < 600000000LL) {
        sleep_ms(600 - ts_ns(&now) / 1000000);
        clock_gettime(CLOCK_MONOTONIC, &now);
    }
    long long start = ts_ns(&now) - 500000000LL;
    struct itimerspec absp = {{0, 50000000}, {start / 1000000000LL, start % 1000000000LL}};
    CHECK_OK(timerfd_settime(tn, TFD_TIMER_ABSTIME, &absp, NULL));
    n = 0;
    CHECK(read(tn, &n, 8) == 8);
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(n >= 11);
    CHECK((long long)n <= (ts_ns(&now) - start) / 50000000LL + 1);
    CHECK_OK(timerfd_settime(tn, 0, &zero, NULL));

    /* TFD_TIMER_ABSTIME on CLOCK_REALTIME. */
    clock_gettime(CLOCK_REALTIME, &now);
    target = ts_ns(&now) + 30000000LL;
    abs.it_value.tv_sec = target / 1000000000LL;
    abs.it_value.tv_nsec = target % 1000000000LL;
    CHECK_OK(timerfd_settime(tr, TFD_TIMER_ABSTIME, &abs, NULL));
    pf.fd = tr;
    pf.revents = 0;
    CHECK(poll(&pf, 1, 2000) == 1);
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(ts_ns(&now) >= target);
    CHECK(read(tr, &n, 8) == 8 && n == 1);
    close(tr);

    /* epoll on a timerfd wakes at expiry. */
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[2];
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, tn, &ev));
    CHECK(epoll_wait(ep, out, 2, 0) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(set_rel(tn, 40, 0));
    memset(out, 0, sizeof out);
    CHECK(epoll_wait(ep, out, 2, 2000) == 1);
    CHECK(ms_since(&t0) >= 35);
    CHECK(out[0].events == EPOLLIN && out[0].data.u64 == 77);
    CHECK(read(tn, &n, 8) == 8 && n == 1);
    CHECK(epoll_wait(ep, out, 2, 0) == 0);
    close(ep);

    /* A timerfd survives fork: the child reads the expiration. */
    CHECK_OK(set_rel(t, 20, 0));
    pid_t pid = fork();
    if (pid == 0) {
        uint64_t c = 0;
        _exit(read(t, &c, 8) == 8 && c == 1 ? 0 : 1);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(t);
    close(tn);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_watchdog);
    alarm(20);
    test_eventfd();
    test_timerfd();
    DONE();
}
