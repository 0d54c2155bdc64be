/* Exit and wait races on several CPUs, a fixed count each.
 * - autoreap handover: a middle process that discards its children's statuses (SIGCHLD
 *   ignored, or SA_NOCLDWAIT) and its child exit at the same moment on two CPUs; the child
 *   is then either reaped at its exit by the middle process or handed to this process (a
 *   child subreaper), which waits. Either way wait(-1) here must end with ECHILD, having
 *   reported the middle process and at most the child (with the child's own status), and
 *   the child's pid must be gone (no zombie that nobody can wait for).
 * - two waiters: two threads of one process call wait(-1) while its children exit at once
 *   on every CPU; every child's pid comes back exactly once, to one of them, with its own
 *   status.
 * - exec while threads clone: a process whose threads keep creating threads execs itself;
 *   a thread created while exec sweeps the others away must not survive it (exec would
 *   wait for it for ever: its threads spin once the exec has begun).
 * A hang (a zombie left for ever, a lost wake-up) shows up as a timeout of the part. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define HANDOVER_ROUNDS 150
#define WAITER_ROUNDS 20
#define KIDS 8

static int ncpu;
static int cpus[8];

static void pin(int i) {
    if (ncpu > 1) lt_pin(cpus[i % ncpu]);
}

/* Shared with the children: they spin on `go` and leave together. */
static atomic_int *shared;

/* ---- autoreap handover ---- */

static void handover(void) {
    CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    int seen_child = 0;
    for (int r = 0; r < HANDOVER_ROUNDS; r++) {
        atomic_store(&shared[0], 0); /* go */
        atomic_store(&shared[1], 0); /* ready */
        atomic_store(&shared[2], 0); /* the grandchild's pid */
        pid_t mid = fork();
        if (mid < 0) {
            printf("round %d: fork: %s\n", r, strerror(errno));
            lt_failures++;
            return;
        }
        if (mid == 0) {
            pin(r);
            if (r % 2) {
                signal(SIGCHLD, SIG_IGN);
            } else {
                struct sigaction sa = {0};
                sa.sa_handler = SIG_DFL;
                sa.sa_flags = SA_NOCLDWAIT;
                sigaction(SIGCHLD, &sa, 0);
            }
            pid_t c = fork();
            if (c == 0) {
                pin(r + 1);
                atomic_fetch_add(&shared[1], 1);
                while (!atomic_load(&shared[0])) sched_yield();
                _exit(7);
            }
            if (c < 0) _exit(3);
            atomic_store(&shared[2], c);
            atomic_fetch_add(&shared[1], 1);
            while (!atomic_load(&shared[0])) sched_yield();
            _exit(0);
        }
        while (atomic_load(&shared[1]) < 2) {
            sched_yield();
            if (waitpid(mid, 0, WNOHANG) == mid) {
                printf("round %d: the middle process ended early\n", r);
                lt_failures++;
                return;
            }
        }
        pid_t child = atomic_load(&shared[2]);
        atomic_store(&shared[0], 1);
        int got_mid = 0, got_child = 0;
        for (;;) {
            int st = 0;
            pid_t w = waitpid(-1, &st, 0);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                CHECK(errno == ECHILD);
                break;
            }
            if (w == mid) {
                got_mid++;
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
            } else if (w == child) {
                got_child++;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 7) {
                    printf("round %d: the child's status %#x, expected exit 7\n", r, st);
                    lt_failures++;
                }
            } else {
                printf("round %d: wait returned %d, neither %d nor %d\n", r, w, mid, child);
                lt_failures++;
            }
        }
        seen_child += got_child;
        if (got_mid != 1 || got_child > 1) {
            printf("round %d: the middle process reported %d times, the child %d times\n", r,
                   got_mid, got_child);
            lt_failures++;
        }
        /* Gone either way: reaped here, or by its own exit under the middle process (on
         * Linux that release may lag a moment behind the exit). */
        int tries = 0;
        while (kill(child, 0) == 0 && tries++ < 100) lt_sleep_ms(10);
        if (kill(child, 0) == 0) {
            printf("round %d: child %d still exists after wait said ECHILD\n", r, child);
            lt_failures++;
        }
        if (lt_failures) return;
    }
    printf("handover: the subreaper reaped the child in %d of %d rounds\n", seen_child,
           HANDOVER_ROUNDS);
}

/* ---- two waiters ---- */

static pid_t kids[KIDS];
static atomic_int reported[KIDS];
static atomic_int bad_status, stray;

