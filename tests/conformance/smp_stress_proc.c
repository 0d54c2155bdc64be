/* Stress: processes and signals on several CPUs at once, a fixed count each.
 * - fork+exec+wait storms: two threads per CPU each start children (fork+execve of this
 *   program, posix_spawn of it, and /bin/true or busybox true where they exist) and wait for
 *   each by pid; every exit status must be the one the child was told to exit with.
 * - signal storms at busy threads: threads spinning in user space (one per other CPU) get
 *   SIGUSR1 by tgkill one at a time (each must arrive before the next is sent: standard
 *   signals do not queue) and bursts of a queued real-time signal; the handler's counts must
 *   match what was sent exactly, and a spinning thread on another CPU must be interrupted.
 * - exit_group and execve while sibling threads run on other CPUs (spinning, sleeping, blocked
 *   in a read or a futex wait): the process must end with the status it chose.
 * - wait/exit races: children on every CPU exit at once while the parent reaps them with
 *   wait(-1) and counts SIGCHLD; every pid comes back exactly once with its own status.
 * A lost wake-up or a deadlock shows up as a timeout of the part (lt_sub). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef FUTEX_WAIT_PRIVATE
#define FUTEX_WAIT_PRIVATE 128
#endif

#define MAXT 16
#define SPAWN_ROUNDS 12
#define SIGNALS 150
#define BURSTS 20
#define BURST 16
#define EXIT_ROUNDS 12
#define REAP_ROUNDS 6

static int ncpu;
static int cpus[MAXT];
static const char *self = "/proc/self/exe";
static const char *truebin; /* a `true` program, or 0 */
static const char *truearg0;

static void find_cpus(void) { ncpu = lt_cpus(cpus, MAXT / 2); }

/* Binds the calling thread to the i-th allowed CPU (round robin) when there are several. */
static void pin(int i) {
    if (ncpu > 1) lt_pin(cpus[i % ncpu]);
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- fork+exec+wait storm ---- */

static atomic_int spawn_bad, spawned;

static void *spawner(void *arg) {
    int t = (int)(intptr_t)arg;
    pin(t);
    for (int r = 0; r < SPAWN_ROUNDS; r++) {
        int code = (t * 37 + r * 11) % 200 + 1;
        char arg1[16];
        snprintf(arg1, sizeof arg1, "%d", code);
        int how = (t + r) % 3;
        pid_t pid = -1;
        int want = code;
        if (how == 2 && !truebin) how = r % 2;
        if (how == 0) {
            pid = fork();
            if (pid == 0) {
                char *av[] = {"smp_stress_proc", "exit", arg1, 0};
                execve(self, av, environ);
                _exit(126);
            }
        } else if (how == 1) {
            char *av[] = {"smp_stress_proc", "exit", arg1, 0};
            if (posix_spawn(&pid, self, 0, 0, av, environ) != 0) pid = -1;
        } else {
            want = 0;
            pid = fork();
            if (pid == 0) {
                char *av[] = {(char *)truearg0, "true", 0};
                char *av1[] = {(char *)truearg0, 0};
                execve(truebin, truearg0 == truebin ? av1 : av, environ);
                _exit(126);
            }
        }
        if (pid < 0) {
            printf("spawner %d round %d: could not start a child: %s\n", t, r, strerror(errno));
            atomic_fetch_add(&spawn_bad, 1);
            continue;
        }
        int st = 0;
        pid_t w;
        while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
        }
        if (w != pid || !WIFEXITED(st) || WEXITSTATUS(st) != want) {
            printf("spawner %d round %d (how %d): waitpid %d status %#x, expected exit %d\n", t, r,
                   how, w, st, want);
            atomic_fetch_add(&spawn_bad, 1);
        }
        atomic_fetch_add(&spawned, 1);
    }
    return 0;
}

static void spawn_storm_threads(void) {
    int n = 2 * ncpu;
    pthread_t th[MAXT];
    for (int t = 0; t < n; t++) CHECK(pthread_create(&th[t], 0, spawner, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < n; t++) pthread_join(th[t], 0);
    CHECK(atomic_load(&spawn_bad) == 0);
    CHECK(atomic_load(&spawned) == n * SPAWN_ROUNDS);
}

/* The same from several processes at once, each with two spawning threads. */
static void spawn_storm(void) {
    int procs = ncpu > 1 ? ncpu : 2;
    pid_t kids[MAXT];
    for (int i = 0; i < procs; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            pthread_t a, b;
            pthread_create(&a, 0, spawner, (void *)(intptr_t)(2 * i));
            pthread_create(&b, 0, spawner, (void *)(intptr_t)(2 * i + 1));
            pthread_join(a, 0);
            pthread_join(b, 0);
            fflush(stdout);
            _exit(atomic_load(&spawn_bad) == 0 && atomic_load(&spawned) == 2 * SPAWN_ROUNDS ? 0 : 1);
        }
        CHECK(kids[i] > 0);
    }
    spawn_storm_threads();
    for (int i = 0; i < procs; i++) {
        int st = 0;
        CHECK(waitpid(kids[i], &st, 0) == kids[i]);
        CHECK_EXIT(st, 0);
    }
}

