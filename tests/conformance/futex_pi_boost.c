/* Priority inheritance of PI futexes (Linux's rt_mutex under FUTEX_LOCK_PI): a SCHED_FIFO
 * waiter lends its priority to the lock's owner (also along a chain of owners each waiting
 * on the next lock), the boost ends at unlock and when the waiter gives up (timeout), and
 * sched_getparam/sched_getscheduler still show the owner's own policy and priority while
 * /proc/PID/task/TID/stat's priority field (task_prio) shows the boosted one. The classic
 * inversion with a PTHREAD_PRIO_INHERIT mutex, everything on one CPU: low (10) holds it,
 * high (30) waits, middle (20) spins, and high gets the lock before middle's spin ends.
 * UNLOCK_PI hands the lock to the highest-priority waiter (FIFO among equals), FUTEX_WAKE
 * wakes plain waiters by priority too, and an ABBA cycle of PI locks is EDEADLK.
 * Needs root (SCHED_FIFO); prints a skip and passes otherwise. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

static long fx(uint32_t *u, int op, uint32_t val, const struct timespec *t) {
    return syscall(SYS_futex, u, op, val, t, NULL, 0);
}
static pid_t gettid_(void) { return syscall(SYS_gettid); }
/* The system calls themselves: musl's sched_getparam and sched_getscheduler are ENOSYS stubs. */
static long getparam_(pid_t tid, struct sched_param *sp) {
    return syscall(SYS_sched_getparam, tid, sp);
}
static long getscheduler_(pid_t tid) { return syscall(SYS_sched_getscheduler, tid); }

/* Sets the calling thread to SCHED_FIFO at `prio`. */
static int fifo(int prio) {
    struct sched_param sp = {.sched_priority = prio};
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

/* Field 18 (priority, Linux's task_prio: -1 - the effective real-time priority) of thread
 * `tid`'s /proc stat. */
static int stat_prio(pid_t tid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    if (lt_slurp(path, buf, sizeof buf) <= 0) return 1000;
    char *p = strrchr(buf, ')');
    if (!p) return 1000;
    p += 2; /* field 3 */
    for (int field = 3; field < 18; field++) {
        p = strchr(p, ' ');
        if (!p) return 1000;
        p++;
    }
    return atoi(p);
}

/* CPU time of the calling thread in ms. */
static long cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Every thread of the (forked) test process on one CPU: the first the process may use. */
static void one_cpu(void) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CHECK_OK(sched_getaffinity(0, sizeof s, &s));
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &s))
        cpu++;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    CHECK_OK(sched_setaffinity(0, sizeof s, &s));
}

static void wait_for(volatile int *flag) {
    long end = lt_now_ms() + 5000;
    while (!*flag && lt_now_ms() < end)
        lt_sleep_ms(1);
}

/* ---- The classic inversion ---- */

static pthread_mutex_t pim;
static volatile int low_locked, middle_done, high_got, high_saw_middle_done;
static volatile pid_t low_tid;
static volatile int low_param = -1, low_policy = -1;

static void *low_main(void *arg) {
    (void)arg;
    fifo(10);
    low_tid = gettid_();
    pthread_mutex_lock(&pim);
    low_locked = 1;
    /* 50 ms of work on the CPU. */
    long start = cpu_ms(), end = lt_now_ms() + 5000;
    while (cpu_ms() - start < 50 && lt_now_ms() < end) {
    }
    /* Boosted by now (high waits): its own policy and priority are what it shows. */
    struct sched_param sp;
    if (getparam_(0, &sp) == 0) low_param = sp.sched_priority;
    low_policy = getscheduler_(0);
    pthread_mutex_unlock(&pim);
    return NULL;
}

static void *middle_main(void *arg) {
    (void)arg;
    fifo(20);
    /* Spins 800 ms of wall time, a CPU hog that keeps low off the CPU without inheritance. */
    long end = lt_now_ms() + 800;
    while (lt_now_ms() < end) {
    }
    middle_done = 1;
    return NULL;
}

static void *high_main(void *arg) {
    (void)arg;
    fifo(30);
    pthread_mutex_lock(&pim);
    high_saw_middle_done = middle_done;
    high_got = 1;
    pthread_mutex_unlock(&pim);
    return NULL;
}

