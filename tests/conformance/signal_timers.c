/* Timers that signal: POSIX timers (timer_create with SIGEV_SIGNAL: si_code SI_TIMER and the
 * sigev_value; relative and TIMER_ABSTIME expiry on CLOCK_MONOTONIC, CLOCK_REALTIME and
 * CLOCK_BOOTTIME; periodic timers; timer_gettime's remaining time and interval; the old value
 * from timer_settime; overruns counted while the signal is blocked; timer_delete; EINVAL for
 * bad ids, clocks, notification types, signals and times; SIGEV_NONE; SIGEV_THREAD_ID to one
 * thread; a CPU-time clock; timers not inherited by fork), signalfd (siginfo fields, EAGAIN
 * when empty, poll readiness, blocking reads woken by a timer, SIGCHLD with the child's exit
 * status), and setitimer/getitimer (ITIMER_REAL periodic, ITIMER_VIRTUAL and ITIMER_PROF
 * during a busy loop but not during a sleep, remaining time decreasing). Timers are 10-50 ms.
 * Each part runs in its own child with a time limit. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME 7
#endif
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

#define MS 1000000L

#define now_ms lt_now_ms

static int64_t clock_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts) {
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static struct timespec ns_ts(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    return ts;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* Runs fn in a child; the child's failed checks print themselves and make it exit 1. */
#define sub(name, fn) lt_sub(name, fn, 5000)

static void block(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
}

static void unblock(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(sigprocmask(SIG_UNBLOCK, &s, NULL) == 0);
}

/* ---- a handler that records what it saw ---- */

static volatile int count;
static volatile int last_sig, last_code, last_overrun, last_int, h_getoverrun;
static void *volatile last_ptr;
static volatile pid_t last_tid;
static volatile int64_t last_mono;
static timer_t overrun_timer; /* timer_getoverrun is called on it inside the handler */
static volatile int use_overrun_timer;

static void rec_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    last_sig = sig;
    last_code = si->si_code;
    last_overrun = si->si_overrun;
    last_ptr = si->si_value.sival_ptr;
    last_int = si->si_value.sival_int;
    last_tid = gettid_();
    last_mono = clock_ns(CLOCK_MONOTONIC);
    if (use_overrun_timer) h_getoverrun = timer_getoverrun(overrun_timer);
    __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);
}

static void set_rec(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = rec_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
        lt_failures++;
    }
}

static void reset_rec(void) {
    count = 0;
    last_sig = last_code = last_overrun = last_int = h_getoverrun = 0;
    last_ptr = NULL;
    last_tid = 0;
    last_mono = 0;
}

/* Waits up to 2 s for count to reach n. */
static int wait_count(int n) {
    long start = now_ms();
    while (__atomic_load_n(&count, __ATOMIC_SEQ_CST) < n && now_ms() - start < 2000) sleep_ms(1);
    return count >= n;
}

static timer_t make_timer(clockid_t clk, int notify, int sig, void *value) {
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = notify;
    sev.sigev_signo = sig;
    sev.sigev_value.sival_ptr = value;
    timer_t t = 0;
    if (timer_create(clk, &sev, &t) != 0) {
        printf("timer_create(clock %d, notify %d) failed: %s\n", (int)clk, notify,
               strerror(errno));
        lt_failures++;
    }
    return t;
}

static struct itimerspec its_ms(long value_ms, long interval_ms) {
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value = ns_ts(value_ms * MS);
    its.it_interval = ns_ts(interval_ms * MS);
    return its;
}

/* ---- one-shot SIGEV_SIGNAL timers, relative and absolute ---- */

static int marker;

