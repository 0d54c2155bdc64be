/* epoll's ready list (issue 21): what epoll_wait reports when only the entries that had an
 * event are looked at. A watched fd closed while it sits on the ready list (level- and
 * edge-triggered); a dup'd fd registered twice and one of them closed; EPOLLONESHOT re-armed
 * with and without a new event, and with EPOLLET; nested epoll sets whose inner entries are
 * not consumed by the outer's wait; level-triggered entries taken in turns when maxevents is
 * smaller than the ready set; edge-triggered eventfd and pipe writers (new events while
 * already ready, room made by a reader, a pipe grown with F_SETPIPE_SZ); an epoll instance
 * closed while its files keep firing; 1000 idle fds and one busy one; a thread woken from
 * epoll_wait by another's write. */
#define _GNU_SOURCE
#include "epoll_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

static int bump(int efd) {
    uint64_t one = 1;
    return write(efd, &one, 8) == 8 ? 0 : -1;
}

static int drain(int efd) {
    uint64_t v;
    return read(efd, &v, 8) == 8 ? 0 : -1;
}

static int waker_fd;
static void *waker(void *a) {
    (void)a;
    struct timespec d = {0, 30 * 1000000};
    nanosleep(&d, NULL);
    bump(waker_fd);
    return NULL;
}

