/* futex(2) through the raw system call: FUTEX_WAIT/WAKE (value mismatch, relative timeouts,
 * no waiters, a woken thread), the PRIVATE variants, WAIT_BITSET/WAKE_BITSET (disjoint
 * bitsets, bitset 0, absolute timeouts on CLOCK_MONOTONIC and CLOCK_REALTIME), REQUEUE and
 * CMP_REQUEUE, WAKE_OP, argument errors (alignment, bad addresses, bad timeouts, unknown
 * operations), a shared futex in MAP_SHARED memory woken across fork(), a shared futex
 * operation on a private page that a fork and a write made this process copy, and a
 * requeued waiter whose timeout or signal takes it off the queue it was moved to. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h> values (musl-gcc has no kernel headers). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_REQUEUE_PRIVATE (FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_ANDN 3
#define FUTEX_OP_XOR 4
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_NE 1
#define FUTEX_OP_CMP_LT 2
#define FUTEX_OP_CMP_LE 3
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP_CMP_GE 5
#define FUTEX_OP(op, oparg, cmp, cmparg)                                                  \
    ((int)((((unsigned)(op)&0xf) << 28) | (((unsigned)(cmp)&0xf) << 24) |                 \
           (((unsigned)(oparg)&0xfff) << 12) | ((unsigned)(cmparg)&0xfff)))

static long futex(void *uaddr, int op, int val, const struct timespec *to, void *uaddr2,
                  int val3) {
    return syscall(SYS_futex, uaddr, op, val, to, uaddr2, val3);
}

/* The REQUEUE/WAKE_OP operations take a count in place of the timeout pointer. */
#define VAL2(n) ((const struct timespec *)(uintptr_t)(n))

