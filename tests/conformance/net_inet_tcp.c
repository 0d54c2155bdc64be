/* TCP over loopback, IPv4 and IPv6: socket/bind(port 0)/getsockname/listen/connect/accept,
 * accept4(SOCK_NONBLOCK|SOCK_CLOEXEC), getpeername, a small echo, a 4 MiB transfer to a
 * forked child with a checksum, half-close (SHUT_WR), MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL,
 * EOF, EPIPE/SIGPIPE and MSG_NOSIGNAL after the peer closed, SO_LINGER {1,0} -> ECONNRESET,
 * SO_LINGER {1,N}: close waits for unsent data (even non-blocking; not shutdown), then the
 * data still arrives,
 * ECONNREFUSED (blocking and non-blocking connect), non-blocking connect with POLLOUT and
 * SO_ERROR, EADDRINUSE, SO_REUSEADDR over a TIME_WAIT port, a backlog of 100 pending clients,
 * poll on a listener, epoll edge-triggered EPOLLIN and EPOLLRDHUP, poll events over a
 * connection's life (POLLRDHUP, POLLHUP), flow control (EAGAIN, POLLOUT, SO_SNDTIMEO),
 * readv/writev and sendmsg/recvmsg, 200 connections at once. Socket options, FIONREAD and
 * dual stack are in net_inet_tcpopt.c. */
#define _GNU_SOURCE
#include "net_inet.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>


