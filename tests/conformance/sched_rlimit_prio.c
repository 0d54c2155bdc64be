/* RLIMIT_NICE and RLIMIT_RTPRIO: what they let a process without CAP_SYS_NICE do. A nice
 * value may go down to 20 - RLIMIT_NICE (below that setpriority gives EACCES and
 * sched_setattr EPERM); a real-time policy needs a non-zero RLIMIT_RTPRIO, and its priority
 * may be raised only up to the limit; leaving SCHED_IDLE needs the limit to allow the
 * current nice value. Linux starts init with both limits at 0. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include "sched_test.h"
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif

static long setsched(int policy, int prio) {
    struct sched_param sp = {prio};
    return syscall(SYS_sched_setscheduler, 0, policy, &sp); /* musl's wrapper is a stub */
}

static long setattr_nice(int nice) {
    struct attr a = {.size = sizeof a, .policy = SCHED_OTHER, .nice = nice};
    return syscall(SYS_sched_setattr, 0, &a, 0);
}

/* Sets both limits and becomes user 1000 (no capabilities); called in lt_sub's child. */
static void drop_to(rlim_t nice_lim, rlim_t rt_lim) {
    struct rlimit n = {nice_lim, nice_lim}, r = {rt_lim, rt_lim};
    CHECK_OK(setpriority(PRIO_PROCESS, 0, 0));
    CHECK_OK(setrlimit(RLIMIT_NICE, &n));
    CHECK_OK(setrlimit(RLIMIT_RTPRIO, &r));
    CHECK_OK(setgroups(0, NULL));
    CHECK_OK(setgid(1000));
    CHECK_OK(setuid(1000));
}

/* RLIMIT_NICE 25: down to nice -5, not -6. RLIMIT_RTPRIO 10: FIFO up to 10. */
static void granted(void) {
    drop_to(25, 10);
    CHECK_OK(setpriority(PRIO_PROCESS, 0, 10));
    CHECK_OK(setpriority(PRIO_PROCESS, 0, -5));
    errno = 0;
    CHECK(getpriority(PRIO_PROCESS, 0) == -5 && errno == 0);
    CHECK_ERR(setpriority(PRIO_PROCESS, 0, -6), EACCES);
    CHECK_ERR(setattr_nice(-6), EPERM);
    CHECK_OK(setattr_nice(0));
    CHECK_OK(setsched(SCHED_FIFO, 5));
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_FIFO);
    CHECK_OK(setsched(SCHED_FIFO, 10));
    CHECK_ERR(setsched(SCHED_FIFO, 11), EPERM);
    CHECK_ERR(setsched(SCHED_RR, 11), EPERM);
    CHECK_OK(setsched(SCHED_RR, 3));
    CHECK_OK(setsched(SCHED_OTHER, 0));
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);
}

/* Both limits 0 (Linux's default): a nice value only goes up, no real-time policy, and
 * SCHED_IDLE is a one-way door. */
static void denied(void) {
    drop_to(0, 0);
    CHECK_ERR(setpriority(PRIO_PROCESS, 0, -1), EACCES);
    CHECK_OK(setpriority(PRIO_PROCESS, 0, 5));
    CHECK_ERR(setpriority(PRIO_PROCESS, 0, 4), EACCES);
    CHECK_ERR(setattr_nice(4), EPERM);
    CHECK_OK(setattr_nice(6));
    CHECK_ERR(setsched(SCHED_FIFO, 1), EPERM);
    CHECK_ERR(setsched(SCHED_RR, 1), EPERM);
    CHECK_OK(setsched(SCHED_IDLE, 0));
    CHECK_ERR(setsched(SCHED_OTHER, 0), EPERM);
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_IDLE);
}

/* Limits are per process and inherited: the granted limit travels through fork. */
static void inherited(void) {
    drop_to(25, 0);
    struct rlimit r;
    CHECK_OK(getrlimit(RLIMIT_NICE, &r));
    CHECK(r.rlim_cur == 25 && r.rlim_max == 25);
    /* Without CAP_SYS_RESOURCE the hard limit cannot go back up. */
    r.rlim_max = 26;
    CHECK_ERR(setrlimit(RLIMIT_NICE, &r), EPERM);
    pid_t c = fork();
    if (c == 0) {
        _exit(setpriority(PRIO_PROCESS, 0, -5) == 0 ? 0 : 1);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
    if (getuid() != 0) {
        printf("needs root: skipped\n");
        return 0;
    }
    /* The defaults Linux gives init, as long as nothing above us raised them. */
    struct rlimit r;
    CHECK_OK(getrlimit(RLIMIT_RTPRIO, &r));
    CHECK(r.rlim_cur == 0);
    CHECK_OK(getrlimit(RLIMIT_NICE, &r));
    CHECK(r.rlim_cur == 0);
    lt_sub("denied", denied, 10000);
    /* Granting a limit needs CAP_SYS_RESOURCE, which a container's root may lack. */
    struct rlimit up = {25, 25};
    if (setrlimit(RLIMIT_NICE, &up) != 0 && errno == EPERM) {
        printf("no CAP_SYS_RESOURCE: granted limits skipped\n");
        DONE();
    }
    up.rlim_cur = up.rlim_max = 0;
    CHECK_OK(setrlimit(RLIMIT_NICE, &up));
    lt_sub("granted", granted, 10000);
    lt_sub("inherited", inherited, 10000);
    DONE();
}
