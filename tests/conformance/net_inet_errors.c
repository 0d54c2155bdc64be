/* Errors of IP sockets, IPv4 and IPv6: bad type/protocol pairs (EPROTONOSUPPORT,
 * ESOCKTNOSUPPORT, EINVAL), short sockaddr lengths (EINVAL), binding a non-local address
 * (EADDRNOTAVAIL; bind only, nothing is sent), a sockaddr of the other family (EAFNOSUPPORT, and
 * the AF_UNSPEC+INADDR_ANY exception of IPv4 bind), listen/accept on UDP (EOPNOTSUPP), accept
 * without listen (EINVAL), getpeername/shutdown/recv unconnected (ENOTCONN), send on an
 * unconnected TCP socket (EPIPE with SIGPIPE), unknown levels and options (ENOPROTOOPT), bad
 * option lengths (EINVAL), connect on a listener (EISCONN). Also ping sockets
 * (SOCK_DGRAM/IPPROTO_ICMP, ICMPV6): an echo to the loopback address gets its reply; a host
 * whose net.ipv4.ping_group_range leaves out our group refuses the socket with EACCES, and then
 * that part is skipped (with a note). */
#define _GNU_SOURCE
#include "net_inet.h"
#include <netinet/tcp.h>
#include <stdint.h>


