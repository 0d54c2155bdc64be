/* Unix domain sockets: socketpair of each type, shutdown, EPIPE/SIGPIPE/MSG_NOSIGNAL,
 * path and abstract names (bind/listen/connect/accept, EADDRINUSE, ECONNREFUSED, ENOENT),
 * getsockname/getpeername, SCM_RIGHTS, SCM_CREDENTIALS, SO_PEERCRED, SO_TYPE, datagram
 * boundaries and MSG_TRUNC, MSG_PEEK, MSG_DONTWAIT, non-blocking accept, bad socket types,
 * poll on a listening socket, and full socket buffers (a writer whose reader does not read
 * gets EAGAIN and loses POLLOUT, stream and datagram; everything arrives once drained). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_pipe;
static void on_pipe(int s) {
    (void)s;
    got_pipe++;
}

static void on_watchdog(int s) {
    (void)s;
    static const char m[] = "net_unix: watchdog: a call blocked for 20 s\n";
    write(1, m, sizeof m - 1);
    _exit(2);
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    a->sun_path[0] = 0;
    memcpy(a->sun_path + 1, name, strlen(name));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void sleep_ms(long ms) {
    struct timespec d = {0, ms * 1000000};
    nanosleep(&d, NULL);
}

static void test_pairs(void) {
    int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
    for (int i = 0; i < 3; i++) {
        int sv[2];
        char buf[16] = {0};
        CHECK_OK(socketpair(AF_UNIX, types[i], 0, sv));
        CHECK(write(sv[0], "ping", 4) == 4);
        CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 4);
        CHECK(memcmp(buf, "ping", 4) == 0);
        CHECK(write(sv[1], "pong!", 5) == 5);
        CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 5);
        CHECK(memcmp(buf, "pong!", 5) == 0);
        int type = -1;
        socklen_t len = sizeof type;
        CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
        CHECK(type == types[i] && len == sizeof(int));
        int dom = -1;
        len = sizeof dom;
        CHECK_OK(getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &dom, &len));
        CHECK(dom == AF_UNIX);
        /* SO_PEERCRED on a pair: this process. */
        struct ucred uc;
        len = sizeof uc;
        CHECK_OK(getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &uc, &len));
        CHECK(len == sizeof uc);
        CHECK(uc.pid == getpid() && uc.uid == getuid() && uc.gid == getgid());
        close(sv[0]);
        close(sv[1]);
    }
    /* Flags on socketpair. */
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    CHECK(fcntl(sv[0], F_GETFD) == FD_CLOEXEC && fcntl(sv[1], F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    char c;
    CHECK_ERR(read(sv[0], &c, 1), EAGAIN);
    close(sv[0]);
    close(sv[1]);

    /* Bad types and protocols. */
    CHECK_ERR(socket(AF_UNIX, 99, 0), EINVAL);
    CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
    CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT);
    CHECK_ERR(socketpair(AF_UNIX, 99, 0, sv), EINVAL);
}

