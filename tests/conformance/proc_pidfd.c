/* pidfds: pidfd_open (flags, pids that are not processes), the file itself (close-on-exec,
 * its /proc link and fdinfo, polling readable at exit), pidfd_send_signal (siginfo rules,
 * ESRCH once reaped), pidfd_getfd, waitid(P_PIDFD) (blocking, non-blocking pidfds,
 * non-children), and CLONE_PIDFD for clone and clone3 (the child has neither the fd nor,
 * without CLONE_VM, the stored number). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define PIDFD_NONBLOCK O_NONBLOCK

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags) {
    return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}
static int pidfd_getfd(int fd, int target, unsigned flags) {
    return syscall(SYS_pidfd_getfd, fd, target, flags);
}
static int waitid_fd(int fd, siginfo_t *si, int options) {
    return syscall(SYS_waitid, P_PIDFD, fd, si, options, NULL);
}

/* A child that waits for SIGUSR1 queued with a value and exits 0 if it came as sent. */
static pid_t queue_child(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    pid_t k = fork();
    if (k == 0) {
        siginfo_t si;
        if (sigwaitinfo(&s, &si) != SIGUSR1)
            _exit(1);
        _exit(si.si_code == SI_QUEUE && si.si_value.sival_int == 42 ? 0 : 2);
    }
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    return k;
}

static void check_link_and_fdinfo(int fd, pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    CHECK(n > 0);
    if (n > 0) {
        buf[n] = 0;
        CHECK(strcmp(buf, "anon_inode:[pidfd]") == 0);
    }
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int f = open(path, O_RDONLY);
    CHECK(f >= 0);
    n = read(f, buf, sizeof buf - 1);
    close(f);
    CHECK(n > 0);
    if (n > 0) {
        buf[n] = 0;
        char want[32];
        snprintf(want, sizeof want, "\nPid:\t%d\n", (int)pid);
        CHECK(strstr(buf, want) != NULL);
    }
}

static void open_and_signal(void) {
    CHECK_ERR(pidfd_open(getpid(), 1), EINVAL);
    CHECK_ERR(pidfd_open(0, 0), EINVAL);
    CHECK_ERR(pidfd_open(-1, 0), EINVAL);
    int me = pidfd_open(getpid(), 0);
    CHECK(me >= 0);
    CHECK(fcntl(me, F_GETFD) == FD_CLOEXEC);
    check_link_and_fdinfo(me, getpid());
    char c;
    CHECK_ERR(read(me, &c, 1), EINVAL);

    /* A running child: not readable; killed through the pidfd: readable; then waited. */
    pid_t k = fork();
    if (k == 0) {
        pause();
        _exit(0);
    }
    int fd = pidfd_open(k, 0);
    CHECK(fd >= 0);
    struct pollfd p = {fd, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0);
    /* At most one of the scopes (thread, thread group, process group), nothing else. */
    CHECK_ERR(pidfd_send_signal(fd, SIGKILL, NULL, 8), EINVAL);
    CHECK_ERR(pidfd_send_signal(fd, SIGKILL, NULL, 3), EINVAL);
    CHECK_ERR(pidfd_send_signal(fd, SIGKILL, NULL, 6), EINVAL);
    CHECK_ERR(pidfd_send_signal(999, SIGKILL, NULL, 0), EBADF);
    CHECK_ERR(pidfd_send_signal(fd, 65, NULL, 0), EINVAL);
    CHECK_OK(pidfd_send_signal(fd, 0, NULL, 0));
    /* Only a process signalling itself may claim kill()'s or the kernel's origin. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR2;
    si.si_code = SI_USER;
    CHECK_ERR(pidfd_send_signal(fd, SIGUSR2, &si, 0), EPERM);
    CHECK_ERR(pidfd_send_signal(fd, SIGUSR1, &si, 0), EINVAL);
    signal(SIGUSR2, SIG_IGN);
    CHECK_OK(pidfd_send_signal(me, SIGUSR2, &si, 0));
    signal(SIGUSR2, SIG_DFL);
    CHECK_OK(pidfd_send_signal(fd, SIGKILL, NULL, 0));
    p.revents = 0;
    CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));
    /* A zombie still takes signals (and drops them). */
    CHECK_OK(pidfd_send_signal(fd, SIGTERM, NULL, 0));
    memset(&si, 0, sizeof si);
    CHECK_OK(waitid_fd(fd, &si, WEXITED));
    CHECK(si.si_pid == k && si.si_code == CLD_KILLED && si.si_status == SIGKILL);
    /* Reaped: the process is gone for every call, and its pid no longer shown. */
    CHECK_ERR(pidfd_send_signal(fd, 0, NULL, 0), ESRCH);
    CHECK_ERR(pidfd_getfd(fd, 0, 0), ESRCH);
    CHECK_ERR(waitid_fd(fd, &si, WEXITED), ECHILD);
    check_link_and_fdinfo(fd, -1);
    CHECK_ERR(pidfd_open(k, 0), ESRCH);
    close(fd);

    /* A queued signal with a value reaches the child as sent. */
    k = queue_child();
    fd = pidfd_open(k, 0);
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = 42;
    CHECK_OK(pidfd_send_signal(fd, SIGUSR1, &si, 0));
    memset(&si, 0, sizeof si);
    CHECK_OK(waitid_fd(fd, &si, WEXITED));
    CHECK(si.si_code == CLD_EXITED && si.si_status == 0);
    close(fd);

    /* Scopes: the thread (the leader here) and the process group. */
    for (unsigned scope = 1; scope <= 4; scope <<= 1) {
        k = fork();
        if (k == 0) {
            setpgid(0, 0);
            pause();
            _exit(0);
        }
        lt_sleep_ms(20);
        fd = pidfd_open(k, 0);
        CHECK_OK(pidfd_send_signal(fd, SIGKILL, NULL, scope));
        memset(&si, 0, sizeof si);
        CHECK_OK(waitid_fd(fd, &si, WEXITED));
        CHECK(si.si_code == CLD_KILLED && si.si_status == SIGKILL);
        close(fd);
    }
    close(me);
}