static void t_oneshot(void) {
    set_rec(SIGUSR1);
    static const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
    for (unsigned i = 0; i < 3; i++) {
        clockid_t clk = clocks[i];
        timer_t t = make_timer(clk, SIGEV_SIGNAL, SIGUSR1, &marker);

        /* Relative, 20 ms. */
        reset_rec();
        struct itimerspec its = its_ms(20, 0);
        int64_t start = clock_ns(CLOCK_MONOTONIC);
        CHECK(timer_settime(t, 0, &its, NULL) == 0);
        CHECK(wait_count(1));
        CHECK(last_sig == SIGUSR1);
        CHECK(last_code == SI_TIMER);
        CHECK(last_ptr == &marker);
        CHECK(last_overrun == 0);
        CHECK(last_tid == gettid_());
        CHECK(last_mono - start >= 20 * MS);
        sleep_ms(30);
        CHECK(count == 1); /* one-shot */
        struct itimerspec cur;
        memset(&cur, 0x55, sizeof cur);
        CHECK(timer_gettime(t, &cur) == 0);
        CHECK(ts_ns(&cur.it_value) == 0 && ts_ns(&cur.it_interval) == 0);

        /* Absolute, 30 ms ahead on the timer's own clock. */
        reset_rec();
        int64_t target = clock_ns(clk) + 30 * MS;
        memset(&its, 0, sizeof its);
        its.it_value = ns_ts(target);
        CHECK(timer_settime(t, TIMER_ABSTIME, &its, NULL) == 0);
        /* timer_gettime reports the time left, not the absolute time. */
        CHECK(timer_gettime(t, &cur) == 0);
        CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 30 * MS);
        CHECK(wait_count(1));
        CHECK(clock_ns(clk) >= target);
        CHECK(last_code == SI_TIMER);
        CHECK(last_ptr == &marker);

        /* Absolute time in the past: expires at once. */
        reset_rec();
        int64_t past = clock_ns(clk) - 1000 * MS;
        its.it_value = ns_ts(past > 0 ? past : 1);
        CHECK(timer_settime(t, TIMER_ABSTIME, &its, NULL) == 0);
        if (!wait_count(1)) {
            printf("%s:%d: clock %d: no expiry of a timer set in the past\n", __FILE__, __LINE__,
                   (int)clk);
            lt_failures++;
        }
        CHECK(last_code == SI_TIMER);

        CHECK(timer_delete(t) == 0);
    }

    /* sival_int round trip, on a real-time signal. */
    set_rec(SIGRTMIN + 2);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN + 2;
    sev.sigev_value.sival_int = 0x1234567;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &sev, &t) == 0);
    reset_rec();
    struct itimerspec its = its_ms(10, 0);
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    CHECK(wait_count(1));
    CHECK(last_sig == SIGRTMIN + 2);
    CHECK(last_code == SI_TIMER);
    CHECK(last_int == 0x1234567);
    CHECK(timer_delete(t) == 0);

    /* NULL sigevent: SIGALRM with the timer id as value. */
    set_rec(SIGALRM);
    CHECK(timer_create(CLOCK_MONOTONIC, NULL, &t) == 0);
    reset_rec();
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    CHECK(wait_count(1));
    CHECK(last_sig == SIGALRM);
    CHECK(last_code == SI_TIMER);
    CHECK(timer_delete(t) == 0);
}

/* ---- periodic timers, timer_gettime, timer_delete ---- */

static void t_periodic(void) {
    set_rec(SIGUSR1);
    timer_t t = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, &marker);
    reset_rec();
    struct itimerspec its = its_ms(10, 10);
    int64_t start = clock_ns(CLOCK_MONOTONIC);
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    CHECK(wait_count(5));
    CHECK(clock_ns(CLOCK_MONOTONIC) - start >= 50 * MS);
    CHECK(last_code == SI_TIMER);
    CHECK(last_ptr == &marker);
    struct itimerspec cur;
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(ts_ns(&cur.it_interval) == 10 * MS);
    CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 10 * MS);

    /* Re-arming returns the old setting. */
    struct itimerspec nw = its_ms(500, 200), old;
    memset(&old, 0, sizeof old);
    CHECK(timer_settime(t, 0, &nw, &old) == 0);
    CHECK(ts_ns(&old.it_interval) == 10 * MS);
    CHECK(ts_ns(&old.it_value) > 0 && ts_ns(&old.it_value) <= 10 * MS);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(ts_ns(&cur.it_interval) == 200 * MS);
    CHECK(ts_ns(&cur.it_value) > 250 * MS && ts_ns(&cur.it_value) <= 500 * MS);
    int64_t first = ts_ns(&cur.it_value);
    sleep_ms(20);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(ts_ns(&cur.it_value) <= first - 20 * MS);

    /* Disarm with a zero value. */
    struct itimerspec zero;
    memset(&zero, 0, sizeof zero);
    CHECK(timer_settime(t, 0, &zero, &old) == 0);
    CHECK(ts_ns(&old.it_interval) == 200 * MS);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(ts_ns(&cur.it_value) == 0);

    /* Running again, then deleted: no more signals. */
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    int c0 = count;
    CHECK(wait_count(c0 + 2));
    CHECK(timer_delete(t) == 0);
    int c1 = count;
    sleep_ms(40);
    CHECK(count == c1);
    CHECK_ERR(timer_gettime(t, &cur), EINVAL);
    CHECK_ERR(timer_settime(t, 0, &its, NULL), EINVAL);
    CHECK_ERR(timer_getoverrun(t), EINVAL);
    /* (musl's timer_delete returns the raw -EINVAL; the raw call is checked in t_errors.) */
}