static void test_basic(void) {
    sockaddr_any a, b, peer;
    socklen_t len = sizeof a;
    socklen_t want = fam == AF_INET ? sizeof a.v4 : sizeof a.v6;

    /* Unbound: the wildcard address, port 0. */
    int l = socket(fam, SOCK_STREAM, 0);
    CHECK(l >= 0);
    memset(&a, 0xff, sizeof a);
    CHECK_OK(getsockname(l, &a.sa, &len));
    CHECK(len == want && a.sa.sa_family == fam && addr_port(&a) == 0);
    CHECK_ERR(getpeername(l, &peer.sa, &len), ENOTCONN);

    /* Bound to port 0: the kernel picks a port. */
    len = loop_addr(fam, &a, 0);
    CHECK_OK(bind(l, &a.sa, len));
    len = sizeof a;
    CHECK_OK(getsockname(l, &a.sa, &len));
    CHECK(len == want && is_loopback(&a) && addr_port(&a) != 0);
    CHECK_ERR(bind(l, &a.sa, want), EINVAL); /* already bound */
    CHECK(sock_int(l, SOL_SOCKET, SO_ACCEPTCONN) == 0);
    CHECK_OK(listen(l, 8));
    CHECK(sock_int(l, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    CHECK_OK(listen(l, 16)); /* again: changes the backlog only */

    int c = socket(fam, SOCK_STREAM, 0);
    CHECK_OK(connect(c, &a.sa, want));
    CHECK_ERR(connect(c, &a.sa, want), EISCONN);
    CHECK(sock_int(c, SOL_SOCKET, SO_ACCEPTCONN) == 0);
    len = sizeof peer;
    CHECK_OK(getpeername(c, &peer.sa, &len));
    CHECK(len == want && same_addr(&peer, &a));
    len = sizeof b;
    CHECK_OK(getsockname(c, &b.sa, &len)); /* bound implicitly to an ephemeral port */
    CHECK(len == want && is_loopback(&b) && addr_port(&b) != 0 && addr_port(&b) != addr_port(&a));

    len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    int s = accept(l, &peer.sa, &len);
    CHECK(s >= 0);
    CHECK(len == want && same_addr(&peer, &b));
    CHECK(fcntl(s, F_GETFL) >= 0 && !(fcntl(s, F_GETFL) & O_NONBLOCK));
    CHECK(fcntl(s, F_GETFD) == 0);
    len = sizeof peer;
    CHECK_OK(getsockname(s, &peer.sa, &len));
    CHECK(same_addr(&peer, &a));
    len = sizeof peer;
    CHECK_OK(getpeername(s, &peer.sa, &len));
    CHECK(same_addr(&peer, &b));

    /* A short address buffer: truncated, the full length reported. */
    char small[4];
    len = sizeof small;
    CHECK_OK(getpeername(s, (struct sockaddr *)small, &len));
    CHECK(len == want);

    /* Echo. */
    char buf[64] = {0};
    CHECK(send(c, "hello", 5, 0) == 5);
    CHECK(recv(s, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(write(s, "world!", 6) == 6);
    CHECK(read(c, buf, sizeof buf) == 6 && memcmp(buf, "world!", 6) == 0);

    /* accept4 with flags; the accepted socket's own flags, not the listener's. */
    int c2 = tcp_connect(&a);
    CHECK(c2 >= 0);
    int s2 = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(s2 >= 0);
    CHECK(fcntl(s2, F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(s2, F_GETFD) == FD_CLOEXEC);
    CHECK_ERR(recv(s2, buf, sizeof buf, 0), EAGAIN);
    CHECK(send(c2, "x", 1, 0) == 1);
    CHECK(wait_fd(s2, POLLIN, 2000) & POLLIN);
    CHECK(recv(s2, buf, sizeof buf, 0) == 1 && buf[0] == 'x');
    /* The raw call: musl's accept4 retries an EINVAL as a plain (blocking) accept. */
    CHECK_ERR(syscall(SYS_accept4, l, NULL, NULL, 0x40000000), EINVAL);

    /* A non-blocking listener with nothing pending. */
    int fl = fcntl(l, F_GETFL);
    CHECK_OK(fcntl(l, F_SETFL, fl | O_NONBLOCK));
    CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
    close(c2);
    close(s2);
    close(c);
    close(s);
    close(l);
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 131 + (i >> 12)); }

#define BULK (4u << 20)

/* 4 MiB from a forked child in uneven chunks; both ends hash it, the parent echoes its hash. */
static void test_bulk(void) {
    sockaddr_any a;
    int l = tcp_listener(fam, &a, 4);
    CHECK(l >= 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int c = tcp_connect(&a);
        if (c < 0) _exit(3);
        static unsigned char out[65536];
        uint64_t h = 14695981039346656037ULL;
        size_t sent = 0, step = 1;
        while (sent < BULK) {
            size_t n = (step * 7919) % sizeof out + 1;
            step++;
            if (n > BULK - sent) n = BULK - sent;
            for (size_t i = 0; i < n; i++) out[i] = pattern(sent + i);
            ssize_t w = send(c, out, n, 0);
            if (w <= 0) _exit(4);
            h = fnv(h, out, (size_t)w);
            sent += (size_t)w;
        }
        if (shutdown(c, SHUT_WR) != 0) _exit(5);
        uint64_t back = 0;
        if (recv(c, &back, sizeof back, MSG_WAITALL) != sizeof back) _exit(6);
        _exit(back == h ? 0 : 7);
    }
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    static unsigned char in[100000];
    uint64_t h = 14695981039346656037ULL;
    size_t got = 0, bad = 0;
    for (;;) {
        ssize_t r = recv(s, in, sizeof in, 0);
        if (r <= 0) {
            CHECK(r == 0);
            break;
        }
        for (ssize_t i = 0; i < r; i++) bad += in[i] != pattern(got + (size_t)i);
        h = fnv(h, in, (size_t)r);
        got += (size_t)r;
    }
    CHECK(got == BULK);
    CHECK(bad == 0);
    CHECK(send(s, &h, sizeof h, 0) == sizeof h);
    int st = 0;
    CHECK_OK(waitpid(pid, &st, 0));
    CHECK_EXIT(st, 0);
    close(s);
    close(l);
}

/* SHUT_WR: the peer reads the data, then EOF (again and again); it can still send back. */
static void test_half_close(void) {
    int c, s;
    char buf[16];
    CHECK_OK(tcp_pair(fam, &c, &s));
    signal(SIGPIPE, SIG_IGN);
    CHECK(send(c, "last", 4, 0) == 4);
    CHECK_OK(shutdown(c, SHUT_WR));
    CHECK(recv(s, buf, sizeof buf, 0) == 4 && memcmp(buf, "last", 4) == 0);
    CHECK(recv(s, buf, sizeof buf, 0) == 0);
    CHECK(recv(s, buf, sizeof buf, MSG_DONTWAIT) == 0);
    CHECK(wait_fd(s, POLLIN, 0) & POLLIN);
    CHECK_ERR(send(c, "x", 1, 0), EPIPE);
    CHECK(send(s, "back", 4, 0) == 4);
    CHECK(recv(c, buf, sizeof buf, 0) == 4 && memcmp(buf, "back", 4) == 0);
    CHECK_OK(shutdown(c, SHUT_WR)); /* again: no error */
    CHECK_ERR(shutdown(c, 3), EINVAL);
    /* The other side closes too: EOF on the first end. */
    close(s);
    CHECK(recv(c, buf, sizeof buf, 0) == 0);
    close(c);
}

static void test_recv_flags(void) {
    int c, s;
    char buf[16] = {0};
    CHECK_OK(tcp_pair(fam, &c, &s));
    CHECK_ERR(recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK(send(c, "peekaboo", 8, 0) == 8);
    CHECK(wait_fd(s, POLLIN, 2000) & POLLIN);
    CHECK(recv(s, buf, 4, MSG_PEEK) == 4 && memcmp(buf, "peek", 4) == 0);
    CHECK(recv(s, buf, sizeof buf, MSG_PEEK) == 8);
    CHECK(recv(s, buf, sizeof buf, 0) == 8 && memcmp(buf, "peekaboo", 8) == 0);
    CHECK_ERR(recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    /* MSG_WAITALL waits for the second half, sent later by a child. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        send(c, "abc", 3, 0);
        lt_sleep_ms(100);
        send(c, "def", 3, 0);
        _exit(0);
    }
    memset(buf, 0, sizeof buf);
    long t0 = lt_now_ms();
    CHECK(recv(s, buf, 6, MSG_WAITALL) == 6 && memcmp(buf, "abcdef", 6) == 0);
    CHECK(lt_now_ms() - t0 >= 50);
    int st;
    CHECK_OK(waitpid(pid, &st, 0));

    /* MSG_WAITALL stops short at EOF. */
    CHECK(send(c, "xy", 2, 0) == 2);
    close(c);
    CHECK(recv(s, buf, 6, MSG_WAITALL) == 2);
    CHECK(recv(s, buf, sizeof buf, 0) == 0);
    CHECK(read(s, buf, sizeof buf) == 0);
    close(s);
}

/* The peer closed: the first send still succeeds (it draws a reset), then EPIPE. Not
 * ECONNRESET: the FIN came first, and a reset in CLOSE_WAIT is reported as EPIPE on Linux. The
 * signal comes with the failing send only. */
static void test_epipe(void) {
    count_sigpipe();
    for (int nosig = 0; nosig < 2; nosig++) {
        int c, s;
        CHECK_OK(tcp_pair(fam, &c, &s));
        close(s);
        char buf[4];
        CHECK(recv(c, buf, sizeof buf, 0) == 0);
        got_pipe = 0;
        int tries = 0, r;
        int flags = nosig ? MSG_NOSIGNAL : 0;
        errno = 0;
        while ((r = send(c, "data", 4, flags)) == 4 && tries < 100) {
            tries++;
            lt_sleep_ms(10);
        }
        CHECK(r == -1 && errno == EPIPE);
        CHECK(tries >= 1); /* the first send went out, the reset came back */
        CHECK(got_pipe == (nosig ? 0 : 1));
        CHECK_ERR(send(c, "data", 4, MSG_NOSIGNAL), EPIPE);
        CHECK(recv(c, buf, sizeof buf, 0) == 0);
        close(c);
    }
    CHECK(got_pipe == 0);
}

/* SO_LINGER {1, 0}: close sends a reset; the peer's recv gives ECONNRESET once, then EOF. */
static void test_linger_reset(void) {
    int c, s;
    char buf[8];
    CHECK_OK(tcp_pair(fam, &c, &s));
    struct linger lg = {1, 0};
    CHECK_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    struct linger got;
    socklen_t len = sizeof got;
    CHECK_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &len));
    CHECK(len == sizeof got && got.l_onoff == 1 && got.l_linger == 0);
    close(s);
    CHECK(wait_fd(c, POLLIN, 2000) & (POLLIN | POLLERR | POLLHUP));
    CHECK_ERR(recv(c, buf, sizeof buf, 0), ECONNRESET);
    CHECK(recv(c, buf, sizeof buf, 0) == 0);
    CHECK(sock_int(c, SOL_SOCKET, SO_ERROR) == 0);
    close(c);

    /* Unread data at close also resets the connection. */
    CHECK_OK(tcp_pair(fam, &c, &s));
    CHECK(send(c, "unread", 6, 0) == 6);
    CHECK(wait_fd(s, POLLIN, 2000) & POLLIN);
    close(s);
    CHECK(wait_fd(c, POLLIN, 2000) & POLLIN);
    CHECK_ERR(recv(c, buf, sizeof buf, 0), ECONNRESET);
    close(c);
}

/* A pair whose reader's window and writer's buffer are full (small buffers, reader idle):
 * the writer's FIN cannot be acknowledged until the reader reads. Returns the bytes sent. */
static long stuffed_pair(int *c, int *s) {
    sockaddr_any a;
    *c = *s = -1;
    int l = bound_socket(fam, SOCK_STREAM, &a);
    int small = 4096;
    CHECK_OK(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small));
    CHECK_OK(listen(l, 1));
    *c = socket(fam, SOCK_STREAM, 0);
    CHECK_OK(setsockopt(*c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small));
    CHECK_OK(connect(*c, &a.sa, alen()));
    *s = accept(l, NULL, NULL);
    CHECK(*s >= 0);
    close(l);
    CHECK_OK(fcntl(*c, F_SETFL, O_NONBLOCK));
    char buf[1024];
    memset(buf, 'l', sizeof buf);
    long sent = 0, n;
    for (int round = 0; round < 3; round++) {
        while ((n = send(*c, buf, sizeof buf, 0)) > 0) sent += n;
        CHECK(errno == EAGAIN);
        usleep(20000);
    }
    return sent;
}

/* Reads `fd` to EOF; the byte count, or -1 on an error. */
static long drain(int fd) {
    char buf[4096];
    long got = 0, n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) got += n;
    return n < 0 ? -1 : got;
}

/* SO_LINGER {1, N}: close sends the FIN after the data and waits until both are acknowledged
 * or N seconds pass, then returns 0; the data left is still delivered, then EOF (no reset).
 * Linux waits on a non-blocking socket too, and shutdown does not wait. */
static void test_linger_wait(void) {
    int c, s;
    long sent = stuffed_pair(&c, &s);
    struct linger lg = {1, 1};
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    long t0 = lt_now_ms();
    CHECK_OK(close(c)); /* still O_NONBLOCK */
    long waited = lt_now_ms() - t0;
    CHECK(waited >= 800 && waited < 4000);
    CHECK(drain(s) == sent);
    close(s);

    /* The reader drains after 200 ms: close returns then, well before the 5 s. */
    sent = stuffed_pair(&c, &s);
    CHECK(sent > 0);
    lg.l_linger = 5;
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    int ready[2];
    CHECK_OK(pipe(ready));
    pid_t pid = fork();
    if (pid == 0) {
        close(c);
        close(ready[0]);
        CHECK(write(ready[1], "r", 1) == 1);
        usleep(200000);
        _exit(drain(s) == sent ? 0 : 1);
    }
    close(s);
    close(ready[1]);
    char r;
    CHECK(read(ready[0], &r, 1) == 1);
    close(ready[0]);
    t0 = lt_now_ms();
    CHECK_OK(shutdown(c, SHUT_WR));
    CHECK(lt_now_ms() - t0 < 150);
    CHECK_OK(close(c));
    waited = lt_now_ms() - t0;
    CHECK(waited >= 150 && waited < 3000);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_refused(void) {
    /* A bound socket that does not listen answers with a reset. */
    sockaddr_any a;
    int b = bound_socket(fam, SOCK_STREAM, &a);
    CHECK(b >= 0);
    socklen_t len = fam == AF_INET ? sizeof a.v4 : sizeof a.v6;
    int c = socket(fam, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, &a.sa, len), ECONNREFUSED);
    close(c);

    /* Non-blocking: EINPROGRESS (or the refusal at once), then SO_ERROR ECONNREFUSED. */
    c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
    errno = 0;
    int r = connect(c, &a.sa, len);
    CHECK(r == -1 && (errno == EINPROGRESS || errno == ECONNREFUSED));
    if (r == -1 && errno == EINPROGRESS) {
        int ev = wait_fd(c, POLLOUT, 2000);
        CHECK(ev & POLLOUT);
        CHECK(ev & POLLERR);
        CHECK(sock_int(c, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
        CHECK(sock_int(c, SOL_SOCKET, SO_ERROR) == 0); /* reading it clears it */
    }
    close(c);
    close(b);
}

static void test_nonblock_connect(void) {
    sockaddr_any a, p;
    int l = tcp_listener(fam, &a, 4);
    CHECK(l >= 0);
    socklen_t len = fam == AF_INET ? sizeof a.v4 : sizeof a.v6;
    int c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
    errno = 0;
    int r = connect(c, &a.sa, len);
    CHECK(r == 0 || errno == EINPROGRESS);
    CHECK(wait_fd(c, POLLOUT, 2000) & POLLOUT);
    CHECK(sock_int(c, SOL_SOCKET, SO_ERROR) == 0);
    socklen_t pl = sizeof p;
    CHECK_OK(getpeername(c, &p.sa, &pl));
    CHECK(same_addr(&p, &a));
    /* After EINPROGRESS, the next connect reports the outcome (0); only then EISCONN. */
    if (r != 0) CHECK_OK(connect(c, &a.sa, len));
    CHECK_ERR(connect(c, &a.sa, len), EISCONN);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(send(c, "nb", 2, 0) == 2);
    char buf[4];
    CHECK(recv(s, buf, sizeof buf, 0) == 2);
    close(s);
    close(c);
    close(l);
}

static void test_addr_in_use(void) {
    sockaddr_any a;
    int on = 1;
    int l = tcp_listener(fam, &a, 4);
    CHECK(l >= 0);
    socklen_t len = fam == AF_INET ? sizeof a.v4 : sizeof a.v6;
    int d = socket(fam, SOCK_STREAM, 0);
    CHECK_ERR(bind(d, &a.sa, len), EADDRINUSE);
    close(d);
    /* SO_REUSEADDR does not share a listening port. */
    d = socket(fam, SOCK_STREAM, 0);
    CHECK_OK(setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on));
    CHECK_ERR(bind(d, &a.sa, len), EADDRINUSE);
    close(d);
    close(l);

    /* A listener with SO_REUSEADDR whose connection this side closed first: the port stays in
     * TIME_WAIT. Binding it again needs SO_REUSEADDR, and then works. */
    l = socket(fam, SOCK_STREAM, 0);
    CHECK_OK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on));
    CHECK(sock_int(l, SOL_SOCKET, SO_REUSEADDR) == 1);
    len = loop_addr(fam, &a, 0);
    CHECK_OK(bind(l, &a.sa, len));
    CHECK_OK(getsockname(l, &a.sa, &len));
    CHECK_OK(listen(l, 4));
    int c = tcp_connect(&a);
    int s = accept(l, NULL, NULL);
    CHECK(c >= 0 && s >= 0);
    close(s);
    char buf[4];
    CHECK(recv(c, buf, sizeof buf, 0) == 0);
    close(c);
    close(l);
    lt_sleep_ms(20);
    d = socket(fam, SOCK_STREAM, 0);
    CHECK_ERR(bind(d, &a.sa, len), EADDRINUSE);
    close(d);
    d = socket(fam, SOCK_STREAM, 0);
    CHECK_OK(setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on));
    CHECK_OK(bind(d, &a.sa, len));
    CHECK_OK(listen(d, 4));
    c = tcp_connect(&a);
    CHECK(c >= 0);
    s = accept(d, NULL, NULL);
    CHECK(s >= 0);
    close(s);
    close(c);
    close(d);
}

