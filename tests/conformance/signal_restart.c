/* Interrupted system calls: EINTR without SA_RESTART and transparent restart with it (read,
 * wait4); calls that fail with EINTR even with SA_RESTART (nanosleep with the remaining time,
 * pause, poll, ppoll, select, epoll_wait, sigtimedwait); ignored signals interrupt nothing;
 * nanosleep and read carry on across a stop and continue; sigsuspend; sigtimedwait and
 * sigwaitinfo. Timers are 20 ms (setitimer ITIMER_REAL). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define TICK_MS 20

static long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

/* Runs fn in a child; the child's failed checks print themselves and make it exit 1. */
#define sub(name, fn) lt_sub(name, fn, 5000)

static volatile int alarms;
/* When on_alarm last ran (now_us). */
static volatile long alarm_us;
static void on_alarm(int sig) {
    (void)sig;
    alarms++;
    alarm_us = now_us();
}

static void set_handler(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(sig, &sa, NULL) == 0);
}

/* One-shot ITIMER_REAL. */
static void arm(int ms) {
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A child that writes one byte to fd after ms milliseconds. */
static pid_t delayed_writer(int fd, int ms) {
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(ms);
        _exit(write(fd, "x", 1) == 1 ? 0 : 1);
    }
    CHECK(pid > 0);
    return pid;
}

static void reap(pid_t pid) {
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
}

/* ---- read ---- */

static void t_read(void) {
    int p[2];
    char c = 0;
    CHECK(pipe(p) == 0);

    /* No SA_RESTART: the read fails with EINTR when the timer fires. */
    set_handler(SIGALRM, on_alarm, 0);
    alarms = 0;
    long t0 = now_us();
    arm(TICK_MS);
    CHECK_ERR(read(p[0], &c, 1), EINTR);
    long dt = now_us() - t0;
    CHECK(alarms == 1);
    CHECK(dt >= TICK_MS * 1000 - 1000);
    CHECK(dt < 1000000);

    /* SA_RESTART: the handler runs and the read carries on until the data comes. */
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    alarms = 0;
    pid_t w = delayed_writer(p[1], 3 * TICK_MS);
    t0 = now_us();
    arm(TICK_MS);
    c = 0;
    CHECK(read(p[0], &c, 1) == 1);
    dt = now_us() - t0;
    CHECK(c == 'x');
    CHECK(alarms == 1);
    CHECK(dt >= 2 * TICK_MS * 1000);
    reap(w);

    /* Ignored signals, and SIGCHLD with its default action, interrupt nothing. */
    set_handler(SIGALRM, SIG_IGN, 0);
    pid_t quick = fork();
    if (quick == 0) {
        sleep_ms(TICK_MS);
        _exit(0); /* SIGCHLD to the reader */
    }
    w = delayed_writer(p[1], 3 * TICK_MS);
    arm(TICK_MS);
    c = 0;
    CHECK(read(p[0], &c, 1) == 1);
    CHECK(c == 'x');
    reap(w);
    reap(quick);

    /* A blocked signal does not interrupt either; it stays pending. */
    set_handler(SIGALRM, on_alarm, 0);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &s, &old) == 0);
    alarms = 0;
    w = delayed_writer(p[1], 3 * TICK_MS);
    arm(TICK_MS);
    c = 0;
    CHECK(read(p[0], &c, 1) == 1);
    CHECK(alarms == 0);
    sigset_t pend;
    CHECK(sigpending(&pend) == 0);
    CHECK(sigismember(&pend, SIGALRM) == 1);
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    CHECK(alarms == 1);
    reap(w);
    close(p[0]);
    close(p[1]);
}

/* ---- nanosleep and clock_nanosleep ---- */