static void test_shutdown_pipe(void) {
    int sv[2];
    char buf[16];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    signal(SIGPIPE, SIG_IGN);

    /* SHUT_WR: the peer reads what was sent, then EOF; the other direction still works. */
    CHECK(write(sv[1], "last", 4) == 4);
    CHECK_OK(shutdown(sv[1], SHUT_WR));
    CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 4);
    CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 0);
    CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 0);
    CHECK_ERR(write(sv[1], "x", 1), EPIPE);
    CHECK(write(sv[0], "back", 4) == 4);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 4);
    CHECK(memcmp(buf, "back", 4) == 0);
    CHECK_ERR(shutdown(sv[0], 7), EINVAL);
    close(sv[0]);
    close(sv[1]);

    /* The peer closes: EPIPE with SIGPIPE ignored; reads give EOF. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    close(sv[1]);
    CHECK_ERR(write(sv[0], "x", 1), EPIPE);
    CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
    CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 0);

    /* With a handler: SIGPIPE is delivered along with EPIPE; MSG_NOSIGNAL suppresses it. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_pipe;
    sigaction(SIGPIPE, &sa, NULL);
    CHECK_ERR(write(sv[0], "x", 1), EPIPE);
    CHECK(got_pipe == 1);
    CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK(got_pipe == 1);
    close(sv[0]);

    /* Default action: a child writing to a closed socket dies of SIGPIPE; with
     * MSG_NOSIGNAL it gets EPIPE and lives. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    close(sv[1]);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        if (send(sv[0], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
            _exit(3);
        write(sv[0], "x", 1);
        _exit(4);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
    close(sv[0]);
    signal(SIGPIPE, SIG_IGN);

    /* SEQPACKET: the peer's close gives EOF and EPIPE too. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    close(sv[1]);
    CHECK(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 0);
    CHECK_ERR(write(sv[0], "x", 1), EPIPE);
    close(sv[0]);
}

static void test_paths(void) {
    struct sockaddr_un a, got;
    socklen_t alen = path_addr(&a, "sock1");
    socklen_t len;
    char buf[64];

    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(l >= 0);
    /* An unbound socket's name is just the family. */
    len = sizeof got;
    memset(&got, 0x55, sizeof got);
    CHECK_OK(getsockname(l, (struct sockaddr *)&got, &len));
    CHECK(len == sizeof(sa_family_t) && got.sun_family == AF_UNIX);
    CHECK_ERR(getpeername(l, (struct sockaddr *)&got, &len), ENOTCONN);
    /* Not listening yet: accept is refused. */
    CHECK_ERR(accept(l, NULL, NULL), EINVAL);

    CHECK_OK(bind(l, (struct sockaddr *)&a, alen));
    struct stat sb;
    CHECK_OK(stat("sock1", &sb));
    CHECK(S_ISSOCK(sb.st_mode));
    /* Bound twice: EINVAL; the same path from another socket: EADDRINUSE. */
    struct sockaddr_un a2;
    socklen_t a2len = path_addr(&a2, "sock2");
    CHECK_ERR(bind(l, (struct sockaddr *)&a2, a2len), EINVAL);
    int o = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(bind(o, (struct sockaddr *)&a, alen), EADDRINUSE);
    /* A path that names a regular file is in use too. */
    close(open("plainfile", O_CREAT | O_WRONLY, 0644));
    struct sockaddr_un a3;
    socklen_t a3len = path_addr(&a3, "plainfile");
    CHECK_ERR(bind(o, (struct sockaddr *)&a3, a3len), EADDRINUSE);
    /* Bad address arguments. */
    CHECK_ERR(bind(o, (struct sockaddr *)&a, sizeof(struct sockaddr_un) + 1), EINVAL);
    struct sockaddr_un inet = a;
    inet.sun_family = AF_INET;
    CHECK_ERR(bind(o, (struct sockaddr *)&inet, alen), EINVAL);
    close(o);

    len = sizeof got;
    memset(&got, 0, sizeof got);
    CHECK_OK(getsockname(l, (struct sockaddr *)&got, &len));
    CHECK(len == alen);
    CHECK(got.sun_family == AF_UNIX && strcmp(got.sun_path, "sock1") == 0);

    CHECK_OK(listen(l, 8));
    int acc = -1;
    len = sizeof acc;
    CHECK_OK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len));
    CHECK(acc == 1);

    /* Non-blocking accept with nobody waiting: EAGAIN. */
    int fl = fcntl(l, F_GETFL);
    CHECK_OK(fcntl(l, F_SETFL, fl | O_NONBLOCK));
    CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
    CHECK_ERR(accept4(l, NULL, NULL, SOCK_NONBLOCK), EAGAIN);
    CHECK_OK(fcntl(l, F_SETFL, fl));

    /* poll: a listening socket becomes readable when a client connects. */
    struct pollfd pf = {l, POLLIN, 0};
    CHECK(poll(&pf, 1, 0) == 0);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, alen));
    CHECK(poll(&pf, 1, 1000) == 1);
    CHECK(pf.revents == POLLIN);
    /* Connecting again: EISCONN. */
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), EISCONN);

    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    memset(&peer, 0x55, sizeof peer);
    int s = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    CHECK(s >= 0);
    CHECK(plen == sizeof(sa_family_t)); /* the client is unbound */
    CHECK(fcntl(s, F_GETFD) == FD_CLOEXEC);
    CHECK(poll(&pf, 1, 0) == 0);

    /* Names on both ends. */
    len = sizeof got;
    memset(&got, 0, sizeof got);
    CHECK_OK(getpeername(c, (struct sockaddr *)&got, &len));
    CHECK(len == alen && strcmp(got.sun_path, "sock1") == 0);
    len = sizeof got;
    memset(&got, 0, sizeof got);
    CHECK_OK(getsockname(s, (struct sockaddr *)&got, &len));
    CHECK(len == alen && strcmp(got.sun_path, "sock1") == 0);
    len = sizeof got;
    CHECK_OK(getpeername(s, (struct sockaddr *)&got, &len));
    CHECK(len == sizeof(sa_family_t));
    /* A short buffer truncates and reports the full length. */
    struct sockaddr_un tiny;
    len = offsetof(struct sockaddr_un, sun_path) + 2;
    memset(&tiny, 0, sizeof tiny);
    CHECK_OK(getpeername(c, (struct sockaddr *)&tiny, &len));
    CHECK(len == alen);
    CHECK(tiny.sun_path[0] == 's' && tiny.sun_path[1] == 'o' && tiny.sun_path[2] == 0);

    /* Data both ways; MSG_PEEK leaves it; MSG_DONTWAIT on empty: EAGAIN. */
    CHECK(write(c, "hello", 5) == 5);
    memset(buf, 0, sizeof buf);
    CHECK(recv(s, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    memset(buf, 0, sizeof buf);
    CHECK(recv(s, buf, 3, MSG_PEEK | MSG_DONTWAIT) == 3);
    CHECK(memcmp(buf, "hel", 3) == 0);
    memset(buf, 0, sizeof buf);
    CHECK(recv(s, buf, sizeof buf, MSG_DONTWAIT) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_ERR(recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    /* Stream: two writes may be read as one. */
    CHECK(write(s, "ab", 2) == 2);
    CHECK(write(s, "cd", 2) == 2);
    sleep_ms(5);
    memset(buf, 0, sizeof buf);
    CHECK(recv(c, buf, sizeof buf, MSG_DONTWAIT) == 4);
    CHECK(memcmp(buf, "abcd", 4) == 0);

    /* SO_PEERCRED on a path connection made by a child: the child's pid. */
    pid_t pid = fork();
    if (pid == 0) {
        int cc = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(cc, (struct sockaddr *)&a, alen) != 0)
            _exit(1);
        char x;
        read(cc, &x, 1); /* wait for the parent */
        _exit(0);
    }
    int s2 = accept(l, NULL, NULL);
    CHECK(s2 >= 0);
    struct ucred uc;
    len = sizeof uc;
    CHECK_OK(getsockopt(s2, SOL_SOCKET, SO_PEERCRED, &uc, &len));
    CHECK(uc.pid == pid && uc.uid == getuid() && uc.gid == getgid());
    write(s2, "k", 1);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The child exited: EOF. */
    CHECK(recv(s2, buf, sizeof buf, MSG_DONTWAIT) == 0);
    close(s2);
    /* The listener's own credentials, for a client connecting to it. */
    len = sizeof uc;
    CHECK_OK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &len));
    CHECK(uc.pid == getpid());

    close(s);
    close(c);

    /* The listener closes: the path remains but nobody listens → ECONNREFUSED; after
     * unlink → ENOENT. */
    close(l);
    CHECK_OK(stat("sock1", &sb));
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
    CHECK_OK(unlink("sock1"));
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ENOENT);
    struct sockaddr_un m;
    socklen_t mlen = path_addr(&m, "no/such/dir/sock");
    CHECK_ERR(connect(c, (struct sockaddr *)&m, mlen), ENOENT);
    /* A regular file is not a socket. */
    CHECK_ERR(connect(c, (struct sockaddr *)&a3, a3len), ECONNREFUSED);
    /* The path can be bound again after unlink. */
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(bind(l, (struct sockaddr *)&a, alen));
    /* Bound but not listening: refused. */
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
    close(l);
    close(c);
    unlink("sock1");

    /* A stream client cannot connect to a datagram socket. */
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(bind(d, (struct sockaddr *)&a, alen));
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), EPROTOTYPE);
    close(c);
    close(d);
    unlink("sock1");
    unlink("plainfile");

    /* Unconnected stream sockets. */
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(write(c, "x", 1), ENOTCONN);
    CHECK_ERR(listen(c, 1), EINVAL); /* not bound */
    close(c);
}

