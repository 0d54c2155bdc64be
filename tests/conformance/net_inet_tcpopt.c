/* TCP socket options and ioctls over loopback, IPv4 and IPv6: SO_TYPE, SO_DOMAIN,
 * SO_PROTOCOL, SO_ACCEPTCONN, TCP_NODELAY, TCP_CORK, SO_KEEPALIVE, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT,
 * SO_RCVBUF/SO_SNDBUF (Linux doubles what is set), SO_REUSEADDR, FIONREAD/SIOCINQ and
 * SIOCOUTQ, TCP_INFO's state; and dual stack: an IPv4 client of a listener on :: is seen as ::ffff:127.0.0.1,
 * while an IPV6_V6ONLY listener refuses IPv4 (ECONNREFUSED). */
#define _GNU_SOURCE
#include "net_inet.h"
#include <netinet/tcp.h>
#include <sys/ioctl.h>

/* From <linux/sockios.h> (musl-gcc has no kernel headers). */
#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif


static void test_identity(void) {
    sockaddr_any a;
    int l = tcp_listener(fam, &a, 4);
    CHECK(l >= 0);
    int c = tcp_connect(&a);
    CHECK(c >= 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    int fds[3] = {l, c, s};
    for (int i = 0; i < 3; i++) {
        CHECK(sock_int(fds[i], SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
        CHECK(sock_int(fds[i], SOL_SOCKET, SO_DOMAIN) == fam);
        CHECK(sock_int(fds[i], SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
        CHECK(sock_int(fds[i], SOL_SOCKET, SO_ACCEPTCONN) == (i == 0));
        CHECK(sock_int(fds[i], SOL_SOCKET, SO_ERROR) == 0);
    }
    /* Read-only options. */
    int one = 1;
    CHECK_ERR(setsockopt(c, SOL_SOCKET, SO_TYPE, &one, sizeof one), ENOPROTOOPT);
    CHECK_ERR(setsockopt(c, SOL_SOCKET, SO_ACCEPTCONN, &one, sizeof one), ENOPROTOOPT);
    /* A short option buffer. */
    char small = 0;
    socklen_t len = sizeof small;
    CHECK_OK(getsockopt(c, SOL_SOCKET, SO_TYPE, &small, &len));
    CHECK(len == 1 && small == SOCK_STREAM);
    /* The protocol number given to socket() is the same socket. */
    int t = socket(fam, SOCK_STREAM, IPPROTO_TCP);
    CHECK(t >= 0 && sock_int(t, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
    close(t);
    close(s);
    close(c);
    close(l);
}

static void test_tcp_opts(void) {
    int c = socket(fam, SOCK_STREAM, 0);
    int one = 1, v;
    CHECK(sock_int(c, IPPROTO_TCP, TCP_NODELAY) == 0);
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_NODELAY) == 1);
    v = 0;
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_NODELAY) == 0);
    v = 5; /* any non-zero value is on, read back as 1 */
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_NODELAY) == 1);
    CHECK_ERR(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, 2), EINVAL);
    /* TCP_CORK: off by default, reads back what was set. */
    CHECK(sock_int(c, IPPROTO_TCP, TCP_CORK) == 0);
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof one));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_CORK) == 1);
    v = 0;
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_CORK, &v, sizeof v));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_CORK) == 0);

    CHECK(sock_int(c, SOL_SOCKET, SO_KEEPALIVE) == 0);
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
    CHECK(sock_int(c, SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(sock_int(c, IPPROTO_TCP, TCP_KEEPIDLE) == 7200);
    CHECK(sock_int(c, IPPROTO_TCP, TCP_KEEPINTVL) == 75);
    CHECK(sock_int(c, IPPROTO_TCP, TCP_KEEPCNT) == 9);
    v = 60;
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_KEEPIDLE) == 60);
    v = 0;
    CHECK_ERR(setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), EINVAL);
    v = 5;
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof v));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_KEEPINTVL) == 5);
    CHECK_OK(setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof v));
    CHECK(sock_int(c, IPPROTO_TCP, TCP_KEEPCNT) == 5);
    v = 0;
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
    CHECK(sock_int(c, SOL_SOCKET, SO_KEEPALIVE) == 0);

    CHECK(sock_int(c, SOL_SOCKET, SO_REUSEADDR) == 0);
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    CHECK(sock_int(c, SOL_SOCKET, SO_REUSEADDR) == 1);

    /* Buffer sizes: Linux stores (and reports) twice what was asked. */
    v = 65536;
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    CHECK(sock_int(c, SOL_SOCKET, SO_RCVBUF) == 2 * 65536);
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    CHECK(sock_int(c, SOL_SOCKET, SO_SNDBUF) == 2 * 65536);
    /* Too small a value is raised to a minimum. */
    v = 1;
    CHECK_OK(setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    CHECK(sock_int(c, SOL_SOCKET, SO_RCVBUF) >= 2048);
    close(c);
}

