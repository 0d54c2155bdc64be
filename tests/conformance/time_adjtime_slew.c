/* The clock discipline slews the clock as Linux's NTP code does (kernel/time/ntp.c):
 * - adjtime(3)'s single-shot offset (ADJ_OFFSET_SINGLESHOT, made here with adjtimex itself)
 *   is applied at 500 µs a second, from the next second boundary on, to CLOCK_REALTIME and
 *   CLOCK_MONOTONIC alike, never to CLOCK_MONOTONIC_RAW; the offset left (adjtime's olddelta, ADJ_OFFSET_SS_READ) shrinks by
 *   500 µs a second; a new offset replaces the one left;
 * - ADJ_FREQUENCY and ADJ_TICK change the rate of CLOCK_MONOTONIC and CLOCK_REALTIME
 *   against CLOCK_MONOTONIC_RAW (+200 ppm each here);
 * - a PLL phase offset (ADJ_OFFSET with STA_PLL, nanosecond mode) is applied a part a second
 *   (offset >> (SHIFT_PLL + time constant)), the offset reported shrinking with it;
 * - setting or stepping the wall clock (ADJ_SETOFFSET, even by nothing; clock_settime;
 *   settimeofday) is Linux's ntp_clear: the pending offsets are dropped, STA_UNSYNC is set and
 *   the maximum and estimated errors go to NTP_PHASE_LIMIT (16 s), whatever the status was.
 * - reading the clocks while the frequency is off needs no system call (the vDSO computes
 *   the slewed clock: seen through a seccomp filter that fails clock_gettime's and
 *   gettimeofday's system calls), where reading them at the raw rate needs none either;
 * This runs as root on the host too, so it changes the clock by little and undoes it all:
 * offsets are slewed back, the frequency, tick and status restored to what they were read. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* CLOCK_REALTIME and CLOCK_MONOTONIC minus CLOCK_MONOTONIC_RAW, and RAW itself: the best of a
 * few tries (the one whose reads were closest together). */
struct offs { long long rt, mono, raw; };
static struct offs offsets(void) {
    struct offs best = {0, 0, 0};
    long long span = -1;
    for (int i = 0; i < 7; i++) {
        long long r0 = ns(CLOCK_MONOTONIC_RAW);
        long long rt = ns(CLOCK_REALTIME);
        long long m = ns(CLOCK_MONOTONIC);
        long long r1 = ns(CLOCK_MONOTONIC_RAW);
        if (span < 0 || r1 - r0 < span) {
            span = r1 - r0;
            long long r = r0 + (r1 - r0) / 2;
            best = (struct offs){rt - r, m - r, r};
        }
    }
    return best;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {}
}

/* adjtime's calls made directly (musl's adjtime(NULL, &old) reads the PLL's offset, not the
 * single-shot one): sets a single-shot offset of `us` µs, returns the one left before. */
static long singleshot_set(long us) {
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET_SINGLESHOT;
    t.offset = us;
    CHECK(adjtimex(&t) >= 0);
    return t.offset;
}

static long left_us(void) {
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET_SS_READ;
    CHECK(adjtimex(&t) >= 0);
    return t.offset;
}

/* Slews by `us` and waits until it is all applied (the offset left is 0, and the second that
 * applied the last part of it is over). */
static void slew_and_wait(long us) {
    singleshot_set(us);
    for (int i = 0; i < 100 && left_us() != 0; i++) sleep_ms(100);
    CHECK(left_us() == 0);
    sleep_ms(1100);
}

static void singleshot(void) {
    struct offs a = offsets();
    long before = singleshot_set(2000);
    printf("offset left before: %ld us\n", before);
    CHECK(before == 0);
    sleep_ms(2200);
    struct offs b = offsets();
    long left = left_us();
    long long drt = b.rt - a.rt, dmono = b.mono - a.mono;
    printf("after %lld ms: realtime %+lld ns, monotonic %+lld ns against raw; %ld us left\n",
           (b.raw - a.raw) / 1000000, drt, dmono, left);
    /* 500 µs in each whole second after the first boundary: 0.6 to 1.1 ms in 2.2 s (a slow
     * sleep adds up to 0.5 ms a second more, up to the 2 ms). */
    CHECK(drt >= 400000 && drt <= 2050000);
    CHECK(llabs(dmono - drt) <= 100000);
    /* 500 µs less at each boundary: 1000 or 500 left (less after a slow sleep). */
    CHECK(left >= 0 && left <= 1600);
    CHECK(left % 500 == 0);
    /* Cancel: what was left is reported; the second under way still applies its part. */
    long applied = 2000 - singleshot_set(0);
    CHECK(left_us() == 0);
    sleep_ms(1100);
    struct offs c = offsets();
    printf("cancelled with %ld us applied: realtime %+lld ns against raw\n", applied,
           c.rt - a.rt);
    CHECK(llabs((c.rt - a.rt) - applied * 1000LL) <= 150000);
    /* Back to where it was. */
    slew_and_wait(-applied);
    struct offs e = offsets();
    printf("slewed back: realtime %+lld ns, monotonic %+lld ns against raw\n", e.rt - a.rt,
           e.mono - a.mono);
    CHECK(llabs(e.rt - a.rt) <= 150000);
}