/* ---- overruns while blocked ---- */

static void t_overrun(void) {
    set_rec(SIGUSR2);
    overrun_timer = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, NULL);
    use_overrun_timer = 1;
    reset_rec();
    block(SIGUSR2);
    struct itimerspec its = its_ms(10, 10);
    CHECK(timer_settime(overrun_timer, 0, &its, NULL) == 0);
    sleep_ms(60);
    CHECK(count == 0);
    sigset_t p;
    sigemptyset(&p);
    CHECK(sigpending(&p) == 0);
    CHECK(sigismember(&p, SIGUSR2));
    unblock(SIGUSR2);
    CHECK(count >= 1);
    CHECK(last_code == SI_TIMER);
    if (!(h_getoverrun >= 3)) {
        printf("%s:%d: timer_getoverrun in the handler = %d, expected >= 3\n", __FILE__, __LINE__,
               h_getoverrun);
        lt_failures++;
    }
    if (!(last_overrun >= 3)) {
        printf("%s:%d: si_overrun = %d, expected >= 3\n", __FILE__, __LINE__, last_overrun);
        lt_failures++;
    }
    its = its_ms(0, 0);
    CHECK(timer_settime(overrun_timer, 0, &its, NULL) == 0);
    use_overrun_timer = 0;

    /* Without blocking, a slow-enough periodic timer has no overruns. */
    reset_rec();
    use_overrun_timer = 1;
    its = its_ms(20, 20);
    CHECK(timer_settime(overrun_timer, 0, &its, NULL) == 0);
    CHECK(wait_count(2));
    CHECK(timer_delete(overrun_timer) == 0);
    use_overrun_timer = 0;
}

/* ---- errors ---- */

struct ksigevent {
    union {
        int sival_int;
        void *sival_ptr;
    } value;
    int signo;
    int notify;
    union {
        int tid;
        char pad[64 - 16];
    } u;
};

static long raw_timer_create(clockid_t clk, int notify, int signo, int tid, void *value,
                             int *id) {
    struct ksigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.value.sival_ptr = value;
    ev.signo = signo;
    ev.notify = notify;
    ev.u.tid = tid;
    return syscall(SYS_timer_create, clk, &ev, id);
}

static void t_errors(void) {
    int id = -1;
    struct itimerspec its = its_ms(1000, 0), cur;

    /* Bad timer ids. */
    CHECK_ERR(syscall(SYS_timer_gettime, 12345, &cur), EINVAL);
    CHECK_ERR(syscall(SYS_timer_settime, 12345, 0, &its, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_timer_getoverrun, 12345), EINVAL);
    CHECK_ERR(syscall(SYS_timer_delete, 12345), EINVAL);
    CHECK_ERR(syscall(SYS_timer_delete, -1), EINVAL);

    /* Bad clocks. */
    timer_t t;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    CHECK_ERR(timer_create((clockid_t)12345, &sev, &t), EINVAL);
    CHECK_ERR(raw_timer_create(100, SIGEV_SIGNAL, SIGUSR1, 0, NULL, &id), EINVAL);
    CHECK_ERR(raw_timer_create(-100, SIGEV_SIGNAL, SIGUSR1, 0, NULL, &id), EINVAL);

    /* Bad notification types and signals. */
    CHECK_ERR(raw_timer_create(CLOCK_MONOTONIC, 99, SIGUSR1, 0, NULL, &id), EINVAL);
    CHECK_ERR(raw_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL, 0, 0, NULL, &id), EINVAL);
    CHECK_ERR(raw_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL, 65, 0, NULL, &id), EINVAL);
    /* SIGEV_THREAD_ID naming a thread outside the process. */
    CHECK_ERR(raw_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR1,
                               getppid(), NULL, &id),
              EINVAL);
    CHECK_ERR(raw_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR1,
                               0x3ffffff0, NULL, &id),
              EINVAL);

    /* A real one, through the raw calls: bad times, then double delete. */
    id = -1;
    CHECK(raw_timer_create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, NULL, &id) == 0);
    CHECK(id >= 0);
    struct itimerspec bad = its_ms(10, 0);
    bad.it_value.tv_nsec = 1000000000L;
    CHECK_ERR(syscall(SYS_timer_settime, id, 0, &bad, NULL), EINVAL);
    bad = its_ms(10, 0);
    bad.it_value.tv_nsec = -1;
    CHECK_ERR(syscall(SYS_timer_settime, id, 0, &bad, NULL), EINVAL);
    bad = its_ms(10, 0);
    bad.it_interval.tv_nsec = 1000000000L;
    CHECK_ERR(syscall(SYS_timer_settime, id, 0, &bad, NULL), EINVAL);
    CHECK(syscall(SYS_timer_gettime, id, &cur) == 0);
    CHECK(ts_ns(&cur.it_value) == 0);
    CHECK(syscall(SYS_timer_delete, id) == 0);
    CHECK_ERR(syscall(SYS_timer_delete, id), EINVAL);
    CHECK_ERR(syscall(SYS_timer_gettime, id, &cur), EINVAL);

    /* Timers are not inherited by fork. */
    id = -1;
    CHECK(raw_timer_create(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, NULL, &id) == 0);
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
    pid_t c = fork();
    if (c == 0) {
        errno = 0;
        long r = syscall(SYS_timer_gettime, id, &cur);
        _exit(r == -1 && errno == EINVAL ? 0 : 1);
    }
    int st = 0;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(syscall(SYS_timer_delete, id) == 0);
}

