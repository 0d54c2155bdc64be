/* UDP over loopback, IPv4 and IPv6: bind(port 0)/sendto/recvfrom with the source address,
 * datagram boundaries, MSG_PEEK, MSG_TRUNC (recv returns the full length; recvmsg sets
 * msg_flags), connect() then send/recv, a connected socket ignores other senders, connect to
 * AF_UNSPEC dissolves it, ECONNREFUSED on a connected socket after sending to a port nobody
 * bound, FIONREAD gives the next datagram's size, empty datagrams, SO_RCVTIMEO -> EAGAIN,
 * sendmmsg/recvmmsg of 3 datagrams, SO_TYPE/SO_PROTOCOL, EDESTADDRREQ, EMSGSIZE, EADDRINUSE
 * and SO_REUSEADDR port sharing, poll; dual stack: an IPv6 socket on :: exchanges datagrams
 * with an IPv4 one, which it sees as ::ffff:127.0.0.1. */
#define _GNU_SOURCE
#include "net_inet.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/uio.h>


/* Two bound UDP sockets; their addresses in *pa and *pb. */
static void udp_two(int *a, int *b, sockaddr_any *pa, sockaddr_any *pb) {
    *a = bound_socket(fam, SOCK_DGRAM, pa);
    *b = bound_socket(fam, SOCK_DGRAM, pb);
    CHECK(*a >= 0 && *b >= 0);
}