/* poll's view of a connection through its life. */
static void test_poll_states(void) {
    int c, s;
    char buf[8];
    CHECK_OK(tcp_pair(fam, &c, &s));
    short all = POLLIN | POLLOUT | POLLRDHUP;
    CHECK(wait_fd(s, all, 0) == POLLOUT);
    CHECK(send(c, "d", 1, 0) == 1);
    CHECK(wait_fd(s, POLLIN, 2000) & POLLIN);
    CHECK(wait_fd(s, all, 0) == (POLLIN | POLLOUT));
    CHECK(recv(s, buf, sizeof buf, 0) == 1);
    CHECK_OK(shutdown(c, SHUT_WR));
    CHECK(wait_fd(s, POLLRDHUP, 2000) & POLLRDHUP);
    CHECK(wait_fd(s, all, 0) == (POLLIN | POLLOUT | POLLRDHUP));
    /* The writer's side after its own SHUT_WR: still "writable" (a write fails at once). */
    CHECK(wait_fd(c, all, 0) == POLLOUT);
    CHECK_OK(shutdown(s, SHUT_WR));
    CHECK(wait_fd(c, POLLIN, 2000) & POLLIN);
    /* Both directions shut: POLLHUP on both ends. */
    CHECK(wait_fd(c, all, 0) == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP));
    CHECK(wait_fd(s, all, 0) == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP));
    close(c);
    close(s);
}

