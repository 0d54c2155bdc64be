/* Interval timers and alarm(): setitimer/getitimer for ITIMER_REAL, ITIMER_VIRTUAL and
 * ITIMER_PROF, alarm's rounding of the remaining time, the argument errors Linux gives, and
 * what SIGALRM does with no handler: the default action kills, SIG_IGN discards it, a blocked
 * one waits to be collected by sigtimedwait. Timers are not inherited across fork but survive
 * execve. The slow cases run in children started first, so the test takes about 1.5 s. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t tv_us(const struct timeval *t) { return (int64_t)t->tv_sec * 1000000 + t->tv_usec; }

static int64_t mono_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR) {}
}

static volatile unsigned long sink;

/* Burns about `ms` of CPU time (at most one second of wall time). */
static int64_t user_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec) * 1000;
}

/* Spins until `ms` of user CPU time are used (at most 1 s of wall time). User time, not CPU
 * time: under a loaded emulator the interrupts a spin takes can make up a large share of its
 * CPU time, and they are system time, which ITIMER_VIRTUAL does not count. */
static void busy(int ms) {
    int64_t u0 = user_ns(), w0 = mono_ms();
    while (user_ns() - u0 < (int64_t)ms * 1000000 && mono_ms() - w0 < 1000)
        for (int i = 0; i < 20000; i++) sink += (unsigned long)i * 2654435761UL;
}

static int set_real(long sec, long usec, long isec, long iusec, struct timeval *old_value) {
    struct itimerval v = {{isec, iusec}, {sec, usec}}, o;
    int r = setitimer(ITIMER_REAL, &v, &o);
    if (old_value) *old_value = o.it_value;
    return r;
}

/* The slow cases run as workers under a monitor process that times them, so the parent's
 * own pace does not matter. The monitor exits 0 when the worker ended as expected (killed by
 * `sig`, or exited 0 when sig is 0) within [min_ms, max_ms), else 1 after saying why. */
static pid_t monitored(const char *name, void (*worker)(void), int sig, int min_ms, int max_ms) {
    pid_t m = fork();
    if (m != 0) return m;
    int64_t t0 = mono_ms();
    pid_t p = fork();
    if (p == 0) {
        worker();
        _exit(99);
    }
    int st = -1;
    if (p < 0 || waitpid(p, &st, 0) != p) {
        printf("%s: fork/wait failed: %s\n", name, strerror(errno));
        _exit(1);
    }
    int64_t el = mono_ms() - t0;
    int ok = sig ? (WIFSIGNALED(st) && WTERMSIG(st) == sig) : (WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!ok) printf("%s: worker status %#x, expected %s %d\n", name, st, sig ? "signal" : "exit", sig);
    if (el < min_ms || el >= max_ms) printf("%s: worker ended after %lld ms, expected %d..%d\n", name, (long long)el, min_ms, max_ms);
    _exit(ok && el >= min_ms && el < max_ms ? 0 : 1);
}

/* Default SIGALRM action kills the process that called alarm(1) and pause(). */
static void w_default_alarm(void) {
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    pause();
    _exit(10); /* pause returned: SIGALRM did not kill us */
}

/* The same for a 200 ms ITIMER_REAL. */
static void w_default_itimer(void) {
    signal(SIGALRM, SIG_DFL);
    struct itimerval v = {{0, 0}, {0, 200000}};
    if (setitimer(ITIMER_REAL, &v, NULL) != 0) _exit(11);
    for (;;) pause();
}

/* An ignored SIGALRM is discarded and does not interrupt the sleep. */
static void w_ignored_alarm(void) {
    signal(SIGALRM, SIG_IGN);
    if (alarm(1) != 0) _exit(12);
    struct timespec d = {1, 500000000};
    if (nanosleep(&d, NULL) != 0) _exit(17); /* not even EINTR */
    /* The alarm fired: nothing is left armed. */
    struct itimerval cur;
    if (getitimer(ITIMER_REAL, &cur) != 0) _exit(13);
    if (cur.it_value.tv_sec || cur.it_value.tv_usec) _exit(14);
    if (alarm(0) != 0) _exit(15);
    _exit(0);
}

