/* Signal and timer races on several CPUs, a fixed count each.
 * - timers set in the past: processes on different CPUs each arm a POSIX timer (realtime and
 *   monotonic clocks, TIMER_ABSTIME in the past) over and over; every arming must expire at
 *   once and deliver its signal, while the thread waits spinning in user mode or sleeping.
 * - retarget on block: another process sends the signal while the main thread, which does
 *   not block it yet, is about to block it; a second thread waits in pause() with it
 *   unblocked. Whichever thread the signal was meant for, it must be handled once
 *   (Linux moves a process signal a thread blocks to another thread that can take it).
 * - retarget on exit: the same with a thread that exits instead of blocking it.
 * A lost signal shows up as a round that waited 2 s in vain. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TIMER_PROCS 3
#define TIMER_ROUNDS 150
#define BLOCK_ROUNDS 150
#define EXIT_ROUNDS 60

static atomic_int count;

static void on_sig(int sig) {
    if (sig == SIGUSR1) atomic_fetch_add(&count, 1);
}

static void handle(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void set_mask(int how, int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(pthread_sigmask(how, &s, NULL) == 0);
}

/* The longest stretch (ms) between two clock reads of the last spinning wait_count. */
static long wait_gap_ms;

/* Waits up to 2 s for count to reach n: spinning in user mode, or in 1 ms sleeps. A
 * spinning wait does not count a stretch of over 100 ms between two of its clock reads: its
 * virtual CPU did not run then (a loaded host; when the whole machine stops, the CPU that
 * fires the timer stops too). A signal queued meanwhile is taken as soon as it runs again, so
 * this hides no lost wake-up: a spinning CPU that no interrupt reaches reads its clock
 * without a break. */
static int wait_count(int n, int spin) {
    long start = lt_now_ms(), last = start, stopped = 0;
    wait_gap_ms = 0;
    while (atomic_load(&count) < n) {
        long now = lt_now_ms();
        if (spin && now - last > 100) {
            stopped += now - last;
            if (now - last > wait_gap_ms) wait_gap_ms = now - last;
        }
        last = now;
        if (now - start - stopped >= 2000) break;
        if (!spin) lt_sleep_ms(1);
    }
    return atomic_load(&count) >= n;
}

/* ---- timers set in the past ---- */

static void timer_proc(int i) {
    lt_pin_nth(i + 1);
    handle(SIGUSR1);
    static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
    for (unsigned c = 0; c < 2; c++) {
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_SIGNAL;
        sev.sigev_signo = SIGUSR1;
        timer_t t;
        CHECK(timer_create(clocks[c], &sev, &t) == 0);
        for (int r = 0; r < TIMER_ROUNDS; r++) {
            int before = atomic_load(&count);
            struct timespec now;
            clock_gettime(clocks[c], &now);
            struct itimerspec its;
            memset(&its, 0, sizeof its);
            its.it_value.tv_sec = now.tv_sec > 1 ? now.tv_sec - 1 : 0;
            its.it_value.tv_nsec = now.tv_sec > 1 ? now.tv_nsec : 1;
            CHECK(timer_settime(t, TIMER_ABSTIME, &its, NULL) == 0);
            /* Spinning only with a CPU of its own. */
            if (!wait_count(before + 1, lt_ncpu > 1 && r % 2)) {
                /* Which part failed: a system call takes a signal that is queued but
                 * reached no spinning CPU; a sleep waits for an expiry that is late. */
                long gap = wait_gap_ms;
                getppid();
                int at_call = atomic_load(&count) > before;
                int late = !at_call && wait_count(before + 1, 0);
                printf("process %d, clock %d, round %d: no expiry of a timer set in the past "
                       "(%s; longest stop %ld ms)\n",
                       i, (int)clocks[c], r,
                       at_call ? "taken at the next system call: no interrupt reached its CPU"
                       : late  ? "came later, while sleeping"
                               : "not even 2 s later",
                       gap);
                lt_failures++;
                break;
            }
        }
        CHECK(timer_delete(t) == 0);
        if (lt_failures) break;
    }
}

static void timers_in_the_past(void) {
    /* One process per CPU but the first (the boot CPU, which keeps time in Lintel). */
    int procs = lt_ncpu - 1 < 1 ? 1 : lt_ncpu - 1 > MAX_TIMER_PROCS ? MAX_TIMER_PROCS : lt_ncpu - 1;
    pid_t kids[MAX_TIMER_PROCS];
    for (int i = 0; i < procs; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            lt_failures = 0;
            timer_proc(i);
            fflush(stdout);
            _exit(lt_failures ? 1 : 0);
        }
        CHECK(kids[i] > 0);
    }
    for (int i = 0; i < procs; i++) {
        int st = 0;
        CHECK(kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("timer process %d: status %#x\n", i, st);
            lt_failures++;
        }
    }
}

/* ---- a process signal that the chosen thread then blocks, or exits without taking ---- */

/* Shared with the sender: round number to send for, and the rounds it has sent. */
static atomic_int *shared;