static void test_queues(void) {
    int c, s;
    CHECK_OK(tcp_pair(fam, &c, &s));
    int n = -1;
    CHECK_OK(ioctl(s, FIONREAD, &n));
    CHECK(n == 0);
    CHECK(send(c, "0123456789", 10, 0) == 10);
    CHECK(wait_fd(s, POLLIN, 2000) & POLLIN);
    n = -1;
    CHECK_OK(ioctl(s, FIONREAD, &n));
    CHECK(n == 10);
    n = -1;
    CHECK_OK(ioctl(s, SIOCINQ, &n));
    CHECK(n == 10);
    char buf[4];
    CHECK(recv(s, buf, 4, 0) == 4);
    CHECK_OK(ioctl(s, FIONREAD, &n));
    CHECK(n == 6);
    /* Loopback acknowledges at once: nothing left unacknowledged. */
    long t0 = lt_now_ms();
    do {
        CHECK_OK(ioctl(c, SIOCOUTQ, &n));
    } while (n != 0 && lt_now_ms() - t0 < 2000 && (lt_sleep_ms(5), 1));
    CHECK(n == 0);
    /* A listener has no byte queue. */
    sockaddr_any a;
    int l = tcp_listener(fam, &a, 1);
    CHECK_ERR(ioctl(l, FIONREAD, &n), EINVAL);
    close(l);
    close(c);
    close(s);
}

/* TCP_INFO: the connection's state, cut to the caller's buffer; not for UDP. */
static void test_tcp_info(void) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    int u = socket(AF_INET, SOCK_STREAM, 0);
    memset(&ti, 0xff, sizeof ti);
    CHECK_OK(getsockopt(u, IPPROTO_TCP, TCP_INFO, &ti, &len));
    CHECK(len == sizeof ti);
    CHECK(ti.tcpi_state == TCP_CLOSE);
    close(u);
    sockaddr_any a;
    int l = tcp_listener(fam, &a, 1);
    len = sizeof ti;
    CHECK_OK(getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len));
    CHECK(ti.tcpi_state == TCP_LISTEN);
    close(l);
    int c, s;
    CHECK_OK(tcp_pair(fam, &c, &s));
    len = sizeof ti;
    CHECK_OK(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len));
    CHECK(len == sizeof ti);
    CHECK(ti.tcpi_state == TCP_ESTABLISHED);
    CHECK(ti.tcpi_total_retrans == 0);
    /* A short buffer takes the start. */
    unsigned char one = 0;
    len = 1;
    CHECK_OK(getsockopt(s, IPPROTO_TCP, TCP_INFO, &one, &len));
    CHECK(len == 1 && one == TCP_ESTABLISHED);
    close(c);
    close(s);
    int d = socket(fam == AF_INET6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    len = sizeof ti;
    CHECK(getsockopt(d, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1);
    close(d);
}

/* One listener on :: with IPV6_V6ONLY `v6only`; returns it, its port in *port. */
static int any6_listener(int v6only, int *port) {
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(l >= 0);
    CHECK_OK(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only));
    CHECK(sock_int(l, IPPROTO_IPV6, IPV6_V6ONLY) == v6only);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    socklen_t len = sizeof a;
    CHECK_OK(bind(l, (struct sockaddr *)&a, len));
    CHECK_OK(getsockname(l, (struct sockaddr *)&a, &len));
    CHECK_OK(listen(l, 4));
    *port = ntohs(a.sin6_port);
    return l;
}

