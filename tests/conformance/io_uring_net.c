/* io_uring requests that are one system call each: SEND/RECV (a RECV that waits for data),
 * SENDMSG/RECVMSG, ACCEPT that waits for a connection and CONNECT over TCP loopback, OPENAT,
 * STATX, FALLOCATE, FADVISE, MADVISE, CLOSE, MKDIRAT, RENAMEAT, LINKAT, SYMLINKAT, UNLINKAT,
 * SYNC_FILE_RANGE and SHUTDOWN, with their errors. */
// covers: io_uring_setup io_uring_enter io_uring_register
#define _GNU_SOURCE
#include "lintel_test.h"
#include "io_uring_ring.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#ifndef STATX_SIZE /* musl without statx: the kernel header has the struct */
#include <linux/stat.h>
#endif
#include <sys/uio.h>

int main(void) {
    struct ring r;
    CHECK(ring_init(&r, 8, 0, 0) == 0);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    char buf[64] = {0};

    /* RECV waits; SEND wakes it. */
    struct io_uring_sqe *s = get_sqe(&r, IORING_OP_RECV, sv[1], 1);
    s->addr = (uintptr_t)buf;
    s->len = sizeof buf;
    CHECK(submit(&r, 1, 0) == 1);
    CHECK(cq_ready(&r) == 0);
    s = get_sqe(&r, IORING_OP_SEND, sv[0], 2);
    s->addr = (uintptr_t) "ping";
    s->len = 4;
    CHECK(submit(&r, 1, 2) == 1);
    struct io_uring_cqe c[2];
    CHECK(reap(&r, &c[0]) && reap(&r, &c[1]));
    int sent = c[0].user_data == 2 ? 0 : 1;
    CHECK(c[sent].user_data == 2 && c[sent].res == 4);
    CHECK(c[1 - sent].user_data == 1 && c[1 - sent].res == 4 && memcmp(buf, "ping", 4) == 0);

    /* SENDMSG and RECVMSG. */
    struct iovec iov = {"msg!", 4};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    s = get_sqe(&r, IORING_OP_SENDMSG, sv[1], 3);
    s->addr = (uintptr_t)&mh;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 3) == 4);
    char rb[8] = {0};
    struct iovec riov = {rb, sizeof rb};
    struct msghdr rh;
    memset(&rh, 0, sizeof rh);
    rh.msg_iov = &riov;
    rh.msg_iovlen = 1;
    s = get_sqe(&r, IORING_OP_RECVMSG, sv[0], 4);
    s->addr = (uintptr_t)&rh;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 4) == 4 && memcmp(rb, "msg!", 4) == 0);
    /* RECV on a file that is not a socket. */
    s = get_sqe(&r, IORING_OP_RECV, 0, 5);
    int devnull = open("/dev/null", O_RDONLY);
    s->fd = devnull;
    s->addr = (uintptr_t)buf;
    s->len = 1;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 5) == -ENOTSOCK);
    close(devnull);
    /* SEND and RECV on registered sockets. */
    CHECK_OK(uring_register(r.fd, IORING_REGISTER_FILES, sv, 2));
    s = get_sqe(&r, IORING_OP_RECV, 1, 7);
    s->flags = IOSQE_FIXED_FILE;
    s->addr = (uintptr_t)buf;
    s->len = sizeof buf;
    CHECK(submit(&r, 1, 0) == 1);
    CHECK(cq_ready(&r) == 0);
    s = get_sqe(&r, IORING_OP_SEND, 0, 8);
    s->flags = IOSQE_FIXED_FILE;
    s->addr = (uintptr_t) "fixed";
    s->len = 5;
    s->msg_flags = MSG_NOSIGNAL;
    CHECK(submit(&r, 1, 2) == 1);
    CHECK(reap(&r, &c[0]) && reap(&r, &c[1]));
    sent = c[0].user_data == 8 ? 0 : 1;
    CHECK(c[sent].user_data == 8 && c[sent].res == 5);
    CHECK(c[1 - sent].user_data == 7 && c[1 - sent].res == 5 && memcmp(buf, "fixed", 5) == 0);
    CHECK_OK(uring_register(r.fd, IORING_UNREGISTER_FILES, 0, 0));

    /* The peer closes: a waiting RECV completes with 0. */
    s = get_sqe(&r, IORING_OP_RECV, sv[0], 6);
    s->addr = (uintptr_t)buf;
    s->len = 8;
    CHECK(submit(&r, 1, 0) == 1);
    close(sv[1]);
    CHECK(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, 0, 8) == 0);
    CHECK(reap_res(&r, 6) == 0);
    close(sv[0]);

    /* TCP loopback: ACCEPT waits for the CONNECT. */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    CHECK(bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(ls, 4) == 0);
    CHECK(getsockname(ls, (struct sockaddr *)&sa, &sl) == 0);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    s = get_sqe(&r, IORING_OP_ACCEPT, ls, 10);
    s->addr = (uintptr_t)&peer;
    s->addr2 = (uintptr_t)&plen;
    CHECK(submit(&r, 1, 0) == 1);
    CHECK(cq_ready(&r) == 0);
    int cs = socket(AF_INET, SOCK_STREAM, 0);
    s = get_sqe(&r, IORING_OP_CONNECT, cs, 11);
    s->addr = (uintptr_t)&sa;
    s->off = sizeof sa;
    CHECK(submit(&r, 1, 2) == 1);
    int as = -1, connected = -1;
    for (int i = 0; i < 2; i++) {
        struct io_uring_cqe e;
        CHECK(reap(&r, &e));
        if (e.user_data == 10)
            as = e.res;
        else if (e.user_data == 11)
            connected = e.res;
    }
    CHECK(as >= 0 && connected == 0);
    CHECK(plen == sizeof peer && peer.sin_family == AF_INET);
    CHECK(write(cs, "tcp", 3) == 3);
    CHECK(read(as, buf, 3) == 3 && memcmp(buf, "tcp", 3) == 0);
    close(as);
    close(cs);
    close(ls);

    /* CONNECT to a port nobody listens on: ECONNREFUSED. */
    int refused = socket(AF_INET, SOCK_STREAM, 0);
    s = get_sqe(&r, IORING_OP_CONNECT, refused, 12);
    s->addr = (uintptr_t)&sa; /* the listener is closed */
    s->off = sizeof sa;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 12) == -ECONNREFUSED);
    close(refused);

    /* OPENAT, STATX, FALLOCATE, FADVISE, MADVISE, CLOSE. */
    char dir[] = "/tmp/uring-dir-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    s = get_sqe(&r, IORING_OP_OPENAT, dfd, 20);
    s->addr = (uintptr_t) "f";
    s->open_flags = O_RDWR | O_CREAT | O_EXCL;
    s->len = 0600;
    CHECK(submit(&r, 1, 1) == 1);
    int f = reap_res(&r, 20);
    CHECK(f >= 0);
    s = get_sqe(&r, IORING_OP_OPENAT, dfd, 21);
    s->addr = (uintptr_t) "f";
    s->open_flags = O_RDWR | O_CREAT | O_EXCL;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 21) == -EEXIST);
    s = get_sqe(&r, IORING_OP_FALLOCATE, f, 22);
    s->off = 0;
    s->addr = 8192; /* the length */
    s->len = 0;     /* the mode */
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 22) == 0);
    struct statx stx;
    memset(&stx, 0, sizeof stx);
    s = get_sqe(&r, IORING_OP_STATX, dfd, 23);
    s->addr = (uintptr_t) "f";
    s->len = STATX_SIZE | STATX_MODE;
    s->addr2 = (uintptr_t)&stx;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 23) == 0);
    CHECK(stx.stx_size == 8192 && (stx.stx_mode & 0777) == 0600 && S_ISREG(stx.stx_mode));
    s = get_sqe(&r, IORING_OP_FADVISE, f, 24);
    s->fadvise_advice = POSIX_FADV_SEQUENTIAL;
    s->len = 100;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 24) == 0);
    char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    s = get_sqe(&r, IORING_OP_MADVISE, -1, 25);
    s->addr = (uintptr_t)m;
    s->len = 4096;
    s->fadvise_advice = MADV_DONTNEED;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 25) == 0);
    get_sqe(&r, IORING_OP_CLOSE, f, 26);
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 26) == 0);
    CHECK(fcntl(f, F_GETFD) == -1 && errno == EBADF);
    get_sqe(&r, IORING_OP_CLOSE, f, 27);
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 27) == -EBADF);
    /* A ring cannot close a ring. */
    get_sqe(&r, IORING_OP_CLOSE, r.fd, 28);
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 28) == -EBADF);
    /* MKDIRAT, RENAMEAT, LINKAT, SYMLINKAT, UNLINKAT. */
    s = get_sqe(&r, IORING_OP_MKDIRAT, dfd, 30);
    s->addr = (uintptr_t) "d";
    s->len = 0700;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 30) == 0);
    s = get_sqe(&r, IORING_OP_MKDIRAT, dfd, 31);
    s->addr = (uintptr_t) "d";
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 31) == -EEXIST);
    s = get_sqe(&r, IORING_OP_RENAMEAT, dfd, 32);
    s->addr = (uintptr_t) "f";
    s->len = dfd;
    s->addr2 = (uintptr_t) "g";
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 32) == 0);
    s = get_sqe(&r, IORING_OP_LINKAT, dfd, 33);
    s->addr = (uintptr_t) "g";
    s->len = dfd;
    s->addr2 = (uintptr_t) "h";
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 33) == 0);
    s = get_sqe(&r, IORING_OP_SYMLINKAT, dfd, 34);
    s->addr = (uintptr_t) "g";
    s->addr2 = (uintptr_t) "s";
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 34) == 0);
    char target[8] = {0};
    CHECK(readlinkat(dfd, "s", target, sizeof target) == 1 && target[0] == 'g');
    struct stat sb;
    CHECK(fstatat(dfd, "h", &sb, 0) == 0 && sb.st_nlink == 2 && sb.st_size == 8192);
    const char *gone[] = {"h", "g", "s"};
    for (int i = 0; i < 3; i++) {
        s = get_sqe(&r, IORING_OP_UNLINKAT, dfd, 35 + i);
        s->addr = (uintptr_t)gone[i];
    }
    CHECK(submit(&r, 3, 3) == 3);
    /* (Linux runs them from workers: in any order.) */
    for (int i = 0; i < 3; i++) {
        struct io_uring_cqe e;
        CHECK(reap(&r, &e) && e.user_data >= 35 && e.user_data <= 37 && e.res == 0);
    }
    s = get_sqe(&r, IORING_OP_UNLINKAT, dfd, 38);
    s->addr = (uintptr_t) "d";
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 38) == -EISDIR);
    s = get_sqe(&r, IORING_OP_UNLINKAT, dfd, 39);
    s->addr = (uintptr_t) "d";
    s->unlink_flags = AT_REMOVEDIR;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 39) == 0);
    s = get_sqe(&r, IORING_OP_UNLINKAT, dfd, 40);
    s->addr = (uintptr_t) "d";
    s->unlink_flags = AT_SYMLINK_NOFOLLOW;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 40) == -EINVAL);
    s = get_sqe(&r, IORING_OP_MKDIRAT, 0, 41);
    s->flags = IOSQE_FIXED_FILE;
    s->addr = (uintptr_t) "x";
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 41) == -EBADF);

    /* SYNC_FILE_RANGE; SHUTDOWN of a socket's sending side: the peer reads end of file. */
    int sf = openat(dfd, "sync", O_RDWR | O_CREAT, 0600);
    CHECK(write(sf, "data", 4) == 4);
    s = get_sqe(&r, IORING_OP_SYNC_FILE_RANGE, sf, 42);
    s->len = 4;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 42) == 0);
    close(sf);
    unlinkat(dfd, "sync", 0);
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    s = get_sqe(&r, IORING_OP_SHUTDOWN, sp[0], 43);
    s->len = SHUT_WR;
    CHECK(submit(&r, 1, 1) == 1);
    CHECK(reap_res(&r, 43) == 0);
    CHECK(read(sp[1], buf, 1) == 0);
    close(sp[0]);
    close(sp[1]);
    close(dfd);
    rmdir(dir);
    close(r.fd);
    DONE();
}
