/* seccomp user notification: SECCOMP_FILTER_FLAG_NEW_LISTENER's listener fd (close-on-exec,
 * one per filter chain: EBUSY), SECCOMP_IOCTL_NOTIF_RECV/SEND/ID_VALID/ADDFD, the notified
 * call's result (a value, an error, or SECCOMP_USER_NOTIF_FLAG_CONTINUE running it), poll on
 * the listener (POLLIN pending, POLLOUT received, POLLHUP once no thread uses the filter),
 * ENOSYS without a listener or after it was closed, and a signal interrupting the wait (the
 * notification is dropped; under WAIT_KILLABLE_RECV, once received, only a fatal one). The
 * supervisor gets the listener over a unix socket. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

static long sc(unsigned op, unsigned flags, void *args) {
    return syscall(SYS_seccomp, op, flags, args);
}

/* getppid -> USER_NOTIF (getpgrp too, from a filter without a listener); returns the fd. */
static int install(unsigned flags) {
    struct sock_filter f[] = {
        LD_NR,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        RET(SECCOMP_RET_USER_NOTIF),
        RET(SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = {sizeof f / sizeof f[0], f};
    return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}

static void send_fd(int sock, int fd) {
    char c = 'f';
    struct iovec iov = {&c, 1};
    char buf[CMSG_SPACE(sizeof(int))];
    memset(buf, 0, sizeof buf);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf,
                       .msg_controllen = sizeof buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    if (sendmsg(sock, &m, 0) != 1) _exit(93);
}

static int recv_fd(int sock) {
    char c;
    struct iovec iov = {&c, 1};
    char buf[CMSG_SPACE(sizeof(int))];
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf,
                       .msg_controllen = sizeof buf};
    if (recvmsg(sock, &m, 0) != 1) return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    if (!cm || cm->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

static short revents(int fd, short events, int ms) {
    struct pollfd p = {fd, events, 0};
    if (poll(&p, 1, ms) < 0) return -1;
    return p.revents;
}

static int g_sock;

/* Forks the notified child: it installs the filter (with `flags`), hands the listener to the
 * caller, waits for a byte, runs g_body and exits. Returns its pid; *listener is the fd. */
static pid_t target(unsigned flags, void (*body)(void), int *listener) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        g_sock = sv[1];
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
        int l = install(SECCOMP_FILTER_FLAG_NEW_LISTENER | flags);
        if (l < 0) _exit(91);
        if (!(fcntl(l, F_GETFD) & FD_CLOEXEC)) _exit(92);
        send_fd(sv[1], l);
        close(l);
        char c;
        if (read(sv[1], &c, 1) != 1) _exit(94);
        lt_failures = 0;
        body();
        _exit(lt_failures ? 1 : 0);
    }
    close(sv[1]);
    g_sock = sv[0];
    *listener = recv_fd(sv[0]);
    CHECK(*listener >= 0);
    CHECK(write(sv[0], "g", 1) == 1);
    return pid;
}

static void finish(pid_t pid) {
    int st = -1;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
}

static int recv_notif(int l, struct seccomp_notif *n) {
    memset(n, 0, sizeof *n);
    return ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, n);
}

static int reply(int l, __u64 id, long val, int error, unsigned flags) {
    struct seccomp_notif_resp r = {.id = id, .val = val, .error = error, .flags = flags};
    return ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, &r);
}

static void body_basic(void) {
    long r = syscall(SYS_getppid, 1, 2, 3);
    CHECK(r == 4242);
    CHECK_ERR(syscall(SYS_getppid), EPERM);
    pid_t pp = syscall(SYS_getppid);
    CHECK(pp > 1);
}

