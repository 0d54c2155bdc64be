/* Packet sockets on the loopback (packet(7)): CAP_NET_RAW is needed; a SOCK_RAW socket of
 * ETH_P_ALL bound to lo sees a UDP datagram sent over lo twice, leaving (PACKET_OUTGOING)
 * and arriving (PACKET_HOST), with the 14-byte Ethernet header lo frames carry (zero
 * addresses, ETH_P_IP), recvfrom naming it in a sockaddr_ll; a SOCK_DGRAM socket of
 * ETH_P_IP sees only the arrival, without the header; frames sent on either kind pass lo
 * and reach the other socket. (Linux's IP layer then drops them as martians: packets from
 * 127.0.0.1 must come with the route lo traffic carries, so no UDP socket is checked.) */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int int_opt(int fd, int level, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(fd, level, name, &v, &l) < 0)
        return -1;
    return v;
}

static void timeout(int fd) {
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Whether the IPv4 packet at `ip` (n bytes) is UDP to `port` carrying `msg`. */
static int ours(const uint8_t *ip, ssize_t n, uint16_t port, const char *msg) {
    size_t ml = strlen(msg);
    return n >= 28 && ip[0] == 0x45 && ip[9] == IPPROTO_UDP && memcmp(ip + 22, &port, 2) == 0 &&
           (size_t)n >= 28 + ml && memcmp(ip + 28, msg, ml) == 0;
}

static uint16_t csum(const uint8_t *p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (p[i] << 8) | p[i + 1];
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* An IPv4/UDP packet 127.0.0.1:4321 -> 127.0.0.1:port with `msg`; returns its length. */
static size_t udp_packet(uint8_t *p, uint16_t port, const char *msg) {
    size_t ml = strlen(msg), len = 28 + ml;
    memset(p, 0, 28);
    p[0] = 0x45;
    p[2] = len >> 8;
    p[3] = len & 0xff;
    p[8] = 64;
    p[9] = IPPROTO_UDP;
    memcpy(p + 12, "\x7f\0\0\x01\x7f\0\0\x01", 8);
    uint16_t s = csum(p, 20);
    p[10] = s >> 8;
    p[11] = s & 0xff;
    uint16_t sport = htons(4321), ulen = htons(8 + ml);
    memcpy(p + 20, &sport, 2);
    memcpy(p + 22, &port, 2);
    memcpy(p + 24, &ulen, 2);
    memcpy(p + 28, msg, ml);
    return len;
}

int main(void) {
    if (geteuid() != 0) {
        CHECK_ERR(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), EPERM);
        DONE();
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (setresuid(65534, 65534, 65534) < 0)
            _exit(2);
        errno = 0;
        int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
        _exit(fd == -1 && errno == EPERM ? 0 : 1);
    }
    int st;
    CHECK_EXIT(waitpid(pid, &st, 0) == pid ? st : -1, 0);

    int lo = (int)if_nametoindex("lo");
    CHECK(lo > 0);
    CHECK_ERR(socket(AF_PACKET, SOCK_STREAM, 0), ESOCKTNOSUPPORT);
    int p = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    CHECK(p >= 0);
    timeout(p);
    CHECK(int_opt(p, SOL_SOCKET, SO_TYPE) == SOCK_RAW);
    CHECK(int_opt(p, SOL_SOCKET, SO_PROTOCOL) == 0); /* as Linux reports it */
    CHECK(int_opt(p, SOL_SOCKET, SO_DOMAIN) == AF_PACKET);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = lo};
    struct sockaddr_ll bad = sll;
    bad.sll_ifindex = 999999;
    CHECK_ERR(bind(p, (struct sockaddr *)&bad, sizeof bad), ENODEV);
    CHECK_ERR(bind(p, (struct sockaddr *)&sll, 8), EINVAL);
    bad = sll;
    bad.sll_family = AF_INET;
    CHECK_ERR(bind(p, (struct sockaddr *)&bad, sizeof bad), EINVAL);
    CHECK_OK(bind(p, (struct sockaddr *)&sll, sizeof sll));
    struct sockaddr_ll name;
    socklen_t nl = sizeof name;
    memset(&name, 0xff, sizeof name);
    CHECK_OK(getsockname(p, (struct sockaddr *)&name, &nl));
    CHECK(nl == 18);
    CHECK(name.sll_family == AF_PACKET && name.sll_protocol == htons(ETH_P_ALL));
    CHECK(name.sll_ifindex == lo && name.sll_hatype == ARPHRD_LOOPBACK && name.sll_halen == 6);

    int d = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
    CHECK(d >= 0);
    timeout(d);
    CHECK(int_opt(d, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    struct sockaddr_ll dll = {.sll_family = AF_PACKET, .sll_ifindex = lo};
    /* Protocol 0 in bind keeps the socket's. */
    CHECK_OK(bind(d, (struct sockaddr *)&dll, sizeof dll));

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    timeout(u);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_OK(bind(u, (struct sockaddr *)&a, sizeof a));
    socklen_t al = sizeof a;
    CHECK_OK(getsockname(u, (struct sockaddr *)&a, &al));
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(sendto(c, "pkt-lo", 6, 0, (struct sockaddr *)&a, sizeof a) == 6);

    /* SOCK_RAW, ETH_P_ALL: the frame leaving, then arriving. */
    uint8_t f[4096];
    int outgoing = 0, host = 0;
    for (int i = 0; i < 400 && !(outgoing && host); i++) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(p, f, sizeof f, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        if (n < 14 || !ours(f + 14, n - 14, a.sin_port, "pkt-lo"))
            continue;
        CHECK(n == 14 + 28 + 6);
        CHECK(memcmp(f, "\0\0\0\0\0\0\0\0\0\0\0\0\x08\x00", 14) == 0);
        CHECK(fl == sizeof from);
        CHECK(from.sll_family == AF_PACKET && from.sll_protocol == htons(ETH_P_IP));
        CHECK(from.sll_ifindex == lo && from.sll_hatype == ARPHRD_LOOPBACK);
        CHECK(from.sll_halen == 6 && memcmp(from.sll_addr, "\0\0\0\0\0\0", 6) == 0);
        if (from.sll_pkttype == PACKET_OUTGOING) {
            CHECK(!host);
            outgoing++;
        } else if (from.sll_pkttype == PACKET_HOST) {
            host++;
        } else {
            CHECK(!"unexpected sll_pkttype");
        }
    }
    CHECK(outgoing == 1 && host == 1);

    /* SOCK_DGRAM, ETH_P_IP: the arrival only, from the IP header on. */
    int copies = 0;
    for (int i = 0; i < 400 && !copies; i++) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(d, f, sizeof f, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        if (!ours(f, n, a.sin_port, "pkt-lo"))
            continue;
        CHECK(n == 28 + 6);
        CHECK(from.sll_pkttype == PACKET_HOST && from.sll_protocol == htons(ETH_P_IP));
        CHECK(from.sll_ifindex == lo);
        copies++;
    }
    CHECK(copies == 1);
    char buf[64];
    CHECK(recv(u, buf, sizeof buf, 0) == 6 && memcmp(buf, "pkt-lo", 6) == 0);

    /* A whole frame sent on the SOCK_RAW socket (to the interface it is bound to) arrives
     * at the SOCK_DGRAM one. */
    memcpy(f, "\0\0\0\0\0\0\0\0\0\0\0\0\x08\x00", 14);
    size_t len = 14 + udp_packet(f + 14, a.sin_port, "raw-frame");
    CHECK(send(p, f, len, 0) == (ssize_t)len);
    copies = 0;
    for (int i = 0; i < 400 && !copies; i++) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        uint8_t g[4096];
        ssize_t n = recvfrom(d, g, sizeof g, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        if (!ours(g, n, a.sin_port, "raw-frame"))
            continue;
        CHECK(n == (ssize_t)len - 14 && memcmp(g, f + 14, n) == 0);
        CHECK(from.sll_pkttype == PACKET_HOST && from.sll_ifindex == lo);
        copies++;
    }
    CHECK(copies == 1);

    /* A packet sent on the SOCK_DGRAM socket: the kernel writes the link header (to
     * sll_addr, from lo's zero address, of sll_protocol); an ETH_P_ALL socket sees it. */
    int p2 = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    CHECK(p2 >= 0);
    timeout(p2);
    CHECK_OK(bind(p2, (struct sockaddr *)&sll, sizeof sll));
    len = udp_packet(f, a.sin_port, "dgram-pkt");
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                             .sll_ifindex = lo, .sll_halen = 6};
    CHECK(sendto(d, f, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len);
    host = 0;
    for (int i = 0; i < 400 && !host; i++) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        uint8_t g[4096];
        ssize_t n = recvfrom(p2, g, sizeof g, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        if (n < 14 || !ours(g + 14, n - 14, a.sin_port, "dgram-pkt"))
            continue;
        CHECK(n == (ssize_t)len + 14);
        CHECK(memcmp(g, "\0\0\0\0\0\0\0\0\0\0\0\0\x08\x00", 14) == 0);
        if (from.sll_pkttype == PACKET_HOST)
            host++;
    }
    CHECK(host == 1);
    close(p2);

    /* sendto checks neither the family nor the protocol of the address (stress-ng's rawpkt
     * sends so), only its length against sll_halen. */
    struct sockaddr_ll bare = {.sll_ifindex = lo, .sll_halen = 6};
    memcpy(f, "\0\0\0\0\0\0\0\0\0\0\0\0\x08\x00", 14);
    len = 14 + udp_packet(f + 14, a.sin_port, "bare");
    CHECK(sendto(p, f, len, 0, (struct sockaddr *)&bare, sizeof bare) == (ssize_t)len);
    bare.sll_halen = 10;
    CHECK_ERR(sendto(p, f, len, 0, (struct sockaddr *)&bare, sizeof bare), EINVAL);
    CHECK_ERR(sendto(p, f, len, 0, (struct sockaddr *)&bare, 16), EINVAL);

    /* Without an interface to send on: ENXIO. */
    int q = socket(AF_PACKET, SOCK_RAW, 0);
    CHECK(q >= 0);
    CHECK_ERR(send(q, f, 60, 0), ENXIO);
    /* Protocol 0: nothing is received. */
    CHECK(sendto(c, "none", 4, 0, (struct sockaddr *)&a, sizeof a) == 4);
    CHECK(recv(u, buf, sizeof buf, 0) == 4);
    CHECK_ERR(recv(q, f, sizeof f, MSG_DONTWAIT), EAGAIN);
    close(q);
    close(c);
    close(u);
    close(d);
    close(p);
    DONE();
}