/* A reader that does not read: a non-blocking writer fills the buffers, gets EAGAIN and loses
 * POLLOUT; once the reader drains them, POLLOUT comes back and all the data arrives. A blocking
 * writer with SO_SNDTIMEO gives up with EAGAIN. */
static void test_flow(void) {
    int c, s;
    CHECK_OK(tcp_pair(fam, &c, &s));
    CHECK_OK(fcntl(c, F_SETFL, O_NONBLOCK));
    static char chunk[16384];
    memset(chunk, 'f', sizeof chunk);
    size_t sent = 0;
    ssize_t w;
    while ((w = send(c, chunk, sizeof chunk, 0)) > 0 && sent < (256u << 20)) sent += (size_t)w;
    CHECK(w == -1 && errno == EAGAIN);
    CHECK(sent > 0 && sent < (256u << 20));
    CHECK((wait_fd(c, POLLOUT, 0) & POLLOUT) == 0);
    CHECK_ERR(send(c, chunk, 1, MSG_DONTWAIT), EAGAIN);
    /* Blocking, with a send timeout. */
    CHECK_OK(fcntl(c, F_SETFL, 0));
    struct timeval tv = {0, 100000};
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    long t0 = lt_now_ms();
    CHECK_ERR(send(c, chunk, sizeof chunk, 0), EAGAIN);
    CHECK(lt_now_ms() - t0 >= 90);
    static char in[65536];
    size_t got = 0;
    int bad = 0;
    while (got < sent) {
        ssize_t r = recv(s, in, sizeof in, 0);
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; i++) bad += in[i] != 'f';
        got += (size_t)r;
    }
    CHECK(got == sent && bad == 0);
    CHECK(wait_fd(c, POLLOUT, 2000) & POLLOUT);
    CHECK_ERR(recv(s, in, sizeof in, MSG_DONTWAIT), EAGAIN);
    close(c);
    close(s);
}