/* ---- signal storms ---- */

static atomic_int usr1[MAXT], rt[MAXT], stop_spin;
static atomic_int spin_tid[MAXT];
static __thread int my_slot = -1;
static atomic_int misdelivered;

static void on_usr1(int sig) {
    (void)sig;
    if (my_slot < 0) atomic_fetch_add(&misdelivered, 1);
    else atomic_fetch_add(&usr1[my_slot], 1);
}

static void on_rt(int sig) {
    (void)sig;
    if (my_slot < 0) atomic_fetch_add(&misdelivered, 1);
    else atomic_fetch_add(&rt[my_slot], 1);
}

static void *spinner(void *arg) {
    int i = (int)(intptr_t)arg;
    my_slot = i;
    pin(i + 1);
    atomic_store(&spin_tid[i], gettid_());
    volatile unsigned long x = 0;
    while (!atomic_load_explicit(&stop_spin, memory_order_relaxed)) x++;
    return 0;
}

/* Waits (yielding) until *v reaches want; gives up after a long time so the report names it. */
static int await(atomic_int *v, int want) {
    long start = lt_now_ms();
    while (atomic_load(v) < want) {
        if (lt_now_ms() - start > 15000) return 0;
        sched_yield();
    }
    return 1;
}

static void signal_storm(void) {
    int n = ncpu > 1 ? ncpu - 1 : 1;
    pin(0);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    CHECK_OK(sigaction(SIGUSR1, &sa, 0));
    sa.sa_handler = on_rt;
    CHECK_OK(sigaction(SIGRTMIN + 1, &sa, 0));
    pthread_t th[MAXT];
    for (int i = 0; i < n; i++) CHECK(pthread_create(&th[i], 0, spinner, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < n; i++) CHECK(await(&spin_tid[i], 1));
    pid_t pid = getpid();
    /* One SIGUSR1 at a time to each spinner. */
    for (int k = 0; k < SIGNALS; k++) {
        for (int i = 0; i < n; i++) CHECK_OK(syscall(SYS_tgkill, pid, atomic_load(&spin_tid[i]), SIGUSR1));
        for (int i = 0; i < n; i++) {
            if (!await(&usr1[i], k + 1)) {
                printf("spinner %d: SIGUSR1 %d never arrived (count %d)\n", i, k + 1,
                       atomic_load(&usr1[i]));
                lt_failures++;
                goto out;
            }
        }
    }
    /* Bursts of a queued real-time signal: none may be lost or doubled. */
    for (int b = 0; b < BURSTS; b++) {
        for (int j = 0; j < BURST; j++)
            for (int i = 0; i < n; i++)
                CHECK_OK(syscall(SYS_tgkill, pid, atomic_load(&spin_tid[i]), SIGRTMIN + 1));
        for (int i = 0; i < n; i++) {
            if (!await(&rt[i], (b + 1) * BURST)) {
                printf("spinner %d: burst %d: %d real-time signals, expected %d\n", i, b,
                       atomic_load(&rt[i]), (b + 1) * BURST);
                lt_failures++;
                goto out;
            }
        }
    }
out:
    atomic_store(&stop_spin, 1);
    for (int i = 0; i < n; i++) pthread_join(th[i], 0);
    for (int i = 0; i < n; i++) {
        if (atomic_load(&usr1[i]) > SIGNALS || atomic_load(&rt[i]) > BURSTS * BURST) {
            printf("spinner %d: %d SIGUSR1 (sent %d), %d real-time (sent %d)\n", i,
                   atomic_load(&usr1[i]), SIGNALS, atomic_load(&rt[i]), BURSTS * BURST);
            lt_failures++;
        }
    }
    CHECK(atomic_load(&misdelivered) == 0);
}

/* ---- exit_group and exec with threads running elsewhere ---- */

static int block_pipe[2];
static int futex_word;

static void *busy(void *arg) {
    int i = (int)(intptr_t)arg;
    pin(i);
    char c;
    struct timespec ts = {5, 0};
    switch (i % 4) {
    case 0:
        for (volatile unsigned long x = 0;; x++) {
        }
    case 1:
        for (;;) nanosleep(&ts, 0);
    case 2:
        for (;;) (void)!read(block_pipe[0], &c, 1);
    default:
        for (;;) syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
    }
    return 0;
}

static void exit_storm(void) {
    int n = 2 * ncpu + 2;
    if (n > MAXT) n = MAXT;
    for (int r = 0; r < EXIT_ROUNDS; r++) {
        int how = r % 3;
        int code = 10 + r;
        pid_t pid = fork();
        if (pid == 0) {
            if (pipe(block_pipe) != 0) _exit(100);
            pthread_t th;
            for (int i = 0; i < n; i++) pthread_create(&th, 0, busy, (void *)(intptr_t)i);
            lt_sleep_ms(2 + r % 5);
            if (how == 0) {
                exit(code); /* exit_group from the main thread */
            } else if (how == 1) {
                char arg1[16];
                snprintf(arg1, sizeof arg1, "%d", code);
                char *av[] = {"smp_stress_proc", "exit", arg1, 0};
                execve(self, av, environ); /* kills the siblings first */
                _exit(126);
            } else {
                syscall(SYS_exit_group, code);
            }
            _exit(127);
        }
        CHECK(pid > 0);
        int st = 0;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != code) {
            printf("exit round %d (how %d): status %#x, expected exit %d\n", r, how, st, code);
            lt_failures++;
        }
    }
}