static void inversion(void) {
    one_cpu();
    CHECK_OK(fifo(50));
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    CHECK(pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT) == 0);
    CHECK(pthread_mutex_init(&pim, &at) == 0);
    pthread_t lo, mid, hi;
    pthread_create(&lo, NULL, low_main, NULL);
    wait_for(&low_locked);
    pthread_create(&mid, NULL, middle_main, NULL);
    lt_sleep_ms(20);
    pthread_create(&hi, NULL, high_main, NULL);
    pthread_join(hi, NULL);
    pthread_join(mid, NULL);
    pthread_join(lo, NULL);
    CHECK(low_locked && high_got);
    /* With inheritance, low ran at high's priority, before middle. */
    CHECK(high_saw_middle_done == 0);
    CHECK(low_param == 10);
    CHECK(low_policy == SCHED_FIFO);
}

/* ---- Boost seen from outside, along a chain, undone at timeout and unlock ---- */

static uint32_t l1, l2;
static volatile int a_holds, b_waits, a_release, b_result = -1;
static volatile pid_t a_tid, b_tid;

/* a: FIFO 10, owns l1 until told. */
static void *a_main(void *arg) {
    (void)arg;
    fifo(10);
    a_tid = gettid_();
    if (fx(&l1, FUTEX_LOCK_PI_PRIVATE, 0, NULL) == 0) a_holds = 1;
    while (!a_release)
        lt_sleep_ms(1);
    fx(&l1, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    return NULL;
}

/* b: FIFO 15, owns l2, then waits for l1 (a chain: c -> l2 -> b -> l1 -> a). */
static void *b_main(void *arg) {
    (void)arg;
    fifo(15);
    b_tid = gettid_();
    fx(&l2, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
    b_waits = 1;
    b_result = fx(&l1, FUTEX_LOCK_PI_PRIVATE, 0, NULL) == 0 ? 0 : errno;
    fx(&l1, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    fx(&l2, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    return NULL;
}

static volatile int c_result = -1;

/* c: FIFO 40, waits for l2 for 500 ms (LOCK_PI's timeout: absolute, CLOCK_REALTIME). */
static void *c_main(void *arg) {
    (void)arg;
    fifo(40);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 500 * 1000000L;
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    c_result = fx(&l2, FUTEX_LOCK_PI_PRIVATE, 0, &t) == 0 ? 0 : errno;
    if (c_result == 0) fx(&l2, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    return NULL;
}

static void chain(void) {
    one_cpu();
    CHECK_OK(fifo(50));
    pthread_t a, b, c;
    pthread_create(&a, NULL, a_main, NULL);
    wait_for(&a_holds);
    CHECK(stat_prio(a_tid) == -11);
    pthread_create(&b, NULL, b_main, NULL);
    wait_for(&b_waits);
    lt_sleep_ms(30);
    /* b (15) waits for a's lock: a runs at 15. */
    CHECK(stat_prio(a_tid) == -16);
    CHECK(stat_prio(b_tid) == -16);
    pthread_create(&c, NULL, c_main, NULL);
    lt_sleep_ms(50);
    /* c (40) waits for b's lock, b for a's: both run at 40 and still report their own. */
    CHECK(stat_prio(b_tid) == -41);
    CHECK(stat_prio(a_tid) == -41);
    struct sched_param sp = {0};
    CHECK_OK(getparam_(a_tid, &sp));
    CHECK(sp.sched_priority == 10);
    CHECK(getscheduler_(a_tid) == SCHED_FIFO);
    /* c gives up at its timeout: the boost it lent is taken back along the chain. */
    pthread_join(c, NULL);
    CHECK(c_result == ETIMEDOUT);
    CHECK(stat_prio(b_tid) == -16);
    CHECK(stat_prio(a_tid) == -16);
    /* a unlocks: l1 goes to b, and a is back to its own priority. */
    a_release = 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK(b_result == 0);
    CHECK(l1 == 0 && l2 == 0);
}

/* A boosted SCHED_OTHER owner: sched_getscheduler still says SCHED_OTHER. After its unlock
 * it stays until the main thread has read its stat (o_exit): the main thread reads it after
 * joining the waiter, and o would run on to its exit (its stat gone) if the main thread
 * slept on anything in between. */
static volatile int o_holds, o_release, o_unlocked, o_exit, w_saw_unlocked = -1;
static volatile pid_t o_tid;
static void *other_main(void *arg) {
    (void)arg;
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
    o_tid = gettid_();
    if (fx(&l1, FUTEX_LOCK_PI_PRIVATE, 0, NULL) == 0) o_holds = 1;
    while (!o_release)
        lt_sleep_ms(1);
    fx(&l1, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    o_unlocked = 1;
    while (!o_exit)
        lt_sleep_ms(1);
    return NULL;
}
/* w: o's unlock gives it the lock and takes o's boost back, so w (FIFO 25) runs before o
 * (SCHED_OTHER again) is back from the unlock. */
static void *wait_l1(void *arg) {
    fifo((int)(intptr_t)arg);
    if (fx(&l1, FUTEX_LOCK_PI_PRIVATE, 0, NULL) == 0) {
        w_saw_unlocked = o_unlocked;
        fx(&l1, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    }
    return NULL;
}

static void other_owner(void) {
    one_cpu();
    CHECK_OK(fifo(50));
    l1 = 0;
    pthread_t o, w;
    pthread_create(&o, NULL, other_main, NULL);
    wait_for(&o_holds);
    int before = stat_prio(o_tid);
    CHECK(before >= 0 && before < 40);
    pthread_create(&w, NULL, wait_l1, (void *)(intptr_t)25);
    lt_sleep_ms(30);
    CHECK(stat_prio(o_tid) == -26);
    CHECK(getscheduler_(o_tid) == SCHED_OTHER);
    struct sched_param sp = {1};
    CHECK_OK(getparam_(o_tid, &sp));
    CHECK(sp.sched_priority == 0);
    o_release = 1;
    pthread_join(w, NULL);
    CHECK(w_saw_unlocked == 0);
    CHECK(stat_prio(o_tid) == before);
    o_exit = 1;
    pthread_join(o, NULL);
}

/* ---- Hand-over and wake-up order ---- */

static volatile int order[8], norder;
static uint32_t word;

struct who {
    int id, prio;
    int pi;
};

static void *pi_waiter(void *arg) {
    struct who *w = arg;
    fifo(w->prio);
    if (w->pi) {
        if (fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL) != 0) return NULL;
        order[norder++] = w->id;
        fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    } else {
        while (fx(&word, FUTEX_WAIT_PRIVATE, 0, NULL) != 0 && errno == EINTR) {
        }
        order[norder++] = w->id;
    }
    return NULL;
}

/* Waiters 1 (prio 10), 2 (20) and 3 (20) queue in that order; the lock (or one wake-up at a
 * time) goes to 2, 3, then 1. */
static void by_priority(int pi) {
    one_cpu();
    CHECK_OK(fifo(50));
    word = 0;
    norder = 0;
    if (pi) CHECK_OK(fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL));
    static struct who ws[3] = {{1, 10, 0}, {2, 20, 0}, {3, 20, 0}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        ws[i].pi = pi;
        pthread_create(&t[i], NULL, pi_waiter, &ws[i]);
        lt_sleep_ms(20);
    }
    if (pi) {
        CHECK_OK(fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL));
    } else {
        for (int i = 0; i < 3; i++) {
            CHECK(fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL) == 1);
            lt_sleep_ms(20);
        }
    }
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CHECK(norder == 3);
    CHECK(order[0] == 2 && order[1] == 3 && order[2] == 1);
    if (order[0] != 2 || order[1] != 3 || order[2] != 1)
        printf("order %d %d %d\n", order[0], order[1], order[2]);
}

static void unlock_order(void) { by_priority(1); }
static void wake_order(void) { by_priority(0); }

/* ---- Deadlock: an ABBA cycle of PI locks ---- */

static volatile int x_holds;
static void *x_main(void *arg) {
    (void)arg;
    fx(&l2, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
    x_holds = 1;
    /* Waits for l1, held by the main thread. */
    long r = fx(&l1, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
    if (r == 0) fx(&l1, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    fx(&l2, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
    return NULL;
}

static void deadlock(void) {
    l1 = l2 = 0;
    CHECK_OK(fx(&l1, FUTEX_LOCK_PI_PRIVATE, 0, NULL));
    pthread_t x;
    pthread_create(&x, NULL, x_main, NULL);
    wait_for(&x_holds);
    lt_sleep_ms(50);
    /* x holds l2 and waits for l1, ours: waiting for l2 would close the cycle. */
    CHECK_ERR(fx(&l2, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EDEADLK);
    CHECK_OK(fx(&l1, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL));
    pthread_join(x, NULL);
    CHECK(l1 == 0 && l2 == 0);
}

int main(void) {
    lt_sub("deadlock", deadlock, 10000);
    if (geteuid() != 0) {
        printf("SKIP the SCHED_FIFO parts: not running as root\n");
        DONE();
    }
    lt_sub("inversion", inversion, 20000);
    lt_sub("chain", chain, 20000);
    lt_sub("other_owner", other_owner, 20000);
    lt_sub("unlock_order", unlock_order, 20000);
    lt_sub("wake_order", wake_order, 20000);
    DONE();
}