static void *waiter(void *arg) {
    pin((int)(intptr_t)arg);
    for (;;) {
        int st = 0;
        pid_t w = wait(&st);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;
        int i = 0;
        while (i < KIDS && kids[i] != w) i++;
        if (i == KIDS) {
            atomic_fetch_add(&stray, 1);
            continue;
        }
        atomic_fetch_add(&reported[i], 1);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 20 + i) atomic_fetch_add(&bad_status, 1);
    }
    return 0;
}

static void two_waiters(void) {
    for (int r = 0; r < WAITER_ROUNDS; r++) {
        atomic_store(&shared[0], 0);
        atomic_store(&shared[1], 0);
        for (int i = 0; i < KIDS; i++) {
            atomic_store(&reported[i], 0);
            pid_t c = fork();
            if (c == 0) {
                pin(i);
                atomic_fetch_add(&shared[1], 1);
                while (!atomic_load(&shared[0])) sched_yield();
                _exit(20 + i);
            }
            CHECK(c > 0);
            kids[i] = c;
        }
        while (atomic_load(&shared[1]) < KIDS) sched_yield();
        pthread_t a, b;
        CHECK(pthread_create(&a, 0, waiter, (void *)0) == 0);
        CHECK(pthread_create(&b, 0, waiter, (void *)1) == 0);
        atomic_store(&shared[0], 1);
        pthread_join(a, 0);
        pthread_join(b, 0);
        for (int i = 0; i < KIDS; i++) {
            if (atomic_load(&reported[i]) != 1) {
                printf("round %d: child %d (pid %d) reported %d times\n", r, i, kids[i],
                       atomic_load(&reported[i]));
                lt_failures++;
            }
        }
        CHECK(atomic_load(&bad_status) == 0);
        CHECK(atomic_load(&stray) == 0);
        if (lt_failures) return;
    }
}

/* ---- exec while threads clone ---- */

#define EXEC_ROUNDS 15
#define SPINNERS 3

static atomic_int execing, alive;

static long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Spins 10 ms, or for ever once the exec has begun: only the kernel's sweep ends it then. */
static void *spinner(void *arg) {
    (void)arg;
    long start = mono_ms();
    while (atomic_load(&execing) || mono_ms() - start < 10) {
    }
    atomic_fetch_sub(&alive, 1);
    return 0;
}

/* Keeps SPINNERS threads alive, creating a new one whenever one ends, and goes on trying
 * while the exec runs. */
static void *spawner(void *arg) {
    pin((int)(intptr_t)arg);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    for (;;) {
        if (atomic_load(&alive) >= SPINNERS && !atomic_load(&execing)) continue;
        atomic_fetch_add(&alive, 1);
        pthread_t t;
        if (pthread_create(&t, &at, spinner, 0) != 0) atomic_fetch_sub(&alive, 1);
    }
    return 0;
}

static void exec_while_cloning(void) {
    for (int r = 0; r < EXEC_ROUNDS; r++) {
        pid_t c = fork();
        if (c == 0) {
            pin(r);
            pthread_t a, b;
            if (pthread_create(&a, 0, spawner, (void *)(intptr_t)(r + 1)) != 0) _exit(3);
            if (pthread_create(&b, 0, spawner, (void *)(intptr_t)(r + 2)) != 0) _exit(3);
            lt_sleep_ms(20 + r % 5 * 5);
            atomic_store(&execing, 1);
            char *argv[] = {"smp_exit_races", "exec-child", 0};
            execv("/proc/self/exe", argv);
            _exit(4);
        }
        CHECK(c > 0);
        int st = 0;
        long start = lt_now_ms();
        pid_t w;
        while ((w = waitpid(c, &st, WNOHANG)) == 0 && lt_now_ms() - start < 15000) lt_sleep_ms(5);
        if (w != c) {
            printf("round %d: the exec did not finish in 15 s (a thread cloned during the "
                   "sweep survived it?)\n",
                   r);
            kill(c, SIGKILL);
            waitpid(c, &st, 0);
            lt_failures++;
            return;
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 42) {
            printf("round %d: status %#x, expected exit 42 from the new image\n", r, st);
            lt_failures++;
            return;
        }
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0) _exit(42);
    ncpu = lt_cpus(cpus, 8);
    shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED);
    if (shared == MAP_FAILED) DONE();
    printf("%d CPUs\n", ncpu);
    lt_sub("autoreap handover", handover, 60000);
    lt_sub("two threads in wait(-1)", two_waiters, 40000);
    lt_sub("exec while threads clone", exec_while_cloning, 120000);
    DONE();
}
