/* Helpers of the scheduling tests: sched_setattr's structure, and a thread that parks on a
 * pipe so that other threads can change its attributes by tid. */
#ifndef SCHED_TEST_H
#define SCHED_TEST_H
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct sched_attr, first version (48 bytes). */
struct attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
};

/* A thread parked on a pipe: on each byte but 'q' it calls `ask` (if set) and writes what it
 * fills in back; 'q' ends it. */
struct waiter {
    pthread_t th;
    long tid;
    int go[2], back[2];
    void (*ask)(long v[3]);
};

static inline void *waiter_main(void *arg) {
    struct waiter *w = arg;
    w->tid = syscall(SYS_gettid);
    char c = 0;
    if (write(w->back[1], &c, 1) != 1) return NULL;
    while (read(w->go[0], &c, 1) == 1 && c != 'q') {
        long v[3] = {0, 0, 0};
        if (w->ask) w->ask(v);
        if (write(w->back[1], v, sizeof v) != sizeof v) break;
    }
    return NULL;
}

/* Starts `w` and waits until it knows its tid; 0, or -1 when it could not. */
static inline int waiter_start(struct waiter *w) {
    if (pipe(w->go) || pipe(w->back)) return -1;
    if (pthread_create(&w->th, NULL, waiter_main, w) != 0) return -1;
    char c;
    return read(w->back[0], &c, 1) == 1 ? 0 : -1;
}

/* Ends `w` and waits for it. */
static inline void waiter_stop(struct waiter *w) {
    char c = 'q';
    if (write(w->go[1], &c, 1) == 1) pthread_join(w->th, NULL);
    close(w->go[0]), close(w->go[1]), close(w->back[0]), close(w->back[1]);
}
#endif
