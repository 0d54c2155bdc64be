/* IPv4 multicast on the loopback interface: IP_ADD_MEMBERSHIP with struct ip_mreq and
 * struct ip_mreqn (by interface index), IP_MULTICAST_IF (an in_addr), a datagram sent to the
 * group through lo reaching the member with 127.0.0.1 as its source, IP_DROP_MEMBERSHIP ending
 * delivery, IP_MULTICAST_TTL/LOOP defaults and values, and the errnos: a non-multicast group
 * (EINVAL), joining twice (EADDRINUSE), dropping a group not joined (EADDRNOTAVAIL), a TCP
 * socket (EPROTO). IPv6: IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP on lo with their errnos,
 * IPV6_MULTICAST_IF/HOPS/LOOP defaults, values and errnos, and no IPv6 multicast out of lo
 * (Linux has no ff00::/8 route there: ENETUNREACH). IP_MULTICAST_LOOP off still delivers on
 * lo (the datagram itself arrives there). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static int readable(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void ipv6(void) {
    int lo = (int)if_nametoindex("lo");
    int r = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
    socklen_t al = sizeof a;
    CHECK_OK(bind(r, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(getsockname(r, (struct sockaddr *)&a, &al));
    struct ipv6_mreq m = {.ipv6mr_interface = lo};
    CHECK(inet_pton(AF_INET6, "ff02::7:7", &m.ipv6mr_multiaddr) == 1);
    struct ipv6_mreq bad = {in6addr_loopback, lo};
    CHECK_ERR(setsockopt(r, IPPROTO_IPV6, IPV6_JOIN_GROUP, &bad, sizeof bad), EINVAL);
    CHECK_OK(setsockopt(r, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m));
    CHECK_ERR(setsockopt(r, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m), EADDRINUSE);
    CHECK_ERR(setsockopt(r, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, 4), EINVAL);
    struct ipv6_mreq nodev = m;
    nodev.ipv6mr_interface = 999;
    CHECK_ERR(setsockopt(r, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &nodev, sizeof nodev), ENODEV);

    int s = socket(AF_INET6, SOCK_DGRAM, 0);
    int v = -1;
    socklen_t vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, &vl));
    CHECK(v == 1);
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, &vl));
    CHECK(v == 1);
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, &vl));
    CHECK(v == 0 && vl == sizeof v);
    v = 5;
    CHECK_OK(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof v));
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, &vl));
    CHECK(v == 5);
    v = -1; /* the default again */
    CHECK_OK(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof v));
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, &vl));
    CHECK(v == 1);
    v = 256;
    CHECK_ERR(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof v), EINVAL);
    v = 2;
    CHECK_ERR(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, sizeof v), EINVAL);
    char one = 1;
    CHECK_ERR(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &one, 1), EINVAL);
    v = 0;
    CHECK_OK(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, sizeof v));
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, &vl));
    CHECK(v == 0);
    v = 999;
    CHECK_ERR(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, sizeof v), ENODEV);
    CHECK_OK(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &lo, sizeof lo));
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, &vl));
    CHECK(v == lo);
    struct sockaddr_in6 g = {.sin6_family = AF_INET6, .sin6_port = a.sin6_port};
    g.sin6_addr = m.ipv6mr_multiaddr;
    CHECK_ERR(sendto(s, "mc", 2, 0, (struct sockaddr *)&g, sizeof g), ENETUNREACH);

    CHECK_OK(setsockopt(r, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &m, sizeof m));
    CHECK_ERR(setsockopt(r, IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP, &m, sizeof m), EADDRNOTAVAIL);
    CHECK_ERR(setsockopt(r, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &bad, sizeof bad), EINVAL);

    int t = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK_ERR(setsockopt(t, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m), EPROTO);
    CHECK_ERR(setsockopt(t, IPPROTO_IPV6, IPV6_MULTICAST_IF, &lo, sizeof lo), ENOPROTOOPT);
    CHECK_ERR(setsockopt(t, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &lo, sizeof lo), ENOPROTOOPT);
    int u4 = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_ERR(setsockopt(u4, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m), ENOPROTOOPT);
    close(u4);
    close(t);
    close(s);
    close(r);
}

int main(void) {
    alarm(20);
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    struct in_addr group = {inet_addr("239.7.7.7")};
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    socklen_t al = sizeof a;
    CHECK_OK(bind(r, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(getsockname(r, (struct sockaddr *)&a, &al));

    struct ip_mreq m = {group, lo};
    struct ip_mreq bad = {lo, lo};
    CHECK_ERR(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &bad, sizeof bad), EINVAL);
    CHECK_OK(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m));
    CHECK_ERR(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m), EADDRINUSE);
    CHECK_ERR(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, 4), EINVAL);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    int v = -1;
    socklen_t vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, &vl));
    CHECK(v == 1);
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &v, &vl));
    CHECK(v == 1);
    v = 5;
    CHECK_OK(setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v));
    vl = sizeof v;
    CHECK_OK(getsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, &vl));
    CHECK(v == 5);
    v = 256;
    CHECK_ERR(setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v), EINVAL);
    CHECK_OK(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo));
    struct in_addr got = {0};
    vl = sizeof got;
    CHECK_OK(getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &got, &vl));
    CHECK(vl == sizeof got && got.s_addr == lo.s_addr);

    struct sockaddr_in g = {.sin_family = AF_INET, .sin_port = a.sin_port, .sin_addr = group};
    CHECK(sendto(s, "mc", 2, 0, (struct sockaddr *)&g, sizeof g) == 2);
    CHECK(readable(r, 2000));
    char buf[8];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    CHECK(recvfrom(r, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl) == 2);
    CHECK(memcmp(buf, "mc", 2) == 0 && from.sin_addr.s_addr == lo.s_addr);

    CHECK_OK(setsockopt(r, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m));
    CHECK_ERR(setsockopt(r, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m), EADDRNOTAVAIL);
    CHECK(sendto(s, "no", 2, 0, (struct sockaddr *)&g, sizeof g) == 2);
    CHECK(!readable(r, 200));

    /* struct ip_mreqn names the interface by index (lo is 1). */
    struct ip_mreqn mn = {.imr_multiaddr = group, .imr_ifindex = (int)if_nametoindex("lo")};
    CHECK_OK(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mn, sizeof mn));
    CHECK(sendto(s, "yes", 3, 0, (struct sockaddr *)&g, sizeof g) == 3);
    CHECK(readable(r, 2000));
    CHECK(recv(r, buf, sizeof buf, MSG_DONTWAIT) == 3);
    /* On lo the datagram itself reaches the members: IP_MULTICAST_LOOP does not matter. */
    v = 0;
    CHECK_OK(setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &v, sizeof v));
    CHECK(sendto(s, "lo0", 3, 0, (struct sockaddr *)&g, sizeof g) == 3);
    CHECK(readable(r, 2000));
    CHECK(recv(r, buf, sizeof buf, MSG_DONTWAIT) == 3);

    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_ERR(setsockopt(t, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m), EPROTO);
    close(t);
    close(s);
    close(r);
    ipv6();
    DONE();
}