/* ---- SIGEV_NONE ---- */

static void t_sigev_none(void) {
    set_rec(SIGUSR1);
    set_rec(SIGALRM);
    reset_rec();
    timer_t t = make_timer(CLOCK_MONOTONIC, SIGEV_NONE, SIGUSR1, NULL);
    /* Long enough that a loaded host's 10 ms sleep (which may take far longer) still ends
     * before it expires. */
    struct itimerspec its = its_ms(2000, 0), cur;
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    CHECK(timer_gettime(t, &cur) == 0);
    int64_t r1 = ts_ns(&cur.it_value);
    CHECK(r1 > 0 && r1 <= 2000 * MS);
    CHECK(ts_ns(&cur.it_interval) == 0);
    sleep_ms(10);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(ts_ns(&cur.it_value) <= r1 - 10 * MS);
    CHECK(ts_ns(&cur.it_value) > 0);
    /* A short one that surely expires during the sleep. */
    its = its_ms(20, 0);
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    sleep_ms(50);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(ts_ns(&cur.it_value) == 0); /* expired */
    CHECK(count == 0);
    sigset_t p;
    sigemptyset(&p);
    CHECK(sigpending(&p) == 0);
    CHECK(!sigismember(&p, SIGUSR1) && !sigismember(&p, SIGALRM));

    /* Periodic SIGEV_NONE: the remaining time stays within the interval. */
    its = its_ms(10, 10);
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    sleep_ms(35);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(ts_ns(&cur.it_interval) == 10 * MS);
    CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 10 * MS);
    CHECK(count == 0);
    CHECK(timer_delete(t) == 0);
}

/* ---- SIGEV_THREAD_ID ---- */

static volatile pid_t worker_tid;
static volatile int worker_stop;

static void *worker(void *p) {
    (void)p;
    worker_tid = gettid_();
    while (!__atomic_load_n(&worker_stop, __ATOMIC_SEQ_CST)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void t_thread_id(void) {
    set_rec(SIGUSR1);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, worker, NULL) == 0);
    long start = now_ms();
    while (worker_tid == 0 && now_ms() - start < 2000) sleep_ms(1);
    CHECK(worker_tid != 0);

    /* To the worker, although this thread accepts SIGUSR1 too. */
    int id = -1;
    CHECK(raw_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR1, worker_tid,
                           &marker, &id) == 0);
    reset_rec();
    struct itimerspec its = its_ms(10, 10);
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
    CHECK(wait_count(3));
    CHECK(syscall(SYS_timer_delete, id) == 0);
    CHECK(last_tid == worker_tid);
    CHECK(last_code == SI_TIMER);
    CHECK(last_ptr == &marker);

    /* To this thread, while the worker also accepts it. */
    id = -1;
    CHECK(raw_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR1, gettid_(),
                           NULL, &id) == 0);
    reset_rec();
    its = its_ms(10, 0);
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
    CHECK(wait_count(1));
    if (last_tid != gettid_()) {
        printf("%s:%d: SIGEV_THREAD_ID timer for thread %d was handled by %d (other thread %d)\n",
               __FILE__, __LINE__, gettid_(), last_tid, worker_tid);
        lt_failures++;
    }
    CHECK(syscall(SYS_timer_delete, id) == 0);

    /* To this thread while it blocks the signal: it waits for this thread rather than going
     * to the worker. */
    id = -1;
    CHECK(raw_timer_create(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR1, gettid_(),
                           NULL, &id) == 0);
    reset_rec();
    block(SIGUSR1);
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
    sleep_ms(40);
    CHECK(count == 0);
    unblock(SIGUSR1);
    CHECK(count == 1);
    CHECK(last_tid == gettid_());
    CHECK(syscall(SYS_timer_delete, id) == 0);

    __atomic_store_n(&worker_stop, 1, __ATOMIC_SEQ_CST);
    CHECK(pthread_join(th, NULL) == 0);
}

