/* Raw IPv4 sockets of IPPROTO_UDP (raw(7)): CAP_NET_RAW is needed (EPERM for nobody); such
 * a socket receives a copy of every UDP datagram this host receives, IPv4 header included,
 * with recvfrom naming the source address; it sends with a header the kernel writes, or
 * with IP_HDRINCL the program's own, and either reaches a UDP socket on 127.0.0.1. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
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

/* Reads the raw socket until the datagram to `port` carrying `msg` (other traffic on lo is
 * skipped); returns its length with the header, or -1. */
static ssize_t find(int r, uint16_t port, const char *msg, uint8_t *p, size_t cap,
                    struct sockaddr_in *from) {
    for (int i = 0; i < 200; i++) {
        socklen_t fl = sizeof *from;
        ssize_t n = recvfrom(r, p, cap, 0, (struct sockaddr *)from, &fl);
        if (n < 0)
            return -1;
        size_t ml = strlen(msg);
        if (n >= 28 && (p[0] & 0xf) == 5 && memcmp(p + 22, &port, 2) == 0 &&
            (size_t)n == 28 + ml && memcmp(p + 28, msg, ml) == 0)
            return n;
    }
    return -1;
}

int main(void) {
    if (geteuid() != 0) {
        CHECK_ERR(socket(AF_INET, SOCK_RAW, IPPROTO_UDP), EPERM);
        DONE();
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (setresuid(65534, 65534, 65534) < 0)
            _exit(2);
        errno = 0;
        int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
        _exit(fd == -1 && errno == EPERM ? 0 : 1);
    }
    int st;
    CHECK_EXIT(waitpid(pid, &st, 0) == pid ? st : -1, 0);

    CHECK_ERR(socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
    int r = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
    CHECK(r >= 0);
    timeout(r);
    CHECK(int_opt(r, SOL_SOCKET, SO_TYPE) == SOCK_RAW);
    CHECK(int_opt(r, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
    CHECK(int_opt(r, IPPROTO_IP, IP_HDRINCL) == 0);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    timeout(u);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_OK(bind(u, (struct sockaddr *)&a, sizeof a));
    socklen_t al = sizeof a;
    CHECK_OK(getsockname(u, (struct sockaddr *)&a, &al));

    /* A datagram a plain UDP socket sends: the raw socket sees it with its IPv4 header. */
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(sendto(c, "via-udp", 7, 0, (struct sockaddr *)&a, sizeof a) == 7);
    uint8_t p[2048];
    struct sockaddr_in from;
    ssize_t n = find(r, a.sin_port, "via-udp", p, sizeof p, &from);
    CHECK(n == 20 + 8 + 7);
    if (n > 0) {
        CHECK(p[0] == 0x45 && p[9] == IPPROTO_UDP);
        CHECK(((p[2] << 8) | p[3]) == n);
        CHECK(memcmp(p + 12, "\x7f\0\0\x01", 4) == 0 && memcmp(p + 16, "\x7f\0\0\x01", 4) == 0);
        CHECK(((p[24] << 8) | p[25]) == 8 + 7);
        CHECK(from.sin_family == AF_INET && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
        CHECK(from.sin_port == 0);
    }
    char buf[64];
    CHECK(recv(u, buf, sizeof buf, 0) == 7 && memcmp(buf, "via-udp", 7) == 0);

    /* A header the kernel writes: the program gives UDP header and data. */
    uint8_t d[8 + 7];
    uint16_t sport = htons(4321), len = htons(sizeof d);
    memcpy(d, &sport, 2);
    memcpy(d + 2, &a.sin_port, 2);
    memcpy(d + 4, &len, 2);
    memset(d + 6, 0, 2);
    memcpy(d + 8, "kernhdr", 7);
    CHECK(sendto(r, d, sizeof d, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof d);
    struct sockaddr_in uf;
    socklen_t ufl = sizeof uf;
    CHECK(recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&uf, &ufl) == 7 &&
          memcmp(buf, "kernhdr", 7) == 0);
    CHECK(uf.sin_port == sport && uf.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    n = find(r, a.sin_port, "kernhdr", p, sizeof p, &from);
    CHECK(n == 28 + 7);
    if (n > 0)
        CHECK(p[0] == 0x45 && p[9] == IPPROTO_UDP && p[8] > 0);

    /* IP_HDRINCL: the program's own header (source, id, length and checksum left zero). */
    int on = 1;
    CHECK_OK(setsockopt(r, IPPROTO_IP, IP_HDRINCL, &on, sizeof on));
    CHECK(int_opt(r, IPPROTO_IP, IP_HDRINCL) == 1);
    uint8_t h[20 + 8 + 7] = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, IPPROTO_UDP, 0, 0, 0, 0, 0, 0,
                             127, 0, 0, 1};
    memcpy(h + 20, d, 8);
    memcpy(h + 28, "hdrincl", 7);
    CHECK(sendto(r, h, sizeof h, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof h);
    ufl = sizeof uf;
    CHECK(recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&uf, &ufl) == 7 &&
          memcmp(buf, "hdrincl", 7) == 0);
    CHECK(uf.sin_port == sport);
    n = find(r, a.sin_port, "hdrincl", p, sizeof p, &from);
    CHECK(n == 28 + 7);
    if (n > 0) {
        /* The kernel filled the source address, total length and checksum. */
        CHECK(memcmp(p + 12, "\x7f\0\0\x01", 4) == 0);
        CHECK(((p[2] << 8) | p[3]) == n);
        CHECK(p[10] != 0 || p[11] != 0);
    }

    /* MSG_TRUNC on a short buffer; a raw socket of another protocol sees none of it. */
    int other = socket(AF_INET, SOCK_RAW, 253);
    CHECK(other >= 0);
    CHECK(sendto(c, "again", 5, 0, (struct sockaddr *)&a, sizeof a) == 5);
    n = find(r, a.sin_port, "again", p, sizeof p, &from);
    CHECK(n == 33);
    CHECK_ERR(recv(other, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK(recv(u, buf, sizeof buf, 0) == 5);
    CHECK(sendto(c, "trunc", 5, 0, (struct sockaddr *)&a, sizeof a) == 5);
    CHECK(recv(u, buf, sizeof buf, 0) == 5);
    /* The next UDP datagram on lo is ours unless the host is busy: accept either. */
    n = recv(r, p, 10, MSG_TRUNC);
    CHECK(n >= 28);
    close(other);
    close(c);
    close(u);
    close(r);
    DONE();
}
