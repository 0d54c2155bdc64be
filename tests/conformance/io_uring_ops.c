/* io_uring requests: file reads and writes (at offsets and at the file position, vectored,
 * with registered buffers and files), fsync, a pipe read that completes after a later write,
 * polls and their removal, timeouts (by time and by completion count) and their removal,
 * cancellation, linked requests (a failure cancels the rest, a hard link does not), link
 * timeouts, CQ
 * overflow without loss, the signal mask, and closing a ring with a request in flight. */
// covers: io_uring_setup io_uring_enter io_uring_register
#define _GNU_SOURCE
#include "lintel_test.h"
#include "io_uring_ring.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/uio.h>

static void on_alarm(int s) { (void)s; }

/* Waits in epoll for the ring fd: readable, or EINTR (Linux's task work interrupts the wait). */
static int epoll_ring(int fd) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    int ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
    errno = 0;
    int n = epoll_wait(ep, &ev, 1, 5000);
    close(ep);
    return ok && (n == 1 || (n == -1 && errno == EINTR));
}

int main(void) {
    struct ring r;
    CHECK(ring_init(&r, 8, 0, 0) == 0);
    char path[] = "/tmp/uring-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);

    /* WRITE at an offset, READ it back; offset -1 uses and moves the file position. */
    struct io_uring_sqe *s = get_sqe(&r, IORING_OP_WRITE, fd, 1);
    s->addr = (uintptr_t) "hello world";
    s->len = 11;
    s->off = 0;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 1) == 11);
    char buf[32] = {0};
    s = get_sqe(&r, IORING_OP_READ, fd, 2);
    s->addr = (uintptr_t)buf;
    s->len = 5;
    s->off = 6;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 2) == 5 && memcmp(buf, "world", 5) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    s = get_sqe(&r, IORING_OP_READ, fd, 3);
    s->addr = (uintptr_t)buf;
    s->len = 5;
    s->off = -1;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 3) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 5);
    /* WRITEV and READV. */
    char a[] = "ab", b[] = "cde";
    struct iovec wv[2] = {{a, 2}, {b, 3}};
    s = get_sqe(&r, IORING_OP_WRITEV, fd, 4);
    s->addr = (uintptr_t)wv;
    s->len = 2;
    s->off = 20;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 4) == 5);
    char x[2], y[3];
    struct iovec rv[2] = {{x, 2}, {y, 3}};
    s = get_sqe(&r, IORING_OP_READV, fd, 5);
    s->addr = (uintptr_t)rv;
    s->len = 2;
    s->off = 20;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 5) == 5 && memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0);
    /* Read at the end of the file: 0. A bad fd: EBADF in the CQE. FSYNC. */
    s = get_sqe(&r, IORING_OP_READ, fd, 6);
    s->addr = (uintptr_t)buf;
    s->len = 5;
    s->off = 1000;
    get_sqe(&r, IORING_OP_READ, 999, 7)->len = 1;
    get_sqe(&r, IORING_OP_FSYNC, fd, 8);
    CHECK(submit(&r, 3, 3) == 3);
    CHECK(reap_res(&r, 6) == 0);
    CHECK(reap_res(&r, 7) == -EBADF);
    CHECK(reap_res(&r, 8) == 0);
    /* A write to a read-only file. */
    int ro = open(path, O_RDONLY);
    s = get_sqe(&r, IORING_OP_WRITE, ro, 9);
    s->addr = (uintptr_t)buf;
    s->len = 1;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 9) == -EBADF);
    close(ro);
    unlink(path);

    /* Registered buffers and files. */
    static char fixed[8192];
    struct iovec reg = {fixed, sizeof fixed};
    CHECK_OK(uring_register(r.fd, IORING_REGISTER_BUFFERS, &reg, 1));
    int files[2] = {-1, fd};
    CHECK_OK(uring_register(r.fd, IORING_REGISTER_FILES, files, 2));
    memcpy(fixed + 100, "FIXED", 5);
    s = get_sqe(&r, IORING_OP_WRITE_FIXED, 1, 10);
    s->flags = IOSQE_FIXED_FILE;
    s->addr = (uintptr_t)(fixed + 100);
    s->len = 5;
    s->off = 40;
    s->buf_index = 0;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 10) == 5);
    CHECK(pread(fd, buf, 5, 40) == 5 && memcmp(buf, "FIXED", 5) == 0);
    s = get_sqe(&r, IORING_OP_READ_FIXED, fd, 11);
    s->addr = (uintptr_t)(fixed + 200);
    s->len = 5;
    s->off = 40;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 11) == 5 && memcmp(fixed + 200, "FIXED", 5) == 0);
    /* Outside the registered buffer: EFAULT; an empty registered slot: EBADF. */
    s = get_sqe(&r, IORING_OP_READ_FIXED, fd, 12);
    s->addr = (uintptr_t)(fixed + 8190);
    s->len = 5;
    s = get_sqe(&r, IORING_OP_READ, 0, 13);
    s->flags = IOSQE_FIXED_FILE;
    s->addr = (uintptr_t)buf;
    s->len = 1;
    CHECK(submit(&r, 2, 2) == 2);
    CHECK(reap_res(&r, 12) == -EFAULT);
    CHECK(reap_res(&r, 13) == -EBADF);
    CHECK_OK(uring_register(r.fd, IORING_UNREGISTER_BUFFERS, 0, 0));
    CHECK_OK(uring_register(r.fd, IORING_UNREGISTER_FILES, 0, 0));

    /* A pipe read waits for its data without blocking io_uring_enter. */
    int p[2];
    CHECK(pipe(p) == 0);
    char pbuf[16] = {0};
    s = get_sqe(&r, IORING_OP_READ, p[0], 20);
    s->addr = (uintptr_t)pbuf;
    s->len = sizeof pbuf;
    CHECK(submit(&r, 1, 0) == 1);
    CHECK(cq_ready(&r) == 0);
    CHECK(write(p[1], "late", 4) == 4);
    CHECK(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, 0, 8) == 0);
    CHECK(reap_res(&r, 20) == 4 && memcmp(pbuf, "late", 4) == 0);

    /* A write larger than the pipe's room moves what fits and completes (a stream is
     * written without blocking, as Linux's first non-blocking attempt). */
    {
        static char big[200000];
        int room = fcntl(p[1], F_GETPIPE_SZ);
        s = get_sqe(&r, IORING_OP_WRITE, p[1], 26);
        s->addr = (uintptr_t)big;
        s->len = sizeof big;
        CHECK(submit(&r, 1, 1) == 1);
        CHECK(reap_res(&r, 26) == room);
        int drained = 0;
        while (drained < room) {
            ssize_t n = read(p[0], big, sizeof big);
            if (n <= 0)
                break;
            drained += n;
        }
        CHECK(drained == room);
    }

    /* POLL_ADD completes when the file is ready; POLL_REMOVE cancels one. */
    s = get_sqe(&r, IORING_OP_POLL_ADD, p[0], 21);
    s->poll32_events = POLLIN;
    CHECK(submit(&r, 1, 0) == 1);
    CHECK(cq_ready(&r) == 0);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, 0, 8) == 0);
    CHECK(reap_res(&r, 21) == POLLIN);
    CHECK(read(p[0], buf, 1) == 1);
    s = get_sqe(&r, IORING_OP_POLL_ADD, p[0], 22);
    s->poll32_events = POLLIN;
    CHECK(submit(&r, 1, 0) == 1);
    s = get_sqe(&r, IORING_OP_POLL_REMOVE, -1, 23);
    s->addr = 22;
    CHECK(submit(&r, 1, 2) == 1);
    CHECK(reap_res(&r, 23) == 0);
    CHECK(reap_res(&r, 22) == -ECANCELED);
    s = get_sqe(&r, IORING_OP_POLL_REMOVE, -1, 24);
    s->addr = 22;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 24) == -ENOENT);
    /* A poll on an already ready file completes at once (POLLOUT of the write end). */
    s = get_sqe(&r, IORING_OP_POLL_ADD, p[1], 25);
    s->poll32_events = POLLOUT;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 25) == POLLOUT);

    /* TIMEOUT: fires with ETIME; with a count it completes with 0 once that many other
     * requests have completed; TIMEOUT_REMOVE and ASYNC_CANCEL cancel. */
    struct __kernel_timespec ts = {0, 30 * 1000 * 1000};
    s = get_sqe(&r, IORING_OP_TIMEOUT, -1, 30);
    s->addr = (uintptr_t)&ts;
    s->len = 1;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 30) == -ETIME);
    struct __kernel_timespec long_ts = {10, 0};
    s = get_sqe(&r, IORING_OP_TIMEOUT, -1, 31);
    s->addr = (uintptr_t)&long_ts;
    s->len = 1;
    s->off = 2;
    get_sqe(&r, IORING_OP_NOP, -1, 32);
    get_sqe(&r, IORING_OP_NOP, -1, 33);
    CHECK(submit(&r, 3, 3) == 3);
    CHECK(reap_res(&r, 32) == 0);
    CHECK(reap_res(&r, 33) == 0);
    CHECK(reap_res(&r, 31) == 0);
    s = get_sqe(&r, IORING_OP_TIMEOUT, -1, 34);
    s->addr = (uintptr_t)&long_ts;
    s->len = 1;
    CHECK(submit(&r, 1, 0) == 1);
    s = get_sqe(&r, IORING_OP_TIMEOUT_REMOVE, -1, 35);
    s->addr = 34;
    CHECK(submit(&r, 1, 2) == 1);
    CHECK(reap_res(&r, 35) == 0);
    CHECK(reap_res(&r, 34) == -ECANCELED);
    s = get_sqe(&r, IORING_OP_READ, p[0], 36);
    s->addr = (uintptr_t)pbuf;
    s->len = 1;
    CHECK(submit(&r, 1, 0) == 1);
    s = get_sqe(&r, IORING_OP_ASYNC_CANCEL, -1, 37);
    s->addr = 36;
    CHECK(submit(&r, 1, 2) == 1);
    CHECK(reap_res(&r, 37) == 0);
    CHECK(reap_res(&r, 36) == -ECANCELED);
    s = get_sqe(&r, IORING_OP_ASYNC_CANCEL, -1, 38);
    s->addr = 12345;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 38) == -ENOENT);

    /* (The cancelling request completes before the one it cancels.)
     * Links: in order; a failure cancels the rest of the chain; a hard link goes on. */
    s = get_sqe(&r, IORING_OP_WRITE, p[1], 40);
    s->addr = (uintptr_t) "chain";
    s->len = 5;
    s->flags = IOSQE_IO_LINK;
    s = get_sqe(&r, IORING_OP_READ, p[0], 41);
    s->addr = (uintptr_t)pbuf;
    s->len = 5;
    CHECK(submit(&r, 2, 2) == 2);
    CHECK(reap_res(&r, 40) == 5);
    CHECK(reap_res(&r, 41) == 5 && memcmp(pbuf, "chain", 5) == 0);
    s = get_sqe(&r, IORING_OP_READ, 999, 42);
    s->len = 1;
    s->flags = IOSQE_IO_LINK;
    get_sqe(&r, IORING_OP_NOP, -1, 43)->flags = IOSQE_IO_LINK;
    get_sqe(&r, IORING_OP_NOP, -1, 44);
    CHECK(submit(&r, 3, 3) == 3);
    CHECK(reap_res(&r, 42) == -EBADF);
    CHECK(reap_res(&r, 43) == -ECANCELED);
    CHECK(reap_res(&r, 44) == -ECANCELED);
    s = get_sqe(&r, IORING_OP_READ, 999, 45);
    s->len = 1;
    s->flags = IOSQE_IO_HARDLINK;
    get_sqe(&r, IORING_OP_NOP, -1, 46);
    CHECK(submit(&r, 2, 2) == 2);
    CHECK(reap_res(&r, 45) == -EBADF);
    CHECK(reap_res(&r, 46) == 0);
    /* A chain waits behind its waiting head: the NOP completes after the pipe read. */
    s = get_sqe(&r, IORING_OP_READ, p[0], 47);
    s->addr = (uintptr_t)pbuf;
    s->len = 2;
    s->flags = IOSQE_IO_LINK;
    get_sqe(&r, IORING_OP_NOP, -1, 48);
    CHECK(submit(&r, 2, 0) == 2);
    CHECK(cq_ready(&r) == 0);
    CHECK(write(p[1], "zz", 2) == 2);
    CHECK(uring_enter(r.fd, 0, 2, IORING_ENTER_GETEVENTS, 0, 8) == 0);
    CHECK(reap_res(&r, 47) == 2);
    CHECK(reap_res(&r, 48) == 0);

    /* LINK_TIMEOUT bounds the request before it: on expiry the timeout completes with ETIME,
     * then the request and what is linked after with ECANCELED; a request that finishes first
     * cancels its timeout; one with no linked request before it is EINVAL; a bad timespec
     * fails at submission and cancels the request it was linked to. */
    s = get_sqe(&r, IORING_OP_READ, p[0], 60);
    s->addr = (uintptr_t)pbuf;
    s->len = 1;
    s->flags = IOSQE_IO_LINK;
    s = get_sqe(&r, IORING_OP_LINK_TIMEOUT, -1, 61);
    s->addr = (uintptr_t)&ts;
    s->len = 1;
    s->flags = IOSQE_IO_LINK;
    get_sqe(&r, IORING_OP_NOP, -1, 62);
    CHECK(submit(&r, 3, 3) == 3);
    CHECK(reap_res(&r, 61) == -ETIME);
    CHECK(reap_res(&r, 60) == -ECANCELED);
    CHECK(reap_res(&r, 62) == -ECANCELED);
    get_sqe(&r, IORING_OP_NOP, -1, 63)->flags = IOSQE_IO_LINK;
    s = get_sqe(&r, IORING_OP_LINK_TIMEOUT, -1, 64);
    s->addr = (uintptr_t)&long_ts;
    s->len = 1;
    CHECK(submit(&r, 2, 2) == 2);
    CHECK(reap_res(&r, 63) == 0);
    CHECK(reap_res(&r, 64) == -ECANCELED);
    s = get_sqe(&r, IORING_OP_READ, p[0], 65);
    s->addr = (uintptr_t)pbuf;
    s->len = 1;
    s->flags = IOSQE_IO_LINK;
    s = get_sqe(&r, IORING_OP_LINK_TIMEOUT, -1, 66);
    s->addr = (uintptr_t)&long_ts;
    s->len = 1;
    CHECK(submit(&r, 2, 0) == 2);
    CHECK(write(p[1], "w", 1) == 1);
    CHECK(uring_enter(r.fd, 0, 2, IORING_ENTER_GETEVENTS, 0, 8) == 0);
    CHECK(reap_res(&r, 65) == 1);
    CHECK(reap_res(&r, 66) == -ECANCELED);
    s = get_sqe(&r, IORING_OP_LINK_TIMEOUT, -1, 67);
    s->addr = (uintptr_t)&long_ts;
    s->len = 1;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 67) == -EINVAL);
    get_sqe(&r, IORING_OP_NOP, -1, 68)->flags = IOSQE_IO_LINK;
    s = get_sqe(&r, IORING_OP_LINK_TIMEOUT, -1, 69);
    s->addr = 8;
    s->len = 1;
    CHECK(submit(&r, 2, 2) == 2);
    CHECK(reap_res(&r, 68) == -ECANCELED);
    CHECK(reap_res(&r, 69) == -EFAULT);

    /* Requests complete without io_uring_enter (Linux's task work): after the process's own
     * write returns, and when it waits for the ring fd in poll or epoll while another process
     * writes (epoll_wait may end with EINTR on Linux, as the task work interrupts it). */
    s = get_sqe(&r, IORING_OP_READ, p[0], 70);
    s->addr = (uintptr_t)pbuf;
    s->len = 1;
    CHECK(submit(&r, 1, 0) == 1);
    CHECK(write(p[1], "t", 1) == 1);
    CHECK(cq_ready(&r) == 1);
    CHECK(reap_res(&r, 70) == 1);
    for (int mode = 0; mode < 2; mode++) {
        s = get_sqe(&r, IORING_OP_READ, p[0], 71 + mode);
        s->addr = (uintptr_t)pbuf;
        s->len = 1;
        CHECK(submit(&r, 1, 0) == 1);
        pid_t kid = fork();
        if (kid == 0) {
            usleep(20000);
            _exit(write(p[1], "k", 1) == 1 ? 0 : 1);
        }
        if (mode == 0) {
            struct pollfd pf = {r.fd, POLLIN, 0};
            CHECK(poll(&pf, 1, 5000) == 1 && pf.revents == POLLIN);
        } else {
            CHECK(epoll_ring(r.fd));
        }
        CHECK(cq_ready(&r) == 1);
        CHECK(reap_res(&r, 71 + mode) == 1);
        int st;
        CHECK(waitpid(kid, &st, 0) == kid && st == 0);
    }

    /* A timeout alone wakes an epoll on the ring fd. */
    {
        s = get_sqe(&r, IORING_OP_TIMEOUT, -1, 73);
        s->addr = (uintptr_t)&ts;
        s->len = 1;
        CHECK(submit(&r, 1, 0) == 1);
        CHECK(epoll_ring(r.fd));
        CHECK(cq_ready(&r) == 1);
        CHECK(reap_res(&r, 73) == -ETIME);
    }

    /* IO_DRAIN: the drained request waits for the read before it, and the NOP after it
     * waits for it (on a ring of its own: Linux orders completions differently on a ring
     * that has seen a drain). */
    {
        struct ring d;
        CHECK(ring_init(&d, 4, 0, 0) == 0);
        s = get_sqe(&d, IORING_OP_READ, p[0], 80);
        s->addr = (uintptr_t)pbuf;
        s->len = 1;
        get_sqe(&d, IORING_OP_NOP, -1, 81)->flags = IOSQE_IO_DRAIN;
        get_sqe(&d, IORING_OP_NOP, -1, 82);
        CHECK(submit(&d, 3, 0) == 3);
        CHECK(cq_ready(&d) == 0);
        CHECK(write(p[1], "d", 1) == 1);
        CHECK(uring_enter(d.fd, 0, 3, IORING_ENTER_GETEVENTS, 0, 8) == 0);
        CHECK(reap_res(&d, 80) == 1);
        CHECK(reap_res(&d, 81) == 0);
        CHECK(reap_res(&d, 82) == 0);
        close(d.fd);
    }

    /* A poll on an epoll set that watches the ring itself completes once the ring has a
     * completion; closing both frees them. */
    {
        struct ring e;
        CHECK(ring_init(&e, 4, 0, 0) == 0);
        int ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN};
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, e.fd, &ev) == 0);
        s = get_sqe(&e, IORING_OP_POLL_ADD, ep, 90);
        s->poll32_events = POLLIN;
        CHECK(submit(&e, 1, 0) == 1);
        CHECK(cq_ready(&e) == 0);
        get_sqe(&e, IORING_OP_NOP, -1, 91);
        CHECK(submit(&e, 1, 0) == 1);
        CHECK(uring_enter(e.fd, 0, 2, IORING_ENTER_GETEVENTS, 0, 8) == 0);
        CHECK(reap_res(&e, 91) == 0);
        CHECK(reap_res(&e, 90) == POLLIN);
        close(ep);
        close(e.fd);
    }

    /* CQ overflow: 8 SQ entries, 16 CQ entries; 24 completions are all kept. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 8; i++)
            get_sqe(&r, IORING_OP_NOP, -1, 100 + round * 8 + i);
        CHECK(submit(&r, 8, 0) == 8);
    }
    CHECK(*r.sq_flags & IORING_SQ_CQ_OVERFLOW);
    CHECK(*(unsigned *)(r.cq + r.p.cq_off.overflow) == 0);
    int got = 0;
    for (int i = 0; i < 24; i++) {
        if (!cq_ready(&r))
            uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, 0, 8);
        if (reap_res(&r, 100 + i) == 0)
            got++;
    }
    CHECK(got == 24);
    CHECK(!(*r.sq_flags & IORING_SQ_CQ_OVERFLOW));

    /* Waiting is interrupted by a signal (EINTR), and the mask argument blocks it. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, 0);
    s = get_sqe(&r, IORING_OP_READ, p[0], 50);
    s->addr = (uintptr_t)pbuf;
    s->len = 1;
    CHECK(submit(&r, 1, 0) == 1);
    ualarm(50000, 0);
    CHECK_ERR(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, 0, 8), EINTR);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    struct io_uring_getevents_arg ga;
    memset(&ga, 0, sizeof ga);
    ga.sigmask = (uintptr_t)&block;
    ga.sigmask_sz = 8;
    ga.ts = (uintptr_t)&ts;
    ualarm(10000, 0);
    /* SIGALRM arrives while blocked: the wait ends by its timeout. */
    CHECK_ERR(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &ga,
                          sizeof ga),
              ETIME);
    CHECK_ERR(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, &block, 4), EINVAL);

    /* Closing the ring with a read still waiting is fine (Linux cancels it from a worker,
     * so whether it took data written just after is a race: not checked). */
    close(r.fd);
    CHECK(write(p[1], "q", 1) == 1);
    close(p[0]);
    close(p[1]);
    close(fd);
    DONE();
}
