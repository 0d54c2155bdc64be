/* Name resolution over loopback as a program does it: getaddrinfo("localhost") with
 * AI_NUMERICSERV gives 127.0.0.1 (and ::1 where /etc/hosts lists it) with the port, and a
 * connection to a listener through its results; numeric hosts (AI_NUMERICHOST) for both
 * families; getnameinfo with NI_NUMERICHOST|NI_NUMERICSERV; EAI_NONAME for a bad numeric host.
 * Only /etc/hosts is consulted: the guest's lists 127.0.0.1 and ::1 as localhost, the host's
 * may lack ::1 (so ::1 is never required of "localhost"). Static glibc warns at link time that
 * getaddrinfo needs its shared libraries at run time; glibc 2.34+ has files lookup built in, so
 * the static build works all the same. */
#define _GNU_SOURCE
#include "net_inet.h"
#include <netdb.h>

static void test_localhost(void) {
    sockaddr_any a;
    int l = tcp_listener(AF_INET, &a, 4);
    CHECK(l >= 0);
    char port[16];
    snprintf(port, sizeof port, "%d", addr_port(&a));

    /* Any family: every answer is a loopback address with the port; 127.0.0.1 among them. */
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    int r = getaddrinfo("localhost", port, &hints, &res);
    CHECK(r == 0);
    if (r != 0) printf("  getaddrinfo(localhost): %s\n", gai_strerror(r));
    int v4 = 0, other = 0;
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        sockaddr_any got;
        memcpy(&got, p->ai_addr, p->ai_addrlen);
        int ok = p->ai_socktype == SOCK_STREAM && p->ai_protocol == IPPROTO_TCP &&
                 is_loopback(&got) && addr_port(&got) == addr_port(&a) &&
                 p->ai_addrlen == (p->ai_family == AF_INET ? sizeof got.v4 : sizeof got.v6);
        if (!ok) other++;
        if (ok && p->ai_family == AF_INET) v4++;
    }
    CHECK(v4 == 1 && other == 0);
    if (res) freeaddrinfo(res);

    /* IPv4 only, then connect through the answer. */
    hints.ai_family = AF_INET;
    res = NULL;
    CHECK(getaddrinfo("localhost", port, &hints, &res) == 0);
    if (res) {
        CHECK(res->ai_family == AF_INET && res->ai_next == NULL);
        int c = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
        CHECK_OK(connect(c, res->ai_addr, res->ai_addrlen));
        int s = accept(l, NULL, NULL);
        CHECK(s >= 0);
        CHECK(send(c, "hi", 2, 0) == 2);
        char buf[4];
        CHECK(recv(s, buf, sizeof buf, 0) == 2);
        close(s);
        close(c);
        freeaddrinfo(res);
    }
    close(l);

    /* A name is not a number. */
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    res = NULL;
    CHECK(getaddrinfo("localhost", port, &hints, &res) == EAI_NONAME);
    hints.ai_flags = AI_NUMERICSERV;
    CHECK(getaddrinfo("localhost", "http", &hints, &res) == EAI_NONAME);
}

static void test_numeric(void) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_DGRAM;
    const char *hosts[2] = {"127.0.0.1", "::1"};
    for (int i = 0; i < 2; i++) {
        res = NULL;
        CHECK(getaddrinfo(hosts[i], "4242", &hints, &res) == 0);
        if (!res) continue;
        sockaddr_any got;
        memcpy(&got, res->ai_addr, res->ai_addrlen);
        CHECK(res->ai_family == inet_fams[i] && res->ai_next == NULL);
        CHECK(res->ai_protocol == IPPROTO_UDP && is_loopback(&got) && addr_port(&got) == 4242);
        char host[64], serv[16];
        CHECK(getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, serv, sizeof serv,
                          NI_NUMERICHOST | NI_NUMERICSERV) == 0);
        CHECK(strcmp(host, hosts[i]) == 0 && strcmp(serv, "4242") == 0);
        freeaddrinfo(res);
    }
    res = NULL;
    CHECK(getaddrinfo("127.0.0.300", "1", &hints, &res) == EAI_NONAME);
    /* No host: the loopback address, or the wildcard with AI_PASSIVE. */
    hints.ai_family = AF_INET;
    res = NULL;
    CHECK(getaddrinfo(NULL, "7", &hints, &res) == 0);
    if (res) {
        CHECK(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
        freeaddrinfo(res);
    }
    hints.ai_flags |= AI_PASSIVE;
    res = NULL;
    CHECK(getaddrinfo(NULL, "7", &hints, &res) == 0);
    if (res) {
        CHECK(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == htonl(INADDR_ANY));
        freeaddrinfo(res);
    }
}

int main(void) {
    start_watchdog("net_inet_resolve", 20);
    lt_sub("localhost", test_localhost, 8000);
    lt_sub("numeric", test_numeric, 5000);
    DONE();
}