static void basic(void) {
    int l = -1;
    pid_t pid = target(0, body_basic, &l);
    CHECK(revents(l, POLLIN, 5000) == POLLIN);
    struct seccomp_notif n;
    /* A RECV buffer must come zeroed. */
    memset(&n, 1, sizeof n);
    CHECK_ERR(ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, &n), EINVAL);
    CHECK_OK(recv_notif(l, &n));
    CHECK(n.pid == (__u32)pid);
    CHECK(n.data.nr == SYS_getppid);
    /* AUDIT_ARCH_X86_64, AUDIT_ARCH_RISCV64, AUDIT_ARCH_AARCH64 */
#if defined(__riscv)
    CHECK(n.data.arch == 0xc00000f3);
#elif defined(__aarch64__)
    CHECK(n.data.arch == 0xc00000b7);
#else
    CHECK(n.data.arch == 0xc000003e);
#endif
    CHECK(n.data.args[0] == 1 && n.data.args[1] == 2 && n.data.args[2] == 3);
    CHECK(n.data.instruction_pointer != 0);
    CHECK_OK(ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &n.id));
    CHECK(revents(l, POLLIN | POLLOUT, 0) == POLLOUT);
    /* CONTINUE takes neither value nor error; unknown ids and flags are refused. */
    CHECK_ERR(reply(l, n.id, 1, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE), EINVAL);
    CHECK_ERR(reply(l, n.id, 0, 0, 2), EINVAL);
    CHECK_ERR(reply(l, n.id + 1000, 0, 0, 0), ENOENT);
    CHECK_OK(reply(l, n.id, 4242, 0, 0));
    CHECK_ERR(ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &n.id), ENOENT);
    /* The second call: an error. */
    CHECK_OK(recv_notif(l, &n));
    __u64 first = n.id;
    CHECK_OK(reply(l, n.id, 0, -EPERM, 0));
    /* The third: it runs. */
    CHECK_OK(recv_notif(l, &n));
    CHECK(n.id != first);
    CHECK_OK(reply(l, n.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE));
    CHECK_ERR(ioctl(l, 0x1234, 0), EINVAL);
    CHECK_ERR(read(l, &n, 8), EINVAL);
    finish(pid);
    /* No thread uses the filter any more. */
    CHECK(revents(l, POLLIN, 0) & POLLHUP);
    close(l);
}

static void in_process(void) {
    CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    struct seccomp_notif_sizes sz;
    CHECK_OK(sc(SECCOMP_GET_NOTIF_SIZES, 0, &sz));
    CHECK(sz.seccomp_notif == sizeof(struct seccomp_notif));
    CHECK(sz.seccomp_notif_resp == sizeof(struct seccomp_notif_resp));
    unsigned a = SECCOMP_RET_USER_NOTIF;
    CHECK_OK(sc(SECCOMP_GET_ACTION_AVAIL, 0, &a));
    /* No listener: ENOSYS. */
    CHECK_OK(install(0));
    CHECK_ERR(syscall(SYS_getppid), ENOSYS);
    int l = install(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    CHECK(l >= 0);
    /* WAIT_KILLABLE_RECV needs NEW_LISTENER; TSYNC with it needs TSYNC_ESRCH. */
    CHECK_ERR(install(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV), EINVAL);
    CHECK_ERR(install(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC), EINVAL);
    /* One listener per chain while it is open. */
    CHECK_ERR(install(SECCOMP_FILTER_FLAG_NEW_LISTENER), EBUSY);
    CHECK(revents(l, POLLIN, 0) == 0);
    close(l);
    /* Closed: the call fails; a new listener is allowed again. */
    CHECK_ERR(syscall(SYS_getppid), ENOSYS);
    l = install(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    CHECK(l >= 0);
    close(l);
}

static volatile int g_sig;
static void on_usr1(int s) {
    g_sig = s;
}

static void body_interrupted(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    CHECK_ERR(syscall(SYS_getppid), EINTR);
    CHECK(g_sig == SIGUSR1);
    CHECK(write(g_sock, "d", 1) == 1);
    char c;
    CHECK(read(g_sock, &c, 1) == 1);
}

static void interrupted(void) {
    int l = -1;
    pid_t pid = target(0, body_interrupted, &l);
    struct seccomp_notif n;
    CHECK_OK(recv_notif(l, &n));
    CHECK_OK(kill(pid, SIGUSR1));
    char c;
    CHECK(read(g_sock, &c, 1) == 1);
    /* Dropped: no longer valid, no answer possible. */
    CHECK_ERR(ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &n.id), ENOENT);
    CHECK_ERR(reply(l, n.id, 0, 0, 0), ENOENT);
    CHECK(revents(l, POLLIN | POLLOUT, 0) == 0);
    CHECK(write(g_sock, "e", 1) == 1);
    finish(pid);
    close(l);
}

static void body_killable(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    /* Once received, only a fatal signal would end the wait; the handler runs after. */
    CHECK(syscall(SYS_getppid) == 7);
    CHECK(g_sig == SIGUSR1);
}

static void killable(void) {
    int l = -1;
    pid_t pid = target(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, body_killable, &l);
    struct seccomp_notif n;
    CHECK_OK(recv_notif(l, &n));
    CHECK_OK(kill(pid, SIGUSR1));
    lt_sleep_ms(50);
    CHECK_OK(ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &n.id));
    CHECK_OK(reply(l, n.id, 7, 0, 0));
    finish(pid);
    close(l);
}