static void test_abstract(void) {
    char name[64];
    snprintf(name, sizeof name, "lintel-net-unix-%d", (int)getpid());
    struct sockaddr_un a, got;
    socklen_t alen = abstract_addr(&a, name);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(bind(l, (struct sockaddr *)&a, alen));
    CHECK_OK(listen(l, 4));
    int o = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(bind(o, (struct sockaddr *)&a, alen), EADDRINUSE);
    close(o);
    socklen_t len = sizeof got;
    memset(&got, 0x55, sizeof got);
    CHECK_OK(getsockname(l, (struct sockaddr *)&got, &len));
    CHECK(len == alen);
    CHECK(got.sun_path[0] == 0 && memcmp(got.sun_path + 1, name, strlen(name)) == 0);

    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, alen));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    len = sizeof got;
    memset(&got, 0x55, sizeof got);
    CHECK_OK(getpeername(c, (struct sockaddr *)&got, &len));
    CHECK(len == alen && got.sun_path[0] == 0 &&
          memcmp(got.sun_path + 1, name, strlen(name)) == 0);
    char buf[8];
    CHECK(write(s, "abs", 3) == 3);
    CHECK(recv(c, buf, sizeof buf, MSG_DONTWAIT) == 3);
    close(s);
    close(c);
    /* The name goes away with the socket: refused, and free to bind again. */
    close(l);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(bind(l, (struct sockaddr *)&a, alen));
    close(l);
    close(c);

    /* A name with a different length is a different name. */
    struct sockaddr_un b;
    socklen_t blen = abstract_addr(&b, name);
    l = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(bind(l, (struct sockaddr *)&b, blen));
    o = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(bind(o, (struct sockaddr *)&b, blen - 1));
    close(o);
    close(l);

    /* Autobind: binding with just the family gives an abstract 5-hex-digit name. */
    l = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un fam = {.sun_family = AF_UNIX};
    CHECK_OK(bind(l, (struct sockaddr *)&fam, sizeof(sa_family_t)));
    len = sizeof got;
    memset(&got, 0, sizeof got);
    CHECK_OK(getsockname(l, (struct sockaddr *)&got, &len));
    CHECK(len == offsetof(struct sockaddr_un, sun_path) + 6);
    CHECK(got.sun_path[0] == 0);
    close(l);
}