/* ---- CPU-time clock timer ---- */

static void t_cputime(void) {
    set_rec(SIGUSR1);
    timer_t t = make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, &marker);
    reset_rec();
    struct itimerspec its = its_ms(20, 0);
    /* (The CPU time the arming and the sleep's system calls use counts too: measured from
     * before the arming, the timer cannot fire before 20 ms more, however slow the calls.) */
    int64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    /* Sleeping uses no CPU time. */
    sleep_ms(30);
    CHECK(count == 0);
    long start = now_ms();
    volatile unsigned long spin = 0;
    while (count == 0 && now_ms() - start < 1000) spin++;
    CHECK(count == 1);
    CHECK(last_code == SI_TIMER);
    CHECK(last_ptr == &marker);
    CHECK(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= 20 * MS);
    CHECK(timer_delete(t) == 0);

    /* The kernel's encoded CPU clocks of the calling process (-6) and thread (-2), which is
     * what glibc passes for CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID. */
    static const clockid_t encoded[] = {-6, -2, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    for (unsigned i = 0; i < 4; i++) {
        int id = -1;
        errno = 0;
        long r = raw_timer_create(encoded[i], SIGEV_NONE, 0, 0, NULL, &id);
        if (r != 0) {
            printf("%s:%d: raw timer_create(clock %d) = %ld errno %d\n", __FILE__, __LINE__,
                   (int)encoded[i], r, errno);
            lt_failures++;
            continue;
        }
        struct itimerspec cur;
        its = its_ms(100, 0);
        CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
        CHECK(syscall(SYS_timer_gettime, id, &cur) == 0);
        CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 100 * MS);
        CHECK(syscall(SYS_timer_delete, id) == 0);
    }
}

/* ---- signalfd ---- */

