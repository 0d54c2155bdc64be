/* Priority-inheritance futexes (LOCK_PI, TRYLOCK_PI, UNLOCK_PI, LOCK_PI2): ownership in the
 * word, EDEADLK/EPERM/EAGAIN/ETIMEDOUT/ESRCH, hand-over to a waiter (which wakes owning the
 * lock), a waiter inheriting the lock of an owner that died (FUTEX_OWNER_DIED), robust PI
 * mutexes through the C library (EOWNERDEAD), get_robust_list, futex_waitv, the clock
 * flag rules, and requeue-PI (WAIT_REQUEUE_PI / CMP_REQUEUE_PI: a waiter on a plain futex
 * moved onto a PI futex, acquiring it at once when it is free). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

static long fx(uint32_t *u, int op, uint32_t val, const struct timespec *t) {
    return syscall(SYS_futex, u, op, val, t, NULL, 0);
}
static pid_t tid(void) { return syscall(SYS_gettid); }

static uint32_t word;
static volatile int step;
static pid_t holder_tid;

static void *holder(void *arg) {
    (void)arg;
    holder_tid = tid();
    if (fx(&word, FUTEX_LOCK_PI, 0, NULL) != 0)
        return (void *)1;
    step = 1;
    while (step < 2)
        lt_sleep_ms(5);
    if (fx(&word, FUTEX_UNLOCK_PI, 0, NULL) != 0)
        return (void *)2;
    return NULL;
}

static void *locker(void *arg) {
    (void)arg;
    long r = fx(&word, FUTEX_LOCK_PI, 0, NULL);
    /* Woken owning it. */
    int mine = (word & FUTEX_TID_MASK) == (uint32_t)tid();
    fx(&word, FUTEX_UNLOCK_PI, 0, NULL);
    return (void *)(intptr_t)(r == 0 && mine ? 0 : 3);
}

static void basics(void) {
    word = 0;
    CHECK_OK(fx(&word, FUTEX_TRYLOCK_PI, 0, NULL));
    CHECK(word == (uint32_t)tid());
    CHECK_ERR(fx(&word, FUTEX_LOCK_PI, 0, NULL), EDEADLK);
    CHECK_ERR(fx(&word, FUTEX_TRYLOCK_PI, 0, NULL), EDEADLK);
    CHECK_OK(fx(&word, FUTEX_UNLOCK_PI, 0, NULL));
    CHECK(word == 0);
    CHECK_ERR(fx(&word, FUTEX_UNLOCK_PI, 0, NULL), EPERM);
    CHECK_OK(fx(&word, FUTEX_LOCK_PI2, 0, NULL));
    CHECK(word == (uint32_t)tid());
    CHECK_OK(fx(&word, FUTEX_UNLOCK_PI, 0, NULL));
    /* The realtime-clock flag: not for LOCK_PI (its clock is fixed), nor for FUTEX_WAIT. */
    CHECK_ERR(fx(&word, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL), ENOSYS);
    CHECK_ERR(fx(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, NULL), ENOSYS);
    /* A word naming no thread, with nobody waiting: ESRCH. */
    word = 0x3ffffff0;
    CHECK_ERR(fx(&word, FUTEX_LOCK_PI, 0, NULL), ESRCH);
    word = 0;
}

static void contention(void) {
    word = 0;
    step = 0;
    pthread_t a, b;
    pthread_create(&a, NULL, holder, NULL);
    while (step < 1)
        lt_sleep_ms(5);
    CHECK(word == (uint32_t)holder_tid);
    CHECK_ERR(fx(&word, FUTEX_TRYLOCK_PI, 0, NULL), EAGAIN);
    /* A timed lock gives up at its (absolute, realtime) deadline. */
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 50 * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    CHECK_ERR(fx(&word, FUTEX_LOCK_PI, 0, &t), ETIMEDOUT);
    pthread_create(&b, NULL, locker, NULL);
    lt_sleep_ms(50);
    CHECK(word == (holder_tid | FUTEX_WAITERS));
    step = 2;
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    CHECK(ra == NULL);
    CHECK(rb == NULL);
    CHECK(word == 0);
}

static void *die_holding(void *arg) {
    (void)arg;
    fx(&word, FUTEX_LOCK_PI, 0, NULL);
    step = 1;
    while (step < 2)
        lt_sleep_ms(5);
    return NULL;
}

