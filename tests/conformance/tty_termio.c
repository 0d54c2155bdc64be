/* The System V termio ioctls (TCGETA, TCSETA, TCSETAW, TCSETAF: the low 16 bits of the
 * flags and 8 control characters) and locked termios (TIOCGLCKTRMIOS; TIOCSLCKTRMIOS for
 * root, whose locked bits TCSETS may not change) on a pseudo-terminal. stress-ng's pty
 * stressor found them answered with ENOTTY. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#ifndef TCGETA
#define TCGETA 0x5405
#define TCSETA 0x5406
#define TCSETAW 0x5407
#define TCSETAF 0x5408
#endif
#ifndef TIOCGLCKTRMIOS
#define TIOCGLCKTRMIOS 0x5456
#define TIOCSLCKTRMIOS 0x5457
#endif

struct sysv_termio {
    unsigned short iflag, oflag, cflag, lflag;
    unsigned char line;
    unsigned char cc[8];
};

/* The kernel's struct termios (36 bytes), which the locked-termios ioctls exchange. */
struct ktermios {
    unsigned int iflag, oflag, cflag, lflag;
    unsigned char line;
    unsigned char cc[19];
};

static int open_slave(int *master) {
    *master = posix_openpt(O_RDWR | O_NOCTTY);
    if (*master < 0 || grantpt(*master) || unlockpt(*master)) return -1;
    return open(ptsname(*master), O_RDWR | O_NOCTTY);
}

static void test_termio(void) {
    int m, s = open_slave(&m);
    CHECK(s >= 0);
    struct termios t;
    CHECK_OK(tcgetattr(s, &t));
    struct sysv_termio o;
    CHECK(sizeof o == 18);
    memset(&o, 0xee, sizeof o);
    CHECK_OK(ioctl(s, TCGETA, &o));
    CHECK(o.iflag == (unsigned short)t.c_iflag && o.lflag == (unsigned short)t.c_lflag);
    CHECK(o.cflag == (unsigned short)t.c_cflag && o.oflag == (unsigned short)t.c_oflag);
    CHECK(memcmp(o.cc, t.c_cc, 8) == 0);
    o.lflag &= ~(ECHO | ICANON);
    o.cc[VINTR] = 7;
    CHECK_OK(ioctl(s, TCSETA, &o));
    struct termios n;
    CHECK_OK(tcgetattr(s, &n));
    CHECK((n.c_lflag & (ECHO | ICANON)) == 0);
    CHECK(n.c_cc[VINTR] == 7);
    CHECK(n.c_cc[VSUSP] == t.c_cc[VSUSP]); /* past the first 8: unchanged */
    CHECK(n.c_cflag == t.c_cflag);
    CHECK_OK(ioctl(s, TCSETAW, &o));
    CHECK_OK(ioctl(s, TCSETAF, &o));
    /* On the master too (it shares the slave's settings). */
    CHECK_OK(ioctl(m, TCGETA, &o));
    CHECK((o.lflag & ICANON) == 0);

    struct ktermios lk;
    memset(&lk, 0xee, sizeof lk);
    CHECK_OK(ioctl(s, TIOCGLCKTRMIOS, &lk));
    CHECK(lk.iflag == 0 && lk.lflag == 0 && lk.cc[0] == 0);
    close(s);
    close(m);
}

/* Root may lock ECHO on: TCSETS then cannot clear it. Others get EPERM. */
static void test_lock(void) {
    int m, s = open_slave(&m);
    CHECK(s >= 0);
    struct ktermios lk;
    memset(&lk, 0, sizeof lk);
    lk.lflag = ECHO;
    struct termios t;
    if (getuid() == 0) {
        CHECK_OK(tcgetattr(s, &t));
        t.c_lflag |= ECHO;
        CHECK_OK(tcsetattr(s, TCSANOW, &t));
        CHECK_OK(ioctl(s, TIOCSLCKTRMIOS, &lk));
        t.c_lflag &= ~(ECHO | ICANON);
        CHECK_OK(tcsetattr(s, TCSANOW, &t));
        CHECK_OK(tcgetattr(s, &t));
        CHECK((t.c_lflag & ECHO) != 0 && (t.c_lflag & ICANON) == 0);
        struct ktermios got;
        CHECK_OK(ioctl(s, TIOCGLCKTRMIOS, &got));
        CHECK(got.lflag == ECHO);
        CHECK_OK(setresuid(65534, 65534, 65534));
    }
    CHECK_ERR(ioctl(s, TIOCSLCKTRMIOS, &lk), EPERM);
    close(s);
    close(m);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    lt_sub("termio", test_termio, 10000);
    lt_sub("lock", test_lock, 10000);
    DONE();
}