/* How many of 3000 clock reads (REALTIME, MONOTONIC, BOOTTIME, gettimeofday) entered the
 * kernel: a child whose clock_gettime and gettimeofday system calls fail counts the reads
 * that failed. */
static int reads_entering_kernel(void) {
    pid_t p = fork();
    if (p == 0) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 2, 0),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        };
        struct sock_fprog prog = {sizeof f / sizeof f[0], f};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            _exit(120);
        int n = 0;
        clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME};
        for (int i = 0; i < 3000; i++) {
            struct timespec ts;
            struct timeval tv;
            if (i % 4 == 3 ? gettimeofday(&tv, NULL) != 0 : clock_gettime(ids[i % 4], &ts) != 0)
                n++;
        }
        _exit(n > 110 ? 110 : n);
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 121;
}

/* Rate of MONOTONIC and REALTIME against RAW over ~1 s, in ppm. */
static void rate(double *rt_ppm, double *mono_ppm) {
    struct offs a = offsets();
    sleep_ms(1000);
    struct offs b = offsets();
    double span = (double)(b.raw - a.raw);
    *rt_ppm = (double)(b.rt - a.rt) / span * 1e6;
    *mono_ppm = (double)(b.mono - a.mono) / span * 1e6;
}

static void frequency(void) {
    struct timex t;
    memset(&t, 0, sizeof t);
    CHECK(adjtimex(&t) >= 0);
    long freq = t.freq, tick = t.tick;
    double rt0, m0, rt1, m1, rt2, m2;
    int calls_raw = reads_entering_kernel();
    rate(&rt0, &m0);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_FREQUENCY;
    t.freq = freq + (200L << 16);
    CHECK(adjtimex(&t) >= 0);
    CHECK(t.freq == freq + (200L << 16));
    /* One read in a second may move the clock to its next second through the kernel. */
    int calls_slewed = reads_entering_kernel();
    printf("clock reads entering the kernel: %d of 3000 as it was, %d at +200 ppm\n", calls_raw,
           calls_slewed);
    CHECK(calls_raw < 120 && calls_slewed < 120);
    if (calls_raw <= 2)
        CHECK(calls_slewed <= 2);
    else
        printf("the clock reads enter the kernel here anyway: not checked\n");
    rate(&rt1, &m1);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_FREQUENCY;
    t.freq = freq;
    CHECK(adjtimex(&t) >= 0);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_TICK;
    t.tick = tick + 2;
    CHECK(adjtimex(&t) >= 0);
    CHECK(t.tick == tick + 2);
    rate(&rt2, &m2);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_TICK;
    t.tick = tick;
    CHECK(adjtimex(&t) >= 0);
    printf("ppm against raw: as it was %.1f/%.1f, freq +200 ppm %.1f/%.1f, tick +2 us %.1f/%.1f\n",
           m0, rt0, m1, rt1, m2, rt2);
    CHECK(m1 - m0 >= 120 && m1 - m0 <= 280);
    CHECK(rt1 - rt0 >= 120 && rt1 - rt0 <= 280);
    CHECK(m2 - m0 >= 120 && m2 - m0 <= 280);
    CHECK(rt2 - rt0 >= 120 && rt2 - rt0 <= 280);
    memset(&t, 0, sizeof t);
    CHECK(adjtimex(&t) >= 0);
    CHECK(t.freq == freq && t.tick == tick);
}

