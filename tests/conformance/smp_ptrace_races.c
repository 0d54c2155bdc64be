/* ptrace attach races on several CPUs, a fixed count each.
 * - two tracers: two processes PTRACE_SEIZE one process at the same moment; exactly one
 *   succeeds, the other gets EPERM (the thread is traced already).
 * - attach against exit: a tracer seizes a thread of another process just as that thread
 *   ends on its own (SYS_exit, its process lives on); the seize either fails (ESRCH, EPERM)
 *   or the tracer then hears of the thread's exit: its waitpid(__WALL) of the thread ends
 *   (it must not wait for a thread that is gone and never reports). */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif

#define TWO_ROUNDS 20
#define EXIT_ROUNDS 30

/* Shared with the children: [0] go, [1] ready count, [2] successes, [3] EPERMs, [4] other
 * results, [5] a thread id. */
static atomic_int *shared;

/* ---- two tracers ---- */

static void two_tracers(void) {
    for (int r = 0; r < TWO_ROUNDS; r++) {
        for (int i = 0; i < 6; i++) atomic_store(&shared[i], 0);
        pid_t target = fork();
        if (target == 0) {
            for (;;) pause();
        }
        CHECK(target > 0);
        pid_t tr[2];
        for (int i = 0; i < 2; i++) {
            tr[i] = fork();
            if (tr[i] == 0) {
                lt_pin_nth(i + 1);
                atomic_fetch_add(&shared[1], 1);
                while (!atomic_load(&shared[0])) lt_relax();
                long x = ptrace(PTRACE_SEIZE, target, 0, 0);
                if (x == 0)
                    atomic_fetch_add(&shared[2], 1);
                else if (errno == EPERM)
                    atomic_fetch_add(&shared[3], 1);
                else
                    atomic_fetch_add(&shared[4], 1);
                /* Stay until both have tried, then leave (the tracer's exit detaches). */
                while (atomic_load(&shared[2]) + atomic_load(&shared[3]) +
                           atomic_load(&shared[4]) <
                       2)
                    sched_yield();
                _exit(0);
            }
            CHECK(tr[i] > 0);
        }
        while (atomic_load(&shared[1]) < 2) sched_yield();
        atomic_store(&shared[0], 1);
        for (int i = 0; i < 2; i++) waitpid(tr[i], NULL, 0);
        kill(target, SIGKILL);
        waitpid(target, NULL, 0);
        int ok = atomic_load(&shared[2]), eperm = atomic_load(&shared[3]);
        if (ok != 1 || eperm != 1) {
            printf("round %d: %d seizes succeeded, %d EPERM, %d other\n", r, ok, eperm,
                   atomic_load(&shared[4]));
            lt_failures++;
            return;
        }
    }
}

/* ---- attach against a thread's own exit ---- */

static void *leaver(void *arg) {
    (void)arg;
    atomic_store(&shared[5], (int)syscall(SYS_gettid));
    while (!atomic_load(&shared[0])) lt_relax();
    syscall(SYS_exit, 0);
    return 0;
}

static void attach_vs_exit(void) {
    for (int r = 0; r < EXIT_ROUNDS; r++) {
        for (int i = 0; i < 6; i++) atomic_store(&shared[i], 0);
        pid_t target = fork();
        if (target == 0) {
            lt_pin_nth(r + 1);
            pthread_t t;
            if (pthread_create(&t, 0, leaver, 0) != 0) _exit(3);
            for (;;) pause();
        }
        CHECK(target > 0);
        while (!atomic_load(&shared[5])) sched_yield();
        pid_t tid = atomic_load(&shared[5]);
        atomic_store(&shared[0], 1);
        for (int spin = 0; spin < (r % 8) * 100; spin++) __asm__ volatile("" ::: "memory");
        long x = ptrace(PTRACE_SEIZE, tid, 0, 0);
        if (x == 0) {
            /* Traced: the thread's exit (or a stop, then it is let go) must reach us. */
            long start = lt_now_ms();
            int st = 0, done = 0;
            while (!done && lt_now_ms() - start < 5000) {
                pid_t w = waitpid(tid, &st, __WALL | WNOHANG);
                if (w == tid && (WIFEXITED(st) || WIFSIGNALED(st))) done = 1;
                else if (w == tid && WIFSTOPPED(st)) ptrace(PTRACE_CONT, tid, 0, 0);
                else if (w < 0) done = errno == ECHILD ? 2 : 3;
                else lt_sleep_ms(1);
            }
            if (done != 1 && done != 2) {
                printf("round %d: traced thread %d: no exit report (%d)\n", r, tid, done);
                lt_failures++;
            }
        } else if (errno != ESRCH && errno != EPERM) {
            printf("round %d: seize of an exiting thread: %s\n", r, strerror(errno));
            lt_failures++;
        }
        kill(target, SIGKILL);
        waitpid(target, NULL, 0);
        if (lt_failures) return;
    }
}

int main(void) {
    lt_smp_init();
    shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED);
    if (shared == MAP_FAILED) DONE();
    lt_sub("two tracers seize at once", two_tracers, 60000);
    lt_sub("seize against the thread's exit", attach_vs_exit, 60000);
    DONE();
}