/* Scatter and gather: writev/readv, sendmsg/recvmsg with several buffers. */
static void test_iov(void) {
    int c, s;
    CHECK_OK(tcp_pair(fam, &c, &s));
    char a[] = "scatter", b[] = "-", d[] = "gather";
    struct iovec out[3] = {{a, 7}, {b, 1}, {d, 6}};
    CHECK(writev(c, out, 3) == 14);
    char x[5] = {0}, y[20] = {0};
    struct iovec in[2] = {{x, 5}, {y, sizeof y}};
    CHECK(wait_fd(s, POLLIN, 2000) & POLLIN);
    CHECK(readv(s, in, 2) == 14);
    CHECK(memcmp(x, "scatt", 5) == 0 && memcmp(y, "er-gather", 9) == 0);

    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = out;
    mh.msg_iovlen = 3;
    CHECK(sendmsg(c, &mh, 0) == 14);
    sockaddr_any from;
    memset(&mh, 0, sizeof mh);
    memset(x, 0, sizeof x);
    in[1].iov_len = 9; /* exactly what was sent, for MSG_WAITALL */
    mh.msg_iov = in;
    mh.msg_iovlen = 2;
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    CHECK(recvmsg(s, &mh, MSG_WAITALL) == 14);
    CHECK(memcmp(x, "scatt", 5) == 0);
    CHECK(mh.msg_namelen == 0 && mh.msg_flags == 0); /* a stream names no sender */
    close(c);
    close(s);
}

