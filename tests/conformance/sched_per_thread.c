/* Scheduling attributes are per thread, as on Linux:
 * - setpriority(PRIO_PROCESS, tid) renices that thread only (a thread group id names its
 *   leader only); getpriority reads it per tid; PRIO_PGRP reaches every thread of the group.
 * - sched_setscheduler / sched_setparam / sched_setattr on a tid change that thread only;
 *   sched_getscheduler / getparam / getattr read it back (SCHED_BATCH and SCHED_IDLE too).
 * - /proc/PID/task/TID/stat shows each thread's priority, nice, rt_priority and policy
 *   (fields 18, 19, 40, 41); /proc/PID/stat the leader's.
 * - A new thread or process starts with its creator's attributes; SCHED_RESET_ON_FORK sends
 *   a real-time child back to SCHED_OTHER, a negative nice back to 0, and is not inherited;
 *   exec keeps them. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "sched_test.h"
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static long tid(void) { return syscall(SYS_gettid); }

static long setsched(long t, int policy, int prio) {
    struct sched_param sp = {prio};
    return syscall(SYS_sched_setscheduler, t, policy, &sp); /* musl's wrapper is a stub */
}

static long getsched(long t) { return syscall(SYS_sched_getscheduler, t); }

static int getparam(long t) {
    struct sched_param sp = {-1};
    if (syscall(SYS_sched_getparam, t, &sp) != 0) return -1;
    return sp.sched_priority;
}

/* The nice value of thread `t` (the raw call returns 20 - nice). */
static long nice_of(long t) { return 20 - syscall(SYS_getpriority, PRIO_PROCESS, t); }

/* Field `n` of /proc/self/task/T/stat (T = 0: /proc/self/stat). */
static long stat_field(long t, int n) {
    char path[64], buf[2048];
    if (t)
        snprintf(path, sizeof path, "/proc/self/task/%ld/stat", t);
    else
        snprintf(path, sizeof path, "/proc/self/stat");
    if (lt_slurp(path, buf, sizeof buf) < 0) return -9999;
    char *p = strrchr(buf, ')');
    if (!p) return -9999;
    p += 2;
    for (int i = 3; i < n; i++) {
        p = strchr(p, ' ');
        if (!p) return -9999;
        p++;
    }
    return strtol(p, NULL, 10);
}

/* The waiter's own view: nice, policy, priority. */
static void own_view(long v[3]) { v[0] = nice_of(0), v[1] = getsched(0), v[2] = getparam(0); }

static void waiter_ask(struct waiter *w, long v[3]) {
    char c = 'a';
    CHECK(write(w->go[1], &c, 1) == 1);
    CHECK(read(w->back[0], v, 3 * sizeof(long)) == 3 * (long)sizeof(long));
}

/* Renicing one thread by its tid leaves the other alone. */
static void nice_per_thread(void) {
    CHECK_OK(setpriority(PRIO_PROCESS, 0, 0));
    struct waiter w = {.ask = own_view};
    CHECK_OK(waiter_start(&w));
    CHECK(w.tid != tid());
    CHECK_OK(setpriority(PRIO_PROCESS, w.tid, 7));
    CHECK(nice_of(w.tid) == 7);
    CHECK(nice_of(0) == 0);
    CHECK(nice_of(getpid()) == 0); /* the leader, not the process */
    long v[3];
    waiter_ask(&w, v);
    CHECK(v[0] == 7 && v[1] == SCHED_OTHER);
    CHECK(stat_field(w.tid, 19) == 7);
    CHECK(stat_field(w.tid, 18) == 27);
    CHECK(stat_field(0, 19) == 0);
    CHECK(stat_field(tid(), 19) == 0);
    /* The waiter renices itself: the leader is untouched. */
    CHECK_OK(setpriority(PRIO_PROCESS, getpid(), 3));
    CHECK(nice_of(0) == 3 && nice_of(w.tid) == 7);
    /* A thread started now takes its creator's nice value. */
    struct waiter w2 = {.ask = own_view};
    CHECK_OK(waiter_start(&w2));
    CHECK(nice_of(w2.tid) == 3);
    waiter_stop(&w2);
    /* PRIO_PGRP reaches every thread of every process of the group (a group of our own). */
    CHECK_OK(setpgid(0, 0));
    CHECK_OK(setpriority(PRIO_PGRP, 0, 5));
    CHECK(nice_of(0) == 5 && nice_of(w.tid) == 5);
    CHECK_OK(setpriority(PRIO_PROCESS, w.tid, 9));
    errno = 0;
    CHECK(getpriority(PRIO_PGRP, 0) == 5 && errno == 0); /* the best of the group */
    waiter_stop(&w);
}