static void test_dgram(void) {
    char buf[64];
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    /* Boundaries are kept. */
    CHECK(send(sv[0], "abc", 3, 0) == 3);
    CHECK(send(sv[0], "defgh", 5, 0) == 5);
    CHECK(send(sv[0], "", 0, 0) == 0);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 5);
    CHECK(memcmp(buf, "defgh", 5) == 0);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 0); /* the empty datagram */
    CHECK_ERR(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    /* A short buffer truncates the datagram; the rest is discarded; MSG_TRUNC in
     * msg_flags; MSG_TRUNC as a flag returns the real length. */
    CHECK(send(sv[0], "hello world", 11, 0) == 11);
    CHECK(send(sv[0], "second", 6, 0) == 6);
    CHECK(send(sv[0], "third datagram", 14, 0) == 14);
    struct iovec iov = {buf, 5};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    memset(buf, 0, sizeof buf);
    CHECK(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(mh.msg_flags & MSG_TRUNC);
    mh.msg_flags = 0;
    CHECK(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 5);
    CHECK(memcmp(buf, "secon", 5) == 0);
    CHECK(recv(sv[1], buf, 4, MSG_TRUNC | MSG_DONTWAIT) == 14);
    CHECK(memcmp(buf, "thir", 4) == 0);

    /* MSG_PEEK keeps the datagram. */
    CHECK(send(sv[0], "peek", 4, 0) == 4);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT) == 4);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 4);
    CHECK_ERR(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    close(sv[1]);

    /* Seqpacket keeps boundaries as well. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    CHECK(send(sv[0], "one", 3, 0) == 3);
    CHECK(send(sv[0], "two!", 4, 0) == 4);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 3);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 4);
    CHECK(send(sv[0], "truncated", 9, 0) == 9);
    memset(&mh, 0, sizeof mh);
    iov.iov_len = 4;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    CHECK(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 4);
    CHECK(mh.msg_flags & MSG_TRUNC);
    CHECK_ERR(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(sv[0]);
    close(sv[1]);

    /* Bound datagram sockets: sendto a path; recvfrom names the sender. */
    struct sockaddr_un ra, sa, from;
    socklen_t ralen = path_addr(&ra, "dgr");
    socklen_t salen = path_addr(&sa, "dgs");
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_OK(bind(r, (struct sockaddr *)&ra, ralen));
    CHECK_OK(bind(s, (struct sockaddr *)&sa, salen));
    CHECK_ERR(send(s, "x", 1, 0), ENOTCONN);
    CHECK(sendto(s, "to-r", 4, 0, (struct sockaddr *)&ra, ralen) == 4);
    socklen_t flen = sizeof from;
    memset(&from, 0, sizeof from);
    CHECK(recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 4);
    CHECK(flen == salen && strcmp(from.sun_path, "dgs") == 0);
    /* connect sets the default destination. */
    CHECK_OK(connect(s, (struct sockaddr *)&ra, ralen));
    CHECK(send(s, "conn", 4, 0) == 4);
    CHECK(recv(r, buf, sizeof buf, MSG_DONTWAIT) == 4);
    struct sockaddr_un nx;
    socklen_t nxlen = path_addr(&nx, "nothere");
    CHECK_ERR(sendto(r, "x", 1, 0, (struct sockaddr *)&nx, nxlen), ENOENT);
    close(r);
    /* The receiver is gone: ECONNREFUSED for the connected sender. */
    CHECK_ERR(send(s, "x", 1, 0), ECONNREFUSED);
    close(s);
    unlink("dgr");
    unlink("dgs");
}