int main(void) {
    alarm(30);
    struct epoll_event evs[16];
    char buf[256];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);

    /* A level-triggered entry that reported stays ready; its fd closed, it is gone. */
    int e1 = eventfd(1, 0);
    CHECK_OK(add(ep, e1, EPOLLIN, 1));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 1);
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 1);
    close(e1);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    /* An edge-triggered one closed before it was reported. */
    e1 = eventfd(1, 0);
    CHECK_OK(add(ep, e1, EPOLLIN | EPOLLET, 2));
    close(e1);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    /* A pipe's read end closed while its data waits: nothing, and the writer still works. */
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(add(ep, p[0], EPOLLIN, 3));
    CHECK(write(p[1], "a", 1) == 1);
    close(p[0]);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(add(ep, p[1], EPOLLOUT, 4));
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 4 && (evs[0].events & EPOLLERR));
    close(p[1]);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);

    /* A dup'd fd: two registrations of one file, both report; closing one fd leaves its
     * registration while the file is open (reported under the closed fd's data), and the
     * closed fd can no longer be named. */
    int e2 = eventfd(0, 0);
    int e2d = dup(e2);
    CHECK(e2d >= 0);
    CHECK_OK(add(ep, e2, EPOLLIN, 10));
    CHECK_OK(add(ep, e2d, EPOLLIN, 11));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(bump(e2));
    CHECK(epoll_wait(ep, evs, 16, 0) == 2);
    CHECK(evs[0].data.u64 + evs[1].data.u64 == 21);
    close(e2);
    CHECK(epoll_wait(ep, evs, 16, 0) == 2);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, e2, NULL), EBADF);
    CHECK_OK(drain(e2d));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(bump(e2d));
    CHECK(epoll_wait(ep, evs, 16, 0) == 2);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, e2d, NULL));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 10);
    close(e2d);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);

    /* EPOLLONESHOT: once, then nothing however many events, until MOD re-arms it; re-armed
     * while still ready it reports at once; with EPOLLET the same. */
    int e3 = eventfd(0, 0);
    CHECK_OK(add(ep, e3, EPOLLIN | EPOLLONESHOT, 20));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(bump(e3));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 20);
    CHECK_OK(bump(e3));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(mod(ep, e3, EPOLLIN | EPOLLONESHOT, 21));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 21);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(drain(e3));
    CHECK_OK(mod(ep, e3, EPOLLIN | EPOLLONESHOT | EPOLLET, 22));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(bump(e3));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 22);
    CHECK_OK(bump(e3));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(mod(ep, e3, EPOLLIN | EPOLLET, 23));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 23);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    /* Edge-triggered eventfd: each write is a new event, though it was readable already. */
    CHECK_OK(bump(e3));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(drain(e3));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, e3, NULL));
    close(e3);

    /* Nested: the outer set sees the inner one ready without consuming the inner's
     * edge-triggered event; once the inner wait took it, the outer sees nothing. */
    int inner = epoll_create1(0), outer = epoll_create1(0);
    int e4 = eventfd(0, 0);
    CHECK(inner >= 0 && outer >= 0 && e4 >= 0);
    CHECK_OK(add(inner, e4, EPOLLIN | EPOLLET, 30));
    CHECK_OK(add(outer, inner, EPOLLIN, 31));
    CHECK(epoll_wait(outer, evs, 16, 0) == 0);
    CHECK_OK(bump(e4));
    CHECK(epoll_wait(outer, evs, 16, 0) == 1 && evs[0].data.u64 == 31);
    CHECK(epoll_wait(outer, evs, 16, 0) == 1 && evs[0].data.u64 == 31);
    CHECK(epoll_wait(inner, evs, 16, 0) == 1 && evs[0].data.u64 == 30);
    CHECK(epoll_wait(outer, evs, 16, 0) == 0);
    CHECK(epoll_wait(inner, evs, 16, 0) == 0);
    /* The inner entry's file closed: neither reports. */
    CHECK_OK(bump(e4));
    close(e4);
    CHECK(epoll_wait(outer, evs, 16, 0) == 0);
    CHECK(epoll_wait(inner, evs, 16, 0) == 0);
    close(outer);
    close(inner);

    /* maxevents below the ready set: level-triggered entries are taken in turns, each of
     * ten once in ten calls of one. */
    int es[10], seen[10] = {0};
    for (int i = 0; i < 10; i++) {
        es[i] = eventfd(1, 0);
        CHECK_OK(add(ep, es[i], EPOLLIN, 40 + i));
    }
    for (int i = 0; i < 10; i++) {
        CHECK(epoll_wait(ep, evs, 1, 0) == 1);
        if (evs[0].data.u64 >= 40 && evs[0].data.u64 < 50)
            seen[evs[0].data.u64 - 40]++;
    }
    int right = 1;
    for (int i = 0; i < 10; i++)
        right &= seen[i] == 1;
    CHECK(right);
    CHECK(epoll_wait(ep, evs, 16, 0) == 10);
    for (int i = 0; i < 10; i++)
        close(es[i]);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);

    /* A full pipe's writer, edge-triggered: nothing until a reader makes room; a full pipe's
     * writer, level-triggered: ready again when the pipe grows. */
    CHECK_OK(pipe2(p, O_NONBLOCK));
    while (write(p[1], buf, sizeof buf) > 0) {
    }
    CHECK_OK(add(ep, p[1], EPOLLOUT | EPOLLET, 50));
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    while (read(p[0], buf, sizeof buf) > 0) {
    }
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 50 && evs[0].events == EPOLLOUT);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK_OK(mod(ep, p[1], EPOLLOUT, 51));
    CHECK(epoll_wait(ep, evs, 16, 0) == 1);
    int cap = fcntl(p[1], F_GETPIPE_SZ);
    CHECK(cap > 0);
    while (write(p[1], buf, sizeof buf) > 0) {
    }
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, cap * 2) >= cap * 2);
    CHECK(epoll_wait(ep, evs, 16, 0) == 1 && evs[0].data.u64 == 51);
    close(p[0]);
    close(p[1]);
    CHECK(epoll_wait(ep, evs, 16, 0) == 0);

    /* An epoll instance closed while its files keep firing; a new one on the same files. */
    int ep2 = epoll_create1(0);
    CHECK_OK(pipe(p));
    int e5 = eventfd(0, 0);
    CHECK_OK(add(ep2, p[0], EPOLLIN, 60));
    CHECK_OK(add(ep2, e5, EPOLLIN, 61));
    CHECK_OK(bump(e5));
    close(ep2);
    CHECK(write(p[1], "b", 1) == 1);
    CHECK_OK(bump(e5));
    ep2 = epoll_create1(0);
    CHECK_OK(add(ep2, p[0], EPOLLIN, 62));
    CHECK_OK(add(ep2, e5, EPOLLIN, 63));
    CHECK(epoll_wait(ep2, evs, 16, 0) == 2);
    CHECK(read(p[0], buf, 1) == 1);
    CHECK_OK(drain(e5));
    CHECK(epoll_wait(ep2, evs, 16, 0) == 0);
    close(ep2);
    close(e5);

    /* 1000 idle fds and one busy one: only the busy one reports, each time. */
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    if (rl.rlim_cur < 1100 && rl.rlim_max >= 1100) {
        rl.rlim_cur = 1100;
        CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    }
    enum { IDLE = 1000 };
    static int idle[IDLE];
    int n_idle = 0;
    int ep3 = epoll_create1(0);
    for (; n_idle < IDLE; n_idle++) {
        idle[n_idle] = eventfd(0, 0);
        if (idle[n_idle] < 0)
            break;
        CHECK_OK(add(ep3, idle[n_idle], EPOLLIN, n_idle));
    }
    CHECK(n_idle >= 900);
    int busy = n_idle / 2;
    for (int i = 0; i < 50; i++) {
        CHECK_OK(bump(idle[busy]));
        memset(evs, 0, sizeof evs);
        CHECK(epoll_wait(ep3, evs, 16, 0) == 1 && evs[0].data.u64 == (uint64_t)busy);
        CHECK_OK(drain(idle[busy]));
        CHECK(epoll_wait(ep3, evs, 16, 0) == 0);
    }

    /* A thread blocked in epoll_wait wakes for another thread's write. */
    waker_fd = idle[busy];
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waker, NULL) == 0);
    memset(evs, 0, sizeof evs);
    CHECK(epoll_wait(ep3, evs, 16, 5000) == 1 && evs[0].data.u64 == (uint64_t)busy);
    pthread_join(t, NULL);
    for (int i = 0; i < n_idle; i++)
        close(idle[i]);
    CHECK(epoll_wait(ep3, evs, 16, 0) == 0);
    close(ep3);
    close(ep);
    DONE();
}