static long now_ms(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static struct timespec abs_after(clockid_t clk, long ms) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_nsec += (ms % 1000) * 1000000L;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

/* A waiter thread: waits on `word` (expecting `val`) with operation `op` and `bitset`, and
 * records the return value and errno of its single futex call. */
struct waiter {
    pthread_t th;
    int *word;
    int op;
    int val;
    int bitset;
    volatile int started;
    volatile int done;
    long ret;
    int err;
};

static void *waiter_main(void *arg) {
    struct waiter *w = arg;
    __atomic_store_n(&w->started, 1, __ATOMIC_SEQ_CST);
    errno = 0;
    w->ret = futex(w->word, w->op, w->val, NULL, NULL, w->bitset);
    w->err = errno;
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void start_waiter(struct waiter *w, int *word, int op, int val, int bitset) {
    memset(w, 0, sizeof(*w));
    w->word = word;
    w->op = op;
    w->val = val;
    w->bitset = bitset;
    CHECK(pthread_create(&w->th, NULL, waiter_main, w) == 0);
    for (int i = 0; i < 2000 && !__atomic_load_n(&w->started, __ATOMIC_SEQ_CST); i++) sleep_ms(1);
    CHECK(w->started);
}

/* Calls `op` on `word` until it reports `want` woken tasks (the waiters may not be asleep
 * yet); returns the last result. */
static long wake_until(int *word, int op, int n, int bitset, long want) {
    long r = -1;
    for (int i = 0; i < 2000; i++) {
        r = futex(word, op, n, NULL, NULL, bitset);
        if (r == want || r < 0) break;
        sleep_ms(1);
    }
    return r;
}

static void join_waiter(struct waiter *w, long want_ret) {
    CHECK(pthread_join(w->th, NULL) == 0);
    CHECK(w->done);
    if (w->ret != want_ret) {
        printf("waiter returned %ld errno %d, expected %ld\n", w->ret, w->err, want_ret);
        lt_failures++;
    }
}

static int word1, word2;

/* FUTEX_WAIT_PRIVATE on word1 (for 0) with a timeout of `arg` ms: 0 or the errno. */
static void *timed_waiter(void *arg) {
    long ms = (long)(intptr_t)arg;
    struct timespec to = {ms / 1000, (ms % 1000) * 1000000L};
    long r = futex(&word1, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0);
    return (void *)(intptr_t)(r == 0 ? 0 : errno);
}

static void on_usr1(int sig) { (void)sig; }

/* A waiter moved from word1 to word2 by REQUEUE leaves word2's queue when its wait ends by
 * the timeout (`by_signal` 0) or by a signal: a wake of word2 afterwards finds no one. */
static void requeued_leaves(int by_signal) {
    word1 = 0;
    word2 = 0;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, timed_waiter, (void *)(intptr_t)(by_signal ? 20000 : 1000)) == 0);
    long moved = 0;
    for (int i = 0; i < 500 && moved == 0; i++) {
        moved = futex(&word1, FUTEX_REQUEUE_PRIVATE, 0, VAL2(1), &word2, 0);
        if (moved == 0) sleep_ms(1);
    }
    CHECK(moved == 1);
    if (by_signal) CHECK(pthread_kill(th, SIGUSR1) == 0);
    void *ret = NULL;
    CHECK(pthread_join(th, &ret) == 0);
    CHECK((intptr_t)ret == (by_signal ? EINTR : ETIMEDOUT));
    CHECK(futex(&word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
    CHECK(futex(&word1, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
}

/* A private page (.bss) for the copy-on-write case. */
static int cow_page[1024] __attribute__((aligned(4096)));

static void *cow_waiter(void *arg) {
    (void)arg;
    struct timespec to = {5, 0};
    long r = futex(&cow_page[0], FUTEX_WAIT, 0, &to, NULL, 0);
    return (void *)(intptr_t)(r == 0 ? 0 : errno);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    /* ---- FUTEX_WAIT / FUTEX_WAKE basics ---- */
    word1 = 5;
    CHECK_ERR(futex(&word1, FUTEX_WAIT, 4, NULL, NULL, 0), EAGAIN);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0), EAGAIN);
    CHECK(futex(&word1, FUTEX_WAKE, 1, NULL, NULL, 0) == 0);
    CHECK(futex(&word1, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
    CHECK(futex(&word1, FUTEX_WAKE, 0, NULL, NULL, 0) == 0);
    CHECK(word1 == 5);

    /* Relative timeout: FUTEX_WAIT returns ETIMEDOUT after at least the time. */
    struct timespec rel = {0, 50 * 1000000L};
    long t0 = now_ms(CLOCK_MONOTONIC);
    CHECK_ERR(futex(&word1, FUTEX_WAIT, 5, &rel, NULL, 0), ETIMEDOUT);
    long dt = now_ms(CLOCK_MONOTONIC) - t0;
    if (!(dt >= 49 && dt < 1000)) printf("futex wait of 50 ms took %ld ms\n", dt);
    CHECK(dt >= 49 && dt < 1000);
    t0 = now_ms(CLOCK_MONOTONIC);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_PRIVATE, 5, &rel, NULL, 0), ETIMEDOUT);
    dt = now_ms(CLOCK_MONOTONIC) - t0;
    if (!(dt >= 49 && dt < 1000)) printf("futex wait of 50 ms took %ld ms\n", dt);
    CHECK(dt >= 49 && dt < 1000);
    /* A zero timeout expires at once; the value is still compared first. */
    struct timespec zero = {0, 0};
    struct timespec short_to = {0, 10 * 1000000L};
    CHECK_ERR(futex(&word1, FUTEX_WAIT, 5, &zero, NULL, 0), ETIMEDOUT);
    CHECK_ERR(futex(&word1, FUTEX_WAIT, 7, &zero, NULL, 0), EAGAIN);

    /* Bad timeouts. */
    struct timespec badns = {0, 1000000000L};
    CHECK_ERR(futex(&word1, FUTEX_WAIT, 5, &badns, NULL, 0), EINVAL);
    struct timespec negns = {0, -1};
    CHECK_ERR(futex(&word1, FUTEX_WAIT_PRIVATE, 5, &negns, NULL, 0), EINVAL);
    struct timespec negsec = {-1, 0};
    CHECK_ERR(futex(&word1, FUTEX_WAIT, 5, &negsec, NULL, 0), EINVAL);

    /* ---- A thread waiting and being woken ---- */
    struct waiter w, w2;
    word1 = 0;
    start_waiter(&w, &word1, FUTEX_WAIT, 0, 0);
    CHECK(wake_until(&word1, FUTEX_WAKE, 1, 0, 1) == 1);
    join_waiter(&w, 0);
    CHECK(futex(&word1, FUTEX_WAKE, 1, NULL, NULL, 0) == 0);

    start_waiter(&w, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    CHECK(wake_until(&word1, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 1) == 1);
    join_waiter(&w, 0);

    /* Two waiters, WAKE 1 wakes exactly one, then the other. */
    start_waiter(&w, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    start_waiter(&w2, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    /* Park both on word2 first (CMP_REQUEUE with no wakes) so both are known asleep. */
    word2 = 0;
    {
        long moved = 0;
        for (int i = 0; i < 2000 && moved < 2; i++) {
            long r = futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, 0, VAL2(INT_MAX), &word2, 0);
            CHECK(r >= 0);
            if (r < 0) break;
            moved += r;
            if (moved < 2) sleep_ms(1);
        }
        CHECK(moved == 2);
    }
    CHECK(futex(&word1, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
    CHECK(futex(&word2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 1);
    /* The woken one finishes (on a loaded host, or under qemu-user, that can take a while);
     * the other stays asleep. */
    for (int i = 0; i < 2000 && w.done + w2.done == 0; i++) sleep_ms(1);
    sleep_ms(20);
    CHECK(w.done + w2.done == 1);
    CHECK(futex(&word2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 1);
    join_waiter(&w, 0);
    join_waiter(&w2, 0);
    CHECK(futex(&word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);

    /* ---- Bitsets ---- */
    word1 = 3;
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET, 3, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET_PRIVATE, 3, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&word1, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&word1, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET, 4, NULL, NULL, 1), EAGAIN);
    CHECK(futex(&word1, FUTEX_WAKE_BITSET, 1, NULL, NULL, 1) == 0);

    word1 = 0;
    start_waiter(&w, &word1, FUTEX_WAIT_BITSET_PRIVATE, 0, 0x1);
    sleep_ms(20);
    for (int i = 0; i < 10; i++) {
        CHECK(futex(&word1, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x2) == 0);
        CHECK(futex(&word1, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0xfffffffe) == 0);
        sleep_ms(1);
    }
    CHECK(!w.done);
    CHECK(wake_until(&word1, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 0x3, 1) == 1);
    join_waiter(&w, 0);
    /* A plain FUTEX_WAKE uses a full bitset, and a plain FUTEX_WAIT matches any bitset. */
    start_waiter(&w, &word1, FUTEX_WAIT_BITSET_PRIVATE, 0, 0x80000000);
    CHECK(wake_until(&word1, FUTEX_WAKE_PRIVATE, 1, 0, 1) == 1);
    join_waiter(&w, 0);
    start_waiter(&w, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    CHECK(wake_until(&word1, FUTEX_WAKE_BITSET_PRIVATE, 1, 0x100, 1) == 1);
    join_waiter(&w, 0);

    /* WAIT_BITSET takes an absolute timeout: CLOCK_MONOTONIC by default... */
    word1 = 9;
    struct timespec abs = abs_after(CLOCK_MONOTONIC, 50);
    t0 = now_ms(CLOCK_MONOTONIC);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET, 9, &abs, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    dt = now_ms(CLOCK_MONOTONIC) - t0;
    CHECK(dt >= 45 && dt < 1000);
    {
        struct timespec after;
        clock_gettime(CLOCK_MONOTONIC, &after);
        CHECK(after.tv_sec > abs.tv_sec || (after.tv_sec == abs.tv_sec && after.tv_nsec >= abs.tv_nsec));
    }
    /* ...and CLOCK_REALTIME with FUTEX_CLOCK_REALTIME. */
    abs = abs_after(CLOCK_REALTIME, 50);
    t0 = now_ms(CLOCK_MONOTONIC);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 9, &abs, NULL,
                    FUTEX_BITSET_MATCH_ANY),
              ETIMEDOUT);
    dt = now_ms(CLOCK_MONOTONIC) - t0;
    CHECK(dt >= 45 && dt < 1000);
    {
        struct timespec after;
        clock_gettime(CLOCK_REALTIME, &after);
        CHECK(after.tv_sec > abs.tv_sec || (after.tv_sec == abs.tv_sec && after.tv_nsec >= abs.tv_nsec));
    }
    /* An absolute time in the past expires at once: a realtime deadline that is far in the
     * past of the monotonic clock too (1 s after the epoch), and the monotonic time 0. */
    struct timespec past = {1, 0};
    t0 = now_ms(CLOCK_MONOTONIC);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 9, &past, NULL, 1), ETIMEDOUT);
    struct timespec mono0 = {0, 0};
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET, 9, &mono0, NULL, 1), ETIMEDOUT);
    CHECK(now_ms(CLOCK_MONOTONIC) - t0 < 500);
    /* Invalid absolute timeouts. */
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET, 9, &badns, NULL, 1), EINVAL);
    CHECK_ERR(futex(&word1, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 9, &negsec, NULL, 1), EINVAL);

    /* FUTEX_CLOCK_REALTIME is only for the waiting operations. */
    CHECK_ERR(futex(&word1, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
    CHECK_ERR(futex(&word1, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
    CHECK_ERR(futex(&word1, FUTEX_REQUEUE | FUTEX_CLOCK_REALTIME, 1, VAL2(1), &word2, 0), ENOSYS);
    CHECK_ERR(futex(&word1, FUTEX_WAKE_OP | FUTEX_CLOCK_REALTIME, 1, VAL2(1), &word2, 0), ENOSYS);
    /* Unknown operations. */
    CHECK_ERR(futex(&word1, 99, 1, NULL, NULL, 0), ENOSYS);
    CHECK_ERR(futex(&word1, 99 | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0), ENOSYS);

    /* ---- REQUEUE and CMP_REQUEUE ---- */
    word1 = 1;
    word2 = 2;
    CHECK_ERR(futex(&word1, FUTEX_CMP_REQUEUE, 1, VAL2(1), &word2, 0), EAGAIN);
    CHECK_ERR(futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, 1, VAL2(1), &word2, 2), EAGAIN);
    CHECK(futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, 1, VAL2(1), &word2, 1) == 0);
    CHECK(futex(&word1, FUTEX_REQUEUE_PRIVATE, 1, VAL2(1), &word2, 12345) == 0);
    CHECK(futex(&word1, FUTEX_REQUEUE, 1, VAL2(1), &word2, 0) == 0);
    CHECK_ERR(futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, -1, VAL2(1), &word2, 1), EINVAL);
    CHECK_ERR(futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, 1, VAL2(-1), &word2, 1), EINVAL);

    /* Two waiters on word1; CMP_REQUEUE(wake 0, requeue all) moves them to word2. */
    word1 = 0;
    word2 = 0;
    start_waiter(&w, &word1, FUTEX_WAIT, 0, 0);
    start_waiter(&w2, &word1, FUTEX_WAIT, 0, 0);
    {
        long moved = 0;
        for (int i = 0; i < 2000 && moved < 2; i++) {
            long r = futex(&word1, FUTEX_CMP_REQUEUE, 0, VAL2(INT_MAX), &word2, 0);
            CHECK(r >= 0);
            if (r < 0) break;
            moved += r;
            if (moved < 2) sleep_ms(1);
        }
        CHECK(moved == 2);
    }
    /* Both now sleep on word2: nothing is left on word1. */
    CHECK(futex(&word1, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) == 0);
    sleep_ms(10);
    CHECK(!w.done && !w2.done);
    /* Back to word1, waking one and requeueing the other: the result counts both. */
    CHECK(futex(&word2, FUTEX_CMP_REQUEUE, 1, VAL2(1), &word1, 0) == 2);
    CHECK(futex(&word2, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) == 0);
    for (int i = 0; i < 2000 && w.done + w2.done == 0; i++) sleep_ms(1);
    sleep_ms(20);
    CHECK(w.done + w2.done == 1);
    /* Plain REQUEUE (no comparison) moves the remaining one to word2; the return value
     * also counts the requeued waiter. */
    CHECK(futex(&word1, FUTEX_REQUEUE, 0, VAL2(5), &word2, 0) == 1);
    CHECK(futex(&word1, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) == 0);
    CHECK(futex(&word2, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) == 1);
    join_waiter(&w, 0);
    join_waiter(&w2, 0);

    /* nr_requeue limits the number moved; nr_wake limits the number woken. */
    start_waiter(&w, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    start_waiter(&w2, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    {
        long moved = 0;
        for (int i = 0; i < 2000 && moved < 2; i++) {
            long r = futex(&word1, FUTEX_REQUEUE_PRIVATE, 0, VAL2(1), &word2, 0);
            CHECK(r == 0 || r == 1);
            if (r < 0) break;
            moved += r;
            if (moved < 2) sleep_ms(1);
        }
        CHECK(moved == 2);
    }
    CHECK(futex(&word1, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
    CHECK(futex(&word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 2);
    join_waiter(&w, 0);
    join_waiter(&w2, 0);

    /* A requeued waiter whose wait ends otherwise is off the queue it was moved to. */
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
        requeued_leaves(0);
        requeued_leaves(1);
    }

    /* ---- WAKE_OP ---- */
    word1 = 0;
    word2 = 0;
    CHECK(futex(&word1, FUTEX_WAKE_OP, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)) == 0);
    CHECK(word2 == 1);
    CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)) == 0);
    CHECK(word2 == 2);
    CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_SET, 0x10, FUTEX_OP_CMP_GT, 0)) == 0);
    CHECK(word2 == 0x10);
    CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_OR, 0x3, FUTEX_OP_CMP_NE, 0)) == 0);
    CHECK(word2 == 0x13);
    CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_ANDN, 0x2, FUTEX_OP_CMP_LT, 0)) == 0);
    CHECK(word2 == 0x11);
    CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_XOR, 0x101, FUTEX_OP_CMP_GE, 0)) == 0);
    CHECK(word2 == 0x110);
    /* OPARG_SHIFT: the operand is 1 << oparg. */
    CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 20, FUTEX_OP_CMP_LE, 0)) == 0);
    CHECK(word2 == (1 << 20));
    /* The 12-bit operand is sign-extended: ADD 0xfff subtracts one. */
    CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                FUTEX_OP(FUTEX_OP_ADD, 0xfff, FUTEX_OP_CMP_EQ, 0)) == 0);
    CHECK(word2 == (1 << 20) - 1);
    /* Unknown operation or comparison. */
    word2 = 7;
    CHECK_ERR(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                    FUTEX_OP(6, 1, FUTEX_OP_CMP_EQ, 0)),
              ENOSYS);
    CHECK(word2 == 7);
    CHECK_ERR(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                    FUTEX_OP(FUTEX_OP_ADD, 0, 9, 0)),
              ENOSYS);

    /* A waiter on word2 is woken only when the comparison on the old value holds. */
    word1 = 0;
    word2 = 5;
    start_waiter(&w, &word2, FUTEX_WAIT_PRIVATE, 5, 0);
    sleep_ms(20);
    for (int i = 0; i < 5; i++) {
        CHECK(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                    FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_NE, 5)) == 0);
        sleep_ms(1);
    }
    CHECK(!w.done);
    {
        long r = -1;
        for (int i = 0; i < 2000; i++) {
            r = futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                      FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 5));
            if (r != 0) break;
            sleep_ms(1);
        }
        CHECK(r == 1);
    }
    CHECK(word2 == 5);
    join_waiter(&w, 0);
    /* A waiter on word1 is woken regardless of the comparison. */
    start_waiter(&w, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    {
        long r = -1;
        for (int i = 0; i < 2000; i++) {
            r = futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                      FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_NE, 5));
            if (r != 0) break;
            sleep_ms(1);
        }
        CHECK(r == 1);
    }
    join_waiter(&w, 0);
    /* Waiters on both words: the result is the total woken. */
    word1 = 0;
    word2 = 0;
    start_waiter(&w, &word1, FUTEX_WAIT_PRIVATE, 0, 0);
    start_waiter(&w2, &word2, FUTEX_WAIT_PRIVATE, 0, 0);
    sleep_ms(30);
    {
        long total = 0;
        for (int i = 0; i < 2000 && total < 2; i++) {
            long r = futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), &word2,
                           FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0));
            if (r < 0) break;
            total += r;
            if (total < 2) sleep_ms(1);
        }
        CHECK(total == 2);
    }
    join_waiter(&w, 0);
    join_waiter(&w2, 0);

    /* ---- Protections: a read-only word can be waited on but not modified by WAKE_OP;
     * an inaccessible one cannot be read at all. ---- */
    {
        int *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(ro != MAP_FAILED);
        CHECK_ERR(futex(ro, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EAGAIN);
        CHECK_ERR(futex(ro, FUTEX_WAIT_PRIVATE, 0, &zero, NULL, 0), ETIMEDOUT);
        CHECK(futex(ro, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0);
        CHECK_ERR(futex(ro, FUTEX_CMP_REQUEUE_PRIVATE, 1, VAL2(1), &word2, 1), EAGAIN);
        word1 = 0;
        CHECK_ERR(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), ro,
                        FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)),
                  EFAULT);
        CHECK(*ro == 0);
        CHECK(mprotect(ro, 4096, PROT_NONE) == 0);
        /* (Timeouts only so that a kernel that sleeps here cannot hang the test.) */
        CHECK_ERR(futex(ro, FUTEX_WAIT_PRIVATE, 0, &short_to, NULL, 0), EFAULT);
        CHECK_ERR(futex(ro, FUTEX_WAIT_BITSET_PRIVATE, 0, &mono0, NULL, 1), EFAULT);
        CHECK_ERR(futex(ro, FUTEX_WAIT, 0, &short_to, NULL, 0), EFAULT);
        munmap(ro, 4096);
    }

    /* ---- Address errors ---- */
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    int *aligned = (int *)page;
    *aligned = 0;
    int *unaligned = (int *)(page + 1);
    CHECK_ERR(futex(unaligned, FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(unaligned, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(unaligned, FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex(unaligned, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR(futex((char *)aligned + 2, FUTEX_WAIT_BITSET, 0, NULL, NULL, 1), EINVAL);
    CHECK_ERR(futex(aligned, FUTEX_CMP_REQUEUE, 1, VAL2(1), page + 3, 0), EINVAL);
    CHECK_ERR(futex(aligned, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), page + 5,
                    FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)),
              EINVAL);
    /* Bad addresses: an unmapped page, and a timeout pointer into it. */
    CHECK(munmap(page, 4096) == 0);
    CHECK_ERR(futex(aligned, FUTEX_WAIT, 0, &short_to, NULL, 0), EFAULT);
    CHECK_ERR(futex(aligned, FUTEX_WAIT_PRIVATE, 0, &short_to, NULL, 0), EFAULT);
    CHECK_ERR(futex(aligned, FUTEX_WAIT_BITSET_PRIVATE, 0, &mono0, NULL, 1), EFAULT);
    CHECK_ERR(futex(aligned, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);
    CHECK_ERR(futex(&word1, FUTEX_WAIT, word1, (struct timespec *)page, NULL, 0), EFAULT);
    CHECK_ERR(futex(&word1, FUTEX_CMP_REQUEUE_PRIVATE, 1, VAL2(1), aligned, word1 + 1), EAGAIN);
    word1 = 0;
    CHECK_ERR(futex(aligned, FUTEX_CMP_REQUEUE_PRIVATE, 1, VAL2(1), &word2, 0), EFAULT);
    CHECK_ERR(futex(&word1, FUTEX_WAKE_OP_PRIVATE, 1, VAL2(1), aligned,
                    FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)),
              EFAULT);
    CHECK_ERR(futex((void *)8, FUTEX_WAIT, 0, &short_to, NULL, 0), EFAULT);
    CHECK_ERR(futex((void *)-8L, FUTEX_WAIT_PRIVATE, 0, &short_to, NULL, 0), EFAULT);
    CHECK_ERR(futex((void *)-8L, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);

    /* ---- A shared futex in MAP_SHARED|MAP_ANONYMOUS memory, across fork() ---- */
    volatile int *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shm != MAP_FAILED);
    if (shm != MAP_FAILED) {
        shm[0] = 0; /* futex word */
        shm[1] = 0; /* child ready */
        pid_t pid = fork();
        if (pid == 0) {
            shm[1] = 1;
            long r = futex((int *)&shm[0], FUTEX_WAIT, 0, NULL, NULL, 0);
            /* Woken by the parent: the parent set the word to 1 after waking. */
            _exit(r == 0 ? 0 : 10 + errno);
        }
        CHECK(pid > 0);
        for (int i = 0; i < 2000 && !shm[1]; i++) sleep_ms(1);
        CHECK(shm[1] == 1);
        CHECK(wake_until((int *)&shm[0], FUTEX_WAKE, 1, 0, 1) == 1);
        shm[0] = 1;
        int st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

        /* Shared WAKE_BITSET and CMP_REQUEUE across processes too: the child waits on
         * word 0 with a bitset; the parent requeues it to word 2 and wakes it there. */
        shm[0] = 0;
        shm[1] = 0;
        shm[2] = 0;
        pid = fork();
        if (pid == 0) {
            shm[1] = 1;
            long r = futex((int *)&shm[0], FUTEX_WAIT_BITSET, 0, NULL, NULL, 4);
            _exit(r == 0 ? 0 : 10 + errno);
        }
        CHECK(pid > 0);
        for (int i = 0; i < 2000 && !shm[1]; i++) sleep_ms(1);
        {
            long r = 0;
            for (int i = 0; i < 2000; i++) {
                r = futex((int *)&shm[0], FUTEX_CMP_REQUEUE, 0, VAL2(1), (int *)&shm[2], 0);
                if (r != 0) break;
                sleep_ms(1);
            }
            CHECK(r == 1);
        }
        CHECK(futex((int *)&shm[0], FUTEX_WAKE, 1, NULL, NULL, 0) == 0);
        CHECK(futex((int *)&shm[2], FUTEX_WAKE, 1, NULL, NULL, 0) == 1);
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

        /* A private futex is keyed by the address space: a private wake in the parent does
         * not wake a private waiter in the child, even on the same shared page. */
        shm[0] = 0;
        shm[1] = 0;
        pid = fork();
        if (pid == 0) {
            shm[1] = 1;
            struct timespec to = {0, 200 * 1000000L};
            long r = futex((int *)&shm[0], FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0);
            _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
        }
        CHECK(pid > 0);
        for (int i = 0; i < 2000 && !shm[1]; i++) sleep_ms(1);
        sleep_ms(30);
        for (int i = 0; i < 5; i++) {
            CHECK(futex((int *)&shm[0], FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0);
            sleep_ms(2);
        }
        st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        munmap((void *)shm, 4096);
    }

    /* A shared futex operation on a private page (as musl's thread-list lock, which the
     * kernel wakes through CLONE_CHILD_CLEARTID): the sleeper is still found after a fork
     * made the page copy-on-write and a write gave this process its own copy of it. */
    {
        pthread_t th;
        CHECK(pthread_create(&th, NULL, cow_waiter, NULL) == 0);
        sleep_ms(50);
        int p[2];
        CHECK_OK(pipe(p));
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            close(p[1]);
            (void)!read(p[0], &c, 1);
            _exit(0);
        }
        CHECK(pid > 0);
        close(p[0]);
        __atomic_store_n(&cow_page[1], 1, __ATOMIC_SEQ_CST);
        CHECK(wake_until(&cow_page[0], FUTEX_WAKE, 1, 0, 1) == 1);
        void *ret = (void *)1;
        CHECK(pthread_join(th, &ret) == 0);
        if (ret != NULL) {
            printf("shared wait on a copied private page: errno %ld\n", (long)(intptr_t)ret);
            lt_failures++;
        }
        close(p[1]);
        int st = -1;
        CHECK(waitpid(pid, &st, 0) == pid);
    }

    DONE();
}