/* An alarm survives execve: it kills the shell that runs "sleep 3". */
static void w_alarm_across_exec(void) {
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    char *argv[] = {"sh", "-c", "sleep 3; exit 0", NULL};
    char *envp[] = {"PATH=/bin:/usr/bin", NULL};
    execve("/bin/sh", argv, envp);
    _exit(16);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    pid_t mons[4];
    mons[0] = monitored("alarm(1)+pause with SIG_DFL", w_default_alarm, SIGALRM, 900, 2500);
    mons[1] = monitored("200 ms ITIMER_REAL with SIG_DFL", w_default_itimer, SIGALRM, 150, 1500);
    mons[2] = monitored("alarm(1) with SIG_IGN, sleep 1.5 s", w_ignored_alarm, 0, 1400, 3000);
    mons[3] = monitored("alarm(1) then execve sh -c 'sleep 3'", w_alarm_across_exec, SIGALRM, 900, 2500);
    for (int i = 0; i < 4; i++) CHECK(mons[i] > 0);

    /* The parent never wants to die of its own SIGALRM while testing. */
    signal(SIGALRM, SIG_IGN);

    /* Nothing armed at start. */
    struct itimerval cur;
    memset(&cur, 0xff, sizeof cur);
    CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    CHECK(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 0);

    /* ITIMER_REAL counts down. */
    struct timeval old;
    CHECK(set_real(5, 0, 2, 500000, &old) == 0);
    CHECK(old.tv_sec == 0 && old.tv_usec == 0);
    struct itimerval a, b;
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(tv_us(&a.it_value) <= 5000000 && tv_us(&a.it_value) > 4000000);
    CHECK(a.it_interval.tv_sec == 2 && a.it_interval.tv_usec == 500000);
    CHECK(a.it_value.tv_usec >= 0 && a.it_value.tv_usec < 1000000);
    sleep_ms(100);
    CHECK(getitimer(ITIMER_REAL, &b) == 0);
    if (!(tv_us(&b.it_value) < tv_us(&a.it_value) - 90000))
        printf("remaining %lld us then %lld us after 100 ms\n", (long long)tv_us(&a.it_value),
               (long long)tv_us(&b.it_value));
    CHECK(tv_us(&b.it_value) <= tv_us(&a.it_value) - 90000);
    CHECK(tv_us(&b.it_value) > 3000000);

    /* Re-arming returns the old remaining time and interval. */
    struct itimerval nv = {{0, 0}, {7, 0}}, ov;
    memset(&ov, 0, sizeof ov);
    CHECK(setitimer(ITIMER_REAL, &nv, &ov) == 0);
    CHECK(tv_us(&ov.it_value) <= tv_us(&b.it_value) && tv_us(&ov.it_value) > 3000000);
    CHECK(ov.it_interval.tv_sec == 2 && ov.it_interval.tv_usec == 500000);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(tv_us(&a.it_value) > 6000000 && tv_us(&a.it_value) <= 7000000);
    CHECK(a.it_interval.tv_sec == 0 && a.it_interval.tv_usec == 0);

    /* A zero value disarms (and returns what was armed). */
    CHECK(set_real(0, 0, 0, 0, &old) == 0);
    CHECK(tv_us(&old) > 6000000 && tv_us(&old) <= 7000000);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0);
    /* A zero value with a nonzero interval still disarms. */
    CHECK(set_real(0, 0, 1, 0, NULL) == 0);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0);

    /* alarm() shares ITIMER_REAL and returns the old remaining seconds, rounded to nearest. */
    CHECK(alarm(10) == 0);
    CHECK(alarm(5) == 10);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(tv_us(&a.it_value) > 4000000 && tv_us(&a.it_value) <= 5000000);
    CHECK(a.it_interval.tv_sec == 0 && a.it_interval.tv_usec == 0);
    CHECK(alarm(0) == 5);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0);
    CHECK(alarm(0) == 0);
    CHECK(set_real(3, 0, 0, 0, NULL) == 0);
    CHECK(alarm(0) == 3);
    /* The alarm system call rounds to the nearest second (musl's alarm() rounds up, so use
     * the raw call); less than a second left still reports 1, not 0 ("no alarm"). */
