/* Clocks and CPU-time accounting: clock_gettime on every standard clock (through libc, which
 * may use the vDSO, and through the raw system call), monotonicity, CPU-time clocks that
 * advance with work and not with sleep, clock_getres, gettimeofday, time, times, getrusage,
 * sysinfo, nanosleep and clock_nanosleep (relative and absolute) and the argument errors
 * Linux gives. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME 7
#endif

static int64_t ns_of(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec; }

static int64_t now_ns(clockid_t c) {
    struct timespec t = {0, 0};
    if (clock_gettime(c, &t) != 0) return -1;
    return ns_of(&t);
}

static int64_t tv_ns(const struct timeval *t) { return (int64_t)t->tv_sec * 1000000000LL + (int64_t)t->tv_usec * 1000; }

static volatile unsigned long sink;

/* Burns CPU until the process CPU clock has advanced by `ms` milliseconds, or one second of
 * wall time has passed (so a kernel that does not account CPU time still terminates). */
static void busy(int ms) {
    int64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    int64_t w0 = now_ns(CLOCK_MONOTONIC);
    for (;;) {
        for (int i = 0; i < 20000; i++) sink += (unsigned long)i * 2654435761UL;
        if (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 >= (int64_t)ms * 1000000) break;
        /* A bound for a clock that never advances; a loaded host may give little CPU. */
        if (now_ns(CLOCK_MONOTONIC) - w0 >= 20000000000LL) break;
    }
}

