/* Stress: wake-ups across CPUs, a fixed count each; a lost wake-up shows up as a timeout of
 * the part (lt_sub).
 * - futex ping-pong: two threads (pinned to different CPUs when there are several) hand a
 *   turn word back and forth with FUTEX_WAIT/FUTEX_WAKE, private; then two processes do the
 *   same on a MAP_SHARED page with shared futexes.
 * - a pipe ring through 16 processes: a counter goes round LAPS times, each process checks
 *   it got the value it expected and passes it on incremented.
 * - epoll with concurrent producers: two threads per CPU each write to their own eventfd and
 *   their own pipe while one thread epoll_waits on all of them (eventfds level-triggered,
 *   pipes edge-triggered and drained); every event must be accounted for, none invented.
 * - robust mutexes: threads on every CPU take turns on a robust mutex and some die holding
 *   it; the next owner must get EOWNERDEAD, make it consistent, and the count of deaths and
 *   increments must add up. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#endif
#ifndef FUTEX_PRIVATE_FLAG
#define FUTEX_PRIVATE_FLAG 128
#endif

#define ROUND_TRIPS 3000
#define RING 16
#define LAPS 100
#define MAXT 16
#define EVENTS 500
#define ROBUST_ROUNDS 40

static int ncpu;
static int cpus[MAXT];

static void find_cpus(void) { ncpu = lt_cpus(cpus, MAXT / 2); }

/* Binds the calling thread to the i-th allowed CPU (round robin) when there are several. */
static void pin(int i) {
    if (ncpu > 1) lt_pin(cpus[i % ncpu]);
}

/* ---- futex ping-pong ---- */

struct court {
    atomic_int turn; /* whose turn: 0 or 1 */
    int hits[2];
};

static int futex_op;

/* Player `me` takes ROUND_TRIPS turns: waits for its turn, counts it, hands the turn over. */
static void play(struct court *c, int me) {
    for (int i = 0; i < ROUND_TRIPS; i++) {
        int t;
        while ((t = atomic_load(&c->turn)) != me)
            syscall(SYS_futex, &c->turn, FUTEX_WAIT | futex_op, t, 0, 0, 0);
        c->hits[me]++;
        atomic_store(&c->turn, 1 - me);
        syscall(SYS_futex, &c->turn, FUTEX_WAKE | futex_op, 1, 0, 0, 0);
    }
}

static struct court private_court;

static void *player1(void *arg) {
    (void)arg;
    pin(1);
    play(&private_court, 1);
    return 0;
}

static void pingpong_private(void) {
    futex_op = FUTEX_PRIVATE_FLAG;
    pin(0);
    pthread_t t;
    CHECK(pthread_create(&t, 0, player1, 0) == 0);
    play(&private_court, 0);
    pthread_join(t, 0);
    CHECK(private_court.hits[0] == ROUND_TRIPS);
    CHECK(private_court.hits[1] == ROUND_TRIPS);
    CHECK(atomic_load(&private_court.turn) == 0);
}

static void pingpong_shared(void) {
    futex_op = 0;
    struct court *c = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(c != MAP_FAILED);
    if (c == MAP_FAILED) return;
    pid_t pid = fork();
    if (pid == 0) {
        pin(1);
        play(c, 1);
        _exit(0);
    }
    pin(0);
    play(c, 0);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EXIT(st, 0);
    CHECK(c->hits[0] == ROUND_TRIPS);
    CHECK(c->hits[1] == ROUND_TRIPS);
}

/* ---- pipe ring ---- */

static int ring_member(int me, int in, int out) {
    unsigned v;
    pin(me);
    if (me == 0 && write(out, &(unsigned){0}, 4) != 4) return 2;
    for (int lap = 0; lap < LAPS; lap++) {
        unsigned want = me == 0 ? (unsigned)(RING * lap + RING - 1) : (unsigned)(RING * lap + me - 1);
        ssize_t n = read(in, &v, 4);
        if (n != 4 || v != want) {
            printf("ring %d lap %d: read %zd bytes, value %u, expected %u\n", me, lap, n, v, want);
            return 1;
        }
        if (me == 0 && lap == LAPS - 1) break;
        v++;
        if (write(out, &v, 4) != 4) return 3;
    }
    return 0;
}

static void pipe_ring(void) {
    int p[RING][2];
    for (int i = 0; i < RING; i++) CHECK_OK(pipe(p[i]));
    /* Member i reads pipe i and writes pipe i+1. */
    pid_t kids[RING];
    for (int i = 0; i < RING; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            int in = p[i][0], out = p[(i + 1) % RING][1];
            for (int j = 0; j < RING; j++) {
                if (p[j][0] != in) close(p[j][0]);
                if (p[j][1] != out) close(p[j][1]);
            }
            fflush(stdout);
            _exit(ring_member(i, in, out));
        }
        CHECK(kids[i] > 0);
    }
    for (int i = 0; i < RING; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    for (int i = 0; i < RING; i++) {
        int st = 0;
        CHECK(waitpid(kids[i], &st, 0) == kids[i]);
        CHECK_EXIT(st, 0);
    }
}

/* ---- epoll with concurrent producers ---- */

static int efd[MAXT], pfd[MAXT][2];

static void *producer(void *arg) {
    int i = (int)(intptr_t)arg;
    pin(i);
    uint64_t one = 1;
    unsigned char b = (unsigned char)i;
    for (int k = 0; k < EVENTS; k++) {
        if (write(efd[i], &one, 8) != 8) printf("producer %d: eventfd write failed\n", i);
        if (write(pfd[i][1], &b, 1) != 1) printf("producer %d: pipe write failed\n", i);
        if (k % 16 == 0) sched_yield();
    }
    return 0;
}

