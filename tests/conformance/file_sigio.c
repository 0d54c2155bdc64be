/* Signal-driven I/O (O_ASYNC): SIGIO to the F_SETOWN owner when a pipe, a Unix or IP socket
 * or a pseudo-terminal master has data (or a listener a connection), the F_SETSIG signal
 * with si_code POLL_IN/POLL_OUT/POLL_HUP, si_band and si_fd, FIOASYNC as the flag's other
 * switch, nothing without O_ASYNC or without an owner, and a process group as the owner. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void make_async(int fd, int owner, int sig) {
    CHECK(fcntl(fd, F_SETOWN, owner) == 0);
    if (sig) CHECK(fcntl(fd, F_SETSIG, sig) == 0);
    CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC | O_NONBLOCK) == 0);
}

static void pipe_sigio(void) {
    lt_block_sig(SIGIO);
    int p[2];
    CHECK(pipe(p) == 0);
    siginfo_t si;
    /* An owner without O_ASYNC hears nothing. */
    CHECK(fcntl(p[0], F_SETOWN, getpid()) == 0);
    CHECK(write(p[1], "a", 1) == 1);
    CHECK(lt_wait_sig(SIGIO, 100, &si) == 0);
    make_async(p[0], getpid(), 0);
    CHECK(write(p[1], "b", 1) == 1);
    CHECK(lt_wait_sig(SIGIO, 2000, &si) == SIGIO);
    CHECK(si.si_code == SI_KERNEL);
    /* Cleared with F_SETFL: silence again. */
    CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
    CHECK(write(p[1], "c", 1) == 1);
    CHECK(lt_wait_sig(SIGIO, 100, &si) == 0);
    close(p[0]);
    close(p[1]);
}

static void pipe_setsig(void) {
    int rt = SIGRTMIN + 1;
    lt_block_sig(rt);
    int p[2];
    CHECK(pipe(p) == 0);
    make_async(p[0], getpid(), rt);
    CHECK(fcntl(p[0], F_GETSIG) == rt);
    CHECK(write(p[1], "xy", 2) == 2);
    siginfo_t si;
    CHECK(lt_wait_sig(rt, 2000, &si) == rt);
    CHECK(si.si_code == POLL_IN);
    CHECK(si.si_fd == p[0]);
    CHECK(si.si_band == (POLLIN | POLLRDNORM));
    /* The write end hears of room after a read. */
    make_async(p[1], getpid(), rt);
    char b[2];
    CHECK(read(p[0], b, 2) == 2);
    CHECK(lt_wait_sig(rt, 2000, &si) == rt);
    CHECK(si.si_code == POLL_OUT);
    CHECK(si.si_fd == p[1]);
    CHECK(si.si_band == (POLLOUT | POLLWRNORM | POLLWRBAND));
    close(p[0]);
    close(p[1]);
}

static void socket_fioasync(void) {
    int rt = SIGRTMIN + 2;
    lt_block_sig(rt);
    lt_block_sig(SIGIO);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(fcntl(sv[0], F_SETOWN, getpid()) == 0);
    CHECK(fcntl(sv[0], F_SETSIG, rt) == 0);
    int on = 1;
    CHECK(ioctl(sv[0], FIOASYNC, &on) == 0);
    CHECK(fcntl(sv[0], F_GETFL) & O_ASYNC);
    CHECK(write(sv[1], "hi", 2) == 2);
    siginfo_t si;
    CHECK(lt_wait_sig(rt, 2000, &si) == rt);
    CHECK(si.si_code == POLL_IN);
    CHECK(si.si_fd == sv[0]);
    char b[2];
    CHECK(read(sv[0], b, 2) == 2);
    /* The peer's close is a hang-up. */
    close(sv[1]);
    CHECK(lt_wait_sig(rt, 2000, &si) == rt);
    CHECK(si.si_code == POLL_HUP);
    CHECK(si.si_band == (POLLHUP | POLLERR));
    close(sv[0]);
    /* A datagram pair tells of each datagram. */
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    make_async(sv[0], getpid(), 0);
    CHECK(send(sv[1], "d", 1, 0) == 1);
    CHECK(lt_wait_sig(SIGIO, 2000, &si) == SIGIO);
    close(sv[0]);
    close(sv[1]);
}

/* IP sockets on loopback: a listener hears of a connection, a connected socket of data and of
 * the peer's close, a UDP socket of a datagram. */
static void inet(void) {
    int rt = SIGRTMIN + 3;
    lt_block_sig(SIGIO);
    lt_block_sig(rt);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(l, (struct sockaddr *)&a, &al) == 0);
    CHECK(listen(l, 4) == 0);
    make_async(l, getpid(), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    siginfo_t si;
    CHECK(lt_wait_sig(SIGIO, 2000, &si) == SIGIO);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    make_async(s, getpid(), rt);
    CHECK(write(c, "x", 1) == 1);
    CHECK(lt_wait_sig(rt, 2000, &si) == rt);
    CHECK(si.si_code == POLL_IN);
    CHECK(si.si_fd == s);
    char b;
    CHECK(read(s, &b, 1) == 1);
    close(c);
    CHECK(lt_wait_sig(rt, 2000, &si) == rt);
    close(s);
    close(l);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t ul = sizeof ua;
    CHECK(bind(u, (struct sockaddr *)&ua, sizeof ua) == 0);
    CHECK(getsockname(u, (struct sockaddr *)&ua, &ul) == 0);
    make_async(u, getpid(), 0);
    int v = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(sendto(v, "d", 1, 0, (struct sockaddr *)&ua, sizeof ua) == 1);
    CHECK(lt_wait_sig(SIGIO, 2000, &si) == SIGIO);
    close(u);
    close(v);
}

static void pty_master(void) {
    lt_block_sig(SIGIO);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    if (m < 0) return;
    CHECK(grantpt(m) == 0 && unlockpt(m) == 0);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    CHECK(s >= 0);
    make_async(m, getpid(), 0);
    CHECK(write(s, "out\n", 4) == 4);
    siginfo_t si;
    CHECK(lt_wait_sig(SIGIO, 2000, &si) == SIGIO);
    close(s);
    close(m);
}

static void group_owner(void) {
    /* In a group of our own, so no other process of the test's group is signalled. */
    CHECK(setpgid(0, 0) == 0);
    lt_block_sig(SIGIO);
    int p[2];
    CHECK(pipe(p) == 0);
    make_async(p[0], -getpgrp(), 0);
    CHECK(fcntl(p[0], F_GETOWN) == -getpgrp());
    CHECK(write(p[1], "g", 1) == 1);
    siginfo_t si;
    CHECK(lt_wait_sig(SIGIO, 2000, &si) == SIGIO);
    /* Owner 0: nobody. */
    CHECK(fcntl(p[0], F_SETOWN, 0) == 0);
    CHECK(write(p[1], "h", 1) == 1);
    CHECK(lt_wait_sig(SIGIO, 100, &si) == 0);
    close(p[0]);
    close(p[1]);
}

int main(void) {
    lt_sub("pipe_sigio", pipe_sigio, 10000);
    lt_sub("pipe_setsig", pipe_setsig, 10000);
    lt_sub("socket_fioasync", socket_fioasync, 10000);
    lt_sub("inet", inet, 10000);
    lt_sub("pty_master", pty_master, 10000);
    lt_sub("group_owner", group_owner, 10000);
    DONE();
}