static void t_signalfd(void) {
    set_rec(SIGUSR1);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
    int fd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(fd >= 0);
    struct signalfd_siginfo ssi;
    CHECK_ERR(read(fd, &ssi, sizeof ssi), EAGAIN);
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK(poll(&pfd, 1, 0) == 0);

    /* kill: SI_USER with pid and uid. */
    CHECK(kill(getpid(), SIGUSR1) == 0);
    pfd.revents = 0;
    CHECK(poll(&pfd, 1, 1000) == 1);
    CHECK(pfd.revents == POLLIN);
    memset(&ssi, 0, sizeof ssi);
    CHECK(read(fd, &ssi, sizeof ssi) == sizeof ssi);
    CHECK(ssi.ssi_signo == SIGUSR1);
    CHECK(ssi.ssi_code == SI_USER);
    CHECK(ssi.ssi_pid == (uint32_t)getpid());
    CHECK(ssi.ssi_uid == (uint32_t)getuid());
    CHECK(ssi.ssi_errno == 0);
    CHECK_ERR(read(fd, &ssi, sizeof ssi), EAGAIN);
    CHECK(poll(&pfd, 1, 0) == 0);
    CHECK(count == 0); /* consumed, never delivered to the handler */

    /* A buffer smaller than one record: EINVAL. */
    CHECK(kill(getpid(), SIGUSR1) == 0);
    char small[64];
    CHECK_ERR(read(fd, small, sizeof small), EINVAL);
    CHECK(read(fd, &ssi, sizeof ssi) == sizeof ssi);

    /* sigqueue: SI_QUEUE with the value. */
    union sigval v;
    memset(&v, 0, sizeof v);
    v.sival_int = 77;
    CHECK(sigqueue(getpid(), SIGUSR1, v) == 0);
    memset(&ssi, 0, sizeof ssi);
    CHECK(read(fd, &ssi, sizeof ssi) == sizeof ssi);
    CHECK(ssi.ssi_signo == SIGUSR1);
    CHECK(ssi.ssi_code == SI_QUEUE);
    CHECK(ssi.ssi_int == 77);
    CHECK(ssi.ssi_pid == (uint32_t)getpid());

    /* A timer's signal, read by a blocking read on a second descriptor. */
    int bfd = signalfd(-1, &s, SFD_CLOEXEC);
    CHECK(bfd >= 0);
    timer_t t = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, &marker);
    struct itimerspec its = its_ms(20, 0);
    long start = now_ms();
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    memset(&ssi, 0, sizeof ssi);
    CHECK(read(bfd, &ssi, sizeof ssi) == sizeof ssi);
    CHECK(now_ms() - start >= 19);
    CHECK(ssi.ssi_signo == SIGUSR1);
    CHECK(ssi.ssi_code == SI_TIMER);
    CHECK(ssi.ssi_ptr == (uint64_t)(uintptr_t)&marker);
    CHECK(ssi.ssi_overrun == 0);
    CHECK(timer_delete(t) == 0);

    /* Two records in one read: two different signals. */
    sigaddset(&s, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
    CHECK(signalfd(fd, &s, 0) == fd); /* update the mask of the existing descriptor */
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    struct signalfd_siginfo two[2];
    memset(two, 0, sizeof two);
    CHECK(read(fd, two, sizeof two) == sizeof two);
    CHECK(two[0].ssi_signo == SIGUSR1);
    CHECK(two[1].ssi_signo == SIGUSR2);
    CHECK_ERR(read(fd, &ssi, sizeof ssi), EAGAIN); /* still non-blocking */

    /* A signal not in the descriptor's mask is not read. */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    CHECK(signalfd(fd, &only2, 0) == fd);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK_ERR(read(fd, &ssi, sizeof ssi), EAGAIN);
    CHECK(read(bfd, &ssi, sizeof ssi) == sizeof ssi);
    CHECK(ssi.ssi_signo == SIGUSR1);

    CHECK(count == 0);
    close(fd);
    close(bfd);

    /* Bad arguments. */
    CHECK_ERR(signalfd(-1, &s, 0x7fff0000), EINVAL);
    int pfds[2];
    CHECK(pipe(pfds) == 0);
    CHECK_ERR(signalfd(pfds[0], &s, 0), EINVAL);
}

static void t_signalfd_chld(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    CHECK(sigprocmask(SIG_BLOCK, &s, NULL) == 0);
    int fd = signalfd(-1, &s, SFD_CLOEXEC);
    CHECK(fd >= 0);
    pid_t c = fork();
    if (c == 0) _exit(5);
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK(poll(&pfd, 1, 2000) == 1);
    struct signalfd_siginfo ssi;
    memset(&ssi, 0, sizeof ssi);
    CHECK(read(fd, &ssi, sizeof ssi) == sizeof ssi);
    CHECK(ssi.ssi_signo == SIGCHLD);
    CHECK(ssi.ssi_code == CLD_EXITED);
    CHECK(ssi.ssi_pid == (uint32_t)c);
    CHECK(ssi.ssi_status == 5);
    CHECK(ssi.ssi_uid == (uint32_t)getuid());
    int st = 0;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);

    /* A killed child: CLD_KILLED and the signal. */
    c = fork();
    if (c == 0) {
        for (;;) pause();
    }
    CHECK(kill(c, SIGTERM) == 0);
    CHECK(poll(&pfd, 1, 2000) == 1);
    memset(&ssi, 0, sizeof ssi);
    CHECK(read(fd, &ssi, sizeof ssi) == sizeof ssi);
    CHECK(ssi.ssi_signo == SIGCHLD);
    CHECK(ssi.ssi_code == CLD_KILLED);
    CHECK(ssi.ssi_pid == (uint32_t)c);
    CHECK(ssi.ssi_status == SIGTERM);
    CHECK(waitpid(c, &st, 0) == c);
    close(fd);
}

/* ---- setitimer / getitimer ---- */