static void epoll_producers(void) {
    int n = 2 * ncpu;
    if (n > MAXT) n = MAXT;
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    for (int i = 0; i < n; i++) {
        efd[i] = eventfd(0, EFD_NONBLOCK);
        CHECK(efd[i] >= 0);
        CHECK_OK(pipe2(pfd[i], O_NONBLOCK));
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, efd[i], &e));
        e.events = EPOLLIN | EPOLLET;
        e.data.u32 = 0x100 | (unsigned)i;
        CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, pfd[i][0], &e));
    }
    long ecount[MAXT] = {0}, pcount[MAXT] = {0};
    int strangers = 0;
    pthread_t th[MAXT];
    for (int i = 0; i < n; i++) CHECK(pthread_create(&th[i], 0, producer, (void *)(intptr_t)i) == 0);
    long total = 0, want = 2L * n * EVENTS;
    while (total < want) {
        struct epoll_event ev[8];
        int k = epoll_wait(ep, ev, 8, -1);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            printf("epoll_wait returned %d (errno %d)\n", k, errno);
            lt_failures++;
            break;
        }
        for (int j = 0; j < k; j++) {
            unsigned i = ev[j].data.u32 & 0xff;
            if (ev[j].data.u32 & 0x100) {
                /* Edge-triggered: drain until EAGAIN. */
                unsigned char buf[256];
                ssize_t r;
                while ((r = read(pfd[i][0], buf, sizeof buf)) > 0) {
                    for (ssize_t m = 0; m < r; m++)
                        if (buf[m] != i) strangers++;
                    pcount[i] += r;
                    total += r;
                }
            } else {
                uint64_t v = 0;
                if (read(efd[i], &v, 8) == 8) {
                    ecount[i] += (long)v;
                    total += (long)v;
                }
            }
        }
    }
    for (int i = 0; i < n; i++) pthread_join(th[i], 0);
    /* Nothing left over, nothing more to report. */
    struct epoll_event ev[8];
    int left = epoll_wait(ep, ev, 8, 0);
    for (int j = 0; j < left; j++) {
        unsigned i = ev[j].data.u32 & 0xff;
        uint64_t v = 0;
        unsigned char b;
        if (ev[j].data.u32 & 0x100) {
            if (read(pfd[i][0], &b, 1) == 1) pcount[i]++;
        } else if (read(efd[i], &v, 8) == 8) {
            ecount[i] += (long)v;
        }
    }
    for (int i = 0; i < n; i++) {
        if (ecount[i] != EVENTS || pcount[i] != EVENTS) {
            printf("producer %d: %ld eventfd counts and %ld pipe bytes, expected %d each\n", i,
                   ecount[i], pcount[i], EVENTS);
            lt_failures++;
        }
    }
    CHECK(strangers == 0);
    for (int i = 0; i < n; i++) {
        close(efd[i]);
        close(pfd[i][0]);
        close(pfd[i][1]);
    }
    close(ep);
}

/* ---- robust mutexes ---- */

static pthread_mutex_t robust;
static long robust_count;
static atomic_int robust_recovered, robust_died;

/* Takes the mutex (recovering it from a dead owner), counts, and sometimes dies holding it. */
static void *robust_user(void *arg) {
    int i = (int)(intptr_t)arg;
    pin(i);
    int r = pthread_mutex_lock(&robust);
    if (r == EOWNERDEAD) {
        atomic_fetch_add(&robust_recovered, 1);
        pthread_mutex_consistent(&robust);
    } else if (r != 0) {
        printf("robust lock: %s\n", strerror(r));
        return (void *)1;
    }
    robust_count++;
    if (i % 3 == 0) {
        atomic_fetch_add(&robust_died, 1);
        return 0; /* exits owning it */
    }
    pthread_mutex_unlock(&robust);
    return 0;
}

static void robust_mutexes(void) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    CHECK(pthread_mutex_init(&robust, &a) == 0);
    int n = 2 * ncpu;
    if (n > MAXT) n = MAXT;
    int ok = 0;
    for (int r = 0; r < ROBUST_ROUNDS; r++) {
        pthread_t th[MAXT];
        for (int i = 0; i < n; i++)
            CHECK(pthread_create(&th[i], 0, robust_user, (void *)(intptr_t)(i + r)) == 0);
        for (int i = 0; i < n; i++) {
            void *ret = 0;
            pthread_join(th[i], &ret);
            if (ret == 0) ok++;
        }
    }
    /* The last owner may have died too: one more lock recovers it. */
    int r = pthread_mutex_lock(&robust);
    if (r == EOWNERDEAD) {
        atomic_fetch_add(&robust_recovered, 1);
        pthread_mutex_consistent(&robust);
    }
    CHECK(r == 0 || r == EOWNERDEAD);
    pthread_mutex_unlock(&robust);
    CHECK(ok == n * ROBUST_ROUNDS);
    CHECK(robust_count == (long)n * ROBUST_ROUNDS);
    if (atomic_load(&robust_recovered) != atomic_load(&robust_died)) {
        printf("robust mutex: %d owners died, %d recoveries\n", atomic_load(&robust_died),
               atomic_load(&robust_recovered));
        lt_failures++;
    }
}

int main(void) {
    find_cpus();
    printf("%d CPUs\n", ncpu);
    lt_sub("futex ping-pong, private", pingpong_private, 15000);
    lt_sub("futex ping-pong, shared", pingpong_shared, 15000);
    lt_sub("pipe ring", pipe_ring, 15000);
    lt_sub("epoll with concurrent producers", epoll_producers, 10000);
    lt_sub("robust mutexes", robust_mutexes, 15000);
    DONE();
}