static void body_addfd(void) {
    /* The supervisor adds its pipe's write end three times; the last is the result. */
    long r = syscall(SYS_getppid);
    CHECK(r >= 0);
    char got[8];
    CHECK(read(g_sock, got, 8) == 8);
    int first, second;
    memcpy(&first, got, 4);
    memcpy(&second, got + 4, 4);
    CHECK(second == 100);
    CHECK(write(first, "a", 1) == 1);
    CHECK(write(second, "b", 1) == 1);
    CHECK(write((int)r, "c", 1) == 1);
    CHECK(fcntl(second, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(first, F_GETFD) == 0);
}

static void addfd(void) {
    int l = -1;
    pid_t pid = target(0, body_addfd, &l);
    int p[2];
    CHECK_OK(pipe(p));
    struct seccomp_notif n;
    CHECK_OK(recv_notif(l, &n));
    struct seccomp_notif_addfd a = {.id = n.id, .srcfd = p[1]};
    a.newfd = 5;
    CHECK_ERR(ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a), EINVAL);
    a.newfd = 0;
    a.newfd_flags = O_NONBLOCK;
    CHECK_ERR(ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a), EINVAL);
    a.newfd_flags = 0;
    a.srcfd = 999;
    CHECK_ERR(ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a), EBADF);
    a.srcfd = p[1];
    a.id = n.id + 1000;
    CHECK_ERR(ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a), ENOENT);
    a.id = n.id;
    int first = ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
    CHECK(first >= 0);
    a.flags = SECCOMP_ADDFD_FLAG_SETFD;
    a.newfd = 100;
    a.newfd_flags = O_CLOEXEC;
    CHECK(ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a) == 100);
    a.flags = SECCOMP_ADDFD_FLAG_SEND;
    a.newfd = 0;
    a.newfd_flags = 0;
    int last = ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
    CHECK(last >= 0 && last != first);
    /* Already answered by the SEND flag. */
    errno = 0;
    CHECK(reply(l, n.id, 0, 0, 0) == -1 && (errno == EINPROGRESS || errno == ENOENT));
    int both[2] = {first, 100};
    CHECK(write(g_sock, both, 8) == 8);
    close(p[1]);
    char got[4] = {0};
    int have = 0;
    for (long k; have < 3 && (k = read(p[0], got + have, 3 - have)) > 0;) have += k;
    CHECK(have == 3);
    CHECK(memcmp(got, "abc", 3) == 0);
    finish(pid);
    close(l);
}

int main(void) {
    lt_sub("in_process", in_process, 5000);
    lt_sub("basic", basic, 10000);
    lt_sub("interrupted", interrupted, 10000);
    lt_sub("killable", killable, 10000);
    lt_sub("addfd", addfd, 10000);
    DONE();
}
