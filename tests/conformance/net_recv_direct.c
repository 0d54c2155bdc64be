/* Receives that copy straight from a socket's queue into user memory: TCP, UDP and Unix
 * stream receives into pages never touched before (fresh anonymous memory, faulted in during
 * the receive), scattered over several pieces (readv, recvmsg), with MSG_PEEK and
 * MSG_WAITALL; into a read-only buffer (EFAULT: a stream's bytes stay queued for the next
 * receive, a UDP datagram that could not be copied is dropped as udp_recvmsg drops it); and
 * a Unix stream read across many small writes, up to and including the stretch that carries
 * SCM_RIGHTS, and (with SO_PASSCRED) not across from one writer's bytes to another's; a
 * receive that faults one page in counts one minor fault. */
#define _GNU_SOURCE
#include "net_inet.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/un.h>

#define BIG 200000

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 9)); }

static int matches(const unsigned char *p, size_t off, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(off + i)) return 0;
    return 1;
}

/* Fresh anonymous memory: no page of it is present until written. */
static unsigned char *fresh(size_t len) {
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    return m == MAP_FAILED ? NULL : m;
}

/* A child that writes BIG bytes of the pattern to `fd` and exits. */
static pid_t writer(int fd, int other) {
    pid_t p = fork();
    if (p == 0) {
        close(other);
        static unsigned char out[BIG];
        for (size_t i = 0; i < BIG; i++) out[i] = pattern(i);
        size_t off = 0;
        while (off < BIG) {
            ssize_t w = write(fd, out + off, BIG - off);
            if (w <= 0) _exit(1);
            off += w;
        }
        _exit(0);
    }
    return p;
}

/* BIG bytes from `fd` into fresh memory: a read() loop, or one recv with MSG_WAITALL. */
static void read_fresh(int fd, int waitall) {
    unsigned char *m = fresh(BIG + 4096);
    if (!m) return;
    size_t got = 0;
    if (waitall) {
        ssize_t r = recv(fd, m, BIG, MSG_WAITALL);
        CHECK(r == BIG);
        got = r > 0 ? r : 0;
    } else {
        ssize_t r;
        while (got < BIG && (r = read(fd, m + got, BIG + 4096 - got)) > 0) got += r;
        CHECK(got == BIG);
    }
    CHECK(matches(m, 0, got));
    munmap(m, BIG + 4096);
}

/* A stream from a writer child into fresh memory, by read() and by recv(MSG_WAITALL). */
static void stream_into_fresh(int make_pair(int fd[2])) {
    for (int waitall = 0; waitall < 2; waitall++) {
        int fd[2];
        CHECK(make_pair(fd) == 0);
        pid_t p = writer(fd[1], fd[0]);
        close(fd[1]);
        read_fresh(fd[0], waitall);
        int st;
        CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        close(fd[0]);
    }
}

/* Pieces of fresh memory for readv/recvmsg: 1000 bytes, 5000 across a page boundary, and
 * the rest; the 10000 bytes queued on fd[0] arrive in order (MSG_PEEK first). */
static void scatter_fresh(int fd[2]) {
    static unsigned char out[10000];
    for (size_t i = 0; i < sizeof out; i++) out[i] = pattern(i);
    CHECK(write(fd[1], out, sizeof out) == (ssize_t)sizeof out);
    unsigned char *m = fresh(4 * 4096);
    if (!m) return;
    unsigned char peeked[16];
    CHECK(recv(fd[0], peeked, sizeof peeked, MSG_PEEK | MSG_WAITALL) == sizeof peeked);
    CHECK(matches(peeked, 0, sizeof peeked));
    struct iovec iov[3] = {{m, 1000}, {m + 3000, 5000}, {m + 12000, 4000}};
    struct msghdr h = {.msg_iov = iov, .msg_iovlen = 3};
    CHECK(recvmsg(fd[0], &h, MSG_WAITALL) == 10000);
    CHECK(matches(m, 0, 1000) && matches(m + 3000, 1000, 5000) && matches(m + 12000, 6000, 4000));
    munmap(m, 4 * 4096);
    /* readv into fresh pieces, as read() into each. */
    CHECK(write(fd[1], out, 3000) == 3000);
    m = fresh(3 * 4096);
    if (!m) return;
    struct iovec v[2] = {{m + 4000, 1000}, {m + 8190, 2000}};
    CHECK(readv(fd[0], v, 2) == 3000);
    CHECK(matches(m + 4000, 0, 1000) && matches(m + 8190, 1000, 2000));
    munmap(m, 3 * 4096);
}