static void owner_dies(void) {
    word = 0;
    step = 0;
    pthread_t a;
    pthread_create(&a, NULL, die_holding, NULL);
    while (step < 1)
        lt_sleep_ms(5);
    /* Waiting when the owner exits: this thread inherits it, marked OWNER_DIED. */
    pthread_t w;
    pthread_create(&w, NULL, (void *(*)(void *))locker, NULL);
    lt_sleep_ms(50);
    step = 2;
    pthread_join(a, NULL);
    void *r;
    pthread_join(w, &r);
    CHECK(r == NULL);
}

static pthread_mutex_t robust;
static void *lock_and_leave(void *arg) {
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL;
}

static void robust_pi(void) {
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    CHECK(pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT) == 0);
    CHECK(pthread_mutex_init(&robust, &at) == 0);
    pthread_t a;
    pthread_create(&a, NULL, lock_and_leave, NULL);
    pthread_join(a, NULL);
    CHECK(pthread_mutex_lock(&robust) == EOWNERDEAD);
    CHECK(pthread_mutex_consistent(&robust) == 0);
    CHECK(pthread_mutex_unlock(&robust) == 0);
    CHECK(pthread_mutex_lock(&robust) == 0);
    CHECK(pthread_mutex_unlock(&robust) == 0);
}

static void robust_list(void) {
    struct robust_list_head head = {{&head.list}, 0, NULL}, *got = NULL;
    size_t len = 0;
    CHECK_ERR(syscall(SYS_set_robust_list, &head, sizeof head + 1), EINVAL);
    CHECK_OK(syscall(SYS_set_robust_list, &head, sizeof head));
    CHECK_OK(syscall(SYS_get_robust_list, 0, &got, &len));
    CHECK(got == &head && len == sizeof head);
    got = NULL;
    CHECK_OK(syscall(SYS_get_robust_list, tid(), &got, &len));
    CHECK(got == &head);
    CHECK_ERR(syscall(SYS_get_robust_list, 0x3ffffff0, &got, &len), ESRCH);
    CHECK_ERR(syscall(SYS_get_robust_list, 0, (void *)8, &len), EFAULT);
}