#ifdef SYS_alarm /* not in asm-generic (riscv64, aarch64): glibc's alarm() is setitimer */
    CHECK(set_real(0, 300000, 0, 0, NULL) == 0);
    CHECK(syscall(SYS_alarm, 0) == 1);
    CHECK(set_real(2, 200000, 0, 0, NULL) == 0);
    CHECK(syscall(SYS_alarm, 0) == 2);
    CHECK(set_real(2, 700000, 0, 0, NULL) == 0);
    CHECK(syscall(SYS_alarm, 0) == 3);
    CHECK(syscall(SYS_alarm, 4) == 0);
    CHECK(syscall(SYS_alarm, 0) == 4);
#endif

    /* Linux re-arms a periodic ITIMER_REAL when its SIGALRM is dequeued; an ignored signal is
     * discarded when sent, so the timer stops after the first expiry, keeping its interval. */
    CHECK(set_real(0, 50000, 0, 100000, NULL) == 0);
    sleep_ms(300);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(a.it_interval.tv_sec == 0 && a.it_interval.tv_usec == 100000);
    if (a.it_value.tv_sec || a.it_value.tv_usec)
        printf("ignored periodic timer: %lld us left\n", (long long)tv_us(&a.it_value));
    CHECK(a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0);
    CHECK(set_real(0, 0, 0, 0, NULL) == 0);
    /* A one-shot timer that expired reads back as zero. */
    CHECK(set_real(0, 20000, 0, 0, NULL) == 0);
    sleep_ms(80);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0);

    /* A blocked SIGALRM from the timer stays pending and sigtimedwait collects it. */
    {
        sigset_t set, pend;
        sigemptyset(&set);
        sigaddset(&set, SIGALRM);
        signal(SIGALRM, SIG_DFL);
        CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
        CHECK(set_real(0, 50000, 0, 0, NULL) == 0);
        sleep_ms(120);
        sigemptyset(&pend);
        CHECK(sigpending(&pend) == 0);
        CHECK(sigismember(&pend, SIGALRM) == 1);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        struct timespec to = {1, 0};
        int s = sigtimedwait(&set, &si, &to);
        CHECK(s == SIGALRM);
        CHECK(si.si_signo == SIGALRM);
        CHECK(si.si_code == SI_KERNEL);
        sigemptyset(&pend);
        sigpending(&pend);
        CHECK(sigismember(&pend, SIGALRM) == 0);
        /* Nothing pending: sigtimedwait times out with EAGAIN. */
        struct timespec shortto = {0, 20000000};
        CHECK_ERR(sigtimedwait(&set, &si, &shortto), EAGAIN);
        /* A timer that fires during sigtimedwait wakes it at once. */
        int64_t w = mono_ms();
        CHECK(set_real(0, 50000, 0, 0, NULL) == 0);
        CHECK(sigtimedwait(&set, &si, &to) == SIGALRM);
        w = mono_ms() - w;
        if (w < 40 || w >= 800) printf("sigtimedwait for a 50 ms timer returned after %lld ms\n", (long long)w);
        CHECK(w >= 40 && w < 800);
        /* A periodic timer whose signals are collected keeps firing. */
        w = mono_ms();
        CHECK(set_real(0, 50000, 0, 50000, NULL) == 0);
        int got = 0;
        for (int i = 0; i < 3; i++)
            if (sigtimedwait(&set, &si, &to) == SIGALRM) got++;
        w = mono_ms() - w;
        CHECK(got == 3);
        if (w < 140 || w >= 800) printf("3 periodic SIGALRMs took %lld ms\n", (long long)w);
        CHECK(w >= 140 && w < 800);
        CHECK(getitimer(ITIMER_REAL, &a) == 0);
        CHECK(a.it_interval.tv_sec == 0 && a.it_interval.tv_usec == 50000);
        CHECK(tv_us(&a.it_value) > 0 && tv_us(&a.it_value) <= 50000);
        CHECK(set_real(0, 0, 0, 0, NULL) == 0);
        sigtimedwait(&set, &si, &shortto); /* drop one that may have fired meanwhile */
        signal(SIGALRM, SIG_IGN);
        CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
    }

    /* ITIMER_VIRTUAL and ITIMER_PROF count CPU time. Linux adds one tick (1-10 ms) to a
     * nonzero value, so it can read back slightly above what was set. Linux charges these
     * timers by sampling at ticks, so on a loaded host 60 ms of user time (as getrusage
     * measures it) can use up noticeably less: only a clear decrease is required. */
    {
        static const int which[] = {ITIMER_VIRTUAL, ITIMER_PROF};
        for (int i = 0; i < 2; i++) {
            struct itimerval v = {{1, 250000}, {10, 0}}, o, g, h;
            memset(&o, 0xff, sizeof o);
            CHECK(setitimer(which[i], &v, &o) == 0);
            CHECK(o.it_value.tv_sec == 0 && o.it_value.tv_usec == 0);
            CHECK(getitimer(which[i], &g) == 0);
            CHECK(tv_us(&g.it_value) > 9000000 && tv_us(&g.it_value) <= 10010000);
            CHECK(g.it_interval.tv_sec == 1 && g.it_interval.tv_usec == 250000);
            busy(60);
            CHECK(getitimer(which[i], &h) == 0);
            if (tv_us(&g.it_value) - tv_us(&h.it_value) < 20000)
                printf("itimer %d: %lld us left, %lld us after 60 ms of user CPU\n", which[i], (long long)tv_us(&g.it_value),
                       (long long)tv_us(&h.it_value));
            CHECK(tv_us(&g.it_value) - tv_us(&h.it_value) >= 20000);
            CHECK(tv_us(&h.it_value) > 8000000);
            /* Sleeping does not use it up. */
            sleep_ms(100);
            CHECK(getitimer(which[i], &g) == 0);
            CHECK(tv_us(&h.it_value) - tv_us(&g.it_value) < 50000);
            struct itimerval z = {{0, 0}, {0, 0}};
            CHECK(setitimer(which[i], &z, &o) == 0);
            CHECK(tv_us(&o.it_value) > 8000000 && tv_us(&o.it_value) <= 10010000);
            CHECK(o.it_interval.tv_sec == 1 && o.it_interval.tv_usec == 250000);
            CHECK(getitimer(which[i], &g) == 0);
            CHECK(g.it_value.tv_sec == 0 && g.it_value.tv_usec == 0);
        }
    }

    /* Argument errors. */
    {
        struct itimerval v = {{0, 0}, {1, 0}}, g;
        CHECK_ERR(syscall(SYS_setitimer, 3, &v, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_setitimer, -1, &v, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_getitimer, 3, &g), EINVAL);
        CHECK_ERR(syscall(SYS_getitimer, -1, &g), EINVAL);
        CHECK_ERR(setitimer(7, &v, NULL), EINVAL);
        struct itimerval bad = {{0, 0}, {1, 1000000}};
        CHECK_ERR(syscall(SYS_setitimer, ITIMER_REAL, &bad, NULL), EINVAL);
        struct itimerval badi = {{0, 1000000}, {1, 0}};
        CHECK_ERR(syscall(SYS_setitimer, ITIMER_REAL, &badi, NULL), EINVAL);
        struct itimerval negu = {{0, 0}, {1, -1}};
        CHECK_ERR(syscall(SYS_setitimer, ITIMER_REAL, &negu, NULL), EINVAL);
        struct itimerval negs = {{0, 0}, {-1, 0}};
        CHECK_ERR(syscall(SYS_setitimer, ITIMER_REAL, &negs, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_setitimer, ITIMER_VIRTUAL, &bad, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_setitimer, ITIMER_PROF, &bad, NULL), EINVAL);
        /* Nothing got armed by the failed calls. */
        CHECK(getitimer(ITIMER_REAL, &g) == 0);
        CHECK(g.it_value.tv_sec == 0 && g.it_value.tv_usec == 0);
        CHECK_ERR(syscall(SYS_getitimer, ITIMER_REAL, (void *)8), EFAULT);
        CHECK_ERR(syscall(SYS_setitimer, ITIMER_REAL, (void *)8, NULL), EFAULT);
    }

    /* Timers are not inherited by fork. */
    {
        CHECK(alarm(30) == 0);
        pid_t p = fork();
        if (p == 0) {
            struct itimerval g;
            if (getitimer(ITIMER_REAL, &g) != 0) _exit(2);
            if (g.it_value.tv_sec || g.it_value.tv_usec) _exit(3);
            _exit(alarm(0) == 0 ? 0 : 4);
        }
        int st = -1;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK(alarm(0) == 30);
    }

    /* The slow cases. */
    for (int i = 0; i < 4; i++) {
        int st = -1;
        CHECK(waitpid(mons[i], &st, 0) == mons[i]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }

    DONE();
}
