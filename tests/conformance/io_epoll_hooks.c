/* epoll on files whose readiness comes after epoll_wait started (issue 21: wake-up hooks on
 * sockets and timerfd, epoll_wait sleeping on the instance's own queue): a TCP listener
 * getting a connection, a TCP connection getting data, its peer's FIN and room in its send
 * buffer; a Unix stream pair the same way, and a Unix listener; timerfd expiries,
 * edge-triggered (a periodic timer not read wakes no one again); a signalfd getting a signal; an fd added by EPOLL_CTL_ADD while another
 * thread waits (with and without hooks); EPOLLEXCLUSIVE entries of two instances on one
 * eventfd: one write wakes only the first. */
#define _GNU_SOURCE
#include "epoll_test.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Runs `fn(arg)` on a thread after `ms` milliseconds. */
struct later {
    pthread_t th;
    int ms;
    void (*fn)(long);
    long arg;
};

static void *later_main(void *p) {
    struct later *l = p;
    lt_sleep_ms(l->ms);
    l->fn(l->arg);
    return NULL;
}

static void later_start(struct later *l, int ms, void (*fn)(long), long arg) {
    l->ms = ms;
    l->fn = fn;
    l->arg = arg;
    CHECK(pthread_create(&l->th, NULL, later_main, l) == 0);
}

static void later_join(struct later *l) { pthread_join(l->th, NULL); }

static void send_byte(long fd) { CHECK(write((int)fd, "x", 1) == 1); }
static void close_fd(long fd) { close((int)fd); }

static struct sockaddr_in tcp_addr;
static int tcp_client = -1;
static void tcp_connect(long unused) {
    (void)unused;
    tcp_client = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(tcp_client >= 0);
    CHECK_OK(connect(tcp_client, (struct sockaddr *)&tcp_addr, sizeof tcp_addr));
}