static void *pauser(void *arg) {
    (void)arg;
    lt_pin_nth(2);
    set_mask(SIG_UNBLOCK, SIGUSR1);
    for (;;) pause();
    return NULL;
}

/* Kills `parent` with SIGUSR1 once per round, when shared[0] says the round began. */
static pid_t start_sender(pid_t parent) {
    pid_t c = fork();
    if (c == 0) {
        lt_pin_nth(1);
        for (int r = 1;; r++) {
            while (atomic_load(&shared[0]) < r) {
                if (atomic_load(&shared[0]) < 0) _exit(0);
                lt_relax();
            }
            kill(parent, SIGUSR1);
            atomic_store(&shared[1], r);
        }
    }
    return c;
}

static void stop_sender(pid_t c) {
    atomic_store(&shared[0], -1);
    waitpid(c, NULL, 0);
}

static void retarget_on_block(void) {
    lt_pin_nth(0);
    handle(SIGUSR1);
    atomic_store(&shared[0], 0);
    atomic_store(&shared[1], 0);
    /* The second thread takes SIGUSR1 (unblocked) in pause(); this one starts blocked. */
    set_mask(SIG_BLOCK, SIGUSR1);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, pauser, NULL) == 0);
    pid_t sender = start_sender(getpid());
    CHECK(sender > 0);
    for (int r = 1; r <= BLOCK_ROUNDS; r++) {
        int before = atomic_load(&count);
        /* This thread wants it for a moment: the sender's kill may pick it, and then it
         * blocks the signal at once. */
        set_mask(SIG_UNBLOCK, SIGUSR1);
        atomic_store(&shared[0], r);
        for (int spin = 0; spin < (r % 7) * 200; spin++) __asm__ volatile("" ::: "memory");
        set_mask(SIG_BLOCK, SIGUSR1);
        while (atomic_load(&shared[1]) < r) lt_relax();
        if (!wait_count(before + 1, lt_ncpu > 1 && r % 2)) {
            printf("round %d: the signal blocked by the thread it was meant for never "
                   "reached the other thread\n",
                   r);
            lt_failures++;
            break;
        }
        if (atomic_load(&count) != before + 1) {
            printf("round %d: handled %d times\n", r, atomic_load(&count) - before);
            lt_failures++;
            break;
        }
    }
    stop_sender(sender);
}

static atomic_int leaver_go, pauser_stop;

static void *leaver(void *arg) {
    (void)arg;
    lt_pin_nth(3);
    set_mask(SIG_UNBLOCK, SIGUSR1);
    while (!atomic_load(&leaver_go)) lt_relax();
    syscall(SYS_exit, 0); /* this thread only, at once */
    return NULL;
}

static void *stoppable_pauser(void *arg) {
    (void)arg;
    lt_pin_nth(2);
    set_mask(SIG_UNBLOCK, SIGUSR1);
    while (!atomic_load(&pauser_stop)) pause();
    return NULL;
}

static void retarget_on_exit(void) {
    lt_pin_nth(0);
    handle(SIGUSR1);
    handle(SIGUSR2);
    atomic_store(&shared[0], 0);
    atomic_store(&shared[1], 0);
    set_mask(SIG_BLOCK, SIGUSR1); /* only the other threads may take it */
    pid_t sender = start_sender(getpid());
    CHECK(sender > 0);
    for (int r = 1; r <= EXIT_ROUNDS; r++) {
        int before = atomic_load(&count);
        atomic_store(&leaver_go, 0);
        atomic_store(&pauser_stop, 0);
        /* The thread that exits comes first in the process's thread list, the one in
         * pause() after it: a sender that picks the first thread that wants the signal
         * picks the one about to exit. */
        pthread_t l, pz;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        CHECK(pthread_create(&l, &at, leaver, NULL) == 0);
        pthread_attr_destroy(&at);
        CHECK(pthread_create(&pz, NULL, stoppable_pauser, NULL) == 0);
        lt_sleep_ms(1);
        atomic_store(&leaver_go, 1);
        for (int spin = 0; spin < (r % 5) * 300; spin++) __asm__ volatile("" ::: "memory");
        atomic_store(&shared[0], r);
        while (atomic_load(&shared[1]) < r) lt_relax();
        int got = wait_count(before + 1, 0);
        atomic_store(&pauser_stop, 1);
        pthread_kill(pz, SIGUSR2);
        pthread_join(pz, NULL);
        if (!got) {
            printf("round %d: the signal was lost with the thread that exited\n", r);
            lt_failures++;
            break;
        }
    }
    stop_sender(sender);
}

int main(void) {
    lt_smp_init();
    shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED);
    if (shared == MAP_FAILED) DONE();
    lt_sub("timers set in the past", timers_in_the_past, 60000);
    lt_sub("retarget when the chosen thread blocks the signal", retarget_on_block, 60000);
    lt_sub("retarget when the chosen thread exits", retarget_on_exit, 60000);
    DONE();
}
