/* vhangup: EPERM without CAP_SYS_TTY_CONFIG, 0 without a controlling terminal; on a pty
 * that is the controlling terminal, the session leader gets SIGHUP (and SIGCONT), the open
 * descriptors die (read gives EOF, write and ioctl EIO, poll reports POLLHUP), the session
 * loses the terminal (/dev/tty: ENXIO), and a new open of it works again. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static volatile int hups, conts;
static void on_hup(int s) { hups += s == SIGHUP; }
static void on_cont(int s) { conts += s == SIGCONT; }

static void hangup(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
    char name[64];
    CHECK(ptsname_r(m, name, sizeof name) == 0);
    CHECK(setsid() > 0);
    CHECK_OK(vhangup()); /* no controlling terminal yet */
    int s = open(name, O_RDWR);
    CHECK(s >= 0);
    int t = open("/dev/tty", O_RDWR);
    CHECK(t >= 0);
    close(t);
    signal(SIGHUP, on_hup);
    signal(SIGCONT, on_cont);
    CHECK_OK(vhangup());
    CHECK(hups == 1 && conts == 1);
    char c;
    CHECK(read(s, &c, 1) == 0);
    CHECK_ERR(write(s, "x", 1), EIO);
    struct winsize ws;
    CHECK_ERR(ioctl(s, TIOCGWINSZ, &ws), EIO);
    pid_t pg = getpgrp();
    CHECK_ERR(ioctl(s, TIOCSPGRP, &pg), ENOTTY);
    struct pollfd p = {s, POLLIN | POLLOUT, 0};
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP));
    CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
    /* The terminal itself still works for new opens. */
    int s2 = open(name, O_RDWR | O_NOCTTY);
    CHECK(s2 >= 0 && write(s2, "y", 1) == 1);
    CHECK(read(m, &c, 1) == 1 && c == 'y');
    close(s2);
    close(s);
    close(m);
}

static void unprivileged(void) {
    CHECK_OK(setuid(65534));
    CHECK_ERR(vhangup(), EPERM);
}

int main(void) {
    lt_sub("hangup", hangup, 5000);
    lt_sub("unprivileged", unprivileged, 5000);
    DONE();
}