static int valid_ts(const struct timespec *t) { return t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < 1000000000L; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    static const clockid_t clocks[] = {
        CLOCK_REALTIME,         CLOCK_MONOTONIC,          CLOCK_BOOTTIME,
        CLOCK_MONOTONIC_RAW,    CLOCK_REALTIME_COARSE,    CLOCK_MONOTONIC_COARSE,
        CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
    };
    static const int hires[] = {1, 1, 1, 1, 0, 0, 1, 1};
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec t = {-1, -1}, r = {-1, -1}, k = {-1, -1};
        errno = 0;
        int rc = clock_gettime(clocks[i], &t);
        if (rc != 0 || !valid_ts(&t)) printf("clock %d: gettime rc %d %ld.%09ld\n", (int)clocks[i], rc, (long)t.tv_sec, t.tv_nsec);
        CHECK(rc == 0);
        CHECK(valid_ts(&t));
        /* The raw system call (no vDSO) gives a valid time too. */
        CHECK(syscall(SYS_clock_gettime, clocks[i], &k) == 0);
        CHECK(valid_ts(&k));
        rc = clock_getres(clocks[i], &r);
        if (rc != 0 || !valid_ts(&r)) printf("clock %d: getres rc %d %ld.%09ld\n", (int)clocks[i], rc, (long)r.tv_sec, r.tv_nsec);
        CHECK(rc == 0);
        CHECK(r.tv_sec == 0 && r.tv_nsec > 0);
        if (hires[i]) {
            CHECK(r.tv_nsec <= 1000000);
        } else {
            CHECK(r.tv_nsec <= 100000000);
        }
        /* A NULL result pointer is allowed for clock_getres. */
        CHECK(syscall(SYS_clock_getres, clocks[i], NULL) == 0);
    }
    /* Wall clock is a plausible date (after 2020-01-01). */
    CHECK(now_ns(CLOCK_REALTIME) > 1577836800LL * 1000000000LL);
    /* BOOTTIME is at least MONOTONIC (they differ by time spent suspended). */
    {
        int64_t m = now_ns(CLOCK_MONOTONIC);
        int64_t b = now_ns(CLOCK_BOOTTIME);
        CHECK(b >= m);
        CHECK(m > 0);
    }
    /* Coarse clocks lag the precise clock by at most a few ticks. */
    {
        int64_t rc = now_ns(CLOCK_REALTIME_COARSE), r = now_ns(CLOCK_REALTIME);
        CHECK(rc <= r + 1000000);
        CHECK(r - rc < 100000000);
        int64_t mc = now_ns(CLOCK_MONOTONIC_COARSE), m = now_ns(CLOCK_MONOTONIC);
        CHECK(mc <= m + 1000000);
        CHECK(m - mc < 100000000);
        int64_t raw = now_ns(CLOCK_MONOTONIC_RAW);
        CHECK(raw > 0);
    }

    /* Monotonic clocks never go backwards. */
    {
        static const clockid_t mono[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE,
                                         CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
        for (unsigned c = 0; c < sizeof mono / sizeof mono[0]; c++) {
            int64_t prev = now_ns(mono[c]);
            int back = 0;
            for (int i = 0; i < 2000; i++) {
                int64_t n = now_ns(mono[c]);
                if (n < prev) back++;
                prev = n;
            }
            if (back) printf("clock %d went backwards %d times\n", (int)mono[c], back);
            CHECK(back == 0);
        }
        /* The raw system call and libc agree on ordering. */
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
        CHECK(ns_of(&b) >= ns_of(&a));
    }

    /* CPU-time clocks advance with work. */
    {
        int64_t p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        int64_t w0 = now_ns(CLOCK_MONOTONIC);
        busy(50);
        int64_t p1 = now_ns(CLOCK_PROCESS_CPUTIME_ID), t1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        int64_t w1 = now_ns(CLOCK_MONOTONIC);
        if (p1 - p0 < 40000000 || t1 - t0 < 40000000)
            printf("busy: process cpu +%lld ns, thread cpu +%lld ns, wall +%lld ns\n", (long long)(p1 - p0),
                   (long long)(t1 - t0), (long long)(w1 - w0));
        CHECK(p1 - p0 >= 50000000);
        CHECK(t1 - t0 >= 40000000);
        /* One thread: CPU time cannot exceed wall time by more than a little accounting slack. */
        CHECK(t1 - t0 <= (w1 - w0) + 20000000);
    }

    /* ...and not during sleep. */
    {
        int64_t p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        int64_t w0 = now_ns(CLOCK_MONOTONIC);
        int64_t b0 = now_ns(CLOCK_BOOTTIME);
        struct timespec d = {0, 100000000};
        CHECK(nanosleep(&d, NULL) == 0);
        int64_t p1 = now_ns(CLOCK_PROCESS_CPUTIME_ID), t1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        int64_t w1 = now_ns(CLOCK_MONOTONIC);
        int64_t b1 = now_ns(CLOCK_BOOTTIME);
        if (p1 - p0 >= 50000000 || w1 - w0 < 100000000)
            printf("sleep: process cpu +%lld ns, thread cpu +%lld ns, wall +%lld ns\n", (long long)(p1 - p0),
                   (long long)(t1 - t0), (long long)(w1 - w0));
        CHECK(w1 - w0 >= 100000000);
        CHECK(b1 - b0 >= 100000000);
        CHECK(p1 - p0 < 50000000);
        CHECK(t1 - t0 < 50000000);
        CHECK(p1 >= p0 && t1 >= t0);
    }

    /* gettimeofday agrees with CLOCK_REALTIME; a NULL tv is allowed. */
    {
        struct timeval tv;
        struct timespec ts;
        CHECK(gettimeofday(&tv, NULL) == 0);
        clock_gettime(CLOCK_REALTIME, &ts);
        CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
        int64_t d = ns_of(&ts) - tv_ns(&tv);
        CHECK(d > -1000000000LL && d < 1000000000LL);
        CHECK(d >= 0);
        struct timeval kv;
        CHECK(syscall(SYS_gettimeofday, &kv, NULL) == 0);
        CHECK(tv_ns(&kv) >= tv_ns(&tv));
        CHECK(syscall(SYS_gettimeofday, NULL, NULL) == 0);
        struct timezone tz = {-1, -1};
        CHECK(syscall(SYS_gettimeofday, NULL, &tz) == 0);
    }

    /* time() returns the wall clock seconds, and stores them too. */
    {
        time_t stored = 0;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        time_t t = time(&stored);
        CHECK(t == stored);
        /* glibc's time() reads the coarse clock, which may lag CLOCK_REALTIME by a tick. */
        CHECK(t >= ts.tv_sec - 1 && t <= ts.tv_sec + 1);
        CHECK(time(NULL) >= t);
        /* time(2) reads the coarse clock too, which may lag a libc time() that reads
         * CLOCK_REALTIME (musl) by a tick. */
#ifdef SYS_time /* not in asm-generic (riscv64, aarch64) */
        long k = syscall(SYS_time, NULL);
        CHECK(k >= t - 1 && k <= t + 1);
#endif
    }

    /* times(): elapsed ticks increase; user+system time grows with work. */
    {
        long hz = sysconf(_SC_CLK_TCK);
        CHECK(hz == 100);
        struct tms a, b;
        clock_t c0 = times(&a);
        CHECK(c0 != (clock_t)-1);
        busy(80);
        struct timespec d = {0, 30000000};
        nanosleep(&d, NULL);
        clock_t c1 = times(&b);
        CHECK(c1 != (clock_t)-1);
        CHECK(c1 > c0);
        /* ~110 ms of wall time is ~11 ticks. */
        CHECK(c1 - c0 >= 8 && c1 - c0 < 200);
        clock_t cpu0 = a.tms_utime + a.tms_stime, cpu1 = b.tms_utime + b.tms_stime;
        if (cpu1 - cpu0 < 5)
            printf("times: utime %ld->%ld stime %ld->%ld\n", (long)a.tms_utime, (long)b.tms_utime, (long)a.tms_stime,
                   (long)b.tms_stime);
        CHECK(cpu1 - cpu0 >= 5);
        CHECK(b.tms_utime >= a.tms_utime && b.tms_stime >= a.tms_stime);
        CHECK(b.tms_cutime == 0 && b.tms_cstime == 0);
        /* times(NULL) is allowed. */
        CHECK(syscall(SYS_times, NULL) != -1);
    }

    /* getrusage: self and thread CPU time grow with work; bad `who` is EINVAL. */
    {
        struct rusage a, b, th;
        CHECK(getrusage(RUSAGE_SELF, &a) == 0);
        busy(50);
        CHECK(getrusage(RUSAGE_SELF, &b) == 0);
        int64_t ua = tv_ns(&a.ru_utime) + tv_ns(&a.ru_stime);
        int64_t ub = tv_ns(&b.ru_utime) + tv_ns(&b.ru_stime);
        if (ub - ua < 40000000) printf("getrusage: cpu +%lld ns\n", (long long)(ub - ua));
        CHECK(ub - ua >= 40000000);
        CHECK(b.ru_utime.tv_usec >= 0 && b.ru_utime.tv_usec < 1000000);
        CHECK(b.ru_stime.tv_usec >= 0 && b.ru_stime.tv_usec < 1000000);
        if (b.ru_maxrss <= 0) printf("ru_maxrss %ld\n", (long)b.ru_maxrss);
        CHECK(b.ru_maxrss > 0);
        CHECK(getrusage(RUSAGE_THREAD, &th) == 0);
        CHECK(tv_ns(&th.ru_utime) + tv_ns(&th.ru_stime) >= 40000000);
        CHECK(getrusage(RUSAGE_CHILDREN, &th) == 0);
        CHECK(th.ru_utime.tv_sec == 0 && th.ru_utime.tv_usec == 0);
        CHECK_ERR(syscall(SYS_getrusage, 5, &th), EINVAL);
        CHECK_ERR(syscall(SYS_getrusage, -3, &th), EINVAL);
        CHECK_ERR(getrusage(12345, &th), EINVAL);
    }

    /* sysinfo: uptime is CLOCK_BOOTTIME rounded up to whole seconds. */
    {
        struct sysinfo si;
        memset(&si, 0, sizeof si);
        struct timespec b0, b1;
        clock_gettime(CLOCK_BOOTTIME, &b0);
        CHECK(sysinfo(&si) == 0);
        clock_gettime(CLOCK_BOOTTIME, &b1);
        long lo = (long)b0.tv_sec + (b0.tv_nsec ? 1 : 0), hi = (long)b1.tv_sec + (b1.tv_nsec ? 1 : 0);
        if ((long)si.uptime < lo || (long)si.uptime > hi)
            printf("sysinfo uptime %ld, CLOCK_BOOTTIME %ld.%09ld..%ld.%09ld\n", (long)si.uptime, (long)b0.tv_sec, b0.tv_nsec,
                   (long)b1.tv_sec, b1.tv_nsec);
        CHECK(si.uptime > 0);
        CHECK((long)si.uptime >= lo && (long)si.uptime <= hi);
        CHECK(si.totalram > 0);
        CHECK(si.freeram <= si.totalram);
        CHECK(si.mem_unit >= 1);
        CHECK((unsigned long long)si.totalram * si.mem_unit >= 16ULL << 20);
        CHECK(si.procs >= 1);
        CHECK(si.totalswap >= si.freeswap);
    }

    /* clock_nanosleep: relative and absolute on CLOCK_MONOTONIC. libc returns the error number. */
    {
        struct timespec d = {0, 50000000};
        int64_t w0 = now_ns(CLOCK_MONOTONIC);
        CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL) == 0);
        int64_t w1 = now_ns(CLOCK_MONOTONIC);
        CHECK(w1 - w0 >= 50000000);
        CHECK(w1 - w0 < 1000000000);

        struct timespec target;
        clock_gettime(CLOCK_MONOTONIC, &target);
        target.tv_nsec += 60000000;
        if (target.tv_nsec >= 1000000000) {
            target.tv_sec++;
            target.tv_nsec -= 1000000000;
        }
        CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, NULL) == 0);
        int64_t w2 = now_ns(CLOCK_MONOTONIC);
        CHECK(w2 >= ns_of(&target));
        CHECK(w2 - ns_of(&target) < 1000000000);

        /* An absolute time in the past returns at once. */
        struct timespec past = {0, 1};
        int64_t w3 = now_ns(CLOCK_MONOTONIC);
        CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL) == 0);
        CHECK(now_ns(CLOCK_MONOTONIC) - w3 < 500000000);
        /* Relative zero also returns at once. */
        struct timespec zero = {0, 0};
        CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &zero, NULL) == 0);
        CHECK(nanosleep(&zero, NULL) == 0);
        /* CLOCK_REALTIME sleeps work too, through the raw call. */
        struct timespec rd = {0, 10000000};
        CHECK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &rd, NULL) == 0);
        struct timespec rabs;
        clock_gettime(CLOCK_REALTIME, &rabs);
        CHECK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &rabs, NULL) == 0);
        CHECK(syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME, 0, &rd, NULL) == 0);
    }

    /* nanosleep argument errors. */
    {
        struct timespec big = {0, 1000000000}, neg = {0, -1}, negs = {-1, 0};
        CHECK_ERR(nanosleep(&big, NULL), EINVAL);
        CHECK_ERR(nanosleep(&neg, NULL), EINVAL);
        CHECK_ERR(nanosleep(&negs, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_nanosleep, &big, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_nanosleep, &neg, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_nanosleep, &negs, NULL), EINVAL);
        CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &big, NULL) == EINVAL);
        CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &neg, NULL) == EINVAL);
        CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &big, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &neg, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_nanosleep, (void *)8, NULL), EFAULT);
    }

    /* clock_nanosleep on the thread CPU clock: libc says EINVAL; the kernel has no sleep for
     * that clock and says EOPNOTSUPP. */
    {
        struct timespec d = {0, 1000000};
        CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL) == EINVAL);
        CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL), EOPNOTSUPP);
    }

    /* Invalid clock ids. */
    {
        struct timespec t, d = {0, 1000};
        CHECK_ERR(clock_gettime((clockid_t)123, &t), EINVAL);
        CHECK_ERR(syscall(SYS_clock_gettime, 123, &t), EINVAL);
        CHECK_ERR(clock_getres((clockid_t)123, &t), EINVAL);
        CHECK_ERR(syscall(SYS_clock_getres, 123, &t), EINVAL);
        CHECK(clock_nanosleep((clockid_t)123, 0, &d, NULL) == EINVAL);
        CHECK_ERR(syscall(SYS_clock_nanosleep, 123, 0, &d, NULL), EINVAL);
        CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8), EFAULT);
    }

    /* CPU clocks named by pid or tid: clockid ((~pid) << 3) | 2 for a process and
     * ((~tid) << 3) | 6 for a thread; pid 0 means the caller. A missing pid is EINVAL. */
    {
        clockid_t cid = 0;
        int rc = clock_getcpuclockid(0, &cid);
        if (rc != 0) printf("clock_getcpuclockid(0) = %d\n", rc);
        CHECK(rc == 0);
        struct timespec a = {0, 0}, b = {0, 0};
        CHECK(clock_gettime(cid, &a) == 0);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        CHECK(ns_of(&a) >= 50000000);
        CHECK(ns_of(&b) >= ns_of(&a));
        pid_t pid = getpid();
        clockid_t pclk = (clockid_t)((~(unsigned)pid) << 3) | 2;
        clockid_t tclk = (clockid_t)((~(unsigned)pid) << 3) | 6;
        struct timespec p = {0, 0}, t = {0, 0};
        CHECK(syscall(SYS_clock_gettime, pclk, &p) == 0);
        CHECK(ns_of(&p) >= 50000000);
        CHECK(syscall(SYS_clock_gettime, tclk, &t) == 0);
        CHECK(ns_of(&t) >= 50000000);
        CHECK(syscall(SYS_clock_getres, pclk, &p) == 0);
        CHECK(p.tv_sec == 0 && p.tv_nsec > 0 && p.tv_nsec <= 1000000);
        clockid_t none = (clockid_t)((~(unsigned)999999) << 3) | 2;
        CHECK_ERR(syscall(SYS_clock_gettime, none, &p), EINVAL);
    }

    DONE();
}
