/* Ping over a raw ICMP socket (raw(7), as ping programs run by root do): an echo request
 * with the program's checksum goes to 127.0.0.1 with a header the kernel writes; the raw
 * socket sees the request and then the echo reply, each with its IPv4 header; ICMP_FILTER
 * (SOL_RAW) drops the types it names, and is for ICMP sockets only. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <arpa/inet.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static uint16_t csum(const uint8_t *p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (p[i] << 8) | p[i + 1];
    if (n & 1)
        s += p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* Echo request `m` with sequence number `seq` and its checksum. */
static void set_seq(uint8_t *m, size_t n, uint8_t seq) {
    m[7] = seq;
    m[2] = m[3] = 0;
    uint16_t s = csum(m, n);
    m[2] = s >> 8;
    m[3] = s & 0xff;
}

int main(void) {
    if (geteuid() != 0) {
        CHECK_ERR(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
        DONE();
    }
    int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    CHECK(r >= 0);
    struct timeval tv = {.tv_sec = 5};
    CHECK_OK(setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    uint16_t id = (uint16_t)(getpid() ^ 0x5a5a);
    uint8_t m[8 + 16] = {8, 0, 0, 0, id >> 8, id & 0xff, 0, 7};
    memcpy(m + 8, "lintel-raw-ping!", 16);
    set_seq(m, sizeof m, 7);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(sendto(r, m, sizeof m, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)sizeof m);

    int saw_request = 0, saw_reply = 0;
    uint8_t p[2048];
    for (int i = 0; i < 200 && !saw_reply; i++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(r, p, sizeof p, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            break;
        int hl = (p[0] & 0xf) * 4;
        if (n < hl + 8 || p[9] != IPPROTO_ICMP || p[hl + 4] != (id >> 8) ||
            p[hl + 5] != (id & 0xff))
            continue;
        CHECK(fl == sizeof from && from.sin_family == AF_INET &&
              from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
        CHECK(n == hl + (ssize_t)sizeof m);
        CHECK(((p[2] << 8) | p[3]) == n);
        CHECK(memcmp(p + hl + 8, "lintel-raw-ping!", 16) == 0);
        CHECK(p[hl + 6] == 0 && p[hl + 7] == 7);
        CHECK(csum(p + hl, n - hl) == 0);
        CHECK(csum(p, hl) == 0);
        if (p[hl] == 8) {
            CHECK(!saw_reply);
            saw_request = 1;
        } else if (p[hl] == 0) {
            saw_reply = 1;
        }
    }
    CHECK(saw_request);
    CHECK(saw_reply);

    /* connect() names the default destination; the socket then takes only that peer's. */
    CHECK_OK(connect(r, (struct sockaddr *)&a, sizeof a));
    set_seq(m, sizeof m, 8);
    CHECK(send(r, m, sizeof m, 0) == (ssize_t)sizeof m);
    int replies = 0;
    for (int i = 0; i < 200 && !replies; i++) {
        ssize_t n = recv(r, p, sizeof p, 0);
        if (n < 0)
            break;
        int hl = (p[0] & 0xf) * 4;
        if (n >= hl + 8 && p[hl] == 0 && p[hl + 7] == 8)
            replies++;
    }
    CHECK(replies == 1);
    /* ICMP_FILTER: requests filtered out, only the reply arrives. */
    struct icmp_filter filt = {.data = 1u << ICMP_ECHO}, got = {0};
    CHECK_OK(setsockopt(r, SOL_RAW, ICMP_FILTER, &filt, sizeof filt));
    socklen_t gl = sizeof got;
    CHECK_OK(getsockopt(r, SOL_RAW, ICMP_FILTER, &got, &gl));
    CHECK(gl == sizeof got && got.data == filt.data);
    set_seq(m, sizeof m, 9);
    CHECK(send(r, m, sizeof m, 0) == (ssize_t)sizeof m);
    int first = -1;
    for (int i = 0; i < 200 && first < 0; i++) {
        ssize_t n = recv(r, p, sizeof p, 0);
        if (n < 0)
            break;
        int hl = (p[0] & 0xf) * 4;
        if (n >= hl + 8 && p[hl + 4] == (id >> 8) && p[hl + 5] == (id & 0xff) && p[hl + 7] == 9)
            first = p[hl];
    }
    CHECK(first == ICMP_ECHOREPLY);
    int u = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
    CHECK(u >= 0);
    CHECK_ERR(setsockopt(u, SOL_RAW, ICMP_FILTER, &filt, sizeof filt), EOPNOTSUPP);
    CHECK_ERR(setsockopt(r, SOL_RAW, 2, &filt, sizeof filt), ENOPROTOOPT);
    close(u);
    close(r);
    DONE();
}