/* A receive into a read-only page fails with EFAULT and leaves a stream's bytes queued. */
static void efault_keeps_stream(int fd[2]) {
    unsigned char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED);
    CHECK(write(fd[1], "kept", 4) == 4);
    struct pollfd pfd = {fd[0], POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1);
    CHECK_ERR(recv(fd[0], ro, 100, 0), EFAULT);
    CHECK_ERR(read(fd[0], ro, 100), EFAULT);
    char b[100];
    CHECK(recv(fd[0], b, sizeof b, 0) == 4 && memcmp(b, "kept", 4) == 0);
    munmap(ro, 4096);
}

static int tcp_pair_v4(int fd[2]) {
    fam = AF_INET;
    sockaddr_any a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = loop_addr(AF_INET, &a, 0);
    if (l < 0 || bind(l, &a.sa, len) || listen(l, 1) || getsockname(l, &a.sa, &len)) return -1;
    fd[1] = socket(AF_INET, SOCK_STREAM, 0);
    if (fd[1] < 0 || connect(fd[1], &a.sa, len)) return -1;
    fd[0] = accept(l, NULL, NULL);
    close(l);
    return fd[0] < 0 ? -1 : 0;
}

static int unix_pair(int fd[2]) { return socketpair(AF_UNIX, SOCK_STREAM, 0, fd); }

static void udp_efault_drops(void) {
    int fd[2];
    sockaddr_any a;
    socklen_t len = loop_addr(AF_INET, &a, 0);
    fd[0] = socket(AF_INET, SOCK_DGRAM, 0);
    fd[1] = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd[0] >= 0 && fd[1] >= 0);
    CHECK(bind(fd[0], &a.sa, len) == 0 && getsockname(fd[0], &a.sa, &len) == 0);
    CHECK(connect(fd[1], &a.sa, len) == 0);
    CHECK(send(fd[1], "one", 3, 0) == 3);
    CHECK(send(fd[1], "two", 3, 0) == 3);
    struct pollfd pfd = {fd[0], POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1);
    unsigned char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK_ERR(recv(fd[0], ro, 100, 0), EFAULT);
    char b[16];
    CHECK(recv(fd[0], b, sizeof b, MSG_DONTWAIT) == 3 && memcmp(b, "two", 3) == 0);
    /* A datagram into fresh memory, whole, and MSG_TRUNC's full length. */
    CHECK(send(fd[1], "three", 5, 0) == 5);
    CHECK(poll(&pfd, 1, 5000) == 1);
    unsigned char *m = fresh(4096);
    if (m) {
        CHECK(recv(fd[0], m + 4094, 2, MSG_TRUNC) == 5);
        CHECK(memcmp(m + 4094, "th", 2) == 0);
        munmap(m, 4096);
    }
    munmap(ro, 4096);
    close(fd[0]);
    close(fd[1]);
}

/* Sends `s` on fd with `pass` (an fd to pass, or -1). */
static void send_with(int fd, const char *s, int pass) {
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec v = {(void *)s, strlen(s)};
    struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1};
    if (pass >= 0) {
        memset(ctl, 0, sizeof ctl);
        h.msg_control = ctl;
        h.msg_controllen = sizeof ctl;
        struct cmsghdr *c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass, sizeof pass);
    }
    CHECK(sendmsg(fd, &h, 0) == (ssize_t)strlen(s));
}

/* recvmsg of up to 100 bytes: the bytes (NUL-terminated in `out`) and how many fds came. */
static int recv_fds(int fd, char *out) {
    char ctl[CMSG_SPACE(4 * sizeof(int))];
    struct iovec v = {out, 100};
    struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl,
                       .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(fd, &h, MSG_DONTWAIT);
    out[n > 0 ? n : 0] = 0;
    int fds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
        if (c->cmsg_type == SCM_RIGHTS) {
            int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (int i = 0; i < k; i++) {
                int f;
                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                close(f);
            }
            fds += k;
        }
    return fds;
}

