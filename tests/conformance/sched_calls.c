/* Scheduler and process-attribute calls: sched_yield, CPU affinity and getcpu, nice values
 * (getpriority/setpriority/nice and the raw getpriority encoding 20 - nice), scheduling
 * policies and their priority ranges, sched_rr_get_interval, and prctl: the task name (and
 * /proc/self/comm), dumpable, parent-death signal, no_new_privs, child subreaper, timer slack.
 * The sched_* policy calls use the raw system call: musl's wrappers return ENOSYS. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MASK_BYTES 128

static int read_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}

/* A pid that names no process: a child that has been reaped. */
static pid_t dead_pid(void) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

/* Field `n` (1-based, as in proc(5)) of /proc/self/stat, or LONG_MIN. */
static long stat_field(int n) { return lt_stat_field(n); }

struct sched_attr_k {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t util_min, util_max;
};

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t gone = dead_pid();
    CHECK(gone > 0);

    /* sched_yield */
    CHECK(sched_yield() == 0);
    CHECK(syscall(SYS_sched_yield) == 0);

    /* sched_getaffinity: the raw call returns the kernel mask size in bytes. */
    unsigned char mask[MASK_BYTES], orig[MASK_BYTES];
    memset(mask, 0, sizeof mask);
    long msz = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    if (msz <= 0 || msz % 8) printf("sched_getaffinity returned %ld\n", msz);
    CHECK(msz > 0 && msz <= MASK_BYTES && msz % 8 == 0);
    CHECK(mask[0] & 1);
    memcpy(orig, mask, sizeof mask);
    int ncpu = 0;
    for (int i = 0; i < MASK_BYTES * 8; i++)
        if (mask[i / 8] & (1 << (i % 8))) ncpu++;
    CHECK(ncpu >= 1);
    CHECK(ncpu <= sysconf(_SC_NPROCESSORS_CONF));
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CHECK(sched_getaffinity(0, sizeof cs, &cs) == 0);
    CHECK(CPU_ISSET(0, &cs));
    CHECK(CPU_COUNT(&cs) == ncpu);
    CHECK(syscall(SYS_sched_getaffinity, getpid(), sizeof mask, mask) == msz);
    CHECK(syscall(SYS_sched_getaffinity, syscall(SYS_gettid), sizeof mask, mask) == msz);
    /* Too small or not a multiple of the word size. */
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 0, mask), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 4, mask), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 12, mask), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getaffinity, gone, sizeof mask, mask), ESRCH);
    /* A negative pid names no task: ESRCH (not EINVAL, which Python's sched_getaffinity
     * takes for "mask too small" and answers by doubling it forever). */
    CHECK_ERR(syscall(SYS_sched_getaffinity, -1, sizeof mask, mask), ESRCH);
    CHECK_ERR(syscall(SYS_sched_setaffinity, -1, sizeof mask, mask), ESRCH);
    CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof mask, (void *)8), EFAULT);

    /* getcpu gives a CPU in the mask and node 0. */
    unsigned cpu = 9999, node = 9999;
    CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0);
    CHECK(cpu < MASK_BYTES * 8 && (orig[cpu / 8] & (1 << (cpu % 8))));
    CHECK(node == 0);
    CHECK(syscall(SYS_getcpu, NULL, NULL, NULL) == 0);
    CHECK(sched_getcpu() >= 0);

    /* sched_setaffinity to CPU 0 only. */
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    CHECK(sched_setaffinity(0, sizeof cs, &cs) == 0);
    CHECK(sched_yield() == 0);
    memset(mask, 0xff, sizeof mask);
    CHECK(syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) == msz);
    CHECK(mask[0] == 1);
    int others = 0;
    for (long i = 1; i < msz; i++) others |= mask[i];
    CHECK(others == 0);
    cpu = 9999;
    CHECK(syscall(SYS_getcpu, &cpu, NULL, NULL) == 0);
    CHECK(cpu == 0);
    /* An empty mask, or one naming only CPUs that do not exist, is EINVAL. */
    memset(mask, 0, sizeof mask);
    CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof mask, mask), EINVAL);
    mask[MASK_BYTES - 1] = 0x80; /* CPU 1023 */
    CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof mask, mask), EINVAL);
    CHECK_ERR(syscall(SYS_sched_setaffinity, gone, sizeof orig, orig), ESRCH);
    CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof orig, (void *)8), EFAULT);
    /* The failures left the mask alone. */
    CHECK(syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) == msz && mask[0] == 1);
    /* A larger-than-needed mask with extra bits is fine; back to the original. */
    CHECK(syscall(SYS_sched_setaffinity, 0, sizeof orig, orig) == 0);
    CHECK(syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) == msz);
    CHECK(memcmp(mask, orig, msz) == 0);
    /* A forked child inherits the mask. */
    {
        CPU_ZERO(&cs);
        CPU_SET(0, &cs);
        CHECK(sched_setaffinity(0, sizeof cs, &cs) == 0);
        pid_t p = fork();
        if (p == 0) {
            cpu_set_t c;
            CPU_ZERO(&c);
            if (sched_getaffinity(0, sizeof c, &c) != 0) _exit(2);
            _exit(CPU_COUNT(&c) == 1 && CPU_ISSET(0, &c) ? 0 : 3);
        }
        int st = -1;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK(syscall(SYS_sched_setaffinity, 0, sizeof orig, orig) == 0);
    }

    /* Nice values. The raw getpriority returns 20 - nice so that it is never negative. */
    errno = 0;
    int nice0 = getpriority(PRIO_PROCESS, 0);
    CHECK(errno == 0);
    CHECK(nice0 >= -20 && nice0 <= 19);
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 20 - nice0);
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, getpid()) == 20 - nice0);
    CHECK(stat_field(19) == nice0);
    CHECK(stat_field(18) == 20 + nice0);
    if (nice0 <= 10) {
        errno = 0;
        int r = nice(5);
        CHECK(r == nice0 + 5);
        CHECK(errno == 0);
        CHECK(getpriority(PRIO_PROCESS, 0) == nice0 + 5);
        CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 15 - nice0);
        CHECK(stat_field(19) == nice0 + 5);
        CHECK(stat_field(18) == 25 + nice0);
    }
    /* Lowering the nice value needs CAP_SYS_NICE, which root has. */
    CHECK(getuid() == 0);
    CHECK(setpriority(PRIO_PROCESS, 0, -3) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == -3);
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 23);
    errno = 0;
    CHECK(nice(-2) == -5);
    CHECK(errno == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == -5);
    /* Out-of-range values are clamped to [-20, 19]. */
    CHECK(setpriority(PRIO_PROCESS, 0, 100) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == 19);
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 1);
    CHECK(setpriority(PRIO_PROCESS, 0, -100) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == -20);
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 40);
    CHECK(setpriority(PRIO_PROCESS, getpid(), 7) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == 7);
    /* A forked child inherits the nice value. */
    {
        pid_t p = fork();
        if (p == 0) _exit(getpriority(PRIO_PROCESS, 0) == 7 ? 0 : 1);
        int st = -1;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CHECK(setpriority(PRIO_PROCESS, 0, nice0) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == nice0);
    /* Process group and user forms. */
    CHECK(syscall(SYS_getpriority, PRIO_PGRP, 0) > 0);
    CHECK(syscall(SYS_getpriority, PRIO_USER, 0) > 0);
    /* Errors: bad `which`, missing process. */
    CHECK_ERR(syscall(SYS_getpriority, 3, 0), EINVAL);
    CHECK_ERR(syscall(SYS_getpriority, -1, 0), EINVAL);
    CHECK_ERR(syscall(SYS_setpriority, 3, 0, 0), EINVAL);
    CHECK_ERR(setpriority(42, 0, 0), EINVAL);
    CHECK_ERR(syscall(SYS_getpriority, PRIO_PROCESS, gone), ESRCH);
    CHECK_ERR(syscall(SYS_setpriority, PRIO_PROCESS, gone, 0), ESRCH);
    CHECK_ERR(getpriority(PRIO_PROCESS, gone), ESRCH);

    /* Scheduling policy and parameters (raw calls). */
    struct sched_param sp;
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);
    CHECK(syscall(SYS_sched_getscheduler, getpid()) == SCHED_OTHER);
    sp.sched_priority = 42;
    CHECK(syscall(SYS_sched_getparam, 0, &sp) == 0);
    CHECK(sp.sched_priority == 0);
    CHECK_ERR(syscall(SYS_sched_getscheduler, gone), ESRCH);
    CHECK_ERR(syscall(SYS_sched_getscheduler, -1), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getparam, gone, &sp), ESRCH);
    CHECK_ERR(syscall(SYS_sched_getparam, -1, &sp), EINVAL);
    CHECK_ERR(syscall(SYS_sched_getparam, 0, NULL), EINVAL);
    CHECK(syscall(SYS_sched_get_priority_max, SCHED_OTHER) == 0);
    CHECK(syscall(SYS_sched_get_priority_min, SCHED_OTHER) == 0);
    CHECK(syscall(SYS_sched_get_priority_max, SCHED_FIFO) == 99);
    CHECK(syscall(SYS_sched_get_priority_min, SCHED_FIFO) == 1);
    CHECK(syscall(SYS_sched_get_priority_max, SCHED_RR) == 99);
    CHECK(syscall(SYS_sched_get_priority_min, SCHED_RR) == 1);
    CHECK(syscall(SYS_sched_get_priority_max, SCHED_BATCH) == 0);
    CHECK(syscall(SYS_sched_get_priority_min, SCHED_IDLE) == 0);
    CHECK(sched_get_priority_max(SCHED_FIFO) == 99);
    CHECK(sched_get_priority_min(SCHED_RR) == 1);
    CHECK_ERR(syscall(SYS_sched_get_priority_max, 42), EINVAL);
    CHECK_ERR(syscall(SYS_sched_get_priority_min, -1), EINVAL);
    /* SCHED_BATCH needs no privilege; switch to it and back. */
    sp.sched_priority = 0;
    CHECK(syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &sp) == 0);
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_BATCH);
    CHECK(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp) == 0);
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);
    CHECK(syscall(SYS_sched_setparam, 0, &sp) == 0);
    /* Priority out of range for the policy, unknown policy, bad pid. */
    sp.sched_priority = 1;
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp), EINVAL);
    CHECK_ERR(syscall(SYS_sched_setparam, 0, &sp), EINVAL);
    sp.sched_priority = 0;
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp), EINVAL);
    sp.sched_priority = 100;
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_RR, &sp), EINVAL);
    sp.sched_priority = 0;
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, 42, &sp), EINVAL);
    CHECK_ERR(syscall(SYS_sched_setscheduler, -1, SCHED_OTHER, &sp), EINVAL);
    CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL);
    CHECK_ERR(syscall(SYS_sched_setscheduler, gone, SCHED_OTHER, &sp), ESRCH);
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER);
    /* sched_getattr reports the policy and the nice value. */
    {
        struct sched_attr_k at;
        memset(&at, 0xff, sizeof at);
        CHECK(syscall(SYS_sched_getattr, 0, &at, sizeof at, 0) == 0);
        CHECK(at.sched_policy == SCHED_OTHER);
        CHECK(at.sched_nice == nice0);
        CHECK(at.sched_priority == 0);
        CHECK_ERR(syscall(SYS_sched_getattr, 0, &at, sizeof at, 1), EINVAL);
        CHECK_ERR(syscall(SYS_sched_getattr, 0, &at, 8, 0), EINVAL);
    }

    /* sched_rr_get_interval */
    {
        struct timespec ts = {-1, -1};
        CHECK(sched_rr_get_interval(0, &ts) == 0);
        CHECK(ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
        CHECK(syscall(SYS_sched_rr_get_interval, getpid(), &ts) == 0);
        CHECK_ERR(syscall(SYS_sched_rr_get_interval, gone, &ts), ESRCH);
        CHECK_ERR(syscall(SYS_sched_rr_get_interval, -1, &ts), EINVAL);
        CHECK_ERR(syscall(SYS_sched_rr_get_interval, 0, (void *)8), EFAULT);
    }

    /* prctl: the task name, truncated to 15 bytes plus NUL, and /proc/self/comm. */
    {
        char name[32], buf[64];
        memset(name, 'x', sizeof name);
        CHECK(prctl(PR_SET_NAME, (unsigned long)"lintel-test", 0, 0, 0) == 0);
        CHECK(prctl(PR_GET_NAME, (unsigned long)name, 0, 0, 0) == 0);
        CHECK(strcmp(name, "lintel-test") == 0);
        CHECK(read_file("/proc/self/comm", buf, sizeof buf) > 0);
        CHECK(strcmp(buf, "lintel-test\n") == 0);
        char tpath[64];
        snprintf(tpath, sizeof tpath, "/proc/self/task/%ld/comm", (long)syscall(SYS_gettid));
        CHECK(read_file(tpath, buf, sizeof buf) > 0);
        CHECK(strcmp(buf, "lintel-test\n") == 0);
        CHECK(prctl(PR_SET_NAME, (unsigned long)"abcdefghijklmnopqrstuvwxyz", 0, 0, 0) == 0);
        memset(name, 'x', sizeof name);
        CHECK(prctl(PR_GET_NAME, (unsigned long)name, 0, 0, 0) == 0);
        CHECK(strcmp(name, "abcdefghijklmno") == 0);
        CHECK(name[15] == 0 && name[16] == 'x');
        CHECK(read_file("/proc/self/comm", buf, sizeof buf) == 16);
        CHECK(strcmp(buf, "abcdefghijklmno\n") == 0);
        CHECK(stat_field(3) != -999999);
        CHECK(read_file("/proc/self/stat", buf, sizeof buf) > 0);
        CHECK(strstr(buf, "(abcdefghijklmno)") != NULL);
        CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0);
        CHECK(strncmp(buf, "Name:\tabcdefghijklmno\n", 22) == 0);
        /* Writing /proc/self/comm renames the thread too. */
        int fd = open("/proc/self/comm", O_WRONLY);
        CHECK(fd >= 0);
        CHECK(write(fd, "viaproc", 7) == 7);
        close(fd);
        CHECK(prctl(PR_GET_NAME, (unsigned long)name, 0, 0, 0) == 0);
        CHECK(strcmp(name, "viaproc") == 0);
        /* A forked child inherits the name. */
        CHECK(prctl(PR_SET_NAME, (unsigned long)"inherited", 0, 0, 0) == 0);
        pid_t p = fork();
        if (p == 0) {
            char n[32] = "";
            prctl(PR_GET_NAME, (unsigned long)n, 0, 0, 0);
            _exit(strcmp(n, "inherited") == 0 ? 0 : 1);
        }
        int st = -1;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK_ERR(prctl(PR_SET_NAME, 8UL, 0, 0, 0), EFAULT);
        CHECK_ERR(prctl(PR_GET_NAME, 8UL, 0, 0, 0), EFAULT);
    }

    /* prctl: dumpable. */
    CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
    CHECK(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0);
    CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
    CHECK_ERR(prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);
    CHECK_ERR(prctl(PR_SET_DUMPABLE, 5, 0, 0, 0), EINVAL);
    CHECK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
    CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);

    /* prctl: parent-death signal (reset for a forked child). */
    {
        int sig = -1;
        CHECK(prctl(PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0) == 0);
        CHECK(sig == 0);
        CHECK(prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == 0);
        CHECK(prctl(PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0) == 0);
        CHECK(sig == SIGTERM);
        pid_t p = fork();
        if (p == 0) {
            int s = -1;
            prctl(PR_GET_PDEATHSIG, (unsigned long)&s, 0, 0, 0);
            _exit(s == 0 ? 0 : 1);
        }
        int st = -1;
        CHECK(waitpid(p, &st, 0) == p);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK_ERR(prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL);
        CHECK_ERR(prctl(PR_SET_PDEATHSIG, -1, 0, 0, 0), EINVAL);
        CHECK(prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) == 0);
        CHECK(prctl(PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0) == 0);
        CHECK(sig == 0);
        CHECK_ERR(prctl(PR_GET_PDEATHSIG, 8UL, 0, 0, 0), EFAULT);
    }

    /* prctl: child subreaper, keepcaps, seccomp mode, timer slack. */
    {
        int v = -1;
        CHECK(prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0) == 0);
        CHECK(v == 0);
        CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
        CHECK(prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0) == 0);
        CHECK(v == 1);
        CHECK(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) == 0);
        CHECK(prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0) == 0);
        CHECK(v == 0);
        CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
        CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0);
        long slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
        CHECK(slack == 50000);
        CHECK(prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0) == 0);
        CHECK(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == 1000);
        CHECK(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0) == 0); /* 0 restores the default */
        CHECK(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == 50000);
        CHECK_ERR(prctl(12345, 0, 0, 0, 0), EINVAL);
        CHECK_ERR(prctl(-1, 0, 0, 0, 0), EINVAL);
    }

    /* prctl: no_new_privs is one-way, so try it in a child. */
    {
        pid_t p = fork();
        if (p == 0) {
            if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) _exit(1);
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(2);
            if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) _exit(3);
            errno = 0;
            if (prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) != -1 || errno != EINVAL) _exit(4);
            errno = 0;
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0) != -1 || errno != EINVAL) _exit(5);
            _exit(0);
        }
        int st = -1;
        CHECK(waitpid(p, &st, 0) == p);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("no_new_privs child status %#x\n", st);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
    }

    DONE();
}