static void test_rights(void) {
    int sv[2], p[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(pipe(p));

    /* Send the pipe's write end and read end along with one byte. */
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    char data = 'R';
    struct iovec iov = {&data, 1};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
    memcpy(CMSG_DATA(cm), p, 2 * sizeof(int));
    CHECK(sendmsg(sv[0], &mh, 0) == 1);
    /* The sender's copies can go; the passed ones keep the pipe open. */
    close(p[0]);
    close(p[1]);

    memset(&u, 0, sizeof u);
    memset(&mh, 0, sizeof mh);
    char rdata = 0;
    struct iovec riov = {&rdata, 1};
    mh.msg_iov = &riov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    CHECK(recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) == 1);
    CHECK(rdata == 'R');
    CHECK((mh.msg_flags & MSG_CTRUNC) == 0);
    cm = CMSG_FIRSTHDR(&mh);
    CHECK(cm != NULL);
    if (cm) {
        CHECK(cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS);
        CHECK(cm->cmsg_len == CMSG_LEN(2 * sizeof(int)));
        int fds[2];
        memcpy(fds, CMSG_DATA(cm), sizeof fds);
        CHECK(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1]);
        CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC);
        CHECK(write(fds[1], "via", 3) == 3);
        char b[8] = {0};
        CHECK(read(fds[0], b, sizeof b) == 3);
        CHECK(memcmp(b, "via", 3) == 0);
        close(fds[1]);
        CHECK(read(fds[0], b, sizeof b) == 0); /* last writer gone */
        close(fds[0]);
        CHECK(CMSG_NXTHDR(&mh, cm) == NULL);
    }

    /* Passing to another process: a child receives an fd and writes through it. */
    CHECK_OK(pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        close(p[1]);
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } cu;
        char d;
        struct iovec ci = {&d, 1};
        struct msghdr cmh;
        memset(&cmh, 0, sizeof cmh);
        cmh.msg_iov = &ci;
        cmh.msg_iovlen = 1;
        cmh.msg_control = cu.buf;
        cmh.msg_controllen = sizeof cu.buf;
        if (recvmsg(sv[1], &cmh, 0) != 1)
            _exit(1);
        struct cmsghdr *c = CMSG_FIRSTHDR(&cmh);
        if (!c || c->cmsg_type != SCM_RIGHTS)
            _exit(2);
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        _exit(write(fd, "child", 5) == 5 ? 0 : 3);
    }
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u1;
    memset(&u1, 0, sizeof u1);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u1.buf;
    mh.msg_controllen = sizeof u1.buf;
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
    CHECK(sendmsg(sv[0], &mh, 0) == 1);
    close(p[1]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char b[8] = {0};
    CHECK(read(p[0], b, sizeof b) == 5);
    CHECK(memcmp(b, "child", 5) == 0);
    CHECK(read(p[0], b, sizeof b) == 0);
    close(p[0]);

    /* Sending a bad fd: EBADF. */
    memset(&u1, 0, sizeof u1);
    mh.msg_control = u1.buf;
    mh.msg_controllen = sizeof u1.buf;
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    int badfd = 999;
    memcpy(CMSG_DATA(cm), &badfd, sizeof(int));
    CHECK_ERR(sendmsg(sv[0], &mh, 0), EBADF);
    close(sv[0]);
    close(sv[1]);
}

