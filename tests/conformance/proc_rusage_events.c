/* getrusage's event counts. Page faults: touching fresh anonymous pages counts minor faults
 * (ru_minflt, /proc/self/stat's minflt), a reaped child's reach RUSAGE_CHILDREN.
 * Context-switch counts: a thread that blocks counts voluntary switches, one that gives the
 * CPU up while still runnable (sched_yield with another thread waiting on its CPU) counts
 * involuntary ones. getrusage sums a process's threads, live and exited (RUSAGE_SELF), gives
 * one thread's (RUSAGE_THREAD) and the reaped children's (RUSAGE_CHILDREN, wait4);
 * /proc/self/status shows the thread's own as voluntary_ctxt_switches and
 * nonvoluntary_ctxt_switches. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long nvcsw(int who) {
    struct rusage ru;
    return getrusage(who, &ru) == 0 ? ru.ru_nvcsw : -1;
}

static long nivcsw(int who) {
    struct rusage ru;
    return getrusage(who, &ru) == 0 ? ru.ru_nivcsw : -1;
}

static void nap(int n) {
    for (int i = 0; i < n; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static long status_num(const char *name) {
    static char buf[8192];
    if (lt_slurp("/proc/thread-self/status", buf, sizeof buf) <= 0) return -1;
    return lt_field_num(buf, name);
}

static void voluntary(void) {
    long self0 = nvcsw(RUSAGE_SELF), thr0 = nvcsw(RUSAGE_THREAD);
    long st0 = status_num("voluntary_ctxt_switches");
    nap(20);
    long self1 = nvcsw(RUSAGE_SELF), thr1 = nvcsw(RUSAGE_THREAD);
    long st1 = status_num("voluntary_ctxt_switches");
    if (self1 - self0 < 20 || thr1 - thr0 < 20 || st1 - st0 < 20)
        printf("20 sleeps: self %ld->%ld thread %ld->%ld status %ld->%ld\n", self0, self1, thr0,
               thr1, st0, st1);
    CHECK(self1 - self0 >= 20);
    CHECK(thr1 - thr0 >= 20);
    CHECK(st1 - st0 >= 20);
    CHECK(status_num("nonvoluntary_ctxt_switches") >= 0);
}

static void *sleeper(void *arg) {
    (void)arg;
    nap(15);
    return NULL;
}

/* An exited thread's switches stay in the process's count. */
static void dead_threads(void) {
    long self0 = nvcsw(RUSAGE_SELF);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    long self1 = nvcsw(RUSAGE_SELF);
    if (self1 - self0 < 15) printf("thread's 15 sleeps: self %ld->%ld\n", self0, self1);
    CHECK(self1 - self0 >= 15);
}

static void children(void) {
    CHECK(nvcsw(RUSAGE_CHILDREN) == 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        nap(12);
        _exit(0);
    }
    int st;
    struct rusage ru;
    CHECK(wait4(c, &st, 0, &ru) == c);
    CHECK(ru.ru_nvcsw >= 12);
    CHECK(nvcsw(RUSAGE_CHILDREN) >= 12);
}

/* With a spinning process on the same CPU, sched_yield switches while still runnable. */
static void involuntary(void) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    fflush(stdout);
    pid_t spin = fork();
    if (spin == 0) {
        for (;;) {
        }
    }
    nap(5); /* let it start */
    long i0 = nivcsw(RUSAGE_THREAD);
    for (int i = 0; i < 20; i++) sched_yield();
    long i1 = nivcsw(RUSAGE_THREAD);
    kill(spin, SIGKILL);
    waitpid(spin, NULL, 0);
    if (i1 - i0 < 1) printf("20 yields beside a spinner: involuntary %ld->%ld\n", i0, i1);
    CHECK(i1 - i0 >= 1);
}

static long minflt(int who) {
    struct rusage ru;
    return getrusage(who, &ru) == 0 ? ru.ru_minflt : -1;
}

/* Field 10 of /proc/self/stat (after the parenthesised name). */
static long stat_minflt(void) {
    static char buf[4096];
    if (lt_slurp("/proc/self/stat", buf, sizeof buf) <= 0) return -1;
    char *p = strrchr(buf, ')');
    long v = -1;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %ld", &v) != 1) v = -1;
    return v;
}

static void touch_pages(int n) {
    char *m = mmap(NULL, n * 4096L, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    madvise(m, n * 4096L, MADV_NOHUGEPAGE);
    for (long i = 0; i < n; i++) m[i * 4096] = 1;
    munmap(m, n * 4096L);
}

static void faults(void) {
    long self0 = minflt(RUSAGE_SELF), thr0 = minflt(RUSAGE_THREAD), st0 = stat_minflt();
    touch_pages(200);
    long self1 = minflt(RUSAGE_SELF), thr1 = minflt(RUSAGE_THREAD), st1 = stat_minflt();
    if (self1 - self0 < 200 || thr1 - thr0 < 200 || st1 - st0 < 200)
        printf("200 pages: minflt self %ld->%ld thread %ld->%ld stat %ld->%ld\n", self0, self1,
               thr0, thr1, st0, st1);
    CHECK(self1 - self0 >= 200);
    CHECK(thr1 - thr0 >= 200);
    CHECK(st1 - st0 >= 200);
    long c0 = minflt(RUSAGE_CHILDREN);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        touch_pages(150);
        _exit(0);
    }
    struct rusage ru;
    int st;
    CHECK(wait4(c, &st, 0, &ru) == c);
    CHECK(ru.ru_minflt >= 150);
    CHECK(minflt(RUSAGE_CHILDREN) - c0 >= 150);
}

int main(void) {
    lt_sub("faults", faults, 20000);
    lt_sub("voluntary", voluntary, 20000);
    lt_sub("dead_threads", dead_threads, 20000);
    lt_sub("children", children, 20000);
    lt_sub("involuntary", involuntary, 20000);
    DONE();
}