static void test_dual_stack(void) {
    int port;
    int l = any6_listener(0, &port);
    sockaddr_any a, p;
    loop_addr(AF_INET, &a, port);
    int c = tcp_connect(&a);
    CHECK(c >= 0);
    socklen_t len = sizeof p;
    int s = accept(l, &p.sa, &len);
    CHECK(s >= 0);
    CHECK(len == sizeof(struct sockaddr_in6) && p.sa.sa_family == AF_INET6);
    CHECK(IN6_IS_ADDR_V4MAPPED(&p.v6.sin6_addr));
    char txt[INET6_ADDRSTRLEN] = "";
    inet_ntop(AF_INET6, &p.v6.sin6_addr, txt, sizeof txt);
    CHECK(strcmp(txt, "::ffff:127.0.0.1") == 0);
    sockaddr_any me;
    socklen_t ml = sizeof me;
    CHECK_OK(getsockname(c, &me.sa, &ml));
    CHECK(me.sa.sa_family == AF_INET && ntohs(p.v6.sin6_port) == addr_port(&me));
    /* The accepted socket's own address is mapped too. */
    len = sizeof p;
    CHECK_OK(getsockname(s, &p.sa, &len));
    inet_ntop(AF_INET6, &p.v6.sin6_addr, txt, sizeof txt);
    CHECK(strcmp(txt, "::ffff:127.0.0.1") == 0 && ntohs(p.v6.sin6_port) == port);
    CHECK(sock_int(s, SOL_SOCKET, SO_DOMAIN) == AF_INET6);
    char buf[8];
    CHECK(send(c, "v4", 2, 0) == 2);
    CHECK(recv(s, buf, sizeof buf, 0) == 2);
    close(s);
    close(c);
    /* ::1 reaches the same listener. */
    loop_addr(AF_INET6, &a, port);
    c = tcp_connect(&a);
    CHECK(c >= 0);
    close(c);
    close(l);

    /* A v6-only listener: IPv4 is refused, ::1 still connects. */
    l = any6_listener(1, &port);
    loop_addr(AF_INET, &a, port);
    CHECK_ERR(tcp_connect(&a), ECONNREFUSED);
    loop_addr(AF_INET6, &a, port);
    c = tcp_connect(&a);
    CHECK(c >= 0);
    close(c);
    close(l);

    /* A v4-mapped address on a v6-only socket cannot be bound. */
    int one = 1;
    int t = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK_OK(setsockopt(t, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
    struct sockaddr_in6 m;
    memset(&m, 0, sizeof m);
    m.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
    CHECK_ERR(bind(t, (struct sockaddr *)&m, sizeof m), EINVAL);
    close(t);
    /* IPV6_V6ONLY is IPv6 only. */
    t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_ERR(setsockopt(t, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), ENOPROTOOPT);
    close(t);
}

static const struct inet_part parts[] = {
    {"identity", test_identity},
    {"tcp_opts", test_tcp_opts},
    {"queues", test_queues},
    {"tcp_info", test_tcp_info},
};

int main(void) {
    start_watchdog("net_inet_tcpopt", 30);
    run_parts(parts, sizeof parts / sizeof parts[0], 5000);
    lt_sub("dual_stack", test_dual_stack, 5000);
    DONE();
}