static void t_nanosleep(void) {
    for (int restart = 0; restart <= 1; restart++) {
        /* EINTR whether or not SA_RESTART is set, with the time left in rem. */
        set_handler(SIGALRM, on_alarm, restart ? SA_RESTART : 0);
        alarms = 0;
        struct timespec req = {1, 0}, rem = {-1, -1};
        long t0 = now_us();
        arm(TICK_MS);
        CHECK_ERR(nanosleep(&req, &rem), EINTR);
        long dt = now_us() - t0;
        CHECK(alarms == 1);
        CHECK(dt < 900000);
        CHECK(rem.tv_sec == 0);
        CHECK(rem.tv_nsec > 500000000L && rem.tv_nsec < 1000000000L);
        /* What is left plus what passed is the request, give or take scheduling. */
        long sum = dt + rem.tv_nsec / 1000;
        CHECK(sum > 950000 && sum < 1050000);
        if (rem.tv_sec != 0 || sum <= 950000 || sum >= 1050000)
            printf("nanosleep: slept %ld us, rem %ld.%09ld\n", dt, (long)rem.tv_sec, rem.tv_nsec);
    }

    /* Raw clock_nanosleep: relative fills rem; absolute leaves it alone. */
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    struct timespec req = {1, 0}, rem = {-1, -1};
    arm(TICK_MS);
    CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem), EINTR);
    CHECK(rem.tv_sec == 0 && rem.tv_nsec > 500000000L && rem.tv_nsec < 1000000000L);
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 1;
    rem.tv_sec = 123;
    rem.tv_nsec = 456;
    long t0 = now_us();
    arm(TICK_MS);
    CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, &rem), EINTR);
    CHECK(now_us() - t0 < 900000);
    CHECK(rem.tv_sec == 123 && rem.tv_nsec == 456);
    /* Without a handler (ignored), the sleep is not cut short. */
    set_handler(SIGALRM, SIG_IGN, 0);
    req.tv_sec = 0;
    req.tv_nsec = 3 * TICK_MS * 1000000L;
    t0 = now_us();
    arm(TICK_MS);
    CHECK(nanosleep(&req, NULL) == 0);
    CHECK(now_us() - t0 >= 3 * TICK_MS * 1000 - 1000);
}

/* ---- wait4 ---- */

static void t_wait(void) {
    /* No SA_RESTART: EINTR. */
    set_handler(SIGALRM, on_alarm, 0);
    pid_t c = fork();
    if (c == 0) {
        for (;;) pause();
    }
    alarms = 0;
    int st = 0;
    arm(TICK_MS);
    CHECK_ERR(wait4(c, &st, 0, NULL), EINTR);
    CHECK(alarms == 1);
    CHECK(kill(c, SIGKILL) == 0);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* SA_RESTART: wait4 restarts and returns the child when it exits. */
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    c = fork();
    if (c == 0) {
        sleep_ms(3 * TICK_MS);
        _exit(7);
    }
    alarms = 0;
    st = 0;
    arm(TICK_MS);
    CHECK(wait4(c, &st, 0, NULL) == c);
    CHECK(alarms == 1);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* ---- pause ---- */

static void t_pause(void) {
    for (int restart = 0; restart <= 1; restart++) {
        set_handler(SIGALRM, on_alarm, restart ? SA_RESTART : 0);
        alarms = 0;
        long t0 = now_us();
        arm(TICK_MS);
        CHECK_ERR(pause(), EINTR);
        CHECK(alarms == 1);
        CHECK(now_us() - t0 >= TICK_MS * 1000 - 1000);
    }
}

/* ---- sigsuspend ---- */

static volatile int usr1_calls, usr1_blocked_in, usr2_blocked_in, uc_usr1, uc_usr2;

static void usr1_handler(int sig, siginfo_t *si, void *ucv) {
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    usr1_blocked_in = sigismember(&cur, SIGUSR1);
    usr2_blocked_in = sigismember(&cur, SIGUSR2);
    uc_usr1 = sigismember(&uc->uc_sigmask, SIGUSR1);
    uc_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
    usr1_calls++;
}

static void t_sigsuspend(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = usr1_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

    sigset_t blk, old, susp, cur;
    sigemptyset(&blk);
    sigaddset(&blk, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &blk, &old) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(usr1_calls == 0);
    /* Suspend with SIGUSR1 unblocked (and SIGUSR2 blocked): returns at once. */
    sigemptyset(&susp);
    sigaddset(&susp, SIGUSR2);
    long t0 = now_us();
    CHECK_ERR(sigsuspend(&susp), EINTR);
    CHECK(now_us() - t0 < 500000);
    CHECK(usr1_calls == 1);
    CHECK(usr1_blocked_in == 1);
    CHECK(usr2_blocked_in == 1); /* the handler ran under the suspend mask */
    CHECK(uc_usr1 == 1);         /* and will return to the mask before sigsuspend */
    CHECK(uc_usr2 == 0);
    CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
    CHECK(sigismember(&cur, SIGUSR1) == 1);
    CHECK(sigismember(&cur, SIGUSR2) == 0);

    /* Waiting for a timer signal that is blocked outside sigsuspend. */
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    sigaddset(&blk, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &blk, NULL) == 0);
    alarms = 0;
    t0 = now_us();
    arm(TICK_MS);
    sigemptyset(&susp);
    CHECK_ERR(sigsuspend(&susp), EINTR);
    CHECK(alarms == 1);
    CHECK(now_us() - t0 >= TICK_MS * 1000 - 1000);
    CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
    CHECK(sigismember(&cur, SIGALRM) == 1 && sigismember(&cur, SIGUSR1) == 1);

    /* The kernel checks the set size. */
    uint64_t k = 0;
    CHECK_ERR(syscall(SYS_rt_sigsuspend, &k, 4), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigsuspend, (void *)8, 8), EFAULT);
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
}

