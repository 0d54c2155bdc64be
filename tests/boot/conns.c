/* boot.net.conns: 1,000 TCP connections over 127.0.0.1 open at once (2,000 sockets), each
 * echoing its own byte, on a 1 GiB guest; then all closed. Prints "1000 connections echoed"
 * and exits 0, or says what failed and exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define N 1000

static int fail(const char *what, int i) {
    printf("conns: %s failed at %d: %s\n", what, i, strerror(errno));
    return 1;
}

int main(void) {
    static int c[N], s[N];
    struct rlimit r = {2 * N + 64, 2 * N + 64};
    if (setrlimit(RLIMIT_NOFILE, &r) != 0)
        return fail("setrlimit", 0);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 128) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        return fail("listener", 0);
    for (int i = 0; i < N; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (c[i] < 0)
            return fail("socket", i);
        if (connect(c[i], (struct sockaddr *)&a, sizeof a) != 0)
            return fail("connect", i);
        s[i] = accept(l, NULL, NULL);
        if (s[i] < 0)
            return fail("accept", i);
    }
    for (int i = 0; i < N; i++) {
        unsigned char b = (unsigned char)i;
        if (send(c[i], &b, 1, 0) != 1)
            return fail("send", i);
    }
    for (int i = 0; i < N; i++) {
        unsigned char b;
        if (recv(s[i], &b, 1, 0) != 1 || b != (unsigned char)i)
            return fail("server recv", i);
        if (send(s[i], &b, 1, 0) != 1)
            return fail("echo", i);
    }
    for (int i = 0; i < N; i++) {
        unsigned char b;
        if (recv(c[i], &b, 1, 0) != 1 || b != (unsigned char)i)
            return fail("client recv", i);
    }
    for (int i = 0; i < N; i++) {
        close(c[i]);
        close(s[i]);
    }
    close(l);
    printf("%d connections echoed\n", N);
    return 0;
}