static void t_itimer_real(void) {
    set_rec(SIGALRM);
    reset_rec();
    struct itimerval it, old, cur;
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 10000;
    it.it_interval.tv_usec = 10000;
    int64_t start = clock_ns(CLOCK_MONOTONIC);
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(wait_count(5));
    CHECK(clock_ns(CLOCK_MONOTONIC) - start >= 50 * MS);
    CHECK(last_sig == SIGALRM);
    CHECK(last_code == SI_KERNEL);
    CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    CHECK(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 10000);
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 10000);

    /* Replace with a long one-shot: the old value comes back; the remaining time decreases. */
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 500000;
    memset(&old, 0, sizeof old);
    CHECK(setitimer(ITIMER_REAL, &it, &old) == 0);
    CHECK(old.it_interval.tv_usec == 10000);
    CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    long r1 = cur.it_value.tv_sec * 1000000L + cur.it_value.tv_usec;
    CHECK(r1 > 250000 && r1 <= 500000);
    CHECK(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 0);
    sleep_ms(20);
    CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    long r2 = cur.it_value.tv_sec * 1000000L + cur.it_value.tv_usec;
    CHECK(r2 > 0 && r2 <= r1 - 20000);

    /* Disarm: no further signals. */
    memset(&it, 0, sizeof it);
    CHECK(setitimer(ITIMER_REAL, &it, &old) == 0);
    CHECK(old.it_value.tv_sec * 1000000L + old.it_value.tv_usec <= r2);
    int c = count;
    sleep_ms(30);
    CHECK(count == c);
    CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);

    /* alarm() shares the ITIMER_REAL timer. */
    CHECK(alarm(10) == 0);
    CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    CHECK(cur.it_value.tv_sec == 9 || cur.it_value.tv_sec == 10);
    CHECK(alarm(0) >= 9);

    /* Bad arguments. */
    CHECK_ERR(getitimer(99, &cur), EINVAL);
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 1000000;
    CHECK_ERR(setitimer(ITIMER_REAL, &it, NULL), EINVAL);
}

static void busy_until(volatile int *flag, int n, long max_ms) {
    long start = now_ms();
    volatile unsigned long spin = 0;
    while (*flag < n && now_ms() - start < max_ms) spin++;
}

static void t_itimer_cpu(void) {
    static const struct {
        int which, sig;
    } kinds[] = {{ITIMER_VIRTUAL, SIGVTALRM}, {ITIMER_PROF, SIGPROF}};
    for (unsigned k = 0; k < 2; k++) {
        set_rec(kinds[k].sig);
        reset_rec();
        struct itimerval it, cur;
        memset(&it, 0, sizeof it);
        it.it_value.tv_usec = 10000;
        it.it_interval.tv_usec = 10000;
        CHECK(setitimer(kinds[k].which, &it, NULL) == 0);

        /* Not while sleeping. */
        sleep_ms(40);
        if (count != 0) {
            printf("%s:%d: timer %d fired %d times during a sleep\n", __FILE__, __LINE__,
                   kinds[k].which, count);
            lt_failures++;
        }
        CHECK(getitimer(kinds[k].which, &cur) == 0);
        CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 5000);
        CHECK(cur.it_interval.tv_usec == 10000);

        /* Repeatedly during a busy loop. */
        busy_until(&count, 3, 1500);
        if (count < 3) {
            printf("%s:%d: timer %d fired %d times in a 1.5 s busy loop\n", __FILE__, __LINE__,
                   kinds[k].which, count);
            lt_failures++;
        }
        CHECK(last_sig == kinds[k].sig);
        CHECK(last_code == SI_KERNEL);

        memset(&it, 0, sizeof it);
        CHECK(setitimer(kinds[k].which, &it, NULL) == 0);
        CHECK(getitimer(kinds[k].which, &cur) == 0);
        CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    long t0 = now_ms();
    sub("oneshot", t_oneshot);
    sub("periodic", t_periodic);
    sub("overrun", t_overrun);
    sub("errors", t_errors);
    sub("sigev_none", t_sigev_none);
    sub("thread_id", t_thread_id);
    sub("cputime", t_cputime);
    sub("signalfd", t_signalfd);
    sub("signalfd_chld", t_signalfd_chld);
    sub("itimer_real", t_itimer_real);
    sub("itimer_cpu", t_itimer_cpu);
    if (getenv("LT_TIMING")) printf("total %ld ms\n", now_ms() - t0);
    DONE();
}