static void test_creds(void) {
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    int on = 1;
    CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    int v = 0;
    socklen_t len = sizeof v;
    CHECK_OK(getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, &len));
    CHECK(v == 1);

    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    char d = 'c';
    struct iovec iov = {&d, 1};
    struct msghdr mh;

    /* Sent without credentials: the receiver gets the sender's anyway. */
    CHECK(send(sv[0], "s", 1, 0) == 1);
    memset(&u, 0, sizeof u);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    CHECK(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 1);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    CHECK(cm != NULL);
    if (cm) {
        CHECK(cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS);
        struct ucred uc;
        memcpy(&uc, CMSG_DATA(cm), sizeof uc);
        CHECK(uc.pid == getpid() && uc.uid == getuid() && uc.gid == getgid());
        if (uc.pid != getpid())
            printf("  SCM_CREDENTIALS pid %d uid %d gid %d; the sender was %d\n", (int)uc.pid,
                   (int)uc.uid, (int)uc.gid, (int)getpid());
    }

    /* The same from a child (that has exited by the time of the receive). */
    pid_t pid = fork();
    if (pid == 0) {
        _exit(send(sv[0], "k", 1, 0) == 1 ? 0 : 1);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    memset(&u, 0, sizeof u);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    CHECK(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 1);
    cm = CMSG_FIRSTHDR(&mh);
    CHECK(cm != NULL);
    if (cm) {
        CHECK(cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS);
        CHECK(cm->cmsg_len == CMSG_LEN(sizeof(struct ucred)));
        struct ucred uc;
        memcpy(&uc, CMSG_DATA(cm), sizeof uc);
        CHECK(uc.pid == pid && uc.uid == getuid() && uc.gid == getgid());
        if (uc.pid != pid)
            printf("  SCM_CREDENTIALS pid %d uid %d gid %d; the sender was %d\n", (int)uc.pid,
                   (int)uc.uid, (int)uc.gid, (int)pid);
    }

    /* Explicit credentials with this process's own ids are accepted. */
    memset(&u, 0, sizeof u);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_CREDENTIALS;
    cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred me = {getpid(), getuid(), getgid()};
    memcpy(CMSG_DATA(cm), &me, sizeof me);
    CHECK(sendmsg(sv[0], &mh, 0) == 1);
    memset(&u, 0, sizeof u);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    CHECK(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 1);
    cm = CMSG_FIRSTHDR(&mh);
    CHECK(cm != NULL);
    if (cm) {
        struct ucred uc;
        memcpy(&uc, CMSG_DATA(cm), sizeof uc);
        CHECK(cm->cmsg_type == SCM_CREDENTIALS);
        CHECK(uc.pid == getpid() && uc.uid == getuid() && uc.gid == getgid());
    }

    /* Without SO_PASSCRED on the receiver, no control message. */
    on = 0;
    CHECK_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    CHECK(send(sv[0], "n", 1, 0) == 1);
    memset(&u, 0, sizeof u);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    CHECK(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 1);
    CHECK(mh.msg_controllen == 0);
    close(sv[0]);
    close(sv[1]);
}

