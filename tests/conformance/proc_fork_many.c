/* Many live processes at once: fork keeps handing out distinct pids while hundreds of
 * children (up to 400; half of /proc/sys/kernel/threads-max when that is lower) are alive,
 * every fourth of them in a process group of its own and every eighth in a session of its
 * own; each child's getpgid/getsid are what it asked for; all are reaped, and afterwards
 * their pids are free again (set_tid of one of them works) and fork still works. Prints how
 * long the first and the last 100 forks took: a fork's cost must not grow with the number
 * of processes (Lintel's pid allocation once walked every process for each candidate pid).
 * Must run as root (clone3's set_tid). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAP 400
#define TIMED 100

static pid_t pids[CAP];

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long threads_max(void) {
    FILE *f = fopen("/proc/sys/kernel/threads-max", "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

/* A child: joins its own group (i % 4 == 0) or session (i % 8 == 0), checks its ids, says
 * so on `ready` and waits for EOF on `gate`. Exits 0 when everything held. */
static void child(int i, int gate, int ready) {
    pid_t me = getpid();
    int bad = 0;
    if (i % 8 == 0) {
        bad |= setsid() != me;
        bad |= getsid(0) != me || getpgid(0) != me;
    } else if (i % 4 == 0) {
        bad |= setpgid(0, 0) != 0;
        bad |= getpgid(0) != me || getsid(0) != getsid(getppid());
    } else {
        bad |= getpgid(0) != getpgid(getppid());
    }
    char c = 0;
    bad |= write(ready, &c, 1) != 1;
    bad |= read(gate, &c, 1) != 0;
    _exit(bad);
}

int main(void) {
    long tmax = threads_max();
    CHECK(tmax > 0);
    int n = CAP;
    if (tmax > 0 && tmax / 2 < n) n = (int)(tmax / 2);
    CHECK(n > 2 * TIMED);
    int gate[2], ready[2];
    CHECK_OK(pipe(gate));
    CHECK_OK(pipe(ready));
    double first = 0, last = 0;
    int made = 0;
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        pid_t p = fork();
        if (p == 0) {
            close(gate[1]);
            close(ready[0]);
            child(i, gate[0], ready[1]);
        }
        double dt = now_ms() - t0;
        if (p < 0) {
            printf("fork %d of %d failed: %s\n", i, n, strerror(errno));
            lt_failures++;
            break;
        }
        if (i < TIMED) first += dt;
        if (i >= n - TIMED) last += dt;
        pids[made++] = p;
    }
    printf("%d live children; first %d forks %.1f ms, last %d forks %.1f ms\n", made, TIMED,
           first, TIMED, last);
    /* Distinct pids, none of them ours. */
    for (int i = 0; i < made; i++) {
        CHECK(pids[i] != getpid());
        for (int j = i + 1; j < made; j++)
            if (pids[i] == pids[j]) {
                printf("pid %d handed out twice\n", pids[i]);
                lt_failures++;
            }
    }
    /* The groups and sessions they made are there while they live. */
    close(ready[1]);
    for (int i = 0; i < made; i++) {
        char c;
        if (read(ready[0], &c, 1) != 1) {
            printf("only %d of %d children ready\n", i, made);
            lt_failures++;
            break;
        }
    }
    for (int i = 0; i < made; i++) {
        pid_t want = i % 4 == 0 ? pids[i] : getpgid(0);
        if (getpgid(pids[i]) != want) {
            printf("child %d: pgid %d, expected %d\n", i, getpgid(pids[i]), want);
            lt_failures++;
            break;
        }
    }
    close(gate[1]);
    int bad = 0;
    for (int i = 0; i < made; i++) {
        int st = -1;
        if (waitpid(pids[i], &st, 0) != pids[i] || st != 0) bad++;
    }
    CHECK(bad == 0);
    CHECK(wait(NULL) == -1 && errno == ECHILD);
    /* A reaped session leader's pid is free again. */
    if (made > 0) {
        struct {
            uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
            uint64_t set_tid, set_tid_size, cgroup;
        } a;
        memset(&a, 0, sizeof a);
        pid_t tids[1] = {pids[0]};
        a.exit_signal = SIGCHLD;
        a.set_tid = (uint64_t)(uintptr_t)tids;
        a.set_tid_size = 1;
        long r = syscall(SYS_clone3, &a, sizeof a);
        if (r == 0) _exit(0);
        CHECK(r == pids[0]);
        if (r > 0) CHECK(waitpid((pid_t)r, NULL, 0) == r);
    }
    pid_t p = fork();
    if (p == 0) _exit(0);
    CHECK(p > 0 && waitpid(p, NULL, 0) == p);
    DONE();
}