static void unix_boundaries(void) {
    int fd[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
    /* 100 small writes come back in one read. */
    char small[100];
    memset(small, 'x', sizeof small);
    for (int i = 0; i < 100; i++) CHECK(write(fd[1], small, sizeof small) == sizeof small);
    static char big[20000];
    CHECK(read(fd[0], big, sizeof big) == 10000);
    /* A read takes plain bytes and then the stretch carrying files, and stops after it. */
    char out[128];
    CHECK(write(fd[1], "aaa", 3) == 3);
    send_with(fd[1], "bbb", fd[0]);
    CHECK(write(fd[1], "ccc", 3) == 3);
    CHECK(recv_fds(fd[0], out) == 1 && strcmp(out, "aaabbb") == 0);
    CHECK(recv_fds(fd[0], out) == 0 && strcmp(out, "ccc") == 0);
    /* Two stretches with files: one read each. */
    send_with(fd[1], "dd", fd[0]);
    send_with(fd[1], "ee", fd[0]);
    CHECK(recv(fd[0], out, 100, MSG_PEEK) == 2);
    CHECK(recv_fds(fd[0], out) == 1 && strcmp(out, "dd") == 0);
    CHECK(recv_fds(fd[0], out) == 1 && strcmp(out, "ee") == 0);
    /* Without SO_PASSCRED bytes of two writers come back together; with it, apart. */
    for (int pass = 0; pass < 2; pass++) {
        int one = 1;
        if (pass) CHECK(setsockopt(fd[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0);
        CHECK(write(fd[1], "p", 1) == 1);
        pid_t p = fork();
        if (p == 0) _exit(write(fd[1], "c", 1) == 1 ? 0 : 1);
        int st;
        CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK(read(fd[0], out, 100) == (pass ? 1 : 2));
        if (pass) CHECK(read(fd[0], out, 100) == 1 && out[0] == 'c');
    }
    close(fd[0]);
    close(fd[1]);
}

/* A receive into a buffer whose first page is not there and whose other pages are: the copy
 * faults that one page in, one minor fault, as Linux counts (the pages already there take
 * none, though the kernel makes sure of them before it copies again). */
static void one_fault_counted(int (*pair)(int *)) {
    int fd[2];
    CHECK(pair(fd) == 0);
    size_t len = 64 * 4096;
    unsigned char *m = fresh(len);
    if (m) {
        memset(m + 4096, 1, len - 4096);
        CHECK(write(fd[1], "hello", 5) == 5);
        struct pollfd pfd = {fd[0], POLLIN, 0};
        CHECK(poll(&pfd, 1, 5000) == 1);
        struct rusage r0, r1;
        CHECK(getrusage(RUSAGE_SELF, &r0) == 0);
        ssize_t n = recv(fd[0], m, len, 0);
        CHECK(getrusage(RUSAGE_SELF, &r1) == 0);
        CHECK(n == 5 && memcmp(m, "hello", 5) == 0);
        long d = r1.ru_minflt - r0.ru_minflt;
        if (d != 1) printf("minor faults of the receive: %ld (Linux: 1)\n", d);
        CHECK(d == 1);
        munmap(m, len);
    }
    close(fd[0]);
    close(fd[1]);
}

int main(void) {
    alarm(60);
    stream_into_fresh(tcp_pair_v4);
    stream_into_fresh(unix_pair);
    int fd[2];
    CHECK(tcp_pair_v4(fd) == 0);
    scatter_fresh(fd);
    efault_keeps_stream(fd);
    close(fd[0]);
    close(fd[1]);
    CHECK(unix_pair(fd) == 0);
    scatter_fresh(fd);
    efault_keeps_stream(fd);
    close(fd[0]);
    close(fd[1]);
    udp_efault_drops();
    unix_boundaries();
    one_fault_counted(unix_pair);
    one_fault_counted(tcp_pair_v4);
    DONE();
}