static void test_sendto(void) {
    int a, b;
    sockaddr_any pa, pb, from;
    char buf[2000];
    udp_two(&a, &b, &pa, &pb);
    CHECK(is_loopback(&pa) && addr_port(&pa) != 0 && addr_port(&pa) != addr_port(&pb));
    CHECK(sock_int(a, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    CHECK(sock_int(a, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
    CHECK(sock_int(a, SOL_SOCKET, SO_DOMAIN) == fam);

    CHECK(sendto(a, "hello", 5, 0, &pb.sa, alen()) == 5);
    socklen_t fl = sizeof from;
    memset(&from, 0, sizeof from);
    CHECK(recvfrom(b, buf, sizeof buf, 0, &from.sa, &fl) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(fl == alen() && same_addr(&from, &pa));
    /* Not connected: no peer. */
    fl = sizeof from;
    CHECK_ERR(getpeername(a, &from.sa, &fl), ENOTCONN);
    CHECK_ERR(send(a, "x", 1, 0), EDESTADDRREQ);

    /* Boundaries: three datagrams come back as three. */
    static char big[1000];
    memset(big, 'z', sizeof big);
    CHECK(sendto(a, "1", 1, 0, &pb.sa, alen()) == 1);
    CHECK(sendto(a, big, 100, 0, &pb.sa, alen()) == 100);
    CHECK(sendto(a, big, 1000, 0, &pb.sa, alen()) == 1000);
    CHECK(wait_fd(b, POLLIN, 2000) & POLLIN);
    CHECK(recv(b, buf, sizeof buf, MSG_PEEK) == 1);
    CHECK(recv(b, buf, sizeof buf, 0) == 1);
    CHECK(recv(b, buf, sizeof buf, 0) == 100);
    CHECK(recv(b, buf, sizeof buf, 0) == 1000);
    CHECK_ERR(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    /* An unbound socket is bound to an ephemeral port by its first sendto. */
    int c = socket(fam, SOCK_DGRAM, 0);
    sockaddr_any pc;
    socklen_t cl = sizeof pc;
    CHECK_OK(getsockname(c, &pc.sa, &cl));
    CHECK(addr_port(&pc) == 0);
    CHECK(sendto(c, "u", 1, 0, &pb.sa, alen()) == 1);
    cl = sizeof pc;
    CHECK_OK(getsockname(c, &pc.sa, &cl));
    CHECK(addr_port(&pc) != 0);
    fl = sizeof from;
    CHECK(recvfrom(b, buf, sizeof buf, 0, &from.sa, &fl) == 1);
    CHECK(addr_port(&from) == addr_port(&pc) && is_loopback(&from));

    /* Larger than the largest datagram. */
    size_t huge = 70000;
    char *hb = calloc(1, huge);
    CHECK_ERR(sendto(a, hb, huge, 0, &pb.sa, alen()), EMSGSIZE);
    free(hb);
    close(c);
    close(a);
    close(b);
}

static void test_trunc(void) {
    int a, b;
    sockaddr_any pa, pb;
    char buf[200];
    udp_two(&a, &b, &pa, &pb);
    memset(buf, 'q', sizeof buf);
    CHECK(sendto(a, buf, 100, 0, &pb.sa, alen()) == 100);
    CHECK(sendto(a, buf, 100, 0, &pb.sa, alen()) == 100);
    CHECK(wait_fd(b, POLLIN, 2000) & POLLIN);
    /* MSG_TRUNC: the real length; the rest of the datagram is gone. */
    CHECK(recv(b, buf, 10, MSG_TRUNC) == 100);
    /* Without it: what fits, and MSG_TRUNC in msg_flags. */
    struct iovec iov = {buf, 10};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    CHECK(recvmsg(b, &mh, 0) == 10);
    CHECK(mh.msg_flags & MSG_TRUNC);
    CHECK_ERR(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    /* A whole datagram: no MSG_TRUNC. */
    CHECK(sendto(a, buf, 5, 0, &pb.sa, alen()) == 5);
    iov.iov_len = sizeof buf;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    CHECK(recvmsg(b, &mh, 0) == 5);
    CHECK(!(mh.msg_flags & MSG_TRUNC));
    close(a);
    close(b);
}

static void test_connected(void) {
    int a, b;
    sockaddr_any pa, pb, p;
    char buf[64];
    udp_two(&a, &b, &pa, &pb);
    CHECK_OK(connect(a, &pb.sa, alen()));
    CHECK_OK(connect(b, &pa.sa, alen()));
    socklen_t pl = sizeof p;
    CHECK_OK(getpeername(a, &p.sa, &pl));
    CHECK(pl == alen() && same_addr(&p, &pb));
    CHECK(send(a, "ping", 4, 0) == 4);
    CHECK(recv(b, buf, sizeof buf, 0) == 4 && memcmp(buf, "ping", 4) == 0);
    CHECK(write(b, "pong", 4) == 4);
    CHECK(read(a, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0);

    /* b only hears a: a third socket's datagram is dropped. */
    sockaddr_any pc;
    int c = bound_socket(fam, SOCK_DGRAM, &pc);
    CHECK(sendto(c, "intruder", 8, 0, &pb.sa, alen()) == 8);
    CHECK(send(a, "mine", 4, 0) == 4);
    CHECK(wait_fd(b, POLLIN, 2000) & POLLIN);
    sockaddr_any from;
    socklen_t fl = sizeof from;
    CHECK(recvfrom(b, buf, sizeof buf, 0, &from.sa, &fl) == 4 && memcmp(buf, "mine", 4) == 0);
    CHECK(same_addr(&from, &pa));
    CHECK_ERR(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    /* sendto with an address on a connected socket goes there. */
    CHECK(sendto(b, "side", 4, 0, &pc.sa, alen()) == 4);
    CHECK(recv(c, buf, sizeof buf, 0) == 4);

    /* connect(AF_UNSPEC) dissolves the association. A port that bind() chose (port 0) is
     * given up with it, the address kept; an explicitly bound port stays. */
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    CHECK_OK(connect(b, &un, sizeof un));
    pl = sizeof p;
    CHECK_ERR(getpeername(b, &p.sa, &pl), ENOTCONN);
    pl = sizeof p;
    CHECK_OK(getsockname(b, &p.sa, &pl));
    CHECK(is_loopback(&p) && addr_port(&p) == 0);
    CHECK_OK(bind(b, &pb.sa, alen()));
    CHECK_OK(connect(b, &pa.sa, alen()));
    CHECK_OK(connect(b, &un, sizeof un));
    pl = sizeof p;
    CHECK_OK(getsockname(b, &p.sa, &pl));
    CHECK(same_addr(&p, &pb));
    CHECK(sendto(c, "again", 5, 0, &pb.sa, alen()) == 5);
    CHECK(wait_fd(b, POLLIN, 2000) & POLLIN);
    CHECK(recv(b, buf, sizeof buf, MSG_DONTWAIT) == 5 && memcmp(buf, "again", 5) == 0);
    close(a);
    close(b);
    close(c);
}

/* A port that nobody has bound: taken from a socket that is closed again. The ICMP port
 * unreachable that answers a datagram sent there is reported to a connected sender. */
static void test_refused(void) {
    sockaddr_any dead;
    char buf[16];
    int d = bound_socket(fam, SOCK_DGRAM, &dead);
    close(d);
    int a = socket(fam, SOCK_DGRAM, 0);
    struct timeval tv = {2, 0};
    CHECK_OK(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    CHECK_OK(connect(a, &dead.sa, alen()));
    CHECK(send(a, "anyone?", 7, 0) == 7);
    CHECK_ERR(recv(a, buf, sizeof buf, 0), ECONNREFUSED);
    CHECK(sock_int(a, SOL_SOCKET, SO_ERROR) == 0); /* reported once */
    CHECK_ERR(recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    /* Again, this time read through SO_ERROR. */
    CHECK(send(a, "anyone?", 7, 0) == 7);
    long t0 = lt_now_ms();
    int e = 0;
    while ((e = sock_int(a, SOL_SOCKET, SO_ERROR)) == 0 && lt_now_ms() - t0 < 2000)
        lt_sleep_ms(5);
    CHECK(e == ECONNREFUSED);
    CHECK_ERR(recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    close(a);

    /* An unconnected sender hears nothing of it. */
    a = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    CHECK(sendto(a, "anyone?", 7, 0, &dead.sa, alen()) == 7);
    lt_sleep_ms(20);
    CHECK_ERR(recv(a, buf, sizeof buf, 0), EAGAIN);
    CHECK(sock_int(a, SOL_SOCKET, SO_ERROR) == 0);
    close(a);
}

static void test_fionread_empty(void) {
    int a, b;
    sockaddr_any pa, pb, from;
    char buf[64];
    udp_two(&a, &b, &pa, &pb);
    int n = -1;
    CHECK_OK(ioctl(b, FIONREAD, &n));
    CHECK(n == 0);
    CHECK(sendto(a, "seven!!", 7, 0, &pb.sa, alen()) == 7);
    CHECK(sendto(a, buf, 30, 0, &pb.sa, alen()) == 30);
    CHECK(wait_fd(b, POLLIN, 2000) & POLLIN);
    n = -1;
    CHECK_OK(ioctl(b, FIONREAD, &n));
    CHECK(n == 7); /* the next datagram, not the queue */
    CHECK(recv(b, buf, sizeof buf, 0) == 7);
    CHECK_OK(ioctl(b, FIONREAD, &n));
    CHECK(n == 30);
    CHECK(recv(b, buf, sizeof buf, 0) == 30);

    /* An empty datagram is a datagram: readable, recv returns 0 with its source. */
    CHECK(sendto(a, "", 0, 0, &pb.sa, alen()) == 0);
    CHECK(wait_fd(b, POLLIN, 2000) & POLLIN);
    n = -1;
    CHECK_OK(ioctl(b, FIONREAD, &n));
    CHECK(n == 0);
    socklen_t fl = sizeof from;
    CHECK(recvfrom(b, buf, sizeof buf, MSG_DONTWAIT, &from.sa, &fl) == 0);
    CHECK(same_addr(&from, &pa));
    CHECK_ERR(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK(wait_fd(b, POLLIN, 0) == 0);
    CHECK(wait_fd(b, POLLOUT, 0) == POLLOUT);
    close(a);
    close(b);
}

static void test_rcvtimeo(void) {
    sockaddr_any pa;
    char buf[8];
    int a = bound_socket(fam, SOCK_DGRAM, &pa);
    struct timeval tv = {0, 200000}, got;
    CHECK_OK(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    socklen_t len = sizeof got;
    CHECK_OK(getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
    CHECK(len == sizeof got && got.tv_sec == 0 && got.tv_usec == 200000);
    long t0 = lt_now_ms();
    CHECK_ERR(recv(a, buf, sizeof buf, 0), EAGAIN);
    long dt = lt_now_ms() - t0;
    CHECK(dt >= 190 && dt < 2000);
    struct timeval bad = {0, 1000000};
    CHECK_ERR(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof bad), EDOM);
    close(a);
}

static void test_mmsg(void) {
    int a, b;
    sockaddr_any pa, pb;
    udp_two(&a, &b, &pa, &pb);
    CHECK_OK(connect(a, &pb.sa, alen()));
    const char *msgs[3] = {"first", "second!", "3"};
    struct iovec iov[3];
    struct mmsghdr mm[3];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        iov[i].iov_base = (void *)msgs[i];
        iov[i].iov_len = strlen(msgs[i]);
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK(sendmmsg(a, mm, 3, 0) == 3);
    for (int i = 0; i < 3; i++) CHECK(mm[i].msg_len == strlen(msgs[i]));

    char bufs[4][32];
    struct iovec riov[4];
    struct mmsghdr rm[4];
    sockaddr_any from[4];
    memset(rm, 0, sizeof rm);
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < 4; i++) {
        riov[i].iov_base = bufs[i];
        riov[i].iov_len = sizeof bufs[i];
        rm[i].msg_hdr.msg_iov = &riov[i];
        rm[i].msg_hdr.msg_iovlen = 1;
        rm[i].msg_hdr.msg_name = &from[i];
        rm[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    CHECK(wait_fd(b, POLLIN, 2000) & POLLIN);
    /* Waits for the first one only; then takes what is there. */
    int got = 0;
    long t0 = lt_now_ms();
    while (got < 3 && lt_now_ms() - t0 < 2000) {
        int r = recvmmsg(b, rm + got, 4 - got, MSG_WAITFORONE, NULL);
        if (r <= 0) break;
        got += r;
    }
    CHECK(got == 3);
    for (int i = 0; i < got && i < 3; i++) {
        CHECK(rm[i].msg_len == strlen(msgs[i]) && strcmp(bufs[i], msgs[i]) == 0);
        CHECK(rm[i].msg_hdr.msg_namelen == alen() && same_addr(&from[i], &pa));
    }
    CHECK_ERR(recvmmsg(b, rm, 4, MSG_DONTWAIT, NULL), EAGAIN);
    close(a);
    close(b);
}

/* Port sharing: a second bind is EADDRINUSE unless both sockets set SO_REUSEADDR. */
static void test_ports(void) {
    sockaddr_any pa;
    int one = 1;
    int a = bound_socket(fam, SOCK_DGRAM, &pa);
    CHECK(a >= 0);
    int b = socket(fam, SOCK_DGRAM, 0);
    CHECK_ERR(bind(b, &pa.sa, alen()), EADDRINUSE);
    CHECK_OK(setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    CHECK_ERR(bind(b, &pa.sa, alen()), EADDRINUSE);
    close(a);
    close(b);
    a = socket(fam, SOCK_DGRAM, 0);
    b = socket(fam, SOCK_DGRAM, 0);
    CHECK_OK(setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    CHECK_OK(setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    socklen_t len = loop_addr(fam, &pa, 0);
    CHECK_OK(bind(a, &pa.sa, len));
    CHECK_OK(getsockname(a, &pa.sa, &len));
    CHECK_OK(bind(b, &pa.sa, len));
    /* poll: a datagram socket is always writable. */
    CHECK(wait_fd(a, POLLIN | POLLOUT, 0) == POLLOUT);
    close(a);
    close(b);
}

/* An IPv6 socket on :: hears IPv4 senders as ::ffff:127.0.0.1 and answers them. */
static void test_dual_stack(void) {
    int zero = 0;
    int six = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK_OK(setsockopt(six, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero));
    struct sockaddr_in6 any;
    memset(&any, 0, sizeof any);
    any.sin6_family = AF_INET6;
    socklen_t len = sizeof any;
    CHECK_OK(bind(six, (struct sockaddr *)&any, len));
    CHECK_OK(getsockname(six, (struct sockaddr *)&any, &len));
    sockaddr_any to, pv4, from;
    fam = AF_INET;
    int four = bound_socket(AF_INET, SOCK_DGRAM, &pv4);
    loop_addr(AF_INET, &to, ntohs(any.sin6_port));
    CHECK(sendto(four, "v4", 2, 0, &to.sa, sizeof to.v4) == 2);
    char buf[8], txt[INET6_ADDRSTRLEN] = "";
    socklen_t fl = sizeof from;
    CHECK(recvfrom(six, buf, sizeof buf, 0, &from.sa, &fl) == 2);
    CHECK(fl == sizeof from.v6 && from.sa.sa_family == AF_INET6);
    inet_ntop(AF_INET6, &from.v6.sin6_addr, txt, sizeof txt);
    CHECK(strcmp(txt, "::ffff:127.0.0.1") == 0);
    CHECK(ntohs(from.v6.sin6_port) == addr_port(&pv4));
    CHECK(sendto(six, "v6", 2, 0, &from.sa, fl) == 2);
    fl = sizeof from;
    CHECK(recvfrom(four, buf, sizeof buf, 0, &from.sa, &fl) == 2 && memcmp(buf, "v6", 2) == 0);
    CHECK(fl == sizeof from.v4 && is_loopback(&from));
    CHECK(addr_port(&from) == ntohs(any.sin6_port));
    close(four);
    close(six);
}

static const struct inet_part parts[] = {
    {"sendto", test_sendto},
    {"trunc", test_trunc},
    {"connected", test_connected},
    {"refused", test_refused},
    {"fionread", test_fionread_empty},
    {"rcvtimeo", test_rcvtimeo},
    {"mmsg", test_mmsg},
    {"ports", test_ports},
};

int main(void) {
    start_watchdog("net_inet_udp", 30);
    run_parts(parts, sizeof parts / sizeof parts[0], 5000);
    lt_sub("dual_stack", test_dual_stack, 5000);
    DONE();
}