/* exit_group from a thread other than main, while main spins. */
static void *exiter(void *arg) {
    (void)arg;
    pin(1);
    lt_sleep_ms(3);
    syscall(SYS_exit_group, 42);
    return 0;
}

static void exit_from_thread(void) {
    for (int r = 0; r < EXIT_ROUNDS; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            pthread_t th;
            pthread_create(&th, 0, exiter, 0);
            pin(0);
            for (volatile unsigned long x = 0;; x++) {
            }
        }
        int st = 0;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK_EXIT(st, 42);
    }
}

/* ---- wait(-1) while children exit everywhere ---- */

static volatile sig_atomic_t sigchld_count;

static void on_chld(int sig) {
    (void)sig;
    sigchld_count++;
}

static void reap_storm(void) {
    int n = 4 * ncpu;
    if (n > MAXT) n = MAXT;
    struct sigaction sa = {0};
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART;
    CHECK_OK(sigaction(SIGCHLD, &sa, 0));
    for (int r = 0; r < REAP_ROUNDS; r++) {
        pid_t kids[MAXT];
        int seen[MAXT] = {0};
        for (int i = 0; i < n; i++) {
            kids[i] = fork();
            if (kids[i] == 0) {
                pin(i);
                /* A little work, so the exits overlap rather than line up. */
                for (volatile int x = 0; x < (i % 4) * 20000; x++) {
                }
                _exit(i + 1);
            }
            CHECK(kids[i] > 0);
        }
        for (int got = 0; got < n; got++) {
            int st = 0;
            pid_t w = wait(&st);
            if (w < 0) {
                printf("reap round %d: wait: %s after %d children\n", r, strerror(errno), got);
                lt_failures++;
                break;
            }
            int i = 0;
            while (i < n && kids[i] != w) i++;
            if (i == n || seen[i]++ || !WIFEXITED(st) || WEXITSTATUS(st) != i + 1) {
                printf("reap round %d: pid %d status %#x unexpected\n", r, w, st);
                lt_failures++;
            }
        }
        CHECK_ERR(wait(0), ECHILD);
    }
    /* Standard signals coalesce: at least one SIGCHLD per round, at most one per child. */
    CHECK(sigchld_count >= REAP_ROUNDS && sigchld_count <= REAP_ROUNDS * n);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "exit") == 0) return atoi(argv[2]);
    if (access(self, X_OK) != 0) self = argv[0];
    if (access("/bin/true", X_OK) == 0) {
        truebin = truearg0 = "/bin/true";
    } else if (access("/bin/busybox", X_OK) == 0) {
        truebin = "/bin/busybox";
        truearg0 = "busybox";
    }
    find_cpus();
    printf("%d CPUs; true is %s\n", ncpu, truebin ? truebin : "(none)");
    lt_sub("fork+exec+wait storm", spawn_storm, 50000);
    lt_sub("signal storm", signal_storm, 40000);
    lt_sub("exit_group with running threads", exit_storm, 30000);
    lt_sub("exit_group from a thread", exit_from_thread, 30000);
    lt_sub("wait(-1) while children exit everywhere", reap_storm, 20000);
    DONE();
}