/* ---- sigtimedwait and sigwaitinfo ---- */

static long k_sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts) {
    return syscall(SYS_rt_sigtimedwait, set, info, ts, 8);
}

static void t_sigwait(void) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN);
    CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
    pid_t me = getpid();
    struct timespec zero = {0, 0};
    siginfo_t si;

    union sigval v;
    memset(&v, 0, sizeof v);
    v.sival_int = 7;
    CHECK(sigqueue(me, SIGUSR2, v) == 0);
    memset(&si, 0, sizeof si);
    CHECK(sigtimedwait(&set, &si, &zero) == SIGUSR2);
    CHECK(si.si_signo == SIGUSR2);
    CHECK(si.si_code == SI_QUEUE);
    CHECK(si.si_value.sival_int == 7);
    CHECK(si.si_pid == me);
    CHECK(si.si_uid == getuid());
    sigset_t pend;
    CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGUSR2) == 0);

    /* Several pending: the lowest number comes first. */
    CHECK(kill(me, SIGUSR2) == 0);
    CHECK(kill(me, SIGUSR1) == 0);
    memset(&si, 0, sizeof si);
    CHECK(sigwaitinfo(&set, &si) == SIGUSR1);
    CHECK(si.si_code == SI_USER && si.si_pid == me);
    memset(&si, 0, sizeof si);
    CHECK(sigwaitinfo(&set, &si) == SIGUSR2);
    CHECK(si.si_code == SI_USER);

    /* Real-time values queue in order. */
    for (int i = 1; i <= 3; i++) {
        v.sival_int = 100 + i;
        CHECK(sigqueue(me, SIGRTMIN, v) == 0);
    }
    for (int i = 1; i <= 3; i++) {
        memset(&si, 0, sizeof si);
        CHECK(sigwaitinfo(&set, &si) == SIGRTMIN);
        CHECK(si.si_code == SI_QUEUE);
        CHECK(si.si_value.sival_int == 100 + i);
    }
    CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGRTMIN) == 0);

    /* Nothing pending: EAGAIN at once with a zero timeout, after it with a short one. */
    long t0 = now_us();
    CHECK_ERR(sigtimedwait(&set, &si, &zero), EAGAIN);
    CHECK(now_us() - t0 < 200000);
    struct timespec shortt = {0, 2 * TICK_MS * 1000000L};
    t0 = now_us();
    CHECK_ERR(sigtimedwait(&set, &si, &shortt), EAGAIN);
    long dt = now_us() - t0;
    CHECK(dt >= 2 * TICK_MS * 1000 - 1000);
    CHECK(dt < 1000000);
    struct timespec bad = {0, 1000000000L};
    CHECK_ERR(k_sigtimedwait(&set, &si, &bad), EINVAL);
    CHECK_ERR(syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 4), EINVAL);
    /* A NULL siginfo is allowed. */
    CHECK(raise(SIGUSR1) == 0);
    CHECK(k_sigtimedwait(&set, NULL, &zero) == SIGUSR1);

    /* Another signal's handler interrupts the wait: EINTR even with SA_RESTART. */
    for (int restart = 0; restart <= 1; restart++) {
        set_handler(SIGALRM, on_alarm, restart ? SA_RESTART : 0);
        struct timespec sec = {1, 0};
        alarms = 0;
        t0 = now_us();
        arm(TICK_MS);
        CHECK_ERR(k_sigtimedwait(&set, &si, &sec), EINTR);
        CHECK(alarms == 1);
        CHECK(now_us() - t0 < 900000);
    }

    /* A signal sent later wakes the waiter. */
    pid_t c = fork();
    if (c == 0) {
        sleep_ms(TICK_MS);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    struct timespec sec = {1, 0};
    memset(&si, 0, sizeof si);
    CHECK(sigtimedwait(&set, &si, &sec) == SIGUSR2);
    CHECK(si.si_code == SI_USER && si.si_pid == c);
    reap(c);
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
}