/* Reads what the peer sent, until `drain_total` bytes came or two seconds passed. */
static long drain_total;
static void drain(long fd) {
    long got = 0;
    char buf[65536];
    for (int i = 0; i < 2000 && got < drain_total; i++) {
        ssize_t n = recv((int)fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            got += n;
        else
            lt_sleep_ms(1);
    }
    CHECK(got == drain_total);
}

/* Fills `fd`'s way to its peer (non-blocking writes until EAGAIN); returns the bytes sent. */
static long fill(int fd) {
    static char buf[65536];
    long total = 0;
    for (;;) {
        ssize_t n = send(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            CHECK(errno == EAGAIN);
            break;
        }
        total += n;
    }
    return total;
}

static void check_one(int ep, int timeout, uint32_t want, uint64_t data, const char *what) {
    struct epoll_event ev[4];
    int n = epoll_wait(ep, ev, 4, timeout);
    if (n != 1 || (ev[0].events & want) != want || ev[0].data.u64 != data) {
        printf("%s: epoll_wait = %d events %#x data %llu (expected 1, %#x, %llu)\n", what, n,
               n > 0 ? ev[0].events : 0, n > 0 ? (unsigned long long)ev[0].data.u64 : 0, want,
               (unsigned long long)data);
        lt_failures++;
    }
}

static void check_none(int ep, int timeout, const char *what) {
    struct epoll_event ev[4];
    int n = epoll_wait(ep, ev, 4, timeout);
    if (n != 0) {
        printf("%s: epoll_wait = %d events %#x, expected none\n", what, n, n > 0 ? ev[0].events : 0);
        lt_failures++;
    }
}

static void tcp_part(void) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(l >= 0);
    memset(&tcp_addr, 0, sizeof tcp_addr);
    tcp_addr.sin_family = AF_INET;
    tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(l, (struct sockaddr *)&tcp_addr, sizeof tcp_addr));
    socklen_t len = sizeof tcp_addr;
    CHECK_OK(getsockname(l, (struct sockaddr *)&tcp_addr, &len));
    CHECK_OK(listen(l, 8));
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    CHECK_OK(add(ep, l, EPOLLIN, 1));
    check_none(ep, 0, "tcp listener, idle");
    struct later t;
    later_start(&t, 30, tcp_connect, 0);
    check_one(ep, 3000, EPOLLIN, 1, "tcp listener, connection after the wait started");
    later_join(&t);
    int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    CHECK(s >= 0);
    check_none(ep, 0, "tcp listener, accepted");

    /* Data after the wait started, level- then edge-triggered. */
    CHECK_OK(add(ep, s, EPOLLIN | EPOLLRDHUP, 2));
    check_none(ep, 0, "tcp connection, idle");
    later_start(&t, 30, send_byte, tcp_client);
    check_one(ep, 3000, EPOLLIN, 2, "tcp connection, data after the wait started");
    later_join(&t);
    check_one(ep, 0, EPOLLIN, 2, "tcp connection, level-triggered again");
    char c;
    CHECK(read(s, &c, 1) == 1);
    check_none(ep, 0, "tcp connection, read");
    CHECK_OK(mod(ep, s, EPOLLIN | EPOLLRDHUP | EPOLLET, 2));
    check_none(ep, 0, "tcp connection, edge-triggered idle");
    later_start(&t, 30, send_byte, tcp_client);
    check_one(ep, 3000, EPOLLIN, 2, "tcp connection, edge-triggered data");
    later_join(&t);
    check_none(ep, 50, "tcp connection, edge reported once");
    later_start(&t, 30, send_byte, tcp_client);
    check_one(ep, 3000, EPOLLIN, 2, "tcp connection, edge-triggered more data");
    later_join(&t);
    CHECK(read(s, &c, 1) == 1 && read(s, &c, 1) == 1);

    /* Room in the send buffer once the peer reads. */
    CHECK_OK(mod(ep, s, EPOLLOUT, 3));
    drain_total = fill(s);
    CHECK(drain_total > 0);
    check_none(ep, 0, "tcp connection, send buffer full");
    later_start(&t, 30, drain, tcp_client);
    check_one(ep, 5000, EPOLLOUT, 3, "tcp connection, room after the peer read");
    later_join(&t);

    /* The peer's FIN. */
    CHECK_OK(mod(ep, s, EPOLLIN | EPOLLRDHUP, 2));
    check_none(ep, 0, "tcp connection, before the FIN");
    later_start(&t, 30, close_fd, tcp_client);
    check_one(ep, 3000, EPOLLIN | EPOLLRDHUP, 2, "tcp connection, the peer closed");
    later_join(&t);
    close(s);
    close(l);
    close(ep);
}

static struct sockaddr_un unix_addr;
static socklen_t unix_len;
static int unix_client = -1;
static void unix_connect(long unused) {
    (void)unused;
    unix_client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(unix_client >= 0);
    CHECK_OK(connect(unix_client, (struct sockaddr *)&unix_addr, unix_len));
}