static void waiting(void) {
    /* A non-blocking pidfd: EAGAIN while the child runs, WNOHANG's empty answer if asked. */
    int pfd[2];
    CHECK_OK(pipe(pfd));
    pid_t k = fork();
    if (k == 0) {
        char c;
        close(pfd[1]);
        read(pfd[0], &c, 1);
        _exit(5);
    }
    close(pfd[0]);
    int fd = pidfd_open(k, PIDFD_NONBLOCK);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
    siginfo_t si;
    CHECK_ERR(waitid_fd(fd, &si, WEXITED), EAGAIN);
    memset(&si, 0, sizeof si);
    CHECK(waitid_fd(fd, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0);
    CHECK_ERR(waitid_fd(-1, &si, WEXITED), EINVAL);
    CHECK_ERR(waitid_fd(pfd[1], &si, WEXITED), EBADF);
    close(pfd[1]);
    struct pollfd p = {fd, POLLIN, 0};
    CHECK(poll(&p, 1, 5000) == 1);
    CHECK(waitid_fd(fd, &si, WEXITED) == 0 && si.si_pid == k && si.si_status == 5);
    close(fd);

    /* Only children can be waited for. */
    int me = pidfd_open(getpid(), 0);
    CHECK_ERR(waitid_fd(me, &si, WEXITED | WNOHANG), ECHILD);
    close(me);
}

static void getfd(void) {
    int pfd[2];
    CHECK_OK(pipe(pfd));
    int me = pidfd_open(getpid(), 0);
    CHECK_ERR(pidfd_getfd(me, pfd[1], 1), EINVAL);
    CHECK_ERR(pidfd_getfd(me, 999, 0), EBADF);
    CHECK_ERR(pidfd_getfd(pfd[0], pfd[1], 0), EBADF);
    int w = pidfd_getfd(me, pfd[1], 0);
    CHECK(w >= 0 && w != pfd[1]);
    CHECK(fcntl(w, F_GETFD) == FD_CLOEXEC);
    CHECK(write(w, "x", 1) == 1);
    char c = 0;
    CHECK(read(pfd[0], &c, 1) == 1 && c == 'x');
    /* From another process: its fd, the same open file (one status-flag set). */
    pid_t k = fork();
    if (k == 0) {
        fcntl(pfd[0], F_SETFL, O_NONBLOCK);
        pause();
        _exit(0);
    }
    lt_sleep_ms(50);
    int fd = pidfd_open(k, 0);
    int r = pidfd_getfd(fd, pfd[0], 0);
    CHECK(r >= 0);
    CHECK(fcntl(r, F_GETFL) & O_NONBLOCK);
    kill(k, SIGKILL);
    waitpid(k, NULL, 0);
    close(r);
    close(fd);
    close(w);
    close(me);
    close(pfd[0]);
    close(pfd[1]);
}

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void clone_pidfd(void) {
    int pidfd = -7;
    long k = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
    if (k == 0) {
        /* The forked child sees what was there before, and has no such fd. */
        _exit(pidfd == -7 ? 7 : 1);
    }
    CHECK(k > 0);
    CHECK(pidfd >= 0);
    CHECK(fcntl(pidfd, F_GETFD) == FD_CLOEXEC);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK(waitid_fd(pidfd, &si, WEXITED) == 0 && si.si_pid == k && si.si_status == 7);
    close(pidfd);

    /* clone3: the pidfd goes where args.pidfd points. */
    pidfd = -7;
    struct clone_args_v0 a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_PIDFD;
    a.pidfd = (uintptr_t)&pidfd;
    a.exit_signal = SIGCHLD;
    k = syscall(SYS_clone3, &a, sizeof a);
    if (k == 0)
        _exit(pidfd == -7 ? 8 : 1);
    CHECK(k > 0 && pidfd >= 0);
    memset(&si, 0, sizeof si);
    CHECK(waitid_fd(pidfd, &si, WEXITED) == 0 && si.si_pid == k && si.si_status == 8);
    close(pidfd);

    /* clone puts the pidfd where CLONE_PARENT_SETTID would put the tid: not both. */
    CHECK_ERR(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0),
              EINVAL);
    CHECK_ERR(syscall(SYS_clone, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0, &pidfd, 0, 0),
              EINVAL);
    /* A bad pointer fails the clone: no child is made. */
    CHECK_ERR(syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (int *)8, 0, 0), EFAULT);
    CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
}

int main(void) {
    open_and_signal();
    waiting();
    getfd();
    clone_pidfd();
    DONE();
}
