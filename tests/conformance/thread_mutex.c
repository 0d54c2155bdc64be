/* 16 threads contend on a mutex and a condition variable; the totals must be exact. Also
 * pthread_join return values, thread ids, and a barrier-like handoff through the condvar. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 16
#define ROUNDS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;
static int arrived;
static pid_t tids[THREADS];

static void *worker(void *arg) {
    long id = (long)arg;
    tids[id] = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        long v = counter;
        if (i % 64 == 0) sched_yield(); /* widen the race window */
        counter = v + 1;
        pthread_mutex_unlock(&lock);
    }
    /* Take turns in id order, handing off through the condition variable. */
    pthread_mutex_lock(&lock);
    arrived++;
    while (turn != id) pthread_cond_wait(&cond, &lock);
    turn++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    return (void *)(id * 3);
}

int main(void) {
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
    for (long i = 0; i < THREADS; i++) {
        void *ret = NULL;
        CHECK(pthread_join(th[i], &ret) == 0);
        CHECK((long)ret == i * 3);
    }
    CHECK(counter == (long)THREADS * ROUNDS);
    CHECK(turn == THREADS);
    CHECK(arrived == THREADS);
    /* Every thread had its own tid, none equal to the process id. */
    for (int i = 0; i < THREADS; i++) {
        CHECK(tids[i] > 0 && tids[i] != getpid());
        for (int j = 0; j < i; j++) CHECK(tids[i] != tids[j]);
    }
    DONE();
}