/* ---- poll, ppoll, select, epoll_wait: EINTR even with SA_RESTART ---- */

/* Runs `setup` (a block), arms the alarm and makes `call` (a wait of about a second that the
 * alarm must interrupt), leaving its result in `r` and its errno in `e`. On a loaded host
 * TICK_MS can pass between arm() and the start of the call (the virtual CPU does not run):
 * the handler then runs before the call, which waits its whole timeout and returns 0, on
 * Linux as well. That try says nothing of the call and is made again (at most three in all).
 * It is told apart from a wake-up lost in the call by when the handler ran: a call that
 * missed the signal runs the handler only on its way out, not most of a second before it
 * returned. */
#define ALARMED(r, e, setup, call)                                                           \
    do {                                                                                     \
        for (int lt_try = 1;; lt_try++) {                                                    \
            setup;                                                                           \
            alarms = 0;                                                                      \
            arm(TICK_MS);                                                                    \
            errno = 0;                                                                       \
            r = (long)(call);                                                                \
            e = errno;                                                                       \
            if (r != 0 || alarms != 1 || now_us() - alarm_us < 500000 || lt_try == 3) break; \
            printf("%s:%d: the alarm came before %s began: again\n", __FILE__, __LINE__,     \
                   #call);                                                                   \
        }                                                                                    \
    } while (0)

static void expect_eintr(int line, const char *what, long r, int e) {
    if (r != -1 || e != EINTR) {
        printf("%s:%d: %s = %ld errno %d (%s), expected -1 errno %d (%s)\n", __FILE__, line, what,
               r, e, strerror(e), EINTR, strerror(EINTR));
        fflush(stdout);
        lt_failures++;
    }
}

static void t_multiplex(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    long r;
    int e;
    long t0;

    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    ALARMED(r, e, { t0 = now_us(); }, poll(&pfd, 1, 1000));
    expect_eintr(__LINE__, "poll(&pfd, 1, 1000)", r, e);
    CHECK(alarms == 1);
    CHECK(now_us() - t0 < 900000);

    /* No timeout to tell an early alarm by: this one hangs (the sub's time limit) if the
     * alarm comes before the call. */
    alarms = 0;
    arm(TICK_MS);
    CHECK_ERR(poll(&pfd, 1, -1), EINTR);
    CHECK(alarms == 1);

    struct timespec ts;
    ALARMED(r, e, { t0 = now_us(); ts.tv_sec = 1; ts.tv_nsec = 0; }, ppoll(&pfd, 1, &ts, NULL));
    expect_eintr(__LINE__, "ppoll(&pfd, 1, &ts, NULL)", r, e);
    CHECK(alarms == 1);
    CHECK(now_us() - t0 < 900000);

    fd_set rd;
    struct timeval tv;
    ALARMED(r, e,
            {
                t0 = now_us();
                FD_ZERO(&rd);
                FD_SET(p[0], &rd);
                tv.tv_sec = 1;
                tv.tv_usec = 0;
            },
            select(p[0] + 1, &rd, NULL, NULL, &tv));
    expect_eintr(__LINE__, "select(p[0] + 1, &rd, NULL, NULL, &tv)", r, e);
    CHECK(alarms == 1);
    CHECK(now_us() - t0 < 900000);

    /* The kernel writes the time left back (musl's select hides it: use the system calls). */
#ifdef SYS_select /* x86_64 only: asm-generic (riscv64, aarch64) has pselect6 alone */
    ALARMED(r, e, { FD_ZERO(&rd); FD_SET(p[0], &rd); tv.tv_sec = 1; tv.tv_usec = 0; },
            syscall(SYS_select, p[0] + 1, &rd, NULL, NULL, &tv));
    expect_eintr(__LINE__, "syscall(SYS_select, ...)", r, e);
    CHECK(alarms == 1);
    CHECK(tv.tv_sec == 0 && tv.tv_usec > 500000);
    if (tv.tv_sec != 0 || tv.tv_usec <= 500000)
        printf("select left timeout %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
#endif
    ALARMED(r, e, { FD_ZERO(&rd); FD_SET(p[0], &rd); ts.tv_sec = 1; ts.tv_nsec = 0; },
            syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, NULL));
    expect_eintr(__LINE__, "syscall(SYS_pselect6, ...)", r, e);
    CHECK(alarms == 1);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec > 500000000L);
    if (ts.tv_sec != 0 || ts.tv_nsec <= 500000000L)
        printf("pselect6 left timeout %ld.%09ld\n", (long)ts.tv_sec, (long)ts.tv_nsec);

    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.fd = p[0];
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    ALARMED(r, e, { t0 = now_us(); }, epoll_wait(ep, &ev, 1, 1000));
    expect_eintr(__LINE__, "epoll_wait(ep, &ev, 1, 1000)", r, e);
    CHECK(alarms == 1);
    CHECK(now_us() - t0 < 900000);
    close(ep);
    close(p[0]);
    close(p[1]);
}

