/* Signal-driven I/O settings of an open file: F_SETOWN/F_GETOWN (a process, a process group
 * as a negative number, ESRCH for a process that does not exist), F_SETOWN_EX/F_GETOWN_EX,
 * F_SETSIG/F_GETSIG (EINVAL beyond the last signal), and FIOASYNC setting O_ASYNC as
 * F_SETFL does. (The signals themselves: file_sigio.) */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int fd = sv[0];
    CHECK(fcntl(fd, F_GETOWN) == 0);
    CHECK_OK(fcntl(fd, F_SETOWN, getpid()));
    CHECK(fcntl(fd, F_GETOWN) == getpid());
    struct f_owner_ex ex = {0, 0};
    CHECK_OK(fcntl(fd, F_GETOWN_EX, &ex));
    CHECK(ex.type == F_OWNER_PID && ex.pid == getpid());
    /* A process group: its id, negated. */
    CHECK_OK(setpgid(0, 0));
    CHECK_OK(fcntl(fd, F_SETOWN, -getpgrp()));
    CHECK_OK(fcntl(fd, F_GETOWN_EX, &ex));
    CHECK(ex.type == F_OWNER_PGRP && ex.pid == getpgrp());
    /* A child that has been reaped no longer exists. */
    pid_t k = fork();
    if (k == 0)
        _exit(0);
    int st;
    CHECK(waitpid(k, &st, 0) == k);
    CHECK_ERR(fcntl(fd, F_SETOWN, k), ESRCH);
    ex.type = F_OWNER_TID;
    ex.pid = gettid();
    CHECK_OK(fcntl(fd, F_SETOWN_EX, &ex));
    struct f_owner_ex got = {9, 9};
    CHECK_OK(fcntl(fd, F_GETOWN_EX, &got));
    CHECK(got.type == F_OWNER_TID && got.pid == gettid());
    ex.type = 7;
    CHECK_ERR(fcntl(fd, F_SETOWN_EX, &ex), EINVAL);
    CHECK_OK(fcntl(fd, F_SETOWN, 0));
    CHECK(fcntl(fd, F_GETOWN) == 0);

    CHECK(fcntl(fd, F_GETSIG) == 0);
    CHECK_OK(fcntl(fd, F_SETSIG, SIGUSR1));
    CHECK(fcntl(fd, F_GETSIG) == SIGUSR1);
    CHECK_ERR(fcntl(fd, F_SETSIG, 65), EINVAL);

    int on = 1;
    CHECK((fcntl(fd, F_GETFL) & O_ASYNC) == 0);
    CHECK_OK(ioctl(fd, FIOASYNC, &on));
    CHECK(fcntl(fd, F_GETFL) & O_ASYNC);
    on = 0;
    CHECK_OK(ioctl(fd, FIOASYNC, &on));
    CHECK((fcntl(fd, F_GETFL) & O_ASYNC) == 0);
    close(sv[0]);
    close(sv[1]);
    DONE();
}
