/* Raw IPv6 sockets (raw(7), ipv6(7), icmp6(7)), as ping6 and probe tools run by root use
 * them: CAP_NET_RAW needed; an ICMPv6 echo request sent to ::1 with a zero checksum leaves
 * with the one the kernel writes (IPV6_CHECKSUM offset 2, fixed for ICMPv6); the socket sees
 * the request and the reply without an IPv6 header, from sockaddr_in6 ::1; ICMP6_FILTER
 * blocks the types it names. Other protocols get a checksum only with IPV6_CHECKSUM (a UDP
 * datagram then reaches a UDP socket), and IPPROTO_RAW sockets send the program's own IPv6
 * header (IPV6_HDRINCL, on from the start). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

static uint16_t fold(uint32_t s) {
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint32_t sum(const uint8_t *p, size_t n, uint32_t s) {
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (p[i] << 8) | p[i + 1];
    if (n & 1)
        s += p[n - 1] << 8;
    return s;
}

/* The ones' complement sum over ::1 -> ::1's pseudo-header and `n` bytes of protocol
 * `proto` (0xffff when the checksum in them is right). */
static uint16_t check6(const uint8_t *p, size_t n, uint8_t proto) {
    uint8_t lo[16] = {0};
    lo[15] = 1;
    uint32_t s = sum(lo, 16, 0);
    s = sum(lo, 16, s);
    s += (uint32_t)n + proto;
    return fold(sum(p, n, s));
}