/* Socket buffers run out (issue 19's exhaustion list): a non-blocking writer whose peer does
 * not read fills the buffers and gets EAGAIN, within a bound (the buffers are finite), and
 * POLLOUT goes; the reader then gets every byte (or datagram) in order, POLLOUT comes back
 * and sending works again. */
static void test_full_buffers(void) {
    static char chunk[4096], in[65536];
    for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++) {
        int sv[2];
        CHECK_OK(socketpair(AF_UNIX, type, 0, sv));
        CHECK_OK(fcntl(sv[0], F_SETFL, O_NONBLOCK));
        size_t sent = 0, n = 0;
        ssize_t w = 0;
        while (sent < (64u << 20)) {
            memset(chunk, 'a' + (int)(n % 26), sizeof chunk);
            w = send(sv[0], chunk, sizeof chunk, 0);
            if (w <= 0) break;
            sent += (size_t)w;
            n++;
        }
        CHECK(w == -1 && errno == EAGAIN);
        CHECK(sent > 0 && sent < (64u << 20));
        struct pollfd p = {.fd = sv[0], .events = POLLOUT};
        CHECK(poll(&p, 1, 0) == 0);
        CHECK_ERR(send(sv[0], chunk, 1, MSG_DONTWAIT), EAGAIN);
        /* Drain: the same bytes in the same order (each 4 KiB chunk one letter). */
        size_t got = 0;
        int bad = 0;
        while (got < sent) {
            ssize_t r = recv(sv[1], in, sizeof in, MSG_DONTWAIT);
            if (r <= 0) break;
            if (type == SOCK_DGRAM) bad += r != (ssize_t)sizeof chunk;
            for (ssize_t i = 0; i < r; i++) bad += in[i] != 'a' + (int)((got + (size_t)i) / sizeof chunk % 26);
            got += (size_t)r;
        }
        CHECK(got == sent && bad == 0);
        CHECK_ERR(recv(sv[1], in, sizeof in, MSG_DONTWAIT), EAGAIN);
        p.revents = 0;
        CHECK(poll(&p, 1, 2000) == 1 && (p.revents & POLLOUT));
        CHECK(send(sv[0], chunk, sizeof chunk, 0) == (ssize_t)sizeof chunk);
        CHECK(recv(sv[1], in, sizeof in, 0) == (ssize_t)sizeof chunk);
        close(sv[0]);
        close(sv[1]);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGALRM, on_watchdog);
    alarm(20);
    test_pairs();
    test_shutdown_pipe();
    test_paths();
    test_abstract();
    test_dgram();
    test_rights();
    test_creds();
    test_full_buffers();
    DONE();
}