/* Raises the soft RLIMIT_NOFILE to `n` descriptors if it is lower (within the hard limit). */
static void need_fds(rlim_t n) {
    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    if (rl.rlim_cur < n) {
        rl.rlim_cur = rl.rlim_max < n ? rl.rlim_max : n;
        CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
    }
}

/* 100 clients connect to a backlog of 128 without anyone accepting; then all are accepted. */
static void test_backlog(void) {
    enum { N = 100 };
    sockaddr_any a, p;
    int cl[N];
    int l = tcp_listener(fam, &a, 128);
    CHECK(l >= 0);
    need_fds(2 * N + 16);
    /* poll on a listener: nothing pending, then POLLIN. */
    CHECK(wait_fd(l, POLLIN, 0) == 0);
    long t0 = lt_now_ms();
    int connected = 0;
    for (int i = 0; i < N; i++) {
        cl[i] = tcp_connect(&a);
        connected += cl[i] >= 0;
    }
    CHECK(connected == N);
    CHECK(lt_now_ms() - t0 < 3000);
    CHECK(wait_fd(l, POLLIN | POLLOUT, 1000) == POLLIN);
    CHECK_OK(fcntl(l, F_SETFL, O_NONBLOCK));
    int n = 0;
    for (int i = 0; i < N; i++) {
        socklen_t len = sizeof p;
        int s = accept(l, &p.sa, &len);
        if (s < 0) break;
        /* In order of arrival. */
        sockaddr_any me;
        socklen_t ml = sizeof me;
        getsockname(cl[i], &me.sa, &ml);
        if (same_addr(&p, &me)) n++;
        close(s);
    }
    CHECK(n == N);
    CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
    CHECK(wait_fd(l, POLLIN, 0) == 0);
    for (int i = 0; i < N; i++) close(cl[i]);
    close(l);
}

