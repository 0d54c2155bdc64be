/* adjtimex and clock_adjtime as readers of the clock discipline: a clock state (TIME_OK ..
 * TIME_ERROR), the time, a tick, sane errors; the read-only adjtime mode; EINVAL for
 * ADJ_ADJTIME without ADJ_OFFSET_SINGLESHOT; EPERM for changes by an unprivileged caller;
 * EOPNOTSUPP for a clock without a discipline, EINVAL for an unknown one. stress-ng's get
 * stressor (and glibc's adjtime, ntp_gettime) failed on ENOSYS. Nothing here changes the
 * clock: the changing calls run as nobody. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static void as_nobody(void) {
    if (getuid() == 0) CHECK_OK(setresuid(65534, 65534, 65534));
    struct timex t = {0};
    t.modes = ADJ_FREQUENCY;
    CHECK_ERR(adjtimex(&t), EPERM);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET_SINGLESHOT;
    CHECK_ERR(adjtimex(&t), EPERM);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET_SS_READ;
    CHECK(adjtimex(&t) >= 0);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS;
    CHECK_ERR(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &t), EPERM);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct timex t;
    memset(&t, 0, sizeof t);
    int r = adjtimex(&t);
    CHECK(r >= TIME_OK && r <= TIME_ERROR);
    CHECK(t.modes == 0);
    CHECK(t.tick > 0);
    CHECK(t.maxerror >= 0 && t.esterror >= 0);
    CHECK(t.tolerance > 0);
    long now = (long)time(NULL);
    CHECK(t.time.tv_sec >= now - 2 && t.time.tv_sec <= now + 2);
    CHECK(t.time.tv_usec >= 0 && t.time.tv_usec < ((t.status & STA_NANO) ? 1000000000 : 1000000));

    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET_SS_READ;
    CHECK(adjtimex(&t) >= 0);
    memset(&t, 0, sizeof t);
    t.modes = 0x8000; /* ADJ_ADJTIME alone */
    CHECK_ERR(adjtimex(&t), EINVAL);
    CHECK_ERR(syscall(SYS_adjtimex, NULL), EFAULT);

    memset(&t, 0, sizeof t);
    r = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &t);
    CHECK(r >= TIME_OK && r <= TIME_ERROR);
    CHECK(t.tick > 0);
    memset(&t, 0, sizeof t);
    CHECK_ERR(syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &t), EOPNOTSUPP);
    CHECK_ERR(syscall(SYS_clock_adjtime, 99, &t), EINVAL);

    lt_sub("as_nobody", as_nobody, 10000);
    DONE();
}