static void test_socket_args(void) {
    CHECK_ERR(socket(fam, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    CHECK_ERR(socket(fam, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
    CHECK_ERR(socket(fam, SOCK_STREAM, 200), EPROTONOSUPPORT);
    CHECK_ERR(socket(fam, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
    CHECK_ERR(socket(fam, 99, 0), EINVAL);
    CHECK_ERR(socket(fam, SOCK_STREAM | 0x40000000, 0), EINVAL);
    int s = socket(fam, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(s >= 0);
    close(s);
}

static void test_addresses(void) {
    sockaddr_any a;
    int s = socket(fam, SOCK_STREAM, 0);
    socklen_t len = loop_addr(fam, &a, 0);
    /* Too short a sockaddr. IPv6 takes the RFC 2133 length (24: no sin6_scope_id). */
    socklen_t short_len = fam == AF_INET ? sizeof a.v4 - 1 : 23;
    CHECK_ERR(bind(s, &a.sa, short_len), EINVAL);
    CHECK_ERR(bind(s, &a.sa, 2), EINVAL);
    CHECK_ERR(connect(s, &a.sa, short_len), EINVAL);
    /* The other family's sockaddr. */
    sockaddr_any o;
    socklen_t olen = loop_addr(fam == AF_INET ? AF_INET6 : AF_INET, &o, 0);
    if (olen < len) olen = len; /* long enough, wrong family */
    CHECK_ERR(bind(s, &o.sa, olen), EAFNOSUPPORT);
    CHECK_ERR(connect(s, &o.sa, olen), EAFNOSUPPORT);
    /* Not an address of this machine (TEST-NET-1, the documentation prefix). */
    sockaddr_any far;
    memset(&far, 0, sizeof far);
    if (fam == AF_INET) {
        far.v4.sin_family = AF_INET;
        inet_pton(AF_INET, "192.0.2.1", &far.v4.sin_addr);
    } else {
        far.v6.sin6_family = AF_INET6;
        inet_pton(AF_INET6, "2001:db8::1", &far.v6.sin6_addr);
    }
    CHECK_ERR(bind(s, &far.sa, len), EADDRNOTAVAIL);
    /* The failed binds left it unbound. */
    CHECK_OK(bind(s, &a.sa, fam == AF_INET ? len : 24));
    close(s);

    /* Datagrams: sendto with a short or foreign address. */
    int u = socket(fam, SOCK_DGRAM, 0);
    loop_addr(fam, &a, 9);
    CHECK_ERR(sendto(u, "x", 1, 0, &a.sa, short_len), EINVAL);
    if (fam == AF_INET) {
        CHECK_ERR(sendto(u, "x", 1, 0, &o.sa, olen), EAFNOSUPPORT);
    } else {
        /* IPv6 datagram sockets send to AF_INET addresses too; other families: EINVAL. */
        a.sa.sa_family = 99;
        CHECK_ERR(sendto(u, "x", 1, 0, &a.sa, len), EINVAL);
    }
    close(u);

    if (fam == AF_INET) {
        /* Old programs bind AF_UNSPEC with INADDR_ANY: IPv4 takes it as AF_INET. */
        s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in un;
        memset(&un, 0, sizeof un);
        un.sin_family = AF_UNSPEC;
        CHECK_OK(bind(s, (struct sockaddr *)&un, sizeof un));
        close(s);
        s = socket(AF_INET, SOCK_STREAM, 0);
        un.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK_ERR(bind(s, (struct sockaddr *)&un, sizeof un), EAFNOSUPPORT);
        close(s);
    } else {
        /* IPv6 takes nothing but AF_INET6. */
        s = socket(AF_INET6, SOCK_STREAM, 0);
        struct sockaddr_in6 un;
        memset(&un, 0, sizeof un);
        un.sin6_family = AF_UNSPEC;
        CHECK_ERR(bind(s, (struct sockaddr *)&un, sizeof un), EAFNOSUPPORT);
        close(s);
    }
}

static void test_states(void) {
    sockaddr_any a, p;
    char buf[4];
    socklen_t pl = sizeof p;
    count_sigpipe();

    int u = bound_socket(fam, SOCK_DGRAM, &a);
    CHECK_ERR(listen(u, 1), EOPNOTSUPP);
    CHECK_ERR(accept(u, NULL, NULL), EOPNOTSUPP);
    CHECK_ERR(shutdown(u, SHUT_RDWR), ENOTCONN);
    close(u);

    int t = socket(fam, SOCK_STREAM, 0);
    CHECK_ERR(accept(t, NULL, NULL), EINVAL);
    CHECK_ERR(getpeername(t, &p.sa, &pl), ENOTCONN);
    CHECK_ERR(shutdown(t, SHUT_WR), ENOTCONN);
    CHECK_ERR(recv(t, buf, sizeof buf, 0), ENOTCONN);
    CHECK_ERR(read(t, buf, sizeof buf), ENOTCONN);
    got_pipe = 0;
    CHECK_ERR(send(t, "x", 1, 0), EPIPE);
    CHECK(got_pipe == 1);
    CHECK_ERR(write(t, "x", 1), EPIPE);
    CHECK(got_pipe == 2);
    CHECK_ERR(send(t, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK(got_pipe == 2);
    /* Unconnected but bound: the same. */
    loop_addr(fam, &a, 0);
    CHECK_OK(bind(t, &a.sa, alen()));
    CHECK_ERR(accept(t, NULL, NULL), EINVAL);
    CHECK_ERR(shutdown(t, SHUT_RD), ENOTCONN);
    close(t);

    /* A listener is not connected, and cannot connect. */
    int l = tcp_listener(fam, &a, 1);
    CHECK(l >= 0);
    pl = sizeof p;
    CHECK_ERR(getpeername(l, &p.sa, &pl), ENOTCONN);
    CHECK_ERR(connect(l, &a.sa, alen()), EISCONN);
    CHECK_ERR(send(l, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_ERR(recv(l, buf, sizeof buf, 0), ENOTCONN);
    close(l);

    /* Not a socket at all. */
    CHECK_ERR(getsockname(0 + 1000, &p.sa, &pl), EBADF);
    int fd = dup(1);
    CHECK_ERR(getsockname(fd, &p.sa, &pl), ENOTSOCK);
    CHECK_ERR(listen(fd, 1), ENOTSOCK);
    close(fd);
}

static void test_options(void) {
    int t = socket(fam, SOCK_STREAM, 0);
    int u = socket(fam, SOCK_DGRAM, 0);
    int v = 1;
    socklen_t len = sizeof v;
    CHECK_ERR(getsockopt(t, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
    CHECK_ERR(setsockopt(t, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
    CHECK_ERR(getsockopt(t, IPPROTO_TCP, 9999, &v, &len), ENOPROTOOPT);
    CHECK_ERR(setsockopt(t, IPPROTO_TCP, 9999, &v, sizeof v), ENOPROTOOPT);
    /* An unknown level: IPv4 answers getsockopt with EOPNOTSUPP, IPv6 with ENOPROTOOPT. */
    int get_err = fam == AF_INET ? EOPNOTSUPP : ENOPROTOOPT;
    CHECK_ERR(getsockopt(t, 9999, 1, &v, &len), get_err);
    CHECK_ERR(setsockopt(t, 9999, 1, &v, sizeof v), ENOPROTOOPT);
    /* TCP options on a UDP socket. */
    CHECK_ERR(getsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, &len), get_err);
    CHECK_ERR(setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), ENOPROTOOPT);
    /* Short and negative lengths. */
    CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
    len = (socklen_t)-1;
    CHECK_ERR(getsockopt(t, SOL_SOCKET, SO_REUSEADDR, &v, &len), EINVAL);
    CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_LINGER, &v, sizeof v), EINVAL);
    CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &v, sizeof v), EINVAL);
    close(t);
    close(u);
}

/* The checksum ICMP wants; the kernel fills it in for ping sockets anyway. */
static uint16_t csum(const void *p, size_t n) {
    const uint8_t *b = p;
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1) s += (uint32_t)b[n - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return htons((uint16_t)~s);
}

static void test_ping(void) {
    int proto = fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    int s = socket(fam, SOCK_DGRAM, proto);
    if (s < 0 && errno == EACCES) {
        printf("note: %s ping socket refused (EACCES): ping_group_range leaves out gid %d; "
               "skipped\n",
               fam_name(fam), (int)getgid());
        return;
    }
    CHECK(s >= 0);
    if (s < 0) return;
    CHECK(sock_int(s, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    CHECK(sock_int(s, SOL_SOCKET, SO_PROTOCOL) == proto);
    struct timeval tv = {2, 0};
    CHECK_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    /* type, code, checksum, id (the kernel sets it to the socket's port), sequence, data */
    uint8_t req[16] = {fam == AF_INET ? 8 : 128, 0, 0, 0, 0, 0, 0, 7, 'l', 'i', 'n', 't', 'e', 'l'};
    uint16_t c = csum(req, sizeof req);
    memcpy(req + 2, &c, 2);
    sockaddr_any a;
    socklen_t len = loop_addr(fam, &a, 0);
    CHECK(sendto(s, req, sizeof req, 0, &a.sa, len) == sizeof req);
    uint8_t rep[64];
    sockaddr_any from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(s, rep, sizeof rep, 0, &from.sa, &fl);
    CHECK(r == sizeof req);
    if (r == sizeof req) {
        CHECK(rep[0] == (fam == AF_INET ? 0 : 129) && rep[1] == 0);
        CHECK(rep[6] == 0 && rep[7] == 7);
        CHECK(memcmp(rep + 8, req + 8, 8) == 0);
        CHECK(from.sa.sa_family == fam && is_loopback(&from));
        /* The identifier is the socket's "port", as getsockname reports it. */
        sockaddr_any me;
        socklen_t ml = sizeof me;
        CHECK_OK(getsockname(s, &me.sa, &ml));
        CHECK(addr_port(&me) != 0 && addr_port(&me) == (rep[4] << 8 | rep[5]));
    }
    /* A message that is not an echo request is refused. */
    uint8_t bad[8] = {fam == AF_INET ? 0 : 129, 0};
    CHECK_ERR(sendto(s, bad, sizeof bad, 0, &a.sa, len), EINVAL);
    close(s);
    /* Only datagram ping sockets. */
    CHECK_ERR(socket(fam, SOCK_STREAM, proto), EPROTONOSUPPORT);
}

static const struct inet_part parts[] = {
    {"socket_args", test_socket_args},
    {"addresses", test_addresses},
    {"states", test_states},
    {"options", test_options},
    {"ping", test_ping},
};

int main(void) {
    start_watchdog("net_inet_errors", 30);
    run_parts(parts, sizeof parts / sizeof parts[0], 5000);
    DONE();
}