static int timeout(int fd) {
    struct timeval tv = {.tv_sec = 5};
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Waits for echo message `type` with id `id` and sequence `seq`; returns its length. */
static ssize_t wait_echo(int r, uint8_t *p, size_t cap, int type, uint16_t id, uint8_t seq,
                         int *first) {
    for (int i = 0; i < 200; i++) {
        struct sockaddr_in6 from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(r, p, cap, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return -1;
        if (n < 8 || p[4] != (id >> 8) || p[5] != (id & 0xff) || p[7] != seq)
            continue;
        CHECK(fl == sizeof from && from.sin6_family == AF_INET6 &&
              IN6_IS_ADDR_LOOPBACK(&from.sin6_addr) && from.sin6_port == 0);
        if (first && *first < 0)
            *first = p[0];
        if (p[0] == type)
            return n;
    }
    return -1;
}

int main(void) {
    /* Protocol 0 is refused before the capability is looked at; past IPPROTO_MAX, EINVAL. */
    CHECK_ERR(socket(AF_INET6, SOCK_RAW, 0), EPROTONOSUPPORT);
    CHECK_ERR(socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
    CHECK_ERR(socket(AF_INET6, SOCK_RAW, 300), EINVAL);
    CHECK_ERR(socket(AF_INET6, SOCK_DGRAM, 263), EINVAL);
    if (geteuid() != 0) {
        CHECK_ERR(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
        DONE();
    }
    int r = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    CHECK(r >= 0);
    CHECK_OK(timeout(r));
    int v = 0;
    socklen_t vl = sizeof v;
    CHECK_OK(getsockopt(r, SOL_SOCKET, SO_TYPE, &v, &vl));
    CHECK(v == SOCK_RAW);
    CHECK_OK(getsockopt(r, SOL_SOCKET, SO_PROTOCOL, &v, &vl));
    CHECK(v == IPPROTO_ICMPV6);
    /* ICMPv6 always has the kernel's checksum at offset 2; IPPROTO_IPV6 may not change it. */
    CHECK_OK(getsockopt(r, SOL_RAW, IPV6_CHECKSUM, &v, &vl));
    CHECK(v == 2);
    v = 4;
    CHECK_ERR(setsockopt(r, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v), EINVAL);
    CHECK_OK(getsockopt(r, IPPROTO_IPV6, IPV6_HDRINCL, &v, &vl));
    CHECK(v == 0);

    uint16_t id = (uint16_t)(getpid() ^ 0x6a6a);
    uint8_t m[8 + 16] = {ICMP6_ECHO_REQUEST, 0, 0, 0, id >> 8, id & 0xff, 0, 7};
    memcpy(m + 8, "lintel-raw6-ping", 16);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    CHECK(sendto(r, m, sizeof m, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof m);
    uint8_t p[2048];
    int first = -1;
    ssize_t n = wait_echo(r, p, sizeof p, ICMP6_ECHO_REPLY, id, 7, &first);
    /* The request came first, then the reply; both with a right checksum, no IP header. */
    CHECK(first == ICMP6_ECHO_REQUEST);
    CHECK(n == (ssize_t)sizeof m);
    if (n == (ssize_t)sizeof m) {
        CHECK(memcmp(p + 8, "lintel-raw6-ping", 16) == 0);
        CHECK(check6(p, n, IPPROTO_ICMPV6) == 0xffff);
    }

    /* ICMP6_FILTER at IPPROTO_ICMPV6: the request blocked, the reply arrives first. */
    struct icmp6_filter f, got;
    ICMP6_FILTER_SETPASSALL(&f);
    ICMP6_FILTER_SETBLOCK(ICMP6_ECHO_REQUEST, &f);
    CHECK_OK(setsockopt(r, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f));
    socklen_t gl = sizeof got;
    CHECK_OK(getsockopt(r, IPPROTO_ICMPV6, ICMP6_FILTER, &got, &gl));
    CHECK(gl == sizeof got && memcmp(&got, &f, sizeof f) == 0);
    m[7] = 8;
    m[2] = m[3] = 0x55; /* whatever the program wrote, the kernel's checksum goes out */
    CHECK(sendto(r, m, sizeof m, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof m);
    first = -1;
    n = wait_echo(r, p, sizeof p, ICMP6_ECHO_REPLY, id, 8, &first);
    CHECK(n == (ssize_t)sizeof m && first == ICMP6_ECHO_REPLY);
    CHECK(n > 0 && check6(p, n, IPPROTO_ICMPV6) == 0xffff);
    /* An address of another family, or too short, is refused. */
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_ERR(sendto(r, m, sizeof m, 0, (struct sockaddr *)&a4, sizeof a4), EINVAL);

    /* A raw UDP socket: no checksum until IPV6_CHECKSUM names where it goes. */
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK(u >= 0);
    CHECK_OK(timeout(u));
    struct sockaddr_in6 ua = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    CHECK_OK(bind(u, (struct sockaddr *)&ua, sizeof ua));
    socklen_t ul = sizeof ua;
    CHECK_OK(getsockname(u, (struct sockaddr *)&ua, &ul));
    int ru = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
    CHECK(ru >= 0);
    CHECK_OK(timeout(ru));
    CHECK_ERR(setsockopt(ru, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f), EOPNOTSUPP);
    CHECK_OK(getsockopt(ru, IPPROTO_IPV6, IPV6_CHECKSUM, &v, &vl));
    CHECK(v == -1);
    v = 3;
    CHECK_ERR(setsockopt(ru, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v), EINVAL);
    v = 6;
    CHECK_OK(setsockopt(ru, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v));
    CHECK_OK(getsockopt(ru, IPPROTO_IPV6, IPV6_CHECKSUM, &v, &vl));
    CHECK(v == 6);
    uint8_t d[8 + 5] = {0x30, 0x39, 0, 0, 0, sizeof d, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    memcpy(d + 2, &ua.sin6_port, 2);
    CHECK(sendto(ru, d, sizeof d, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof d);
    char buf[64];
    struct sockaddr_in6 from;
    socklen_t fl = sizeof from;
    CHECK(recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 5);
    CHECK(memcmp(buf, "hello", 5) == 0 && ntohs(from.sin6_port) == 0x3039);
    /* The raw UDP socket sees the datagram too, its UDP header first. */
    int seen = 0;
    for (int i = 0; i < 50 && !seen; i++) {
        ssize_t k = recv(ru, p, sizeof p, 0);
        if (k < 0)
            break;
        if (k == (ssize_t)sizeof d && p[0] == 0x30 && p[1] == 0x39) {
            seen = 1;
            CHECK(check6(p, k, IPPROTO_UDP) == 0xffff);
        }
    }
    CHECK(seen);
    v = -1;
    CHECK_OK(setsockopt(ru, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v));
    CHECK_OK(getsockopt(ru, IPPROTO_IPV6, IPV6_CHECKSUM, &v, &vl));
    CHECK(v == -1);

    /* IPPROTO_RAW: the header comes from the program (IPV6_HDRINCL is on), and it is sent
     * as it is. */
    int h = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
    CHECK(h >= 0);
    CHECK_OK(getsockopt(h, IPPROTO_IPV6, IPV6_HDRINCL, &v, &vl));
    CHECK(v == 1);
    uint8_t pk[40 + sizeof d] = {0x60, 0, 0, 0, 0, sizeof d, IPPROTO_UDP, 64};
    pk[23] = 1;
    pk[39] = 1;
    memcpy(pk + 40, d, sizeof d);
    memcpy(pk + 40 + 8, "HDRIN", 5);
    uint16_t c = ~check6(pk + 40, sizeof d, IPPROTO_UDP);
    pk[46] = c >> 8;
    pk[47] = c & 0xff;
    CHECK(sendto(h, pk, sizeof pk, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof pk);
    fl = sizeof from;
    CHECK(recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 5);
    CHECK(memcmp(buf, "HDRIN", 5) == 0);
    close(h);
    close(ru);
    close(u);
    close(r);
    DONE();
}