static void pll(void) {
    struct timex t;
    memset(&t, 0, sizeof t);
    CHECK(adjtimex(&t) >= 0);
    long freq = t.freq;
    int status = t.status;
    if (status & STA_PLL) {
        printf("the clock is disciplined already (status %#x): PLL part skipped\n", status);
        return;
    }
    struct offs a = offsets();
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS | ADJ_NANO | ADJ_OFFSET | ADJ_TIMECONST;
    t.status = STA_PLL | (status & STA_UNSYNC);
    t.constant = 2;
    t.offset = 1000000; /* 1 ms */
    CHECK(adjtimex(&t) >= 0);
    CHECK(t.status & STA_NANO);
    CHECK(t.constant == 2);
    CHECK(t.offset == 1000000);
    sleep_ms(2200);
    memset(&t, 0, sizeof t);
    CHECK(adjtimex(&t) >= 0);
    struct offs b = offsets();
    long offset = t.offset;
    /* 1/16 of what is left each second: 2 seconds leave 879 µs, 3 leave 824 µs. */
    printf("PLL: offset left %ld ns, freq %ld, realtime %+lld ns against raw\n", offset, t.freq,
           b.rt - a.rt);
    CHECK(offset >= 780000 && offset <= 940000);
    /* The frequency correction scales with the time since the last offset, 0 here: STA_PLL
     * was turned on in the same call (the reference time is then). */
    CHECK(t.freq == freq);
    /* Stop it (a zero offset), restore the frequency and status, step back what it moved. */
    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET | ADJ_FREQUENCY;
    t.offset = 0;
    t.freq = freq;
    CHECK(adjtimex(&t) >= 0);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS | ADJ_MICRO;
    t.status = status;
    CHECK(adjtimex(&t) >= 0);
    CHECK(!(t.status & STA_NANO));
    sleep_ms(1100);
    struct offs c = offsets();
    long long moved = (c.rt - a.rt) - (c.raw - a.raw) * (long long)(freq >> 16) / 1000000;
    CHECK(moved >= 60000 && moved <= 400000);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_SETOFFSET | ADJ_NANO;
    long long back = -moved;
    t.time.tv_sec = back / 1000000000 - 1;
    t.time.tv_usec = back % 1000000000 + 1000000000;
    CHECK(adjtimex(&t) >= 0);
    /* The step cleared the discipline (ntp_clear); the status is put back as it was. */
    memset(&t, 0, sizeof t);
    t.modes = ADJ_MICRO;
    CHECK(adjtimex(&t) >= 0);
    CHECK(t.status & STA_UNSYNC);
    CHECK(t.maxerror == 16000000 && t.esterror == 16000000);
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS;
    t.status = status;
    CHECK(adjtimex(&t) >= 0);
    struct offs e = offsets();
    printf("PLL moved the clock %lld ns; stepped back: %+lld ns\n", moved, e.rt - a.rt);
    CHECK(llabs(e.rt - a.rt) <= 100000);
    printf("after: status %#x (was %#x), freq %ld (was %ld), offset %ld\n", t.status, status,
           t.freq, freq, t.offset);
    CHECK(t.status == status && t.freq == freq && t.offset == 0);
}

/* Reads the status, maximum and estimated error. */
static struct timex now_timex(void) {
    struct timex t;
    memset(&t, 0, sizeof t);
    CHECK(adjtimex(&t) >= 0);
    return t;
}

/* Marks the clock synchronized with small errors (what a daemon does), as a step's
 * starting point; returns the previous state. */
static struct timex mark_synced(void) {
    struct timex old = now_timex();
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
    t.status = old.status & ~STA_UNSYNC & ~STA_PLL;
    t.maxerror = 1000;
    t.esterror = 500;
    CHECK(adjtimex(&t) == TIME_OK);
    CHECK(t.maxerror == 1000 && !(t.status & STA_UNSYNC));
    return old;
}

static void expect_cleared(const char *what) {
    struct timex t = now_timex();
    printf("after %s: status %#x, maxerror %ld, esterror %ld\n", what, t.status, t.maxerror,
           t.esterror);
    CHECK(t.status & STA_UNSYNC);
    CHECK(t.maxerror == 16000000 && t.esterror == 16000000);
    CHECK(adjtimex(&t) == TIME_ERROR);
}

static void step_clears(void) {
    struct timex old = now_timex();
    if (old.status & STA_PLL) {
        printf("the clock is disciplined already: step part skipped\n");
        return;
    }
    /* A step by nothing. */
    mark_synced();
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_SETOFFSET | ADJ_NANO;
    CHECK(adjtimex(&t) == TIME_ERROR);
    CHECK(t.status & STA_NANO);
    expect_cleared("ADJ_SETOFFSET by 0");
    /* A single-shot offset left is dropped by a step. */
    mark_synced();
    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET_SINGLESHOT;
    t.offset = 20000;
    CHECK(adjtimex(&t) >= 0);
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0);
    CHECK(clock_settime(CLOCK_REALTIME, &ts) == 0);
    expect_cleared("clock_settime");
    memset(&t, 0, sizeof t);
    t.modes = ADJ_OFFSET_SS_READ;
    CHECK(adjtimex(&t) >= 0);
    CHECK(t.offset == 0);
    mark_synced();
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0);
    CHECK(settimeofday(&tv, NULL) == 0);
    expect_cleared("settimeofday");
    /* Only the timezone: no step, nothing cleared. */
    mark_synced();
    struct timezone tz;
    CHECK(gettimeofday(&tv, &tz) == 0);
    CHECK(settimeofday(NULL, &tz) == 0);
    t = now_timex();
    CHECK(!(t.status & STA_UNSYNC) && t.maxerror == 1000);
    /* Back as it was. */
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR | ADJ_MICRO;
    t.status = old.status;
    t.maxerror = old.maxerror;
    t.esterror = old.esterror;
    CHECK(adjtimex(&t) >= 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (geteuid() != 0) {
        printf("not root: nothing to test\n");
        DONE();
    }
    /* The clock is the machine's: one run at a time (held to the end). */
    lt_clock_lock();
    singleshot();
    frequency();
    pll();
    step_clears();
    DONE();
}