static void unix_part(void) {
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    CHECK_OK(add(ep, sv[0], EPOLLIN | EPOLLRDHUP, 1));
    check_none(ep, 0, "unix pair, idle");
    struct later t;
    later_start(&t, 30, send_byte, sv[1]);
    check_one(ep, 3000, EPOLLIN, 1, "unix pair, data after the wait started");
    later_join(&t);
    char c;
    CHECK(read(sv[0], &c, 1) == 1);
    check_none(ep, 0, "unix pair, read");
    CHECK_OK(mod(ep, sv[0], EPOLLIN | EPOLLET, 1));
    later_start(&t, 30, send_byte, sv[1]);
    check_one(ep, 3000, EPOLLIN, 1, "unix pair, edge-triggered data");
    later_join(&t);
    check_none(ep, 50, "unix pair, edge reported once");
    CHECK(read(sv[0], &c, 1) == 1);

    CHECK_OK(mod(ep, sv[0], EPOLLOUT, 2));
    drain_total = fill(sv[0]);
    CHECK(drain_total > 0);
    check_none(ep, 0, "unix pair, full");
    later_start(&t, 30, drain, sv[1]);
    check_one(ep, 5000, EPOLLOUT, 2, "unix pair, room after the peer read");
    later_join(&t);

    CHECK_OK(mod(ep, sv[0], EPOLLIN | EPOLLRDHUP, 1));
    check_none(ep, 0, "unix pair, before the close");
    later_start(&t, 30, close_fd, sv[1]);
    check_one(ep, 3000, EPOLLIN | EPOLLRDHUP | EPOLLHUP, 1, "unix pair, the peer closed");
    later_join(&t);
    close(sv[0]);

    /* A listener (abstract name) getting a connection. */
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(l >= 0);
    memset(&unix_addr, 0, sizeof unix_addr);
    unix_addr.sun_family = AF_UNIX;
    int n = snprintf(unix_addr.sun_path + 1, sizeof unix_addr.sun_path - 1,
                     "lintel-epoll-hooks-%d", (int)getpid());
    unix_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    CHECK_OK(bind(l, (struct sockaddr *)&unix_addr, unix_len));
    CHECK_OK(listen(l, 4));
    CHECK_OK(add(ep, l, EPOLLIN, 3));
    check_none(ep, 0, "unix listener, idle");
    later_start(&t, 30, unix_connect, 0);
    check_one(ep, 3000, EPOLLIN, 3, "unix listener, connection after the wait started");
    later_join(&t);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    check_none(ep, 0, "unix listener, accepted");
    close(s);
    close(unix_client);
    close(l);
    close(ep);
}

static void timerfd_part(void) {
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    CHECK(tfd >= 0);
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    CHECK_OK(add(ep, tfd, EPOLLIN | EPOLLET, 7));
    check_none(ep, 0, "timerfd, disarmed");
    struct itimerspec its = {{0, 0}, {0, 50 * 1000000}};
    CHECK_OK(timerfd_settime(tfd, 0, &its, NULL));
    check_one(ep, 3000, EPOLLIN, 7, "timerfd, expiry after the wait started");
    check_none(ep, 80, "timerfd, one-shot expiry reported once (edge)");
    uint64_t ticks;
    CHECK(read(tfd, &ticks, 8) == 8 && ticks == 1);
    /* Periodic: each expiry is a new edge. */
    struct itimerspec per = {{0, 20 * 1000000}, {0, 20 * 1000000}};
    CHECK_OK(timerfd_settime(tfd, 0, &per, NULL));
    check_one(ep, 3000, EPOLLIN, 7, "timerfd, first periodic expiry");
    /* Unread, the timer wakes no one again (Linux re-arms it at the read). */
    check_none(ep, 80, "timerfd, periodic expiries while unread");
    CHECK(read(tfd, &ticks, 8) == 8 && ticks >= 1);
    check_one(ep, 3000, EPOLLIN, 7, "timerfd, periodic expiry after the read");
    struct itimerspec off = {{0, 0}, {0, 0}};
    CHECK_OK(timerfd_settime(tfd, 0, &off, NULL));
    /* Level-triggered: readable until read. */
    CHECK_OK(mod(ep, tfd, EPOLLIN, 7));
    its.it_value.tv_nsec = 30 * 1000000;
    CHECK_OK(timerfd_settime(tfd, 0, &its, NULL));
    check_one(ep, 3000, EPOLLIN, 7, "timerfd, level-triggered expiry");
    check_one(ep, 0, EPOLLIN, 7, "timerfd, level-triggered again");
    CHECK(read(tfd, &ticks, 8) == 8);
    check_none(ep, 0, "timerfd, read");
    close(tfd);
    close(ep);
}

static void raise_usr1(long unused) {
    (void)unused;
    CHECK_OK(kill(getpid(), SIGUSR1));
}

/* An eventfd watched by a thread's epoll_wait, and fds added while it waits. */
static int wait_ep;
static int wait_n;
static struct epoll_event wait_ev[4];
static void *waiter(void *a) {
    (void)a;
    wait_n = epoll_wait(wait_ep, wait_ev, 4, 3000);
    return NULL;
}