/* Policies by tid. */
static void policy_per_thread(void) {
    struct waiter w = {.ask = own_view};
    CHECK_OK(waiter_start(&w));
    struct sched_param sp = {0};
    CHECK_OK(setsched(w.tid, SCHED_BATCH, 0));
    CHECK(getsched(w.tid) == SCHED_BATCH);
    CHECK(getsched(0) == SCHED_OTHER);
    CHECK(stat_field(w.tid, 41) == SCHED_BATCH);
    CHECK(stat_field(0, 41) == SCHED_OTHER);
    CHECK_OK(setsched(w.tid, SCHED_IDLE, 0));
    CHECK(getsched(w.tid) == SCHED_IDLE);
    struct attr a;
    memset(&a, 0, sizeof a);
    CHECK(syscall(SYS_sched_getattr, w.tid, &a, sizeof a, 0) == 0);
    CHECK(a.policy == SCHED_IDLE);
    CHECK(stat_field(w.tid, 41) == SCHED_IDLE);
    /* Real time, by tid (as root). */
    CHECK_OK(setsched(w.tid, SCHED_FIFO, 10));
    CHECK(getsched(w.tid) == SCHED_FIFO && getparam(w.tid) == 10);
    CHECK(getsched(0) == SCHED_OTHER && getparam(0) == 0);
    CHECK(stat_field(w.tid, 18) == -11);
    CHECK(stat_field(w.tid, 40) == 10);
    CHECK(stat_field(w.tid, 41) == SCHED_FIFO);
    CHECK(stat_field(0, 40) == 0);
    sp.sched_priority = 20;
    CHECK_OK(syscall(SYS_sched_setparam, w.tid, &sp));
    CHECK(getparam(w.tid) == 20 && getparam(0) == 0);
    long v[3];
    waiter_ask(&w, v);
    CHECK(v[1] == SCHED_FIFO && v[2] == 20);
    /* sched_setattr by tid: nice under SCHED_OTHER. */
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.policy = SCHED_OTHER;
    a.nice = 4;
    CHECK_OK(syscall(SYS_sched_setattr, w.tid, &a, 0));
    CHECK(getsched(w.tid) == SCHED_OTHER && nice_of(w.tid) == 4);
    CHECK(nice_of(0) != 4);
    waiter_stop(&w);
}

/* What a new thread and a forked child start with; SCHED_RESET_ON_FORK. */
static void *report(void *arg) {
    long *v = arg;
    v[0] = nice_of(0), v[1] = getsched(0), v[2] = getparam(0);
    return NULL;
}

static void inherit(void) {
    long v[3];
    pthread_t th;
    CHECK_OK(setsched(0, SCHED_RR, 5));
    CHECK(pthread_create(&th, NULL, report, v) == 0);
    pthread_join(th, NULL);
    CHECK(v[1] == SCHED_RR && v[2] == 5);
    pid_t p = fork();
    if (p == 0) _exit(getsched(0) == SCHED_RR && getparam(0) == 5 ? 0 : 1);
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    CHECK_EXIT(st, 0);
    /* With SCHED_RESET_ON_FORK: the children are SCHED_OTHER at nice 0, without the flag. */
    CHECK_OK(setsched(0, SCHED_RR | SCHED_RESET_ON_FORK, 5));
    CHECK(getsched(0) == (SCHED_RR | SCHED_RESET_ON_FORK));
    CHECK(pthread_create(&th, NULL, report, v) == 0);
    pthread_join(th, NULL);
    CHECK(v[1] == SCHED_OTHER && v[2] == 0 && v[0] == 0);
    p = fork();
    if (p == 0) _exit(getsched(0) == SCHED_OTHER ? 0 : 1);
    CHECK(waitpid(p, &st, 0) == p);
    CHECK_EXIT(st, 0);
    /* A negative nice goes back to 0; a positive one stays. */
    CHECK_OK(setsched(0, SCHED_OTHER | SCHED_RESET_ON_FORK, 0));
    CHECK_OK(setpriority(PRIO_PROCESS, 0, -5));
    CHECK(pthread_create(&th, NULL, report, v) == 0);
    pthread_join(th, NULL);
    CHECK(v[0] == 0 && v[1] == SCHED_OTHER);
    CHECK_OK(setpriority(PRIO_PROCESS, 0, 6));
    CHECK(pthread_create(&th, NULL, report, v) == 0);
    pthread_join(th, NULL);
    CHECK(v[0] == 6);
    struct attr a;
    memset(&a, 0, sizeof a);
    CHECK(syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == 0);
    CHECK(a.flags == 1 /* SCHED_FLAG_RESET_ON_FORK */ && a.nice == 6);
}

/* exec keeps the thread's attributes. */
static void across_exec(void) {
    CHECK_OK(setsched(0, SCHED_BATCH, 0));
    CHECK_OK(setpriority(PRIO_PROCESS, 0, 4));
    pid_t p = fork();
    if (p == 0) {
        execl("/proc/self/exe", "sched_per_thread", "exec-check", (char *)NULL);
        _exit(3);
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    CHECK_EXIT(st, 0);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "exec-check") == 0)
        return getsched(0) == SCHED_BATCH && nice_of(0) == 4 ? 0 : 1;
    lt_sub("nice_per_thread", nice_per_thread, 10000);
    lt_sub("policy_per_thread", policy_per_thread, 10000);
    lt_sub("inherit", inherit, 10000);
    lt_sub("across_exec", across_exec, 10000);
    DONE();
}
