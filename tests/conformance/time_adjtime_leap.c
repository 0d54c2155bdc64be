/* Leap seconds and the TAI offset through adjtimex, as Linux's NTP code has them
 * (kernel/time/ntp.c):
 * - ADJ_TAI sets the TAI offset (`tai`, 0..100000; other values are ignored), and
 *   CLOCK_TAI = CLOCK_REALTIME + tai;
 * - STA_INS (STA_DEL) asks for a leap second at the next UTC midnight: at the clock's next
 *   second boundary adjtimex returns TIME_INS (TIME_DEL), and TIME_OK again at the boundary
 *   after the bit is cleared; an unsynchronized clock (STA_UNSYNC) returns TIME_ERROR instead.
 * The midnight itself (TIME_OOP, the wall clock and tai stepping, TIME_WAIT) is not waited
 * for: libs/ntp's unit tests run the state machine through one.
 * This runs as root on the host too: it keeps away from a UTC midnight, and puts the status,
 * errors and tai back as they were. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timex now_timex(int *state) {
    struct timex t;
    memset(&t, 0, sizeof t);
    int r = adjtimex(&t);
    CHECK(r >= 0);
    if (state) *state = r;
    return t;
}

/* Sets the status (with ADJ_STATUS), returns adjtimex's state. */
static int set_status(int status) {
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS;
    t.status = status;
    int r = adjtimex(&t);
    CHECK(r >= 0);
    return r;
}

/* Polls adjtimex for up to 2.5 s until it returns `want`; returns the last state. */
static int wait_state(int want) {
    int state = -1;
    for (int i = 0; i < 25; i++) {
        now_timex(&state);
        if (state == want) break;
        lt_sleep_ms(100);
    }
    return state;
}

/* CLOCK_TAI - CLOCK_REALTIME in ns, the closest of a few reads. */
static long long tai_minus_rt(void) {
    long long best = 0, span = -1;
    for (int i = 0; i < 5; i++) {
        long long a = ns(CLOCK_REALTIME), t = ns(CLOCK_TAI), b = ns(CLOCK_REALTIME);
        if (span < 0 || b - a < span) {
            span = b - a;
            best = t - (a + (b - a) / 2);
        }
    }
    return best;
}

static void set_tai(int tai, int expect) {
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_TAI;
    t.constant = tai;
    CHECK(adjtimex(&t) >= 0);
    CHECK(t.tai == expect);
}

static void tai(int old) {
    set_tai(old + 1, old + 1);
    long long d = tai_minus_rt();
    printf("tai %d: CLOCK_TAI - CLOCK_REALTIME = %lld ns\n", old + 1, d);
    CHECK(llabs(d - (old + 1) * 1000000000LL) < 10000000);
    /* Out of range: ignored. */
    set_tai(-1, old + 1);
    set_tai(100001, old + 1);
    set_tai(old, old);
    d = tai_minus_rt();
    CHECK(llabs(d - old * 1000000000LL) < 10000000);
}

static void leap(int status) {
    int synced = status & ~STA_UNSYNC;
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
    t.status = synced;
    t.maxerror = 1000;
    t.esterror = 500;
    CHECK(adjtimex(&t) == TIME_OK);
    long long tai0 = tai_minus_rt();
    set_status(synced | STA_INS);
    int st = wait_state(TIME_INS);
    printf("STA_INS: state %d\n", st);
    CHECK(st == TIME_INS);
    CHECK(now_timex(NULL).status & STA_INS);
    /* Unsynchronized, the state is TIME_ERROR whatever the leap state. */
    CHECK(set_status(synced | STA_INS | STA_UNSYNC) == TIME_ERROR);
    CHECK(set_status(synced | STA_INS) == TIME_INS);
    set_status(synced);
    st = wait_state(TIME_OK);
    printf("cleared: state %d\n", st);
    CHECK(st == TIME_OK);
    set_status(synced | STA_DEL);
    st = wait_state(TIME_DEL);
    printf("STA_DEL: state %d\n", st);
    CHECK(st == TIME_DEL);
    set_status(synced);
    st = wait_state(TIME_OK);
    CHECK(st == TIME_OK);
    /* Nothing stepped. */
    CHECK(llabs(tai_minus_rt() - tai0) < 10000000);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (geteuid() != 0) {
        printf("not root: nothing to test\n");
        DONE();
    }
    /* The clock is the machine's: one run at a time (held to the end). */
    lt_clock_lock();
    /* Keep 30 s away from a UTC midnight, where an armed leap second would be taken. */
    for (;;) {
        long sod = (long)(ns(CLOCK_REALTIME) / 1000000000LL % 86400);
        if (sod >= 30 && sod <= 86400 - 30) break;
        printf("UTC midnight near: waiting\n");
        lt_sleep_ms(5000);
    }
    int state;
    struct timex old = now_timex(&state);
    printf("before: state %d, status %#x, tai %d\n", state, old.status, old.tai);
    tai(old.tai);
    if (old.status & (STA_PLL | STA_INS | STA_DEL)) {
        printf("the clock is disciplined already (status %#x): leap part skipped\n", old.status);
        DONE();
    }
    leap(old.status);
    /* Back as it was. */
    struct timex t;
    memset(&t, 0, sizeof t);
    t.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
    t.status = old.status;
    t.maxerror = old.maxerror;
    t.esterror = old.esterror;
    CHECK(adjtimex(&t) >= 0);
    struct timex after = now_timex(&state);
    printf("after: state %d, status %#x, tai %d\n", state, after.status, after.tai);
    CHECK(after.status == old.status && after.tai == old.tai);
    DONE();
}
