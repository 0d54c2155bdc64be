/* pidfd_send_signal with a /proc/PID directory in place of a pidfd (CPython's
 * test_signal.PidfdSignalTest does this): the directory names its process, a
 * /proc/PID/task/TID directory or any other file is EBADF, and once the process is reaped
 * the call is ESRCH. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int send(int fd, int sig, unsigned flags) {
    return syscall(SYS_pidfd_send_signal, fd, sig, NULL, flags);
}

int main(void) {
    sigset_t s, pending;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    CHECK_OK(sigprocmask(SIG_BLOCK, &s, NULL));

    char path[64];
    snprintf(path, sizeof path, "/proc/%d", getpid());
    int self = open(path, O_RDONLY | O_DIRECTORY);
    CHECK(self >= 0);
    CHECK_OK(send(self, 0, 0));
    CHECK_OK(send(self, SIGUSR1, 0));
    sigemptyset(&pending);
    CHECK_OK(sigpending(&pending));
    CHECK(sigismember(&pending, SIGUSR1));
    int sig = 0;
    CHECK(sigwait(&s, &sig) == 0 && sig == SIGUSR1);
    CHECK_ERR(send(self, SIGUSR1, 0x80), EINVAL);

    /* /proc/self is a symlink to the same directory. */
    int viaself = open("/proc/self", O_RDONLY | O_DIRECTORY);
    CHECK_OK(send(viaself, 0, 0));
    close(viaself);

    /* Not a process directory: a thread's, a file in one, a pipe, a bad descriptor. */
    snprintf(path, sizeof path, "/proc/%d/task/%d", getpid(), getpid());
    int task = open(path, O_RDONLY | O_DIRECTORY);
    CHECK(task >= 0);
    CHECK_ERR(send(task, 0, 0), EBADF);
    close(task);
    int status = open("/proc/self/status", O_RDONLY);
    CHECK(status >= 0);
    CHECK_ERR(send(status, 0, 0), EBADF);
    close(status);
    int p[2];
    CHECK_OK(pipe(p));
    CHECK_ERR(send(p[0], 0, 0), EBADF);
    close(p[0]);
    close(p[1]);
    CHECK_ERR(send(-1, 0, 0), EBADF);
    close(self);

    /* A child's directory: signals it, and is ESRCH once the child is reaped. */
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(3);
    }
    snprintf(path, sizeof path, "/proc/%d", c);
    int dir = open(path, O_RDONLY | O_DIRECTORY);
    CHECK(dir >= 0);
    CHECK_OK(send(dir, SIGKILL, 0));
    int st = 0;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK_ERR(send(dir, 0, 0), ESRCH);
    close(dir);
    DONE();
}