struct waitv {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
};
static uint32_t w1, w2;
static void *wake_second(void *arg) {
    (void)arg;
    lt_sleep_ms(50);
    w2 = 1;
    syscall(SYS_futex, &w2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return NULL;
}

static void waitv(void) {
    struct waitv v[2] = {{0, (uintptr_t)&w1, 2 | 128, 0}, {0, (uintptr_t)&w2, 2 | 128, 0}};
    w1 = w2 = 0;
    pthread_t t;
    pthread_create(&t, NULL, wake_second, NULL);
    CHECK(syscall(SYS_futex_waitv, v, 2, 0, NULL, 0) == 1);
    pthread_join(t, NULL);
    /* A word that already changed: EAGAIN. */
    CHECK_ERR(syscall(SYS_futex_waitv, v, 2, 0, NULL, 0), EAGAIN);
    v[1].val = 1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 30 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    CHECK_ERR(syscall(SYS_futex_waitv, v, 2, 0, &ts, CLOCK_MONOTONIC), ETIMEDOUT);
    CHECK_ERR(syscall(SYS_futex_waitv, v, 2, 0, &ts, CLOCK_PROCESS_CPUTIME_ID), EINVAL);
    CHECK_ERR(syscall(SYS_futex_waitv, v, 0, 0, NULL, 0), EINVAL);
    CHECK_ERR(syscall(SYS_futex_waitv, v, 129, 0, NULL, 0), EINVAL);
    CHECK_ERR(syscall(SYS_futex_waitv, v, 2, 1, NULL, 0), EINVAL);
    v[0].flags = 3; /* 64-bit words do not exist */
    CHECK_ERR(syscall(SYS_futex_waitv, v, 2, 0, NULL, 0), EINVAL);
    v[0].flags = 2;
    v[0].reserved = 1;
    CHECK_ERR(syscall(SYS_futex_waitv, v, 2, 0, NULL, 0), EINVAL);
}

/* Requeue-PI: a condition word and a PI lock word. */
static uint32_t cond, lock2;
static volatile long rq_result = 1234;
static volatile uint32_t rq_owner_seen;
static long rq(uint32_t *u, int op, uint32_t val, const struct timespec *t, uint32_t *u2,
               uint32_t val3) {
    return syscall(SYS_futex, u, op, val, t, u2, val3);
}
static volatile pid_t rq_tid[2];
static void *rq_waiter(void *arg) {
    rq_tid[(long)arg] = tid();
    long r = rq(&cond, FUTEX_WAIT_REQUEUE_PI, 0, NULL, &lock2, 0);
    rq_result = r < 0 ? -errno : r;
    rq_owner_seen = __atomic_load_n(&lock2, __ATOMIC_SEQ_CST);
    if (r == 0) rq(&lock2, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    return (void *)(long)tid();
}
/* CMP_REQUEUE_PI until `want` waiters have been woken or moved in all (each waiter counts
 * once it sleeps in FUTEX_WAIT_REQUEUE_PI; before that the call finds nobody and returns 0). */
static int requeue_until(int want) {
    int done = 0;
    for (int n = 0; n < 4000 && done < want; n++) {
        long r = rq(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)(long)(want - done), &lock2, 0);
        if (r < 0) return -1;
        done += r;
        if (done < want) lt_sleep_ms(5);
    }
    return done;
}
static void requeue_pi(void) {
    /* Errors first. */
    CHECK_ERR(rq(&cond, FUTEX_WAIT_REQUEUE_PI, 0, NULL, &cond, 0), EINVAL);
    CHECK_ERR(rq(&cond, FUTEX_WAIT_REQUEUE_PI, 1, NULL, &lock2, 0), EAGAIN);
    struct timespec soon;
    clock_gettime(CLOCK_MONOTONIC, &soon);
    soon.tv_nsec += 20000000;
    if (soon.tv_nsec >= 1000000000) soon.tv_sec++, soon.tv_nsec -= 1000000000;
    CHECK_ERR(rq(&cond, FUTEX_WAIT_REQUEUE_PI, 0, &soon, &lock2, 0), ETIMEDOUT);
    CHECK_ERR(rq(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, &cond, 0), EINVAL);
    CHECK_ERR(rq(&cond, FUTEX_CMP_REQUEUE_PI, 2, (void *)1, &lock2, 0), EINVAL);
    CHECK_ERR(rq(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, &lock2, 5), EAGAIN);
    CHECK(rq(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, &lock2, 0) == 0);

    /* The lock is free: the requeue takes it for the waiter, which wakes owning it. */
    pthread_t t;
    lock2 = 0;
    rq_result = 1234;
    rq_tid[0] = 0;
    pthread_create(&t, 0, rq_waiter, (void *)0);
    while (!rq_tid[0]) lt_sleep_ms(1);
    lt_sleep_ms(50);
    /* A plain wake does not take a requeue-PI waiter (0 if it is not asleep yet). */
    long w = fx(&cond, FUTEX_WAKE, 1, NULL);
    CHECK(w == 0 || (w == -1 && errno == EINVAL));
    CHECK(requeue_until(1) == 1);
    void *wtid;
    pthread_join(t, &wtid);
    CHECK(rq_result == 0);
    CHECK((rq_owner_seen & FUTEX_TID_MASK) == (uint32_t)(long)wtid);
    CHECK(lock2 == 0);

    /* The lock is held: the waiter is moved onto it and gets it at the unlock. */
    lock2 = tid();
    rq_result = 1234;
    rq_tid[0] = 0;
    pthread_create(&t, 0, rq_waiter, (void *)0);
    CHECK(requeue_until(1) == 1);
    CHECK(lock2 == ((uint32_t)tid() | FUTEX_WAITERS));
    lt_sleep_ms(50);
    CHECK(rq_result == 1234);
    CHECK(fx(&lock2, FUTEX_UNLOCK_PI, 0, NULL) == 0);
    pthread_join(t, &wtid);
    CHECK(rq_result == 0);
    CHECK((rq_owner_seen & FUTEX_TID_MASK) == (uint32_t)(long)wtid);
    CHECK(lock2 == 0);

    /* Two waiters, lock free: one takes it, the other is moved onto it (count 2). */
    lock2 = 0;
    pthread_t t2;
    rq_tid[0] = rq_tid[1] = 0;
    pthread_create(&t, 0, rq_waiter, (void *)0);
    pthread_create(&t2, 0, rq_waiter, (void *)1);
    CHECK(requeue_until(2) == 2);
    pthread_join(t, 0);
    pthread_join(t2, 0);
    CHECK(lock2 == 0);
}

int main(void) {
    requeue_pi();
    basics();
    contention();
    owner_dies();
    robust_pi();
    robust_list();
    waitv();
    DONE();
}