static void signalfd_and_ctl_part(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    int sfd = signalfd(-1, &set, SFD_NONBLOCK);
    CHECK(sfd >= 0);
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    CHECK_OK(add(ep, sfd, EPOLLIN, 4));
    check_none(ep, 0, "signalfd, nothing pending");
    struct later t;
    later_start(&t, 30, raise_usr1, 0);
    check_one(ep, 3000, EPOLLIN, 4, "signalfd, a signal after the wait started");
    later_join(&t);
    struct signalfd_siginfo si;
    CHECK(read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR1);
    check_none(ep, 0, "signalfd, read");
    close(ep);

    /* EPOLL_CTL_ADD of a ready file while a thread waits on an instance of files with hooks
     * only (an eventfd), then of a ready file without hooks (a signalfd). */
    for (int i = 0; i < 2; i++) {
        int efd = eventfd(0, EFD_NONBLOCK);
        wait_ep = epoll_create1(0);
        CHECK(efd >= 0 && wait_ep >= 0);
        CHECK_OK(add(wait_ep, efd, EPOLLIN, 1));
        check_none(wait_ep, 0, "ctl while waiting, idle");
        int p[2];
        CHECK_OK(pipe(p));
        CHECK(write(p[1], "x", 1) == 1);
        if (i == 1)
            CHECK_OK(kill(getpid(), SIGUSR1));
        pthread_t th;
        wait_n = -2;
        CHECK(pthread_create(&th, NULL, waiter, NULL) == 0);
        lt_sleep_ms(50);
        CHECK_OK(add(wait_ep, i == 0 ? p[0] : sfd, EPOLLIN, 9));
        pthread_join(th, NULL);
        CHECK(wait_n == 1 && wait_ev[0].data.u64 == 9);
        if (i == 1)
            CHECK(read(sfd, &si, sizeof si) == sizeof si);
        close(p[0]);
        close(p[1]);
        close(efd);
        close(wait_ep);
    }
    close(sfd);
    CHECK_OK(sigprocmask(SIG_UNBLOCK, &set, NULL));
}

/* EPOLLEXCLUSIVE: two instances watch one eventfd exclusively, a third without the flag;
 * one write wakes the first exclusive entry (in the order they were added) and the one
 * without the flag, not the second. */
static int ex_ep[3];
static int ex_n[3];
static void *ex_waiter(void *a) {
    long i = (long)a;
    struct epoll_event ev[2];
    ex_n[i] = epoll_wait(ex_ep[i], ev, 2, 400);
    return NULL;
}

static void exclusive_part(void) {
    int efd = eventfd(0, EFD_NONBLOCK);
    CHECK(efd >= 0);
    for (int i = 0; i < 3; i++) {
        ex_ep[i] = epoll_create1(0);
        CHECK(ex_ep[i] >= 0);
        CHECK_OK(add(ex_ep[i], efd, EPOLLIN | (i < 2 ? EPOLLEXCLUSIVE : 0), (uint64_t)i));
        check_none(ex_ep[i], 0, "exclusive, idle");
    }
    pthread_t th[3];
    for (long i = 0; i < 3; i++)
        CHECK(pthread_create(&th[i], NULL, ex_waiter, (void *)i) == 0);
    lt_sleep_ms(100);
    uint64_t one = 1;
    CHECK(write(efd, &one, 8) == 8);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    CHECK(ex_n[0] == 1);
    CHECK(ex_n[1] == 0);
    CHECK(ex_n[2] == 1);
    /* Level-triggered: the first stays ready; the second still learns nothing. */
    check_one(ex_ep[0], 0, EPOLLIN, 0, "exclusive, the first again");
    check_none(ex_ep[1], 0, "exclusive, the second");
    for (int i = 0; i < 3; i++)
        close(ex_ep[i]);
    close(efd);
}

int main(void) {
    alarm(60);
    tcp_part();
    unix_part();
    timerfd_part();
    signalfd_and_ctl_part();
    exclusive_part();
    DONE();
}