static void test_epoll(void) {
    int c, s;
    char buf[16];
    CHECK_OK(tcp_pair(fam, &c, &s));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.u32 = 7};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
    struct epoll_event out[4];
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    CHECK(send(c, "one", 3, 0) == 3);
    CHECK(epoll_wait(ep, out, 4, 2000) == 1 && out[0].events == EPOLLIN && out[0].data.u32 == 7);
    /* Edge-triggered: no new edge without new data. */
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    CHECK(send(c, "two", 3, 0) == 3);
    CHECK(epoll_wait(ep, out, 4, 2000) == 1 && out[0].events == EPOLLIN);
    CHECK(recv(s, buf, sizeof buf, 0) == 6);
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    CHECK_OK(shutdown(c, SHUT_WR));
    CHECK(epoll_wait(ep, out, 4, 2000) == 1);
    CHECK(out[0].events == (EPOLLIN | EPOLLRDHUP));
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    CHECK(wait_fd(s, POLLIN | POLLRDHUP, 0) == (POLLIN | POLLRDHUP));
    /* Writable side: EPOLLOUT at once on a fresh registration. */
    struct epoll_event ev2 = {.events = EPOLLOUT | EPOLLET, .data.u32 = 9};
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev2));
    CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u32 == 9 && out[0].events == EPOLLOUT);
    close(ep);
    close(c);
    close(s);
}

/* 200 connections open at once, each echoing its own byte. */
static void test_many(void) {
    enum { N = 200 };
    need_fds(2 * N + 16);
    sockaddr_any a;
    int cl[N], sv[N];
    int l = tcp_listener(fam, &a, N);
    CHECK(l >= 0);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        cl[i] = tcp_connect(&a);
        sv[i] = cl[i] >= 0 ? accept(l, NULL, NULL) : -1;
        ok += cl[i] >= 0 && sv[i] >= 0;
    }
    CHECK(ok == N);
    for (int i = 0; i < N; i++) {
        unsigned char b = (unsigned char)i;
        if (cl[i] >= 0) CHECK(send(cl[i], &b, 1, 0) == 1);
    }
    int echoed = 0;
    for (int i = 0; i < N; i++) {
        unsigned char b = 0xff;
        if (sv[i] < 0 || recv(sv[i], &b, 1, 0) != 1 || b != (unsigned char)i) continue;
        b = (unsigned char)~b;
        if (send(sv[i], &b, 1, 0) != 1) continue;
        unsigned char r = 0;
        if (recv(cl[i], &r, 1, 0) == 1 && r == (unsigned char)~i) echoed++;
    }
    CHECK(echoed == N);
    for (int i = 0; i < N; i++) {
        close(cl[i]);
        close(sv[i]);
    }
    close(l);
}

static const struct inet_part parts[] = {
    {"basic", test_basic},
    {"bulk", test_bulk},
    {"half_close", test_half_close},
    {"recv_flags", test_recv_flags},
    {"epipe", test_epipe},
    {"linger_reset", test_linger_reset},
    {"linger_wait", test_linger_wait},
    {"refused", test_refused},
    {"nonblock_connect", test_nonblock_connect},
    {"addr_in_use", test_addr_in_use},
    {"backlog", test_backlog},
    {"epoll", test_epoll},
    {"poll_states", test_poll_states},
    {"flow", test_flow},
    {"iov", test_iov},
    {"many", test_many},
};

int main(void) {
    start_watchdog("net_inet_tcp", 55);
    run_parts(parts, sizeof parts / sizeof parts[0], 8000);
    DONE();
}
