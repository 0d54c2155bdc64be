/* IPv4 multicast on the loopback interface: IP_ADD_MEMBERSHIP with struct ip_mreq and
 * struct ip_mreqn (by interface index), IP_MULTICAST_IF (an in_addr), a datagram sent to the
 * group through lo reaching the member with 127.0.0.1 as its source, IP_DROP_MEMBERSHIP ending
 * delivery, IP_MULTICAST_TTL/LOOP defaults and values, and the errnos: a non-multicast group
 * (EINVAL), joining twice (EADDRINUSE), dropping a group not joined (EADDRNOTAVAIL), a TCP
 * socket (EPROTO). */
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

    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_ERR(setsockopt(t, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m), EPROTO);
    close(t);
    close(s);
    close(r);
    DONE();
}
