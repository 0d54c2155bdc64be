/* boot.realtime-jump: timers armed with a relative time on CLOCK_REALTIME count on the
 * monotonic clock, as on Linux (hrtimer_init turns a relative CLOCK_REALTIME timer into a
 * CLOCK_MONOTONIC one): setting the wall clock far ahead or back does not fire them early or
 * hold them back, while an absolute one moves with the clock. A fuzz run (trinity as root
 * setting the clock) kept coreutils' `timeout`, whose timer is a relative CLOCK_REALTIME
 * POSIX timer, from ever firing. Runs only in Lintel: setting the host's clock by hours is
 * not something a test may do to the machine it runs on. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static int64_t ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void set_wall(int64_t v) {
    struct timespec t = {v / 1000000000, v % 1000000000};
    CHECK(clock_settime(CLOCK_REALTIME, &t) == 0);
}

static volatile sig_atomic_t fired;
static void on_alarm(int sig) { (void)sig; fired++; }

int main(void) {
    signal(SIGALRM, on_alarm);
    const int64_t hour = 3600LL * 1000000000;

    /* A POSIX timer, 300 ms relative; the clock goes back an hour: it still fires at 300 ms. */
    timer_t id;
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    CHECK(timer_create(CLOCK_REALTIME, &ev, &id) == 0);
    struct itimerspec its = {.it_value = {0, 300000000}};
    int64_t m0 = ns(CLOCK_MONOTONIC);
    CHECK(timer_settime(id, 0, &its, NULL) == 0);
    set_wall(ns(CLOCK_REALTIME) - hour);
    while (!fired && ns(CLOCK_MONOTONIC) - m0 < 3000000000LL) usleep(1000);
    int64_t took = ns(CLOCK_MONOTONIC) - m0;
    CHECK(fired == 1);
    CHECK(took >= 290000000 && took < 2000000000);
    printf("relative timer after the clock went back: %lld ms\n", (long long)(took / 1000000));

    /* Forward an hour: a relative timer of 300 ms does not fire at once... */
    fired = 0;
    m0 = ns(CLOCK_MONOTONIC);
    CHECK(timer_settime(id, 0, &its, NULL) == 0);
    set_wall(ns(CLOCK_REALTIME) + hour);
    usleep(100000);
    CHECK(fired == 0);
    while (!fired && ns(CLOCK_MONOTONIC) - m0 < 3000000000LL) usleep(1000);
    took = ns(CLOCK_MONOTONIC) - m0;
    CHECK(fired == 1 && took >= 290000000);
    /* ...and timer_gettime of a relative timer counts on the monotonic clock too. */
    CHECK(timer_settime(id, 0, &(struct itimerspec){.it_value = {10, 0}}, NULL) == 0);
    set_wall(ns(CLOCK_REALTIME) + hour);
    struct itimerspec left;
    CHECK(timer_gettime(id, &left) == 0 && left.it_value.tv_sec >= 9);

    /* An absolute timer moves with the clock: an hour ahead fires it at once. */
    fired = 0;
    struct itimerspec abs = {.it_value = {0, 0}};
    int64_t at = ns(CLOCK_REALTIME) + 30LL * 1000000000;
    abs.it_value.tv_sec = at / 1000000000;
    abs.it_value.tv_nsec = at % 1000000000;
    CHECK(timer_settime(id, TIMER_ABSTIME, &abs, NULL) == 0);
    set_wall(ns(CLOCK_REALTIME) + hour);
    m0 = ns(CLOCK_MONOTONIC);
    while (!fired && ns(CLOCK_MONOTONIC) - m0 < 3000000000LL) usleep(1000);
    CHECK(fired == 1);

    /* timerfd, relative on CLOCK_REALTIME: the clock back an hour does not hold it. */
    int fd = timerfd_create(CLOCK_REALTIME, 0);
    CHECK(fd >= 0);
    m0 = ns(CLOCK_MONOTONIC);
    CHECK(timerfd_settime(fd, 0, &its, NULL) == 0);
    set_wall(ns(CLOCK_REALTIME) - hour);
    uint64_t n = 0;
    CHECK(read(fd, &n, 8) == 8 && n == 1);
    took = ns(CLOCK_MONOTONIC) - m0;
    CHECK(took >= 290000000 && took < 2000000000);
    printf("relative timerfd after the clock went back: %lld ms\n", (long long)(took / 1000000));

    printf(failures ? "realtime-jump: %d failures\n" : "realtime-jump: ok\n", failures);
    return failures ? 1 : 0;
}