/* ---- stop and continue without a handler: calls carry on ---- */

static void t_stop_continue(void) {
    /* nanosleep resumes (restart_syscall) and still sleeps the whole time. */
    pid_t c = fork();
    if (c == 0) {
        struct timespec req = {0, 5 * TICK_MS * 1000000L};
        long t0 = now_us();
        int r = nanosleep(&req, NULL);
        long dt = now_us() - t0;
        if (r != 0) _exit(1);
        if (dt < 5 * TICK_MS * 1000 - 1000) _exit(2);
        _exit(0);
    }
    sleep_ms(TICK_MS);
    CHECK(kill(c, SIGSTOP) == 0);
    int st = 0;
    CHECK(waitpid(c, &st, WUNTRACED) == c);
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    sleep_ms(TICK_MS);
    CHECK(kill(c, SIGCONT) == 0);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        printf("stopped nanosleep: %s\n", WEXITSTATUS(st) == 1 ? "failed" : "ended early");

    /* A read goes on waiting and gets the data written after the continue. */
    int p[2];
    CHECK(pipe(p) == 0);
    c = fork();
    if (c == 0) {
        char ch = 0;
        close(p[1]);
        ssize_t n = read(p[0], &ch, 1);
        _exit(n == 1 && ch == 'x' ? 0 : n < 0 ? 10 + errno % 100 : 3);
    }
    close(p[0]);
    sleep_ms(TICK_MS);
    CHECK(kill(c, SIGSTOP) == 0);
    CHECK(waitpid(c, &st, WUNTRACED) == c);
    CHECK(WIFSTOPPED(st));
    CHECK(kill(c, SIGCONT) == 0);
    sleep_ms(TICK_MS);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0) printf("stopped read: child exit %d\n", WEXITSTATUS(st));
    close(p[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sub("read", t_read);
    sub("nanosleep", t_nanosleep);
    sub("wait", t_wait);
    sub("pause", t_pause);
    sub("sigsuspend", t_sigsuspend);
    sub("sigwait", t_sigwait);
    sub("multiplex", t_multiplex);
    sub("stop_continue", t_stop_continue);
    DONE();
}
