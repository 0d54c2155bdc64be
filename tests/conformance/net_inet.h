/* Helpers shared by the net_inet_* tests: loopback addresses (127.0.0.1 and ::1 only, port 0
 * for the kernel to choose), listeners, connected pairs and a watchdog. Every test runs its
 * parts for both families; `lt_fam_name` says which one a failed check belongs to. */
#ifndef NET_INET_H
#define NET_INET_H
#include "lintel_test.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

typedef union {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr_storage ss;
} sockaddr_any;

static const int inet_fams[2] = {AF_INET, AF_INET6};

/* The family the running part tests (run_parts sets it). */
static int fam;

static inline const char *fam_name(int fam) { return fam == AF_INET ? "IPv4" : "IPv6"; }

/* The loopback address of `fam` with `port` (host order). */
static inline socklen_t loop_addr(int fam, sockaddr_any *a, int port) {
    memset(a, 0, sizeof *a);
    if (fam == AF_INET) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons(port);
        a->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof a->v4;
    }
    a->v6.sin6_family = AF_INET6;
    a->v6.sin6_port = htons(port);
    a->v6.sin6_addr = in6addr_loopback;
    return sizeof a->v6;
}

static inline int addr_port(const sockaddr_any *a) {
    return ntohs(a->sa.sa_family == AF_INET ? a->v4.sin_port : a->v6.sin6_port);
}

/* Whether `a` is the loopback address of its family. */
static inline int is_loopback(const sockaddr_any *a) {
    if (a->sa.sa_family == AF_INET) return a->v4.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->v6.sin6_addr);
}

/* The sockaddr length of `fam`. */
static inline socklen_t alen(void) {
    return fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Same family, address and port. */
static inline int same_addr(const sockaddr_any *a, const sockaddr_any *b) {
    if (a->sa.sa_family != b->sa.sa_family) return 0;
    if (a->sa.sa_family == AF_INET)
        return a->v4.sin_port == b->v4.sin_port && a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
    return a->v6.sin6_port == b->v6.sin6_port &&
           memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, sizeof a->v6.sin6_addr) == 0;
}

/* A socket of `type` bound to loopback port 0; its address goes to `a`. -1 on failure. */
static inline int bound_socket(int fam, int type, sockaddr_any *a) {
    int s = socket(fam, type, 0);
    if (s < 0) return -1;
    socklen_t len = loop_addr(fam, a, 0);
    if (bind(s, &a->sa, len) != 0 || getsockname(s, &a->sa, &len) != 0) {
        close(s);
        return -1;
    }
    return s;
}

/* A TCP listener on loopback port 0 with `backlog`; its address goes to `a`. */
static inline int tcp_listener(int fam, sockaddr_any *a, int backlog) {
    int s = bound_socket(fam, SOCK_STREAM, a);
    if (s >= 0 && listen(s, backlog) != 0) {
        close(s);
        return -1;
    }
    return s;
}

/* A blocking TCP connection to `a`; -1 on failure. */
static inline int tcp_connect(const sockaddr_any *a) {
    int s = socket(a->sa.sa_family, SOCK_STREAM, 0);
    if (s < 0) return -1;
    socklen_t len = a->sa.sa_family == AF_INET ? sizeof a->v4 : sizeof a->v6;
    if (connect(s, &a->sa, len) != 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

/* A connected TCP pair over loopback: *c the connecting end, *s the accepted one. */
static inline int tcp_pair(int fam, int *c, int *s) {
    sockaddr_any a;
    *c = *s = -1;
    int l = tcp_listener(fam, &a, 4);
    if (l < 0) return -1;
    *c = tcp_connect(&a);
    if (*c >= 0) *s = accept(l, NULL, NULL);
    close(l);
    if (*s < 0 && *c >= 0) {
        close(*c);
        *c = -1;
    }
    return *s < 0 ? -1 : 0;
}

/* Waits up to `ms` for `events` on `fd`; returns revents (0 on timeout). */
static inline int wait_fd(int fd, short events, int ms) {
    struct pollfd p = {fd, events, 0};
    int r;
    do {
        r = poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r > 0 ? p.revents : 0;
}

static inline int sock_int(int fd, int level, int opt) {
    int v = -12345;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, opt, &v, &len) != 0) return -12345;
    return v;
}

static const char *watchdog_name = "net_inet";
static inline void on_watchdog(int s) {
    (void)s;
    static const char m[] = ": watchdog: a call blocked too long\n";
    write(1, watchdog_name, strlen(watchdog_name));
    write(1, m, sizeof m - 1);
    _exit(2);
}

/* Unbuffered output and an alarm that ends the whole test after `secs`. */
static inline void start_watchdog(const char *name, unsigned secs) {
    setvbuf(stdout, NULL, _IONBF, 0);
    watchdog_name = name;
    signal(SIGALRM, on_watchdog);
    alarm(secs);
}

/* SIGPIPE counter, for the parts that check the signal comes (or does not). */
static volatile sig_atomic_t got_pipe;
static inline void on_pipe(int s) {
    (void)s;
    got_pipe++;
}

static inline void count_sigpipe(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_pipe;
    sigaction(SIGPIPE, &sa, NULL);
    got_pipe = 0;
}

struct inet_part {
    const char *name;
    void (*fn)(void);
};

/* Runs every part for IPv4, then IPv6, each in its own child with `limit_ms`. */
static inline void run_parts(const struct inet_part *parts, size_t n, long limit_ms) {
    for (int f = 0; f < 2; f++) {
        fam = inet_fams[f];
        for (size_t i = 0; i < n; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s %s", fam_name(fam), parts[i].name);
            lt_sub(name, parts[i].fn, limit_ms);
        }
    }
}

#endif
