/* Raw IPv4 sockets with the header included (SOCK_RAW + IPPROTO_RAW, as stress-ng's
 * icmp-flood and packet tools use them): IP_HDRINCL is on, the kernel fills a zero source
 * address, identification, total length and checksum, the packet reaches a local UDP socket;
 * EDESTADDRREQ without a destination, EINVAL for a packet shorter than its header; such a
 * socket receives nothing; IP_HDRINCL is for raw sockets only; SO_BROADCAST is kept. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int int_opt(int fd, int level, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(fd, level, name, &v, &l) < 0)
        return -1;
    return v;
}

int main(void) {
    if (geteuid() != 0)
        DONE(); /* CAP_NET_RAW is needed */
    int r = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    CHECK(r >= 0);
    CHECK(int_opt(r, IPPROTO_IP, IP_HDRINCL) == 1);
    CHECK(int_opt(r, SOL_SOCKET, SO_TYPE) == SOCK_RAW);
    CHECK(int_opt(r, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_RAW);
    CHECK(int_opt(r, SOL_SOCKET, SO_BROADCAST) == 0);
    int on = 1;
    CHECK_OK(setsockopt(r, SOL_SOCKET, SO_BROADCAST, &on, sizeof on));
    CHECK(int_opt(r, SOL_SOCKET, SO_BROADCAST) == 1);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_OK(bind(u, (struct sockaddr *)&a, sizeof a));
    socklen_t al = sizeof a;
    CHECK_OK(getsockname(u, (struct sockaddr *)&a, &al));
    CHECK_ERR(setsockopt(u, IPPROTO_IP, IP_HDRINCL, &on, sizeof on), ENOPROTOOPT);

    /* IPv4 header with source, id, length and checksum left zero, then UDP with no checksum. */
    uint8_t p[20 + 8 + 5] = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, IPPROTO_UDP, 0, 0, 0, 0, 0, 0,
                             127, 0, 0, 1};
    uint16_t sport = htons(4321), len = htons(8 + 5);
    memcpy(p + 20, &sport, 2);
    memcpy(p + 22, &a.sin_port, 2);
    memcpy(p + 24, &len, 2);
    memcpy(p + 28, "hello", 5);
    CHECK(sendto(r, p, sizeof p, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof p);
    char buf[32];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && from.sin_port == sport);

    CHECK_ERR(send(r, p, sizeof p, 0), EDESTADDRREQ);
    CHECK_ERR(sendto(r, p, 12, 0, (struct sockaddr *)&a, sizeof a), EINVAL);
    uint8_t longhdr[24] = {0x4f};
    CHECK_ERR(sendto(r, longhdr, sizeof longhdr, 0, (struct sockaddr *)&a, sizeof a), EINVAL);
    CHECK_ERR(recv(r, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    close(u);
    close(r);
    DONE();
}
